//! Builds the whole application from settings: database, rules, calendar, keys, HTTP server.
//! Used by `serve`, the other subcommands and the integration tests, so all run the same code.

use std::sync::Arc;

use crate::calendars::CalendarStore;
use crate::clock::Clock;
use crate::config::Settings;
use crate::db;
use crate::domain::rules::{RuleSet, SHIPPED_RULES};
use crate::keys::JwtKeys;
use crate::state::AppState;
use crate::web::{self, Running};

/// A built application: its shared state, its bound server (not yet awaited) and, when
/// `jobs.enabled`, the background jobs (stop them once the server has stopped).
pub struct Application {
    pub state: AppState,
    pub running: Running,
    pub jobs: Option<crate::jobs::JobsHandle>,
    /// The database monitor, the document store cleanup and the statistics refresh (they end
    /// with the process).
    pub monitors: Vec<tokio::task::JoinHandle<()>>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Db(#[from] db::DbError),
    #[error("{0}")]
    Config(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("cannot listen on {bind}: {source}")]
    Bind {
        bind: String,
        source: std::io::Error,
    },
}

/// The rules from `rules.file` when it exists, else the copy compiled in.
pub fn load_rules(settings: &Settings) -> Result<RuleSet, StartError> {
    let path = std::path::Path::new(&settings.rules.file);
    let (text, origin) = if path.exists() {
        let text = std::fs::read_to_string(path)
            .map_err(|e| StartError::Config(format!("{}: {e}", path.display())))?;
        (text, path.display().to_string())
    } else {
        (SHIPPED_RULES.to_string(), "built-in rules".to_string())
    };
    RuleSet::parse(&text).map_err(|e| StartError::Config(format!("{origin}: {e}")))
}

/// Opens the database (applying migrations) and assembles the shared state.
pub fn build_state(settings: Settings, clock: Arc<dyn Clock>) -> Result<AppState, StartError> {
    let rules = load_rules(&settings)?;
    let division = settings
        .partnership
        .division
        .parse()
        .map_err(|e| StartError::Config(format!("key `partnership.division`: {e}")))?;
    let calendars = CalendarStore::from_settings(&settings).map_err(StartError::Config)?;
    let mailer = crate::mail::from_settings(&settings.mail).map_err(StartError::Config)?;
    let inner_store = crate::store::from_settings(&settings.documents)?;
    let pool = db::connect(&settings.database, settings.database_is_default())?;
    // After the database opened: a SQLite database's folder must exist before a key is made
    // beside it.
    let crypto = crate::crypto::load(&settings).map_err(|e| StartError::Config(e.to_string()))?;
    let documents: Arc<dyn crate::store::DocumentStore> = Arc::new(
        crate::store::EncryptedStore::new(inner_store, crypto.clone()),
    );
    let db_health = Arc::new(db::health::DbHealth::new(db::ConnectionManager::new(
        &settings.database,
    )?));
    let mut conn = pool.get().map_err(db::DbError::Pool)?;
    let keys =
        JwtKeys::load(&settings.auth, &mut conn).map_err(|e| StartError::Config(e.to_string()))?;
    let sealed = crate::app::identity::seal_plaintext_rows(&mut conn, &crypto).map_err(|e| {
        StartError::Config(format!(
            "encrypting the identity fields written before: {e}"
        ))
    })?;
    if sealed > 0 {
        tracing::info!(
            cases = sealed,
            "encrypted the child's identity in cases written before encryption at rest"
        );
    }
    drop(conn);
    let read_audits = db::group_commit::GroupCommit::start(
        "read-audits",
        db::ConnectionManager::new(&settings.database)?,
        {
            let mut appender = crate::app::audit::ReadAppender::default();
            move |c: &mut db::DbConnection, reads| appender.append(c, reads)
        },
    )
    .map_err(|e| StartError::Config(format!("cannot start the audit writer: {e}")))?;
    let templates =
        web::templates::try_build().map_err(|e| StartError::Config(format!("templates: {e:?}")))?;
    let case_cache = Arc::new(crate::rev_cache::RevCache::new(
        settings.database.case_cache_mb.saturating_mul(1 << 20),
    ));
    Ok(AppState {
        case_cache,
        settings: Arc::new(settings),
        pool,
        clock,
        rules: Arc::new(rules),
        calendars: Arc::new(calendars),
        keys: Arc::new(keys),
        crypto,
        division,
        templates: Arc::new(templates),
        mailer,
        documents,
        metrics: Arc::new(crate::metrics::Metrics::new()),
        db_health,
        read_audits: Arc::new(read_audits),
        listening: Arc::default(),
    })
}

impl Application {
    /// As [`Application::build`], serving on a listener already bound.
    pub fn build_on(
        state: AppState,
        listener: std::net::TcpListener,
    ) -> Result<Application, StartError> {
        let bind = listener
            .local_addr()
            .map_or_else(|_| "listener".to_string(), |a| a.to_string());
        let running = web::listen(state.clone(), listener)
            .map_err(|source| StartError::Bind { bind, source })?;
        Ok(Self::with_jobs(state, running))
    }

    /// Must be called inside an actix system (the server's workers, and the background jobs when
    /// `jobs.enabled`, are spawned on it).
    pub fn build(state: AppState, bind: &str) -> Result<Application, StartError> {
        let running = web::bind(state.clone(), bind).map_err(|source| StartError::Bind {
            bind: bind.to_string(),
            source,
        })?;
        Ok(Self::with_jobs(state, running))
    }

    /// The background jobs (when `jobs.enabled`), the database monitor and the store clean-up.
    /// Links follow the address now bound unless `service.base_url` is set.
    fn with_jobs(state: AppState, running: web::Running) -> Application {
        let _ = state.listening.set(running.addr);
        let jobs = state
            .settings
            .jobs
            .enabled
            .then(|| crate::jobs::spawn(state.clone()));
        let monitors = vec![
            state.db_health.spawn_monitor(),
            crate::jobs::spawn_cleanup(state.clone()),
            crate::jobs::spawn_statistics(state.clone()),
        ];
        Application {
            state,
            running,
            jobs,
            monitors,
        }
    }
}
