//! Whether PostgreSQL answers. A monitor probes it every second on a connection of its own (on
//! a thread of its own, so a busy blocking pool cannot delay a probe into a false alarm);
//! while it does not answer, requests fail at once with 503 and `Retry-After` instead of each
//! waiting for the pool's timeout, and `/readyz` says so without waiting. When the database
//! answers again, everything carries on by itself. A SQLite file is never "down": its problems
//! are errors of the request that meets them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel::connection::SimpleConnection;

use super::{ConnectionManager, DbConnection};

/// How often the monitor probes, and how long a probe may take before the database counts as
/// down.
pub const PROBE_EVERY: Duration = Duration::from_secs(1);
pub const PROBE_TIMEOUT: Duration = Duration::from_millis(900);

pub struct DbHealth {
    /// Only PostgreSQL is monitored.
    monitored: bool,
    down: AtomicBool,
    manager: ConnectionManager,
    /// The monitor's own connection; held by a probe in progress (a probe stuck on a dead
    /// network keeps it, and the next ticks count the database as down).
    conn: Mutex<Option<DbConnection>>,
}

impl std::fmt::Debug for DbHealth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbHealth")
            .field("down", &self.is_down())
            .finish_non_exhaustive()
    }
}

impl DbHealth {
    pub fn new(manager: ConnectionManager) -> DbHealth {
        DbHealth {
            monitored: manager.is_postgres(),
            down: AtomicBool::new(false),
            manager,
            conn: Mutex::new(None),
        }
    }

    /// True while the database is known not to answer.
    pub fn is_down(&self) -> bool {
        self.down.load(Ordering::Relaxed)
    }

    pub fn mark_down(&self) {
        if self.monitored && !self.down.swap(true, Ordering::Relaxed) {
            tracing::error!("the database is not answering; requests get 503 until it does");
        }
    }

    fn mark_up(&self) {
        if self.down.swap(false, Ordering::Relaxed) {
            tracing::info!("the database answers again");
        }
    }

    /// One probe on the monitor's connection (reconnecting when needed). Blocking.
    fn probe_blocking(&self) -> bool {
        let Ok(mut slot) = self.conn.try_lock() else {
            // An earlier probe is still stuck.
            return false;
        };
        if let Some(conn) = slot.as_mut() {
            if conn.batch_execute("SELECT 1").is_ok() {
                return true;
            }
            *slot = None;
        }
        match self.manager.connect() {
            Ok(mut conn) => {
                let ok = conn.batch_execute("SELECT 1").is_ok();
                if ok {
                    *slot = Some(conn);
                }
                ok
            }
            Err(_) => false,
        }
    }

    /// Probes once, giving up after [`PROBE_TIMEOUT`]; updates the state and returns it.
    pub async fn probe(self: &Arc<Self>) -> bool {
        let me = self.clone();
        let probe = tokio::task::spawn_blocking(move || me.probe_blocking());
        let up = matches!(
            tokio::time::timeout(PROBE_TIMEOUT, probe).await,
            Ok(Ok(true))
        );
        if up {
            self.mark_up();
        } else {
            self.mark_down();
        }
        up
    }

    /// Probes every [`PROBE_EVERY`] until the returned handle is aborted (PostgreSQL only).
    pub fn spawn_monitor(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let me = self.clone();
        actix_web::rt::spawn(async move {
            if !me.monitored {
                return;
            }
            loop {
                tokio::time::sleep(PROBE_EVERY).await;
                me.probe().await;
            }
        })
    }
}
