//! Seeing inside: `/metrics` (request figures by route pattern and status, the outbox, the
//! deadlines, the pool) only for the allowed addresses or with the token; a request id on every
//! response, taken from a trusted proxy, and shown as the reference of a 500; a PostgreSQL
//! outage answered with 503 and Retry-After at once, and recovered from by itself.

use std::time::{Duration, Instant};

use serde_json::json;

use lcspr_tracker::domain::roles::Role;

use crate::support::browser::Browser;
use crate::support::db::TestDb;
use crate::support::documents::{appointed_case, pdf};
use crate::support::pgproxy::PgProxy;
use crate::support::TestApp;

async fn get_with(
    app: &TestApp,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, String, Option<String>) {
    let mut req = app.client.get(app.url(path));
    for (k, v) in headers {
        req = req.insert_header((*k, *v));
    }
    let mut resp = req.send().await.unwrap();
    let id = resp
        .headers()
        .get("x-request-id")
        .map(|v| v.to_str().unwrap().to_string());
    let body = resp.body().limit(5_000_000).await.unwrap();
    (
        resp.status().as_u16(),
        String::from_utf8_lossy(&body).into_owned(),
        id,
    )
}

/// The value of one sample line, e.g. `lcspr_outbox_messages{status="queued"}`.
fn sample(metrics: &str, name: &str) -> Option<f64> {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

#[actix_web::test]
async fn metrics_show_the_requests_the_outbox_and_the_deadlines() {
    let app = TestApp::spawn_on("2026-01-05".parse().unwrap()).await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let admin = app.user(Role::Admin, "Ada Admin").await;
    app.open_case(&pm, "2026-01-05", "Child M").await;
    for to in ["a@example.org", "b@example.org"] {
        let (status, _) = app
            .post_json(
                "/api/v1/admin/test-email",
                Some(&admin.token),
                json!({ "to": to }),
            )
            .await;
        assert_eq!(status, 202);
    }
    for _ in 0..3 {
        assert_eq!(app.get("/healthz").await.0, 200);
    }
    assert_eq!(app.get("/api/v1/cases/no-such-case").await.0, 401);
    let before = app.state.now();
    app.clock.set(before + chrono::Duration::seconds(90));

    let (status, m, _) = get_with(&app, "/metrics", &[]).await;
    assert_eq!(status, 200, "{m}");
    assert_eq!(
        sample(
            &m,
            "lcspr_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"}"
        ),
        Some(3.0),
        "{m}"
    );
    assert_eq!(
        sample(
            &m,
            "lcspr_http_requests_total{method=\"GET\",route=\"/api/v1/cases/{id}\",status=\"401\"}"
        ),
        Some(1.0),
        "counted by route pattern, not by path: {m}"
    );
    assert!(m.contains("lcspr_http_request_duration_seconds_bucket{method=\"GET\",route=\"/healthz\",status=\"200\",le=\"0.005\"}"));
    let queued = sample(&m, "lcspr_outbox_messages{status=\"queued\"}").unwrap();
    assert!(queued >= 2.0, "{m}");
    assert_eq!(
        sample(&m, "lcspr_outbox_messages{status=\"sent\"}"),
        Some(0.0)
    );
    assert_eq!(
        sample(&m, "lcspr_outbox_oldest_queued_age_seconds"),
        Some(90.0)
    );
    assert!(
        sample(&m, "lcspr_deadlines{status=\"pending\"}").unwrap() >= 2.0,
        "{m}"
    );
    assert_eq!(sample(&m, "lcspr_deadlines{status=\"missed\"}"), Some(0.0));
    assert_eq!(sample(&m, "lcspr_db_pool_waiting"), Some(0.0));
    assert!(sample(&m, "lcspr_db_pool_connections{state=\"idle\"}").is_some());
    assert_eq!(sample(&m, "lcspr_database_up"), Some(1.0));
    assert_eq!(
        sample(&m, "lcspr_orphan_files_removed_total{kind=\"partial\"}"),
        Some(0.0)
    );
    assert!(m.contains("lcspr_reminder_sweep_last_run_timestamp_seconds"));

    app.deliver().await;
    let (_, m, _) = get_with(&app, "/metrics", &[]).await;
    assert_eq!(
        sample(&m, "lcspr_outbox_messages{status=\"queued\"}"),
        Some(0.0)
    );
    assert_eq!(
        sample(&m, "lcspr_outbox_oldest_queued_age_seconds"),
        Some(0.0)
    );
    assert!(sample(&m, "lcspr_outbox_messages{status=\"sent\"}").unwrap() >= 2.0);
}

#[actix_web::test]
async fn metrics_are_only_for_allowed_addresses_or_the_token() {
    const TOKEN: &str = "a-long-random-metrics-token-0123456789";
    let app = TestApp::spawn_with("2026-01-05".parse().unwrap(), |s| {
        s.metrics.allowed_addresses = vec!["10.9.8.7".into()];
        s.metrics.token = TOKEN.into();
    })
    .await;
    assert_eq!(get_with(&app, "/metrics", &[]).await.0, 403);
    let wrong = format!("Bearer {TOKEN}x");
    assert_eq!(
        get_with(&app, "/metrics", &[("authorization", &wrong)])
            .await
            .0,
        403
    );
    let right = format!("Bearer {TOKEN}");
    let (status, body, _) = get_with(&app, "/metrics", &[("authorization", &right)]).await;
    assert_eq!(status, 200);
    assert!(body.contains("lcspr_http_requests_total"));
}

