//! The binary's operator commands, run as a process against a test database.

use std::io::Write;
use std::process::{Command, Stdio};

use lcspr_tracker::app::accounts::LinkPurpose;
use lcspr_tracker::domain::roles::Role;

use crate::support::TestApp;

fn bin(app: &TestApp, args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_lcspr-tracker"))
        .args(args)
        .current_dir(dir.path())
        .env("DATABASE_URL", &app.db.url)
        .env(
            "LCSPR__SECURITY__MASTER_KEY_FILE",
            lcspr_tracker::crypto::key_path(&app.state.settings).expect("a master key"),
        )
        .env("LCSPR_CONFIG_DIR", dir.path())
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[actix_web::test]
async fn add_working_days_prints_the_date_first_and_explains() {
    let app = TestApp::spawn().await;
    for (from, days, division, want) in [
        ("2025-12-18", "5", "england-and-wales", "2025-12-29"),
        ("2025-12-29", "15", "england-and-wales", "2026-01-20"),
        ("2026-01-06", "-7", "england-and-wales", "2025-12-23"),
        ("2026-04-02", "5", "england-and-wales", "2026-04-13"),
        ("2025-12-31", "1", "scotland", "2026-01-05"),
        ("2020-05-07", "1", "england-and-wales", "2020-05-11"),
        ("2022-09-16", "1", "england-and-wales", "2022-09-20"),
        ("2023-05-05", "1", "scotland", "2023-05-09"),
    ] {
        let (code, out, err) = bin(
            &app,
            &[
                "calendar",
                "add-working-days",
                "--from",
                from,
                "--days",
                days,
                "--division",
                division,
            ],
            None,
        );
        assert_eq!(code, 0, "{err}");
        assert_eq!(out.lines().next(), Some(want), "{from} {days} {division}");
    }
    let (_, out, _) = bin(
        &app,
        &[
            "calendar",
            "add-working-days",
            "--from",
            "2025-12-18",
            "--days",
            "5",
            "--explain",
        ],
        None,
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "2025-12-29");
    assert!(
        lines[1].contains("Christmas Day") && lines[1].contains("Boxing Day"),
        "{out}"
    );
    // Provisional beyond the published data.
    let (_, out, _) = bin(
        &app,
        &[
            "calendar",
            "add-working-days",
            "--from",
            "2030-12-20",
            "--days",
            "5",
            "--explain",
        ],
        None,
    );
    assert!(out.contains("provisional"), "{out}");
    for args in [
        vec!["--from", "2026-02-30", "--days", "5"],
        vec!["--from", "2026-01-05", "--days", "five"],
        vec!["--from", "2026-01-05", "--days", "5", "--division", "wales"],
    ] {
        let mut full = vec!["calendar", "add-working-days"];
        full.extend(args.iter());
        let (code, out, err) = bin(&app, &full, None);
        assert_eq!(code, 2, "{args:?}");
        assert!(out.is_empty(), "{out}");
        assert!(err.contains("error:"), "{err}");
    }
}

#[actix_web::test]
async fn added_and_imported_days_are_used_by_the_cli_and_bad_files_change_nothing() {
    let app = TestApp::spawn().await;
    let (code, out, err) = bin(
        &app,
        &[
            "calendar",
            "add-day",
            "--division",
            "england-and-wales",
            "--date",
            "2026-06-22",
            "--title",
            "Proclaimed holiday",
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("added 2026-06-22"));
    let (_, out, _) = bin(
        &app,
        &[
            "calendar",
            "add-working-days",
            "--from",
            "2026-06-19",
            "--days",
            "1",
            "--explain",
        ],
        None,
    );
    assert!(
        out.starts_with("2026-06-23\n") && out.contains("Proclaimed holiday"),
        "{out}"
    );
    // Scotland is not affected by an England-and-Wales day.
    let (_, out, _) = bin(
        &app,
        &[
            "calendar",
            "add-working-days",
            "--from",
            "2026-06-19",
            "--days",
            "1",
            "--division",
            "scotland",
        ],
        None,
    );
    assert!(out.starts_with("2026-06-22\n"), "{out}");

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"wales": {"division": "wales", "events": []}}"#).unwrap();
    let (code, _, err) = bin(&app, &["calendar", "import", bad.to_str().unwrap()], None);
    assert_eq!(code, 2);
    assert!(err.contains("no known division"), "{err}");
    std::fs::write(&bad, "not json").unwrap();
    let (code, _, err) = bin(&app, &["calendar", "import", bad.to_str().unwrap()], None);
    assert_eq!(code, 2, "{err}");
    // A good file: a made-up division holiday on Fri 3 Jul 2026 for england-and-wales only.
    let good = dir.path().join("good.json");
    std::fs::write(
        &good,
        r#"{"england-and-wales": {"division": "england-and-wales", "events": [
            {"title": "New Year’s Day", "date": "2026-01-01", "notes": "", "bunting": true},
            {"title": "Imported day", "date": "2026-07-03", "notes": "", "bunting": true}]}}"#,
    )
    .unwrap();
    let (code, out, err) = bin(&app, &["calendar", "import", good.to_str().unwrap()], None);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("england-and-wales: 2 bank holidays"), "{out}");
    let (_, out, _) = bin(
        &app,
        &[
            "calendar",
            "add-working-days",
            "--from",
            "2026-07-02",
            "--days",
            "1",
        ],
        None,
    );
    assert_eq!(out.lines().next(), Some("2026-07-06"));
    // The import covers 2026 only: Good Friday 2026 is no longer a holiday (the file replaces it).
    let (_, out, _) = bin(
        &app,
        &[
            "calendar",
            "add-working-days",
            "--from",
            "2026-04-02",
            "--days",
            "1",
        ],
        None,
    );
    assert_eq!(out.lines().next(), Some("2026-04-03"));
}

