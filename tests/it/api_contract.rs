//! The API contract: the generated OpenAPI document describes what the running server answers.
//! A journey of requests through every kind of operation (cases, events, corrections, the
//! outbox, governance, reports, errors), each answer validated against the document's schema
//! for its status (JSON Schema 2020-12, formats checked); and the document's own shape: every
//! operation answers the errors of its kind, no bare object schemas, one schema per event type.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use lcspr_tracker::domain::events::{EventType, RECORDED_BY_SERVICE};
use lcspr_tracker::domain::roles::Role;

use crate::support::api::User;
use crate::support::TestApp;

/// The document, and a validator for each answer.
struct Contract {
    doc: Value,
    seen: BTreeSet<String>,
}

impl Contract {
    async fn fetch(app: &TestApp) -> Contract {
        let (status, doc) = app.get_json("/api/v1/openapi.json", None).await;
        assert_eq!(status, 200);
        Contract {
            doc,
            seen: BTreeSet::new(),
        }
    }

    /// The schema of `method path` answering `status` with JSON.
    fn schema(&self, method: &str, path: &str, status: u16) -> Value {
        let op = &self.doc["paths"][path][method];
        assert!(op.is_object(), "{method} {path} is not documented");
        let answer = &op["responses"][status.to_string()];
        assert!(
            answer.is_object(),
            "{method} {path} answered {status}, which is not documented"
        );
        let schema = answer["content"]["application/json"]["schema"].clone();
        assert!(
            !schema.is_null(),
            "{method} {path} {status}: no JSON schema"
        );
        schema
    }

    /// Validates `body` as the answer of `method path` with `status`; panics with every error.
    fn check(&mut self, method: &str, path: &str, status: u16, body: &Value) {
        let errors = self.errors(method, path, status, body);
        assert!(
            errors.is_empty(),
            "{method} {path} {status} does not match the document:\n{}\n{body:#}",
            errors.join("\n")
        );
        self.seen.insert(format!("{method} {path} {status}"));
    }

    fn errors(&self, method: &str, path: &str, status: u16, body: &Value) -> Vec<String> {
        let root = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "components": self.doc["components"],
            "allOf": [self.schema(method, path, status)],
        });
        let validator = jsonschema::draft202012::options()
            .should_validate_formats(true)
            .build(&root)
            .expect("the schema compiles");
        validator
            .iter_errors(body)
            .map(|e| format!("  at {}: {e}", e.instance_path()))
            .collect()
    }
}

/// Sends a request and returns (status, JSON body or null).
async fn call(
    app: &TestApp,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let url = app.url(path);
    let mut req = match method {
        "get" => app.client.get(url),
        "post" => app.client.post(url),
        "put" => app.client.put(url),
        "patch" => app.client.patch(url),
        "delete" => app.client.delete(url),
        m => panic!("{m}"),
    };
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let mut resp = match body {
        Some(b) => req.send_json(&b).await,
        None => req.send().await,
    }
    .expect("request");
    let bytes = resp.body().limit(50_000_000).await.expect("body");
    let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (resp.status().as_u16(), value)
}

/// Calls and validates: the answer must be `expect` and match the document.
async fn checked(
    app: &TestApp,
    c: &mut Contract,
    (method, template, path): (&str, &str, &str),
    token: Option<&User>,
    body: Option<Value>,
    expect: u16,
) -> Value {
    let (status, answer) = call(app, method, path, token.map(|u| u.token.as_str()), body).await;
    assert_eq!(status, expect, "{method} {path}: {answer}");
    c.check(method, template, status, &answer);
    answer
}

/// A GET that answers 200, checked against the document.
async fn read(app: &TestApp, c: &mut Contract, user: &User, template: &str, path: &str) -> Value {
    checked(app, c, ("get", template, path), Some(user), None, 200).await
}

fn is_rfc3339_utc(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| s.ends_with('Z') && chrono::DateTime::parse_from_rfc3339(s).is_ok())
}

