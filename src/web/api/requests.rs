//! The request bodies and query strings of the API as types, for the OpenAPI document
//! (`openapi.rs`). The handlers read them field by field (`domain::input::Fields`) to name every
//! problem in one 422; these types state the same fields, lengths and choices, and the contract
//! tests (`tests/it/api_contract.rs`, `tests/contract/run.sh`) hold the two together. Event
//! bodies are not here: their schema is derived from `domain::events::EventData` itself.

#![allow(dead_code)] // Read by the schema generator only.

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::Deserialize;

use crate::app::cases::list::Sort;
use crate::app::export::Format;
use crate::domain::case::{Harm, Stage};
use crate::domain::deadlines::DeadlineStatus;
use crate::domain::governance::{Body, CastingVote, DecisionKind, Method, Vote};
use crate::domain::input::{NOTE_MAX, SHORT_MAX};
use crate::domain::reminders::ReminderMode;
use crate::domain::roles::Role;

/// `POST /api/v1/auth/token`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    #[schemars(length(max = SHORT_MAX))]
    pub email: String,
    #[schemars(length(min = 1))]
    pub password: String,
    /// A 6-digit TOTP code or a recovery code; required once two-step verification is set up
    /// (without it: 401 `otp_required`).
    #[schemars(length(max = 32))]
    pub otp: Option<String>,
}

/// An emailed link's token and the password chosen with it.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkPassword {
    /// The last part of the emailed link.
    #[schemars(length(max = SHORT_MAX))]
    pub token: String,
    /// At least 12 characters, not a common or breached password, not the user's name or email.
    #[schemars(length(min = 1))]
    pub password: String,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetRequest {
    #[schemars(length(max = SHORT_MAX))]
    pub email: String,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OtpConfirm {
    /// The 6-digit code from the authenticator app.
    #[schemars(length(max = SHORT_MAX))]
    pub otp: String,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    #[schemars(length(max = SHORT_MAX))]
    pub email: String,
    #[schemars(length(max = SHORT_MAX))]
    pub name: String,
    pub role: Role,
    /// The agency's name; one named for the first time is created.
    #[schemars(length(max = SHORT_MAX))]
    pub agency: Option<String>,
}

/// `POST /api/v1/cases`. Dates are from 1 January 2000 (1990 for a date of birth) to today;
/// the incident is not after the awareness date, nor the birth after the incident.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCase {
    #[schemars(length(max = SHORT_MAX))]
    pub child_pseudonym: String,
    pub aware_on: NaiveDate,
    pub incident_on: NaiveDate,
    pub harm: Harm,
    pub looked_after: bool,
    #[schemars(length(max = NOTE_MAX))]
    pub summary: String,
    /// Only the roles that see a child's identity.
    #[schemars(length(max = SHORT_MAX))]
    pub child_name: Option<String>,
    pub child_dob: Option<NaiveDate>,
}

/// `PATCH /api/v1/cases/{id}`: the fields to change, with the reason.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseChange {
    #[schemars(length(max = NOTE_MAX))]
    pub reason: String,
    #[serde(default)]
    #[schemars(length(max = SHORT_MAX))]
    pub child_pseudonym: Option<String>,
    #[serde(default)]
    #[schemars(length(max = NOTE_MAX))]
    pub summary: Option<String>,
    #[serde(default)]
    pub harm: Option<Harm>,
    #[serde(default)]
    pub looked_after: Option<bool>,
    #[serde(default)]
    pub incident_on: Option<NaiveDate>,
    #[serde(default)]
    pub aware_on: Option<NaiveDate>,
    /// Only the roles that see the identity; null clears it.
    #[serde(default)]
    #[schemars(length(max = SHORT_MAX))]
    pub child_name: Option<String>,
    #[serde(default)]
    pub child_dob: Option<NaiveDate>,
}

/// Corrects an event: the reason, and the fields to change (null clears an optional one);
/// the others keep their recorded values. The fields are those of the event's type
/// (`NewEvent_<type>`); the corrected history must replay validly.
#[derive(Deserialize, JsonSchema)]
pub struct Correction {
    #[schemars(length(max = NOTE_MAX))]
    pub reason: String,
    pub occurred_on: Option<NaiveDate>,
    #[serde(flatten)]
    pub fields: std::collections::BTreeMap<String, serde_json::Value>,
}

