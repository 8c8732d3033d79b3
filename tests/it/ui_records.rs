//! The pages of corrections (issue 10 §3): Correct and Void on the timeline for the roles
//! allowed, the original struck through with who, when and why, "Check your answers" before a
//! void and before an irreversible event, and Change on the case's summary.

use serde_json::json;

use lcspr_tracker::domain::roles::Role;

use crate::support::browser::Browser;
use crate::support::TestApp;

fn day(s: &str) -> chrono::NaiveDate {
    s.parse().unwrap()
}

#[actix_web::test]
async fn correct_and_void_from_the_timeline_with_check_your_answers() {
    let app = TestApp::spawn_on(day("2026-03-10")).await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let board = app.user(Role::BoardMember, "Bo Board").await;
    let case = app.open_case(&pm, "2026-03-02", "Child Q").await;
    let id = case["id"].as_str().unwrap();
    let sin = app
        .ok_event(&pm, id, json!({"type": "sin_submitted", "occurred_on": "2026-03-05", "ofsted_reference": "OF-1"}))
        .await;
    let sin_id = sin["event"]["id"].as_str().unwrap().to_string();
    let partners = app
        .ok_event(
            &pm,
            id,
            json!({"type": "partners_informed", "occurred_on": "2026-03-04"}),
        )
        .await;
    let partners_id = partners["event"]["id"].as_str().unwrap().to_string();

    // A board member sees no Correct or Void links, and the pages refuse them.
    let viewer = Browser::new(&app);
    viewer.sign_in(&board.email).await;
    let page = viewer.get(&format!("/cases/{id}")).await;
    assert!(!page.body.contains("/correct\""), "{}", page.main());
    assert_eq!(
        viewer
            .get(&format!("/cases/{id}/events/{sin_id}/void"))
            .await
            .status,
        403
    );

    let b = Browser::new(&app);
    b.sign_in(&pm.email).await;
    let page = b.get(&format!("/cases/{id}")).await;
    let main = page.main();
    assert!(
        main.contains(&format!("href=\"/cases/{id}/events/{sin_id}/correct\"")),
        "{main}"
    );
    assert!(main.contains(&format!("href=\"/cases/{id}/events/{sin_id}/void\"")));
    // The partners were told on the 4th, entered after the SIN: "recorded 6 days later".
    assert!(main.contains("(recorded 6 days later)"), "{main}");
    assert!(main.contains(&format!("href=\"/cases/{id}/change/aware_on\"")));

    // Correct: the form starts with the recorded values; the reason is required.
    let form = b.get(&format!("/cases/{id}/events/{sin_id}/correct")).await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("value=\"OF-1\""));
    assert!(form
        .body
        .contains("name=\"occurred_on-day\" type=\"text\" inputmode=\"numeric\" value=\"5\""));
    let path = format!("/cases/{id}/events/{sin_id}/correct");
    let (csrf, form_id) = (form.hidden("csrf_token"), form.hidden("form_id"));
    let mut fields = vec![
        ("csrf_token", csrf.as_str()),
        ("form_id", form_id.as_str()),
        ("occurred_on-day", "3"),
        ("occurred_on-month", "3"),
        ("occurred_on-year", "2026"),
        ("ofsted_reference", "OF-1"),
    ];
    let a = b.post(&path, &fields).await;
    assert_eq!(a.status, 422);
    assert!(
        a.main()
            .contains("<a href=\"#change_reason\">Enter why the event is being corrected</a>"),
        "{}",
        a.main()
    );
    fields.push(("change_reason", "The date was typed wrong"));
    let a = b.post(&path, &fields).await;
    assert_eq!(a.status, 303, "{}", a.body);
    let page = b.get(a.location()).await;
    let main = page.main();
    assert!(main.contains("Event corrected"));
    assert!(main.contains("<del>5 March 2026</del>"), "{main}");
    assert!(main.contains("Corrected by Pat Manager"));
    assert!(main.contains("The date was typed wrong"));

    // Void: the reason, then Check your answers, then the void.
    let form = b
        .get(&format!("/cases/{id}/events/{partners_id}/void"))
        .await;
    assert_eq!(form.status, 200);
    let path = format!("/cases/{id}/events/{partners_id}/void");
    let (csrf, form_id) = (form.hidden("csrf_token"), form.hidden("form_id"));
    let base = [("csrf_token", csrf.as_str()), ("form_id", form_id.as_str())];
    let mut with_reason = base.to_vec();
    with_reason.push(("reason", "Recorded on the wrong case"));
    let check = b.post(&path, &with_reason).await;
    assert_eq!(check.status, 200, "{}", check.body);
    let main = check.main();
    assert!(
        main.contains("Check your answers before voiding: Safeguarding partners informed"),
        "{main}"
    );
    assert!(main.contains("Recorded on the wrong case"));
    assert!(main.contains("name=\"confirm\" value=\"yes\""));
    // Nothing voided yet.
    let (_, c) = app
        .get_json(&format!("/api/v1/cases/{id}"), Some(&pm.token))
        .await;
    assert!(c["events"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["voided"].is_null()));
    let mut confirmed = with_reason.clone();
    confirmed.push(("confirm", "yes"));
    let done = b.post(&path, &confirmed).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let page = b.get(done.location()).await;
    let main = page.main();
    assert!(main.contains("Event voided"));
    assert!(
        main.contains("<del>Safeguarding partners informed</del>"),
        "{main}"
    );
    assert!(main.contains("Voided</strong> by Pat Manager"));
    let (_, c) = app
        .get_json(&format!("/api/v1/cases/{id}"), Some(&pm.token))
        .await;
    let voided: Vec<_> = c["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| !e["voided"].is_null())
        .collect();
    assert_eq!(voided.len(), 1);
    assert_eq!(voided[0]["voided"]["reason"], "Recorded on the wrong case");
}

