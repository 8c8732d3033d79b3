//! Answers of the API that are not a type of the `app` layer: small bodies built by the
//! handlers, and the shapes of JSON the service stores and hands back as it is (a decision's
//! count). Each is what the handler serialises, so the OpenAPI document (`openapi.rs`) is
//! derived from what is sent.

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::Serialize;

use crate::app::agencies::AgencyView;
use crate::app::governance::view::{DecisionView, DeputyView, MeetingSummary};
use crate::app::outbox::OutboxEntry;
use crate::app::reports::actions::Action;
use crate::domain::calendar::Reckoning;
use crate::domain::reminders::ReminderMode;
use crate::domain::roles::Role;

/// Every error: `code` for programs, `message` for people.
#[derive(Serialize, JsonSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, JsonSchema)]
pub struct ErrorDetail {
    /// e.g. `invalid`, `not_found`, `method_not_allowed`, `mfa_enrolment_required`.
    pub code: String,
    pub message: String,
    /// The parameter that could not be read (400).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Each refused field and why (422).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<crate::error::FieldError>,
    /// Quote it when reporting a 500.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// A bearer token.
#[derive(Serialize, JsonSchema)]
pub struct Token {
    pub token: String,
    #[serde(serialize_with = "crate::utc::ser")]
    #[schemars(with = "crate::utc::Stamp")]
    pub expires_at: chrono::NaiveDateTime,
}

/// A message for people (the same whatever happened behind it).
#[derive(Serialize, JsonSchema)]
pub struct Message {
    pub message: String,
}

/// A TOTP secret and its recovery codes, shown this once.
#[derive(Serialize, JsonSchema)]
pub struct TotpEnrolment {
    /// Base32.
    pub secret: String,
    pub otpauth_uri: String,
    #[schemars(length(min = 10, max = 10))]
    pub recovery_codes: Vec<String>,
}

#[derive(Serialize, JsonSchema)]
pub struct ReminderSettings {
    pub mode: ReminderMode,
    /// A calendar feed URL exists.
    pub feed: bool,
}

#[derive(Serialize, JsonSchema)]
pub struct ReminderModeOnly {
    pub mode: ReminderMode,
}

#[derive(Serialize, JsonSchema)]
pub struct FeedUrl {
    /// GET it without authentication: text/calendar.
    pub url: String,
}

/// A user in a list (without `active`: the list holds active users only).
#[derive(Serialize, JsonSchema)]
pub struct UserSummary {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// The agency's name.
    pub agency: Option<String>,
    pub agency_id: Option<String>,
}

impl From<crate::app::users::UserView> for UserSummary {
    fn from(u: crate::app::users::UserView) -> Self {
        UserSummary {
            id: u.id,
            email: u.email,
            name: u.name,
            role: u.role,
            agency: u.agency,
            agency_id: u.agency_id,
        }
    }
}

/// The outbox: how many messages of each status, and the messages (without their bodies).
#[derive(Serialize, JsonSchema)]
pub struct OutboxPage {
    #[schemars(with = "OutboxCounts")]
    pub counts: std::collections::BTreeMap<String, i64>,
    /// One page of messages, newest first.
    pub messages: Vec<OutboxEntry>,
    /// How many messages match the status filter.
    #[schemars(range(min = 0))]
    pub total: i64,
    /// This page (from 1).
    #[schemars(range(min = 1))]
    pub page: i64,
    #[schemars(range(min = 1, max = 1000))]
    pub per_page: i64,
    /// How many pages (at least 1).
    #[schemars(range(min = 1))]
    pub pages: i64,
}

/// Messages of each status (every status is counted, 0 included).
#[derive(JsonSchema)]
#[allow(dead_code)] // The shape of `OutboxPage::counts`, for the schema.
pub struct OutboxCounts {
    pub queued: i64,
    pub sent: i64,
    pub failed: i64,
    pub cancelled: i64,
}

#[derive(Serialize, JsonSchema)]
pub struct NamedDeputies {
    pub named_deputies: Vec<DeputyView>,
}

/// A meeting a case was on, with the decisions about it.
#[derive(Serialize, JsonSchema)]
pub struct CaseMeeting {
    pub meeting: MeetingSummary,
    pub decisions: Vec<DecisionView>,
}

#[derive(Serialize, JsonSchema)]
pub struct Deleted {
    pub deleted: bool,
}

/// A date some working days from another, with the counting.
#[derive(Serialize, JsonSchema)]
pub struct WorkingDays {
    pub date: NaiveDate,
    pub explanation: WorkingDaysExplanation,
}

#[derive(Serialize, JsonSchema)]
pub struct WorkingDaysExplanation {
    pub text: String,
    pub reckoning: Reckoning,
}

/// An improvement action with its case's reference.
#[derive(Serialize, JsonSchema)]
pub struct ActionLine {
    pub reference: String,
    /// Not done and due before today.
    pub overdue: bool,
    #[serde(flatten)]
    pub action: Action,
}

/// Agencies as listed.
pub type Agencies = Vec<AgencyView>;

/// A case's learning themes.
#[derive(Serialize, JsonSchema)]
pub struct CaseThemes {
    pub case_id: String,
    pub themes: Vec<String>,
}