/// A reason, for a void or a deletion.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    #[schemars(length(max = NOTE_MAX))]
    pub reason: String,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Conflict {
    /// What the conflict is.
    #[schemars(length(max = NOTE_MAX))]
    pub note: String,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReminderSetting {
    pub mode: ReminderMode,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TestEmail {
    #[schemars(length(max = SHORT_MAX))]
    pub to: String,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgencyName {
    #[schemars(length(max = SHORT_MAX))]
    pub name: String,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserAgency {
    /// The agency's name; one named for the first time is created.
    #[schemars(length(max = SHORT_MAX))]
    pub agency: String,
}

/// A body's core members and chairs, as user ids; a chair is a member.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MembersInput {
    pub members: Vec<String>,
    #[serde(default)]
    pub chairs: Vec<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMeeting {
    pub body: Body,
    #[schemars(length(max = SHORT_MAX))]
    pub title: String,
    /// `YYYY-MM-DD`, or `YYYY-MM-DDTHH:MM` in UK time.
    pub scheduled_for: String,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgendaCase {
    #[schemars(length(max = SHORT_MAX))]
    pub case_id: String,
}

/// A core member names a deputy (null withdraws); an organiser names one for `member_id`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NameDeputy {
    #[schemars(length(max = SHORT_MAX))]
    pub deputy_id: Option<String>,
    #[schemars(length(max = SHORT_MAX))]
    pub member_id: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
pub struct DeputyFor {
    /// The absent core member.
    #[serde(rename = "for")]
    pub for_member: String,
    /// The deputy, from the same agency.
    pub by: String,
}

#[derive(Deserialize, JsonSchema)]
pub struct GuestInput {
    pub name: String,
    pub organisation: Option<String>,
}

/// The attendance of a held meeting (user ids).
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Held {
    pub held_on: NaiveDate,
    pub present: Vec<String>,
    #[serde(default)]
    pub apologies: Vec<String>,
    #[serde(default)]
    pub deputies: Vec<DeputyFor>,
    #[serde(default)]
    pub guests: Vec<GuestInput>,
}

/// Key points or minutes: of the meeting, or of one agenda case.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Minutes {
    #[schemars(length(max = SHORT_MAX))]
    pub case_id: Option<String>,
    #[schemars(length(max = crate::app::governance::minutes::MINUTES_MAX))]
    pub text: String,
    /// Required to correct minutes after the sign-off.
    #[schemars(length(max = NOTE_MAX))]
    pub reason: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
pub struct VoteInput {
    /// The agency's id or name.
    pub agency: String,
    pub vote: Vote,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDecision {
    #[schemars(length(max = SHORT_MAX))]
    pub case_id: Option<String>,
    pub kind: DecisionKind,
    pub method: Method,
    /// One per agency represented (`method` = `vote`).
    #[serde(default)]
    pub votes: Vec<VoteInput>,
    /// The chair's casting vote, to break a split.
    pub casting_vote: Option<CastingVote>,
    #[schemars(length(max = SHORT_MAX))]
    pub casting_by: Option<String>,
    /// Members excluded by a conflict of interest (user ids).
    #[serde(default)]
    pub conflicts: Vec<String>,
    #[schemars(length(max = NOTE_MAX))]
    pub note: Option<String>,
}

/// `GET /api/v1/cases`.
#[derive(Deserialize, JsonSchema)]
pub struct CaseListQuery {
    pub stage: Option<Stage>,
    pub deadline_status: Option<DeadlineStatus>,
    /// Financial year, e.g. 2025-26.
    #[schemars(pattern(r"^[0-9]{4}-[0-9]{2}$"))]
    pub year: Option<String>,
    pub sort: Option<Sort>,
    pub order: Option<Order>,
    #[schemars(range(min = 1, max = crate::app::cases::list::MAX_PAGE))]
    pub page: Option<i64>,
    /// Default 50.
    #[schemars(range(min = 1, max = 500))]
    pub per_page: Option<i64>,
    /// Search: the reference (whole or part), the pseudonym and, for the roles that see
    /// identity, the child's name; case-insensitive.
    #[schemars(length(max = SHORT_MAX))]
    pub q: Option<String>,
    /// json (default), or every matching case as a file (audited).
    pub format: Option<Format>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    Asc,
    Desc,
}

/// `format=` alone: json (default), csv or xlsx (a file; audited).
#[derive(Deserialize, JsonSchema)]
pub struct FormatQuery {
    pub format: Option<Format>,
}

#[derive(Deserialize, JsonSchema)]
pub struct UsersQuery {
    /// Only users with this role.
    pub role: Option<Role>,
}

#[derive(Deserialize, JsonSchema)]
pub struct WorkingDaysQuery {
    pub from: NaiveDate,
    /// Negative counts back.
    #[schemars(range(min = -10000, max = 10000))]
    pub days: i32,
    pub division: Option<crate::domain::calendar::Division>,
}

#[derive(Deserialize, JsonSchema)]
pub struct OutboxQuery {
    pub status: Option<crate::app::outbox::OutboxStatus>,
    /// From 1.
    #[schemars(range(min = 1, max = 100000))]
    pub page: Option<i64>,
    /// Default 50.
    #[schemars(range(min = 1, max = 1000))]
    pub per_page: Option<i64>,
    /// The older name of `per_page`.
    #[schemars(range(min = 1, max = 1000))]
    pub limit: Option<i64>,
}

/// The audit trail's filters and page.
#[derive(Deserialize, JsonSchema)]
pub struct AuditQuery {
    /// The kind of entry (its action), e.g. `event_recorded`.
    #[schemars(length(min = 1, max = 64), pattern(r"^[A-Za-z0-9_-]+$"))]
    pub kind: Option<String>,
    /// The id of the user who acted.
    #[schemars(length(min = 1, max = 64), pattern(r"^[A-Za-z0-9_-]+$"))]
    pub user: Option<String>,
    /// Entries on or after this UK day.
    pub from: Option<NaiveDate>,
    /// Entries on or before this UK day (not before `from`).
    pub to: Option<NaiveDate>,
    /// From 1.
    #[schemars(range(min = 1, max = 100000))]
    pub page: Option<i64>,
    /// Default 50.
    #[schemars(range(min = 1, max = 500))]
    pub per_page: Option<i64>,
    pub format: Option<Format>,
}

/// A case's learning themes, replacing the ones it had.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ThemesChange {
    /// Configured themes (`reports.themes`) and free tags; `[]` removes them all.
    #[schemars(length(max = 20), inner(length(min = 1, max = 200)))]
    pub themes: Vec<String>,
    /// Kept in the audit trail.
    #[schemars(length(max = NOTE_MAX))]
    pub reason: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
pub struct MeetingsQuery {
    pub body: Option<Body>,
    /// On or after this date.
    pub from: Option<NaiveDate>,
    /// On or before this date.
    pub to: Option<NaiveDate>,
}

#[derive(Deserialize, JsonSchema)]
pub struct AnnualQuery {
    /// The year the financial year starts in (2025: April 2025 to March 2026).
    #[schemars(range(min = 2000, max = 2100))]
    pub year: i32,
    pub format: Option<Format>,
}

#[derive(Deserialize, JsonSchema)]
pub struct ActionsQuery {
    /// Only the cases of the financial year starting in this year.
    #[schemars(range(min = 2000, max = 2100))]
    pub year: Option<i32>,
    pub format: Option<Format>,
}

#[derive(Deserialize, JsonSchema)]
pub struct BoardQuery {
    /// Default: the last Board meeting held, else 8 weeks ago.
    pub since: Option<NaiveDate>,
    pub format: Option<Format>,
}

/// A file upload (multipart/form-data).
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PaperUpload {
    #[schemars(length(max = SHORT_MAX))]
    pub title: String,
    #[schemars(extend("format" = "binary"))]
    pub file: String,
}

/// A document version upload (multipart/form-data).
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentUpload {
    /// Required for a new document; a new version of one (`document_id`) keeps its kind.
    pub kind: Option<crate::domain::documents::DocumentKind>,
    /// Upload a new version of this document.
    pub document_id: Option<String>,
    #[schemars(length(max = SHORT_MAX))]
    pub title: String,
    /// The case event the document belongs to.
    pub event_id: Option<String>,
    #[schemars(extend("format" = "binary"))]
    pub file: String,
}
