//! Single sign-on (issue 13 §1) end to end against a real OpenID Connect provider on loopback
//! (`oidc-provider`, tests/oidc): the code flow with PKCE, state and nonce; accounts matched by
//! verified email and bound to the subject; and each refusal a clear page — a wrong audience,
//! an expired ID token, a replayed state, an unknown email, and more.

use lcspr_tracker::app::accounts::{self, Invite};
use lcspr_tracker::config::Settings;
use lcspr_tracker::domain::roles::Role;
use serde_json::json;

use crate::support::oidc::{self, Agent, Hop};
use crate::support::TestApp;

/// Starts a sign-in at the app and follows it through the provider, stopping before the
/// callback; returns the callback URL.
async fn to_callback(app: &TestApp, agent: &Agent, next: &str) -> String {
    let start = app.url(&format!("/sign-in/sso?next={next}"));
    let hop = agent
        .follow(&start, Some(&app.url("/sign-in/sso/callback")))
        .await;
    let callback = hop
        .location
        .clone()
        .unwrap_or_else(|| panic!("no callback: {hop:?}"));
    assert!(
        callback.contains("code=") && callback.contains("state="),
        "{callback}"
    );
    callback
}

async fn sign_in(app: &TestApp, agent: &Agent) -> Hop {
    let callback = to_callback(app, agent, "%2Fcases").await;
    agent.get(&callback).await
}

/// Invites a user as the command line does.
async fn invite(app: &TestApp, email: &str, role: Role) -> String {
    let email = email.to_string();
    app.state
        .db(move |c, st| {
            let invite = Invite {
                email,
                name: "Sol Sso".into(),
                role,
                agency: None,
            };
            accounts::invite(c, st, None, invite)
        })
        .await
        .unwrap()
        .user
        .id
}

#[actix_web::test]
async fn an_invited_user_signs_in_and_the_subject_is_bound() {
    let (app, provider) = oidc::spawn(|s| {
        // Single sign-on needs no second factor here: the organisation's provider checks it.
        s.auth.mfa_required_roles = Settings::defaults().auth.mfa_required_roles;
    })
    .await;
    invite(&app, "sol@example.org", Role::ProgrammeManager).await;
    // The sign-in page offers the button.
    let page = Agent::default().get(&app.url("/sign-in")).await;
    assert!(
        page.body.contains("Sign in with your organisation account"),
        "{}",
        page.body
    );
    assert!(page.body.contains("href=\"/sign-in/sso\""));

    provider.login_as("sub-sol", "Sol@Example.org", true).await;
    let agent = Agent::default();
    let done = sign_in(&app, &agent).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.location.as_deref(), Some(app.url("/cases").as_str()));
    assert!(agent.cookie(&app.base, "lcspr_session").is_some());
    let cases = agent.get(&app.url("/cases")).await;
    assert_eq!(
        cases.status, 200,
        "signed in, and not held up by two-step set-up"
    );
    // The invitation is used up by the first sign-in.
    let (status, _) = app
        .post_json("/api/v1/auth/invitation/accept", None, json!({ "token": crate::support::accounts::link_in_outbox(&app, "sol@example.org", lcspr_tracker::app::accounts::LinkPurpose::Invitation).await, "password": "plinth otter saucepan lantern" }))
        .await;
    assert_eq!(status, 422);

    // The same email from another subject at the provider is refused.
    provider
        .login_as("sub-impostor", "sol@example.org", true)
        .await;
    let other = Agent::default();
    let refused = sign_in(&app, &other).await;
    assert_eq!(refused.status, 403);
    assert!(
        refused
            .body
            .contains("This account is linked to someone else"),
        "{}",
        refused.body
    );
    assert!(other.cookie(&app.base, "lcspr_session").is_none());
    // The bound subject signs in again.
    provider.login_as("sub-sol", "sol@example.org", true).await;
    assert_eq!(sign_in(&app, &Agent::default()).await.status, 303);
}

