//! Reminders that are still true when they go (issue 10 §4): each is checked as the delivery
//! loop claims it, and one whose deadline was met or moved, whose case was withdrawn, or whose
//! recipient was deactivated or may no longer see the case is cancelled with the reason, never
//! sent, also after an SMTP outage; reminders made due by a write wait
//! `jobs.reminder_grace_minutes`; every email carries a `Message-ID` derived from its outbox
//! key; links follow the listening address when `service.base_url` is not set.

use diesel::prelude::*;
use serde_json::{json, Value};

use lcspr_tracker::app::calendar::{self, Change, NewDay};
use lcspr_tracker::app::users;
use lcspr_tracker::app::Actor;
use lcspr_tracker::config::MailTransportKind;
use lcspr_tracker::db::models::OutboxRow;
use lcspr_tracker::db::schema::outbox;
use lcspr_tracker::domain::calendar::{DayKind, Division};
use lcspr_tracker::domain::roles::Role;

use crate::support::api::{deadline, User};
use crate::support::browser::Browser;
use crate::support::db::TestDb;
use crate::support::process::{add_user, run_cli, ServerProcess};
use crate::support::smtp::SmtpSink;
use crate::support::TestApp;

/// The app on `today`, mail over SMTP to `sink`, with the shipped grace period (15 minutes).
async fn app_with_grace(today: &str, sink: &SmtpSink) -> TestApp {
    let url = sink.url();
    TestApp::spawn_with(today.parse().unwrap(), move |s| {
        s.mail.transport = MailTransportKind::Smtp;
        s.mail.smtp_url = url.into();
        s.jobs.reminder_grace_minutes = 15;
    })
    .await
}

fn id_of(case: &Value, rule: &str) -> String {
    deadline(case, rule)["id"].as_str().unwrap().to_string()
}

fn rows_of<'a>(rows: &'a [OutboxRow], deadline_id: &str) -> Vec<&'a OutboxRow> {
    rows.iter()
        .filter(|r| r.deadline_id.as_deref() == Some(deadline_id))
        .collect()
}

async fn deactivate(app: &TestApp, admin: &User, user: &User) {
    let actor = Actor {
        user_id: admin.id.clone(),
        role: Role::Admin,
        name: "Ada Admin".into(),
    };
    let id = user.id.clone();
    app.state
        .db(move |c, st| users::update(c, &actor, st.now(), &id, None, Some(false)))
        .await
        .unwrap();
}

