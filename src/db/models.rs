//! Rows as read from and written to the tables. `New*` structs are rows being inserted.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::schema::*;

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Insertable, Serialize, Deserialize)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: String,
    pub agency_id: Option<String>,
    pub active: bool,
    pub password_hash: String,
    pub password_changed_at: NaiveDateTime,
    pub reminder_mode: String,
    pub feed_token_hash: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub id: &'a str,
    pub email: &'a str,
    pub name: &'a str,
    pub role: &'a str,
    pub agency_id: Option<&'a str>,
    pub active: bool,
    pub password_hash: &'a str,
    pub password_changed_at: NaiveDateTime,
    pub reminder_mode: &'a str,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, Deserialize)]
#[diesel(table_name = auth_tokens)]
pub struct TokenRow {
    pub id: String,
    pub user_id: String,
    pub kind: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
    pub method: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, Deserialize)]
#[diesel(table_name = login_failures)]
pub struct LoginFailureRow {
    pub key: String,
    pub failures: i32,
    pub first_failure_at: NaiveDateTime,
    pub last_failure_at: NaiveDateTime,
}

#[derive(
    Debug,
    Clone,
    Queryable,
    QueryableByName,
    Selectable,
    Identifiable,
    Insertable,
    Serialize,
    Deserialize,
)]
#[diesel(table_name = cases)]
pub struct CaseRow {
    pub id: String,
    pub reference: String,
    pub financial_year: String,
    pub child_pseudonym: String,
    pub child_name: Option<String>,
    pub child_dob: Option<NaiveDate>,
    pub aware_on: NaiveDate,
    pub incident_on: NaiveDate,
    pub harm: String,
    pub looked_after: bool,
    pub summary: String,
    pub division: String,
    pub stage: String,
    pub next_due_on: Option<NaiveDate>,
    pub event_count: i32,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The child's name and date of birth, sealed (`crypto::envelope`); read them through
    /// `app::identity`. `child_name` and `child_dob` above hold plaintext only in rows written
    /// before encryption at rest, until start-up seals them.
    pub child_name_sealed: Option<String>,
    pub child_dob_sealed: Option<String>,
    /// The blind index of the name's words (` tag tag `).
    pub child_name_index: Option<String>,
    /// The master key the sealed fields' data keys are wrapped by.
    pub identity_key_id: Option<String>,
}

/// A master key rotation's progress (`keys rotate`).
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, Deserialize)]
#[diesel(table_name = key_rotations)]
pub struct KeyRotationRow {
    pub key_id: String,
    pub previous_key_id: String,
    pub started_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
    pub rows_done: i32,
    pub files_done: i32,
    pub file_cursor: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, Deserialize)]
#[diesel(table_name = case_events)]
pub struct EventRow {
    pub id: String,
    pub case_id: String,
    pub sequence: i32,
    pub event_type: String,
    pub occurred_on: NaiveDate,
    pub data: String,
    pub recorded_by: String,
    pub recorded_at: NaiveDateTime,
    /// A correction or a void: the entry it supersedes.
    #[serde(default)]
    pub supersedes: Option<String>,
    /// Why it was corrected or voided.
    #[serde(default)]
    pub change_reason: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, Deserialize)]
#[diesel(table_name = case_people)]
pub struct CasePersonRow {
    pub case_id: String,
    pub user_id: String,
    pub relation: String,
    pub since: NaiveDate,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, Serialize, Deserialize)]
#[diesel(table_name = deadlines)]
// A deadline no longer met (its meeting event voided) writes its `met_on` back to NULL.
#[diesel(treat_none_as_null = true)]
pub struct DeadlineRow {
    pub id: String,
    pub case_id: String,
    pub rule_id: String,
    pub rule_version: i32,
    pub instance: i32,
    pub label: String,
    pub role: String,
    pub due_on: NaiveDate,
    pub status: String,
    pub met_on: Option<NaiveDate>,
    pub trigger_event: String,
    pub trigger_on: NaiveDate,
    pub explanation: String,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, Deserialize)]
