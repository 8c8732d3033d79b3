//! A fresh database per test: SQLite in a temp folder, or a new PostgreSQL database when
//! TEST_DATABASE_URL names a server (dropped again when the test ends).

use diesel::prelude::*;
use diesel::PgConnection;

pub struct TestDb {
    pub url: String,
    pg: Option<(String, String)>,
}

/// The PostgreSQL server under test, if any (the URL without a database name).
pub fn pg_server() -> Option<String> {
    let url = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())?;
    assert!(
        url.starts_with("postgres://") || url.starts_with("postgresql://"),
        "TEST_DATABASE_URL must be a postgres:// server URL"
    );
    // Keep scheme://user@host:port, drop any database path or query.
    let (scheme, rest) = url.split_once("://").unwrap();
    let authority = rest.split(['/', '?']).next().unwrap_or(rest);
    Some(format!("{scheme}://{authority}"))
}

/// For a test that only means something on PostgreSQL: the server, or `None` after saying on
/// the terminal that the test was skipped (written past the test harness's capture, so a run
/// without TEST_DATABASE_URL shows it rather than a silent pass).
pub fn postgres_or_skip(test: &str) -> Option<String> {
    let server = pg_server();
    if server.is_none() {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr().lock(),
            "SKIPPED {test}: needs PostgreSQL (set TEST_DATABASE_URL=postgres://user@host:port)"
        );
    }
    server
}

impl TestDb {
    pub fn create(dir: &std::path::Path) -> TestDb {
        match pg_server() {
            Some(server) => {
                let name = format!("lcspr_test_{}", uuid::Uuid::new_v4().simple());
                let mut admin = PgConnection::establish(&format!("{server}/postgres"))
                    .expect("connect to the PostgreSQL server in TEST_DATABASE_URL");
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .expect("create test database");
                TestDb {
                    url: format!("{server}/{name}"),
                    pg: Some((server, name)),
                }
            }
            None => TestDb {
                url: format!("sqlite://{}", dir.join("test.db").display()),
                pg: None,
            },
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.pg.is_some()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((server, name)) = &self.pg {
            if let Ok(mut admin) = PgConnection::establish(&format!("{server}/postgres")) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin);
            }
        }
    }
}