/// The case from the issue: entered from its beginning a month late. Opening it makes its
/// notification deadlines overdue at once; their "overdue" reminders wait out the grace period,
/// the next form meets both deadlines, and the reminders are cancelled when their turn comes,
/// never sent. The cancellations are listed by the API and on the outbox page.
#[actix_web::test]
async fn a_reminder_whose_deadline_was_met_while_it_waited_is_cancelled_never_sent() {
    let sink = SmtpSink::start().await;
    let app = app_with_grace("2026-02-16", &sink).await;
    let pat = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let admin = app.user(Role::Admin, "Ada Admin").await;

    app.set_now("2026-02-16 10:00");
    let case = app.open_case(&pat, "2026-01-05", "Child Zed").await;
    let id = case["id"].as_str().unwrap().to_string();
    let (sin, partners) = (
        id_of(&case, "sin_submission"),
        id_of(&case, "partners_informed"),
    );
    let rows = app.outbox().await;
    assert_eq!(rows.len(), 2, "{rows:#?}");
    for r in &rows {
        assert!(r.subject.contains("overdue"), "{}", r.subject);
        assert_eq!(r.status, "queued");
        // Made due by a write: not before the grace period is over.
        assert_eq!(r.next_attempt_at.to_string(), "2026-02-16 10:15:00");
    }
    // Five minutes later the next form says both were done in time.
    app.set_now("2026-02-16 10:05");
    app.ok_event(
        &pat,
        &id,
        json!({"type": "partners_informed", "occurred_on": "2026-01-09"}),
    )
    .await;
    let c = app
        .ok_event(
            &pat,
            &id,
            json!({"type": "sin_submitted", "occurred_on": "2026-01-09", "ofsted_reference": "OF-1"}),
        )
        .await;
    assert_eq!(deadline(&c, "sin_submission")["status"], "met");
    app.set_now("2026-02-16 10:14");
    assert_eq!(
        app.deliver().await.handled(),
        0,
        "still in the grace period"
    );

    app.set_now("2026-02-16 10:30");
    let report = app.deliver().await;
    assert_eq!(report.cancelled, 2, "{report:?}");
    let rows = app.outbox().await;
    for d in [&sin, &partners] {
        let mine = rows_of(&rows, d);
        assert_eq!(mine.len(), 1, "{rows:#?}");
        assert_eq!(mine[0].status, "cancelled");
        assert_eq!(mine[0].attempts, 0, "never attempted");
        assert!(mine[0].sent_at.is_none());
        assert_eq!(
            mine[0].cancelled_reason.as_deref(),
            Some("the deadline was met")
        );
    }
    let sent_subjects: Vec<String> = sink.messages().iter().map(|m| m.subject()).collect();
    assert!(
        sent_subjects
            .iter()
            .all(|s| !s.contains("notification") && !s.contains("partners")),
        "{sent_subjects:?}"
    );
    // What the rapid review (now due) sent is the only mail, and it went.
    assert_eq!(sent_subjects.len(), report.sent);

    // Administrators see the cancellations and why.
    let (status, listed) = app
        .get_json("/api/v1/admin/outbox?status=cancelled", Some(&admin.token))
        .await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed["counts"]["cancelled"], 2, "{listed}");
    let messages = listed["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    for m in messages {
        assert_eq!(m["status"], "cancelled");
        assert_eq!(m["cancelled_reason"], "the deadline was met");
    }
    let (status, one) = app
        .get_json(
            &format!(
                "/api/v1/admin/outbox/{}",
                messages[0]["id"].as_str().unwrap()
            ),
            Some(&admin.token),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(one["cancelled_reason"], "the deadline was met");
    let b = Browser::new(&app);
    b.sign_in(&admin.email).await;
    let page = b.get("/admin/outbox?status=cancelled").await;
    assert_eq!(page.status, 200);
    let main = page.main();
    assert!(main.contains("Cancelled (2)"), "{main}");
    assert!(main.contains("Cancelled: the deadline was met"), "{main}");
}

/// The sweep's reminders (as days pass) go at once; only those a write makes due wait.
#[actix_web::test]
async fn only_reminders_made_due_by_a_write_wait_for_the_grace_period() {
    let sink = SmtpSink::start().await;
    let app = app_with_grace("2026-01-05", &sink).await;
    let pat = app.user(Role::ProgrammeManager, "Pat Manager").await;
    app.set_now("2026-01-05 09:00");
    let case = app.open_case(&pat, "2026-01-05", "Child Zed").await;
    let sin = id_of(&case, "sin_submission");
    let rows = app.outbox().await;
    assert_eq!(rows.len(), 2);
    assert!(rows
        .iter()
        .all(|r| r.next_attempt_at.to_string() == "2026-01-05 09:15:00"));
    app.set_now("2026-01-05 09:10");
    assert_eq!(app.deliver().await.attempted(), 0);
    app.set_now("2026-01-05 09:15");
    assert_eq!(app.deliver().await.sent, 2);

    // On the 2nd working day before the due date the sweep queues the next step: due at once.
    app.set_now("2026-01-08 08:00");
    let run = app.run_reminders().await;
    assert_eq!(run.sweep.queued.len(), 2, "{:?}", run.sweep.queued);
    assert_eq!(run.delivery.sent, 2);
    let rows = app.outbox().await;
    let next = rows_of(&rows, &sin)
        .into_iter()
        .find(|r| r.created_at.to_string() == "2026-01-08 08:00:00")
        .expect("the sweep's reminder");
    assert_eq!(next.next_attempt_at, next.created_at);
    assert_eq!(next.status, "sent");
    assert_eq!(sink.messages().len(), 4);
}

