//! The path of one event: recording it costs the same few SQL statements however many events
//! the case already has, and the answer carries the event, the stage and only the deadlines
//! that changed.

use std::sync::{Arc, Mutex};

use diesel::connection::{Instrumentation, InstrumentationEvent};
use diesel::Connection;
use serde_json::{json, Value};

use lcspr_tracker::app::events;
use lcspr_tracker::app::Actor;
use lcspr_tracker::db::DbConnection;
use lcspr_tracker::domain::case::Stage;
use lcspr_tracker::domain::roles::Role;
use lcspr_tracker::state::AppState;

use crate::support::api::User;
use crate::support::browser::Browser;
use crate::support::walk::{Cast, Step};
use crate::support::TestApp;

/// The most statements one ordinary event may take, the transaction and the audit entry
/// included (PostgreSQL: BEGIN, the case with its people and the calendar's revision under the
/// row lock, the events, the deadlines, the event, the case's stage, the audit lock, the
/// audit chain's head, the audit entry, COMMIT).
const CEILING: usize = 10;

/// Counts the statements a closure sends on its connection (diesel's instrumentation), with
/// their SQL without the bound values.
fn statements<T>(
    app: &TestApp,
    f: impl FnOnce(&mut DbConnection, &AppState) -> T,
) -> (T, Vec<String>) {
    let mut conn = app.state.pool.get().expect("a connection");
    let seen = Arc::new(Mutex::new(vec![]));
    let log = seen.clone();
    conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
        if let InstrumentationEvent::StartQuery { query, .. } = event {
            let sql = query.to_string();
            let sql = sql
                .split(" -- binds:")
                .next()
                .unwrap_or("")
                .trim()
                .to_string();
            log.lock().unwrap().push(sql);
        }
    });
    let out = f(&mut conn, &app.state);
    conn.set_instrumentation(None::<Box<dyn Instrumentation>>);
    let seen = seen.lock().unwrap().clone();
    (out, seen)
}

fn actor(user: &User, name: &str) -> Actor {
    Actor {
        user_id: user.id.clone(),
        role: user.role,
        name: name.into(),
    }
}

/// A case in review (notification, rapid review, Panel, decision, appointment), nothing due.
async fn case_in_review(app: &TestApp, cast: &Cast<'_>) -> String {
    let case = app.open_case(cast.pm, "2026-01-05", "Child E").await;
    let id = case["id"].as_str().unwrap().to_string();
    app.walk(
        &id,
        cast,
        &[
            ("2026-01-06", Step::Sin),
            ("2026-01-06", Step::PartnersInformed),
            ("2026-01-07", Step::RapidReview),
            ("2026-01-08", Step::PanelAgrees),
            ("2026-01-09", Step::Decided),
            ("2026-01-09", Step::Appointed),
        ],
    )
    .await;
    id
}

fn meeting() -> serde_json::Map<String, Value> {
    json!({"type": "review_meeting", "occurred_on": "2026-01-12", "note": "Chronology agreed"})
        .as_object()
        .cloned()
        .unwrap()
}

