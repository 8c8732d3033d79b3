//! Database access: one connection type for SQLite and PostgreSQL (chosen by the URL scheme),
//! the r2d2 pool, embedded migrations, and the write-transaction helper.

pub mod fixed;
pub mod group_commit;
pub mod health;
pub mod models;
pub mod schema;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use diesel::connection::{
    AnsiTransactionManager, Instrumentation, InstrumentationEvent, SimpleConnection,
    TransactionManager,
};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::config::DatabaseSettings;

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// A connection to either backend. Queries written once against `schema.rs` run on both.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Sqlite(SqliteConnection),
    Pg(PgConnection),
}

pub type Pool = r2d2::Pool<ConnectionManager>;
/// A connection checked out of the pool; it dereferences to a [`DbConnection`].
pub type PooledConn = r2d2::PooledConnection<ConnectionManager>;

/// Which backend a URL names. A bare path is refused rather than silently creating a database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl DbUrl {
    pub fn parse(url: &str) -> Result<DbUrl, DbError> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(DbError::Config(
                    "database.url: sqlite:// needs a file path, e.g. sqlite://data/lcspr.db".into(),
                ));
            }
            Ok(DbUrl::Sqlite(PathBuf::from(path)))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(DbUrl::Postgres(url.to_string()))
        } else {
            Err(DbError::Config(
                "database.url must start with sqlite:// or postgres:// (a bare path is not accepted)"
                    .into(),
            ))
        }
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            DbUrl::Sqlite(_) => "sqlite",
            DbUrl::Postgres(_) => "postgres",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("{0}")]
    Config(String),
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    #[error("migrations failed: {0}")]
    Migration(String),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
    #[error("no database connection available: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("the database is not answering")]
    Down,
}

/// A query error that means "try again shortly" rather than a fault: the connection to the
/// database was lost, or SQLite's lock was still held when the busy timeout ran out.
pub fn is_unavailable(e: &diesel::result::Error) -> bool {
    use diesel::result::Error;
    is_lost(e)
        || matches!(e, Error::DatabaseError(_, info)
            if info.message().contains("database is locked")
                || info.message().contains("database table is locked"))
}

/// A query error that means the connection itself is gone (the server closed it, or it could
/// not be written to): the pool drops such a connection instead of handing it out again.
pub fn is_lost(e: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    match e {
        Error::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _,
        ) => true,
        Error::DatabaseError(_, info) => {
            let m = info.message();
            m.contains("server closed the connection") || m.contains("terminating connection")
        }
        _ => false,
    }
}

/// How long after a connection last answered `SELECT 1` the pool hands it out without asking
/// again. Asking on every check-out cost a round trip per request on PostgreSQL (two on a
/// page: the session, then the page's reads); a connection that is lost in between is seen by
/// the error of its next query ([`LostWatch`]) and dropped when it is returned.
pub const CHECKED_FOR: Duration = Duration::from_secs(1);

/// A pooled connection: the connection, when it last answered a check, and whether one of its
/// queries found it lost.
pub struct PoolConn {
    conn: DbConnection,
    checked_at: std::time::Instant,
    lost: Arc<AtomicBool>,
}

impl std::ops::Deref for PoolConn {
    type Target = DbConnection;
    fn deref(&self) -> &DbConnection {
        &self.conn
    }
}

impl std::ops::DerefMut for PoolConn {
    fn deref_mut(&mut self) -> &mut DbConnection {
        &mut self.conn
    }
}

/// Marks its connection lost when a query fails because the connection is gone.
struct LostWatch(Arc<AtomicBool>);

impl Instrumentation for LostWatch {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if let InstrumentationEvent::FinishQuery { error: Some(e), .. } = event {
            if is_lost(e) {
                self.0.store(true, Ordering::Relaxed);
            }
        }
    }
}

/// Each SQLite connection's page cache, in KiB (`PRAGMA cache_size` takes it negative).
const SQLITE_CACHE_KIB: i32 = -1024;

/// Opens connections for the pool, keeping the real connection error (the derived
/// `establish` of a MultiConnection throws it away) and applying SQLite's PRAGMAs.
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: DbUrl,
    busy_timeout_ms: u32,
}

