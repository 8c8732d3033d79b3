//! The web interface's foundation: embedded assets, the HTML 404 in the GOV.UK design, the
//! security headers, and JSON answers kept under /api.

use awc::http::header::{HeaderMap, HeaderName};
use chrono::NaiveDate;

use crate::support::TestApp;

struct Answer {
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(HeaderName::from_bytes(name.as_bytes()).unwrap())
            .map(|v| v.to_str().unwrap())
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

async fn fetch(app: &TestApp, path: &str) -> Answer {
    let mut resp = app.client.get(app.url(path)).send().await.expect("request");
    let body = resp.body().limit(10_000_000).await.expect("body").to_vec();
    Answer {
        status: resp.status().as_u16(),
        headers: resp.headers().clone(),
        body,
    }
}

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; \
    base-uri 'none'; object-src 'none'";

fn assert_security_headers(a: &Answer, path: &str) {
    assert_eq!(a.header("content-security-policy"), Some(CSP), "{path}");
    assert_eq!(
        a.header("x-content-type-options"),
        Some("nosniff"),
        "{path}"
    );
    assert_eq!(a.header("referrer-policy"), Some("same-origin"), "{path}");
    assert_eq!(a.header("x-frame-options"), Some("DENY"), "{path}");
}

#[actix_web::test]
async fn stylesheets_and_scripts_are_served_from_the_binary_without_the_gov_uk_font() {
    let app = TestApp::spawn().await;
    for (path, content_type, needle) in [
        (
            "/static/govuk-frontend.min.css",
            "text/css; charset=utf-8",
            "govuk-",
        ),
        (
            "/static/moj-frontend.min.css",
            "text/css; charset=utf-8",
            ".moj-",
        ),
        (
            "/static/app.css",
            "text/css; charset=utf-8",
            ".app-sign-out",
        ),
        (
            "/static/govuk-frontend.min.js",
            "text/javascript; charset=utf-8",
            "initAll",
        ),
        (
            "/static/moj-frontend.min.js",
            "text/javascript; charset=utf-8",
            "initAll",
        ),
        (
            "/static/app.js",
            "text/javascript; charset=utf-8",
            "govuk-frontend-supported",
        ),
        (
            "/assets/manifest.json",
            "application/manifest+json",
            "icons",
        ),
    ] {
        let a = fetch(&app, path).await;
        assert_eq!(a.status, 200, "{path}");
        assert_eq!(a.header("content-type"), Some(content_type), "{path}");
        assert_eq!(
            a.header("cache-control"),
            Some("public, max-age=86400"),
            "{path}"
        );
        assert!(a.text().contains(needle), "{path} lacks {needle}");
        assert_security_headers(&a, path);
    }

    // GDS Transport is licensed only for gov.uk services: the stylesheet loads no font file
    // (its stacks fall back to Arial) and the font files are not served.
    let css = fetch(&app, "/static/govuk-frontend.min.css").await.text();
    assert!(
        !css.contains("@font-face"),
        "the stylesheet still loads a font"
    );
    assert!(!css.contains("/assets/fonts/"));
    assert!(css.contains("font-family:GDS Transport,arial,sans-serif"));

    for missing in [
        "/static/nope.css",
        "/assets/fonts/nope.woff2",
        "/static/../Cargo.toml",
    ] {
        let a = fetch(&app, missing).await;
        assert_eq!(a.status, 404, "{missing}");
    }
}

#[actix_web::test]
async fn an_unknown_page_is_the_html_404_in_the_service_design() {
    let app = TestApp::spawn().await;
    let a = fetch(&app, "/no-such-page?x=%3Cscript%3E").await;
    assert_eq!(a.status, 404);
    assert_eq!(a.header("content-type"), Some("text/html; charset=utf-8"));
    assert_security_headers(&a, "/no-such-page");
    assert_eq!(a.header("cache-control"), Some("no-store"));
    let html = a.text();
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(html.contains("<html lang=\"en-GB\" class=\"govuk-template\">"));
    assert!(html.contains("<body class=\"govuk-template__body\">"));
    assert!(html.contains("<title>Page not found – LCSPR Tracker</title>"));
    assert!(html.contains("class=\"govuk-service-navigation__link\">LCSPR Tracker</a>"));
    assert!(html.contains("<h1 class=\"govuk-heading-l\">Page not found</h1>"));
    assert!(html.contains("href=\"/static/govuk-frontend.min.css\""));
    assert!(html.contains("<script src=\"/static/app.js\"></script>"));
    // No inline script, nothing internal, no echo of the request.
    assert_eq!(html.matches("<script").count(), 1);
    for leak in [
        "no-such-page",
        "<script>",
        "tera",
        "actix",
        "src/",
        "panicked",
        "not_found",
    ] {
        assert!(!html.contains(leak), "the 404 page shows {leak:?}");
    }
    // Not signed in: no navigation and no sign-out.
    assert!(!html.contains("Sign out"));

    // Every other method is answered the same way.
    let resp = app
        .client
        .post(app.url("/no-such-form"))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status().as_u16(), 404);
}

#[actix_web::test]
async fn an_unknown_api_path_answers_json() {
    let app = TestApp::spawn().await;
    for path in ["/api/v1/no-such-thing", "/api"] {
        let a = fetch(&app, path).await;
        assert_eq!(a.status, 404, "{path}");
        assert_eq!(a.header("content-type"), Some("application/json"), "{path}");
        let body: serde_json::Value = serde_json::from_slice(&a.body).expect("JSON");
        // "not_found" from the default service; the API's own scope may say "no_route".
        let code = body["error"]["code"].as_str().unwrap_or_default();
        assert!(["not_found", "no_route"].contains(&code), "{path}: {body}");
        assert!(body["error"]["message"].is_string(), "{path}: {body}");
        assert_security_headers(&a, path);
    }
}

#[actix_web::test]
async fn hsts_only_when_the_service_is_https() {
    let app = TestApp::spawn().await;
    for path in ["/no-such-page", "/healthz", "/static/app.css"] {
        let a = fetch(&app, path).await;
        assert_eq!(a.header("strict-transport-security"), None, "{path}");
        assert_security_headers(&a, path);
    }
    app.stop().await;

    let day = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap();
    let https = TestApp::spawn_with(day, |s| {
        s.service.base_url = "https://lcspr.example".into();
    })
    .await;
    for path in ["/no-such-page", "/healthz", "/static/app.css"] {
        let a = fetch(&https, path).await;
        assert_eq!(
            a.header("strict-transport-security"),
            Some("max-age=31536000; includeSubDomains"),
            "{path}"
        );
        assert_security_headers(&a, path);
    }
}