#[actix_web::test]
async fn an_unknown_or_unverified_email_is_refused_with_a_clear_page() {
    let (app, provider) = oidc::spawn(|_| {}).await;
    provider
        .login_as("sub-x", "stranger@example.org", true)
        .await;
    let agent = Agent::default();
    let hop = sign_in(&app, &agent).await;
    assert_eq!(hop.status, 403);
    assert!(
        hop.body
            .contains("There is no account for you on this service"),
        "{}",
        hop.body
    );
    assert!(hop.body.contains("Signing in does not create an account"));
    assert!(agent.cookie(&app.base, "lcspr_session").is_none());
    // No account was made.
    let (count, _) = (
        app.state
            .db(|c, _| lcspr_tracker::app::users::count(c).map_err(Into::into))
            .await
            .unwrap(),
        (),
    );
    assert_eq!(count, 0);

    invite(&app, "unverified@example.org", Role::BusinessManager).await;
    provider
        .login_as("sub-u", "unverified@example.org", false)
        .await;
    let hop = sign_in(&app, &Agent::default()).await;
    assert_eq!(hop.status, 403);
    assert!(
        hop.body.contains("Your email address is not confirmed"),
        "{}",
        hop.body
    );
}

#[actix_web::test]
async fn a_wrong_audience_an_expired_token_or_another_nonce_is_refused() {
    let (app, provider) = oidc::spawn(|_| {}).await;
    invite(&app, "sol@example.org", Role::BusinessManager).await;
    for mode in ["audience", "expired", "nonce"] {
        provider.login_as("sub-sol", "sol@example.org", true).await;
        provider.tamper(mode).await;
        let agent = Agent::default();
        let hop = sign_in(&app, &agent).await;
        assert_eq!(hop.status, 403, "{mode}: {}", hop.body);
        assert!(
            hop.body.contains("Your sign-in could not be checked"),
            "{mode}: {}",
            hop.body
        );
        assert!(agent.cookie(&app.base, "lcspr_session").is_none(), "{mode}");
    }
    // The provider's genuine token still works.
    provider.login_as("sub-sol", "sol@example.org", true).await;
    assert_eq!(sign_in(&app, &Agent::default()).await.status, 303);
    // Every refusal is in the audit trail.
    use diesel::prelude::*;
    use lcspr_tracker::db::schema::audit_log;
    let reasons: Vec<String> = app
        .state
        .db(|c, _| {
            Ok(audit_log::table
                .filter(audit_log::action.eq("sign_in"))
                .filter(audit_log::outcome.eq("refused"))
                .select(audit_log::detail)
                .load::<String>(c)?)
        })
        .await
        .unwrap();
    assert_eq!(reasons.len(), 3, "{reasons:?}");
    assert!(
        reasons.iter().all(|r| r.contains("ID token rejected")),
        "{reasons:?}"
    );
}

#[actix_web::test]
async fn a_replayed_state_is_refused() {
    let (app, provider) = oidc::spawn(|_| {}).await;
    invite(&app, "sol@example.org", Role::BusinessManager).await;
    provider.login_as("sub-sol", "sol@example.org", true).await;
    let agent = Agent::default();
    let callback = to_callback(&app, &agent, "%2F").await;
    assert_eq!(agent.get(&callback).await.status, 303);
    // The same callback again, from the same browser: the state was used.
    let again = agent.get(&callback).await;
    assert_eq!(again.status, 400, "{}", again.body);
    assert!(again
        .body
        .contains("This sign-in has expired or has been used"));
    // A callback carried to another browser is refused too.
    provider.login_as("sub-sol", "sol@example.org", true).await;
    let callback = to_callback(&app, &Agent::default(), "%2F").await;
    let elsewhere = Agent::default().get(&callback).await;
    assert_eq!(elsewhere.status, 400, "{}", elsewhere.body);
}

#[actix_web::test]
async fn password_sign_in_can_be_switched_off() {
    let (app, provider) = oidc::spawn(|s| s.auth.password_enabled = false).await;
    let _ = &provider;
    let page = Agent::default().get(&app.url("/sign-in")).await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("type=\"password\""), "{}", page.body);
    assert!(!page.body.contains("Forgotten your password?"));
    let (status, body) = app
        .post_json(
            "/api/v1/auth/token",
            None,
            json!({ "email": "a@example.org", "password": "whatever it is" }),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    let (status, _) = app
        .post_json(
            "/api/v1/auth/password-reset/confirm",
            None,
            json!({ "token": "0".repeat(64), "password": "plinth otter saucepan lantern" }),
        )
        .await;
    assert_eq!(status, 403);
}
