//! Background jobs: the reminder sweep and the outbox delivery loop. Both run inside `serve`
//! every `jobs.sweep_interval_secs` / `jobs.delivery_interval_secs` when `jobs.enabled`, with,
//! hourly, the clearing of sent messages' bodies (`jobs.sent_body_retention_days`);
//! `lcspr-tracker reminders run` runs them once. On PostgreSQL several instances may run them
//! at once (rows are written once and claimed with `FOR UPDATE SKIP LOCKED`); on SQLite one
//! process runs them.

pub mod delivery;
pub mod sweep;

use std::future::Future;
use std::time::Duration;

use chrono::NaiveDateTime;
use serde::Serialize;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::db::models::OutboxRow;
use crate::error::AppError;
use crate::state::AppState;

pub use delivery::{deliver_due, DeliveryReport};
pub use sweep::{sweep, SweepReport};

/// The running loops; [`JobsHandle::stop`] ends them: the sweep after the case in progress,
/// delivery after the message in flight (nothing more is claimed).
pub struct JobsHandle {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl JobsHandle {
    /// Tells the loops to stop, without waiting.
    pub fn signal(&self) {
        let _ = self.stop.send(true);
    }

    /// Tells the loops to stop and waits for them.
    pub async fn stop(self) {
        self.signal();
        for t in self.tasks {
            let _ = t.await;
        }
        tracing::info!("background jobs stopped");
    }

    /// Tells the loops to stop and waits at most `limit`; then whatever is still running is
    /// cancelled (a message still being sent stays claimed until its claim runs out). True
    /// when everything finished in time.
    pub async fn stop_within(mut self, limit: Duration) -> bool {
        self.signal();
        let finished = tokio::time::timeout(limit, async {
            for t in self.tasks.iter_mut() {
                let _ = t.await;
            }
        })
        .await
        .is_ok();
        for t in self.tasks {
            // A task already awaited to its end must not be polled again.
            if !t.is_finished() {
                t.abort();
                let _ = t.await;
            }
        }
        if finished {
            tracing::info!("background jobs stopped");
        }
        finished
    }
}

/// Starts both loops on the current actix/tokio runtime.
pub fn spawn(state: AppState) -> JobsHandle {
    let (stop, rx) = watch::channel(false);
    let sweep_every = Duration::from_secs(state.settings.jobs.sweep_interval_secs);
    let deliver_every = Duration::from_secs(state.settings.jobs.delivery_interval_secs);
    let st = state.clone();
    let sweep_task = actix_web::rt::spawn(every(sweep_every, rx.clone(), move || {
        let st = st.clone();
        async move {
            let started = std::time::Instant::now();
            let result = st.db(|c, st| sweep::sweep_counted(c, st, st.now())).await;
            match result {
                Ok(_) => st.metrics.sweep_done(started.elapsed().as_secs_f64()),
                Err(e) => {
                    tracing::error!(error = %crate::telemetry::redact_debug(&e), "reminder sweep failed")
                }
            }
        }
    }));
    let retention_rx = rx.clone();
    let st = state.clone();
    let delivery_rx = rx.clone();
    let delivery_task = actix_web::rt::spawn(every(deliver_every, rx, move || {
        let st = st.clone();
        let stop = delivery_rx.clone();
        async move {
            if let Err(e) = delivery::deliver_until_stopped(&st, Some(&stop)).await {
                tracing::error!(error = %crate::telemetry::redact_debug(&e), "outbox delivery failed");
            }
        }
    }));
    tracing::info!(
        sweep_secs = sweep_every.as_secs(),
        delivery_secs = deliver_every.as_secs(),
        "background jobs started"
    );
    let st = state;
    let retention_task = actix_web::rt::spawn(every(RETENTION_EVERY, retention_rx, move || {
        let st = st.clone();
        async move {
            let days = st.settings.jobs.sent_body_retention_days;
            match st
                .db(move |c, st| crate::app::outbox::clear_sent_bodies(c, st.now(), days))
                .await
            {
                Ok(0) => {}
                Ok(cleared) => tracing::info!(cleared, days, "sent messages' bodies cleared"),
                Err(e) => {
                    tracing::warn!(error = %crate::telemetry::redact_debug(&e), "could not clear sent messages' bodies")
                }
            }
        }
    }));
    JobsHandle {
        stop,
        tasks: vec![sweep_task, delivery_task, retention_task],
    }
}

/// Removes files of interrupted uploads and files no version refers to: at start, then every
/// `documents.cleanup_interval_secs`, whether or not this process runs the jobs (each instance
/// may have its own local store; with a shared one the grace period keeps it safe).
pub fn spawn_cleanup(state: AppState) -> JoinHandle<()> {
    let period = Duration::from_secs(state.settings.documents.cleanup_interval_secs);
    actix_web::rt::spawn(async move {
        loop {
            let st = &state;
            match crate::app::documents::sweep_orphans(st).await {
                Ok(r) if r.partial + r.unreferenced > 0 => tracing::info!(
                    partial = r.partial,
                    unreferenced = r.unreferenced,
                    store = %st.documents.describe(),
                    "removed files of interrupted uploads"
                ),
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %crate::telemetry::redact_debug(&e), "could not sweep the document store")
                }
            }
            tokio::time::sleep(period).await;
        }
    })
}