impl ConnectionManager {
    pub fn new(settings: &DatabaseSettings) -> Result<ConnectionManager, DbError> {
        Ok(ConnectionManager {
            url: DbUrl::parse(&settings.url)?,
            busy_timeout_ms: settings.sqlite_busy_timeout_ms,
        })
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.url, DbUrl::Postgres(_))
    }

    pub fn connect(&self) -> Result<DbConnection, DbError> {
        match &self.url {
            DbUrl::Sqlite(path) => {
                let path_str = path.to_string_lossy();
                let mut conn = SqliteConnection::establish(&path_str)
                    .map_err(|e| DbError::Connect(e.to_string()))?;
                // WAL for concurrent readers, FULL sync because these are statutory records. A
                // page cache of 1 MB per connection instead of SQLite's 2 MB: each of the pool's
                // connections keeps its own copy of the same hot pages (the indexes' upper
                // levels), and the rest is in the system's file cache a read away.
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
                     PRAGMA cache_size = {SQLITE_CACHE_KIB};",
                    self.busy_timeout_ms
                ))
                .map_err(|e| DbError::Connect(e.to_string()))?;
                Ok(DbConnection::Sqlite(conn))
            }
            DbUrl::Postgres(url) => PgConnection::establish(&with_connect_timeout(url))
                .map(DbConnection::Pg)
                .map_err(|e| DbError::Connect(e.to_string())),
        }
    }
}

/// libpq waits for ever on a server that accepts the connection but never answers (a stopped
/// process, a dead network): without a `connect_timeout` in the URL, give up after 5 seconds,
/// so the pool recovers by itself when the server comes back.
fn with_connect_timeout(url: &str) -> String {
    if url.contains("connect_timeout=") {
        url.to_string()
    } else if url.contains('?') {
        format!("{url}&connect_timeout=5")
    } else {
        format!("{url}?connect_timeout=5")
    }
}

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = PoolConn;
    type Error = DbError;

    fn connect(&self) -> Result<PoolConn, DbError> {
        let mut conn = ConnectionManager::connect(self)?;
        let lost = Arc::new(AtomicBool::new(false));
        conn.set_instrumentation(LostWatch(lost.clone()));
        Ok(PoolConn {
            conn,
            checked_at: std::time::Instant::now(),
            lost,
        })
    }

    /// `SELECT 1`, unless the connection answered one less than [`CHECKED_FOR`] ago and no
    /// query has found it lost since.
    fn is_valid(&self, conn: &mut PoolConn) -> Result<(), DbError> {
        if conn.checked_at.elapsed() < CHECKED_FOR && !conn.lost.load(Ordering::Relaxed) {
            return Ok(());
        }
        conn.conn
            .batch_execute("SELECT 1")
            .map_err(DbError::Query)?;
        conn.checked_at = std::time::Instant::now();
        conn.lost.store(false, Ordering::Relaxed);
        Ok(())
    }

    fn has_broken(&self, conn: &mut PoolConn) -> bool {
        conn.lost.load(Ordering::Relaxed)
            || <DbConnection as Connection>::TransactionManager::is_broken_transaction_manager(
                &mut conn.conn,
            )
    }
}

/// Checks the URL, opens one connection (so a wrong URL fails here with its real cause),
/// applies pending migrations, and builds the pool.
pub fn connect(settings: &DatabaseSettings, create_parent: bool) -> Result<Pool, DbError> {
    let url = DbUrl::parse(&settings.url)?;
    if let DbUrl::Sqlite(path) = &url {
        let parent = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("."));
        if !parent.is_dir() {
            if create_parent {
                std::fs::create_dir_all(&parent).map_err(|e| {
                    DbError::Config(format!("cannot create {}: {e}", parent.display()))
                })?;
            } else {
                return Err(DbError::Config(format!(
                    "database.url: the folder {} does not exist (create it, or choose another path)",
                    parent.display()
                )));
            }
        }
    }
    let manager = ConnectionManager {
        url,
        busy_timeout_ms: settings.sqlite_busy_timeout_ms,
    };
    let mut first = manager.connect()?;
    run_migrations(&mut first)?;
    drop(first);
    r2d2::Pool::builder()
        .max_size(settings.pool_size)
        .connection_timeout(Duration::from_secs(settings.pool_timeout_secs))
        .build(manager)
        .map_err(DbError::Pool)
}

