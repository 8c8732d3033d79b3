//! Issue 10 §5 through the API: the three pre-publication copies recorded together (one
//! event each, all or nothing), `publication_delayed` with the revised date moving the copy
//! deadlines, a plan or a publication too soon refused with one message naming the earliest
//! permissible date, and a justification only when the full report is not published.

use serde_json::{json, Value};

use lcspr_tracker::domain::case::Stage;
use lcspr_tracker::domain::roles::Role;

use crate::support::api::{deadline, User};
use crate::support::walk::Cast;
use crate::support::TestApp;

fn day(s: &str) -> chrono::NaiveDate {
    s.parse().unwrap()
}

/// A case at publication planning (ratified 8 April 2026), planned on 11 May 2026 for
/// publication on Tuesday 30 June 2026; today is 20 May 2026.
async fn planned_case(app: &TestApp) -> (User, String) {
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let chair = app.user(Role::CoChair, "Chris Chair").await;
    let reviewer = app.user(Role::LeadReviewer, "Rita Reviewer").await;
    let case = app.open_case(&pm, "2026-03-30", "Child P").await;
    let id = case["id"].as_str().unwrap().to_string();
    let cast = Cast {
        pm: &pm,
        chair: &chair,
        board: None,
        reviewer: Some(&reviewer),
    };
    app.walk_to(&id, &cast, Stage::PublicationPlanning, "2026-04-01")
        .await;
    let plan = app
        .ok_event(&pm, &id, json!({"type": "publication_planned", "occurred_on": "2026-05-11", "publication_on": "2026-06-30", "format": "full"}))
        .await;
    // Seven working days before Tue 30 Jun 2026: Fri 19 Jun 2026.
    assert_eq!(deadline(&plan, "prepub_panel")["due_on"], "2026-06-19");
    (pm, id)
}

async fn events_of(app: &TestApp, pm: &User, id: &str) -> Vec<Value> {
    let (status, case) = app
        .get_json(&format!("/api/v1/cases/{id}"), Some(&pm.token))
        .await;
    assert_eq!(status, 200);
    case["events"].as_array().unwrap().clone()
}

