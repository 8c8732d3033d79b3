//! Who sees and records what; validation; references.

use serde_json::json;

use lcspr_tracker::domain::roles::Role;

use crate::support::api::deadline;
use crate::support::walk::{Cast, Step};
use crate::support::TestApp;

#[actix_web::test]
async fn lead_reviewers_see_only_their_cases_and_identity_is_restricted() {
    let app = TestApp::spawn_on("2026-02-02".parse().unwrap()).await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let chair = app.user(Role::CoChair, "Chris Chair").await;
    let bm = app.user(Role::BusinessManager, "Bea Business").await;
    let rev = app.user(Role::LeadReviewer, "Rae Reviewer").await;
    let admin = app.user(Role::Admin, "Ada Admin").await;
    let mine = app.open_case(&pm, "2026-01-05", "Child A").await;
    let other = app.open_case(&pm, "2026-01-06", "Child B").await;
    let (mine, other) = (mine["id"].as_str().unwrap(), other["id"].as_str().unwrap());
    let cast = Cast {
        pm: &pm,
        chair: &chair,
        board: None,
        reviewer: Some(&rev),
    };
    app.walk(
        mine,
        &cast,
        &[
            ("2026-01-07", Step::Sin),
            ("2026-01-20", Step::RapidReview),
            ("2026-01-26", Step::PanelAgrees),
            ("2026-01-27", Step::Decided),
            ("2026-01-28", Step::Appointed),
        ],
    )
    .await;

    let (status, list) = app.get_json("/api/v1/cases", Some(&rev.token)).await;
    assert_eq!(status, 200);
    assert_eq!(list["total"], 1);
    assert_eq!(list["cases"][0]["id"], mine);
    let (status, _) = app
        .get_json(&format!("/api/v1/cases/{other}"), Some(&rev.token))
        .await;
    assert_eq!(
        status, 404,
        "not 403: the case's existence is not confirmed"
    );
    let (status, _) = app
        .get_json(
            &format!("/api/v1/cases/{other}/deadlines"),
            Some(&rev.token),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .event(
            &rev,
            other,
            json!({"type": "review_meeting", "occurred_on": "2026-02-02"}),
        )
        .await;
    assert_eq!(status, 404);
    // Review activity on their own case; nothing else.
    let (status, _) = app
        .event(
            &rev,
            mine,
            json!({"type": "review_meeting", "occurred_on": "2026-02-02"}),
        )
        .await;
    assert_eq!(status, 201);
    let (status, body) = app
        .event(
            &rev,
            mine,
            json!({"type": "progress_check", "occurred_on": "2026-02-02", "note": "x"}),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    let (status, _) = app
        .get_json(&format!("/api/v1/cases/{mine}/audit"), Some(&rev.token))
        .await;
    assert_eq!(status, 403);

    // Identity: the co-chair and programme manager see it; the business manager does not.
    let (_, seen) = app
        .get_json(&format!("/api/v1/cases/{other}"), Some(&chair.token))
        .await;
    assert_eq!(seen["child_name"], "Real Name");
    assert_eq!(seen["child_dob"], "2015-03-04");
    let (status, seen) = app
        .get_json(&format!("/api/v1/cases/{other}"), Some(&bm.token))
        .await;
    assert_eq!(status, 200);
    assert!(
        seen.get("child_name").is_none() && seen.get("child_dob").is_none(),
        "{seen}"
    );
    assert_eq!(seen["child_pseudonym"], "Child B");
    // The admin sees no case content at all.
    let (_, list) = app.get_json("/api/v1/cases", Some(&admin.token)).await;
    assert_eq!(list["total"], 0);
    let (status, _) = app
        .get_json(&format!("/api/v1/cases/{mine}"), Some(&admin.token))
        .await;
    assert_eq!(status, 404);
    // Opening cases is for the programme manager and co-chairs.
    let (status, _) = app
        .post_json("/api/v1/cases", Some(&bm.token), json!({"child_pseudonym": "X", "aware_on": "2026-01-01", "incident_on": "2026-01-01", "harm": "death", "looked_after": false, "summary": "s"}))
        .await;
    assert_eq!(status, 403);
}

#[actix_web::test]
async fn bad_events_are_refused_with_the_field_and_change_nothing() {
    let app = TestApp::spawn_on("2026-01-12".parse().unwrap()).await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let board = app.user(Role::BoardMember, "Bo Board").await;
    let case = app.open_case(&pm, "2026-01-05", "Child C").await;
    let id = case["id"].as_str().unwrap();
    let cases = [
        (
            json!({"type": "sin_submitted", "occurred_on": "2026-02-30"}),
            "occurred_on",
            "not a real date",
        ),
        (
            json!({"type": "sin_submitted", "occurred_on": "2026-01-13"}),
            "occurred_on",
            "future",
        ),
        (
            json!({"type": "sin_submitted", "occurred_on": "2026-01-02"}),
            "occurred_on",
            "before",
        ),
        (
            json!({"type": "sin_submitted", "occurred_on": "2026-01-06", "colour": "red"}),
            "colour",
            "not a known field",
        ),
        (
            json!({"type": "published", "occurred_on": "2026-01-06", "url": "https://x"}),
            "type",
            "notification stage",
        ),
        (
            json!({"type": "dance", "occurred_on": "2026-01-06"}),
            "type",
            "sin_submitted",
        ),
        (json!({"occurred_on": "2026-01-06"}), "type", "event type"),
    ];
    for (body, field, words) in cases {
        let (status, err) = app.event(&pm, id, body.clone()).await;
        assert_eq!(status, 422, "{body} → {err}");
        assert_eq!(err["error"]["field"], field, "{body} → {err}");
        assert!(
            err["error"]["message"].as_str().unwrap().contains(words),
            "{body} → {err}"
        );
    }
    // The wrong role is 403, before any other check.
    let (status, _) = app
        .event(
            &board,
            id,
            json!({"type": "sin_submitted", "occurred_on": "2026-02-30"}),
        )
        .await;
    assert_eq!(status, 403);
    let (_, after) = app
        .get_json(&format!("/api/v1/cases/{id}"), Some(&pm.token))
        .await;
    assert_eq!(after["events"].as_array().unwrap().len(), 1);
    assert_eq!(after["stage"], "notification");
    // Due Mon 12 Jan 2026, which is today: still pending.
    assert_eq!(deadline(&after, "sin_submission")["status"], "pending");
}

#[actix_web::test]
async fn new_case_validation_names_fields() {
    let app = TestApp::spawn_on("2026-01-12".parse().unwrap()).await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let (status, err) = app
        .post_json("/api/v1/cases", Some(&pm.token), json!({"child_pseudonym": "", "aware_on": "2026-01-20", "incident_on": "2026-01-21", "harm": "injury"}))
        .await;
    assert_eq!(status, 422);
    let fields: Vec<&str> = err["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    for f in [
        "child_pseudonym",
        "harm",
        "looked_after",
        "summary",
        "aware_on",
        "incident_on",
    ] {
        assert!(fields.contains(&f), "{f} missing from {fields:?}");
    }
    let (_, list) = app.get_json("/api/v1/cases", Some(&pm.token)).await;
    assert_eq!(list["total"], 0);
}

#[actix_web::test]
async fn references_are_unique_under_concurrent_creation() {
    let app = TestApp::spawn_on("2026-05-01".parse().unwrap()).await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let mut handles = vec![];
    for i in 0..8 {
        let (client, url, token) = (
            app.client.clone(),
            app.url("/api/v1/cases"),
            pm.token.clone(),
        );
        handles.push(actix_web::rt::spawn(async move {
            let mut resp = client
                .post(url)
                .bearer_auth(token)
                .send_json(&json!({"child_pseudonym": format!("Child {i}"), "aware_on": "2026-04-20", "incident_on": "2026-04-19", "harm": "serious_harm", "looked_after": false, "summary": "s"}))
                .await
                .unwrap();
            let body: serde_json::Value = serde_json::from_slice(&resp.body().await.unwrap()).unwrap();
            (resp.status().as_u16(), body)
        }));
    }
    let mut refs = vec![];
    for h in handles {
        let (status, body) = h.await.unwrap();
        assert_eq!(status, 201, "{body}");
        refs.push(body["reference"].as_str().unwrap().to_string());
    }
    refs.sort();
    let expected: Vec<String> = (1..=8).map(|n| format!("BSCP2026-27-{n:02}")).collect();
    assert_eq!(refs, expected);
    // A case from the previous financial year starts its own sequence.
    let old = app.open_case(&pm, "2026-03-31", "Child Z").await;
    assert_eq!(old["reference"], "BSCP2025-26-01");
}

#[actix_web::test]
async fn case_list_filters_sorts_and_names_bad_parameters() {
    let app = TestApp::spawn_on("2026-02-02".parse().unwrap()).await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let late = app.open_case(&pm, "2026-01-05", "Child Late").await;
    let fresh = app.open_case(&pm, "2026-02-02", "Child Fresh").await;
    let (_, missed) = app
        .get_json("/api/v1/cases?deadline_status=missed", Some(&pm.token))
        .await;
    assert_eq!(missed["total"], 1);
    assert_eq!(missed["cases"][0]["id"], late["id"]);
    assert!(missed["cases"][0]["overdue"].as_u64().unwrap() >= 1);
    let (_, pending) = app
        .get_json(
            "/api/v1/cases?deadline_status=pending&stage=notification",
            Some(&pm.token),
        )
        .await;
    assert_eq!(pending["total"], 1);
    assert_eq!(pending["cases"][0]["id"], fresh["id"]);
    let (_, sorted) = app
        .get_json("/api/v1/cases?sort=aware_on&order=desc", Some(&pm.token))
        .await;
    assert_eq!(sorted["cases"][0]["id"], fresh["id"]);
    let (_, by_due) = app.get_json("/api/v1/cases", Some(&pm.token)).await;
    assert_eq!(by_due["cases"][0]["id"], late["id"], "most urgent first");
    let (_, year) = app
        .get_json("/api/v1/cases?year=2024-25", Some(&pm.token))
        .await;
    assert_eq!(year["total"], 0);
    for (q, field) in [
        ("stage=nope", "stage"),
        ("year=2025", "year"),
        ("sort=colour", "sort"),
        ("deadline_status=late", "deadline_status"),
    ] {
        let (status, err) = app
            .get_json(&format!("/api/v1/cases?{q}"), Some(&pm.token))
            .await;
        assert_eq!(status, 400, "{q}");
        assert_eq!(err["error"]["field"], field, "{q}");
    }
    // Shaped like a financial year (the schema's pattern) but not two years in a row: 422.
    let (status, err) = app
        .get_json("/api/v1/cases?year=4340-70", Some(&pm.token))
        .await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["error"]["field"], "year");
    // Page numbers and sizes out of range are refused as 422 (tests/it/probe.rs has more).
    let (status, err) = app.get_json("/api/v1/cases?page=0", Some(&pm.token)).await;
    assert_eq!(
        (status, err["error"]["field"].clone()),
        (422, serde_json::json!("page"))
    );
}

/// The one visibility rule read two ways: the list's SQL filter and the case view's check agree
/// for every role, related to a case or not.
#[actix_web::test]
async fn the_list_shows_exactly_the_cases_each_role_may_open() {
    let app = TestApp::spawn_on("2026-02-02".parse().unwrap()).await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let chair = app.user(Role::CoChair, "Chris Chair").await;
    let rev = app.user(Role::LeadReviewer, "Rae Reviewer").await;
    let other_rev = app.user(Role::LeadReviewer, "Otto Reviewer").await;
    let member = app.user(Role::SubgroupMember, "Mo Member").await;
    let other_member = app.user(Role::SubgroupMember, "Mia Member").await;
    let bm = app.user(Role::BusinessManager, "Bea Business").await;
    let board = app.user(Role::BoardMember, "Bo Board").await;
    let admin = app.user(Role::Admin, "Ada Admin").await;
    let related = app.open_case(&pm, "2026-01-05", "Child A").await;
    let plain = app.open_case(&pm, "2026-01-06", "Child B").await;
    let related = related["id"].as_str().unwrap();
    let cast = Cast {
        pm: &pm,
        chair: &chair,
        board: None,
        reviewer: Some(&rev),
    };
    app.walk_to(
        related,
        &cast,
        lcspr_tracker::domain::case::Stage::InReview,
        "2026-01-07",
    )
    .await;
    let (status, _) = app
        .post_json(
            &format!("/api/v1/cases/{related}/conflict"),
            Some(&member.token),
            json!({"note": "Works at the child's school"}),
        )
        .await;
    assert_eq!(status, 204);
    let cases = [related, plain["id"].as_str().unwrap()];
    for user in [
        &pm,
        &chair,
        &rev,
        &other_rev,
        &member,
        &other_member,
        &bm,
        &board,
        &admin,
    ] {
        let (_, list) = app.get_json("/api/v1/cases", Some(&user.token)).await;
        let mut listed: Vec<&str> = list["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap())
            .collect();
        let mut opened = vec![];
        for id in cases {
            let (status, _) = app
                .get_json(&format!("/api/v1/cases/{id}"), Some(&user.token))
                .await;
            assert!(status == 200 || status == 404, "{status}");
            if status == 200 {
                opened.push(id);
            }
        }
        listed.sort_unstable();
        opened.sort_unstable();
        assert_eq!(listed, opened, "{} ({:?})", user.email, user.role);
    }
    // And what each sees, as DESIGN.md §1 says.
    let sees = |user: &crate::support::api::User| {
        let user = user.clone();
        let app = &app;
        async move {
            let (_, list) = app.get_json("/api/v1/cases", Some(&user.token)).await;
            list["total"].as_i64().unwrap()
        }
    };
    assert_eq!(sees(&rev).await, 1);
    assert_eq!(sees(&other_rev).await, 0);
    assert_eq!(
        sees(&member).await,
        1,
        "not the case with the declared conflict"
    );
    assert_eq!(sees(&other_member).await, 2);
    assert_eq!(sees(&board).await, 2);
    assert_eq!(sees(&admin).await, 0);
}
