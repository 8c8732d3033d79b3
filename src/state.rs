//! What every request handler and job shares.

use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime};

use crate::calendars::CalendarStore;
use crate::clock::Clock;
use crate::config::Settings;
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
    /// The partnership's bank holiday division.
    pub division: Division,
    /// The page templates (compiled in), with their filters.
    pub templates: Arc<tera::Tera>,
    /// The transport the delivery job sends through (`mail.transport`).
    pub mailer: Arc<dyn Mailer>,
}

impl AppState {
    pub fn now(&self) -> NaiveDateTime {
        self.clock.now()
    }

    pub fn today(&self) -> NaiveDate {
        self.clock.today()
    }

    /// Runs blocking database work on the blocking thread pool.
    pub async fn db<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection, &AppState) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let state = self.clone();
        actix_web::web::block(move || {
            let mut conn = state.pool.get().map_err(crate::db::DbError::Pool)?;
            f(&mut conn, &state)
        })
        .await?
    }
}
