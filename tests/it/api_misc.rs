//! The OpenAPI document, the calendar endpoint, calendar changes moving pending deadlines.

use serde_json::json;

use lcspr_tracker::app::calendar::{self, Change, NewDay};
use lcspr_tracker::domain::calendar::{DayKind, Division};
use lcspr_tracker::domain::roles::Role;

use crate::support::api::deadline;
use crate::support::TestApp;

#[actix_web::test]
async fn openapi_document_matches_the_routes() {
    let app = TestApp::spawn().await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let (status, doc) = app.get_json("/api/v1/openapi.json", None).await;
    assert_eq!(status, 200, "public, no token");
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for required in [
        "/api/v1/auth/token",
        "/api/v1/cases",
        "/api/v1/cases/{id}",
        "/api/v1/cases/{id}/events",
        "/api/v1/cases/{id}/deadlines",
        "/api/v1/cases/{id}/audit",
        "/api/v1/calendar/working-days",
        "/api/v1/users",
        "/api/v1/me/reminders",
        "/api/v1/me/feed",
        "/api/v1/admin/outbox",
        "/api/v1/admin/outbox/{id}/retry",
        "/api/v1/admin/test-email",
    ] {
        assert!(paths.contains_key(required), "{required} undocumented");
    }
    // Every documented operation is routed (an unrouted one answers code "no_route"), and every
    // $ref resolves.
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for (path, ops) in paths {
        for (method, op) in ops.as_object().unwrap() {
            let url = app.url(&path.replace("{id}", "no-such-case"));
            let req = match method.as_str() {
                "get" => app.client.get(url),
                "post" => app.client.post(url),
                "put" => app.client.put(url),
                "patch" => app.client.patch(url),
                "delete" => app.client.delete(url),
                m => panic!("unexpected method {m}"),
            };
            let mut resp = req
                .bearer_auth(&pm.token)
                .insert_header(("content-type", "application/json"))
                .send_body("{}")
                .await
                .unwrap();
            let body: serde_json::Value =
                serde_json::from_slice(&resp.body().await.unwrap()).unwrap_or_default();
            assert_ne!(
                body["error"]["code"], "no_route",
                "{method} {path} is documented but not routed"
            );
            assert!(
                op["summary"].is_string() && op["responses"].is_object(),
                "{method} {path}"
            );
            for r in op.to_string().match_indices("#/components/schemas/") {
                let name: String = op.to_string()[r.0 + 21..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric())
                    .collect();
                assert!(
                    schemas.contains_key(&name),
                    "{method} {path}: unresolved schema {name}"
                );
            }
        }
    }
    let (_, body) = app.get_json("/api/v1/nothing-here", Some(&pm.token)).await;
    assert_eq!(body["error"]["code"], "no_route");
}

#[actix_web::test]
async fn working_days_endpoint() {
    let app = TestApp::spawn().await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let (status, body) = app
        .get_json(
            "/api/v1/calendar/working-days?from=2025-12-29&days=15",
            Some(&pm.token),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["date"], "2026-01-20");
    assert!(body["explanation"]["text"]
        .as_str()
        .unwrap()
        .contains("New Year’s Day"));
    assert_eq!(
        body["explanation"]["reckoning"]["skipped"][0]["date"],
        "2026-01-01"
    );
    let (_, back) = app
        .get_json(
            "/api/v1/calendar/working-days?from=2026-01-06&days=-7",
            Some(&pm.token),
        )
        .await;
    assert_eq!(back["date"], "2025-12-23");
    // Scotland keeps 2 January.
    let (_, scot) = app
        .get_json(
            "/api/v1/calendar/working-days?from=2025-12-31&days=1&division=scotland",
            Some(&pm.token),
        )
        .await;
    assert_eq!(scot["date"], "2026-01-05");
    for (q, field) in [
        ("days=5", "from"),
        ("from=2026-13-01&days=5", "from"),
        ("from=2026-01-01", "days"),
        ("from=2026-01-01&days=x", "days"),
        ("from=2026-01-01&days=1&division=wales", "division"),
    ] {
        let (status, err) = app
            .get_json(
                &format!("/api/v1/calendar/working-days?{q}"),
                Some(&pm.token),
            )
            .await;
        assert_eq!(status, 400, "{q}");
        assert_eq!(err["error"]["field"], field, "{q}");
    }
    let (status, _) = app
        .get_json(
            "/api/v1/calendar/working-days?from=2025-12-29&days=15",
            None,
        )
        .await;
    assert_eq!(status, 401);
}

#[actix_web::test]
async fn a_proclaimed_holiday_moves_pending_deadlines_but_not_met_ones() {
    let app = TestApp::spawn_on("2026-06-09".parse().unwrap()).await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    // Aware Tue 9 Jun 2026: SIN and partners both due Tue 16 Jun.
    let case = app.open_case(&pm, "2026-06-09", "Child P").await;
    let id = case["id"].as_str().unwrap().to_string();
    assert_eq!(deadline(&case, "sin_submission")["due_on"], "2026-06-16");
    app.ok_event(
        &pm,
        &id,
        json!({"type": "partners_informed", "occurred_on": "2026-06-09"}),
    )
    .await;

    let change = Change::AddDay(NewDay {
        division: Some(Division::EnglandAndWales),
        date: "2026-06-15".parse().unwrap(),
        title: "Bank holiday for a state occasion".into(),
        kind: DayKind::Proclaimed,
    });
    let c2 = change.clone();
    let preview = app
        .state
        .db(move |c, st| calendar::preview(c, st, &c2))
        .await
        .unwrap();
    assert_eq!(preview.len(), 1, "{preview:?}");
    assert_eq!(
        (
            preview[0].rule.as_str(),
            preview[0].from.to_string(),
            preview[0].to.to_string()
        ),
        ("sin_submission", "2026-06-16".into(), "2026-06-17".into())
    );
    // The preview changed nothing.
    let (_, same) = app
        .get_json(&format!("/api/v1/cases/{id}"), Some(&pm.token))
        .await;
    assert_eq!(deadline(&same, "sin_submission")["due_on"], "2026-06-16");

    let moved = app
        .state
        .db(move |c, st| calendar::apply(c, st, None, &change))
        .await
        .unwrap();
    assert_eq!(moved, preview);
    let (_, after) = app
        .get_json(&format!("/api/v1/cases/{id}"), Some(&pm.token))
        .await;
    let sin = deadline(&after, "sin_submission");
    assert_eq!(sin["due_on"], "2026-06-17");
    assert!(sin["explanation"]["text"]
        .as_str()
        .unwrap()
        .contains("Bank holiday for a state occasion"));
    // Met before the change: it keeps its date.
    assert_eq!(
        deadline(&after, "partners_informed")["due_on"],
        "2026-06-16"
    );
    assert_eq!(deadline(&after, "partners_informed")["status"], "met");
    let (_, trail) = app
        .get_json(&format!("/api/v1/cases/{id}/audit"), Some(&pm.token))
        .await;
    assert!(trail
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["action"] == "deadlines_moved_by_calendar"));
}
