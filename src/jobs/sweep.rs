//! The reminder sweep: the cases with a pending deadline that may have a reminder step due
//! (withdrawn ones aside) are planned as of now, [`BATCH`] cases at a time (read together,
//! written in one transaction), and the reminders not yet written are queued; then the daily
//! digests; then the notices of coming meetings.
//!
//! Its cost follows the deadlines with a step due, not the cases stored: a deadline due
//! beyond the longest "working days before" of any rule is not read. Its memory is one
//! batch: messages are rendered one at a time just before their row is written, and only the
//! plans of users who chose the daily digest are kept until the digests are written.

use chrono::NaiveDateTime;
use serde::Serialize;

use crate::app::reminders::{self, Outgoing, Planned, Recipients, SweepBatch};
use crate::clock::uk_local;
use crate::db::{write_tx, DbConnection};
use crate::domain::reminders::ReminderMode;
use crate::error::AppError;
use crate::state::AppState;

/// Cases read and written together.
pub const BATCH: usize = 200;

/// What a sweep did (or, as a dry run, would do).
#[derive(Debug, Clone, Default, Serialize)]
pub struct SweepReport {
    /// Cases planned.
    pub cases: usize,
    /// Cases whose planning failed (logged; the next sweep tries again).
    pub failed_cases: usize,
    /// The current step of every pending deadline, with its recipients (kept only when the
    /// sweep is asked for the detail: `reminders run`, the tests).
    pub planned: Vec<Planned>,
    /// Rows written (or that would be written): reminders, then digests, then meeting
    /// notices (listed only with the detail).
    pub queued: Vec<Outgoing>,
    /// How many rows were written (or would be), listed or not.
    pub queued_count: usize,
}

/// One sweep as of `now`, with the detail of what was planned and queued. With `write`
/// false nothing is written: `queued` lists what would be.
pub fn sweep(
    conn: &mut DbConnection,
    st: &AppState,
    now: NaiveDateTime,
    write: bool,
) -> Result<SweepReport, AppError> {
    run(conn, st, now, write, true)
}

/// One sweep as of `now` that keeps only counts (the background loop): its memory does not
/// grow with the number of reminders.
pub fn sweep_counted(
    conn: &mut DbConnection,
    st: &AppState,
    now: NaiveDateTime,
) -> Result<SweepReport, AppError> {
    run(conn, st, now, true, false)
}

fn run(
    conn: &mut DbConnection,
    st: &AppState,
    now: NaiveDateTime,
    write: bool,
    detail: bool,
) -> Result<SweepReport, AppError> {
    let started = std::time::Instant::now();
    let mut report = SweepReport::default();
    // Read once for the whole sweep.
    let calendar = st.calendars.current(conn)?;
    let horizon = reminders::sweep_horizon(st, &calendar, uk_local(now).date())?;
    let mut users = Recipients::new();
    // The plans the digests need: those with a recipient who chose the daily digest.
    let mut for_digests: Vec<Planned> = vec![];
    let ids = reminders::cases_to_sweep(conn, horizon)?;
    for chunk in ids.chunks(BATCH) {
        let mut plan = |c: &mut DbConnection, ids: &[String]| {
            let batch = SweepBatch::load(c, ids, horizon)?;
            let mut planned = vec![];
            for (case, pending, people) in &batch.cases {
                planned.extend(reminders::plan_deadlines(
                    c, st, case, pending, people, &calendar, &mut users, now,
                )?);
            }
            let existing =
                crate::app::outbox::existing_keys(c, &reminders::reminder_keys(&planned))?;
            Ok::<_, AppError>((batch.cases.len(), planned, existing))
        };
        // Read and planned outside the write transaction, which holds only the new rows'
        // writes (on SQLite, the one writer's lock: writers are not kept waiting while a batch
        // is read and planned). What changes in between is harmless: a key written meanwhile
        // is skipped by the insert, and a reminder no longer true is cancelled when it is sent
        // (`send_checks`).
        let mut outcome = |c: &mut DbConnection, ids: &[String]| {
            let (cases, planned, existing) = plan(c, ids)?;
            let nothing_new = reminders::reminder_keys(&planned)
                .iter()
                .all(|k| existing.contains(k));
            let queued = if !write {
                reminders::queue_missing(c, st, &planned, &existing, now, now, false)?
            } else if nothing_new {
                // Most batches of most sweeps: no transaction at all.
                vec![]
            } else {
                write_tx(c, |c| {
                    reminders::queue_missing(c, st, &planned, &existing, now, now, true)
                })?
            };
            Ok::<_, AppError>((cases, planned, queued))
        };
        let results = match outcome(conn, chunk) {
            Ok(done) => vec![Ok(done)],
            // One broken case must not stop the reminders of the others: the batch again,
            // one case at a time.
            Err(_) => chunk
                .iter()
                .map(|id| outcome(conn, std::slice::from_ref(id)).map_err(|e| (id, e)))
                .collect(),
        };
        for result in results {
            match result {
                Ok((cases, planned, queued)) => {
                    report.cases += cases;
                    report.queued_count += queued.len();
                    for p in planned {
                        let daily = p.recipients.iter().any(|r| r.mode == ReminderMode::Daily);
                        if detail {
                            if daily {
                                for_digests.push(p.clone());
                            }
                            report.planned.push(p);
                        } else if daily {
                            for_digests.push(Planned {
                                recipients: p
                                    .recipients
                                    .into_iter()
                                    .filter(|r| r.mode == ReminderMode::Daily)
                                    .collect(),
                                ..p
                            });
                        }
                    }
                    if detail {
                        report.queued.extend(queued);
                    }
                }
                Err((id, e)) => {
                    report.failed_cases += 1;
                    tracing::error!(case_id = %id, error = %crate::telemetry::redact_debug(&e), "reminder planning failed for a case");
                }
            }
        }
    }
    let digests = if write {
        write_tx(conn, |c| {
            reminders::queue_digests(c, st, &for_digests, now, true)
        })?
    } else {
        reminders::queue_digests(conn, st, &for_digests, now, false)?
    };
    drop(for_digests);
    // Meeting notices, each written once (their own keys).
    let notices = if write {
        write_tx(conn, |c| {
            crate::app::governance::notices::plan(c, st, now, true)
        })?
    } else {
        crate::app::governance::notices::plan(conn, st, now, false)?
    };
    report.queued_count += digests.len() + notices.len();
    if detail {
        report.queued.extend(digests);
        report.queued.extend(notices);
    }
    if write {
        tracing::info!(
            cases = report.cases,
            queued = report.queued_count,
            elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            "reminder sweep done"
        );
    }
    Ok(report)
}
