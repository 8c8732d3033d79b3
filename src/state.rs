//! What every request handler and job shares.

use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime};

use crate::calendars::CalendarStore;
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::group_commit::{GroupCommit, ReadAudit};
use crate::db::{DbConnection, Pool};
use crate::domain::calendar::Division;
use crate::domain::rules::RuleSet;
use crate::error::AppError;
use crate::keys::JwtKeys;
use crate::mail::Mailer;

/// Shared application state; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub pool: Pool,
    pub clock: Arc<dyn Clock>,
    pub rules: Arc<RuleSet>,
    pub calendars: Arc<CalendarStore>,
    pub keys: Arc<JwtKeys>,
    /// The master keys of encryption at rest (documents and the child's identity).
    pub crypto: crate::crypto::Keyring,
    /// The partnership's bank holiday division.
    pub division: Division,
    /// The page templates (compiled in), with their filters.
    pub templates: Arc<tera::Tera>,
    /// The transport the delivery job sends through (`mail.transport`).
    pub mailer: Arc<dyn Mailer>,
    /// Where document files live (`documents.store`).
    pub documents: Arc<dyn crate::store::DocumentStore>,
    /// This instance's figures for `/metrics`.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Whether the database answers (requests fail fast with 503 while it does not).
    pub db_health: Arc<crate::db::health::DbHealth>,
    /// The writer that commits the audit entries of case reads together (group commit).
    pub read_audits: Arc<GroupCommit<ReadAudit>>,
    /// What was read of recently viewed cases, used while their revision holds.
    pub case_cache: Arc<crate::rev_cache::RevCache>,
    /// The address the server listens on, once bound (shared by every clone of the state).
    pub listening: Arc<std::sync::OnceLock<std::net::SocketAddr>>,
}

impl AppState {
    pub fn now(&self) -> NaiveDateTime {
        self.clock.now()
    }

    pub fn today(&self) -> NaiveDate {
        self.clock.today()
    }

    /// Commits the audit entry of a read together with those of concurrent reads, and
    /// returns once it is durable.
    pub async fn audit_read(&self, entry: ReadAudit) -> Result<(), AppError> {
        Ok(self.read_audits.submit(entry).await?)
    }

    /// Queues the audit entry of a read for the next group commit and returns at once, so that
    /// the answer is made while the entry is written; the caller awaits
    /// [`Queued::committed`](crate::db::group_commit::Queued::committed) before it answers.
    pub fn queue_read_audit(
        &self,
        entry: ReadAudit,
    ) -> Result<crate::db::group_commit::Queued, AppError> {
        Ok(self.read_audits.enqueue(entry)?)
    }

    /// The base of links in emails and feeds, without a trailing `/`: `service.base_url`, or
    /// the address the server listens on when it is not configured.
    pub fn base_url(&self) -> String {
        self.settings.base_url_for(self.listening.get().copied())
    }

    /// Runs blocking database work on the blocking thread pool, in the caller's tracing span
    /// (its log lines carry the request id). While the database is known to be down it fails
    /// at once with 503.
    pub async fn db<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection, &AppState) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        if self.db_health.is_down() {
            return Err(crate::db::DbError::Down.into());
        }
        let state = self.clone();
        let span = tracing::Span::current();
        actix_web::web::block(move || {
            let _entered = span.enter();
            state.metrics.pool_waiting.inc();
            let got = state.pool.get();
            state.metrics.pool_waiting.dec();
            let mut conn = got.map_err(|e| {
                // A timeout with a connection error behind it: the database is down (a pool
                // that is merely busy says "timed out waiting for connection" alone).
                if e.to_string() != "timed out waiting for connection" {
                    state.db_health.mark_down();
                }
                crate::db::DbError::Pool(e)
            })?;
            f(&mut conn, &state)
        })
        .await?
    }
}