/// Applies every pending migration of the connection's backend.
pub fn run_migrations(conn: &mut DbConnection) -> Result<usize, DbError> {
    let applied = match conn {
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
        DbConnection::Pg(c) => c
            .run_pending_migrations(POSTGRES_MIGRATIONS)
            .map(|v| v.len()),
    }
    .map_err(|e| DbError::Migration(e.to_string()))?;
    if applied > 0 {
        tracing::info!(applied, "database migrations applied");
    }
    Ok(applied)
}

/// True when the database answers and no migration is pending.
pub fn is_ready(conn: &mut DbConnection) -> bool {
    let pending = match conn {
        DbConnection::Sqlite(c) => c.has_pending_migration(SQLITE_MIGRATIONS),
        DbConnection::Pg(c) => c.has_pending_migration(POSTGRES_MIGRATIONS),
    };
    matches!(pending, Ok(false))
}

impl DbConnection {
    pub fn is_postgres(&self) -> bool {
        matches!(self, DbConnection::Pg(_))
    }
}

/// Runs `f` in a write transaction. On SQLite the transaction starts with `BEGIN IMMEDIATE`,
/// taking the write lock up front, so two writers (two processes on one file) wait for each
/// other (`database.sqlite_busy_timeout_ms`) instead of one failing when it upgrades a read
/// lock. Every write goes through here, single statements included. Inside a transaction
/// already, `f` simply runs in it.
pub fn write_tx<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    if in_transaction(conn) {
        return f(conn);
    }
    // On SQLite this process's writers queue here, one at a time, for the file's write lock:
    // SQLite's busy handler polls rather than queues, so many writers of one process polling at
    // once can starve a writer of the other process past its busy timeout.
    let _turn = match conn {
        DbConnection::Sqlite(c) => {
            let turn = SQLITE_WRITERS.lock().unwrap_or_else(|p| p.into_inner());
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?;
            Some(turn)
        }
        DbConnection::Pg(c) => {
            AnsiTransactionManager::begin_transaction(c)?;
            None
        }
    };
    match f(conn) {
        Ok(value) => {
            <DbConnection as Connection>::TransactionManager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(e) => {
            // The original error matters more than a failed rollback.
            let _ = <DbConnection as Connection>::TransactionManager::rollback_transaction(conn);
            Err(e)
        }
    }
}

/// Keeps the query planner's statistics fresh, as the service's own work (no operator step):
/// on SQLite `ANALYZE` (bounded by `analysis_limit`) when there are no statistics yet, else
/// `PRAGMA optimize` (which re-analyses only what changed enough); on PostgreSQL `ANALYZE`
/// (what autovacuum does, for servers where it is off). The service's plans do not depend on
/// it (the indexes are chosen so that they need none), but other queries gain.
pub fn refresh_statistics(conn: &mut DbConnection) -> QueryResult<()> {
    match conn {
        DbConnection::Sqlite(_) => {
            #[derive(QueryableByName)]
            struct Count {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                n: i64,
            }
            let analysed = diesel::sql_query(
                "SELECT count(*) AS n FROM sqlite_master WHERE name = 'sqlite_stat1'",
            )
            .get_result::<Count>(conn)?
            .n > 0;
            write_tx(conn, |c| {
                c.batch_execute(if analysed {
                    "PRAGMA optimize = 0x10002"
                } else {
                    "PRAGMA analysis_limit = 1000; ANALYZE"
                })
            })
        }
        DbConnection::Pg(c) => c.batch_execute("ANALYZE"),
    }
}

/// The queue of this process's SQLite writers (see [`write_tx`]).
static SQLITE_WRITERS: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// True inside a transaction (and so, as no code opens one any other way, inside [`write_tx`]).
pub fn in_transaction(conn: &mut DbConnection) -> bool {
    matches!(
        <DbConnection as Connection>::TransactionManager::transaction_manager_status_mut(conn)
            .transaction_depth(),
        Ok(Some(_))
    )
}

/// The backend type of [`DbConnection`] (for boxed queries).
pub type DbBackend = <DbConnection as Connection>::Backend;
