//! The security probe's findings (issue 13 §5), each refused now, on SQLite and PostgreSQL.

use lcspr_tracker::domain::events::EventType;
use lcspr_tracker::domain::roles::Role;
use lcspr_tracker::domain::workflow::may_record;
use serde_json::{json, Value};

use crate::support::api::PASSWORD;
use crate::support::browser::Browser;
use crate::support::documents::{multipart, BOUNDARY};
use crate::support::TestApp;

/// The audit entries with this action and outcome.
async fn audited(app: &TestApp, action: &str, outcome: &str) -> Vec<Value> {
    use diesel::prelude::*;
    use lcspr_tracker::db::schema::audit_log;
    let (action, outcome) = (action.to_string(), outcome.to_string());
    app.state
        .db(move |c, _| {
            Ok(audit_log::table
                .filter(audit_log::action.eq(&action))
                .filter(audit_log::outcome.eq(&outcome))
                .select((audit_log::actor_id, audit_log::subject, audit_log::detail))
                .load::<(Option<String>, Option<String>, String)>(c)?)
        })
        .await
        .unwrap()
        .into_iter()
        .map(|(actor, subject, detail)| {
            json!({ "actor": actor, "subject": subject, "detail": serde_json::from_str::<Value>(&detail).unwrap() })
        })
        .collect()
}

#[actix_web::test]
async fn next_goes_only_to_a_local_path() {
    let app = TestApp::spawn().await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let b = Browser::new(&app);
    // The probe's address: a tab between the slashes, which browsers drop.
    for (next, expected) in [
        ("%2F%09%2Fevil.example", "/"),
        ("%2F%0D%0ALocation%3A%20https%3A%2F%2Fevil.example", "/"),
        ("%2F%5Cevil.example", "/"),
        ("https%3A%2F%2Fevil.example", "/"),
        ("%2Fcases%3Fstage%3Din_review", "/cases?stage=in_review"),
    ] {
        let form = b.get(&format!("/sign-in?next={next}")).await;
        assert_eq!(form.status, 200, "{next}: {}", form.body);
        let kept = form.hidden("next");
        assert_eq!(kept, expected.replace('&', "&amp;"), "{next}");
    }
    let a = b
        .sign_in_with(&pm.email, PASSWORD, "/\t/evil.example")
        .await;
    assert_eq!(a.status, 303, "{}", a.body);
    assert_eq!(a.location(), "/");
    // Signed in, /sign-in?next=… redirects at once: never off the site, never a 500.
    for next in ["%2F%09%2Fevil.example", "%2F%0D%0ASet-Cookie%3Ax"] {
        let a = b.get(&format!("/sign-in?next={next}")).await;
        assert_eq!(a.status, 303, "{next}");
        assert_eq!(a.location(), "/", "{next}");
    }
}

