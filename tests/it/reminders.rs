//! Deadline reminders over a simulated month, through a real SMTP server on loopback: the
//! right steps on the right working days, escalation, the daily digest, exactly once each,
//! with no child detail; a met deadline stops its reminders, a moved one re-arms them; and the
//! real `lcspr-tracker reminders run` binary.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use serde_json::json;

use lcspr_tracker::app::calendar::{self, Change, NewDay};
use lcspr_tracker::app::users;
use lcspr_tracker::app::Actor;
use lcspr_tracker::db::models::OutboxRow;
use lcspr_tracker::domain::calendar::{DayKind, Division};
use lcspr_tracker::domain::roles::Role;

use crate::support::api::{deadline, User};
use crate::support::smtp::SmtpSink;
use crate::support::TestApp;

/// Child detail the tests put in the case; none of it may reach an email or a feed.
pub const SECRETS: [&str; 4] = ["Zed", "Real Name", "Test incident", "2015-03-04"];

pub fn assert_no_child_detail(what: &str, text: &str) {
    // A MIME boundary is random letters and digits, which can spell "Zed" by chance (CI saw
    // `...SQSZM314ZedmHL`): the boundaries are taken out before looking.
    let mut text = text.to_string();
    let boundaries: Vec<String> = text
        .split("boundary=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_string)
        .collect();
    for b in boundaries.iter().filter(|b| !b.is_empty()) {
        text = text.replace(b.as_str(), "");
    }
    for s in SECRETS {
        assert!(!text.contains(s), "{what} contains {s:?}:\n{text}");
    }
}

/// (rule, due_on, step, user id) of a reminder row, from its key.
fn key_parts(row: &OutboxRow) -> (String, String, String, String) {
    let parts: Vec<&str> = row.dedupe_key.split(':').collect();
    // reminder:{deadline}:{due_on}:{step[:n]}:{user}
    assert_eq!(parts[0], "reminder", "{}", row.dedupe_key);
    let user = parts.last().unwrap().to_string();
    let step = parts[3..parts.len() - 1].join(":");
    (parts[1].to_string(), parts[2].to_string(), step, user)
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

#[actix_web::test]
async fn a_month_of_reminders_escalations_and_digests_through_smtp() {
    let sink = SmtpSink::start().await;
    let app = TestApp::with_smtp("2026-01-05", &sink).await;
    let pat = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let dee = app.user(Role::ProgrammeManager, "Dee Digest").await;
    let chris = app.user(Role::CoChair, "Chris Chair").await;
    let cleo = app.user(Role::CoChair, "Cleo Gone").await;
    let admin = app.user(Role::Admin, "Ada Admin").await;
    for (role, name) in [
        (Role::BusinessManager, "Bea Business"),
        (Role::LeadReviewer, "Rae Reviewer"),
        (Role::SubgroupMember, "Sam Subgroup"),
        (Role::BoardMember, "Bo Board"),
    ] {
        app.user(role, name).await;
    }
    deactivate(&app, &admin, &cleo).await;
    app.set_mode(&dee, "daily").await;

    // Aware Mon 5 Jan 2026: notification and partners both due Mon 12 Jan.
    app.set_now("2026-01-05 07:30");
    let case = app.open_case(&pat, "2026-01-05", "Child Zed").await;
    let id = case["id"].as_str().unwrap().to_string();
    let reference = case["reference"].as_str().unwrap().to_string();
    assert_eq!(deadline(&case, "sin_submission")["due_on"], "2026-01-12");
    // Opening the case queued its current reminder (5 working days left) in the same
    // transaction.
    let rows = app.outbox().await;
    assert_eq!(rows.len(), 2, "{rows:#?}");
    assert!(rows
        .iter()
        .all(|r| r.dedupe_key.ends_with(&format!(":before:5:{}", pat.id))));

    // Every day at 08:00 UK time: `reminders run`; the day's events at 10:00.
    let mut day: NaiveDate = "2026-01-05".parse().unwrap();
    let last: NaiveDate = "2026-02-06".parse().unwrap();
    while day <= last {
        app.clock.set(day.and_hms_opt(8, 0, 0).unwrap());
        let run = app.run_reminders().await;
        assert_eq!(run.delivery.retrying + run.delivery.failed, 0, "{day}");
        app.clock.set(day.and_hms_opt(10, 0, 0).unwrap());
        match day.to_string().as_str() {
            "2026-01-12" => {
                app.ok_event(
                    &pat,
                    &id,
                    json!({"type": "partners_informed", "occurred_on": "2026-01-12"}),
                )
                .await;
            }
            "2026-01-16" => {
                let c = app
                    .ok_event(&pat, &id, json!({"type": "sin_submitted", "occurred_on": "2026-01-16", "ofsted_reference": "OF-1"}))
                    .await;
                assert_eq!(deadline(&c, "rapid_review")["due_on"], "2026-02-06");
            }
            "2026-02-06" => {
                let c = app
                    .ok_event(&chris, &id, json!({"type": "rapid_review_sent", "occurred_on": "2026-02-06", "decision": "lcspr",
                        "rationale": "Agencies did not share information", "criteria": ["a"]}))
                    .await;
                assert_eq!(deadline(&c, "rapid_review")["status"], "met");
            }
            _ => {}
        }
        day += Duration::days(1);
    }
    app.deliver().await;

    let (_, case) = app
        .get_json(&format!("/api/v1/cases/{id}"), Some(&pat.token))
        .await;
    let rule_of: HashMap<String, String> = case["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["id"].as_str().unwrap().to_string(),
                d["rule"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let name_of: HashMap<&str, &str> = [
        (pat.id.as_str(), "pat"),
        (dee.id.as_str(), "dee"),
        (chris.id.as_str(), "chris"),
    ]
    .into_iter()
    .collect();
    let rows = app.outbox().await;

    // Reminders: (day written, who, rule, step).
    let mut got: Vec<(String, &str, String, String)> = rows
        .iter()
        .filter(|r| r.kind == "reminder")
        .map(|r| {
            let (deadline_id, _, step, user) = key_parts(r);
            (
                r.created_at.date().to_string(),
                *name_of.get(user.as_str()).unwrap_or(&"someone else"),
                rule_of[&deadline_id].clone(),
                step,
            )
        })
        .collect();
    got.sort();
    let mut expected: Vec<(String, &str, String, String)> = vec![];
    let mut add = |day: &str, who: &'static str, rule: &str, step: &str| {
        expected.push((day.into(), who, rule.into(), step.into()))
    };
    for (day, step) in [
        ("2026-01-05", "before:5"),
        ("2026-01-08", "before:2"),
        ("2026-01-09", "before:1"),
        ("2026-01-12", "due"),
    ] {
        add(day, "pat", "sin_submission", step);
        add(day, "pat", "partners_informed", step);
    }
    // Notification overdue until it is sent on Fri 16 Jan; the co-chair is added from the
    // second overdue working day.
    for (day, k) in [
        ("2026-01-13", 1),
        ("2026-01-14", 2),
        ("2026-01-15", 3),
        ("2026-01-16", 4),
    ] {
        add(day, "pat", "sin_submission", &format!("overdue:{k}"));
        if k >= 2 {
            add(day, "chris", "sin_submission", &format!("overdue:{k}"));
        }
    }
    // The rapid review (the co-chair's) is due Fri 6 Feb.
    for (day, step) in [
        ("2026-01-23", "before:10"),
        ("2026-01-30", "before:5"),
        ("2026-02-04", "before:2"),
        ("2026-02-05", "before:1"),
        ("2026-02-06", "due"),
    ] {
        add(day, "pat", "rapid_review", step);
        add(day, "chris", "rapid_review", step);
    }
    // Recording the rapid review on 6 Feb starts the chase of the Panel's response, 10
    // working days away: its first reminder goes at once.
    add("2026-02-06", "pat", "panel_response_chase", "before:10");
    expected.sort();
    assert_eq!(got, expected);

    // Dee chose the daily digest: one email per working day with something due or overdue,
    // none for the days between the notification and the rapid review's first reminder.
    let digests: Vec<&OutboxRow> = rows.iter().filter(|r| r.kind == "digest").collect();
    assert!(digests
        .iter()
        .all(|r| r.recipient_id.as_deref() == Some(dee.id.as_str())));
    let digest_days: Vec<String> = digests
        .iter()
        .map(|r| r.created_at.date().to_string())
        .collect();
    let mut expected_days = vec![];
    let mut d: NaiveDate = "2026-01-05".parse().unwrap();
    while d <= last {
        let quiet = ("2026-01-17".parse::<NaiveDate>().unwrap()..="2026-01-22".parse().unwrap())
            .contains(&d);
        if !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) && !quiet {
            expected_days.push(d.to_string());
        }
        d += Duration::days(1);
    }
    assert_eq!(digest_days, expected_days);
    let jan13 = digests
        .iter()
        .find(|r| r.created_at.date().to_string() == "2026-01-13")
        .unwrap();
    assert!(jan13
        .body_text
        .contains("Serious incident notification to the Panel"));
    assert!(jan13.body_text.contains("overdue by 1 working day"));
    assert!(
        !jan13.body_text.contains("Tell the safeguarding partners"),
        "met on 12 Jan"
    );
    assert!(jan13.body_text.contains(&reference));

    // Every row was delivered exactly once through the SMTP server, and says nothing about
    // the child.
    assert!(
        rows.iter().all(|r| r.status == "sent" && r.attempts == 1),
        "{rows:#?}"
    );
    let received = sink.messages();
    assert_eq!(received.len(), rows.len());
    let mut by_message: BTreeMap<(String, String), usize> = BTreeMap::new();
    for m in &received {
        assert_eq!(m.to.len(), 1);
        *by_message
            .entry((m.to[0].clone(), m.subject()))
            .or_default() += 1;
        let text = m.decoded();
        assert_no_child_detail("an email", &text);
        assert!(text.contains(&reference), "{text}");
        assert!(
            text.contains(&format!("/cases/{id}")) || m.subject().starts_with("Deadlines digest"),
            "{text}"
        );
    }
    assert!(by_message.values().all(|n| *n == 1), "{by_message:#?}");
    for r in &rows {
        assert_no_child_detail(
            "an outbox row",
            &format!("{}\n{}\n{}", r.subject, r.body_text, r.body_html),
        );
        assert_eq!(
            by_message.get(&(r.to_address.clone(), r.subject.clone())),
            Some(&1),
            "{} not received once",
            r.subject
        );
    }
    // The escalation says so; the first reminder counts the working days left.
    let escalated = rows
        .iter()
        .find(|r| {
            r.recipient_id.as_deref() == Some(chris.id.as_str())
                && r.dedupe_key.contains(":overdue:2:")
        })
        .unwrap();
    assert!(
        escalated.subject.starts_with("Escalated: "),
        "{}",
        escalated.subject
    );
    assert!(escalated.subject.contains("overdue by 2 working days"));
    let first = &rows[0];
    assert!(
        first.subject.contains("due in 5 working days"),
        "{}",
        first.subject
    );
    assert!(first.body_text.contains("Monday 12 January 2026"));

    // A later sweep the same day writes nothing more.
    let again = app.sweep().await;
    assert!(again.queued.is_empty(), "{:#?}", again.queued);
}

#[actix_web::test]
async fn a_sweep_after_downtime_sends_only_the_latest_step() {
    let app = TestApp::spawn_on("2026-01-05".parse().unwrap()).await;
    let pat = app.user(Role::ProgrammeManager, "Pat Manager").await;
    // Opened late: aware Mon 5 Jan, recorded Fri 9 Jan (1 working day left).
    app.set_now("2026-01-09 09:00");
    app.open_case(&pat, "2026-01-05", "Child Zed").await;
    let rows = app.outbox().await;
    assert_eq!(rows.len(), 2);
    assert!(
        rows.iter().all(|r| r.dedupe_key.contains(":before:1:")),
        "{rows:#?}"
    );
    // The service was down from Monday to Thursday: one reminder per deadline, overdue:4.
    app.set_now("2026-01-16 09:00");
    let sweep = app.sweep().await;
    assert_eq!(sweep.queued.len(), 2, "{:#?}", sweep.queued);
    assert!(sweep.queued.iter().all(|q| q.key.contains(":overdue:4:")));
}

#[actix_web::test]
async fn a_met_deadline_stops_and_a_moved_deadline_rearms() {
    let app = TestApp::spawn_on("2026-01-05".parse().unwrap()).await;
    let pat = app.user(Role::ProgrammeManager, "Pat Manager").await;
    app.set_now("2026-01-05 07:30");
    let case = app.open_case(&pat, "2026-01-05", "Child Zed").await;
    let id = case["id"].as_str().unwrap().to_string();
    let sin = deadline(&case, "sin_submission")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let partners = deadline(&case, "partners_informed")["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.set_now("2026-01-08 08:00");
    app.run_reminders().await;
    let keys = |rows: Vec<OutboxRow>| -> Vec<String> {
        let mut k: Vec<String> = rows.into_iter().map(|r| r.dedupe_key).collect();
        k.sort();
        k
    };
    let before = keys(app.outbox().await);
    assert!(before.contains(&format!("reminder:{sin}:2026-01-12:before:2:{}", pat.id)));

    // Fri 9 Jan is proclaimed a bank holiday: both deadlines move to Tue 13 Jan, and their
    // reminders re-arm for the new date at once (the 2nd working day before it is today).
    app.set_now("2026-01-08 09:00");
    let moved = app
        .state
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
    assert_eq!(moved.len(), 2, "{moved:?}");
    let after = keys(app.outbox().await);
    for d in [&sin, &partners] {
        assert!(
            after.contains(&format!("reminder:{d}:2026-01-13:before:2:{}", pat.id)),
            "{after:#?}"
        );
    }
    assert_eq!(after.len(), before.len() + 2);

    // The notification is sent the same day: its reminders stop; the partners' go on.
    app.set_now("2026-01-08 10:00");
    app.ok_event(
        &pat,
        &id,
        json!({"type": "sin_submitted", "occurred_on": "2026-01-08", "ofsted_reference": "OF-1"}),
    )
    .await;
    for day in ["2026-01-12", "2026-01-13", "2026-01-14", "2026-01-15"] {
        app.set_now(&format!("{day} 08:00"));
        app.run_reminders().await;
    }
    let rows = app.outbox().await;
    let late: Vec<&OutboxRow> = rows
        .iter()
        .filter(|r| r.created_at.date() > "2026-01-08".parse::<NaiveDate>().unwrap())
        .collect();
    assert!(
        late.iter()
            .all(|r| r.deadline_id.as_deref() == Some(partners.as_str())),
        "{late:#?}"
    );
    let steps: Vec<String> = late.iter().map(|r| key_parts(r).2).collect();
    assert_eq!(steps, vec!["before:1", "due", "overdue:1", "overdue:2"]);
    // The notification's reminder written for 13 January was still waiting when the
    // notification was sent: it is cancelled, never sent; every other row is sent once.
    let cancelled: Vec<&OutboxRow> = rows.iter().filter(|r| r.status == "cancelled").collect();
    assert_eq!(cancelled.len(), 1, "{rows:#?}");
    assert_eq!(cancelled[0].deadline_id.as_deref(), Some(sin.as_str()));
    assert!(cancelled[0].dedupe_key.contains(":2026-01-13:"));
    assert_eq!(
        cancelled[0].cancelled_reason.as_deref(),
        Some("the deadline was met")
    );
    let captured = app.state.mailer.captured().unwrap();
    assert_eq!(captured.len(), rows.len() - 1, "each other row sent once");
}

/// The real binary, against this test's database: a dry run prints what would be queued and
/// sent and changes nothing; then a real run delivers through the SMTP server.
#[actix_web::test]
async fn the_reminders_run_command() {
    let sink = SmtpSink::start().await;
    let app = TestApp::spawn_on("2026-01-05".parse().unwrap()).await;
    let pat = app.user(Role::ProgrammeManager, "Pat Manager").await;
    app.set_now("2026-01-05 07:30");
    let case = app.open_case(&pat, "2026-01-05", "Child Zed").await;
    let reference = case["reference"].as_str().unwrap().to_string();
    let sin = deadline(&case, "sin_submission")["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(app.outbox().await.len(), 2);
    let config_dir = tempfile::tempdir().unwrap();

    let run = |args: Vec<&'static str>| {
        let db = app.db.url.clone();
        let key = lcspr_tracker::crypto::key_path(&app.state.settings).expect("a master key");
        let smtp = sink.url();
        let dir = config_dir.path().to_path_buf();
        actix_web::rt::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_lcspr-tracker"))
                .args(args)
                .env_remove("LCSPR_ENV")
                .env("LCSPR_CONFIG_DIR", dir)
                .env("DATABASE_URL", db)
                .env("LCSPR__SECURITY__MASTER_KEY_FILE", key)
                .env("LCSPR__MAIL__TRANSPORT", "smtp")
                .env("LCSPR__MAIL__SMTP_URL", smtp)
                .env(
                    "LCSPR__CALENDAR__BANK_HOLIDAYS_FILE",
                    "/nonexistent/bank-holidays.json",
                )
                .env("LCSPR__RULES__FILE", "/nonexistent/rules.toml")
                .env("LCSPR__LOG__FILTER", "warn")
                .output()
                .expect("run lcspr-tracker")
        })
    };

    let out = run(vec![
        "reminders",
        "run",
        "--at",
        "2026-01-08T08:00",
        "--dry-run",
    ])
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("dry run: nothing is written or sent"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "would queue: reminder reminder:{sin}:2026-01-12:before:2:{}",
            pat.id
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "{reference}: Serious incident notification to the Panel: due in 2 working days"
        )),
        "{stdout}"
    );
    assert_eq!(stdout.matches("would send: ").count(), 2, "{stdout}");
    assert!(
        stdout.contains("summary: 1 cases, 2 would be queued, 2 queued messages would be sent"),
        "{stdout}"
    );
    assert!(!stdout.contains("@example.org"), "no addresses: {stdout}");
    assert_no_child_detail("the dry run", &stdout);
    let rows = app.outbox().await;
    assert_eq!(rows.len(), 2, "the dry run wrote nothing");
    assert!(rows.iter().all(|r| r.status == "queued"));
    assert!(sink.messages().is_empty(), "the dry run sent nothing");

    let out = run(vec!["reminders", "run", "--at", "2026-01-08T08:00"])
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("summary: 1 cases, 2 queued; sent 4, retrying 0, failed 0"),
        "{stdout}"
    );
    let rows = app.outbox().await;
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().all(|r| r.status == "sent"), "{rows:#?}");
    assert_eq!(sink.messages().len(), 4);

    // Run again as if at the same time: nothing new, nothing resent.
    let out = run(vec!["reminders", "run", "--at", "2026-01-08T08:00"])
        .await
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("summary: 1 cases, 0 queued; sent 0"));
    assert_eq!(sink.messages().len(), 4);

    let bad = run(vec!["reminders", "run", "--at", "next tuesday"])
        .await
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--at"));
}

#[actix_web::test]
async fn reminder_email_golden_text() {
    let app = TestApp::spawn_on("2026-01-05".parse().unwrap()).await;
    let pat = app.user(Role::ProgrammeManager, "Pat Manager").await;
    app.set_now("2026-01-05 07:30");
    let case = app.open_case(&pat, "2026-01-05", "Child Zed").await;
    let id = case["id"].as_str().unwrap();
    let rows = app.outbox().await;
    let sin = rows
        .iter()
        .find(|r| r.subject.contains("Serious incident notification"))
        .unwrap();
    // service.base_url is not set: links follow the address the server listens on.
    let redact = |s: &str| s.replace(id, "<case-id>").replace(&app.base, "<listening>");
    insta::assert_snapshot!(
        "reminder_email",
        format!(
            "Subject: {}\n\n{}\n-----\n{}",
            sin.subject,
            redact(&sin.body_text),
            redact(&sin.body_html)
        )
    );
}
