//! Single sign-on in the pages: `/sign-in/sso` sends the browser to the organisation's
//! provider (a link, not a form: a form's redirect to another site would break the page's
//! `form-action 'self'` policy), and `/sign-in/sso/callback` receives it back. The flow is
//! bound to the browser by a cookie (`SameSite=Lax`, so the provider's redirect brings it);
//! a refused sign-in is a page that says why and what to do.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::account::{anon_page, signed_in};
use super::{HtmlError, PageResult};
use crate::app::oidc::{self, Callback, SsoError};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::extract::client_addr;
use crate::web::session::{cookie, read_cookie, removal, safe_next};
use crate::web::templates::base_context;

/// Binds a sign-in at the provider to this browser.
const SSO_COOKIE: &str = "lcspr_sso";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/sign-in/sso", web::get().to(start))
        .route(oidc::CALLBACK_PATH, web::get().to(callback));
}

type Query = web::Query<HashMap<String, String>>;

/// What the person sees, and the status.
fn explain(e: &SsoError, label: &str) -> (StatusCode, &'static str, String) {
    match e {
        SsoError::NotConfigured => (
            StatusCode::NOT_FOUND,
            "Single sign-on is not set up",
            "Sign in with your email address and password.".into(),
        ),
        SsoError::Provider(_) => (
            StatusCode::BAD_GATEWAY,
            "Your organisation’s sign-in service is not answering",
            format!("Try “{label}” again in a few minutes. If it keeps happening, tell your system administrator."),
        ),
        SsoError::Denied(_) => (
            StatusCode::FORBIDDEN,
            "You were not signed in",
            "Your organisation’s sign-in service did not sign you in, or you cancelled. Try again.".into(),
        ),
        SsoError::StateUnknown | SsoError::OtherBrowser => (
            StatusCode::BAD_REQUEST,
            "This sign-in has expired or has been used",
            "Each sign-in link works once, for 10 minutes, in the browser that started it. Start again from the sign-in page.".into(),
        ),
        SsoError::TokenRejected(_) => (
            StatusCode::FORBIDDEN,
            "Your sign-in could not be checked",
            "The answer from your organisation’s sign-in service did not pass this service’s checks, so you were not signed in. Try again; if it keeps happening, tell your system administrator.".into(),
        ),
        SsoError::EmailNotVerified => (
            StatusCode::FORBIDDEN,
            "Your email address is not confirmed",
            "Your organisation’s sign-in service did not confirm your email address, which this service needs to find your account. Ask your system administrator.".into(),
        ),
        SsoError::DomainNotAllowed => (
            StatusCode::FORBIDDEN,
            "Accounts from your organisation cannot sign in here",
            "Sign in with the account your partnership gave you, or ask your system administrator.".into(),
        ),
        SsoError::UnknownAccount => (
            StatusCode::FORBIDDEN,
            "There is no account for you on this service",
            "Signing in does not create an account. Ask the partnership’s system administrator to invite you, using the email address your organisation signs you in with.".into(),
        ),
        SsoError::Deactivated => (
            StatusCode::FORBIDDEN,
            "Your account has been deactivated",
            "Ask the partnership’s system administrator if you still need access.".into(),
        ),
        SsoError::SubjectMismatch => (
            StatusCode::FORBIDDEN,
            "This account is linked to someone else",
            "Your account here is linked to a different account at your organisation. Ask your system administrator.".into(),
        ),
    }
}

fn refused_page(req: &HttpRequest, state: &AppState, e: &SsoError) -> PageResult {
    let (status, heading, message) = explain(e, &state.settings.auth.oidc.label);
    let mut ctx = base_context(state);
    ctx.insert("page_title", heading);
    ctx.insert("heading", heading);
    ctx.insert("message", &message);
    ctx.insert("sso_label", &state.settings.auth.oidc.label);
    ctx.insert("sso_enabled", &state.settings.auth.oidc.enabled());
    let mut resp = anon_page(req, state, status, "pages/sign_in_sso_refused.html", ctx)?;
    resp.add_cookie(&removal(req, &state.settings, SSO_COOKIE))
        .map_err(|e| HtmlError::new(state, None, AppError::internal(e)))?;
    Ok(resp)
}

async fn start(req: HttpRequest, state: web::Data<AppState>, q: Query) -> PageResult {
    let next = safe_next(q.get("next").map(String::as_str));
    match oidc::begin(&state, &next).await {
        Ok(started) => {
            let mut resp = HttpResponse::SeeOther()
                .insert_header(("Location", started.authorize_url))
                .finish();
            resp.add_cookie(&cookie(&req, &state.settings, SSO_COOKIE, started.browser))
                .map_err(|e| HtmlError::new(&state, None, AppError::internal(e)))?;
            Ok(resp)
        }
        Err(e) => {
            if let SsoError::Provider(m) = &e {
                tracing::warn!(error = %crate::telemetry::redact(m), "single sign-on could not start");
            }
            refused_page(&req, &state, &e)
        }
    }
}

async fn callback(req: HttpRequest, state: web::Data<AppState>, q: Query) -> PageResult {
    let browser = read_cookie(&req, &state.settings, SSO_COOKIE).unwrap_or_default();
    let got = Callback {
        state: q.get("state").cloned().unwrap_or_default(),
        code: q.get("code").cloned(),
        error: q.get("error").cloned(),
        error_description: q.get("error_description").cloned(),
    };
    let client = client_addr(&req, &state.settings.server.trusted_proxies);
    match oidc::finish(&state, got, &browser, &client).await {
        Ok((issued, next)) => {
            let mut resp = signed_in(&req, &state, &issued.token, &next)?;
            resp.add_cookie(&removal(&req, &state.settings, SSO_COOKIE))
                .map_err(|e| HtmlError::new(&state, None, AppError::internal(e)))?;
            Ok(resp)
        }
        Err(e) => {
            if let SsoError::Provider(m) = &e {
                tracing::warn!(error = %crate::telemetry::redact(m), "single sign-on failed at the provider");
            }
            refused_page(&req, &state, &e)
        }
    }
}
