//! Browser sessions: the JWT in an `HttpOnly; SameSite=Lax` cookie (`Secure` over HTTPS), idle
//! expiry, CSRF tokens bound to the session, the Origin/Referer check, and one-time form ids so
//! a double submit records nothing twice.

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::http::{header, StatusCode};
use actix_web::{web, FromRequest, HttpRequest, HttpResponse, ResponseError};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use subtle::ConstantTimeEq;

use crate::app::{auth, stored, Actor};
use crate::config::Settings;
use crate::db::schema::form_submissions;
use crate::db::DbConnection;
use crate::error::AppError;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "lcspr_session";
/// Double-submit cookie protecting the forms used before signing in.
pub const ANON_CSRF_COOKIE: &str = "lcspr_csrf";

/// Is the service reached over HTTPS: the public address is https, or a trusted proxy says so.
pub fn is_https(req: &HttpRequest, settings: &Settings) -> bool {
    if settings.is_https() {
        return true;
    }
    let peer = req
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    settings.server.trusted_proxies.iter().any(|p| p == &peer)
        && req
            .headers()
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// The name a cookie has: with the `__Host-` prefix when the service's address is https (the
/// browser then accepts it only with `Secure`, `Path=/` and no `Domain`, so no other host can
/// plant or overwrite it).
pub fn cookie_name(settings: &Settings, name: &str) -> String {
    if settings.is_https() {
        format!("__Host-{name}")
    } else {
        name.to_string()
    }
}

/// The value of one of our `Path=/` cookies.
pub fn read_cookie(req: &HttpRequest, settings: &Settings, name: &str) -> Option<String> {
    req.cookie(&cookie_name(settings, name))
        .map(|c| c.value().to_string())
}

/// A cookie with the service's protections (`HttpOnly; SameSite=Lax; Path=/`, `Secure` over
/// HTTPS, `__Host-` when the address is https).
pub fn cookie(
    req: &HttpRequest,
    settings: &Settings,
    name: &str,
    value: String,
) -> Cookie<'static> {
    Cookie::build(cookie_name(settings, name), value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(is_https(req, settings) || settings.is_https())
        .finish()
}

/// A cookie that removes `name`.
pub fn removal(req: &HttpRequest, settings: &Settings, name: &str) -> Cookie<'static> {
    let mut c = cookie(req, settings, name, String::new());
    c.set_max_age(CookieDuration::ZERO);
    c
}

/// The CSRF token of a session.
pub fn csrf_for(keys: &auth::JwtKeys, token_id: &str) -> String {
    keys.mac(&format!("csrf:{token_id}"))
}

/// Constant-time comparison of two tokens.
pub fn same_token(a: &str, b: &str) -> bool {
    !a.is_empty() && a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// The origin forms must come from: `service.base_url` when it was configured, else the
/// address the request was sent to.
pub fn expected_origin(req: &HttpRequest, settings: &Settings) -> String {
    if settings.base_url_configured() {
        let base = settings.service.base_url.trim_end_matches('/');
        // scheme://authority only.
        let after = base.find("://").map_or(0, |i| i + 3);
        return match base[after..].find('/') {
            Some(i) => base[..after + i].to_string(),
            None => base.to_string(),
        };
    }
    let scheme = if is_https(req, settings) {
        "https"
    } else {
        "http"
    };
    let host = req.connection_info().host().to_string();
    format!("{scheme}://{host}")
}

/// Refuses a state-changing request whose Origin (or, failing that, Referer) is not ours.
pub fn check_origin(req: &HttpRequest, settings: &Settings) -> Result<(), AppError> {
    let expected = expected_origin(req, settings);
    let h = req.headers();
    let ok = match h.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        Some(origin) => origin == expected,
        None => h
            .get(header::REFERER)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|r| r == expected || r.starts_with(&format!("{expected}/"))),
    };
    if ok {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "this form was not sent from this service; go back, reload the page and try again"
                .into(),
        ))
    }
}

/// A signed-in browser user.
#[derive(Debug, Clone)]
pub struct WebUser {
    pub actor: Actor,
    pub token_id: String,
    pub csrf: String,
    /// Signed in with a password alone in a role that must set up a second factor.
    pub mfa_enrolment_required: bool,
}

impl WebUser {
    /// Checks a state-changing form: our origin and this session's CSRF token.
    pub fn check_form(
        &self,
        req: &HttpRequest,
        settings: &Settings,
        submitted: &str,
    ) -> Result<(), AppError> {
        check_origin(req, settings)?;
        if same_token(submitted, &self.csrf) {
            Ok(())
        } else {
            Err(AppError::Forbidden(
                "the form has expired; go back, reload the page and try again".into(),
            ))
        }
    }
}

/// Not signed in (or the session ended): go to the sign-in page, then come back.
#[derive(Debug)]
pub struct SignInRequired {
    next: String,
    clear: bool,
    /// The session ended because the account was deactivated (not for being idle).
    deactivated: bool,
    /// The session cookie to clear (its name depends on the service's address).
    cookie: String,
}

