//! Delivering the outbox: an SMTP outage loses nothing, a refused message fails and can be
//! retried, a crashed sender's claim runs out and the message goes once, two delivery loops on
//! PostgreSQL never send the same row; and the admin and user endpoints around it.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use serde_json::json;

use lcspr_tracker::app::outbox;
use lcspr_tracker::app::Actor;
use lcspr_tracker::domain::roles::Role;
use lcspr_tracker::jobs::delivery::{self, deliver_batch};
use lcspr_tracker::startup::build_state;

use crate::support::smtp::SmtpSink;
use crate::support::TestApp;

#[actix_web::test]
async fn an_smtp_outage_loses_nothing_and_delivery_resumes() {
    let sink = SmtpSink::start().await;
    let app = TestApp::with_smtp("2026-01-05", &sink).await;
    let pat = app.user(Role::ProgrammeManager, "Pat Manager").await;
    app.set_now("2026-01-05 07:30");
    app.open_case(&pat, "2026-01-05", "Child Zed").await;
    assert_eq!(app.outbox().await.len(), 2);

    // The mail server goes down for an hour; the delivery loop keeps trying every 5 minutes.
    sink.stop().await;
    for minute in (0..=60).step_by(5) {
        app.set_now(&format!(
            "2026-01-05 {:02}:{:02}",
            8 + minute / 60,
            minute % 60
        ));
        let r = app.deliver().await;
        assert_eq!(r.sent + r.failed, 0, "at +{minute} min: {r:?}");
    }
    let rows = app.outbox().await;
    for r in &rows {
        assert_eq!(r.status, "queued");
        // 08:00, 08:05, 08:10, 08:15, 08:25, 08:45: backoff 1, 2, 4, 8, 16, then 32 minutes.
        assert_eq!(r.attempts, 6, "{r:?}");
        assert_eq!(r.next_attempt_at.to_string(), "2026-01-05 09:17:00");
        let err = r.last_error.as_deref().unwrap();
        assert!(!err.is_empty() && !err.contains('@'), "{err}");
    }
    assert!(sink.messages().is_empty());

    // Back at 09:00: the next attempt is due at 09:17.
    sink.restart().await;
    assert_eq!(app.deliver().await.attempted(), 0);
    app.set_now("2026-01-05 09:20");
    let r = app.deliver().await;
    assert_eq!(r.sent, 2, "{r:?}");
    app.set_now("2026-01-05 10:20");
    assert_eq!(app.deliver().await.attempted(), 0);
    let rows = app.outbox().await;
    assert!(rows
        .iter()
        .all(|r| r.status == "sent" && r.attempts == 7 && r.last_error.is_none()));
    let received = sink.messages();
    assert_eq!(received.len(), 2);
    let subjects: HashSet<String> = received.iter().map(|m| m.subject()).collect();
    assert_eq!(subjects.len(), 2, "each once");
}

#[actix_web::test]
async fn a_refused_message_fails_and_an_admin_retries_it() {
    let sink = SmtpSink::start().await;
    let app = TestApp::with_smtp("2026-01-05", &sink).await;
    let admin = app.user(Role::Admin, "Ada Admin").await;
    let pat = app.user(Role::ProgrammeManager, "Pat Manager").await;

    let (status, queued) = app
        .post_json(
            "/api/v1/admin/test-email",
            Some(&admin.token),
            json!({"to": "ops@example.org"}),
        )
        .await;
    assert_eq!(status, 202, "{queued}");
    let id = queued["id"].as_str().unwrap().to_string();
    assert_eq!(queued["status"], "queued");

    sink.refuse_recipients(true);
    let r = app.deliver().await;
    assert_eq!(r.failed, 1, "a 550 is not retried: {r:?}");
    let (_, failed) = app
        .get_json("/api/v1/admin/outbox?status=failed", Some(&admin.token))
        .await;
    assert_eq!(failed["counts"]["failed"], 1, "{failed}");
    let m = &failed["messages"][0];
    assert_eq!(m["id"], id.as_str());
    let err = m["last_error"].as_str().unwrap();
    assert!(err.starts_with("refused: ") && err.contains("550"), "{err}");
    assert!(m.get("body_text").is_none(), "lists carry no bodies");

    // Only administrators may look or act.
    let (status, _) = app.get_json("/api/v1/admin/outbox", Some(&pat.token)).await;
    assert_eq!(status, 403);
    let (status, _) = app
        .post_json(
            &format!("/api/v1/admin/outbox/{id}/retry"),
            Some(&pat.token),
            json!({}),
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = app
        .get_json(&format!("/api/v1/admin/outbox/{id}"), Some(&pat.token))
        .await;
    assert_eq!(status, 403);
    let (status, _) = app
        .post_json(
            "/api/v1/admin/test-email",
            Some(&pat.token),
            json!({"to": "x@example.org"}),
        )
        .await;
    assert_eq!(status, 403);

    sink.refuse_recipients(false);
    let (status, retried) = app
        .post_json(
            &format!("/api/v1/admin/outbox/{id}/retry"),
            Some(&admin.token),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{retried}");
    assert_eq!(retried["status"], "queued");
    assert_eq!(app.deliver().await.sent, 1);
    let received = sink.messages();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].to, vec!["ops@example.org".to_string()]);
    assert!(received[0].subject().starts_with("Test email from "));

    let (status, full) = app
        .get_json(&format!("/api/v1/admin/outbox/{id}"), Some(&admin.token))
        .await;
    assert_eq!(status, 200);
    assert_eq!(full["status"], "sent");
    assert!(full["body_text"]
        .as_str()
        .unwrap()
        .contains("email delivery works"));
    // A sent message is never sent again.
    let (status, _) = app
        .post_json(
            &format!("/api/v1/admin/outbox/{id}/retry"),
            Some(&admin.token),
            json!({}),
        )
        .await;
    assert_eq!(status, 409);

    let (status, body) = app
        .post_json(
            "/api/v1/admin/test-email",
            Some(&admin.token),
            json!({"to": "not an address"}),
        )
        .await;
    assert_eq!((status, body["error"]["field"].as_str()), (422, Some("to")));
    let (status, _) = app
        .get_json("/api/v1/admin/outbox?status=lost", Some(&admin.token))
        .await;
    assert_eq!(status, 400);
}