/// Queued before an SMTP outage, met during it: checked again when the server is back, and
/// cancelled. Deactivated recipients, recipients who may no longer see the case, moved
/// deadlines and withdrawn cases are cancelled the same way, each with its reason.
#[actix_web::test]
async fn reminders_are_checked_again_when_they_finally_go() {
    let sink = SmtpSink::start().await;
    let app = TestApp::with_smtp("2026-01-05", &sink).await;
    let pat = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let pam = app.user(Role::ProgrammeManager, "Pam Gone").await;
    let admin = app.user(Role::Admin, "Ada Admin").await;
    app.set_now("2026-01-05 09:00");
    let case = app.open_case(&pat, "2026-01-05", "Child Zed").await;
    let id = case["id"].as_str().unwrap().to_string();
    let (sin, partners) = (
        id_of(&case, "sin_submission"),
        id_of(&case, "partners_informed"),
    );
    assert_eq!(app.outbox().await.len(), 4, "two deadlines, two managers");

    // The mail server is down: every attempt fails and is retried later.
    sink.stop().await;
    let r = app.deliver().await;
    assert_eq!((r.sent, r.cancelled), (0, 0), "{r:?}");
    assert!(r.retrying > 0, "{r:?}");
    // Meanwhile the notification is sent and Pam leaves.
    app.set_now("2026-01-05 09:30");
    app.ok_event(
        &pat,
        &id,
        json!({"type": "sin_submitted", "occurred_on": "2026-01-05", "ofsted_reference": "OF-1"}),
    )
    .await;
    deactivate(&app, &admin, &pam).await;

    sink.restart().await;
    app.set_now("2026-01-05 12:00");
    let r = app.deliver().await;
    let rows = app.outbox().await;
    let reason = |deadline: &str, user: &User| {
        rows.iter()
            .find(|r| {
                r.deadline_id.as_deref() == Some(deadline)
                    && r.recipient_id.as_deref() == Some(user.id.as_str())
            })
            .map(|r| (r.status.clone(), r.cancelled_reason.clone()))
            .unwrap()
    };
    let met = Some("the deadline was met".to_string());
    let gone = Some("the recipient's account is deactivated".to_string());
    assert_eq!(reason(&sin, &pat), ("cancelled".into(), met.clone()));
    assert_eq!(reason(&sin, &pam), ("cancelled".into(), met));
    assert_eq!(reason(&partners, &pam), ("cancelled".into(), gone));
    assert_eq!(reason(&partners, &pat), ("sent".into(), None));
    assert_eq!((r.cancelled, r.sent), (3, 1), "{r:?}");
    let received = sink.messages();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].to, vec![pat.email.clone()]);
}

