//! Single sign-on with an OpenID Connect provider (`auth.oidc.*`), through the `openidconnect`
//! crate: the authorization code flow with PKCE, `state` and `nonce`; the provider found by
//! discovery from its issuer URL; the ID token's signature, issuer, audience, expiry (against
//! the injected clock) and nonce checked. A person is matched by the provider's verified
//! email address to an account an administrator created or invited (signing in never creates
//! one); the provider's subject (`sub`) is bound to the account at the first sign-in and must
//! match after. Every refusal is audited.

use std::time::Duration;

use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    TokenResponse,
};
use secrecy::ExposeSecret;

use super::audit::Entry;
use super::auth::{self, Issued, SignIn, SignInMethod, TokenKind};
use super::flows::{self, Flow, FlowKind, Missing};
use super::{accounts, audit, refusals, stored};
use crate::db::schema::{oidc_identities, users};
use crate::db::write_tx;
use crate::error::AppError;
use crate::state::AppState;

/// Where the provider sends the browser back.
pub const CALLBACK_PATH: &str = "/sign-in/sso/callback";
/// Minutes a sign-in may take at the provider.
const FLOW_MINUTES: i64 = 10;

/// Why single sign-on did not sign someone in. Each is shown as a page that says what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SsoError {
    NotConfigured,
    /// The provider could not be reached or answered something unusable.
    Provider(String),
    /// The provider said no (the person cancelled, or it refused them).
    Denied(String),
    /// The `state` is unknown, used already or expired (a replayed or stale callback).
    StateUnknown,
    /// The callback came to a browser other than the one that began the sign-in.
    OtherBrowser,
    /// The ID token failed a check: signature, issuer, audience, expiry or nonce.
    TokenRejected(String),
    EmailNotVerified,
    DomainNotAllowed,
    /// No account has this email address.
    UnknownAccount,
    Deactivated,
    /// The account is bound to another identity at the provider.
    SubjectMismatch,
}

impl SsoError {
    /// The reason kept in the audit trail.
    pub fn reason(&self) -> String {
        match self {
            SsoError::NotConfigured => "single sign-on is not configured".into(),
            SsoError::Provider(m) => format!("provider error: {m}"),
            SsoError::Denied(m) => format!("the provider refused: {m}"),
            SsoError::StateUnknown => "unknown, used or expired state".into(),
            SsoError::OtherBrowser => "state from another browser".into(),
            SsoError::TokenRejected(m) => format!("ID token rejected: {m}"),
            SsoError::EmailNotVerified => "email not verified by the provider".into(),
            SsoError::DomainNotAllowed => "email domain not allowed".into(),
            SsoError::UnknownAccount => "no account with this email".into(),
            SsoError::Deactivated => "account deactivated".into(),
            SsoError::SubjectMismatch => "account bound to another provider identity".into(),
        }
    }
}

impl From<AppError> for SsoError {
    fn from(e: AppError) -> Self {
        SsoError::Provider(format!("internal: {e}"))
    }
}

/// An error with its causes, for the log and the audit.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// One HTTP client per sign-in: no redirects followed (they would open the door to request
/// forgery), a short timeout, rustls.
fn http() -> Result<openidconnect::reqwest::Client, SsoError> {
    openidconnect::reqwest::ClientBuilder::new()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| SsoError::Provider(e.to_string()))
}

fn redirect_url(st: &AppState) -> String {
    format!("{}{CALLBACK_PATH}", st.base_url())
}

/// Reads the provider's discovery document (and its keys) and makes the client.
async fn discover(
    st: &AppState,
    http: &openidconnect::reqwest::Client,
) -> Result<Client, SsoError> {
    let oidc = &st.settings.auth.oidc;
    if !oidc.enabled() {
        return Err(SsoError::NotConfigured);
    }
    let issuer =
        IssuerUrl::new(oidc.issuer.clone()).map_err(|e| SsoError::Provider(e.to_string()))?;
    let metadata = CoreProviderMetadata::discover_async(issuer, http)
        .await
        .map_err(|e| SsoError::Provider(format!("discovery: {}", chain(&e))))?;
    let redirect =
        RedirectUrl::new(redirect_url(st)).map_err(|e| SsoError::Provider(e.to_string()))?;
    Ok(CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(oidc.client_id.clone()),
        Some(ClientSecret::new(
            oidc.client_secret.expose_secret().to_string(),
        )),
    )
    .set_redirect_uri(redirect))
}

/// A sign-in begun: where to send the browser, and the secret binding the flow to it (to keep
/// in a cookie until the provider sends the browser back).
#[derive(Debug)]
pub struct Started {
    pub authorize_url: String,
    pub browser: String,
}

/// Begins a sign-in that returns to `next` (a local path already checked).
pub async fn begin(st: &AppState, next: &str) -> Result<Started, SsoError> {
    let http = http()?;
    let client = discover(st, &http).await?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();
    let browser = flows::secret();
    let flow = Flow {
        user_id: None,
        nonce: Some(nonce.secret().clone()),
        pkce_verifier: Some(verifier.secret().clone()),
        next: next.to_string(),
    };
    let (state_id, b) = (state.secret().clone(), browser.clone());
    st.db(move |c, st| {
        flows::create(
            c,
            FlowKind::Sso,
            &state_id,
            &b,
            flow,
            st.now(),
            FLOW_MINUTES,
        )?;
        Ok(())
    })
    .await?;
    Ok(Started {
        authorize_url: url.to_string(),
        browser,
    })
}

