//! Records as partnerships keep them (issue 10 §2, §3): events entered late and out of order,
//! corrections and voids as new entries with a reason, the case's details changed with a
//! reason. A case entered a month late, out of order, with a mistyped date corrected and an
//! event voided ends with the deadlines of the same case entered on time and in order.

use serde_json::{json, Value};

use lcspr_tracker::domain::roles::Role;

use crate::support::api::User;
use crate::support::documents::pdf;
use crate::support::TestApp;

/// The case's events as they happened: date and body (the decision, when one is cited, is
/// made at a meeting on the day).
fn happened() -> Vec<(&'static str, Value)> {
    vec![
        ("2026-01-07", json!({"type": "sin_submitted"})),
        ("2026-01-08", json!({"type": "partners_informed"})),
        (
            "2026-01-20",
            json!({"type": "rapid_review_sent", "decision": "lcspr", "criteria": ["a"], "rationale": "r"}),
        ),
        (
            "2026-02-03",
            json!({"type": "panel_response", "outcome": "agrees"}),
        ),
        ("2026-02-05", json!({"type": "lcspr_decided"})),
        ("2026-02-09", json!({"type": "reviewer_appointed"})),
        (
            "2026-02-16",
            json!({"type": "review_meeting", "note": "Chronology"}),
        ),
        (
            "2026-03-06",
            json!({"type": "progress_check", "note": "On time"}),
        ),
    ]
}

struct People {
    pm: User,
    chair: User,
    reviewer: User,
}

impl People {
    async fn new(app: &TestApp) -> People {
        People {
            pm: app.user(Role::ProgrammeManager, "Pat Manager").await,
            chair: app.user(Role::CoChair, "Chris Chair").await,
            reviewer: app.user(Role::LeadReviewer, "Rae Reviewer").await,
        }
    }

    /// Who records an event of this type.
    fn who(&self, kind: &str) -> &User {
        match kind {
            "rapid_review_sent" | "lcspr_decided" => &self.chair,
            _ => &self.pm,
        }
    }
}

/// The body of an event on its date, with the reviewer and the decision filled in.
async fn body(app: &TestApp, p: &People, case_id: &str, on: &str, body: &Value) -> Value {
    let mut body = body.clone();
    body["occurred_on"] = json!(on);
    if body["type"] == "reviewer_appointed" {
        body["reviewer_id"] = json!(p.reviewer.id);
        body["conflict_declaration"] = json!("None");
    }
    app.cite(&p.pm, case_id, body).await
}

async fn record(app: &TestApp, p: &People, case_id: &str, on: &str, b: &Value) -> Value {
    let b = body(app, p, case_id, on, b).await;
    let who = p.who(b["type"].as_str().unwrap());
    app.ok_event(who, case_id, b).await
}

async fn open(app: &TestApp, p: &People, pseudonym: &str) -> String {
    let case = app.open_case(&p.pm, "2026-01-05", pseudonym).await;
    case["id"].as_str().unwrap().to_string()
}

/// The deadlines as a comparable list: rule, instance, due date, status, met date, explanation.
async fn deadlines(app: &TestApp, user: &User, case_id: &str) -> Vec<Value> {
    let (status, list) = app
        .get_json(
            &format!("/api/v1/cases/{case_id}/deadlines"),
            Some(&user.token),
        )
        .await;
    assert_eq!(status, 200, "{list}");
    let mut out: Vec<Value> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            json!([
                d["rule"],
                d["instance"],
                d["due_on"],
                d["status"],
                d["met_on"],
                d["explanation"]["text"]
            ])
        })
        .collect();
    out.sort_by_key(|v| v.to_string());
    out
}

async fn case(app: &TestApp, user: &User, case_id: &str) -> Value {
    let (status, case) = app
        .get_json(&format!("/api/v1/cases/{case_id}"), Some(&user.token))
        .await;
    assert_eq!(status, 200, "{case}");
    case
}

fn event_of<'a>(case: &'a Value, kind: &str) -> Vec<&'a Value> {
    case["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == kind)
        .collect()
}

