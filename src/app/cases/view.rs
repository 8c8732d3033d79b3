//! A case as one user may see it: restricted identity only for the roles allowed.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use crate::app::access::{read_or_refuse, visible_case_read, VisibleCase};
use crate::app::events::ledger;
pub use crate::app::events::view::{deadline_view, DeadlineView, EventView, PersonRef};
use crate::app::users::names_and_active;
use crate::app::Actor;
use crate::db::group_commit::ReadAudit;
use crate::db::models::{CaseRow, DeadlineRow};
use crate::db::schema::deadlines;
use crate::db::DbConnection;
use crate::domain::calendar::Calendar;
use crate::domain::calendar::Division;
use crate::domain::case::Harm;
use crate::domain::events::EventType;
use crate::domain::workflow::{self, CaseState};
use crate::error::AppError;
use crate::rev_cache::CaseRev;
use crate::state::AppState;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ActionView {
    pub id: String,
    pub description: String,
    pub owner_agency: String,
    pub due_on: NaiveDate,
    pub done_on: Option<NaiveDate>,
}

/// A lead reviewer the case lists; `active` is false once their account is deactivated (the
/// case still lists them until another is appointed).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ReviewerRef {
    pub id: String,
    pub name: String,
    pub active: bool,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct CaseView {
    pub id: String,
    pub reference: String,
    pub child_pseudonym: String,
    /// Present only for the co-chairs, the programme manager and the case's own lead reviewer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub child_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub child_dob: Option<NaiveDate>,
    pub identity_visible: bool,
    pub aware_on: NaiveDate,
    pub incident_on: NaiveDate,
    #[schemars(with = "crate::domain::case::Harm")]
    pub harm: String,
    pub looked_after: bool,
    pub summary: String,
    pub division: String,
    pub financial_year: String,
    #[schemars(with = "crate::domain::case::Stage")]
    pub stage: String,
    pub stage_label: String,
    #[serde(serialize_with = "crate::utc::ser")]
    #[schemars(with = "crate::utc::Stamp")]
    pub created_at: NaiveDateTime,
    pub reviewers: Vec<ReviewerRef>,
    pub actions: Vec<ActionView>,
    /// In replay order; voided events too, marked `voided`.
    pub events: Vec<EventView>,
    pub deadlines: Vec<DeadlineView>,
    /// Event types this user may record on this case now.
    pub may_record: Vec<EventType>,
    /// The revisions it was read at, for what a page keeps of the case beside it.
    #[serde(skip)]
    #[schemars(skip)]
    pub rev: CaseRev,
}

/// A case's deadlines, soonest first.
pub fn case_deadlines(
    conn: &mut DbConnection,
    st: &AppState,
    case: &CaseRow,
) -> Result<Vec<DeadlineView>, AppError> {
    let calendar = st.calendars.current(conn)?;
    deadlines_at(conn, st, case, &calendar)
}

/// As [`case_deadlines`], explained with `calendar` (already read).
fn deadlines_at(
    conn: &mut DbConnection,
    st: &AppState,
    case: &CaseRow,
    calendar: &Calendar,
) -> Result<Vec<DeadlineView>, AppError> {
    let rows = deadline_rows(conn, &case.id)?;
    views_of(st, case, calendar, rows)
}

/// A case's deadline rows, soonest first.
fn deadline_rows(conn: &mut DbConnection, case_id: &str) -> QueryResult<Vec<DeadlineRow>> {
    deadlines::table
        .filter(deadlines::case_id.eq(case_id))
        .order((
            deadlines::due_on.asc(),
            deadlines::rule_id.asc(),
            deadlines::instance.asc(),
        ))
        .select(DeadlineRow::as_select())
        .load(conn)
}

/// Deadline rows explained with `calendar`, their status as of today.
fn views_of(
    st: &AppState,
    case: &CaseRow,
    calendar: &Calendar,
    rows: impl IntoIterator<Item = DeadlineRow>,
) -> Result<Vec<DeadlineView>, AppError> {
    let division: Division = case.division.parse().map_err(AppError::internal)?;
    Ok(rows
        .into_iter()
        .map(|r| deadline_view(st, calendar, division, r))
        .collect())
}

/// What a case's view reads beyond the case row and its people: its events, the names of the
/// people they and its reviewers are, its deadline rows. Kept in memory while the case's
/// revision holds ([`crate::rev_cache`]); what depends on today or on who reads is worked out
/// from it on each request.
struct CaseRecord {
    entries: ledger::CaseEvents,
    names: HashMap<String, (String, bool)>,
    deadlines: Vec<DeadlineRow>,
}

impl CaseRecord {
    /// Reads it in three statements whatever the case's size.
    fn load(conn: &mut DbConnection, seen: &VisibleCase) -> Result<(CaseRecord, u64), AppError> {
        let entries = ledger::load(conn, &seen.case.id)?;
        let mut ids: Vec<&str> = entries
            .rows
            .iter()
            .map(|r| r.recorded_by.as_str())
            .collect();
        ids.extend(seen.people.reviewers());
        let names = names_and_active(conn, &ids)?;
        let deadlines = deadline_rows(conn, &seen.case.id)?;
        // An estimate of its bytes: the text it holds, each row's other fields and the
        // allocator's share (a row is a dozen small strings).
        let weight = entries
            .rows
            .iter()
            .map(|r| r.data.len() + 512)
            .chain(deadlines.iter().map(|d| d.explanation.len() + 512))
            .chain(
                names
                    .iter()
                    .map(|(id, (name, _))| id.len() + name.len() + 128),
            )
            .sum::<usize>();
        Ok((
            CaseRecord {
                entries,
                names,
                deadlines,
            },
            weight as u64,
        ))
    }