#[actix_web::test]
async fn an_event_takes_the_same_few_statements_on_a_short_case_and_a_long_one() {
    let app = TestApp::spawn_on("2026-01-12".parse().unwrap()).await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let chair = app.user(Role::CoChair, "Chris Chair").await;
    let rev = app.user(Role::LeadReviewer, "Rae Reviewer").await;
    let cast = Cast {
        pm: &pm,
        chair: &chair,
        board: None,
        reviewer: Some(&rev),
    };
    let id = case_in_review(&app, &cast).await;
    let who = actor(&pm, "Pat Manager");
    let (recorded, short) = statements(&app, |c, st| {
        events::record_event(c, st, &who, &id, &meeting())
    });
    let recorded = recorded.expect("recorded");
    assert_eq!(recorded.deadlines.len(), 0, "a meeting changes no deadline");
    eprintln!("one event: {} statements", short.len());
    assert!(
        short.len() <= CEILING,
        "{} statements:\n{}",
        short.len(),
        short.join("\n")
    );
    assert!(short[0].starts_with("BEGIN") && short.last().unwrap() == "COMMIT");
    // Only the event and the case row are written, once each; nothing is read back.
    let writes: Vec<&String> = short
        .iter()
        .filter(|s| s.starts_with("INSERT") || s.starts_with("UPDATE"))
        .collect();
    assert_eq!(
        writes.len(),
        3,
        "the event, the case, the audit entry: {writes:?}"
    );

    // 200 events later, the same statements.
    let mut conn = app.state.pool.get().unwrap();
    for _ in 0..200 {
        events::record_event(&mut conn, &app.state, &who, &id, &meeting()).expect("recorded");
    }
    drop(conn);
    let (_, long) = statements(&app, |c, st| {
        events::record_event(c, st, &who, &id, &meeting())
    });
    assert_eq!(
        short, long,
        "the statements do not depend on the case's length"
    );
}

#[actix_web::test]
async fn an_event_that_meets_one_deadline_and_sets_the_next_stays_within_two_more() {
    let app = TestApp::spawn_on("2026-01-12".parse().unwrap()).await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let chair = app.user(Role::CoChair, "Chris Chair").await;
    let rev = app.user(Role::LeadReviewer, "Rae Reviewer").await;
    let cast = Cast {
        pm: &pm,
        chair: &chair,
        board: None,
        reviewer: Some(&rev),
    };
    let id = case_in_review(&app, &cast).await;
    let who = actor(&pm, "Pat Manager");
    let check = json!({"type": "progress_check", "occurred_on": "2026-01-12", "note": "On time"});
    let (recorded, sent) = statements(&app, |c, st| {
        events::record_event(c, st, &who, &id, check.as_object().unwrap())
    });
    let recorded = recorded.expect("recorded");
    let changes: Vec<(&str, &str)> = recorded
        .deadlines
        .iter()
        .map(|d| (d.deadline.rule.as_str(), d.change.as_str()))
        .collect();
    assert_eq!(
        changes,
        [("progress_check", "status"), ("progress_check", "created")]
    );
    // One update for the deadline met, one insert for the next check.
    assert!(
        sent.len() <= CEILING + 2,
        "{} statements:\n{}",
        sent.len(),
        sent.join("\n")
    );
}