#[actix_web::test]
async fn user_add_sends_an_invitation_and_audit_verify_reports() {
    let app = TestApp::spawn().await;
    let add = |email: &'static str, role: &'static str| {
        [
            "user",
            "add",
            "--email",
            email,
            "--name",
            "New Person",
            "--role",
            role,
            "--agency",
            "Police",
        ]
    };
    // No password is read: nothing on standard input is needed or used.
    let (code, out, err) = bin(&app, &add("New.Person@Example.org", "co_chair"), None);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("New Person") && out.contains("invitation"),
        "{out}"
    );
    assert!(
        !out.contains("/invitation/"),
        "the link is for the person only: {out}"
    );
    // The account has no password until the person chooses one from the emailed link.
    let (status, _) = app
        .post_json("/api/v1/auth/token", None, serde_json::json!({"email": "new.person@example.org", "password": "a long enough password"}))
        .await;
    assert_eq!(status, 401);
    let token = crate::support::accounts::link_in_outbox(
        &app,
        "new.person@example.org",
        LinkPurpose::Invitation,
    )
    .await;
    let (status, body) = app
        .post_json(
            "/api/v1/auth/invitation/accept",
            None,
            serde_json::json!({"token": token, "password": "plinth otter saucepan lantern"}),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let (status, body) = app
        .post_json("/api/v1/auth/token", None, serde_json::json!({"email": "new.person@example.org", "password": "plinth otter saucepan lantern"}))
        .await;
    assert_eq!(status, 200, "{body}");
    // The agency named for the first time was created; named again (in any case), it is reused.
    let token = body["token"].as_str().unwrap().to_string();
    let mut second = add("second@example.org", "subgroup_member");
    second[9] = " police ";
    let (code, _, err) = bin(&app, &second, None);
    assert_eq!(code, 0, "{err}");
    let (_, agencies) = app.get_json("/api/v1/agencies", Some(&token)).await;
    assert_eq!(agencies.as_array().unwrap().len(), 1, "{agencies}");
    assert_eq!(agencies[0]["name"], "Police");
    assert_eq!(agencies[0]["users"], 2);

    let (code, _, err) = bin(&app, &add("x@example.org", "chair"), None);
    assert_eq!(code, 2);
    assert!(err.contains("co_chair"), "{err}");
    let (code, _, err) = bin(&app, &add("not an address", "admin"), None);
    assert_eq!(code, 2);
    assert!(err.contains("email"), "{err}");
    let (code, _, err) = bin(&app, &add("new.person@example.org", "admin"), None);
    assert_eq!(code, 2);
    assert!(err.contains("already exists"), "{err}");

    let (code, out, _) = bin(&app, &["audit", "verify"], None);
    assert_eq!(code, 0);
    assert!(out.contains("intact"), "{out}");
    // Tamper with one entry: verify names it.
    let state = app.state.clone();
    state
        .db(|c, _| {
            use diesel::prelude::*;
            diesel::sql_query("UPDATE audit_log SET detail = '{}' WHERE seq = 1").execute(c)?;
            Ok(())
        })
        .await
        .unwrap();
    let (code, _, err) = bin(&app, &["audit", "verify"], None);
    assert_eq!(code, 1);
    assert!(err.contains("broken at entry 1"), "{err}");
    let _ = Role::Admin;
}

