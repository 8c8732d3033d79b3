//! When the calendar changes (an import, a proclaimed holiday, a closure day), pending
//! deadlines are recomputed; met and missed ones never move. The change can be previewed
//! before it is made, and each moved deadline is audited.

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;

use super::audit::{self, Entry};
use super::events::{projection, settle, Loaded};
use super::reminders::Recipients;
use super::Actor;
use crate::db::fixed;
use crate::db::schema::{cases, deadlines};
use crate::db::DbConnection;
use crate::domain::calendar::Calendar;
use crate::domain::deadlines::DeadlineStatus;
use crate::error::AppError;
use crate::state::AppState;

/// A deadline that moves (or would move).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Moved {
    pub case_id: String,
    pub reference: String,
    pub rule: String,
    pub label: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

fn cases_with_pending(conn: &mut DbConnection) -> QueryResult<Vec<String>> {
    cases::table
        .filter(
            cases::id.eq_any(
                deadlines::table
                    .filter(deadlines::status.eq(fixed::text(DeadlineStatus::Pending.as_str())))
                    .select(deadlines::case_id),
            ),
        )
        .order(cases::reference.asc())
        .select(cases::id)
        .load(conn)
}

/// Recomputes every case with a pending deadline against `calendar`. With `write` false it
/// only reports; with `write` true (inside the caller's transaction) it saves, plans the
/// reminders of the moved deadlines (their due date is in their keys) and audits.
pub fn recompute(
    conn: &mut DbConnection,
    st: &AppState,
    actor: Option<&Actor>,
    calendar: &Calendar,
    write: bool,
) -> Result<Vec<Moved>, AppError> {
    let mut moved = vec![];
    let mut users = Recipients::new();
    for case_id in cases_with_pending(conn)? {
        let mut loaded = Loaded::for_write(conn, st, &case_id)?;
        loaded.calendar = calendar.clone();
        let outcome = if write {
            settle(conn, st, &mut loaded, &mut users)?
        } else {
            let existing = std::mem::take(&mut loaded.deadlines);
            projection::refresh(
                conn,
                st,
                &loaded.case,
                &loaded.history,
                calendar,
                existing,
                false,
            )?
        };
        let case = &loaded.case;
        let here: Vec<Moved> = outcome
            .moved()
            .map(|c| Moved {
                case_id: case.id.clone(),
                reference: case.reference.clone(),
                rule: c.rule.clone(),
                label: c.label.clone(),
                from: c.previous_due_on.unwrap_or(c.due_on),
                to: c.due_on,
            })
            .collect();
        if write && !here.is_empty() {
            audit::append(
                conn,
                st.now(),
                Entry::ok(actor, "deadlines_moved_by_calendar")
                    .case(&case.id)
                    .detail(serde_json::json!({ "moved": here })),
            )?;
        }
        moved.extend(here);
    }
    Ok(moved)
}
