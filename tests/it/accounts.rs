//! Accounts (issue 13 §3): invitations by email (one-time, 72 hours, stored hashed, single use),
//! "Forgotten your password?" (the same answer either way, sessions revoked on reset), and the
//! password policy (length, common and leaked passwords, the person's own name and email).

use chrono::Duration;
use lcspr_tracker::app::accounts::LinkPurpose;
use lcspr_tracker::domain::roles::Role;
use serde_json::json;

use crate::support::accounts::{emails_to, link_in_outbox};
use crate::support::api::PASSWORD;
use crate::support::browser::Browser;
use crate::support::TestApp;

const NEW_PASSWORD: &str = "plinth otter saucepan lantern";

#[actix_web::test]
async fn an_invitation_works_once_for_72_hours_and_no_administrator_sees_a_password() {
    let app = TestApp::spawn().await;
    let admin = app.user(Role::Admin, "Ada Admin").await;
    let (status, body) = app
        .post_json(
            "/api/v1/users",
            Some(&admin.token),
            json!({ "email": "Rae.Reviewer@Example.org", "name": "Rae Reviewer", "role": "lead_reviewer" }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["email"], "rae.reviewer@example.org");
    let expires =
        chrono::DateTime::parse_from_rfc3339(body["invitation_expires_at"].as_str().unwrap())
            .unwrap()
            .naive_utc();
    assert_eq!(expires - app.state.now(), Duration::hours(72));
    let id = body["id"].as_str().unwrap().to_string();
    let email = "rae.reviewer@example.org";
    assert_eq!(emails_to(&app, email, "invitation").await, 1);
    let token = link_in_outbox(&app, email, LinkPurpose::Invitation).await;

    // Only a hash of the token is stored; the administrator's view of the outbox hides it.
    use diesel::prelude::*;
    use lcspr_tracker::db::schema::{one_time_links, outbox};
    let t = token.clone();
    let (stored, outbox_id): (Vec<String>, String) = app
        .state
        .db(move |c, _| {
            let hashes = one_time_links::table
                .select(one_time_links::token_hash)
                .load::<String>(c)?;
            assert!(!hashes.contains(&t));
            let id = outbox::table
                .filter(outbox::kind.eq("invitation"))
                .select(outbox::id)
                .first::<String>(c)?;
            Ok((hashes, id))
        })
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    let (status, message) = app
        .get_json(
            &format!("/api/v1/admin/outbox/{outbox_id}"),
            Some(&admin.token),
        )
        .await;
    assert_eq!(status, 200);
    let text = message["body_text"].as_str().unwrap();
    assert!(
        !text.contains(&token) && text.contains("/invitation/[hidden]"),
        "{text}"
    );
    assert!(!message["subject"].as_str().unwrap().contains(&token));

    // The policy is checked against the person's own name.
    let (status, body) = app
        .post_json(
            "/api/v1/auth/invitation/accept",
            None,
            json!({ "token": token, "password": "RaeReviewer-2026!" }),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        body["error"]["fields"][0]["message"],
        "must not contain your name or email address"
    );
    let (status, body) = app
        .post_json(
            "/api/v1/auth/invitation/accept",
            None,
            json!({ "token": token, "password": NEW_PASSWORD }),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let (status, _) = app
        .post_json(
            "/api/v1/auth/token",
            None,
            json!({ "email": email, "password": NEW_PASSWORD }),
        )
        .await;
    assert_eq!(status, 200);
    // Single use.
    let (status, body) = app
        .post_json(
            "/api/v1/auth/invitation/accept",
            None,
            json!({ "token": token, "password": "another good passphrase here" }),
        )
        .await;
    assert_eq!(
        (status, body["error"]["field"].clone()),
        (422, json!("token"))
    );
    // Accepted: no more invitations for this user.
    let (status, _) = app
        .post_json(
            &format!("/api/v1/users/{id}/invitation"),
            Some(&admin.token),
            json!({}),
        )
        .await;
    assert_eq!(status, 409);

    // Another invitation, left 72 hours: it no longer works; a new one does, the old does not.
    let (_, body) = app
        .post_json(
            "/api/v1/users",
            Some(&admin.token),
            json!({ "email": "late@example.org", "name": "Lou Late", "role": "board_member" }),
        )
        .await;
    let late = body["id"].as_str().unwrap().to_string();
    let old = link_in_outbox(&app, "late@example.org", LinkPurpose::Invitation).await;
    app.clock.advance(Duration::hours(72));
    let (status, _) = app
        .post_json(
            "/api/v1/auth/invitation/accept",
            None,
            json!({ "token": old, "password": NEW_PASSWORD }),
        )
        .await;
    assert_eq!(status, 422);
    let (status, _) = app
        .post_json(
            &format!("/api/v1/users/{late}/invitation"),
            Some(&admin.token),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    let new = link_in_outbox(&app, "late@example.org", LinkPurpose::Invitation).await;
    assert_ne!(new, old);
    let (status, _) = app
        .post_json(
            "/api/v1/auth/invitation/accept",
            None,
            json!({ "token": new, "password": NEW_PASSWORD }),
        )
        .await;
    assert_eq!(status, 204);
}

#[actix_web::test]
async fn the_invitation_page_sets_the_password_and_signs_in() {
    let app = TestApp::spawn().await;
    let admin = app.user(Role::Admin, "Ada Admin").await;
    let b = Browser::new(&app);
    b.sign_in(&admin.email).await;
    let form = b.get("/admin/users/new").await;
    assert!(
        !form.body.contains("type=\"password\""),
        "no administrator types a password"
    );
    let a = b
        .post(
            "/admin/users/new",
            &[
                ("csrf_token", &form.hidden("csrf_token")),
                ("form_id", &form.hidden("form_id")),
                ("name", "Nia Newcomer"),
                ("email", "nia@example.org"),
                ("role", "business_manager"),
            ],
        )
        .await;
    assert_eq!(a.status, 303, "{}", a.body);
    let list = b.get(a.location()).await;
    assert!(
        list.body.contains("Nia Newcomer has been invited"),
        "{}",
        list.main()
    );
    assert!(list.body.contains("Invited"));

    let token = link_in_outbox(&app, "nia@example.org", LinkPurpose::Invitation).await;
    let nia = Browser::new(&app);
    let a = nia.get(&format!("/invitation/{token}")).await;
    // The token leaves the address bar at once.
    assert_eq!((a.status, a.location()), (303, "/invitation"));
    let page = nia.get("/invitation").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Welcome, Nia Newcomer"));
    let a = nia
        .post(
            "/invitation",
            &[
                ("csrf_token", &page.hidden("csrf_token")),
                ("password", "password1234"),
                ("confirm_password", "password1234"),
            ],
        )
        .await;
    assert_eq!(a.status, 422);
    assert!(
        a.body.contains("common or leaked passwords"),
        "{}",
        a.main()
    );
    let a = nia
        .post(
            "/invitation",
            &[
                ("csrf_token", &page.hidden("csrf_token")),
                ("password", NEW_PASSWORD),
                ("confirm_password", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!((a.status, a.location()), (303, "/"), "{}", a.body);
    assert_eq!(nia.get("/").await.status, 200);
    // The link is used up.
    let other = Browser::new(&app);
    other.get(&format!("/invitation/{token}")).await;
    let page = other.get("/invitation").await;
    assert_eq!(page.status, 404);
    assert!(page.body.contains("This invitation link does not work"));
}

#[actix_web::test]
async fn a_forgotten_password_is_reset_by_email_and_every_session_ends() {
    let app = TestApp::spawn().await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    // The same answer for an account and for no account; only the account gets an email.
    let (s1, b1) = app
        .post_json(
            "/api/v1/auth/password-reset",
            None,
            json!({ "email": pm.email }),
        )
        .await;
    let (s2, b2) = app
        .post_json(
            "/api/v1/auth/password-reset",
            None,
            json!({ "email": "nobody@example.org" }),
        )
        .await;
    assert_eq!((s1, s2), (202, 202));
    assert_eq!(b1, b2);
    assert_eq!(emails_to(&app, &pm.email, "password_reset").await, 1);
    assert_eq!(
        emails_to(&app, "nobody@example.org", "password_reset").await,
        0
    );
    // The pages likewise.
    let b = Browser::new(&app);
    let form = b.get("/sign-in").await;
    assert!(form.body.contains("Forgotten your password?"));
    let form = b.get("/forgotten-password").await;
    let a = b
        .post(
            "/forgotten-password",
            &[
                ("csrf_token", &form.hidden("csrf_token")),
                ("email", "nobody@example.org"),
            ],
        )
        .await;
    assert_eq!((a.status, a.location()), (303, "/forgotten-password/sent"));

    let token = link_in_outbox(&app, &pm.email, LinkPurpose::PasswordReset).await;
    let browser = Browser::new(&app);
    browser.sign_in(&pm.email).await;
    let (status, body) = app
        .post_json(
            "/api/v1/auth/password-reset/confirm",
            None,
            json!({ "token": token, "password": "short" }),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(
        body["error"]["fields"][0]["message"],
        "must be at least 12 characters"
    );
    let (status, body) = app
        .post_json(
            "/api/v1/auth/password-reset/confirm",
            None,
            json!({ "token": token, "password": NEW_PASSWORD }),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    // Every token and session ended.
    let (status, _) = app.get_json("/api/v1/cases", Some(&pm.token)).await;
    assert_eq!(status, 401);
    let a = browser.get("/").await;
    assert_eq!(a.status, 303);
    let (status, _) = app
        .post_json(
            "/api/v1/auth/token",
            None,
            json!({ "email": pm.email, "password": PASSWORD }),
        )
        .await;
    assert_eq!(status, 401);
    let (status, _) = app
        .post_json(
            "/api/v1/auth/token",
            None,
            json!({ "email": pm.email, "password": NEW_PASSWORD }),
        )
        .await;
    assert_eq!(status, 200);
    // Used once.
    let (status, _) = app
        .post_json(
            "/api/v1/auth/password-reset/confirm",
            None,
            json!({ "token": token, "password": "yet another fine passphrase" }),
        )
        .await;
    assert_eq!(status, 422);
    // Asking again and again sends at most three an hour.
    for _ in 0..5 {
        app.post_json(
            "/api/v1/auth/password-reset",
            None,
            json!({ "email": pm.email }),
        )
        .await;
    }
    assert_eq!(emails_to(&app, &pm.email, "password_reset").await, 3);
}

#[actix_web::test]
async fn changing_a_password_says_why_one_is_refused() {
    let app = TestApp::spawn().await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let b = Browser::new(&app);
    b.sign_in(&pm.email).await;
    for (new, why) in [
        ("qwertyuiop123", "common or leaked passwords"),
        (
            "Pat-Manager-2026",
            "must not contain your name or email address",
        ),
        ("short", "must be at least 12 characters"),
    ] {
        let form = b.get("/account/password").await;
        let a = b
            .post(
                "/account/password",
                &[
                    ("csrf_token", &form.hidden("csrf_token")),
                    ("current_password", PASSWORD),
                    ("new_password", new),
                    ("confirm_password", new),
                ],
            )
            .await;
        assert_eq!(a.status, 422, "{new}");
        assert!(a.body.contains(why), "{new}: {}", a.main());
    }
}

#[actix_web::test]
async fn the_users_page_sends_an_invitation_again() {
    let app = TestApp::spawn().await;
    let admin = app.user(Role::Admin, "Ada Admin").await;
    let (_, body) = app
        .post_json(
            "/api/v1/users",
            Some(&admin.token),
            json!({ "email": "ivy@example.org", "name": "Ivy Invited", "role": "subgroup_member" }),
        )
        .await;
    let id = body["id"].as_str().unwrap().to_string();
    let first = link_in_outbox(&app, "ivy@example.org", LinkPurpose::Invitation).await;
    app.clock.advance(Duration::hours(73));
    let b = Browser::new(&app);
    b.sign_in(&admin.email).await;
    let list = b.get("/admin/users").await;
    assert!(list.body.contains("Invitation expired"), "{}", list.main());
    let a = b
        .post(
            &format!("/admin/users/{id}"),
            &[
                ("csrf_token", &list.hidden("csrf_token")),
                ("action", "invite_again"),
            ],
        )
        .await;
    assert_eq!(a.status, 303, "{}", a.body);
    let list = b.get(a.location()).await;
    assert!(
        list.body
            .contains("A new invitation has been sent to Ivy Invited"),
        "{}",
        list.main()
    );
    assert_eq!(emails_to(&app, "ivy@example.org", "invitation").await, 2);
    let second = link_in_outbox(&app, "ivy@example.org", LinkPurpose::Invitation).await;
    assert_ne!(first, second);
}
