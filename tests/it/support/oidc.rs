//! A real OpenID Connect provider for the single sign-on tests: the `oidc-provider` package
//! (pinned in tests/oidc/package-lock.json, installed here with `npm ci` when missing) run with
//! Node on a loopback port, and a browser that follows redirects between it and the app,
//! keeping each site's cookies.

use std::collections::{BTreeMap, HashMap};
use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;

use chrono::Utc;
use lcspr_tracker::clock::FixedClock;

use super::TestApp;

pub const CLIENT_ID: &str = "lcspr-tracker";
pub const CLIENT_SECRET: &str = "the-test-client-secret";

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/oidc")
}

/// `npm ci` in tests/oidc, once per lock file.
fn install() {
    static DONE: Mutex<bool> = Mutex::new(false);
    let mut done = DONE.lock().unwrap_or_else(|e| e.into_inner());
    if *done {
        return;
    }
    let lock =
        std::fs::read(dir().join("package-lock.json")).expect("tests/oidc/package-lock.json");
    let stamp = dir().join("node_modules/.lcspr-installed-lock");
    if std::fs::read(&stamp).ok() != Some(lock.clone()) {
        let npm = std::env::var("NPM").unwrap_or_else(|_| "npm".into());
        let status = Command::new(npm)
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(dir())
            .status()
            .expect("npm runs (Node.js with npm is needed by the build and the tests)");
        assert!(status.success(), "npm ci in tests/oidc failed");
        std::fs::write(&stamp, &lock).expect("stamp");
    }
    *done = true;
}

/// The provider, stopped when dropped.
pub struct Provider {
    child: Child,
    pub issuer: String,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Provider {
    /// Starts a provider whose one client redirects to `redirect_uri`.
    pub fn start(redirect_uri: &str) -> Provider {
        install();
        let mut child = Command::new(std::env::var("NODE").unwrap_or_else(|_| "node".into()))
            .arg("provider.mjs")
            .args([redirect_uri, CLIENT_ID, CLIENT_SECRET])
            .current_dir(dir())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node runs");
        let mut line = String::new();
        let mut out = std::io::BufReader::new(child.stdout.take().expect("stdout"));
        out.read_line(&mut line)
            .expect("the provider says where it listens");
        // Keep reading what it prints (warnings): a closed pipe would stop it.
        std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
        let v: serde_json::Value = serde_json::from_str(line.trim())
            .unwrap_or_else(|e| panic!("provider output {line:?}: {e}"));
        Provider {
            child,
            issuer: v["issuer"].as_str().expect("issuer").to_string(),
        }
    }

    async fn control(&self, path: &str, body: serde_json::Value) {
        let resp = awc::Client::default()
            .post(format!("{}{path}", self.issuer))
            .send_json(&body)
            .await
            .expect("provider control");
        assert!(resp.status().is_success());
    }

    /// The next person the provider signs in.
    pub async fn login_as(&self, sub: &str, email: &str, verified: bool) {
        let body = serde_json::json!({ "sub": sub, "email": email, "email_verified": verified });
        self.control("/__test/login", body).await;
    }

    /// Makes the next ID token wrong: "audience", "expired" or "nonce".
    pub async fn tamper(&self, mode: &str) {
        self.control("/__test/tamper", serde_json::json!({ "mode": mode }))
            .await;
    }
}

/// The app on a known address with single sign-on to a fresh provider, on a clock at the real
/// time (the provider's tokens carry it).
pub async fn spawn(
    adjust: impl FnOnce(&mut lcspr_tracker::config::Settings),
) -> (TestApp, Provider) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", listener.local_addr().unwrap());
    let provider = Provider::start(&format!("{base}/sign-in/sso/callback"));
    let issuer = provider.issuer.clone();
    let clock = FixedClock::new(Utc::now().naive_utc());
    let app = TestApp::spawn_full(
        clock,
        Some(listener),
        |s| {
            s.service.base_url = base;
            s.auth.oidc.issuer = issuer;
            s.auth.oidc.client_id = CLIENT_ID.into();
            s.auth.oidc.client_secret = CLIENT_SECRET.into();
            adjust(s);
        },
        |_| {},
    )
    .await;
    (app, provider)
}

/// One response.
#[derive(Debug)]
pub struct Hop {
    pub url: String,
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
}

/// A browser for more than one site: cookies kept per host and port, redirects followed on
/// request.
#[derive(Default)]
pub struct Agent {
    jars: Mutex<HashMap<String, BTreeMap<String, String>>>,
}

fn origin(url: &url::Url) -> String {
    format!(
        "{}:{}",
        url.host_str().unwrap_or(""),
        url.port_or_known_default().unwrap_or(0)
    )
}

impl Agent {
    pub fn cookie(&self, url: &str, name: &str) -> Option<String> {
        let url = url::Url::parse(url).unwrap();
        self.jars
            .lock()
            .unwrap()
            .get(&origin(&url))?
            .get(name)
            .cloned()
    }

    /// One GET, keeping the cookies it sets.
    pub async fn get(&self, url: &str) -> Hop {
        let parsed = url::Url::parse(url).expect("absolute URL");
        let key = origin(&parsed);
        let cookies = self
            .jars
            .lock()
            .unwrap()
            .get(&key)
            .map(|jar| {
                jar.iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default();
        let client = super::test_client();
        let mut req = client.get(url);
        if !cookies.is_empty() {
            req = req.insert_header(("cookie", cookies));
        }
        let mut resp = req.send().await.expect("request");
        let body = resp.body().limit(10_000_000).await.expect("body");
        for c in resp
            .headers()
            .get_all("set-cookie")
            .filter_map(|v| v.to_str().ok())
        {
            let pair = c.split(';').next().unwrap_or("");
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let mut jars = self.jars.lock().unwrap();
            let jar = jars.entry(key.clone()).or_default();
            if value.is_empty()
                || c.to_ascii_lowercase().contains("max-age=0")
                || c.contains("expires=Thu, 01 Jan 1970")
            {
                jar.remove(name);
            } else {
                jar.insert(name.to_string(), value.to_string());
            }
        }
        let location = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(|l| parsed.join(l).expect("location").to_string());
        Hop {
            url: url.to_string(),
            status: resp.status().as_u16(),
            location,
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    }

    /// Follows redirects from `url` until a response that is not one, or until the next hop
    /// would be `stop_at` (returned unvisited as the last hop's location).
    pub async fn follow(&self, url: &str, stop_at: Option<&str>) -> Hop {
        let mut next = url.to_string();
        for _ in 0..20 {
            let hop = self.get(&next).await;
            match &hop.location {
                Some(l) if (300..400).contains(&hop.status) => {
                    if stop_at.is_some_and(|s| l.starts_with(s)) {
                        return hop;
                    }
                    next = l.clone();
                }
                _ => return hop,
            }
        }
        panic!("too many redirects from {url}");
    }
}
