//! What every request handler and job shares.

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::Settings;
use crate::db::{DbConnection, Pool};
use crate::error::AppError;

/// Shared application state; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub pool: Pool,
    pub clock: Arc<dyn Clock>,
}

impl AppState {
    pub fn new(settings: Settings, pool: Pool, clock: Arc<dyn Clock>) -> Self {
        AppState {
            settings: Arc::new(settings),
            pool,
            clock,
        }
    }

    /// Runs blocking database work on the blocking thread pool.
    pub async fn db<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        actix_web::web::block(move || {
            let mut conn = pool.get().map_err(crate::db::DbError::Pool)?;
            f(&mut conn)
        })
        .await?
    }
}