/// How often the bodies of messages sent more than `jobs.sent_body_retention_days` ago are
/// cleared ([`crate::app::outbox::clear_sent_bodies`]).
pub const RETENTION_EVERY: Duration = Duration::from_secs(3600);

/// How often the planner's statistics are refreshed ([`crate::db::refresh_statistics`]).
pub const STATISTICS_EVERY: Duration = Duration::from_secs(3600);

/// Refreshes the database's statistics at start, then every [`STATISTICS_EVERY`], whether or
/// not this process runs the jobs.
pub fn spawn_statistics(state: AppState) -> JoinHandle<()> {
    actix_web::rt::spawn(async move {
        loop {
            let started = std::time::Instant::now();
            match state.db(|c, _| Ok(crate::db::refresh_statistics(c)?)).await {
                Ok(()) => tracing::debug!(
                    ms = started.elapsed().as_millis() as u64,
                    "database statistics refreshed"
                ),
                Err(e) => {
                    tracing::warn!(error = %crate::telemetry::redact_debug(&e), "could not refresh the database statistics")
                }
            }
            tokio::time::sleep(STATISTICS_EVERY).await;
        }
    })
}

/// Runs `f` now and then every `period` until told to stop (a pass in progress finishes).
async fn every<F, Fut>(period: Duration, mut stop: watch::Receiver<bool>, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    loop {
        if *stop.borrow() {
            return;
        }
        f().await;
        tokio::select! {
            _ = tokio::time::sleep(period) => {}
            _ = stop.changed() => return,
        }
    }
}

/// What `reminders run` did, or would do.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub at: NaiveDateTime,
    pub dry_run: bool,
    pub sweep: SweepReport,
    /// Messages already queued and due, that a real run would send (dry run only).
    #[serde(skip)]
    pub would_send: Vec<OutboxRow>,
    pub delivery: DeliveryReport,
}

/// One sweep as of the state's clock, then delivery of everything due; with `dry_run`,
/// nothing is written or sent and the report says what would be.
pub async fn run_once(st: &AppState, dry_run: bool) -> Result<RunReport, AppError> {
    let at = st.now();
    let sweep = st
        .db(move |c, st| sweep::sweep(c, st, at, !dry_run))
        .await?;
    let (would_send, delivery) = if dry_run {
        let due = st
            .db(move |c, _| crate::app::outbox::due_now(c, at))
            .await?;
        (due, DeliveryReport::default())
    } else {
        (vec![], delivery::deliver_due(st).await?)
    };
    Ok(RunReport {
        at,
        dry_run,
        sweep,
        would_send,
        delivery,
    })
}