async fn change(
    app: &TestApp,
    user: &User,
    case_id: &str,
    event_id: &str,
    what: &str,
    body: Value,
) -> (u16, Value) {
    app.post_json(
        &format!("/api/v1/cases/{case_id}/events/{event_id}/{what}"),
        Some(&user.token),
        body,
    )
    .await
}

async fn audit(app: &TestApp, user: &User, case_id: &str) -> Vec<Value> {
    let (status, entries) = app
        .get_json(&format!("/api/v1/cases/{case_id}/audit"), Some(&user.token))
        .await;
    assert_eq!(status, 200, "{entries}");
    entries.as_array().unwrap().clone()
}

/// Whether an answer's `deadlines` (the ones the change touched) has `rule`'s `instance` with
/// this `change` (`created`, `moved`, `removed`, …).
fn changed(answer: &Value, rule: &str, instance: i64, change: &str) -> bool {
    answer["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["rule"] == rule && d["instance"] == instance && d["change"] == change)
}

#[actix_web::test]
async fn a_case_entered_late_out_of_order_corrected_and_voided_ends_as_one_entered_on_time() {
    let app = TestApp::spawn_on("2026-01-05".parse().unwrap()).await;
    let p = People::new(&app).await;

    // On time and in order: each event entered the day it happened.
    let on_time = open(&app, &p, "Child A").await;
    for (on, b) in happened() {
        app.set_today(on);
        let answer = record(&app, &p, &on_time, on, &b).await;
        assert_eq!(answer["event"]["recorded_days_later"], 0, "{answer}");
    }

    // A month after the last event, from the beginning, out of order, with mistakes.
    app.set_today("2026-04-07");
    let late = open(&app, &p, "Child B").await;
    let h = happened();
    let step = |i: usize| (h[i].0, h[i].1.clone());
    // The SIN typed with the wrong day (17th for 7th).
    let sin = record(&app, &p, &late, "2026-01-17", &step(0).1).await;
    let sin_id = sin["event"]["id"].as_str().unwrap().to_string();
    assert_eq!(sin["event"]["recorded_late"], "recorded 80 days later");
    let (on, b) = step(2);
    record(&app, &p, &late, on, &b).await;
    // Partners were told before the rapid review: entered after it, dated before it.
    let (on, b) = step(1);
    let answer = record(&app, &p, &late, on, &b).await;
    assert_eq!(answer["stage"], "panel_response", "{answer}");
    // The decision to commission, then the Panel's response dated before it.
    let (on, b) = step(4);
    record(&app, &p, &late, on, &b).await;
    let (on, b) = step(3);
    let answer = record(&app, &p, &late, on, &b).await;
    assert_eq!(answer["stage"], "commissioning");
    // A progress check before the reviewer's appointment is entered: the replay refuses it,
    // naming what is wrong, and nothing changes.
    let (on, b) = step(7);
    let refused = body(&app, &p, &late, on, &b).await;
    let (status, err) = app.event(&p.pm, &late, refused).await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["error"]["field"], "type");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("commissioning stage"),
        "{err}"
    );
    let (on, b) = step(5);
    record(&app, &p, &late, on, &b).await;
    let (on, b) = step(7);
    record(&app, &p, &late, on, &b).await;
    let (on, b) = step(6);
    record(&app, &p, &late, on, &b).await;
    // A progress check meant for another case.
    let wrong = record(
        &app,
        &p,
        &late,
        "2026-03-20",
        &json!({"type": "progress_check", "note": "Another case's check"}),
    )
    .await;
    let wrong_id = wrong["event"]["id"].as_str().unwrap().to_string();
    assert!(changed(&wrong, "progress_check", 3, "created"), "{wrong}");

    // Voiding the SIN would leave the rapid review without its notification: refused, naming
    // the event that would break.
    let (status, err) = change(
        &app,
        &p.pm,
        &late,
        &sin_id,
        "void",
        json!({"reason": "test"}),
    )
    .await;
    assert_eq!(status, 422, "{err}");
    let message = err["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(
            "\"Rapid review sent to the Panel\" on 20 January 2026 would no longer be valid"
        ),
        "{message}"
    );
    // A correction without a reason is refused.
    let (status, err) = change(
        &app,
        &p.pm,
        &late,
        &sin_id,
        "correct",
        json!({"occurred_on": "2026-01-07"}),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(err["error"]["field"], "reason");
    // A correction that would put the SIN after the rapid review is refused too.
    let (status, err) = change(
        &app,
        &p.pm,
        &late,
        &sin_id,
        "correct",
        json!({"reason": "x", "occurred_on": "2026-01-21"}),
    )
    .await;
    assert_eq!(status, 422, "{err}");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Rapid review"),
        "{err}"
    );

    // The mistyped date corrected: the deadlines counted from it move.
    let (status, corrected) = change(
        &app,
        &p.pm,
        &late,
        &sin_id,
        "correct",
        json!({"reason": "Typed the 17th for the 7th", "occurred_on": "2026-01-07"}),
    )
    .await;
    assert_eq!(status, 201, "{corrected}");
    let moved: Vec<&Value> = corrected["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["change"] == "moved")
        .collect();
    assert!(
        moved.iter().any(|d| d["rule"] == "rapid_review"
            && d["previous_due_on"] == "2026-02-06"
            && d["due_on"] == "2026-01-28"),
        "{corrected}"
    );
    // The old version can no longer be changed: the current one can.
    let (status, _) = change(
        &app,
        &p.pm,
        &late,
        &sin_id,
        "correct",
        json!({"reason": "again", "ofsted_reference": "X"}),
    )
    .await;
    assert_eq!(status, 409);

    // The mistaken progress check voided: the deadline it started goes away.
    let (status, voided) = change(
        &app,
        &p.pm,
        &late,
        &wrong_id,
        "void",
        json!({"reason": "Recorded on the wrong case"}),
    )
    .await;
    assert_eq!(status, 200, "{voided}");
    assert_eq!(
        voided["event"]["voided"]["reason"],
        "Recorded on the wrong case"
    );
    assert!(changed(&voided, "progress_check", 3, "removed"), "{voided}");
    let (status, _) = change(
        &app,
        &p.pm,
        &late,
        &wrong_id,
        "void",
        json!({"reason": "twice"}),
    )
    .await;
    assert_eq!(status, 409);

    // The same deadlines as the case entered on time, and the same stage.
    let a = deadlines(&app, &p.pm, &on_time).await;
    let b = deadlines(&app, &p.pm, &late).await;
    assert!(!a.is_empty());
    assert_eq!(a, b);
    let (case_a, case_b) = (
        case(&app, &p.pm, &on_time).await,
        case(&app, &p.pm, &late).await,
    );
    assert_eq!(case_a["stage"], case_b["stage"]);

    // Both dates kept: the timeline says when each was entered; the original SIN is kept with
    // who corrected it, when and why; the voided check is kept, marked.
    let sins = event_of(&case_b, "sin_submitted");
    assert_eq!(sins.len(), 1);
    assert_eq!(sins[0]["occurred_on"], "2026-01-07");
    assert_eq!(sins[0]["recorded_late"], "recorded 90 days later");
    assert_eq!(sins[0]["correction_reason"], "Typed the 17th for the 7th");
    let earlier = &sins[0]["earlier_versions"][0];
    assert_eq!(earlier["occurred_on"], "2026-01-17");
    assert_eq!(earlier["corrected"]["by"]["name"], "Pat Manager");
    assert_eq!(earlier["corrected"]["reason"], "Typed the 17th for the 7th");
    let checks = event_of(&case_b, "progress_check");
    assert_eq!(checks.len(), 2);
    assert!(checks[0]["voided"].is_null());
    assert_eq!(checks[1]["voided"]["reason"], "Recorded on the wrong case");
    assert!(event_of(&case_a, "sin_submitted")[0]["recorded_late"].is_null());

    // The audit shows every change with its reason, the deadlines moved before and after.
    let trail = audit(&app, &p.pm, &late).await;
    let corrected = trail
        .iter()
        .find(|e| e["action"] == "event_corrected" && e["outcome"] == "ok")
        .expect("the correction audited");
    assert_eq!(corrected["detail"]["reason"], "Typed the 17th for the 7th");
    assert_eq!(corrected["detail"]["before"]["occurred_on"], "2026-01-17");
    assert_eq!(corrected["detail"]["after"]["occurred_on"], "2026-01-07");
    assert!(corrected["detail"]["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["rule"] == "rapid_review"
            && d["previous_due_on"] == "2026-02-06"
            && d["due_on"] == "2026-01-28"));
    let voided = trail
        .iter()
        .find(|e| e["action"] == "event_voided" && e["outcome"] == "ok")
        .expect("the void audited");
    assert_eq!(voided["detail"]["reason"], "Recorded on the wrong case");
    assert!(trail
        .iter()
        .any(|e| e["action"] == "event_voided" && e["outcome"] == "refused"));
}

