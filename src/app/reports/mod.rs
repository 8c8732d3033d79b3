//! The Sub-Group's reports: the annual figures ([`annual`]), the report to each Board meeting
//! ([`board`]) and the improvement actions they share ([`actions`]). Every figure is read from
//! the stored deadlines (computed by `domain::deadlines` with the rule versions and the calendar
//! they keep) and the events, over the cases the user may see (`access::visible_cases`), a
//! chunk of cases at a time.

pub mod actions;
pub mod annual;
pub mod board;
pub mod tables;
pub mod themes;
pub mod timeline;

use chrono::NaiveDate;
use diesel::prelude::*;

use super::Actor;
use crate::app::events::ledger;
use crate::db::models::EventRow;
use crate::db::schema::case_events;
use crate::db::DbConnection;
use crate::domain::events::{EventData, EventType};
use crate::domain::roles::CaseScope;
use crate::error::AppError;

/// Cases read per query when figures are computed: the events and deadlines of this many cases
/// are in memory at once, whatever the partnership's size.
pub const CHUNK: usize = 500;

/// Reports are for the roles that see cases; an administrator sees none (403).
pub fn check_may_read(actor: &Actor) -> Result<(), AppError> {
    if actor.role.case_scope() == CaseScope::NoCases {
        return Err(AppError::Forbidden(
            "reports are for the roles that see cases".into(),
        ));
    }
    Ok(())
}

/// One event as the reports read it.
#[derive(Debug, Clone)]
pub struct DatedEvent {
    pub case_id: String,
    pub occurred_on: NaiveDate,
    pub data: EventData,
}

/// The events of these types of these cases, in replay order per case: the current versions
/// only (corrections resolved, voided events left out; `app::events::ledger`).
pub fn events_of(
    conn: &mut DbConnection,
    case_ids: &[&str],
    types: &[EventType],
) -> Result<Vec<DatedEvent>, AppError> {
    let mut codes: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
    // A correction keeps its event's type; a void is its own entry.
    codes.push(ledger::VOID);
    let rows: Vec<EventRow> = case_events::table
        .filter(case_events::case_id.eq_any(case_ids))
        .filter(case_events::event_type.eq_any(&codes))
        .order((case_events::case_id.asc(), case_events::sequence.asc()))
        .select(EventRow::as_select())
        .load(conn)?;
    let mut out = vec![];
    let mut rest = rows.as_slice();
    while let Some(first) = rest.first() {
        let n = rest
            .iter()
            .take_while(|r| r.case_id == first.case_id)
            .count();
        let (one, more) = rest.split_at(n);
        rest = more;
        let entries = ledger::CaseEvents::resolve(one.to_vec())?;
        out.extend(
            entries
                .current()
                .into_iter()
                .filter(|e| types.contains(&e.kind()))
                .map(|e| DatedEvent {
                    case_id: first.case_id.clone(),
                    occurred_on: e.occurred_on,
                    data: e.data,
                }),
        );
    }
    Ok(out)
}

/// `part` of `whole` as a whole percentage, `None` when there is nothing to divide.
pub fn percent(part: usize, whole: usize) -> Option<u32> {
    (whole > 0).then(|| ((part as f64 * 100.0 / whole as f64).round()) as u32)
}
