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
    assert_eq!(
        full,
        sqlite_up_down_up(),
        "the two migration trees must stay equivalent"
    );
    drop(conn);
}