#[actix_web::test]
async fn control_characters_are_refused_in_every_text_field() {
    let app = TestApp::spawn().await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let case = app.open_case(&pm, "2026-01-02", "Child A").await;
    let id = case["id"].as_str().unwrap();
    let base = json!({
        "child_pseudonym": "Child B", "aware_on": "2026-01-02", "incident_on": "2026-01-01",
        "harm": "death", "looked_after": false, "summary": "Summary",
    });
    for (field, value) in [
        ("child_pseudonym", "Child\u{0}B"),
        ("summary", "line\u{1b}[2J"),
        ("child_name", "A\u{7}B"),
    ] {
        let mut body = base.clone();
        body[field] = json!(value);
        let (status, resp) = app.post_json("/api/v1/cases", Some(&pm.token), body).await;
        assert_eq!(status, 422, "{field}: {resp}");
        assert_eq!(resp["error"]["field"], field, "{resp}");
    }
    // Tabs and line breaks are text.
    let mut body = base.clone();
    body["summary"] = json!("First line\r\nSecond\tline\n");
    let (status, resp) = app.post_json("/api/v1/cases", Some(&pm.token), body).await;
    assert_eq!(status, 201, "{resp}");
    // Bidirectional overrides would make a pseudonym read as something else.
    let mut body = base.clone();
    body["child_pseudonym"] = json!("Child \u{202E}Q");
    let (status, resp) = app.post_json("/api/v1/cases", Some(&pm.token), body).await;
    assert_eq!(status, 422, "{resp}");
    assert_eq!(resp["error"]["field"], "child_pseudonym");
    // Sign-in, events, a path id and a query parameter.
    let (status, resp) = app
        .post_json(
            "/api/v1/auth/token",
            None,
            json!({ "email": "a\u{0}@example.org", "password": "x" }),
        )
        .await;
    assert_eq!(
        (status, resp["error"]["field"].clone()),
        (422, json!("email"))
    );
    let (status, resp) = app
        .event(
            &pm,
            id,
            json!({ "type": "sin_submitted", "occurred_on": "2026-01-05", "note": "a\u{0}" }),
        )
        .await;
    assert_eq!(
        (status, resp["error"]["field"].clone()),
        (422, json!("note")),
        "{resp}"
    );
    let (status, resp) = app
        .get_json("/api/v1/cases/abc%00def", Some(&pm.token))
        .await;
    assert_eq!(
        (status, resp["error"]["field"].clone()),
        (422, json!("path"))
    );
    let (status, resp) = app
        .get_json("/api/v1/cases?stage=in%00review", Some(&pm.token))
        .await;
    assert_eq!(
        (status, resp["error"]["field"].clone()),
        (422, json!("stage"))
    );
    // The pages too: the form names the field and records nothing.
    let b = Browser::new(&app);
    b.sign_in_with(&pm.email, PASSWORD, "/").await;
    let form = b.get(&format!("/cases/{id}/events/sin_submitted")).await;
    let a = b
        .post(
            &format!("/cases/{id}/events/sin_submitted"),
            &[
                ("csrf_token", &form.hidden("csrf_token")),
                ("form_id", &form.hidden("form_id")),
                ("occurred_on-day", "5"),
                ("occurred_on-month", "1"),
                ("occurred_on-year", "2026"),
                ("note", "bad\u{0}note"),
            ],
        )
        .await;
    assert_eq!(a.status, 422, "{}", a.body);
    assert!(
        a.body.contains("Note: must not contain control characters"),
        "{}",
        a.main()
    );
    let (_, case) = app
        .get_json(&format!("/api/v1/cases/{id}"), Some(&pm.token))
        .await;
    assert_eq!(
        case["events"].as_array().unwrap().len(),
        1,
        "nothing was recorded"
    );
}

#[actix_web::test]
async fn page_and_page_size_are_validated() {
    let app = TestApp::spawn().await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    for q in [
        "page=9223372036854775807",
        "page=0",
        "page=-1",
        "page=x",
        "per_page=501",
        "per_page=0",
    ] {
        let (status, resp) = app
            .get_json(&format!("/api/v1/cases?{q}"), Some(&pm.token))
            .await;
        assert_eq!(status, 422, "{q}: {resp}");
        let field = q.split('=').next().unwrap();
        assert_eq!(resp["error"]["field"], field, "{resp}");
    }
    let (status, _) = app
        .get_json("/api/v1/cases?page=100000&per_page=500", Some(&pm.token))
        .await;
    assert_eq!(status, 200);
}