#[actix_web::test]
async fn moved_deadlines_withdrawn_cases_and_lost_access_cancel_reminders() {
    let app = TestApp::spawn_on("2026-01-05".parse().unwrap()).await;
    let pat = app.user(Role::ProgrammeManager, "Pat Manager").await;
    app.set_now("2026-01-08 08:00");
    let case = app.open_case(&pat, "2026-01-05", "Child Zed").await;
    let id = case["id"].as_str().unwrap().to_string();
    let sin = id_of(&case, "sin_submission");
    assert!(app
        .outbox()
        .await
        .iter()
        .all(|r| r.dedupe_key.contains(":2026-01-12:")));

    // Fri 9 Jan is proclaimed a bank holiday before the reminders go: both deadlines move to
    // Tue 13 Jan. The reminders written for 12 January are cancelled; the new ones go.
    app.state
        .db(|c, st| {
            calendar::apply(
                c,
                st,
                None,
                &Change::AddDay(NewDay {
                    division: Some(Division::EnglandAndWales),
                    date: "2026-01-09".parse().unwrap(),
                    title: "Proclaimed holiday".into(),
                    kind: DayKind::Proclaimed,
                }),
            )
        })
        .await
        .unwrap();
    let r = app.deliver().await;
    assert_eq!((r.cancelled, r.sent), (2, 2), "{r:?}");
    let rows = app.outbox().await;
    let old = rows_of(&rows, &sin)
        .into_iter()
        .find(|r| r.dedupe_key.contains(":2026-01-12:"))
        .unwrap();
    assert_eq!(old.status, "cancelled");
    assert_eq!(
        old.cancelled_reason.as_deref(),
        Some("the deadline moved from 12 January 2026 to 13 January 2026")
    );

    // A reminder queued for a lead reviewer who is not (or no longer) appointed to the case:
    // the one visibility rule says they may not see it, so it is cancelled. (Written directly:
    // what matters is the rule as the reminder goes.)
    let rae = app.user(Role::LeadReviewer, "Rae Reviewer").await;
    let (case_id, user_id, deadline_id) = (id.clone(), rae.id.clone(), sin.clone());
    app.state
        .db(move |c, st| {
            let template = outbox::table
                .filter(outbox::deadline_id.eq(&deadline_id))
                .filter(outbox::status.eq("sent"))
                .select(OutboxRow::as_select())
                .first(c)?;
            let message = lcspr_tracker::app::outbox::NewMessage {
                dedupe_key: format!("reminder:{deadline_id}:2026-01-13:due:{user_id}"),
                kind: lcspr_tracker::app::outbox::OutboxKind::Reminder,
                recipient_id: Some(user_id),
                to_address: "rae.reviewer@example.org".into(),
                rendered: lcspr_tracker::mail::Rendered {
                    subject: template.subject,
                    text: template.body_text,
                    html: template.body_html,
                },
                case_id: Some(case_id),
                deadline_id: Some(deadline_id),
            };
            lcspr_tracker::app::outbox::insert_if_absent(c, message, st.now())?;
            Ok(())
        })
        .await
        .unwrap();
    let r = app.deliver().await;
    assert_eq!((r.cancelled, r.sent), (1, 0), "{r:?}");
    let rows = app.outbox().await;
    let theirs = rows
        .iter()
        .find(|r| r.recipient_id.as_deref() == Some(rae.id.as_str()))
        .unwrap();
    assert_eq!(
        theirs.cancelled_reason.as_deref(),
        Some("the recipient may no longer see the case")
    );

    // The next working day's reminders are queued; the case is withdrawn before they go.
    let chris = app.user(Role::CoChair, "Chris Chair").await;
    app.set_now("2026-01-12 08:00");
    let sweep = app.sweep().await;
    assert!(!sweep.queued.is_empty());
    app.ok_event(
        &chris,
        &id,
        json!({"type": "withdrawn", "occurred_on": "2026-01-12", "reason": "Duplicate notification"}),
    )
    .await;
    let r = app.deliver().await;
    assert_eq!(r.sent, 0, "{r:?}");
    assert!(r.cancelled >= 1, "{r:?}");
    let reasons: Vec<Option<String>> = app
        .outbox()
        .await
        .into_iter()
        .filter(|r| r.created_at.to_string() == "2026-01-12 08:00:00")
        .map(|r| r.cancelled_reason)
        .collect();
    assert!(!reasons.is_empty());
    assert!(
        reasons.iter().all(|r| matches!(
            r.as_deref(),
            Some("the case was withdrawn" | "the deadline was waived")
        )),
        "{reasons:?}"
    );
}