#[actix_web::test]
async fn copies_to_several_recipients_are_recorded_together_or_not_at_all() {
    let app = TestApp::spawn_on(day("2026-05-20")).await;
    let (pm, id) = planned_case(&app).await;
    let before = events_of(&app, &pm, &id).await.len();

    // Refused, nothing recorded: an empty list, an unknown recipient, both shapes at once, a
    // document that is not the case's.
    for (body, field, words) in [
        (
            json!({"type": "prepub_copy_sent", "occurred_on": "2026-05-19", "recipients": []}),
            "recipients",
            "select at least one recipient",
        ),
        (
            json!({"type": "prepub_copy_sent", "occurred_on": "2026-05-19", "recipients": ["panel", "mars"]}),
            "recipients",
            "secretary_of_state",
        ),
        (
            json!({"type": "prepub_copy_sent", "occurred_on": "2026-05-19", "recipient": "panel", "recipients": ["ofsted"]}),
            "recipients",
            "not both",
        ),
        (
            json!({"type": "prepub_copy_sent", "occurred_on": "2026-05-19", "recipients": ["panel", "ofsted"], "document_id": "nope", "version": 1}),
            "document_id",
            "no final or summary report",
        ),
        (
            json!({"type": "prepub_copy_sent", "occurred_on": "2026-05-21", "recipients": ["panel", "ofsted"]}),
            "occurred_on",
            "future",
        ),
    ] {
        let (status, err) = app.event(&pm, &id, body.clone()).await;
        assert_eq!(status, 422, "{body}: {err}");
        assert_eq!(err["error"]["field"], field, "{body}: {err}");
        let message = err["error"]["message"].as_str().unwrap();
        assert!(message.contains(words), "{body}: {message}");
        assert_eq!(events_of(&app, &pm, &id).await.len(), before, "{body}");
    }

    // Two recipients on one date, named twice and out of order: one event each, in the
    // order of the three recipients.
    let answer = app
        .ok_event(&pm, &id, json!({"type": "prepub_copy_sent", "occurred_on": "2026-05-19", "recipients": ["secretary_of_state", "panel", "panel"]}))
        .await;
    let recorded = answer["events"].as_array().expect("every event recorded");
    let recipients: Vec<&str> = recorded
        .iter()
        .map(|e| e["fields"]["recipient"].as_str().unwrap())
        .collect();
    assert_eq!(recipients, ["panel", "secretary_of_state"]);
    assert_eq!(answer["event"]["id"], recorded[0]["id"]);
    assert!(recorded
        .iter()
        .all(|e| e["occurred_on"] == "2026-05-19" && e["type"] == "prepub_copy_sent"));
    assert_eq!(deadline(&answer, "prepub_panel")["status"], "met");
    assert_eq!(
        deadline(&answer, "prepub_secretary_of_state")["status"],
        "met"
    );
    assert!(answer["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["rule"] != "prepub_ofsted"));
    assert_eq!(events_of(&app, &pm, &id).await.len(), before + 2);

    // One recipient as before: one event, no list.
    let one = app
        .ok_event(
            &pm,
            &id,
            json!({"type": "prepub_copy_sent", "occurred_on": "2026-05-20", "recipient": "ofsted"}),
        )
        .await;
    assert!(one.get("events").is_none(), "{one}");
    assert_eq!(deadline(&one, "prepub_ofsted")["status"], "met");

    // Each copy is in the audit trail.
    let (_, trail) = app
        .get_json(&format!("/api/v1/cases/{id}/audit"), Some(&pm.token))
        .await;
    let copies = trail
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "event_recorded" && e["subject"] == "prepub_copy_sent")
        .count();
    assert_eq!(copies, 3, "{trail}");
}

#[actix_web::test]
async fn a_delay_takes_the_revised_date_and_moves_the_copy_deadlines() {
    let app = TestApp::spawn_on(day("2026-05-20")).await;
    let (pm, id) = planned_case(&app).await;

    // The revised date is required, after the planned date, and not before the decision.
    for (body, words) in [
        (
            json!({"type": "publication_delayed", "occurred_on": "2026-05-19", "reason": "Inquest"}),
            "enter the revised publication date",
        ),
        (
            json!({"type": "publication_delayed", "occurred_on": "2026-05-19", "reason": "Inquest", "revised_publication_on": "2026-06-30"}),
            "after the planned date, 30 June 2026",
        ),
    ] {
        let (status, err) = app.event(&pm, &id, body.clone()).await;
        assert_eq!(status, 422, "{err}");
        assert_eq!(err["error"]["field"], "revised_publication_on", "{err}");
        let message = err["error"]["message"].as_str().unwrap();
        assert!(message.contains(words), "{message}");
    }

    // Delayed to Tue 14 Jul 2026: the copies are due seven working days before, Fri 3 Jul.
    let answer = app
        .ok_event(&pm, &id, json!({"type": "publication_delayed", "occurred_on": "2026-05-19", "reason": "Criminal proceedings", "revised_publication_on": "2026-07-14"}))
        .await;
    assert_eq!(
        answer["event"]["fields"]["revised_publication_on"],
        "2026-07-14"
    );
    for rule in ["prepub_panel", "prepub_ofsted", "prepub_secretary_of_state"] {
        let d = deadline(&answer, rule);
        assert_eq!(d["due_on"], "2026-07-03", "{rule}: {d}");
        assert_eq!(d["change"], "moved", "{rule}: {d}");
        assert_eq!(d["previous_due_on"], "2026-06-19", "{rule}: {d}");
        // Why this date: the plan, the delay and the revised date it counts back from.
        let why = d["explanation"]["text"].as_str().unwrap();
        assert!(
            why.contains(
                "Publication planned on Mon 11 May 2026, publication delayed on Tue 19 May 2026 to Tue 14 Jul 2026; 7 working days before Tue 14 Jul 2026"
            ),
            "{why}"
        );
    }
    // The moves are audited with before and after.
    let (_, trail) = app
        .get_json(&format!("/api/v1/cases/{id}/audit"), Some(&pm.token))
        .await;
    let delay = trail
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["subject"] == "publication_delayed")
        .expect("the delay audited");
    let text = delay.to_string();
    assert!(
        text.contains("2026-06-19") && text.contains("2026-07-03"),
        "{text}"
    );

    // Publication now, the copies not sent, is refused with one message naming the earliest
    // permissible date.
    let (status, err) = app
        .event(&pm, &id, json!({"type": "published", "occurred_on": "2026-05-20", "url": "https://example.org/report"}))
        .await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["error"]["field"], "occurred_on");
    let message = err["error"]["message"].as_str().unwrap();
    // Sent today (Wed 20 May) at the earliest: Sat 30 May 2026 (Spring bank holiday 25 May).
    assert!(
        message.contains(
            "20 May 2026 is too soon: the earliest permissible publication date is 30 May 2026. No copy"
        ),
        "{message}"
    );
}

#[actix_web::test]
async fn a_plan_too_soon_is_refused_with_the_earliest_date_and_a_justification_only_when_it_applies(
) {
    let app = TestApp::spawn_on(day("2026-05-20")).await;
    let (pm, id) = planned_case(&app).await;
    // Planned on Tue 19 May for Fri 22 May: copies could go on the 19th at the earliest.
    let (status, err) = app
        .event(&pm, &id, json!({"type": "publication_planned", "occurred_on": "2026-05-19", "publication_on": "2026-05-22", "format": "full"}))
        .await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["error"]["field"], "publication_on");
    assert_eq!(
        err["error"]["message"],
        "publication_on: 22 May 2026 is too soon: the earliest permissible publication date is 29 May 2026"
    );
    // That date is allowed.
    app.ok_event(&pm, &id, json!({"type": "publication_planned", "occurred_on": "2026-05-19", "publication_on": "2026-05-29", "format": "full"}))
        .await;
    // A justification for publishing in full is refused; a summary needs one.
    let (status, err) = app
        .event(&pm, &id, json!({"type": "publication_planned", "occurred_on": "2026-05-19", "publication_on": "2026-06-30", "format": "full", "justification": "Not needed"}))
        .await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["error"]["field"], "justification");
    let (status, err) = app
        .event(&pm, &id, json!({"type": "publication_planned", "occurred_on": "2026-05-19", "publication_on": "2026-06-30", "format": "summary"}))
        .await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["error"]["field"], "justification");
    app.ok_event(&pm, &id, json!({"type": "publication_planned", "occurred_on": "2026-05-19", "publication_on": "2026-06-30", "format": "summary", "justification": "The family asked that the details stay private"}))
        .await;
}