#[actix_web::test]
async fn a_crashed_senders_claim_runs_out_and_the_message_goes_once() {
    let app = TestApp::spawn_on("2026-01-05".parse().unwrap()).await;
    let pat = app.user(Role::ProgrammeManager, "Pat Manager").await;
    app.set_now("2026-01-05 07:30");
    app.open_case(&pat, "2026-01-05", "Child Zed").await;
    // Another instance claims both rows and dies before sending or marking them.
    let claimed = app
        .state
        .db(|c, st| outbox::claim(c, st.now(), delivery::lease(), 10))
        .await
        .unwrap();
    assert_eq!(claimed.messages.len(), 2);
    assert!(claimed.messages.iter().all(|c| !c.expired_claim));
    assert_eq!(
        app.deliver().await.attempted(),
        0,
        "claimed rows are left alone"
    );
    app.set_now("2026-01-05 07:34");
    assert_eq!(app.deliver().await.attempted(), 0, "the lease still holds");
    app.set_now("2026-01-05 07:36");
    assert_eq!(app.deliver().await.sent, 2, "the lease ran out");
    app.set_now("2026-01-05 09:00");
    assert_eq!(app.deliver().await.attempted(), 0);
    assert_eq!(app.state.mailer.captured().unwrap().len(), 2);
}

/// Two instances sharing one PostgreSQL database run their delivery loops at the same time:
/// every message goes out once. Runs only when TEST_DATABASE_URL is set.
#[actix_web::test]
async fn two_delivery_loops_on_postgresql_never_send_the_same_row() {
    if crate::support::db::postgres_or_skip(
        "two_delivery_loops_on_postgresql_never_send_the_same_row",
    )
    .is_none()
    {
        return;
    }
    let sink = SmtpSink::start().await;
    sink.set_delay(StdDuration::from_millis(15));
    let app = TestApp::with_smtp("2026-01-05", &sink).await;
    assert!(app.db.is_postgres());
    let admin = app.user(Role::Admin, "Ada Admin").await;
    let actor = Actor {
        user_id: admin.id.clone(),
        role: Role::Admin,
        name: "Ada Admin".into(),
    };
    const N: usize = 60;
    app.state
        .db(move |c, st| {
            for i in 0..N {
                outbox::queue_test_email(c, st, &actor, &format!("r{i}@example.org"))?;
            }
            Ok(())
        })
        .await
        .unwrap();
    // A second instance: its own pool and mailer, the same database.
    let other = build_state((*app.state.settings).clone(), Arc::new(app.clock.clone()))
        .expect("second instance");

    async fn drain(st: &lcspr_tracker::state::AppState) -> usize {
        let mut sent = 0;
        loop {
            let r = deliver_batch(st, 3).await.expect("delivery");
            assert_eq!(r.retrying + r.failed, 0);
            if r.attempted() == 0 {
                return sent;
            }
            sent += r.sent;
        }
    }
    let (a, b) = futures_util::future::join(drain(&app.state), drain(&other)).await;
    assert_eq!(a + b, N, "a sent {a}, b sent {b}");
    assert!(a > 0 && b > 0, "both loops took part: a {a}, b {b}");
    let received = sink.messages();
    assert_eq!(received.len(), N);
    let recipients: HashSet<String> = received.iter().map(|m| m.to[0].clone()).collect();
    assert_eq!(recipients.len(), N, "no message twice");
    let rows = app.outbox().await;
    assert!(rows.iter().all(|r| r.status == "sent" && r.attempts == 1));
}

