//! Sign-in, throttling, revocation.

use serde_json::json;

use lcspr_tracker::domain::roles::Role;

use crate::support::api::PASSWORD;
use crate::support::TestApp;

#[actix_web::test]
async fn wrong_and_unknown_credentials_look_the_same_and_are_throttled() {
    let app = TestApp::spawn().await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let (status, body) = app
        .post_json(
            "/api/v1/auth/token",
            None,
            json!({"email": pm.email, "password": "wrong password here"}),
        )
        .await;
    assert_eq!(status, 401);
    let (status2, body2) = app
        .post_json(
            "/api/v1/auth/token",
            None,
            json!({"email": "nobody@example.org", "password": "wrong password here"}),
        )
        .await;
    assert_eq!(status2, 401);
    assert_eq!(
        body, body2,
        "the answer must not reveal whether the account exists"
    );
    // Four more failures on the account reach the limit (5); then 429 with Retry-After,
    // even with the right password.
    for _ in 0..4 {
        let (s, _) = app
            .post_json(
                "/api/v1/auth/token",
                None,
                json!({"email": pm.email, "password": "still wrong!!"}),
            )
            .await;
        assert_eq!(s, 401);
    }
    let mut resp = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .send_json(&json!({"email": pm.email, "password": PASSWORD}))
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 429);
    let retry: u64 = resp
        .headers()
        .get("retry-after")
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0 && retry <= 15 * 60, "{retry}");
    let _ = resp.body().await;
    // After the window the account signs in again.
    app.clock.advance(chrono::Duration::minutes(16));
    let (status, _) = app
        .post_json(
            "/api/v1/auth/token",
            None,
            json!({"email": pm.email, "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, 200);
}

#[actix_web::test]
async fn one_address_failing_on_many_accounts_is_refused() {
    let app = TestApp::spawn().await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    // 20 failures (4 × the account limit) from one address, each on a different account.
    for i in 0..20 {
        let (s, _) = app
            .post_json(
                "/api/v1/auth/token",
                None,
                json!({"email": format!("guess{i}@example.org"), "password": "wrong password"}),
            )
            .await;
        assert_eq!(s, 401, "attempt {i}");
    }
    let (status, _) = app
        .post_json(
            "/api/v1/auth/token",
            None,
            json!({"email": pm.email, "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, 429);
}

#[actix_web::test]
async fn missing_fields_are_named() {
    let app = TestApp::spawn().await;
    let (status, body) = app
        .post_json("/api/v1/auth/token", None, json!({"email": "a@b.org"}))
        .await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["field"], "password");
    let mut resp = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .insert_header(("content-type", "application/json"))
        .send_body("{not json")
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    let body: serde_json::Value = serde_json::from_slice(&resp.body().await.unwrap()).unwrap();
    assert_eq!(body["error"]["field"], "body");
}

#[actix_web::test]
async fn logout_and_deactivation_revoke_tokens_at_once() {
    let app = TestApp::spawn().await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let (status, _) = app.get_json("/api/v1/cases", Some(&pm.token)).await;
    assert_eq!(status, 200);
    let (status, _) = app
        .post_json("/api/v1/auth/logout", Some(&pm.token), json!({}))
        .await;
    assert_eq!(status, 204);
    let (status, _) = app.get_json("/api/v1/cases", Some(&pm.token)).await;
    assert_eq!(status, 401);

    let chair = app.user(Role::CoChair, "Chris Chair").await;
    let admin = app.user(Role::Admin, "Ada Admin").await;
    let chair_id = chair.id.clone();
    let state = app.state.clone();
    state
        .db(move |c, st| {
            let actor = lcspr_tracker::app::Actor {
                user_id: admin.id.clone(),
                role: Role::Admin,
                name: "Ada".into(),
            };
            lcspr_tracker::app::users::update(c, &actor, st.now(), &chair_id, None, Some(false))
        })
        .await
        .unwrap();
    let (status, _) = app.get_json("/api/v1/cases", Some(&chair.token)).await;
    assert_eq!(status, 401);
    // A forged token is refused too.
    let (status, _) = app
        .get_json("/api/v1/cases", Some("eyJhbGciOiJIUzI1NiJ9.e30.x"))
        .await;
    assert_eq!(status, 401);
    let (status, _) = app.get_json("/api/v1/cases", None).await;
    assert_eq!(status, 401);
}

#[actix_web::test]
async fn users_are_listed_for_the_roles_allowed() {
    let app = TestApp::spawn().await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let rev = app.user(Role::LeadReviewer, "Rae Reviewer").await;
    let (status, list) = app
        .get_json("/api/v1/users?role=lead_reviewer", Some(&pm.token))
        .await;
    assert_eq!(status, 200);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["id"], rev.id.as_str());
    assert_eq!(list[0]["email"], rev.email.as_str());
    let (status, body) = app
        .get_json("/api/v1/users?role=chair", Some(&pm.token))
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["field"], "role");
    let (status, _) = app.get_json("/api/v1/users", Some(&rev.token)).await;
    assert_eq!(status, 403);
}

/// Each throttled attempt is audited in its own transaction, so concurrent ones queue for the
/// audit chain (PostgreSQL's advisory lock lasts until the transaction ends) instead of taking
/// the same sequence number and failing with a 500.
#[actix_web::test]
async fn concurrent_throttled_sign_ins_are_each_refused_and_audited_in_one_chain() {
    use diesel::prelude::*;
    use lcspr_tracker::app::audit::{self, Verification};
    use lcspr_tracker::db::schema::audit_log;

    let app = TestApp::spawn().await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    for _ in 0..5 {
        let (s, _) = app
            .post_json(
                "/api/v1/auth/token",
                None,
                json!({"email": pm.email, "password": "wrong password!"}),
            )
            .await;
        assert_eq!(s, 401);
    }
    let attempts = (0..24).map(|_| {
        app.post_json(
            "/api/v1/auth/token",
            None,
            json!({"email": pm.email, "password": PASSWORD}),
        )
    });
    let statuses: Vec<u16> = futures_util::future::join_all(attempts)
        .await
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    assert!(statuses.iter().all(|s| *s == 429), "{statuses:?}");
    let (verified, throttled) = app
        .state
        .db(|c, _| {
            let throttled: i64 = audit_log::table
                .filter(audit_log::action.eq("sign_in"))
                .filter(audit_log::detail.like("%throttled%"))
                .count()
                .get_result(c)?;
            Ok((audit::verify(c)?, throttled))
        })
        .await
        .unwrap();
    assert!(
        matches!(verified, Verification::Intact { .. }),
        "{verified:?}"
    );
    assert_eq!(throttled, 24);
}