#[diesel(table_name = calendar_days)]
pub struct CalendarDayRow {
    pub id: String,
    pub division: Option<String>,
    pub day: NaiveDate,
    pub title: String,
    pub kind: String,
    pub source: String,
    pub notes: String,
    pub bunting: bool,
    pub created_by: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, Deserialize)]
#[diesel(table_name = audit_log)]
pub struct AuditRow {
    pub seq: i64,
    pub at: NaiveDateTime,
    pub actor_id: Option<String>,
    pub actor_role: Option<String>,
    pub action: String,
    pub outcome: String,
    pub case_id: Option<String>,
    pub subject: Option<String>,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, Deserialize)]
#[diesel(table_name = outbox)]
pub struct OutboxRow {
    pub id: String,
    pub dedupe_key: String,
    pub kind: String,
    pub recipient_id: Option<String>,
    pub to_address: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub case_id: Option<String>,
    pub deadline_id: Option<String>,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub claimed_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
    pub cancelled_reason: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, Deserialize)]
#[diesel(table_name = documents)]
pub struct DocumentRow {
    pub id: String,
    pub case_id: String,
    pub kind: String,
    pub title: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    /// The case event the document belongs to, if linked.
    pub event_id: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, Deserialize)]
#[diesel(table_name = document_versions)]
pub struct VersionRow {
    pub id: String,
    pub document_id: String,
    pub number: i32,
    pub sha256: String,
    pub size_bytes: i64,
    pub content_type: String,
    pub file_name: String,
    pub uploaded_by: String,
    pub uploaded_at: NaiveDateTime,
    pub locked_at: Option<NaiveDateTime>,
    pub deleted_at: Option<NaiveDateTime>,
    pub deleted_by: Option<String>,
    pub delete_reason: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, Deserialize)]
#[diesel(table_name = settings)]
pub struct SettingRow {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, Deserialize)]
#[diesel(table_name = setup_tokens)]
pub struct SetupTokenRow {
    pub token_hash: String,
    pub created_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, Deserialize)]
#[diesel(table_name = case_counters)]
pub struct CaseCounterRow {
    pub prefix: String,
    pub last_sequence: i32,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, Deserialize)]
#[diesel(table_name = form_submissions)]
pub struct FormSubmissionRow {
    pub form_id: String,
    pub user_id: String,
    pub result_url: String,
    pub created_at: NaiveDateTime,
}

#[derive(Clone, Queryable, Selectable, Insertable, Serialize, Deserialize)]
#[diesel(table_name = user_mfa)]
pub struct UserMfaRow {
    pub user_id: String,
    pub secret: Option<String>,
    pub pending_secret: Option<String>,
    pub confirmed_at: Option<NaiveDateTime>,
    pub last_step: i64,
    pub updated_at: NaiveDateTime,
}

impl std::fmt::Debug for UserMfaRow {
    // The secrets stay out of logs and panics.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserMfaRow")
            .field("user_id", &self.user_id)
            .field("confirmed_at", &self.confirmed_at)
            .field("last_step", &self.last_step)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, Deserialize)]
#[diesel(table_name = one_time_links)]
pub struct OneTimeLinkRow {
    pub token_hash: String,
    pub user_id: String,
    pub purpose: String,
    pub created_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
}

#[derive(Clone, Queryable, Selectable, Insertable, Serialize, Deserialize)]
#[diesel(table_name = sign_in_flows)]
pub struct SignInFlowRow {
    pub id_hash: String,
    pub kind: String,
    pub user_id: Option<String>,
    pub browser_hash: String,
    pub nonce: Option<String>,
    pub pkce_verifier: Option<String>,
    pub next_path: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

#[derive(Clone, Queryable, Selectable, Insertable, Serialize, Deserialize)]
#[diesel(table_name = recovery_codes)]
pub struct RecoveryCodeRow {
    pub id: String,
    pub user_id: String,
    pub code_hash: String,
    pub pending: bool,
    pub used_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, Deserialize)]