#[actix_web::test]
async fn an_expired_jwt_is_refused_even_while_the_server_record_lives() {
    let app = TestApp::spawn_with(chrono::NaiveDate::from_ymd_opt(2026, 1, 5).unwrap(), |s| {
        s.auth.jwt_secret = "a test secret that is long enough to use".into()
    })
    .await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let (status, _) = app.get_json("/api/v1/cases", Some(&pm.token)).await;
    assert_eq!(status, 200);
    // The same token id, re-signed with the server's key, with its own exp in the past.
    let key = jsonwebtoken::DecodingKey::from_secret(b"a test secret that is long enough to use");
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    v.validate_exp = false;
    let mut claims = jsonwebtoken::decode::<Value>(&pm.token, &key, &v)
        .unwrap()
        .claims;
    let now = app.state.now().and_utc().timestamp();
    claims["exp"] = json!(now - 60);
    let forged = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(b"a test secret that is long enough to use"),
    )
    .unwrap();
    let (status, _) = app.get_json("/api/v1/cases", Some(&forged)).await;
    assert_eq!(status, 401);
    // Without exp at all, likewise.
    claims.as_object_mut().unwrap().remove("exp");
    let forged = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(b"a test secret that is long enough to use"),
    )
    .unwrap();
    let (status, _) = app.get_json("/api/v1/cases", Some(&forged)).await;
    assert_eq!(status, 401);
}

#[actix_web::test]
async fn implausible_dates_are_refused_with_the_field_named() {
    let app = TestApp::spawn().await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let base = json!({
        "child_pseudonym": "Child B", "aware_on": "2026-01-02", "incident_on": "2026-01-01",
        "harm": "death", "looked_after": false, "summary": "Summary", "child_dob": "2015-01-01",
    });
    for (field, value) in [
        ("child_dob", "0000-01-01"),
        ("child_dob", "1989-12-31"),
        ("incident_on", "-0001-01-01"),
        ("incident_on", "1999-12-31"),
        ("aware_on", "1999-06-01"),
        ("child_dob", "2026-01-02"),
        ("aware_on", "2026-02-01"),
    ] {
        let mut body = base.clone();
        body[field] = json!(value);
        let (status, resp) = app.post_json("/api/v1/cases", Some(&pm.token), body).await;
        assert_eq!(status, 422, "{field}={value}: {resp}");
        let fields: Vec<&str> = resp["error"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["field"].as_str().unwrap())
            .collect();
        assert!(fields.contains(&field), "{field}={value}: {resp}");
    }
    let mut body = base.clone();
    body["child_dob"] = json!("1990-01-01");
    let (status, resp) = app.post_json("/api/v1/cases", Some(&pm.token), body).await;
    assert_eq!(status, 201, "{resp}");
    let id = resp["id"].as_str().unwrap();
    let (status, resp) = app
        .event(
            &pm,
            id,
            json!({ "type": "sin_submitted", "occurred_on": "1999-12-31" }),
        )
        .await;
    assert_eq!(
        (status, resp["error"]["field"].clone()),
        (422, json!("occurred_on")),
        "{resp}"
    );
}