/// Signed in with a password alone, in a role that must use a second factor: to the set-up
/// page until it is done.
#[derive(Debug)]
pub struct EnrolmentRequired;

impl std::fmt::Display for EnrolmentRequired {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("two-step verification must be set up")
    }
}

impl ResponseError for EnrolmentRequired {
    fn status_code(&self) -> StatusCode {
        StatusCode::SEE_OTHER
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::SeeOther()
            .insert_header((header::LOCATION, ENROLMENT_PAGE))
            .finish()
    }
}

/// The page that sets up two-step verification.
pub const ENROLMENT_PAGE: &str = "/account/two-step";

/// What a session that still has to set up its second factor may open.
fn allowed_before_enrolment(path: &str) -> bool {
    path == ENROLMENT_PAGE || path.starts_with("/account/two-step/") || path == "/sign-out"
}

impl std::fmt::Display for SignInRequired {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("sign in required")
    }
}

impl ResponseError for SignInRequired {
    fn status_code(&self) -> StatusCode {
        StatusCode::SEE_OTHER
    }

    fn error_response(&self) -> HttpResponse {
        let mut location = "/sign-in".to_string();
        if self.next != "/" {
            location = format!("/sign-in?next={}", encode_component(&self.next));
        }
        if self.clear {
            location.push(if location.contains('?') { '&' } else { '?' });
            location.push_str(if self.deactivated {
                "deactivated=1"
            } else {
                "expired=1"
            });
        }
        let mut resp = HttpResponse::SeeOther();
        resp.insert_header((header::LOCATION, location));
        if self.clear {
            let mut c = Cookie::build(self.cookie.clone(), "")
                .path("/")
                .http_only(true)
                .finish();
            c.set_max_age(CookieDuration::ZERO);
            resp.cookie(c);
        }
        resp.finish()
    }
}

/// Percent-encodes a query value.
pub fn encode_component(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A safe place to return to after signing in: a path on this service and nothing else. It
/// must start with one `/`, and hold no control character (browsers drop tabs and line breaks,
/// so `/\t/evil.example` is `//evil.example` to them), no backslash (`/\\evil` likewise), no
/// space and no scheme. Anything else goes to `/`.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && n.len() <= 2000
                && !n
                    .chars()
                    .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
                && !n.contains("://") =>
        {
            n.to_string()
        }
        _ => "/".to_string(),
    }
}

/// What authenticating a browser request needs, read from the request alone (the session
/// cookie, where to come back to after signing in). [`SessionToken::authenticate`] checks it
/// against the database inside a blocking call, which a page that reads the database anyway
/// can share: the case page authenticates and reads the case in one trip to the blocking pool.
pub struct SessionToken {
    token: Option<String>,
    next: String,
    cookie: String,
    path: String,
}

/// Why a request's session was refused: sent as a redirect to signing in or to setting up the
/// second factor, or as the error.
#[derive(Debug)]
pub enum SessionRefused {
    SignIn(SignInRequired),
    Enrolment,
    Failed(AppError),
}

impl From<SessionRefused> for actix_web::Error {
    fn from(refused: SessionRefused) -> actix_web::Error {
        match refused {
            SessionRefused::SignIn(e) => e.into(),
            SessionRefused::Enrolment => EnrolmentRequired.into(),
            SessionRefused::Failed(e) => e.into(),
        }
    }
}

impl SessionToken {
    pub fn of(req: &HttpRequest, settings: &Settings) -> SessionToken {
        let next = if req.method() == actix_web::http::Method::GET {
            safe_next(req.uri().path_and_query().map(|p| p.as_str()))
        } else {
            "/".to_string()
        };
        SessionToken {
            token: read_cookie(req, settings, SESSION_COOKIE).filter(|t| !t.is_empty()),
            next,
            cookie: cookie_name(settings, SESSION_COOKIE),
            path: req.path().to_string(),
        }
    }

    fn sign_in(&self, clear: bool, deactivated: bool) -> SessionRefused {
        SessionRefused::SignIn(SignInRequired {
            next: self.next.clone(),
            clear,
            deactivated,
            cookie: self.cookie.clone(),
        })
    }

    /// Refuses at once, without the database, when the request has no session cookie.
    pub fn present(&self) -> Result<(), SessionRefused> {
        match self.token {
            Some(_) => Ok(()),
            None => Err(self.sign_in(false, false)),
        }
    }

