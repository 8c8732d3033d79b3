//! Two-step verification (issue 13 §2), with the shipped `auth.mfa_required_roles`: the
//! enrolment gate, TOTP codes used once, recovery codes, throttling, the administrator's reset,
//! and the pages (the code as a second step, the QR code, recovery codes shown once).

use chrono::Duration;
use lcspr_tracker::config::Settings;
use lcspr_tracker::domain::roles::Role;
use serde_json::{json, Value};

use crate::support::accounts::{emails_to, otp};
use crate::support::api::PASSWORD;
use crate::support::browser::Browser;
use crate::support::TestApp;

fn day() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 1, 5).unwrap()
}

/// The app with the shipped roles needing a second factor.
async fn spawn() -> TestApp {
    TestApp::spawn_with(day(), |s| {
        s.auth.mfa_required_roles = Settings::defaults().auth.mfa_required_roles;
    })
    .await
}

async fn token(app: &TestApp, email: &str, otp: Option<&str>) -> (u16, Value) {
    let mut body = json!({ "email": email, "password": PASSWORD });
    if let Some(code) = otp {
        body["otp"] = json!(code);
    }
    app.post_json("/api/v1/auth/token", None, body).await
}

/// Enrols through the API; returns the secret and the recovery codes.
async fn enrol(app: &TestApp, token: &str) -> (String, Vec<String>) {
    let (status, e) = app
        .post_json("/api/v1/me/mfa/totp", Some(token), json!({}))
        .await;
    assert_eq!(status, 201, "{e}");
    let secret = e["secret"].as_str().unwrap().to_string();
    assert!(
        e["otpauth_uri"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/"),
        "{e}"
    );
    assert!(e["otpauth_uri"]
        .as_str()
        .unwrap()
        .contains(&format!("secret={secret}")));
    let codes: Vec<String> = e["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    assert_eq!(codes.len(), 10);
    let code = otp(app, &secret);
    let (status, body) = app
        .post_json(
            "/api/v1/me/mfa/totp/confirm",
            Some(token),
            json!({ "otp": code }),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    (secret, codes)
}

#[actix_web::test]
async fn a_role_that_needs_it_reaches_only_enrolment_until_it_is_set_up() {
    let app = spawn().await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let (status, body) = app.get_json("/api/v1/cases", Some(&pm.token)).await;
    assert_eq!(status, 403);
    assert_eq!(body["error"]["code"], "mfa_enrolment_required", "{body}");
    let (status, _) = app.get_json("/api/v1/me/reminders", Some(&pm.token)).await;
    assert_eq!(status, 403);
    // A role that does not need it is not held up.
    let bm = app.user(Role::BusinessManager, "Bea Manager").await;
    let (status, _) = app.get_json("/api/v1/cases", Some(&bm.token)).await;
    assert_eq!(status, 200);

    // A wrong code is refused and nothing changes.
    let (status, e) = app
        .post_json("/api/v1/me/mfa/totp", Some(&pm.token), json!({}))
        .await;
    assert_eq!(status, 201);
    let (status, body) = app
        .post_json(
            "/api/v1/me/mfa/totp/confirm",
            Some(&pm.token),
            json!({ "otp": "000000" }),
        )
        .await;
    assert_eq!(
        (status, body["error"]["field"].clone()),
        (422, json!("otp")),
        "{body}"
    );
    let (status, _) = app.get_json("/api/v1/cases", Some(&pm.token)).await;
    assert_eq!(status, 403);
    let secret = e["secret"].as_str().unwrap();
    let (status, _) = app
        .post_json(
            "/api/v1/me/mfa/totp/confirm",
            Some(&pm.token),
            json!({ "otp": otp(&app, secret) }),
        )
        .await;
    assert_eq!(status, 204);
    // Enrolled: the same session now reaches everything.
    let (status, _) = app.get_json("/api/v1/cases", Some(&pm.token)).await;
    assert_eq!(status, 200);
    // Enrolling again is refused: an administrator resets it first.
    let (status, _) = app
        .post_json("/api/v1/me/mfa/totp", Some(&pm.token), json!({}))
        .await;
    assert_eq!(status, 409);
    // Logout works before enrolment too.
    let admin = app.user(Role::Admin, "Ada Admin").await;
    let (status, _) = app
        .post_json("/api/v1/auth/logout", Some(&admin.token), json!({}))
        .await;
    assert_eq!(status, 204);
}

#[actix_web::test]
async fn once_enrolled_a_token_needs_a_code_used_only_once() {
    let app = spawn().await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    // The confirmation used this step's code.
    let (secret, codes) = enrol(&app, &pm.token).await;
    let (status, body) = token(&app, &pm.email, None).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "otp_required", "{body}");
    let (status, body) = token(&app, &pm.email, Some("123456")).await;
    assert_eq!(status, 401, "{body}");
    // The code the confirmation used cannot sign in within its window.
    let (status, _) = token(&app, &pm.email, Some(&otp(&app, &secret))).await;
    assert_eq!(status, 401, "a used code was accepted again");
    // The next step's code works, once.
    app.clock.advance(Duration::seconds(30));
    let code = otp(&app, &secret);
    let (status, body) = token(&app, &pm.email, Some(&code)).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = token(&app, &pm.email, Some(&code)).await;
    assert_eq!(status, 401);
    let fresh = body["token"].as_str().unwrap();
    let (status, _) = app.get_json("/api/v1/cases", Some(fresh)).await;
    assert_eq!(status, 200);
    // A recovery code works once, written any way.
    let spaced = codes[0].to_uppercase().replace('-', " ");
    let (status, body) = token(&app, &pm.email, Some(&spaced)).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = token(&app, &pm.email, Some(&codes[0])).await;
    assert_eq!(status, 401);
    // A wrong password with a right code is a plain 401.
    app.clock.advance(Duration::seconds(30));
    let (status, body) = app
        .post_json(
            "/api/v1/auth/token",
            None,
            json!({ "email": pm.email, "password": "wrong password!", "otp": otp(&app, &secret) }),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (401, json!("unauthorized"))
    );
}

#[actix_web::test]
async fn failed_codes_count_towards_the_throttle() {
    let app = spawn().await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let (secret, _) = enrol(&app, &pm.token).await;
    let limit = app.state.settings.auth.max_failed_logins;
    for _ in 0..limit {
        let (status, _) = token(&app, &pm.email, Some("000000")).await;
        assert_eq!(status, 401);
    }
    app.clock.advance(Duration::seconds(30));
    let (status, body) = token(&app, &pm.email, Some(&otp(&app, &secret))).await;
    assert_eq!(status, 429, "{body}");
}

#[actix_web::test]
async fn an_administrator_resets_it_audited_and_the_user_is_told() {
    let app = spawn().await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    enrol(&app, &pm.token).await;
    let admin = app.user(Role::Admin, "Ada Admin").await;
    let (secret, _) = enrol(&app, &admin.token).await;
    let _ = secret;
    let path = format!("/api/v1/users/{}/mfa/reset", pm.id);
    let bm = app.user(Role::BusinessManager, "Bea Manager").await;
    let (status, _) = app.post_json(&path, Some(&bm.token), json!({})).await;
    assert_eq!(status, 403);
    let (status, body) = app.post_json(&path, Some(&admin.token), json!({})).await;
    assert_eq!(status, 204, "{body}");
    // Signed out everywhere; told by email; a password alone now works, into enrolment.
    let (status, _) = app.get_json("/api/v1/cases", Some(&pm.token)).await;
    assert_eq!(status, 401);
    assert_eq!(emails_to(&app, &pm.email, "mfa_reset").await, 1);
    let (status, body) = token(&app, &pm.email, None).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app
        .get_json("/api/v1/cases", Some(body["token"].as_str().unwrap()))
        .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (403, json!("mfa_enrolment_required"))
    );
    // Nothing to reset twice.
    let (status, _) = app.post_json(&path, Some(&admin.token), json!({})).await;
    assert_eq!(status, 409);
    use diesel::prelude::*;
    use lcspr_tracker::db::schema::audit_log;
    let id = pm.id.clone();
    let entries: i64 = app
        .state
        .db(move |c, _| {
            Ok(audit_log::table
                .filter(audit_log::action.eq("mfa_reset"))
                .filter(audit_log::outcome.eq("ok"))
                .filter(audit_log::subject.eq(id))
                .count()
                .get_result(c)?)
        })
        .await
        .unwrap();
    assert_eq!(entries, 1);
}

#[actix_web::test]
async fn the_pages_take_the_user_to_enrolment_then_ask_for_the_code() {
    let app = spawn().await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let b = Browser::new(&app);
    let a = b.sign_in_with(&pm.email, PASSWORD, "/cases").await;
    assert_eq!(a.status, 303, "{}", a.body);
    // Any page leads to the set-up page until it is done.
    let a = b.get("/cases").await;
    assert_eq!((a.status, a.location()), (303, "/account/two-step"));
    let page = b.get("/account/two-step").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("<svg role=\"img\" aria-label=\"QR code"),
        "{}",
        page.main()
    );
    let secret: String = {
        let start = page.body.find("id=\"secret\">").unwrap() + "id=\"secret\">".len();
        page.body[start..]
            .chars()
            .take_while(|c| *c != '<')
            .filter(|c| !c.is_whitespace())
            .collect()
    };
    assert!(secret.len() >= 32, "{secret}");
    let a = b
        .post(
            "/account/two-step",
            &[
                ("csrf_token", &page.hidden("csrf_token")),
                ("otp", "000000"),
            ],
        )
        .await;
    assert_eq!(a.status, 422);
    assert!(a.body.contains("The code is not correct"));
    let a = b
        .post(
            "/account/two-step",
            &[
                ("csrf_token", &page.hidden("csrf_token")),
                ("otp", &otp(&app, &secret)),
            ],
        )
        .await;
    assert_eq!(
        (a.status, a.location()),
        (303, "/account/two-step/recovery-codes")
    );
    let codes = b.get("/account/two-step/recovery-codes").await;
    assert_eq!(codes.status, 200);
    assert!(codes.body.contains("This is the only time they are shown"));
    let first: String = {
        let start = codes.body.find("font-weight-bold\">").unwrap() + "font-weight-bold\">".len();
        codes.body[start..start + 11].to_string()
    };
    assert_eq!(first.len(), 11);
    // Shown once.
    let again = b.get("/account/two-step/recovery-codes").await;
    assert_eq!((again.status, again.location()), (303, "/account/two-step"));
    let a = b.get("/cases").await;
    assert_eq!(a.status, 200);

    // Signing in again: the password, then the code.
    let b = Browser::new(&app);
    let a = b.sign_in_with(&pm.email, PASSWORD, "/cases").await;
    assert_eq!((a.status, a.location()), (303, "/sign-in/code"));
    assert!(b.cookie("lcspr_session").is_none());
    let form = b.get("/sign-in/code").await;
    assert!(form
        .body
        .contains("Enter the code from your authenticator app"));
    let a = b
        .post(
            "/sign-in/code",
            &[
                ("csrf_token", &form.hidden("csrf_token")),
                ("otp", "999999"),
            ],
        )
        .await;
    assert_eq!(a.status, 401);
    assert!(a.body.contains("The code is not correct"));
    let a = b
        .post(
            "/sign-in/code",
            &[("csrf_token", &form.hidden("csrf_token")), ("otp", &first)],
        )
        .await;
    assert_eq!((a.status, a.location()), (303, "/cases"), "{}", a.body);
    assert!(b.cookie("lcspr_session").is_some());
    // The waiting sign-in is used up.
    let a = b.get("/sign-in/code").await;
    assert_eq!((a.status, a.location()), (303, "/sign-in?code_expired=1"));

    // A password waits five minutes for its code, no longer.
    let late = Browser::new(&app);
    let a = late.sign_in_with(&pm.email, PASSWORD, "/").await;
    assert_eq!(a.location(), "/sign-in/code");
    let form = late.get("/sign-in/code").await;
    app.clock.advance(Duration::minutes(6));
    let a = late
        .post(
            "/sign-in/code",
            &[
                ("csrf_token", &form.hidden("csrf_token")),
                ("otp", &otp(&app, &secret)),
            ],
        )
        .await;
    assert_eq!((a.status, a.location()), (303, "/sign-in?code_expired=1"));
    assert!(late
        .get(a.location())
        .await
        .body
        .contains("Your sign-in timed out"));
    assert!(late.cookie("lcspr_session").is_none());
}

#[actix_web::test]
async fn the_users_page_resets_two_step_verification() {
    let app = TestApp::spawn().await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    enrol(&app, &pm.token).await;
    let admin = app.user(Role::Admin, "Ada Admin").await;
    let b = Browser::new(&app);
    b.sign_in(&admin.email).await;
    let list = b.get("/admin/users").await;
    assert!(
        list.body.contains("Two-step verification on"),
        "{}",
        list.main()
    );
    assert!(list.body.contains("Reset two-step verification"));
    let a = b
        .post(
            &format!("/admin/users/{}", pm.id),
            &[
                ("csrf_token", &list.hidden("csrf_token")),
                ("action", "reset_two_step"),
            ],
        )
        .await;
    assert_eq!(a.status, 303, "{}", a.body);
    let list = b.get(a.location()).await;
    assert!(
        list.body.contains("two-step verification has been reset"),
        "{}",
        list.main()
    );
    assert!(!list.body.contains("Reset two-step verification"));
    assert_eq!(emails_to(&app, &pm.email, "mfa_reset").await, 1);
    let (status, _) = app.get_json("/api/v1/cases", Some(&pm.token)).await;
    assert_eq!(status, 401, "signed out everywhere");
}
