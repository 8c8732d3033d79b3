//! The test harness: a real server on port 0, its own database, a clock the test controls.

#![allow(dead_code)]

pub mod accounts;
pub mod api;
pub mod browser;
pub mod db;
pub mod documents;
pub mod governance;
pub mod mail;
pub mod oidc;
pub mod pgproxy;
pub mod process;
pub mod s3;
pub mod smtp;
pub mod walk;

use std::sync::Arc;

use actix_web::dev::ServerHandle;
use chrono::NaiveDate;
use lcspr_tracker::clock::FixedClock;
use lcspr_tracker::config::{MailTransportKind, Settings};
use lcspr_tracker::startup::{build_state, Application};
use lcspr_tracker::state::AppState;

pub use db::TestDb;

pub struct TestApp {
    pub base: String,
    pub state: AppState,
    pub clock: FixedClock,
    pub client: awc::Client,
    handle: ServerHandle,
    // Dropped last: the database outlives the pool that uses it.
    _dir: tempfile::TempDir,
    pub db: TestDb,
}

/// Settings for a test: its own database and folders, mail captured in memory, jobs off
/// (tests run sweeps and deliveries themselves).
pub fn test_settings(db: &TestDb, dir: &std::path::Path) -> Settings {
    let mut s = Settings::defaults();
    s.database.url = db.url.clone();
    s.database.pool_size = 4;
    s.mail.transport = MailTransportKind::Memory;
    s.mail.outbox_dir = dir.join("outbox").to_string_lossy().into_owned();
    s.documents.dir = dir.join("documents").to_string_lossy().into_owned();
    s.jobs.enabled = false;
    s.server.workers = 2;
    // Tests move the clock over months; their API tokens outlive that.
    s.auth.token_ttl_minutes = 60 * 24 * 365 * 10;
    // Two-step verification is tested on its own (tests/it/mfa.rs, with the shipped roles);
    // elsewhere users sign in with a password alone.
    s.auth.mfa_required_roles = vec![];
    s.calendar.bank_holidays_file = "/nonexistent/bank-holidays.json".into();
    s.rules.file = "/nonexistent/rules.toml".into();
    // Encryption at rest: on SQLite the key is generated beside the test's database; on
    // PostgreSQL the database's own key file.
    if let Some(key) = db::key_file_for(&db.url) {
        s.security.master_key_file = key.to_string_lossy().into_owned();
    }
    // Reminders made due by a write go at once here; the grace period has its own tests
    // (tests/it/send_checks.rs).
    s.jobs.reminder_grace_minutes = 0;
    s
}

impl TestApp {
    /// Starts the app with a clock standing on `today`.
    pub async fn spawn_on(today: NaiveDate) -> TestApp {
        Self::spawn_with(today, |_| {}).await
    }

    pub async fn spawn() -> TestApp {
        Self::spawn_on(NaiveDate::from_ymd_opt(2026, 1, 5).unwrap()).await
    }

    pub async fn spawn_with(today: NaiveDate, adjust: impl FnOnce(&mut Settings)) -> TestApp {
        Self::spawn_full(FixedClock::on(today), None, adjust, |_| {}).await
    }

    /// With a given clock, optionally on a listener already bound (when the settings must
    /// name the app's own address); `inject` may replace parts of the state (a faulty
    /// document store) before the server starts.
    pub async fn spawn_full(
        clock: FixedClock,
        listener: Option<std::net::TcpListener>,
        adjust: impl FnOnce(&mut Settings),
        inject: impl FnOnce(&mut AppState),
    ) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = TestDb::create(dir.path());
        let mut settings = test_settings(&db, dir.path());
        adjust(&mut settings);
        Self::start(clock, listener, settings, inject, dir, db).await
    }

    async fn start(
        clock: FixedClock,
        listener: Option<std::net::TcpListener>,
        settings: Settings,
        inject: impl FnOnce(&mut AppState),
        dir: tempfile::TempDir,
        db: TestDb,
    ) -> TestApp {
        let mut state = build_state(settings, Arc::new(clock.clone())).expect("app state");
        inject(&mut state);
        let app = match listener {
            Some(l) => Application::build_on(state.clone(), l),
            None => Application::build(state.clone(), "127.0.0.1:0"),
        }
        .expect("bind");
        let base = format!("http://{}", app.running.addr);
        let handle = app.running.handle();
        actix_web::rt::spawn(app.running.server);
        TestApp {
            base,
            state,
            clock,
            client: test_client(),
            handle,
            _dir: dir,
            db,
        }
    }

    /// An instance on a database prepared elsewhere (an import), after `adjust`.
    pub async fn spawn_on_database(
        today: NaiveDate,
        db: TestDb,
        adjust: impl FnOnce(&mut Settings),
    ) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut settings = test_settings(&db, dir.path());
        adjust(&mut settings);
        Self::start(FixedClock::on(today), None, settings, |_| {}, dir, db).await
    }

    /// A second instance on the same database with the same settings (its own folder, pool,
    /// mailer and server), after `adjust`.
    pub async fn second_instance(&self, adjust: impl FnOnce(&mut Settings)) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut settings = (*self.state.settings).clone();
        settings.mail.outbox_dir = dir.path().join("outbox").to_string_lossy().into_owned();
        settings.documents.dir = dir.path().join("documents").to_string_lossy().into_owned();
        adjust(&mut settings);
        let db = TestDb::existing(&self.db.url);
        Self::start(self.clock.clone(), None, settings, |_| {}, dir, db).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str) -> (u16, String) {
        let mut resp = self
            .client
            .get(self.url(path))
            .send()
            .await
            .expect("request");
        let body = resp.body().limit(50_000_000).await.expect("body");
        (
            resp.status().as_u16(),
            String::from_utf8_lossy(&body).into_owned(),
        )
    }

    /// Stops the server and waits for in-flight requests.
    pub async fn stop(&self) {
        self.handle.stop(true).await;
    }
}

/// The tests' HTTP client. An idle connection is dropped after 2 s, before the server's 5 s
/// keep-alive closes it: on a loaded machine a test that spends longer than that between two
/// requests would otherwise send on a connection the server is closing (`Disconnected`).
/// Requests get 60 s, not awc's 5 s, for the same machines.
pub fn test_client() -> awc::Client {
    awc::Client::builder()
        .disable_redirects()
        .timeout(std::time::Duration::from_secs(60))
        .connector(awc::Connector::new().conn_keep_alive(std::time::Duration::from_secs(2)))
        .finish()
}
