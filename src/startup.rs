//! Builds the whole application from settings: database, state, HTTP server.
//! Used by `serve` and by the integration tests, so both run the same code.

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::Settings;
use crate::db;
use crate::state::AppState;
use crate::web::{self, Running};

/// A built application: its shared state and its bound server (not yet awaited).
pub struct Application {
    pub state: AppState,
    pub running: Running,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Db(#[from] db::DbError),
    #[error("cannot listen on {bind}: {source}")]
    Bind {
        bind: String,
        source: std::io::Error,
    },
}

/// Opens the database (applying migrations) and assembles the shared state.
pub fn build_state(settings: Settings, clock: Arc<dyn Clock>) -> Result<AppState, StartError> {
    let pool = db::connect(&settings.database, settings.database_is_default())?;
    Ok(AppState::new(settings, pool, clock))
}

impl Application {
    /// Must be called inside an actix system (the server's workers are spawned on it).
    pub fn build(state: AppState, bind: &str) -> Result<Application, StartError> {
        let running = web::bind(state.clone(), bind).map_err(|source| StartError::Bind {
            bind: bind.to_string(),
            source,
        })?;
        Ok(Application { state, running })
    }
}