#[actix_web::test]
async fn real_answers_match_the_generated_document() {
    let app = TestApp::spawn().await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let admin = app.user(Role::Admin, "Ada Admin").await;
    let board = app.user(Role::BoardMember, "Bo Board").await;
    let mut c = Contract::fetch(&app).await;

    // Signing in.
    let token = checked(
        &app,
        &mut c,
        ("post", "/api/v1/auth/token", "/api/v1/auth/token"),
        None,
        Some(json!({ "email": pm.email, "password": crate::support::api::PASSWORD })),
        200,
    )
    .await;
    assert!(is_rfc3339_utc(&token["expires_at"]), "{token}");
    checked(
        &app,
        &mut c,
        ("post", "/api/v1/auth/token", "/api/v1/auth/token"),
        None,
        Some(json!({ "email": pm.email, "password": "wrong" })),
        401,
    )
    .await;
    checked(
        &app,
        &mut c,
        ("post", "/api/v1/auth/token", "/api/v1/auth/token"),
        None,
        Some(json!({ "email": "" })),
        422,
    )
    .await;

    // A case, its events, a correction and a void.
    let case = checked(&app, &mut c, ("post", "/api/v1/cases", "/api/v1/cases"), Some(&pm),
        Some(json!({ "child_pseudonym": "Child Q", "aware_on": "2026-01-02", "incident_on": "2026-01-01",
            "harm": "death", "looked_after": false, "summary": "Test", "child_name": "Real Name", "child_dob": "2015-03-04" })), 201).await;
    assert!(is_rfc3339_utc(&case["created_at"]), "{case}");
    let id = case["id"].as_str().unwrap().to_string();
    let one = |p: &str| p.replace("{id}", &id);
    checked(
        &app,
        &mut c,
        ("get", "/api/v1/cases/{id}", &one("/api/v1/cases/{id}")),
        Some(&pm),
        None,
        200,
    )
    .await;
    read(
        &app,
        &mut c,
        &pm,
        "/api/v1/cases",
        "/api/v1/cases?sort=reference&order=desc&per_page=10",
    )
    .await;
    checked(
        &app,
        &mut c,
        ("get", "/api/v1/cases", "/api/v1/cases?stage=nowhere"),
        Some(&pm),
        None,
        400,
    )
    .await;
    checked(
        &app,
        &mut c,
        ("get", "/api/v1/cases", "/api/v1/cases?page=0"),
        Some(&pm),
        None,
        422,
    )
    .await;
    checked(
        &app,
        &mut c,
        ("get", "/api/v1/cases", "/api/v1/cases"),
        None,
        None,
        401,
    )
    .await;
    let recorded = checked(&app, &mut c, ("post", "/api/v1/cases/{id}/events", &one("/api/v1/cases/{id}/events")), Some(&pm),
        Some(json!({ "type": "sin_submitted", "occurred_on": "2026-01-05", "ofsted_reference": "OF-1" })), 201).await;
    assert!(
        is_rfc3339_utc(&recorded["event"]["recorded_at"]),
        "{recorded}"
    );
    checked(
        &app,
        &mut c,
        (
            "post",
            "/api/v1/cases/{id}/events",
            &one("/api/v1/cases/{id}/events"),
        ),
        Some(&pm),
        Some(json!({ "type": "partners_informed", "occurred_on": "2026-01-05", "note": "Told" })),
        201,
    )
    .await;
    checked(&app, &mut c, ("post", "/api/v1/cases/{id}/events", &one("/api/v1/cases/{id}/events")), Some(&pm),
        Some(json!({ "type": "rapid_review_sent", "occurred_on": "2026-01-05", "decision": "maybe" })), 422).await;
    checked(
        &app,
        &mut c,
        (
            "post",
            "/api/v1/cases/{id}/events",
            "/api/v1/cases/no-such-case/events",
        ),
        Some(&pm),
        Some(json!({ "type": "sin_submitted", "occurred_on": "2026-01-05" })),
        404,
    )
    .await;
    let event_id = recorded["event"]["id"].as_str().unwrap().to_string();
    let ev = |p: &str| one(p).replace("{event_id}", &event_id);
    let corrected = checked(
        &app,
        &mut c,
        (
            "post",
            "/api/v1/cases/{id}/events/{event_id}/correct",
            &ev("/api/v1/cases/{id}/events/{event_id}/correct"),
        ),
        Some(&pm),
        Some(json!({ "reason": "Typo in the reference", "ofsted_reference": "OF-2" })),
        201,
    )
    .await;
    assert_eq!(
        corrected["event"]["correction_reason"],
        "Typo in the reference"
    );
    assert!(
        is_rfc3339_utc(&corrected["event"]["recorded_at"]),
        "{corrected}"
    );
    let newest = corrected["event"]["id"].as_str().unwrap().to_string();
    let (status, partners) = call(
        &app,
        "get",
        &one("/api/v1/cases/{id}"),
        Some(&pm.token),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let partners_id = partners["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "partners_informed")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    const VOID: &str = "/api/v1/cases/{id}/events/{event_id}/void";
    let void_newest = one(VOID).replace("{event_id}", &newest);
    checked(
        &app,
        &mut c,
        ("post", VOID, &one(VOID).replace("{event_id}", &partners_id)),
        Some(&pm),
        Some(json!({ "reason": "Recorded on the wrong case" })),
        200,
    )
    .await;
    checked(
        &app,
        &mut c,
        ("post", VOID, &void_newest),
        Some(&pm),
        Some(json!({})),
        422,
    )
    .await;
    // A field the schema does not list is refused (naming it), not ignored.
    let voided = checked(
        &app,
        &mut c,
        ("post", VOID, &void_newest),
        Some(&pm),
        Some(json!({ "reason": "Wrong case", "occurred_on": "2026-01-01" })),
        422,
    )
    .await;
    assert!(voided.to_string().contains("occurred_on"), "{voided}");
    checked(
        &app,
        &mut c,
        ("patch", "/api/v1/cases/{id}", &one("/api/v1/cases/{id}")),
        Some(&pm),
        Some(json!({ "reason": "Clearer summary", "summary": "A clearer summary" })),
        200,
    )
    .await;
    checked(
        &app,
        &mut c,
        (
            "get",
            "/api/v1/cases/{id}/deadlines",
            &one("/api/v1/cases/{id}/deadlines"),
        ),
        Some(&pm),
        None,
        200,
    )
    .await;
    let trail = checked(
        &app,
        &mut c,
        (
            "get",
            "/api/v1/cases/{id}/audit",
            &one("/api/v1/cases/{id}/audit"),
        ),
        Some(&pm),
        None,
        200,
    )
    .await;
    assert!(trail
        .as_array()
        .unwrap()
        .iter()
        .all(|e| is_rfc3339_utc(&e["at"])));
    checked(
        &app,
        &mut c,
        (
            "get",
            "/api/v1/cases/{id}/audit",
            &one("/api/v1/cases/{id}/audit"),
        ),
        Some(&board),
        None,
        403,
    )
    .await;
    checked(
        &app,
        &mut c,
        (
            "get",
            "/api/v1/cases/{id}/documents",
            &one("/api/v1/cases/{id}/documents"),
        ),
        Some(&pm),
        None,
        200,
    )
    .await;
    checked(
        &app,
        &mut c,
        (
            "get",
            "/api/v1/cases/{id}/meetings",
            &one("/api/v1/cases/{id}/meetings"),
        ),
        Some(&pm),
        None,
        200,
    )
    .await;

    // The outbox: timestamps with their zone; cancelled is a status.
    let queued = checked(
        &app,
        &mut c,
        (
            "post",
            "/api/v1/admin/test-email",
            "/api/v1/admin/test-email",
        ),
        Some(&admin),
        Some(json!({ "to": "someone@example.org" })),
        202,
    )
    .await;
    for field in ["created_at", "next_attempt_at"] {
        assert!(is_rfc3339_utc(&queued[field]), "{field}: {queued}");
    }
    let outbox = checked(
        &app,
        &mut c,
        ("get", "/api/v1/admin/outbox", "/api/v1/admin/outbox"),
        Some(&admin),
        None,
        200,
    )
    .await;
    assert!(outbox["counts"]["cancelled"].is_i64(), "{outbox}");
    read(
        &app,
        &mut c,
        &admin,
        "/api/v1/admin/outbox",
        "/api/v1/admin/outbox?status=cancelled",
    )
    .await;
    checked(
        &app,
        &mut c,
        (
            "get",
            "/api/v1/admin/outbox",
            "/api/v1/admin/outbox?status=lost",
        ),
        Some(&admin),
        None,
        400,
    )
    .await;
    checked(
        &app,
        &mut c,
        ("get", "/api/v1/admin/outbox", "/api/v1/admin/outbox"),
        Some(&pm),
        None,
        403,
    )
    .await;
    let message = format!("/api/v1/admin/outbox/{}", queued["id"].as_str().unwrap());
    read(&app, &mut c, &admin, "/api/v1/admin/outbox/{id}", &message).await;

    // People, agencies, the user's own settings, the calendar.
    read(&app, &mut c, &admin, "/api/v1/users", "/api/v1/users").await;
    checked(&app, &mut c, ("post", "/api/v1/users", "/api/v1/users"), Some(&admin),
        Some(json!({ "email": "new.person@example.org", "name": "New Person", "role": "lead_reviewer" })), 201).await;
    read(&app, &mut c, &pm, "/api/v1/agencies", "/api/v1/agencies").await;
    read(
        &app,
        &mut c,
        &pm,
        "/api/v1/me/reminders",
        "/api/v1/me/reminders",
    )
    .await;
    checked(
        &app,
        &mut c,
        ("put", "/api/v1/me/reminders", "/api/v1/me/reminders"),
        Some(&pm),
        Some(json!({ "mode": "daily" })),
        200,
    )
    .await;
    checked(
        &app,
        &mut c,
        ("post", "/api/v1/me/feed", "/api/v1/me/feed"),
        Some(&pm),
        None,
        201,
    )
    .await;
    read(
        &app,
        &mut c,
        &pm,
        "/api/v1/calendar/working-days",
        "/api/v1/calendar/working-days?from=2025-12-29&days=15",
    )
    .await;
    read(
        &app,
        &mut c,
        &pm,
        "/api/v1/bodies/{body}/members",
        "/api/v1/bodies/subgroup/members",
    )
    .await;

    // Governance: a meeting with the case on its agenda.
    let meeting = checked(&app, &mut c, ("post", "/api/v1/meetings", "/api/v1/meetings"), Some(&pm),
        Some(json!({ "body": "subgroup", "title": "Sub-Group, January", "scheduled_for": "2026-01-20T10:00" })), 201).await;
    let mid = meeting["id"].as_str().unwrap().to_string();
    checked(
        &app,
        &mut c,
        (
            "post",
            "/api/v1/meetings/{id}/agenda",
            &format!("/api/v1/meetings/{mid}/agenda"),
        ),
        Some(&pm),
        Some(json!({ "case_id": id })),
        201,
    )
    .await;
    read(
        &app,
        &mut c,
        &pm,
        "/api/v1/meetings/{id}",
        &format!("/api/v1/meetings/{mid}"),
    )
    .await;
    read(
        &app,
        &mut c,
        &pm,
        "/api/v1/meetings",
        "/api/v1/meetings?body=subgroup",
    )
    .await;

    // Reports.
    read(
        &app,
        &mut c,
        &pm,
        "/api/v1/reports/annual",
        "/api/v1/reports/annual?year=2025",
    )
    .await;
    read(
        &app,
        &mut c,
        &pm,
        "/api/v1/reports/board",
        "/api/v1/reports/board",
    )
    .await;
    read(
        &app,
        &mut c,
        &pm,
        "/api/v1/reports/actions",
        "/api/v1/reports/actions",
    )
    .await;

    // Errors of every kind, in the error shape.
    checked(
        &app,
        &mut c,
        ("get", "/api/v1/cases/{id}", "/api/v1/cases/no-such-case"),
        Some(&pm),
        None,
        404,
    )
    .await;
    let (status, body) = call(&app, "delete", "/api/v1/cases", Some(&pm.token), None).await;
    assert_eq!(status, 405);
    c.check("post", "/api/v1/cases", 405, &body);
    let (status, body) = call(
        &app,
        "post",
        "/api/v1/cases",
        Some(&pm.token),
        Some(json!([1, 2])),
    )
    .await;
    assert_eq!(status, 400);
    c.check("post", "/api/v1/cases", 400, &body);
    let big = "x".repeat(lcspr_tracker::web::extract::JSON_LIMIT + 1);
    let (status, body) = call(
        &app,
        "post",
        "/api/v1/cases",
        Some(&pm.token),
        Some(json!({ "summary": big })),
    )
    .await;
    assert_eq!(status, 413);
    c.check("post", "/api/v1/cases", 413, &body);

    // The validation itself bites: a wrong answer is refused.
    assert!(!c
        .errors("get", "/api/v1/cases", 200, &json!({ "cases": "none" }))
        .is_empty());
    assert!(!c
        .errors(
            "get",
            "/api/v1/admin/outbox/{id}",
            200,
            &json!({ "created_at": "2026-01-05T10:00:00" })
        )
        .is_empty());
    assert!(c.seen.len() >= 40, "{} answers checked", c.seen.len());
}

/// Every schema object in the document, with where it is.
fn schemas<'a>(v: &'a Value, at: String, out: &mut Vec<(String, &'a Value)>) {
    match v {
        Value::Object(m) => {
            if m.get("type").is_some_and(|t| {
                t == "object" || t.as_array().is_some_and(|a| a.contains(&json!("object")))
            }) {
                out.push((at.clone(), v));
            }
            for (k, child) in m {
                schemas(child, format!("{at}/{k}"), out);
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                schemas(child, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[actix_web::test]
async fn the_document_has_the_shape_the_issue_asks_for() {
    let app = TestApp::spawn().await;
    let (_, doc) = app.get_json("/api/v1/openapi.json", None).await;
    assert_eq!(doc["openapi"], "3.1.0");

    // No bare object: every object schema says what it holds.
    let mut objects = vec![];
    schemas(&doc, String::new(), &mut objects);
    for (at, s) in &objects {
        let described = [
            "properties",
            "additionalProperties",
            "oneOf",
            "anyOf",
            "allOf",
            "$ref",
            "patternProperties",
        ]
        .iter()
        .any(|k| s.get(*k).is_some());
        assert!(described, "bare object schema at {at}: {s}");
    }

    // Every operation answers the errors of its kind, each with the error body.
    let mut operations = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            operations += 1;
            let r = &op["responses"];
            let has = |code: u16| r[code.to_string()].is_object();
            assert!(has(405), "{method} {path}: 405");
            let public = op["security"].as_array().is_some_and(Vec::is_empty);
            if !public {
                assert!(has(401) && has(403), "{method} {path}: 401, 403");
            }
            if op["requestBody"]["content"]["application/json"].is_object() {
                for code in [400, 413, 422] {
                    assert!(has(code), "{method} {path}: {code}");
                }
            }
            if path.contains('{') {
                assert!(has(404) && has(422), "{method} {path}: 404, 422");
            }
            for (code, answer) in r.as_object().unwrap() {
                let code: u16 = code.parse().unwrap();
                if code >= 400 {
                    assert_eq!(
                        answer["content"]["application/json"]["schema"]["$ref"],
                        "#/components/schemas/ErrorBody",
                        "{method} {path} {code}"
                    );
                } else if code != 204 {
                    assert!(
                        answer["content"].is_object(),
                        "{method} {path} {code}: no body described"
                    );
                }
            }
        }
    }
    assert!(operations >= 59, "{operations}");
    let op = |m: &str, p: &str| doc["paths"][p][m].clone();
    assert!(op("post", "/api/v1/cases/{id}/documents")["responses"]["415"].is_object());
    assert!(
        op("post", "/api/v1/cases/{id}/events/{event_id}/correct")["responses"]["409"].is_object()
    );
    let csv = &op("get", "/api/v1/reports/annual")["responses"]["200"]["content"];
    assert!(csv["text/csv"].is_object());
    assert!(csv["application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"].is_object());

    // One schema per event type a person records, keyed on `type`, each with its own required
    // fields and occurred_on.
    let schemas = &doc["components"]["schemas"];
    let new_event = &schemas["NewEvent"];
    assert_eq!(new_event["discriminator"]["propertyName"], "type");
    let refs = new_event["oneOf"].as_array().unwrap();
    assert_eq!(refs.len(), EventType::ALL.len() - RECORDED_BY_SERVICE.len());
    for kind in EventType::ALL {
        let s = &schemas[format!("NewEvent_{}", kind.as_str())];
        if RECORDED_BY_SERVICE.contains(kind) {
            assert!(s.is_null(), "{kind} is recorded by the service");
            continue;
        }
        assert_eq!(s["properties"]["type"]["const"], kind.as_str());
        assert_eq!(s["additionalProperties"], false);
        let required: Vec<&str> = s["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap())
            .collect();
        assert!(
            required.contains(&"type") && required.contains(&"occurred_on"),
            "{kind}: {required:?}"
        );
    }
    let rapid = &schemas["NewEvent_rapid_review_sent"];
    let required: BTreeSet<&str> = rapid["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert_eq!(
        required,
        BTreeSet::from(["type", "occurred_on", "decision", "rationale"])
    );
    assert_eq!(rapid["properties"]["rationale"]["maxLength"], 5000);
    assert!(
        schemas["NewEvent_action_added"]["properties"]["action_id"].is_null(),
        "given by the service"
    );

    // Enums, lengths and ranges as the server checks them.
    let params = op("get", "/api/v1/cases")["parameters"].clone();
    let param = |name: &str| {
        params
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap()["schema"]["anyOf"][0]
            .clone()
    };
    let resolve = |s: Value| match s["$ref"].as_str().map(str::to_string) {
        Some(r) => schemas[r.trim_start_matches("#/components/schemas/")].clone(),
        None => s,
    };
    assert!(resolve(param("stage"))["enum"]
        .as_array()
        .unwrap()
        .contains(&json!("rapid_review")));
    assert_eq!(
        resolve(param("deadline_status"))["enum"],
        json!(["pending", "met", "missed", "waived"])
    );
    assert_eq!(
        resolve(param("format"))["enum"],
        json!(["json", "csv", "xlsx"])
    );
    assert_eq!(param("per_page")["maximum"], 500);
    assert_eq!(param("page")["minimum"], 1);
    let outbox_params = op("get", "/api/v1/admin/outbox")["parameters"].clone();
    let status = outbox_params
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "status")
        .unwrap()["schema"]["anyOf"][0]
        .clone();
    assert!(resolve(status)["enum"]
        .as_array()
        .unwrap()
        .contains(&json!("cancelled")));
    assert!(schemas["OutboxEntry"]["properties"]["cancelled_reason"].is_object());
    assert_eq!(
        schemas["NewCase"]["properties"]["child_pseudonym"]["maxLength"],
        200
    );

    // Timestamps are date-times (with their zone); none is written without one.
    for field in ["created_at", "next_attempt_at"] {
        assert_eq!(
            schemas["OutboxEntry"]["properties"][field]["format"], "date-time",
            "{field}"
        );
    }
    let text = doc.to_string();
    assert!(
        !text.contains("partial-date-time"),
        "a timestamp without its zone"
    );
}
