//! The reminder sweep: every case with a pending deadline (withdrawn ones aside) is planned as
//! of now, each in its own transaction, and the reminders not yet written are queued; then the
//! daily digests; then the notices of coming meetings.

use chrono::NaiveDateTime;
use serde::Serialize;

use crate::app::reminders::{self, Outgoing, Planned, Recipients};
use crate::db::{write_tx, DbConnection};
use crate::error::AppError;
use crate::state::AppState;

/// What a sweep did (or, as a dry run, would do).
#[derive(Debug, Clone, Default, Serialize)]
pub struct SweepReport {
    /// Cases planned.
    pub cases: usize,
    /// Cases whose planning failed (logged; the next sweep tries again).
    pub failed_cases: usize,
    /// The current step of every pending deadline, with its recipients.
    pub planned: Vec<Planned>,
    /// Rows written (or that would be written): reminders, then digests.
    pub queued: Vec<Outgoing>,
}

/// One sweep as of `now`. With `write` false nothing is written: `queued` lists what would be.
pub fn sweep(
    conn: &mut DbConnection,
    st: &AppState,
    now: NaiveDateTime,
    write: bool,
) -> Result<SweepReport, AppError> {
    let mut report = SweepReport::default();
    // Read once for the whole sweep.
    let calendar = st.calendars.current(conn)?;
    let mut users = Recipients::new();
    for case in reminders::cases_to_sweep(conn)? {
        report.cases += 1;
        let mut plan = |c: &mut DbConnection, write: bool| {
            let planned = reminders::plan_case(c, st, &case, &calendar, &mut users, now)?;
            let queued = reminders::queue_reminders(c, st, &planned, now, now, write)?;
            Ok::<_, AppError>((planned, queued))
        };
        let result = if write {
            write_tx(conn, |c| plan(c, true))
        } else {
            plan(conn, false)
        };
        match result {
            Ok((planned, queued)) => {
                report.planned.extend(planned);
                report.queued.extend(queued);
            }
            Err(e) => {
                // One broken case must not stop the reminders of the others.
                report.failed_cases += 1;
                tracing::error!(case_id = %case.id, error = %crate::telemetry::redact_debug(&e), "reminder planning failed for a case");
            }
        }
    }
    let digests = if write {
        write_tx(conn, |c| {
            reminders::queue_digests(c, st, &report.planned, now, true)
        })?
    } else {
        reminders::queue_digests(conn, st, &report.planned, now, false)?
    };
    report.queued.extend(digests);
    // Meeting notices, each written once (their own keys).
    let notices = if write {
        write_tx(conn, |c| {
            crate::app::governance::notices::plan(c, st, now, true)
        })?
    } else {
        crate::app::governance::notices::plan(conn, st, now, false)?
    };
    report.queued.extend(notices);
    if write {
        tracing::info!(
            cases = report.cases,
            queued = report.queued.len(),
            "reminder sweep done"
        );
    }
    Ok(report)
}
