//! A case as one user may see it: restricted identity only for the roles allowed.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::Value;

use super::{load_events, Access};
use crate::app::Actor;
use crate::db::models::{CaseRow, DeadlineRow};
use crate::db::schema::{case_people, deadlines, users};
use crate::db::DbConnection;
use crate::domain::calendar::{Calendar, Division};
use crate::domain::deadlines::{effective_status, DeadlineStatus};
use crate::domain::events::EventType;
use crate::domain::workflow::{self, CaseState};
use crate::error::AppError;
use crate::state::AppState;

#[derive(Debug, Clone, Serialize)]
pub struct PersonRef {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct EventView {
    pub id: String,
    pub sequence: i32,
    #[serde(rename = "type")]
    pub kind: EventType,
    pub label: &'static str,
    pub occurred_on: NaiveDate,
    pub recorded_by: PersonRef,
    pub recorded_at: NaiveDateTime,
    /// The event's own fields (decision, recipient, publication_on, …).
    pub fields: Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct DeadlineView {
    pub id: String,
    pub rule: String,
    pub rule_version: i32,
    pub instance: i32,
    pub label: String,
    pub role: String,
    pub due_on: NaiveDate,
    /// As of today: a pending deadline past its date is `missed`.
    pub status: DeadlineStatus,
    pub met_on: Option<NaiveDate>,
    /// Working days from today to the due date (negative when overdue).
    pub working_days_left: i64,
    pub statutory: bool,
    pub explanation: Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct ActionView {
    pub id: String,
    pub description: String,
    pub owner_agency: String,
    pub due_on: NaiveDate,
    pub done_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize)]
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
    pub harm: String,
    pub looked_after: bool,
    pub summary: String,
    pub division: String,
    pub financial_year: String,
    pub stage: String,
    pub stage_label: String,
    pub created_at: NaiveDateTime,
    pub reviewers: Vec<PersonRef>,
    pub actions: Vec<ActionView>,
    pub events: Vec<EventView>,
    pub deadlines: Vec<DeadlineView>,
    /// Event types this user may record on this case now.
    pub may_record: Vec<EventType>,
}

/// Names of users by id.
pub fn names(conn: &mut DbConnection, ids: &[&str]) -> QueryResult<HashMap<String, String>> {
    Ok(users::table
        .filter(users::id.eq_any(ids))
        .select((users::id, users::name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect())
}

/// Builds the view of a deadline row as of today.
pub fn deadline_view(
    st: &AppState,
    calendar: &Calendar,
    division: Division,
    r: DeadlineRow,
) -> DeadlineView {
    let today = st.today();
    let status: DeadlineStatus = r.status.parse().unwrap_or(DeadlineStatus::Pending);
    let statutory = st
        .rules
        .versions(&r.rule_id)
        .iter()
        .find(|v| v.version == r.rule_version)
        .is_some_and(|v| v.statutory);
    DeadlineView {
        working_days_left: calendar.count_working_days(division, today, r.due_on),
        status: effective_status(status, r.due_on, today),
        explanation: serde_json::from_str(&r.explanation).unwrap_or(Value::Null),
        id: r.id,
        rule: r.rule_id,
        rule_version: r.rule_version,
        instance: r.instance,
        label: r.label,
        role: r.role,
        due_on: r.due_on,
        met_on: r.met_on,
        statutory,
    }
}

/// A case's deadlines, soonest first.
pub fn case_deadlines(
    conn: &mut DbConnection,
    st: &AppState,
    case: &CaseRow,
) -> Result<Vec<DeadlineView>, AppError> {
    let calendar = st.calendars.current(conn)?;
    let division: Division = case.division.parse().map_err(AppError::internal)?;
    let rows: Vec<DeadlineRow> = deadlines::table
        .filter(deadlines::case_id.eq(&case.id))
        .order((
            deadlines::due_on.asc(),
            deadlines::rule_id.asc(),
            deadlines::instance.asc(),
        ))
        .select(DeadlineRow::as_select())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| deadline_view(st, &calendar, division, r))
        .collect())
}

pub fn build(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    case: &CaseRow,
    access: Access,
) -> Result<CaseView, AppError> {
    let (rows, events) = load_events(conn, &case.id)?;
    let state = CaseState::from_events(&events);
    let reviewer_ids: Vec<String> = case_people::table
        .filter(case_people::case_id.eq(&case.id))
        .filter(case_people::relation.eq("lead_reviewer"))
        .select(case_people::user_id)
        .load(conn)?;
    let mut ids: Vec<&str> = rows.iter().map(|r| r.recorded_by.as_str()).collect();
    ids.extend(reviewer_ids.iter().map(String::as_str));
    let names = names(conn, &ids)?;
    let person = |id: &str| PersonRef {
        id: id.to_string(),
        name: names
            .get(id)
            .cloned()
            .unwrap_or_else(|| "(unknown user)".into()),
    };
    let event_views = rows
        .iter()
        .zip(&events)
        .map(|(r, e)| {
            let mut fields = serde_json::to_value(&e.data).unwrap_or(Value::Null);
            if let Some(m) = fields.as_object_mut() {
                m.remove("type");
            }
            EventView {
                id: r.id.clone(),
                sequence: r.sequence,
                kind: e.kind(),
                label: e.kind().label(),
                occurred_on: r.occurred_on,
                recorded_by: person(&r.recorded_by),
                recorded_at: r.recorded_at,
                fields,
            }
        })
        .collect();
    let identity = actor.role.may_see_identity(access.appointed);
    let may_record = EventType::ALL
        .iter()
        .copied()
        .filter(|k| workflow::may_record(actor.role, *k) && state.check_stage(*k).is_ok())
        .filter(|k| {
            *k != EventType::LacDeathNotified || (case.looked_after && case.harm == "death")
        })
        .collect();
    Ok(CaseView {
        id: case.id.clone(),
        reference: case.reference.clone(),
        child_pseudonym: case.child_pseudonym.clone(),
        child_name: if identity {
            case.child_name.clone()
        } else {
            None
        },
        child_dob: if identity { case.child_dob } else { None },
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
        reviewers: reviewer_ids.iter().map(|id| person(id)).collect(),
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
        deadlines: case_deadlines(conn, st, case)?,
        may_record,
    })
}

/// Reads a case for an actor and audits the read.
pub fn read(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    case_id: &str,
) -> Result<CaseView, AppError> {
    let (case, access) = super::visible_or_refuse(conn, st, actor, case_id, "case_viewed")?;
    let view = build(conn, st, actor, &case, access)?;
    crate::db::write_tx(conn, |c| {
        crate::app::audit::append(
            c,
            st.now(),
            crate::app::audit::Entry::ok(Some(actor), "case_viewed")
                .case(&case.id)
                .detail(serde_json::json!({ "identity_shown": view.identity_visible })),
        )
    })?;
    Ok(view)
}