#[actix_web::test]
async fn the_answer_is_the_event_the_stage_and_the_deadlines_that_changed() {
    let app = TestApp::spawn_on("2026-01-12".parse().unwrap()).await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let chair = app.user(Role::CoChair, "Chris Chair").await;
    let rev = app.user(Role::LeadReviewer, "Rae Reviewer").await;
    let case = app.open_case(&pm, "2026-01-05", "Child F").await;
    let id = case["id"].as_str().unwrap();
    let (status, body) = app
        .event(
            &pm,
            id,
            json!({"type": "sin_submitted", "occurred_on": "2026-01-06", "ofsted_reference": "OF-9"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["case_id"], id);
    assert_eq!(body["reference"], case["reference"]);
    assert_eq!(body["previous_stage"], "notification");
    assert_eq!(body["stage"], "rapid_review");
    assert_eq!(body["stage_label"], "Rapid review");
    assert_eq!(body["event"]["type"], "sin_submitted");
    assert_eq!(body["event"]["occurred_on"], "2026-01-06");
    assert_eq!(body["event"]["fields"]["ofsted_reference"], "OF-9");
    assert_eq!(body["event"]["recorded_by"]["name"], "Pat Manager");
    assert!(body.get("events").is_none(), "not the whole case: {body}");
    let changed: Vec<(String, String, String)> = body["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["rule"].as_str().unwrap().into(),
                d["change"].as_str().unwrap().into(),
                d["status"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(changed.contains(&("sin_submission".into(), "status".into(), "met".into())));
    assert!(changed.contains(&("rapid_review".into(), "created".into(), "pending".into())));
    assert!(
        !changed
            .iter()
            .any(|(rule, _, _)| rule == "partners_informed"),
        "an unchanged deadline is not repeated: {body}"
    );
    // The answer's Location is the case.
    let resp = app
        .client
        .post(app.url(&format!("/api/v1/cases/{id}/events")))
        .bearer_auth(&pm.token)
        .send_json(&json!({"type": "partners_informed", "occurred_on": "2026-01-06"}))
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    assert_eq!(
        resp.headers().get("location").unwrap().to_str().unwrap(),
        format!("/api/v1/cases/{id}")
    );

    // The same event on a case with 150 more events answers the same size.
    let cast = Cast {
        pm: &pm,
        chair: &chair,
        board: None,
        reviewer: Some(&rev),
    };
    let long = case_in_review(&app, &cast).await;
    let short = case_in_review(&app, &cast).await;
    let who = actor(&pm, "Pat Manager");
    let mut conn = app.state.pool.get().unwrap();
    for _ in 0..150 {
        events::record_event(&mut conn, &app.state, &who, &long, &meeting()).expect("recorded");
    }
    drop(conn);
    let size = |body: Value| serde_json::to_vec(&body).unwrap().len();
    let (s1, short_body) = app.event(&pm, &short, Value::Object(meeting())).await;
    let (s2, long_body) = app.event(&pm, &long, Value::Object(meeting())).await;
    assert_eq!((s1, s2), (201, 201));
    let (a, b) = (size(short_body), size(long_body));
    // The sequence number has more digits; nothing else differs in length.
    assert!(b.abs_diff(a) <= 4, "{a} bytes and {b} bytes");
}

#[actix_web::test]
async fn a_long_timeline_is_shown_a_page_at_a_time() {
    let app = TestApp::spawn_on("2026-01-12".parse().unwrap()).await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let chair = app.user(Role::CoChair, "Chris Chair").await;
    let rev = app.user(Role::LeadReviewer, "Rae Reviewer").await;
    let cast = Cast {
        pm: &pm,
        chair: &chair,
        board: None,
        reviewer: Some(&rev),
    };
    // 6 events to the review, then 54 meetings: 60 in all.
    let case = app.open_case(&pm, "2026-01-05", "Child T").await;
    let id = case["id"].as_str().unwrap().to_string();
    app.walk_to(&id, &cast, Stage::InReview, "2026-01-06").await;
    let who = actor(&pm, "Pat Manager");
    let mut conn = app.state.pool.get().unwrap();
    for _ in 0..54 {
        events::record_event(&mut conn, &app.state, &who, &id, &meeting()).expect("recorded");
    }
    drop(conn);
    let (_, case) = app
        .get_json(&format!("/api/v1/cases/{id}"), Some(&pm.token))
        .await;
    assert_eq!(case["stage"], "in_review", "walked to the review");
    let b = Browser::new(&app);
    b.sign_in(&pm.email).await;
    let items = |html: &str| html.matches("class=\"moj-timeline__item\"").count();
    let timeline = |html: &str| html[html.find("id=\"timeline\"").unwrap()..].to_string();
    let first = b.get(&format!("/cases/{id}")).await;
    assert_eq!(first.status, 200);
    assert_eq!(items(&first.body), 25);
    assert!(first.body.contains("Events 1 to 25 of 60, newest first."));
    assert!(first
        .body
        .contains(&format!("href=\"/cases/{id}?timeline=2#timeline\"")));
    assert!(!timeline(&first.body).contains("Local authority became aware"));
    let last = b.get(&format!("/cases/{id}?timeline=3")).await;
    assert_eq!(items(&last.body), 10);
    assert!(last.body.contains("Events 51 to 60 of 60, newest first."));
    // The oldest event, the notification, is on the last page.
    assert!(timeline(&last.body).contains("Local authority became aware"));
    // A page past the end shows the last one.
    let past = b.get(&format!("/cases/{id}?timeline=99")).await;
    assert_eq!(items(&past.body), 10);
}
