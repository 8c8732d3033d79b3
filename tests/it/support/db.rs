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

    /// A handle on a database another test handle owns (it is not dropped by this one).
    pub fn existing(url: &str) -> TestDb {
        TestDb {
            url: url.to_string(),
            pg: None,
        }
    }

    /// A fresh PostgreSQL database even when the tests run on SQLite, for the tests that need
    /// PostgreSQL itself (a database outage, moving between backends): on the server in
    /// TEST_DATABASE_URL, else on `TEST_POSTGRES_SERVER`. Without either, the local server
    /// (postgres://postgres@127.0.0.1:5432) is tried, and when it does not answer the test says
    /// SKIPPED on the terminal and gets `None`; a server named by either variable must answer.
    pub fn postgres_or_skip(test: &str) -> Option<TestDb> {
        let named = pg_server().or_else(|| {
            std::env::var("TEST_POSTGRES_SERVER")
                .ok()
                .filter(|u| !u.is_empty())
        });
        let server = named
            .clone()
            .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432".into());
        let mut admin = match PgConnection::establish(&format!("{server}/postgres")) {
            Ok(c) => c,
            Err(e) if named.is_some() => {
                panic!("this test needs PostgreSQL ({server}; set TEST_POSTGRES_SERVER): {e}")
            }
            Err(_) => {
                use std::io::Write;
                let _ = writeln!(
                    std::io::stderr().lock(),
                    "SKIPPED {test}: needs PostgreSQL (none answers at {server}; set TEST_POSTGRES_SERVER=postgres://user@host:port)"
                );
                return None;
            }
        };
        let name = format!("lcspr_test_{}", uuid::Uuid::new_v4().simple());
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .expect("create test database");
        Some(TestDb {
            url: format!("{server}/{name}"),
            pg: Some((server, name)),
        })
    }

    /// A fresh SQLite database in `dir`, whatever the tests run on.
    pub fn create_sqlite(dir: &std::path::Path) -> TestDb {
        TestDb {
            url: format!("sqlite://{}", dir.join("test.db").display()),
            pg: None,
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.url.starts_with("postgres")
    }
}

/// The master key file of a test database on PostgreSQL (which requires one; on SQLite the
/// service generates `master.key` beside the database itself): one per database, in the
/// system's temporary folder, made on first use and removed with the database.
pub fn key_file_for(url: &str) -> Option<std::path::PathBuf> {
    if !url.starts_with("postgres") {
        return None;
    }
    let name = url.rsplit('/').next()?.split('?').next()?;
    let dir = std::env::temp_dir().join("lcspr-test-keys");
    let path = dir.join(format!("{name}.key"));
    if !path.exists() {
        let (bytes, _) = lcspr_tracker::crypto::MasterKey::generate();
        // Another test on the same database may have just written it.
        let _ = lcspr_tracker::crypto::write_key_file(&path, &bytes);
    }
    Some(path)
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(key) = self.pg.as_ref().and_then(|_| key_file_for(&self.url)) {
            let _ = std::fs::remove_file(key);
        }
        if let Some((server, name)) = &self.pg {
            if let Ok(mut admin) = PgConnection::establish(&format!("{server}/postgres")) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin);
            }
        }
    }
}