#[diesel(table_name = oidc_identities)]
pub struct OidcIdentityRow {
    pub user_id: String,
    pub issuer: String,
    pub subject: String,
    pub bound_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, Deserialize)]
#[diesel(table_name = agencies)]
pub struct AgencyRow {
    pub id: String,
    pub name: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, Deserialize)]
#[diesel(table_name = body_members)]
pub struct BodyMemberRow {
    pub body: String,
    pub user_id: String,
    pub chair: bool,
    pub since: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, Deserialize)]
#[diesel(table_name = meetings)]
pub struct MeetingRow {
    pub id: String,
    pub body: String,
    pub title: String,
    pub scheduled_on: NaiveDate,
    pub start_time: Option<String>,
    pub held_on: Option<NaiveDate>,
    pub quorum_needed: Option<i32>,
    pub signed_off_at: Option<NaiveDateTime>,
    pub signed_off_by: Option<String>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, Deserialize)]
#[diesel(table_name = meeting_attendance)]
pub struct AttendanceRow {
    pub meeting_id: String,
    pub user_id: String,
    pub kind: String,
    pub for_member: Option<String>,
    pub agency_id: Option<String>,
    pub core_member: bool,
    pub chair: bool,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, Deserialize)]
#[diesel(table_name = meeting_guests)]
pub struct GuestRow {
    pub id: String,
    pub meeting_id: String,
    pub position: i32,
    pub name: String,
    pub organisation: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, Deserialize)]
#[diesel(table_name = meeting_deputies)]
pub struct NamedDeputyRow {
    pub meeting_id: String,
    pub member_id: String,
    pub deputy_id: String,
    pub named_by: String,
    pub named_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, Deserialize)]
#[diesel(table_name = meeting_agenda)]
pub struct AgendaRow {
    pub meeting_id: String,
    pub case_id: String,
    pub position: i32,
    pub added_by: String,
    pub added_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, Deserialize)]
#[diesel(table_name = meeting_minutes)]
pub struct MinutesRow {
    pub id: String,
    pub meeting_id: String,
    pub case_id: Option<String>,
    pub revision: i32,
    pub text: String,
    pub correction_reason: Option<String>,
    pub written_by: String,
    pub written_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, Deserialize)]
#[diesel(table_name = meeting_papers)]
pub struct PaperRow {
    pub id: String,
    pub meeting_id: String,
    pub title: String,
    pub sha256: String,
    pub size_bytes: i64,
    pub content_type: String,
    pub file_name: String,
    pub uploaded_by: String,
    pub uploaded_at: NaiveDateTime,
    pub deleted_at: Option<NaiveDateTime>,
    pub deleted_by: Option<String>,
    pub delete_reason: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, Deserialize)]
#[diesel(table_name = decisions)]
pub struct DecisionRow {
    pub id: String,
    pub meeting_id: String,
    pub case_id: Option<String>,
    pub kind: String,
    pub method: String,
    pub outcome: String,
    pub votes_for: i32,
    pub votes_against: i32,
    pub abstentions: i32,
    pub casting_vote: Option<String>,
    pub casting_by: Option<String>,
    pub tally: String,
    pub note: Option<String>,
    pub recorded_by: String,
    pub recorded_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, Deserialize)]
#[diesel(table_name = decision_votes)]
pub struct DecisionVoteRow {
    pub decision_id: String,
    pub agency_id: String,
    pub vote: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, Deserialize)]
#[diesel(table_name = decision_conflicts)]
pub struct DecisionConflictRow {
    pub decision_id: String,
    pub user_id: String,
    pub declared: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, Deserialize)]
#[diesel(table_name = case_themes)]
pub struct CaseThemeRow {
    pub case_id: String,
    pub theme_key: String,
    pub theme: String,
    pub tagged_by: String,
    pub tagged_at: NaiveDateTime,
}