    /// The case's record at the revision read with it: from memory when it was read at that
    /// revision before, else from the database.
    fn of(
        conn: &mut DbConnection,
        st: &AppState,
        seen: &VisibleCase,
    ) -> Result<Arc<CaseRecord>, AppError> {
        st.case_cache
            .get_or_load("case", &seen.case.id, &seen.rev, || {
                CaseRecord::load(conn, seen)
            })
    }
}

/// The case as `actor` sees it (`NotFound` when they may not): read with its people and the
/// calendar's revision in one statement, then its events, names and deadlines, or those kept
/// from an earlier read at the same revision.
pub fn visible(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    case_id: &str,
) -> Result<CaseView, AppError> {
    let seen = visible_case_read(conn, actor, case_id)?;
    build(conn, st, actor, seen, Keep::Yes)
}

/// As [`visible`], for the answer to a write (a case opened, its details changed): read, not
/// kept. Writes are not views: seeding 10,000 cases would fill the cache with cases nobody has
/// looked at.
pub fn after_write(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    case_id: &str,
) -> Result<CaseView, AppError> {
    let seen = visible_case_read(conn, actor, case_id)?;
    build(conn, st, actor, seen, Keep::No)
}

/// Whether what a view reads of a case is kept for the next view at the same revision.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Keep {
    Yes,
    No,
}

/// The view of a case already read, its deadlines explained with the calendar at the
/// revision read with it.
fn build(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    seen: VisibleCase,
    keep: Keep,
) -> Result<CaseView, AppError> {
    let record = match keep {
        Keep::Yes => CaseRecord::of(conn, st, &seen)?,
        Keep::No => Arc::new(CaseRecord::load(conn, &seen)?.0),
    };
    let calendar = &st.calendars.at_rev(conn, seen.calendar_rev)?;
    let (case, people) = (&seen.case, &seen.people);
    let (entries, names) = (&record.entries, &record.names);
    // The current events in replay order: their fold is the case's state.
    let state = CaseState::from_events(&entries.current());
    let reviewer_ids: Vec<&str> = people.reviewers().collect();
    let person = |id: &str| PersonRef {
        id: id.to_string(),
        name: names
            .get(id)
            .map_or_else(|| "(unknown user)".into(), |(n, _)| n.clone()),
    };
    let reviewer = |id: &str| ReviewerRef {
        id: id.to_string(),
        name: person(id).name,
        active: names.get(id).is_some_and(|(_, active)| *active),
    };
    let event_views = entries
        .chains
        .iter()
        .map(|chain| EventView::of_chain(entries, chain, &person))
        .collect();
    let identity = actor
        .role
        .may_see_identity(people.access(&actor.user_id).appointed);
    let lac_death = case.looked_after && case.harm == Harm::Death.as_str();
    let may_record = EventType::ALL
        .iter()
        .copied()
        .filter(|k| workflow::may_record(actor.role, *k) && state.check_stage(*k).is_ok())
        .filter(|k| *k != EventType::LacDeathNotified || lac_death)
        .collect();
    let shown = if identity {
        crate::app::identity::open(&st.crypto, case)?
    } else {
        Default::default()
    };
    Ok(CaseView {
        id: case.id.clone(),
        reference: case.reference.clone(),
        child_pseudonym: case.child_pseudonym.clone(),
        child_name: shown.name,
        child_dob: shown.dob,
        identity_visible: identity,
        aware_on: case.aware_on,
        incident_on: case.incident_on,
        harm: case.harm.clone(),
        looked_after: case.looked_after,
        summary: case.summary.clone(),
        division: case.division.clone(),
        financial_year: case.financial_year.clone(),
        stage: state.stage.as_str().into(),
        stage_label: state.stage.label().into(),
        created_at: case.created_at,
        reviewers: reviewer_ids.iter().map(|id| reviewer(id)).collect(),
        actions: state
            .actions
            .iter()
            .map(|(id, a)| ActionView {
                id: id.clone(),
                description: a.description.clone(),
                owner_agency: a.owner_agency.clone(),
                due_on: a.due_on,
                done_on: a.done_on,
            })
            .collect(),
        events: event_views,
        deadlines: views_of(st, case, calendar, record.deadlines.iter().cloned())?,
        may_record,
        rev: seen.rev.clone(),
    })
}

/// Reads a case for an actor, with the audit entry of the read, which the caller commits
/// (`AppState::audit_read`, with concurrent reads) before answering.
pub fn read(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    case_id: &str,
) -> Result<(CaseView, ReadAudit), AppError> {
    let seen = read_or_refuse(conn, st, actor, case_id, "case_viewed")?;
    let view = build(conn, st, actor, seen, Keep::Yes)?;
    let entry = ReadAudit {
        at: st.now(),
        actor_id: actor.user_id.clone(),
        actor_role: actor.role.as_str().to_string(),
        action: "case_viewed",
        case_id: view.id.clone(),
        detail: serde_json::json!({ "identity_shown": view.identity_visible }),
    };
    Ok((view, entry))
}