#[actix_web::test]
async fn who_may_correct_and_void() {
    let app = TestApp::spawn_on("2026-02-20".parse().unwrap()).await;
    let p = People::new(&app).await;
    let board = app.user(Role::BoardMember, "Bo Board").await;
    let other = app.user(Role::LeadReviewer, "Lee Other").await;
    let id = open(&app, &p, "Child C").await;
    for (on, b) in happened().into_iter().take(6) {
        record(&app, &p, &id, on, &b).await;
    }
    let by_pm = app
        .ok_event(
            &p.pm,
            &id,
            json!({"type": "review_meeting", "occurred_on": "2026-02-16"}),
        )
        .await;
    let by_reviewer = app
        .ok_event(
            &p.reviewer,
            &id,
            json!({"type": "family_engagement", "occurred_on": "2026-02-17", "note": "Met the family"}),
        )
        .await;
    let pm_event = by_pm["event"]["id"].as_str().unwrap();
    let rev_event = by_reviewer["event"]["id"].as_str().unwrap();
    let reason = json!({"reason": "Wrong day"});

    // A board member may not; a lead reviewer not appointed does not see the case.
    let (status, _) = change(&app, &board, &id, pm_event, "void", reason.clone()).await;
    assert_eq!(status, 403);
    let (status, _) = change(&app, &other, &id, rev_event, "void", reason.clone()).await;
    assert_eq!(status, 404);
    // The appointed reviewer: their own events only.
    let (status, err) = change(
        &app,
        &p.reviewer,
        &id,
        pm_event,
        "correct",
        json!({"reason": "x", "occurred_on": "2026-02-13"}),
    )
    .await;
    assert_eq!(status, 403, "{err}");
    let (status, fixed) = change(
        &app,
        &p.reviewer,
        &id,
        rev_event,
        "correct",
        json!({"reason": "The note was incomplete", "note": "Met the family at home"}),
    )
    .await;
    assert_eq!(status, 201, "{fixed}");
    assert_eq!(fixed["event"]["fields"]["note"], "Met the family at home");
    assert_eq!(fixed["event"]["occurred_on"], "2026-02-17");
    // The service's own event is changed on the case, not corrected.
    let c = case(&app, &p.pm, &id).await;
    let aware = event_of(&c, "aware")[0]["id"].as_str().unwrap().to_string();
    let (status, err) = change(
        &app,
        &p.chair,
        &id,
        &aware,
        "correct",
        json!({"reason": "x", "incident_on": "2026-01-01"}),
    )
    .await;
    assert_eq!(status, 422, "{err}");
    // A date in the future is refused for something that happened.
    let (status, err) = change(
        &app,
        &p.chair,
        &id,
        pm_event,
        "correct",
        json!({"reason": "x", "occurred_on": "2026-02-21"}),
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        err["error"]["message"].as_str().unwrap().contains("future"),
        "{err}"
    );
    // A co-chair may void the programme manager's event.
    let (status, v) = change(&app, &p.chair, &id, pm_event, "void", reason).await;
    assert_eq!(status, 200, "{v}");
}