async fn upload(app: &TestApp, token: &str, case_id: &str, file: &[u8]) -> (u16, Value) {
    let body = multipart(
        &[("kind", "other"), ("title", "A file")],
        Some(("file.txt", file)),
    );
    let mut resp = app
        .client
        .post(app.url(&format!("/api/v1/cases/{case_id}/documents")))
        .bearer_auth(token)
        .insert_header((
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        ))
        .send_body(body)
        .await
        .unwrap();
    let bytes = resp.body().await.unwrap();
    (
        resp.status().as_u16(),
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[actix_web::test]
async fn markup_and_pdf_shaped_html_are_refused() {
    let app = TestApp::spawn().await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let case = app.open_case(&pm, "2026-01-02", "Child A").await;
    let id = case["id"].as_str().unwrap();
    for file in [
        &b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>"[..],
        b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>",
        b"<?xml version=\"1.0\"?><!DOCTYPE x><x/>",
        b"%PDF-1.4\n<html><body onload=alert(1)></body></html>",
    ] {
        let (status, resp) = upload(&app, &pm.token, id, file).await;
        assert_eq!(status, 415, "{}: {resp}", String::from_utf8_lossy(file));
    }
    let (status, resp) = upload(&app, &pm.token, id, &crate::support::documents::pdf(1)).await;
    assert_eq!(status, 201, "{resp}");
    let (status, resp) = upload(&app, &pm.token, id, b"Plain notes: x < y.\n").await;
    assert_eq!(status, 201, "{resp}");
    // The upload's text fields, like every other.
    let body = multipart(
        &[("kind", "other"), ("title", "A\u{0}title")],
        Some(("file.txt", b"notes\n")),
    );
    let mut resp = app
        .client
        .post(app.url(&format!("/api/v1/cases/{id}/documents")))
        .bearer_auth(&pm.token)
        .insert_header((
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        ))
        .send_body(body)
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 422);
    let err: Value = serde_json::from_slice(&resp.body().await.unwrap()).unwrap();
    assert_eq!(err["error"]["field"], "title", "{err}");
}

#[actix_web::test]
async fn every_refused_attempt_is_audited() {
    let app = TestApp::spawn().await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let bm = app.user(Role::BusinessManager, "Bea Manager").await;
    let reviewer = app.user(Role::LeadReviewer, "Lee Reviewer").await;
    let member = app.user(Role::SubgroupMember, "Sue Member").await;
    let case = app.open_case(&pm, "2026-01-02", "Child A").await;
    let id = case["id"].as_str().unwrap();
    let (_, doc) = upload(&app, &pm.token, id, &crate::support::documents::pdf(2)).await;
    let doc_id = doc["document"]["id"].as_str().unwrap();

    // Deleting a version: a role that may not, and a missing reason.
    let path = format!("/api/v1/documents/{doc_id}/versions/1/delete");
    let (status, _) = app
        .post_json(&path, Some(&bm.token), json!({ "reason": "x" }))
        .await;
    assert_eq!(status, 403);
    let (status, _) = app
        .post_json(&path, Some(&pm.token), json!({ "reason": "" }))
        .await;
    assert_eq!(status, 422);
    let refused = audited(&app, "document_version_deleted", "refused").await;
    assert_eq!(refused.len(), 2, "{refused:?}");
    assert_eq!(refused[0]["actor"], json!(bm.id));

    // Declaring a conflict: a co-chair (who sees every case whatever they declare), and a
    // member on a case that does not exist.
    let chair = app.user(Role::CoChair, "Cat Chair").await;
    let (status, resp) = app
        .post_json(
            &format!("/api/v1/cases/{id}/conflict"),
            Some(&chair.token),
            json!({ "note": "Knows the family" }),
        )
        .await;
    assert_eq!(status, 403, "{resp}");
    let (status, _) = app
        .post_json(
            "/api/v1/cases/nonexistent/conflict",
            Some(&member.token),
            json!({ "note": "x" }),
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(audited(&app, "conflict_declared", "refused").await.len(), 2);
    // A member's declaration still works, and hides the case.
    let (status, _) = app
        .post_json(
            &format!("/api/v1/cases/{id}/conflict"),
            Some(&member.token),
            json!({ "note": "Works with the school" }),
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = app
        .get_json(&format!("/api/v1/cases/{id}"), Some(&member.token))
        .await;
    assert_eq!(status, 404);

    // Uploading to a case the reviewer is not appointed to.
    let (status, _) = upload(&app, &reviewer.token, id, b"notes\n").await;
    assert_eq!(status, 404);
    assert_eq!(audited(&app, "document_uploaded", "refused").await.len(), 1);

    // Users and outbox endpoints from a non-administrator.
    let (status, _) = app.get_json("/api/v1/users", Some(&bm.token)).await;
    assert_eq!(status, 403);
    let (status, _) = app
        .post_json(
            "/api/v1/users",
            Some(&pm.token),
            json!({ "email": "x@example.org", "name": "X", "role": "admin" }),
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = app.get_json("/api/v1/admin/outbox", Some(&pm.token)).await;
    assert_eq!(status, 403);
    assert_eq!(audited(&app, "users_listed", "refused").await.len(), 1);
    assert_eq!(audited(&app, "user_added", "refused").await.len(), 1);
    assert_eq!(audited(&app, "outbox", "refused").await.len(), 1);

    // Pages: an admin page for a non-administrator, a form without its CSRF token, a form
    // from another origin.
    let b = Browser::new(&app);
    b.sign_in_with(&pm.email, PASSWORD, "/").await;
    let a = b.get("/admin/users").await;
    assert_eq!(a.status, 403);
    let page = audited(&app, "page_refused", "refused").await;
    assert_eq!(page.len(), 1, "{page:?}");
    assert_eq!(page[0]["actor"], json!(pm.id));
    assert_eq!(page[0]["detail"]["path"], "/admin/users");
    let a = b
        .post(
            "/account/reminders",
            &[("csrf_token", "wrong"), ("mode", "daily")],
        )
        .await;
    assert_eq!(a.status, 403);
    let mut other = Browser::new(&app);
    other.origin = Some("https://evil.example".into());
    let a = other
        .post("/sign-in", &[("email", "x@example.org"), ("password", "y")])
        .await;
    assert_eq!(a.status, 403);
    let forms = audited(&app, "form_refused", "refused").await;
    assert_eq!(forms.len(), 2, "{forms:?}");
    assert_eq!(forms[0]["actor"], json!(pm.id));
    assert_eq!(forms[1]["actor"], Value::Null);
}

#[actix_web::test]
async fn wrong_methods_are_405_with_allow_and_big_bodies_413_as_json() {
    let app = TestApp::spawn().await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let mut resp = app
        .client
        .delete(app.url("/api/v1/cases"))
        .bearer_auth(&pm.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 405);
    let allow = resp
        .headers()
        .get("allow")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(allow, "GET, POST");
    let body: Value = serde_json::from_slice(&resp.body().await.unwrap()).unwrap();
    assert_eq!(body["error"]["code"], "method_not_allowed");
    let resp = app
        .client
        .get(app.url("/api/v1/auth/token"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 405);
    assert_eq!(resp.headers().get("allow").unwrap(), "POST");
    // An unknown path is still a JSON 404.
    let (status, body) = app.get_json("/api/v1/nowhere", Some(&pm.token)).await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (404, json!("no_route"))
    );

    let big = json!({ "child_pseudonym": "x".repeat(lcspr_tracker::web::extract::JSON_LIMIT + 1) });
    let (status, body) = app.post_json("/api/v1/cases", Some(&pm.token), big).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"]["code"], "too_large");
}

/// The README's "Who can do what" says who records the review's own events; the code must
/// agree (the programme manager keeps the record of the review's meetings and engagement when
/// the independent reviewer sends it, as DESIGN.md §1 has them record events).
#[test]
fn the_readme_and_the_code_agree_on_who_records_the_reviews_events() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let row = |role: &str| -> String {
        readme
            .lines()
            .find(|l| l.starts_with(&format!("| `{role}` |")))
            .unwrap_or_else(|| panic!("no README row for {role}"))
            .split('|')
            .nth(3)
            .unwrap()
            .to_lowercase()
    };
    let phrases = [
        (EventType::ReviewMeeting, "review meetings"),
        (EventType::LearningWorkshop, "workshops"),
        (EventType::FamilyEngagement, "family"),
        (EventType::PractitionerEngagement, "practitioner engagement"),
        (EventType::FinalReportSubmitted, "final report"),
        (EventType::WebinarHeld, "webinar"),
    ];
    for role in [
        Role::ProgrammeManager,
        Role::LeadReviewer,
        Role::BusinessManager,
    ] {
        let cell = row(role.as_str());
        for (kind, phrase) in phrases {
            assert_eq!(
                cell.contains(phrase),
                may_record(role, kind),
                "README row {} and may_record disagree on {phrase}",
                role.as_str()
            );
        }
    }
}
