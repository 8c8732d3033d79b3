//! Governance use cases: the bodies' core members and chairs, meetings (agenda, attendance,
//! deputies, papers, minutes, sign-off), the decisions made at them, the notices sent before
//! them, and the one check case events make against them ([`check_event_decision`]).
//! The rules themselves (quorum, votes by agency, conflicts, casting vote) are pure, in
//! `domain::governance`.

pub mod access;
pub mod agenda;
pub mod attendance;
pub mod bodies;
pub mod decisions;
pub mod meetings;
pub mod minutes;
pub mod notices;
pub mod papers;
pub mod view;

use diesel::prelude::*;

use super::audit::{self, Entry};
use super::Actor;
use crate::config::Settings;
use crate::db::models::{CaseRow, DecisionRow, MeetingRow};
use crate::db::schema;
use crate::db::{write_tx, DbConnection};
use crate::domain::events::{EventData, EventInput};
use crate::domain::governance::{decision_for_event, Body, Outcome};
use crate::error::AppError;
use crate::state::AppState;

/// The quorum a body's meeting needs now. The Gold Group's terms of reference set none: one
/// agency present is enough to decide.
pub fn quorum_needed(settings: &Settings, body: Body) -> u32 {
    match body {
        Body::Subgroup => settings.governance.subgroup_quorum,
        Body::Board => settings.governance.board_quorum,
        Body::GoldGroup => 1,
    }
}

/// The body of a stored meeting.
pub fn body_of(m: &MeetingRow) -> Result<Body, AppError> {
    m.body
        .parse()
        .map_err(|e: String| AppError::internal(anyhow::anyhow!(e)))
}

/// A meeting by id (not checked for visibility).
pub fn find_meeting(conn: &mut DbConnection, id: &str) -> Result<Option<MeetingRow>, AppError> {
    Ok(schema::meetings::table
        .find(id)
        .select(MeetingRow::as_select())
        .first(conn)
        .optional()?)
}

/// Inside a write transaction: the meeting, locked against concurrent writers on PostgreSQL
/// (SQLite's `BEGIN IMMEDIATE` already serialises writers).
pub fn lock_meeting(conn: &mut DbConnection, id: &str) -> Result<Option<MeetingRow>, AppError> {
    if let DbConnection::Pg(pg) = conn {
        diesel::sql_query("SELECT id FROM meetings WHERE id = $1 FOR UPDATE")
            .bind::<diesel::sql_types::Text, _>(id)
            .execute(pg)?;
    }
    find_meeting(conn, id)
}

/// Audits a refused attempt on a meeting in its own transaction (the attempt changed nothing).
pub fn refuse(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    action: &str,
    meeting_id: Option<&str>,
    case_id: Option<&str>,
    reason: &str,
) -> Result<(), AppError> {
    write_tx(conn, |c| {
        let mut e = Entry::refused(Some(actor), action, reason);
        if let Some(m) = meeting_id {
            e = e.subject(m.to_string());
        }
        if let Some(id) = case_id {
            e = e.case(id);
        }
        audit::append(c, st.now(), e)?;
        Ok(())
    })
}

/// Runs a write and audits its refusal (a 4xx) under `action`; a 404 names no meeting or case.
pub fn audited<T>(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    action: &str,
    meeting_id: Option<&str>,
    case_id: Option<&str>,
    f: impl FnOnce(&mut DbConnection) -> Result<T, AppError>,
) -> Result<T, AppError> {
    match f(conn) {
        Ok(v) => Ok(v),
        Err(AppError::Internal(e)) => Err(AppError::Internal(e)),
        Err(AppError::NotFound) => {
            refuse(
                conn,
                st,
                actor,
                action,
                None,
                None,
                "meeting or case not found or not visible",
            )?;
            Err(AppError::NotFound)
        }
        Err(e) => {
            refuse(conn, st, actor, action, meeting_id, case_id, &e.to_string())?;
            Err(e)
        }
    }
}

/// The one check event recording makes: with `governance.require_meeting_decision`,
/// `lcspr_decided`, `qa_approved` and `ratified` cite (`decision_id`) a carried decision of the
/// matching kind about this case, and are dated the day of the meeting that made it;
/// `publication_planned` may cite the Gold Group's. A cited decision is checked whatever the
/// setting.
pub fn check_event_decision(
    conn: &mut DbConnection,
    st: &AppState,
    case: &CaseRow,
    input: &EventInput,
) -> Result<(), AppError> {
    let Some((kind, required)) = decision_for_event(input.data.kind()) else {
        return Ok(());
    };
    let cited = match &input.data {
        EventData::LcsprDecided { decision_id, .. }
        | EventData::QaApproved { decision_id, .. }
        | EventData::Ratified { decision_id, .. }
        | EventData::PublicationPlanned { decision_id, .. } => decision_id.as_deref(),
        _ => None,
    };
    let Some(id) = cited else {
        if required && st.settings.governance.require_meeting_decision {
            return Err(AppError::invalid(
                "decision_id",
                format!(
                    "cite the decision of the {} (\"{}\", carried at a quorate meeting with this case on its agenda): record it at the meeting first",
                    kind.body().label(),
                    kind.label()
                ),
            ));
        }
        return Ok(());
    };
    let found: Option<(DecisionRow, MeetingRow)> = schema::decisions::table
        .inner_join(schema::meetings::table)
        .filter(schema::decisions::id.eq(id))
        .select((DecisionRow::as_select(), MeetingRow::as_select()))
        .first(conn)
        .optional()?;
    let Some((decision, meeting)) = found else {
        return Err(AppError::invalid("decision_id", "no decision has that id"));
    };
    if decision.case_id.as_deref() != Some(case.id.as_str()) {
        return Err(AppError::invalid(
            "decision_id",
            "that decision is about another case",
        ));
    }
    if decision.kind != kind.as_str() {
        return Err(AppError::invalid(
            "decision_id",
            format!(
                "that decision is \"{}\"; this event needs \"{}\"",
                decision
                    .kind
                    .parse::<crate::domain::governance::DecisionKind>()
                    .map_or(decision.kind.clone(), |k| k.label().to_string()),
                kind.label()
            ),
        ));
    }
    if decision.outcome != Outcome::Carried.as_str() {
        return Err(AppError::invalid(
            "decision_id",
            "that decision was not carried",
        ));
    }
    if let Some(held_on) = meeting.held_on {
        if input.occurred_on != held_on {
            return Err(AppError::invalid(
                "occurred_on",
                format!(
                    "must be the date of the meeting that made the decision ({})",
                    held_on.format("%-d %B %Y")
                ),
            ));
        }
    }
    Ok(())
}