/// What the provider sent back to the callback.
#[derive(Debug, Default)]
pub struct Callback {
    pub state: String,
    pub code: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// Finishes a sign-in: the state is taken (once), the code exchanged with the PKCE verifier,
/// the ID token checked, the person matched to their account. A web session on success, with
/// the path to return to.
pub async fn finish(
    st: &AppState,
    callback: Callback,
    browser: &str,
    client_addr: &str,
) -> Result<(Issued, String), SsoError> {
    let result = finish_inner(st, callback, browser, client_addr).await;
    if let Err(e) = &result {
        let (reason, client) = (e.reason(), client_addr.to_string());
        st.db(move |c, st| {
            refusals::refuse_as(
                c,
                st.now(),
                None,
                "sign_in",
                &reason,
                None,
                serde_json::json!({ "method": "sso", "client": client }),
            )
        })
        .await?;
    }
    result
}

async fn finish_inner(
    st: &AppState,
    callback: Callback,
    browser: &str,
    client_addr: &str,
) -> Result<(Issued, String), SsoError> {
    let (state_id, b) = (callback.state.clone(), browser.to_string());
    let flow = st
        .db(move |c, st| Ok(flows::take(c, FlowKind::Sso, &state_id, &b, st.now())?))
        .await?
        .map_err(|m| match m {
            Missing::Gone => SsoError::StateUnknown,
            Missing::OtherBrowser => SsoError::OtherBrowser,
        })?;
    if let Some(error) = callback.error {
        let detail = callback.error_description.unwrap_or_default();
        return Err(SsoError::Denied(
            format!("{error} {detail}").trim().to_string(),
        ));
    }
    let code = callback
        .code
        .filter(|c| !c.is_empty())
        .ok_or_else(|| SsoError::Denied("no authorization code".into()))?;
    let http = http()?;
    let client = discover(st, &http).await?;
    let verifier = PkceCodeVerifier::new(flow.pkce_verifier.clone().unwrap_or_default());
    let response = client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|e| SsoError::Provider(e.to_string()))?
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .map_err(|e| SsoError::Provider(format!("token exchange: {}", chain(&e))))?;
    let id_token = response
        .id_token()
        .ok_or_else(|| SsoError::TokenRejected("no ID token in the response".into()))?;
    let clock = st.clock.clone();
    let verifier = client
        .id_token_verifier()
        .set_time_fn(move || clock.now().and_utc());
    let nonce = Nonce::new(flow.nonce.clone().unwrap_or_default());
    let claims = id_token
        .claims(&verifier, &nonce)
        .map_err(|e| SsoError::TokenRejected(e.to_string()))?;
    if claims.email_verified() != Some(true) {
        return Err(SsoError::EmailNotVerified);
    }
    let email = claims
        .email()
        .map(|e| auth::normalise_email(e.as_str()))
        .ok_or(SsoError::EmailNotVerified)?;
    let allowed = &st.settings.auth.oidc.allowed_domains;
    let domain = email.rsplit_once('@').map_or("", |(_, d)| d).to_string();
    if !allowed.is_empty() && !allowed.iter().any(|d| d.eq_ignore_ascii_case(&domain)) {
        return Err(SsoError::DomainNotAllowed);
    }
    let subject = claims.subject().as_str().to_string();
    let issuer = claims.issuer().as_str().to_string();
    let client_addr = client_addr.to_string();
    let next = flow.next.clone();
    let signed = st
        .db(move |c, st| {
            Ok(bind_and_sign_in(
                c,
                st,
                &email,
                &issuer,
                &subject,
                &client_addr,
            ))
        })
        .await??;
    Ok((signed, next))
}

/// Matches the verified email to an account, binds or checks the subject, and issues a web
/// session.
fn bind_and_sign_in(
    conn: &mut crate::db::DbConnection,
    st: &AppState,
    email: &str,
    issuer: &str,
    subject: &str,
    client: &str,
) -> Result<Issued, SsoError> {
    use diesel::prelude::*;
    let now = st.now();
    let user = users::table
        .filter(users::email.eq(email))
        .select(crate::db::models::UserRow::as_select())
        .first(conn)
        .optional()
        .map_err(AppError::from)?
        .ok_or(SsoError::UnknownAccount)?;
    if !user.active {
        return Err(SsoError::Deactivated);
    }
    let bound: Option<(String, String)> = oidc_identities::table
        .find(&user.id)
        .select((oidc_identities::issuer, oidc_identities::subject))
        .first(conn)
        .optional()
        .map_err(AppError::from)?;
    match bound {
        Some((i, s)) if i == issuer && s == subject => {}
        Some(_) => return Err(SsoError::SubjectMismatch),
        None => {
            let taken: i64 = oidc_identities::table
                .filter(oidc_identities::issuer.eq(issuer))
                .filter(oidc_identities::subject.eq(subject))
                .count()
                .get_result(conn)
                .map_err(AppError::from)?;
            if taken > 0 {
                return Err(SsoError::SubjectMismatch);
            }
            write_tx(conn, |c| {
                diesel::insert_into(oidc_identities::table)
                    .values((
                        oidc_identities::user_id.eq(&user.id),
                        oidc_identities::issuer.eq(issuer),
                        oidc_identities::subject.eq(subject),
                        oidc_identities::bound_at.eq(stored(now)),
                    ))
                    .execute(c)?;
                accounts::invitations_used(c, &user.id, now)?;
                audit::append(
                    c,
                    now,
                    Entry::ok(None, "sso_identity_bound").subject(user.id.clone()),
                )?;
                Ok::<_, AppError>(())
            })?;
        }
    }
    match auth::complete_sign_in(
        conn,
        &st.keys,
        &st.settings.auth,
        now,
        &user,
        TokenKind::Web,
        SignInMethod::Sso,
        None,
        client,
    )? {
        SignIn::Ok { issued, .. } => Ok(issued),
        _ => Err(SsoError::Provider("the session could not be made".into())),
    }
}
