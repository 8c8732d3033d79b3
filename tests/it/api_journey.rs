//! A case from awareness to publication, driven only through the API on a fresh database:
//! the statutory dates at each step, the publication refused while a pre-publication copy was
//! late and accepted once the date is moved, and an audit trail that verifies.

use serde_json::json;

use lcspr_tracker::app::audit::{self, Verification};
use lcspr_tracker::domain::roles::Role;

use crate::support::api::deadline;
use crate::support::TestApp;

#[actix_web::test]
async fn a_case_from_awareness_to_publication() {
    let app = TestApp::spawn_on("2025-12-18".parse().unwrap()).await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let chair = app.user(Role::CoChair, "Chris Chair").await;
    let board = app.user(Role::BoardMember, "Bo Board").await;
    let reviewer = app.user(Role::LeadReviewer, "Rae Reviewer").await;

    // Aware Thu 18 Dec 2025 → SIN due Mon 29 Dec 2025, over Christmas.
    let case = app.open_case(&pm, "2025-12-18", "Child Q").await;
    let id = case["id"].as_str().unwrap().to_string();
    assert_eq!(case["reference"], "BSCP2025-26-01");
    assert_eq!(case["stage"], "notification");
    let sin = deadline(&case, "sin_submission");
    assert_eq!(sin["due_on"], "2025-12-29");
    assert_eq!(sin["status"], "pending");
    let text = sin["explanation"]["text"].as_str().unwrap();
    assert!(
        text.contains("Christmas Day") && text.contains("Boxing Day"),
        "{text}"
    );
    assert_eq!(deadline(&case, "partners_informed")["due_on"], "2025-12-29");

    app.set_today("2025-12-29");
    let case = app
        .ok_event(&pm, &id, json!({"type": "sin_submitted", "occurred_on": "2025-12-29", "ofsted_reference": "OF-123"}))
        .await;
    assert_eq!(case["stage"], "rapid_review");
    assert_eq!(deadline(&case, "sin_submission")["status"], "met");
    let rr = deadline(&case, "rapid_review");
    assert_eq!(rr["due_on"], "2026-01-20");
    assert!(rr["explanation"]["text"]
        .as_str()
        .unwrap()
        .contains("15 working days from Mon 29 Dec 2025, skipping Thu 1 Jan 2026 (New Year’s Day) → Tue 20 Jan 2026"));
    // Partners told a day late: missed, with the date it was met.
    app.set_today("2025-12-30");
    let case = app
        .ok_event(
            &pm,
            &id,
            json!({"type": "partners_informed", "occurred_on": "2025-12-30"}),
        )
        .await;
    let p = deadline(&case, "partners_informed");
    assert_eq!(
        (p["status"].as_str(), p["met_on"].as_str()),
        (Some("missed"), Some("2025-12-30"))
    );

    app.set_today("2026-01-19");
    let case = app
        .ok_event(
            &chair,
            &id,
            json!({"type": "rapid_review_sent", "occurred_on": "2026-01-19", "decision": "lcspr",
                   "rationale": "Agencies did not share information", "criteria": ["a", "c"]}),
        )
        .await;
    assert_eq!(case["stage"], "panel_response");
    assert_eq!(deadline(&case, "rapid_review")["status"], "met");
    assert_eq!(
        deadline(&case, "panel_response_chase")["due_on"],
        "2026-02-02"
    );

    app.set_today("2026-01-26");
    let case = app
        .ok_event(
            &pm,
            &id,
            json!({"type": "panel_response", "occurred_on": "2026-01-26", "outcome": "agrees"}),
        )
        .await;
    assert_eq!(case["stage"], "commissioning");
    // Only a co-chair records the decision to initiate.
    let (status, _) = app
        .event(
            &pm,
            &id,
            json!({"type": "lcspr_decided", "occurred_on": "2026-01-26"}),
        )
        .await;
    assert_eq!(status, 403);
    // The co-chair records the Sub-Group's decision, made at a quorate meeting that day.
    let decided = app
        .cite(
            &pm,
            &id,
            json!({"type": "lcspr_decided", "occurred_on": "2026-01-26"}),
        )
        .await;
    let case = app.ok_event(&chair, &id, decided).await;
    // Six calendar months from the decision.
    assert_eq!(deadline(&case, "lcspr_completion")["due_on"], "2026-07-26");

    app.set_today("2026-01-28");
    let case = app
        .ok_event(
            &pm,
            &id,
            json!({"type": "reviewer_appointed", "occurred_on": "2026-01-28", "reviewer_id": reviewer.id,
                   "conflict_declaration": "No conflicts declared"}),
        )
        .await;
    assert_eq!(case["stage"], "in_review");
    assert_eq!(deadline(&case, "progress_check")["due_on"], "2026-02-25");
    // The reviewer now sees the case, with the child's identity (their own case).
    let (status, seen) = app
        .get_json(&format!("/api/v1/cases/{id}"), Some(&reviewer.token))
        .await;
    assert_eq!(status, 200);
    assert_eq!(seen["child_name"], "Real Name");
    app.set_today("2026-02-10");
    app.ok_event(
        &reviewer,
        &id,
        json!({"type": "review_meeting", "occurred_on": "2026-02-10", "note": "Scoping"}),
    )
    .await;
    app.set_today("2026-02-25");
    app.ok_event(
        &pm,
        &id,
        json!({"type": "progress_check", "occurred_on": "2026-02-25", "note": "On time"}),
    )
    .await;
    app.set_today("2026-04-30");
    app.ok_event(
        &reviewer,
        &id,
        json!({"type": "final_report_submitted", "occurred_on": "2026-04-30"}),
    )
    .await;
    app.set_today("2026-05-06");
    let approved = app
        .cite(
            &pm,
            &id,
            json!({"type": "qa_approved", "occurred_on": "2026-05-06"}),
        )
        .await;
    let case = app.ok_event(&chair, &id, approved).await;
    assert_eq!(case["stage"], "ratification");
    app.set_today("2026-05-12");
    let ratified = app
        .cite(
            &pm,
            &id,
            json!({"type": "ratified", "occurred_on": "2026-05-12"}),
        )
        .await;
    let case = app.ok_event(&board, &id, ratified).await;
    assert_eq!(case["stage"], "publication_planning");

    // Publication Tue 9 Jun 2026 → copies due by Fri 29 May 2026 (Spring bank holiday Mon 25 May).
    let case = app
        .ok_event(&pm, &id, json!({"type": "publication_planned", "occurred_on": "2026-05-12", "publication_on": "2026-06-09", "format": "full"}))
        .await;
    for r in ["prepub_panel", "prepub_ofsted", "prepub_secretary_of_state"] {
        assert_eq!(deadline(&case, r)["due_on"], "2026-05-29", "{r}");
    }
    app.set_today("2026-05-28");
    app.ok_event(
        &pm,
        &id,
        json!({"type": "prepub_copy_sent", "occurred_on": "2026-05-28", "recipient": "panel"}),
    )
    .await;
    app.ok_event(&pm, &id, json!({"type": "prepub_copy_sent", "occurred_on": "2026-05-28", "recipient": "secretary_of_state"})).await;
    app.set_today("2026-06-01");
    let case = app
        .ok_event(
            &pm,
            &id,
            json!({"type": "prepub_copy_sent", "occurred_on": "2026-06-01", "recipient": "ofsted"}),
        )
        .await;
    assert_eq!(deadline(&case, "prepub_ofsted")["status"], "missed");

    // Publishing on the planned day is refused, naming Ofsted and the earliest date.
    app.set_today("2026-06-09");
    let (status, err) = app
        .event(&pm, &id, json!({"type": "published", "occurred_on": "2026-06-09", "url": "https://example.org/report"}))
        .await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["error"]["field"], "occurred_on");
    let message = err["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(
            "9 June 2026 is too soon: the earliest permissible publication date is 10 June 2026. The copy to Ofsted was sent on Mon 1 Jun 2026"
        ),
        "{message}"
    );
    let (_, unchanged) = app
        .get_json(&format!("/api/v1/cases/{id}"), Some(&pm.token))
        .await;
    assert_eq!(unchanged["stage"], "publication_planning");

    // The date is moved; the three deadlines move with it and are met; publication goes ahead.
    let case = app
        .ok_event(&pm, &id, json!({"type": "publication_planned", "occurred_on": "2026-06-09", "publication_on": "2026-06-11", "format": "full"}))
        .await;
    assert_eq!(deadline(&case, "prepub_ofsted")["due_on"], "2026-06-02");
    assert_eq!(deadline(&case, "prepub_ofsted")["status"], "met");
    app.set_today("2026-06-11");
    let case = app
        .ok_event(&pm, &id, json!({"type": "published", "occurred_on": "2026-06-11", "url": "https://example.org/report"}))
        .await;
    assert_eq!(case["stage"], "published");
    assert_eq!(deadline(&case, "lcspr_completion")["status"], "met");
    assert_eq!(deadline(&case, "website_retention")["due_on"], "2029-06-11");

    // Every step is in the audit trail, and the chain verifies.
    let (status, trail) = app
        .get_json(&format!("/api/v1/cases/{id}/audit"), Some(&chair.token))
        .await;
    assert_eq!(status, 200);
    let entries = trail.as_array().unwrap();
    let count = |action: &str, outcome: &str| {
        entries
            .iter()
            .filter(|e| e["action"] == action && e["outcome"] == outcome)
            .count()
    };
    assert_eq!(count("event_recorded", "ok"), 17);
    assert_eq!(count("event_recorded", "refused"), 2, "the 403 and the 422");
    assert_eq!(count("case_opened", "ok"), 1);
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"case_viewed"));
    let verified = app.state.db(|c, _| Ok(audit::verify(c)?)).await.unwrap();
    assert!(
        matches!(verified, Verification::Intact { entries } if entries > 25),
        "{verified:?}"
    );
}
