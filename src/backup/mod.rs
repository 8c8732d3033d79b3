//! Backup, restore and the move between backends: `lcspr-tracker export --to FILE` writes a
//! consistent, versioned archive of every table and every document version while the service
//! runs; `lcspr-tracker import --from FILE` loads one into an empty database of either backend,
//! checking every table's checksum, every document's SHA-256 and the audit chain before it
//! commits.
//!
//! The archive is a gzipped tar: `manifest.json` first (format, version, schema version, each
//! table's row count and SHA-256, each document's SHA-256 and size), then `tables/<name>.jsonl`
//! (one JSON object a row, in [`TABLES`] order), then `documents/<sha256>`, each sealed under the
//! master key as in the document store (`crypto::stream`; the manifest's SHA-256 and size are the
//! plaintext's). The child's identity is sealed in the rows already, so the archive holds no
//! identity and no document in clear, and it imports only where the same master key is
//! configured (an archive of plain documents, written before, still imports).

mod export;
mod import;

pub use export::export;
pub use import::{import, Imported};

use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::db::models::*;
use crate::db::{schema, DbConnection};

/// The archive format's name and version (bumped when the layout changes).
pub const FORMAT: &str = "lcspr-tracker-export";
pub const FORMAT_VERSION: u32 = 1;

/// What an archive holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub format_version: u32,
    /// The last migration applied to the database exported; an archive imports into a binary
    /// with the same schema.
    pub schema_version: String,
    pub app_version: String,
    pub source_backend: String,
    pub created_at: chrono::NaiveDateTime,
    pub tables: Vec<TableEntry>,
    pub documents: Vec<DocumentEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TableEntry {
    pub name: String,
    pub rows: u64,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DocumentEntry {
    pub sha256: String,
    pub size: u64,
}

/// An export or import failure, worded for the operator.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BackupError(pub String);

impl BackupError {
    pub fn new(m: impl std::fmt::Display) -> Self {
        BackupError(m.to_string())
    }
}

impl From<diesel::result::Error> for BackupError {
    fn from(e: diesel::result::Error) -> Self {
        BackupError(format!("database: {e}"))
    }
}

impl From<std::io::Error> for BackupError {
    fn from(e: std::io::Error) -> Self {
        BackupError(e.to_string())
    }
}

impl From<crate::store::StoreError> for BackupError {
    fn from(e: crate::store::StoreError) -> Self {
        BackupError(e.to_string())
    }
}

/// Receives each table's rows as JSON objects.
pub trait RowSink {
    fn row(&mut self, row: serde_json::Value) -> Result<(), BackupError>;
}

fn to_sink<R: Serialize>(rows: Vec<R>, sink: &mut dyn RowSink) -> Result<u64, BackupError> {
    let n = rows.len() as u64;
    for r in rows {
        sink.row(serde_json::to_value(r).map_err(BackupError::new)?)?;
    }
    Ok(n)
}

fn insert_one<R, T>(conn: &mut DbConnection, table: T, line: &str) -> Result<(), BackupError>
where
    R: serde::de::DeserializeOwned + Insertable<T>,
    T: diesel::Table + Copy,
    diesel::query_builder::InsertStatement<T, <R as Insertable<T>>::Values>:
        diesel::query_dsl::methods::ExecuteDsl<DbConnection>,
{
    let row: R = serde_json::from_str(line).map_err(BackupError::new)?;
    diesel::insert_into(table).values(row).execute(conn)?;
    Ok(())
}

/// Every table, each with the row type it is read and written as, in an order that keeps
/// foreign keys satisfied on import. A new table is one line here (its row type derives
/// `Selectable`, `Insertable`, `Serialize` and `Deserialize`); `tests/it/ops_backup.rs` fails
/// while a table in the database is missing from this list.
macro_rules! tables {
    ($( $table:ident => $row:ty ),* $(,)?) => {
        /// The tables an archive holds, in import order.
        pub const TABLES: &[&str] = &[$( stringify!($table) ),*];

        /// Reads one table (all its rows, ordered by primary key) into `sink`.
        pub fn read_table(conn: &mut DbConnection, name: &str, sink: &mut dyn RowSink) -> Result<u64, BackupError> {
            match name {
                $( stringify!($table) => {
                    let rows: Vec<$row> = schema::$table::table
                        .order(schema::$table::table.primary_key())
                        .select(<$row>::as_select())
                        .load(conn)?;
                    to_sink(rows, sink)
                } )*
                other => Err(BackupError(format!("unknown table {other}"))),
            }
        }

        /// Inserts one row (a line of `tables/<name>.jsonl`).
        pub fn insert_row(conn: &mut DbConnection, name: &str, line: &str) -> Result<(), BackupError> {
            match name {
                $( stringify!($table) => insert_one::<$row, _>(conn, schema::$table::table, line), )*
                other => Err(BackupError(format!("unknown table {other}"))),
            }
        }

        /// Rows in one table.
        pub fn count_rows(conn: &mut DbConnection, name: &str) -> Result<i64, BackupError> {
            match name {
                $( stringify!($table) => Ok(schema::$table::table.count().get_result(conn)?), )*
                other => Err(BackupError(format!("unknown table {other}"))),
            }
        }
    };
}

tables! {
    agencies => AgencyRow,
    users => UserRow,
    settings => SettingRow,
    auth_tokens => TokenRow,
    login_failures => LoginFailureRow,
    setup_tokens => SetupTokenRow,
    case_counters => CaseCounterRow,
    cases => CaseRow,
    case_events => EventRow,
    case_people => CasePersonRow,
    case_themes => CaseThemeRow,
    deadlines => DeadlineRow,
    calendar_days => CalendarDayRow,
    audit_log => AuditRow,
    outbox => OutboxRow,
    form_submissions => FormSubmissionRow,
    documents => DocumentRow,
    document_versions => VersionRow,
    user_mfa => UserMfaRow,
    recovery_codes => RecoveryCodeRow,
    one_time_links => OneTimeLinkRow,
    oidc_identities => OidcIdentityRow,
    sign_in_flows => SignInFlowRow,
    body_members => BodyMemberRow,
    meetings => MeetingRow,
    meeting_attendance => AttendanceRow,
    meeting_guests => GuestRow,
    meeting_deputies => NamedDeputyRow,
    meeting_agenda => AgendaRow,
    meeting_minutes => MinutesRow,
    meeting_papers => PaperRow,
    decisions => DecisionRow,
    decision_votes => DecisionVoteRow,
    decision_conflicts => DecisionConflictRow,
    key_rotations => KeyRotationRow,
}

/// The tables in the database (the migrations' bookkeeping aside), for the coverage check.
pub fn database_tables(conn: &mut DbConnection) -> Result<Vec<String>, BackupError> {
    #[derive(QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
    }
    let sql = match conn {
        DbConnection::Sqlite(_) => "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '__diesel_schema_migrations'",
        DbConnection::Pg(_) => "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> '__diesel_schema_migrations'",
    };
    let mut names: Vec<String> = diesel::sql_query(sql)
        .load::<Name>(conn)?
        .into_iter()
        .map(|n| n.name)
        .collect();
    names.sort();
    Ok(names)
}

/// The newest migration applied to this database.
pub fn schema_version(conn: &mut DbConnection) -> Result<String, BackupError> {
    #[derive(QueryableByName)]
    struct V {
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        version: Option<String>,
    }
    let v: V = diesel::sql_query("SELECT MAX(version) AS version FROM __diesel_schema_migrations")
        .get_result(conn)?;
    v.version
        .ok_or_else(|| BackupError::new("the database has no migrations applied"))
}
