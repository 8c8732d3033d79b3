//! The real binary as a server process (`lcspr-tracker serve`), for the tests that need
//! several processes, signals or the log output.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct ServerProcess {
    pub child: Child,
    pub base: String,
    /// Every line written to stderr so far.
    pub log: Arc<Mutex<Vec<String>>>,
    _config: tempfile::TempDir,
}

impl ServerProcess {
    /// Starts `serve --bind 127.0.0.1:0` with these environment variables (no config files)
    /// and waits until it listens.
    pub fn start(env: &[(&str, String)]) -> ServerProcess {
        let config = tempfile::tempdir().unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_lcspr-tracker"));
        cmd.args(["serve", "--bind", "127.0.0.1:0"])
            .current_dir(config.path())
            .env("LCSPR_CONFIG_DIR", config.path())
            .env("RUST_LOG", "info")
            .env(
                "LCSPR__CALENDAR__BANK_HOLIDAYS_FILE",
                "/nonexistent/bank-holidays.json",
            )
            .env("LCSPR__RULES__FILE", "/nonexistent/rules.toml")
            // The test users sign in with a password alone.
            .env("LCSPR__AUTH__MFA_REQUIRED_ROLES", "[]")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        with_master_key(&mut cmd, env);
        let mut child = cmd.spawn().expect("start lcspr-tracker serve");
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let lines = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(i) = line.find("listening on http://") {
                    let rest = &line[i + "listening on ".len()..];
                    let url: String = rest
                        .chars()
                        .take_while(|c| !c.is_whitespace() && *c != '"')
                        .collect();
                    let _ = tx.send(url);
                }
                lines.lock().unwrap().push(line);
            }
        });
        let base = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "the server did not start:\n{}",
                    log.lock().unwrap().join("\n")
                );
            }
        };
        ServerProcess {
            child,
            base,
            log,
            _config: config,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends a signal by name (TERM, KILL) through the shell's `kill`.
    pub fn signal(&self, name: &str) {
        let status = Command::new("sh")
            .args(["-c", &format!("kill -{name} {}", self.pid())])
            .status()
            .unwrap();
        assert!(status.success(), "kill -{name}");
    }

    /// Waits for the process to exit (without blocking the test's runtime, where the mail
    /// server may be running); its exit code and how long it took, or None on timeout.
    pub async fn wait_exit(&mut self, limit: Duration) -> Option<(Option<i32>, Duration)> {
        let started = Instant::now();
        while started.elapsed() < limit {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some((status.code(), started.elapsed()));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        None
    }

    pub fn log_lines(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a one-off command of the binary against `db_url`; its exit code, stdout and stderr.
pub fn run_cli(
    db_url: &str,
    args: &[&str],
    stdin: Option<&str>,
    env: &[(&str, String)],
) -> (i32, String, String) {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lcspr-tracker"));
    cmd.args(args)
        .current_dir(dir.path())
        .env("DATABASE_URL", db_url)
        .env("LCSPR_CONFIG_DIR", dir.path())
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut with_url = env.to_vec();
    with_url.push(("DATABASE_URL", db_url.to_string()));
    with_master_key(&mut cmd, &with_url);
    let mut child = cmd.spawn().unwrap();
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Adds a user with a password (`PASSWORD`) straight into the database, as the other tests'
/// users are: `user add` invites by email instead, and no password ever passes through it.
pub fn add_user(db_url: &str, email: &str, name: &str, role: &str) {
    use lcspr_tracker::app::users::{self, NewUserInput};
    let settings = lcspr_tracker::config::DatabaseSettings {
        url: db_url.to_string(),
        pool_size: 1,
        pool_timeout_secs: 10,
        sqlite_busy_timeout_ms: 5000,
        case_cache_mb: 0,
    };
    let pool = lcspr_tracker::db::connect(&settings, false).expect("database");
    let mut conn = pool.get().expect("connection");
    users::add(
        &mut conn,
        None,
        chrono::Utc::now().naive_utc(),
        NewUserInput {
            email: email.into(),
            name: name.into(),
            role: role.parse().expect("role"),
            agency: Some("Test agency".into()),
            password_hash: super::api::password_hash().to_string(),
        },
    )
    .expect("add user");
}

/// On PostgreSQL, the database's master key file (unless the test names one).
fn with_master_key(cmd: &mut Command, env: &[(&str, String)]) {
    if env
        .iter()
        .any(|(k, _)| *k == "LCSPR__SECURITY__MASTER_KEY_FILE")
    {
        return;
    }
    let url = env
        .iter()
        .find(|(k, _)| *k == "DATABASE_URL" || *k == "LCSPR__DATABASE__URL")
        .map(|(_, v)| v.as_str());
    if let Some(key) = url.and_then(super::db::key_file_for) {
        cmd.env("LCSPR__SECURITY__MASTER_KEY_FILE", key);
    }
}