#[actix_web::test]
async fn users_choose_immediate_or_daily_but_never_off() {
    let app = TestApp::spawn().await;
    let pat = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let (status, body) = app.get_json("/api/v1/me/reminders", Some(&pat.token)).await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({"mode": "immediate", "feed": false}));
    for (mode, expected) in [("off", 422), ("weekly", 422), ("daily", 200)] {
        let resp = app
            .client
            .put(app.url("/api/v1/me/reminders"))
            .bearer_auth(&pat.token)
            .send_json(&json!({ "mode": mode }))
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), expected, "{mode}");
    }
    let (_, body) = app.get_json("/api/v1/me/reminders", Some(&pat.token)).await;
    assert_eq!(body["mode"], "daily");
    let (status, _) = app.get_json("/api/v1/me/reminders", None).await;
    assert_eq!(status, 401);
}

/// A sent message keeps its text and HTML for `jobs.sent_body_retention_days` (90), then only
/// the row: subject, recipient, times and its key (what keeps a reminder exactly-once). A
/// message not yet sent keeps its body whatever its age; 0 days keeps every body.
#[actix_web::test]
async fn a_sent_messages_text_is_cleared_after_the_retention_and_its_row_is_kept() {
    use crate::support::browser::Browser;

    let app = TestApp::spawn_on("2026-01-05".parse().unwrap()).await;
    let admin = app.user(Role::Admin, "Ada Admin").await;
    let queue = |to: &'static str| {
        let (app, admin) = (&app, &admin);
        async move {
            let (status, queued) = app
                .post_json(
                    "/api/v1/admin/test-email",
                    Some(&admin.token),
                    json!({ "to": to }),
                )
                .await;
            assert_eq!(status, 202, "{queued}");
            queued["id"].as_str().unwrap().to_string()
        }
    };
    let message = |id: String| {
        let (app, admin) = (&app, &admin);
        async move {
            let (status, m) = app
                .get_json(&format!("/api/v1/admin/outbox/{id}"), Some(&admin.token))
                .await;
            assert_eq!(status, 200, "{m}");
            m
        }
    };
    app.set_now("2026-01-05 09:00");
    let old = queue("old@example.org").await;
    assert_eq!(app.deliver().await.sent, 1);
    // 95 days later: one sent today, one waiting.
    app.set_now("2026-04-10 09:00");
    let recent = queue("recent@example.org").await;
    assert_eq!(app.deliver().await.sent, 1);
    let waiting = queue("waiting@example.org").await;
    let before = message(old.clone()).await;
    assert!(!before["body_text"].as_str().unwrap().is_empty());

    let clear = |days: u32| {
        let app = &app;
        async move {
            app.state
                .db(move |c, st| outbox::clear_sent_bodies(c, st.now(), days))
                .await
                .unwrap()
        }
    };
    assert_eq!(clear(0).await, 0, "0 days keeps every body");
    assert_eq!(clear(100).await, 0, "sent 95 days ago, within 100");
    assert_eq!(clear(90).await, 1);
    assert_eq!(clear(90).await, 0, "once cleared, nothing more to do");

    let m = message(old.clone()).await;
    assert_eq!((&m["body_text"], &m["body_html"]), (&json!(""), &json!("")));
    for kept in [
        "subject",
        "to_address",
        "status",
        "sent_at",
        "dedupe_key",
        "created_at",
    ] {
        assert!(!before[kept].is_null(), "{kept} in {before}");
        assert_eq!(m[kept], before[kept], "{kept} is kept");
    }
    for id in [recent, waiting] {
        let m = message(id).await;
        assert!(!m["body_text"].as_str().unwrap().is_empty(), "{m}");
        assert!(!m["body_html"].as_str().unwrap().is_empty(), "{m}");
    }
    let b = Browser::new(&app);
    b.sign_in(&admin.email).await;
    let page = b.get(&format!("/admin/outbox/{old}")).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains("Its text was removed 90 days after it was sent"),
        "{}",
        page.body
    );
}