#[actix_web::test]
async fn demo_loads_every_stage_once() {
    let app = TestApp::spawn().await;
    let (code, out, err) = bin(&app, &["demo"], None);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("pm@demo.example"));
    let (code, out, _) = bin(&app, &["demo"], None);
    assert_eq!(code, 0);
    assert!(out.contains("already loaded"));
    // The demo's programme manager has two-step verification, with the published key.
    let (status, body) = app
        .post_json("/api/v1/auth/token", None, serde_json::json!({"email": "pm@demo.example", "password": lcspr_tracker::demo::DEMO_PASSWORD}))
        .await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["code"], "otp_required");
    assert!(out.contains(lcspr_tracker::demo::DEMO_TOTP_SECRET), "{out}");
    let otp =
        lcspr_tracker::app::mfa::code_at(lcspr_tracker::demo::DEMO_TOTP_SECRET, app.state.now())
            .unwrap();
    let (status, body) = app
        .post_json("/api/v1/auth/token", None, serde_json::json!({"email": "pm@demo.example", "password": lcspr_tracker::demo::DEMO_PASSWORD, "otp": otp}))
        .await;
    assert_eq!(status, 200, "{body}");
    let token = body["token"].as_str().unwrap().to_string();
    let (_, list) = app
        .get_json("/api/v1/cases?per_page=100", Some(&token))
        .await;
    let stages: std::collections::BTreeSet<&str> = list["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["stage"].as_str().unwrap())
        .collect();
    for s in [
        "notification",
        "rapid_review",
        "panel_response",
        "commissioning",
        "in_review",
        "quality_assurance",
        "ratification",
        "publication_planning",
        "published",
        "learning",
        "national_review",
        "closed",
        "withdrawn",
    ] {
        assert!(stages.contains(s), "no demo case at {s}: {stages:?}");
    }
    let (_, missed) = app
        .get_json("/api/v1/cases?deadline_status=missed", Some(&token))
        .await;
    assert!(missed["total"].as_i64().unwrap() >= 1);
    // The sub-group member declared a conflict on one case and does not see it.
    let (_, body) = app
        .post_json("/api/v1/auth/token", None, serde_json::json!({"email": "member@demo.example", "password": lcspr_tracker::demo::DEMO_PASSWORD}))
        .await;
    let (_, theirs) = app
        .get_json(
            "/api/v1/cases?per_page=100",
            Some(body["token"].as_str().unwrap()),
        )
        .await;
    assert_eq!(
        theirs["total"].as_i64().unwrap(),
        list["total"].as_i64().unwrap() - 1
    );
    let (code, out, _) = bin(&app, &["audit", "verify"], None);
    assert_eq!(code, 0, "{out}");
}

#[actix_web::test]
async fn a_malformed_rules_file_or_setting_stops_start_up_naming_it() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let rules = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config/rules.toml"))
        .unwrap()
        .replacen(
            "offset = { working_days = 15 }",
            "offset = { working_days = \"fifteen\" }",
            1,
        );
    std::fs::write(dir.path().join("rules.toml"), rules).unwrap();
    let run = |envs: Vec<(&str, String)>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_lcspr-tracker"));
        cmd.args(["serve", "--bind", "127.0.0.1:0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .current_dir(dir.path())
            .env("DATABASE_URL", &app.db.url)
            .env("LCSPR_CONFIG_DIR", dir.path().join("none"))
            .env("RUST_LOG", "warn");
        for (k, v) in envs {
            cmd.env(k, v);
        }
        // It must stop by itself; a server that starts anyway is killed and fails the test.
        let mut child = cmd.spawn().unwrap();
        let started = std::time::Instant::now();
        while child.try_wait().unwrap().is_none() {
            if started.elapsed() > std::time::Duration::from_secs(20) {
                child.kill().unwrap();
                panic!("the service started despite the bad configuration");
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let out = child.wait_with_output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = run(vec![(
        "LCSPR__RULES__FILE",
        dir.path().join("rules.toml").display().to_string(),
    )]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("rule `rapid_review`") && err.contains("offset.working_days"),
        "{err}"
    );
    let (code, err) = run(vec![("LCSPR__JOBS__SWEEP_INTERVAL", "5".into())]);
    assert_eq!(code, 2);
    assert!(err.contains("jobs.sweep_interval"), "{err}");
    let (code, err) = run(vec![(
        "DATABASE_URL",
        format!("sqlite://{}/missing/x.db", dir.path().display()),
    )]);
    assert_eq!(code, 1);
    assert!(err.contains("does not exist"), "{err}");
    let (code, err) = run(vec![("DATABASE_URL", "data/lcspr.db".into())]);
    assert_eq!(code, 1);
    assert!(err.contains("sqlite:// or postgres://"), "{err}");
}