    /// The signed-in user, if the token is genuine, current and its account active (and the
    /// second factor is set up where the role must have one, but for the set-up pages). Runs
    /// statements: call it on the blocking pool.
    pub fn authenticate(
        &self,
        conn: &mut DbConnection,
        st: &AppState,
    ) -> Result<WebUser, SessionRefused> {
        self.present()?;
        let token = self.token.as_deref().unwrap_or_default();
        match auth::authenticate(conn, &st.keys, &st.settings.auth, token, st.now()) {
            Ok(session)
                if session.mfa_enrolment_required && !allowed_before_enrolment(&self.path) =>
            {
                Err(SessionRefused::Enrolment)
            }
            Ok(session) => Ok(WebUser {
                csrf: csrf_for(&st.keys, &session.token_id),
                mfa_enrolment_required: session.mfa_enrolment_required,
                actor: session.actor,
                token_id: session.token_id,
            }),
            Err(AppError::Unauthorized) => {
                // Ended because the account was deactivated, or for being idle: the sign-in
                // page says which.
                let deactivated =
                    auth::token_of_deactivated_user(conn, &st.keys, token).unwrap_or(false);
                Err(self.sign_in(true, deactivated))
            }
            Err(e) => Err(SessionRefused::Failed(e)),
        }
    }
}

impl FromRequest for SessionToken {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, actix_web::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(match req.app_data::<web::Data<AppState>>() {
            Some(st) => Ok(SessionToken::of(req, &st.settings)),
            None => Err(AppError::internal(anyhow::anyhow!("no state")).into()),
        })
    }
}

impl FromRequest for WebUser {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let session = state.as_ref().map(|st| SessionToken::of(req, &st.settings));
        Box::pin(async move {
            let (Some(state), Some(session)) = (state, session) else {
                return Err(AppError::internal(anyhow::anyhow!("no state")).into());
            };
            session.present()?;
            Ok(state
                .db(move |c, st| Ok(session.authenticate(c, st)))
                .await??)
        })
    }
}

/// Claims a one-time form id. `Ok(None)`: first use, go ahead. `Ok(Some(url))`: already
/// submitted; answer with the first submission's result instead of acting again.
pub fn claim_form(
    conn: &mut DbConnection,
    form_id: &str,
    user_id: &str,
    now: NaiveDateTime,
) -> Result<Option<String>, AppError> {
    if form_id.len() < 16 || form_id.len() > 64 {
        return Err(AppError::bad_request(
            "form_id",
            "the form is incomplete; reload the page and try again",
        ));
    }
    let existing: Option<(String, String)> = form_submissions::table
        .find(form_id)
        .select((form_submissions::user_id, form_submissions::result_url))
        .first(conn)
        .optional()?;
    if let Some((owner, url)) = existing {
        if owner != user_id {
            return Err(AppError::bad_request(
                "form_id",
                "the form is not yours; reload the page",
            ));
        }
        return Ok(Some(url));
    }
    let inserted = crate::db::write_tx(conn, |c| {
        diesel::insert_into(form_submissions::table)
            .values((
                form_submissions::form_id.eq(form_id),
                form_submissions::user_id.eq(user_id),
                form_submissions::result_url.eq(""),
                form_submissions::created_at.eq(stored(now)),
            ))
            .execute(c)
    });
    match inserted {
        Ok(_) => Ok(None),
        // The same form, submitted twice at once: the other request is doing the work.
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Ok(Some(String::new())),
        Err(e) => Err(e.into()),
    }
}

/// Records where a claimed form's submission led (or releases the claim when it failed, so the
/// corrected form can be sent again).
pub fn settle_form(
    conn: &mut DbConnection,
    form_id: &str,
    result_url: Option<&str>,
) -> Result<(), AppError> {
    crate::db::write_tx(conn, |c| match result_url {
        Some(url) => diesel::update(form_submissions::table.find(form_id))
            .set(form_submissions::result_url.eq(url))
            .execute(c),
        None => diesel::delete(form_submissions::table.find(form_id)).execute(c),
    })?;
    Ok(())
}

/// A fresh random id for a form.
pub fn new_form_id() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_must_be_a_local_path() {
        assert_eq!(
            safe_next(Some("/cases?stage=in_review")),
            "/cases?stage=in_review"
        );
        assert_eq!(safe_next(Some("//evil.example/")), "/");
        assert_eq!(safe_next(Some("https://evil.example/")), "/");
        assert_eq!(safe_next(Some("/\\evil")), "/");
        assert_eq!(safe_next(None), "/");
        // The probe's findings: a tab or a line break that browsers drop.
        assert_eq!(safe_next(Some("/\t/evil.example")), "/");
        assert_eq!(safe_next(Some("/\r\nLocation: x")), "/");
        assert_eq!(safe_next(Some("/ /evil.example")), "/");
        assert_eq!(safe_next(Some("/cases/abc?x=1#y")), "/cases/abc?x=1#y");
    }

    #[test]
    fn tokens_compare_exactly() {
        assert!(same_token("abc", "abc"));
        assert!(!same_token("abc", "abd"));
        assert!(!same_token("", ""));
        assert!(!same_token("ab", "abc"));
    }

    #[test]
    fn csrf_is_bound_to_the_session() {
        let keys = auth::JwtKeys::from_secret(b"0123456789abcdef0123456789abcdef");
        assert_ne!(csrf_for(&keys, "one"), csrf_for(&keys, "two"));
        assert_eq!(csrf_for(&keys, "one"), csrf_for(&keys, "one"));
    }
}