/// Every email carries a `Message-ID` derived from its outbox key: the same when the message
/// is sent again after a crash (the sender died after the server accepted it, before the row
/// was marked), so mail systems can drop the copy; different for every row.
#[actix_web::test]
async fn every_email_has_a_message_id_that_survives_a_resend() {
    let sink = SmtpSink::start().await;
    let app = TestApp::with_smtp("2026-01-05", &sink).await;
    let pat = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let admin = app.user(Role::Admin, "Ada Admin").await;
    app.set_now("2026-01-05 09:00");
    app.open_case(&pat, "2026-01-05", "Child Zed").await;
    let (status, _) = app
        .post_json(
            "/api/v1/admin/test-email",
            Some(&admin.token),
            json!({"to": "ops@example.org"}),
        )
        .await;
    assert_eq!(status, 202);
    assert_eq!(app.deliver().await.sent, 3);
    let rows = app.outbox().await;
    let first = sink.messages();
    assert_eq!(first.len(), 3);
    let from = &app.state.settings.mail.from;
    let mut ids = std::collections::HashSet::new();
    for m in &first {
        let id = m.header("Message-ID").expect("a Message-ID");
        assert!(id.starts_with('<') && id.ends_with("@localhost>"), "{id}");
        let row = rows
            .iter()
            .find(|r| lcspr_tracker::mail::message_id(&r.dedupe_key, from) == id)
            .expect("derived from an outbox key");
        assert!(!id.contains(&row.dedupe_key));
        ids.insert(id);
    }
    assert_eq!(ids.len(), 3, "one id per row");

    // The sender crashed after the server accepted the first message: the row is still queued
    // with its claim, which runs out, and the message goes again with the same id.
    let crashed = rows[0].id.clone();
    app.state
        .db(move |c, _| {
            diesel::update(outbox::table.find(&crashed))
                .set((
                    outbox::status.eq("queued"),
                    outbox::sent_at.eq(None::<chrono::NaiveDateTime>),
                    outbox::claimed_until.eq(Some(
                        chrono::NaiveDateTime::parse_from_str(
                            "2026-01-05 09:05:00",
                            "%Y-%m-%d %H:%M:%S",
                        )
                        .unwrap(),
                    )),
                ))
                .execute(c)?;
            Ok(())
        })
        .await
        .unwrap();
    app.set_now("2026-01-05 09:10");
    assert_eq!(app.deliver().await.sent, 1);
    let all = sink.messages();
    assert_eq!(all.len(), 4);
    let again = all[3].header("Message-ID").unwrap();
    assert_eq!(
        again,
        lcspr_tracker::mail::message_id(&rows[0].dedupe_key, from)
    );
    assert_eq!(
        all.iter()
            .filter(|m| m.header("Message-ID").as_deref() == Some(again.as_str()))
            .count(),
        2,
        "the copy has the first one's id"
    );
}

/// With `service.base_url` unset, `serve --bind` logs the base URL it uses, and the links in
/// its emails follow the address it listens on.
#[actix_web::test]
async fn without_a_base_url_links_follow_the_listening_address() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::create_sqlite(dir.path());
    let (code, _, err) = run_cli(&db.url, &["migrate"], None, &[]);
    assert_eq!(code, 0, "{err}");
    add_user(&db.url, "admin@example.org", "Ada Admin", "admin");
    let server = ServerProcess::start(&[
        ("DATABASE_URL", db.url.clone()),
        ("LCSPR__JOBS__ENABLED", "false".to_string()),
        (
            "LCSPR__DOCUMENTS__DIR",
            dir.path().join("docs").display().to_string(),
        ),
    ]);
    assert_ne!(server.base, "http://127.0.0.1:8080");
    // The line follows "listening on", which start() waited for.
    let mut logged = None;
    for _ in 0..100 {
        logged = server
            .log_lines()
            .into_iter()
            .find(|l| l.contains("links in emails and feeds follow the listening address"));
        if logged.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let logged = logged.unwrap_or_else(|| server.log_lines().join("\n"));
    // (The text log may colour the field name.)
    assert!(
        logged.contains("base_url") && logged.contains(&server.base),
        "{logged}"
    );

    let client = awc::Client::default();
    let mut resp = client
        .post(server.url("/api/v1/auth/token"))
        .send_json(
            &json!({"email": "admin@example.org", "password": crate::support::api::PASSWORD}),
        )
        .await
        .unwrap();
    let body: Value = resp.json().await.unwrap();
    let token = body["token"].as_str().expect("token").to_string();
    let mut resp = client
        .post(server.url("/api/v1/users"))
        .bearer_auth(&token)
        .send_json(
            &json!({"email": "new@example.org", "name": "Nia New", "role": "business_manager"}),
        )
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    let _: Value = resp.json().await.unwrap();
    let mut resp = client
        .get(server.url("/api/v1/admin/outbox?status=queued"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let listed: Value = resp.json().await.unwrap();
    let id = listed["messages"][0]["id"].as_str().unwrap();
    let mut resp = client
        .get(server.url(&format!("/api/v1/admin/outbox/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let message: Value = resp.json().await.unwrap();
    let text = message["body_text"].as_str().unwrap();
    assert!(
        text.contains(&format!("{}/invitation/", server.base)),
        "{text}"
    );
}