#[actix_web::test]
async fn changing_the_awareness_date_moves_its_deadlines_with_a_reason() {
    let app = TestApp::spawn_on("2026-01-12".parse().unwrap()).await;
    let p = People::new(&app).await;
    let board = app.user(Role::BoardMember, "Bo Board").await;
    let id = open(&app, &p, "Child D").await;
    let path = format!("/api/v1/cases/{id}");
    let patch = |user: &User, body: Value| {
        let req = app
            .client
            .patch(app.url(&path))
            .bearer_auth(user.token.clone());
        async move {
            let mut resp = req.send_json(&body).await.unwrap();
            let v: Value = serde_json::from_slice(&resp.body().await.unwrap()).unwrap();
            (resp.status().as_u16(), v)
        }
    };
    let (status, _) = patch(&board, json!({"reason": "x", "summary": "y"})).await;
    assert_eq!(status, 403);
    let (status, err) = patch(&p.pm, json!({"aware_on": "2026-01-06"})).await;
    assert_eq!(status, 422);
    assert_eq!(err["error"]["field"], "reason");
    let (status, err) = patch(&p.pm, json!({"reason": "x", "aware_on": "2026-01-13"})).await;
    assert_eq!(status, 422);
    assert_eq!(err["error"]["field"], "aware_on");
    let before = deadlines(&app, &p.pm, &id).await;
    let (status, case) = patch(
        &p.pm,
        json!({"reason": "The referral came a day later", "aware_on": "2026-01-06", "child_pseudonym": "Child D2"}),
    )
    .await;
    assert_eq!(status, 200, "{case}");
    assert_eq!(case["aware_on"], "2026-01-06");
    assert_eq!(case["child_pseudonym"], "Child D2");
    let sin = case["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["rule"] == "sin_submission")
        .unwrap();
    assert_eq!(sin["due_on"], "2026-01-13");
    assert_ne!(before, deadlines(&app, &p.pm, &id).await);
    // A SIN dated before the new awareness date is refused.
    let (status, err) = app
        .event(
            &p.pm,
            &id,
            json!({"type": "sin_submitted", "occurred_on": "2026-01-05"}),
        )
        .await;
    assert_eq!(status, 422);
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("6 January 2026"),
        "{err}"
    );
    let trail = audit(&app, &p.pm, &id).await;
    let changed = trail
        .iter()
        .find(|e| e["action"] == "case_changed" && e["outcome"] == "ok")
        .expect("audited");
    assert_eq!(changed["detail"]["reason"], "The referral came a day later");
    assert_eq!(changed["detail"]["before"]["aware_on"], "2026-01-05");
    assert_eq!(changed["detail"]["after"]["aware_on"], "2026-01-06");
    assert!(changed["detail"]["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["rule"] == "sin_submission" && d["previous_due_on"] == "2026-01-12"));
}

#[actix_web::test]
async fn an_upload_today_does_not_stop_an_event_dated_last_week() {
    let app = TestApp::spawn_on("2026-02-20".parse().unwrap()).await;
    let p = People::new(&app).await;
    let id = open(&app, &p, "Child F").await;
    for (on, b) in happened().into_iter().take(6) {
        record(&app, &p, &id, on, &b).await;
    }
    let (status, v) = app
        .upload(
            &p.reviewer,
            &id,
            &[("kind", "final_report"), ("title", "Final report")],
            Some(("final.pdf", &pdf(1))),
        )
        .await;
    assert_eq!(status, 201, "{v}");
    let answer = app
        .ok_event(
            &p.pm,
            &id,
            json!({"type": "final_report_submitted", "occurred_on": "2026-02-13"}),
        )
        .await;
    assert_eq!(answer["stage"], "quality_assurance");
    assert_eq!(answer["event"]["recorded_late"], "recorded 7 days later");
}
