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

/// A cookie with the service's protections.
pub fn cookie<'a>(
    req: &HttpRequest,
    settings: &Settings,
    name: &'a str,
    value: String,
) -> Cookie<'a> {
    Cookie::build(name, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(is_https(req, settings))
        .finish()
}

/// A cookie that removes `name`.
pub fn removal<'a>(req: &HttpRequest, settings: &Settings, name: &'a str) -> Cookie<'a> {
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
    if settings.service.base_url != Settings::built_in().service.base_url {
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
            location.push_str(if location.contains('?') {
                "&expired=1"
            } else {
                "?expired=1"
            });
        }
        let mut resp = HttpResponse::SeeOther();
        resp.insert_header((header::LOCATION, location));
        if self.clear {
            let mut c = Cookie::build(SESSION_COOKIE, "")
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

/// A safe place to return to after signing in: a local path only.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.contains("://") =>
        {
            n.to_string()
        }
        _ => "/".to_string(),
    }
}

impl FromRequest for WebUser {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = req.cookie(SESSION_COOKIE).map(|c| c.value().to_string());
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let next = if req.method() == actix_web::http::Method::GET {
            req.uri()
                .path_and_query()
                .map_or("/".into(), |p| p.as_str().to_string())
        } else {
            "/".to_string()
        };
        Box::pin(async move {
            let Some(state) = state else {
                return Err(AppError::internal(anyhow::anyhow!("no state")).into());
            };
            let Some(token) = token.filter(|t| !t.is_empty()) else {
                return Err(SignInRequired { next, clear: false }.into());
            };
            match state
                .db(move |c, st| {
                    auth::authenticate(
                        c,
                        &st.keys,
                        &token,
                        st.now(),
                        st.settings.auth.session_idle_minutes,
                    )
                })
                .await
            {
                Ok((actor, token_id)) => Ok(WebUser {
                    csrf: csrf_for(&state.keys, &token_id),
                    actor,
                    token_id,
                }),
                Err(AppError::Unauthorized) => Err(SignInRequired { next, clear: true }.into()),
                Err(e) => Err(e.into()),
            }
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
    let inserted = diesel::insert_into(form_submissions::table)
        .values((
            form_submissions::form_id.eq(form_id),
            form_submissions::user_id.eq(user_id),
            form_submissions::result_url.eq(""),
            form_submissions::created_at.eq(stored(now)),
        ))
        .execute(conn);
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
    match result_url {
        Some(url) => {
            diesel::update(form_submissions::table.find(form_id))
                .set(form_submissions::result_url.eq(url))
                .execute(conn)?;
        }
        None => {
            diesel::delete(form_submissions::table.find(form_id)).execute(conn)?;
        }
    }
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