#[actix_web::test]
async fn every_response_has_a_request_id_and_a_500_shows_it() {
    let app = TestApp::spawn_on("2026-02-16".parse().unwrap()).await;
    let (_, _, a) = get_with(&app, "/healthz", &[]).await;
    let (_, _, b) = get_with(&app, "/healthz", &[("x-request-id", "from-the-client")]).await;
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.len(), 32);
    assert_ne!(a, b);
    assert_ne!(b, "from-the-client", "only a trusted proxy's id is taken");

    // A version whose stored file has gone: a 500, whose reference is the request id.
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let chair = app.user(Role::CoChair, "Chris Chair").await;
    let rev = app.user(Role::LeadReviewer, "Rae Reviewer").await;
    let case = appointed_case(&app, &pm, &chair, &rev).await;
    let bytes = pdf(5);
    let (status, up) = app
        .upload(
            &rev,
            &case,
            &[("kind", "draft_report"), ("title", "Draft")],
            Some(("d.pdf", &bytes)),
        )
        .await;
    assert_eq!(status, 201);
    let sha = up["document"]["versions"][0]["sha256"].as_str().unwrap();
    let doc = up["document"]["id"].as_str().unwrap();
    let dir = std::path::PathBuf::from(&app.state.settings.documents.dir);
    std::fs::remove_file(dir.join(&sha[..2]).join(sha)).unwrap();

    let mut resp = app
        .client
        .get(app.url(&format!("/api/v1/documents/{doc}/versions/1")))
        .bearer_auth(&pm.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 500);
    let id = resp
        .headers()
        .get("x-request-id")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["id"].as_str(), Some(id.as_str()));

    let browser = Browser::new(&app);
    browser.sign_in(&pm.email).await;
    let page = browser
        .get(&format!("/cases/{case}/documents/{doc}/versions/1"))
        .await;
    assert_eq!(page.status, 500);
    let id = page.header("x-request-id").unwrap().to_string();
    assert!(
        page.body
            .contains(&format!("quote the reference <strong>{id}</strong>")),
        "{}",
        page.main()
    );
}

#[actix_web::test]
async fn a_trusted_proxys_request_id_is_kept() {
    let app = TestApp::spawn_with("2026-01-05".parse().unwrap(), |s| {
        s.server.trusted_proxies = vec!["127.0.0.1".into()];
    })
    .await;
    let (_, _, id) = get_with(&app, "/healthz", &[("x-request-id", "lb-7f3a-0001")]).await;
    assert_eq!(id.as_deref(), Some("lb-7f3a-0001"));
    let (_, _, id) = get_with(&app, "/healthz", &[("x-request-id", "not ok")]).await;
    assert_ne!(id.as_deref(), Some("not ok"));
}

#[actix_web::test]
async fn a_postgresql_outage_is_answered_at_once_and_recovered_from() {
    let Some(pg) = TestDb::postgres_or_skip(
        "ops_observability::a_postgresql_outage_is_answered_at_once_and_recovered_from",
    ) else {
        return;
    };
    let authority = pg
        .url
        .split("://")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap();
    let target = authority.rsplit('@').next().unwrap().to_string();
    let proxy = PgProxy::start(&target).await;
    let proxied = pg.url.replacen(&target, &proxy.addr.to_string(), 1);
    let key = crate::support::db::key_file_for(&pg.url).expect("a key on PostgreSQL");
    let app = TestApp::spawn_with("2026-01-05".parse().unwrap(), |s| {
        s.database.url = proxied.clone();
        s.security.master_key_file = key.display().to_string();
    })
    .await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let (status, _) = app.get_json("/api/v1/cases", Some(&pm.token)).await;
    assert_eq!(status, 200);

    proxy.cut();
    let started = Instant::now();
    let (status, _, _) = get_with(&app, "/readyz", &[]).await;
    assert_eq!(status, 503);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "readyz took {:?}",
        started.elapsed()
    );
    // Once the monitor has seen it, every request fails at once.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !app.state.db_health.is_down() {
        assert!(Instant::now() < deadline, "the outage was not noticed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for path in ["/api/v1/cases", "/readyz"] {
        let started = Instant::now();
        let mut resp = app
            .client
            .get(app.url(path))
            .bearer_auth(&pm.token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 503, "{path}");
        assert_eq!(resp.headers().get("retry-after").unwrap(), "5");
        assert!(
            started.elapsed() < Duration::from_millis(300),
            "{path} took {:?}",
            started.elapsed()
        );
        let _ = resp.body().await;
    }
    let (_, m, _) = get_with(&app, "/metrics", &[]).await;
    assert!(m.contains("lcspr_database_up 0"), "{m}");

    proxy.restore().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if get_with(&app, "/readyz", &[]).await.0 == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "did not recover by itself");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, _) = app.get_json("/api/v1/cases", Some(&pm.token)).await;
    assert_eq!(status, 200);
}