#[actix_web::test]
async fn an_irreversible_event_is_checked_before_it_is_recorded() {
    let app = TestApp::spawn_on(day("2026-03-10")).await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let chair = app.user(Role::CoChair, "Chris Chair").await;
    let case = app.open_case(&pm, "2026-03-02", "Child W").await;
    let id = case["id"].as_str().unwrap();
    let b = Browser::new(&app);
    b.sign_in(&chair.email).await;
    let form = b.get(&format!("/cases/{id}/events/withdrawn")).await;
    assert_eq!(form.status, 200);
    let path = format!("/cases/{id}/events/withdrawn");
    let (csrf, form_id) = (form.hidden("csrf_token"), form.hidden("form_id"));
    let fields = vec![
        ("csrf_token", csrf.as_str()),
        ("form_id", form_id.as_str()),
        ("occurred_on-day", "9"),
        ("occurred_on-month", "3"),
        ("occurred_on-year", "2026"),
        ("reason", "The criteria were not met"),
    ];
    let check = b.post(&path, &fields).await;
    assert_eq!(check.status, 200, "{}", check.body);
    let main = check.main();
    assert!(
        main.contains("Check your answers before recording: Notification withdrawn"),
        "{main}"
    );
    assert!(main.contains("9 March 2026"));
    assert!(main.contains("The criteria were not met"));
    let (_, c) = app
        .get_json(&format!("/api/v1/cases/{id}"), Some(&pm.token))
        .await;
    assert_eq!(
        c["stage"], "notification",
        "nothing recorded before the confirmation"
    );
    // Change your answers goes back to the form with them.
    let mut edit = fields.clone();
    edit.push(("edit", "yes"));
    let back = b.post(&path, &edit).await;
    assert_eq!(back.status, 200);
    assert!(back.body.contains("The criteria were not met</textarea>"));
    let mut confirmed = fields.clone();
    confirmed.push(("confirm", "yes"));
    let done = b.post(&path, &confirmed).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let (_, c) = app
        .get_json(&format!("/api/v1/cases/{id}"), Some(&pm.token))
        .await;
    assert_eq!(c["stage"], "withdrawn");
    // The deadlines the service stopped needing say so, and why (not "Waived", which is a
    // co-chair's decision).
    let page = b.get(&format!("/cases/{id}")).await;
    let main = page.main();
    assert!(main.contains(">No longer needed</strong>"), "{main}");
    assert!(
        main.contains("Why: notification withdrawn on 9 Mar 2026"),
        "{main}"
    );
    assert!(!main.contains(">Waived</strong>"));
    // An event the stage does not allow: said plainly, not as a failure of the service.
    let refused = b.get(&format!("/cases/{id}/events/sin_submitted")).await;
    assert_eq!(refused.status, 409);
    assert!(
        refused.main().contains("This cannot be recorded now"),
        "{}",
        refused.main()
    );
    assert!(!refused.main().contains("Sorry"));
}

#[actix_web::test]
async fn a_deadline_met_late_says_by_how_much() {
    let app = TestApp::spawn_on(day("2026-03-11")).await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let case = app.open_case(&pm, "2026-03-02", "Child L").await;
    let id = case["id"].as_str().unwrap();
    // Due Monday 9 March; submitted Wednesday 11 March.
    app.ok_event(
        &pm,
        id,
        json!({"type": "sin_submitted", "occurred_on": "2026-03-11"}),
    )
    .await;
    let b = Browser::new(&app);
    b.sign_in(&pm.email).await;
    let page = b.get(&format!("/cases/{id}")).await;
    let main = page.main();
    assert!(
        main.contains(">Met late (2 working days)</strong>"),
        "{main}"
    );
    assert!(!main.contains(">Missed</strong>"));
    // What happens next, and who acts.
    assert!(main.contains("What happens next"));
    assert!(
        main.contains("The co-chairs send the rapid review to the Panel. Soonest deadline: Tell the safeguarding partners, for the programme manager, due 9 March 2026."),
        "{main}"
    );
}

#[actix_web::test]
async fn a_detail_is_changed_from_the_summary_with_a_reason() {
    let app = TestApp::spawn_on(day("2026-03-10")).await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let case = app.open_case(&pm, "2026-03-02", "Child Z").await;
    let id = case["id"].as_str().unwrap();
    let b = Browser::new(&app);
    b.sign_in(&pm.email).await;
    let form = b.get(&format!("/cases/{id}/change/aware_on")).await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("value=\"2\""));
    let path = format!("/cases/{id}/change/aware_on");
    let (csrf, form_id) = (form.hidden("csrf_token"), form.hidden("form_id"));
    let mut fields = vec![
        ("csrf_token", csrf.as_str()),
        ("form_id", form_id.as_str()),
        ("aware_on-day", "3"),
        ("aware_on-month", "3"),
        ("aware_on-year", "2026"),
    ];
    let a = b.post(&path, &fields).await;
    assert_eq!(a.status, 422);
    assert!(a.main().contains("Enter why it is being changed"));
    fields.push(("reason", "The referral arrived a day later"));
    let a = b.post(&path, &fields).await;
    assert_eq!(a.status, 303, "{}", a.body);
    let page = b.get(a.location()).await;
    assert!(page.main().contains("Case details changed"));
    assert!(page.main().contains("3 March 2026"));
    let (_, c) = app
        .get_json(&format!("/api/v1/cases/{id}"), Some(&pm.token))
        .await;
    assert_eq!(c["aware_on"], "2026-03-03");
}
