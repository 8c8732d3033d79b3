//! Every migration goes up, down and up again, on SQLite and (with TEST_DATABASE_URL) PostgreSQL;
//! and both migration trees produce the same tables and columns.

use std::collections::BTreeMap;

use diesel::prelude::*;
use diesel::{PgConnection, SqliteConnection};
use diesel_migrations::MigrationHarness;
use lcspr_tracker::db::{POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};

use crate::support::db::{postgres_or_skip, TestDb};

#[derive(QueryableByName)]
struct Col {
    #[diesel(sql_type = diesel::sql_types::Text)]
    table_name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    column_name: String,
}

type Tables = BTreeMap<String, Vec<String>>;

fn collect(cols: Vec<Col>) -> Tables {
    let mut t = Tables::new();
    for c in cols
        .into_iter()
        .filter(|c| !c.table_name.starts_with("__diesel"))
    {
        t.entry(c.table_name).or_default().push(c.column_name);
    }
    for v in t.values_mut() {
        v.sort();
    }
    t
}

fn sqlite_tables(conn: &mut SqliteConnection) -> Tables {
    collect(
        diesel::sql_query(
            "SELECT m.name AS table_name, p.name AS column_name \
             FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'",
        )
        .load(conn)
        .unwrap(),
    )
}

fn pg_tables(conn: &mut PgConnection) -> Tables {
    collect(
        diesel::sql_query(
            "SELECT table_name::text AS table_name, column_name::text AS column_name \
             FROM information_schema.columns WHERE table_schema = 'public'",
        )
        .load(conn)
        .unwrap(),
    )
}

fn sqlite_up_down_up() -> Tables {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = SqliteConnection::establish(&dir.path().join("m.db").to_string_lossy()).unwrap();
    let n = conn
        .run_pending_migrations(SQLITE_MIGRATIONS)
        .unwrap()
        .len();
    assert!(n >= 1);
    let full = sqlite_tables(&mut conn);
    assert!(full.contains_key("cases"));
    conn.revert_all_migrations(SQLITE_MIGRATIONS).unwrap();
    assert!(
        sqlite_tables(&mut conn).is_empty(),
        "down.sql must remove every table"
    );
    assert_eq!(
        conn.run_pending_migrations(SQLITE_MIGRATIONS)
            .unwrap()
            .len(),
        n
    );
    assert_eq!(sqlite_tables(&mut conn), full);
    full
}

#[test]
fn sqlite_migrations_go_up_down_and_up_again() {
    sqlite_up_down_up();
}

/// The tables of a case whose changes move its revision: what the service keeps of a case in
/// memory (`rev_cache`) is read from them. `document_versions` belongs to a case through its
/// document.
const KEPT: &[&str] = &[
    "case_events",
    "case_people",
    "case_themes",
    "deadlines",
    "document_versions",
    "documents",
    "meeting_agenda",
];
/// The tables of a case that a case's page reads on every request or never shows.
const NOT_KEPT: &[&str] = &["audit_log", "decisions", "meeting_minutes", "outbox"];

#[derive(QueryableByName, PartialEq, Eq, PartialOrd, Ord, Debug)]
struct Trigger {
    #[diesel(sql_type = diesel::sql_types::Text)]
    table_name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    operation: String,
}

/// Every table of a case is either kept (its inserts, updates and deletes move the case's
/// revision) or not kept; a new table must say which. And a change of a person's name or
/// account moves `users_rev`.
fn check_revision_triggers(tables: &Tables, mut triggers: Vec<Trigger>) {
    let of_a_case: Vec<&str> = tables
        .iter()
        .filter(|(name, cols)| {
            cols.iter().any(|c| c == "case_id") || name.as_str() == "document_versions"
        })
        .map(|(name, _)| name.as_str())
        .collect();
    let mut said: Vec<&str> = KEPT.iter().chain(NOT_KEPT).copied().collect();
    said.sort();
    assert_eq!(
        of_a_case, said,
        "a table of a case must be kept or not kept"
    );
    triggers.sort();
    triggers.dedup();
    let mut wanted: Vec<Trigger> = KEPT
        .iter()
        .flat_map(|t| {
            ["DELETE", "INSERT", "UPDATE"].map(|op| Trigger {
                table_name: t.to_string(),
                operation: op.into(),
            })
        })
        .collect();
    wanted.push(Trigger {
        table_name: "users".into(),
        operation: "UPDATE".into(),
    });
    wanted.sort();
    assert_eq!(triggers, wanted);
}

#[test]
fn every_table_of_a_case_moves_its_revision_or_is_read_each_time() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = SqliteConnection::establish(&dir.path().join("t.db").to_string_lossy()).unwrap();
    conn.run_pending_migrations(SQLITE_MIGRATIONS).unwrap();
    let triggers: Vec<Trigger> = diesel::sql_query(
        "SELECT tbl_name AS table_name, \
         CASE WHEN sql LIKE '%AFTER INSERT%' THEN 'INSERT' \
              WHEN sql LIKE '%AFTER DELETE%' THEN 'DELETE' ELSE 'UPDATE' END AS operation \
         FROM sqlite_master WHERE type = 'trigger'",
    )
    .load(&mut conn)
    .unwrap();
    check_revision_triggers(&sqlite_tables(&mut conn), triggers);
}

#[test]
fn postgres_migrations_go_up_down_and_up_again_and_match_sqlite() {
    // The PostgreSQL half runs in .ci/run with TEST_DATABASE_URL set.
    if postgres_or_skip("postgres_migrations_go_up_down_and_up_again_and_match_sqlite").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::create(dir.path());
    let mut conn = PgConnection::establish(&db.url).unwrap();
    let n = conn
        .run_pending_migrations(POSTGRES_MIGRATIONS)
        .unwrap()
        .len();
    let full = pg_tables(&mut conn);
    conn.revert_all_migrations(POSTGRES_MIGRATIONS).unwrap();
    assert!(
        pg_tables(&mut conn).is_empty(),
        "down.sql must remove every table"
    );
    assert_eq!(
        conn.run_pending_migrations(POSTGRES_MIGRATIONS)
            .unwrap()
            .len(),
        n
    );
    assert_eq!(pg_tables(&mut conn), full);
    let triggers: Vec<Trigger> = diesel::sql_query(
        "SELECT event_object_table::text AS table_name, event_manipulation::text AS operation \
         FROM information_schema.triggers WHERE trigger_schema = 'public'",
    )
    .load(&mut conn)
    .unwrap();
    check_revision_triggers(&full, triggers);
    assert_eq!(
        full,
        sqlite_up_down_up(),
        "the two migration trees must stay equivalent"
    );
    drop(conn);
}
