//! Signing in and out, changing one's password, and the first-run setup of the first
//! administrator. The forms used before signing in carry a double-submit CSRF token (a cookie
//! and a hidden field that must match) and are checked for our Origin like every other form.

use std::collections::HashMap;

use actix_web::cookie::Cookie;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest};
use tera::Context;

use super::form::{humanise, Posted};
use super::{see_other, FormData, HtmlError, Page, PageResult};
use crate::app::audit::{self, Entry};
use crate::app::auth::{self, Credentials, SignIn, TokenKind};
use crate::app::{setup, users};
use crate::db::write_tx;
use crate::domain::input::FieldError;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::extract::client_addr;
use crate::web::session::{
    check_origin, cookie, encode_component, new_form_id, read_cookie, removal, safe_next,
    same_token, WebUser, ANON_CSRF_COOKIE, SESSION_COOKIE,
};
use crate::web::templates::{base_context, render_page};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/sign-in", web::get().to(sign_in_form))
        .route("/sign-in", web::post().to(sign_in))
        .route("/sign-out", web::post().to(sign_out))
        .route("/account/password", web::get().to(password_form))
        .route("/account/password", web::post().to(change_password))
        .route("/setup/{token}", web::get().to(setup_form))
        .route("/setup/{token}", web::post().to(setup));
}

type Query = web::Query<HashMap<String, String>>;

/// The double-submit token of a visitor who is not signed in, and the cookie to set when it is
/// new.
fn anon_csrf(req: &HttpRequest, state: &AppState) -> (String, Option<Cookie<'static>>) {
    match read_cookie(req, &state.settings, ANON_CSRF_COOKIE) {
        Some(c) if c.len() == 32 && c.bytes().all(|b| b.is_ascii_hexdigit()) => (c, None),
        _ => {
            let token = new_form_id();
            let c = cookie(req, &state.settings, ANON_CSRF_COOKIE, token.clone());
            (token, Some(c))
        }
    }
}

/// Checks a form sent before signing in: our origin, the field matching the cookie, and text
/// without control characters. A refusal is audited.
pub(super) fn check_anon_form(
    req: &HttpRequest,
    state: &AppState,
    form: &FormData,
) -> Result<(), HtmlError> {
    let refused = |e: AppError| HtmlError::new(state, None, e).audit("form_refused");
    check_origin(req, &state.settings).map_err(refused)?;
    let cookie = read_cookie(req, &state.settings, ANON_CSRF_COOKIE).unwrap_or_default();
    if !same_token(form.get("csrf_token"), &cookie) {
        return Err(refused(AppError::Forbidden(
            "the form has expired; go back, reload the page and try again".into(),
        )));
    }
    form.check_text()
        .map_err(|e| HtmlError::new(state, None, e))
}

pub(super) fn anon_page(
    req: &HttpRequest,
    state: &AppState,
    status: StatusCode,
    template: &str,
    mut ctx: Context,
) -> PageResult {
    let (token, new_cookie) = anon_csrf(req, state);
    ctx.insert("form_csrf", &token);
    let mut resp =
        render_page(state, status, template, &ctx).map_err(|e| HtmlError::new(state, None, e))?;
    if let Some(c) = new_cookie {
        resp.add_cookie(&c)
            .map_err(|e| HtmlError::new(state, None, AppError::internal(e)))?;
    }
    Ok(resp)
}

fn sign_in_context(state: &AppState, next: &str, errors: &[FieldError], email: &str) -> Context {
    let mut ctx = base_context(state);
    ctx.insert("page_title", "Sign in");
    ctx.insert("next", next);
    ctx.insert("errors", errors);
    ctx.insert("form", &serde_json::json!({ "email": email }));
    let auth = &state.settings.auth;
    ctx.insert("password_enabled", &auth.password_enabled);
    ctx.insert("sso_enabled", &auth.oidc.enabled());
    ctx.insert("sso_label", &auth.oidc.label);
    let sso_href = if next == "/" {
        "/sign-in/sso".to_string()
    } else {
        format!("/sign-in/sso?next={}", encode_component(next))
    };
    ctx.insert("sso_href", &sso_href);
    ctx
}

async fn sign_in_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: Query,
    user: Option<WebUser>,
) -> PageResult {
    let next = safe_next(q.get("next").map(String::as_str));
    if user.is_some() {
        return Ok(see_other(&next));
    }
    let mut ctx = sign_in_context(&state, &next, &[], "");
    ctx.insert("expired", &q.contains_key("expired"));
    ctx.insert("deactivated", &q.contains_key("deactivated"));
    ctx.insert("signed_out", &q.contains_key("signed_out"));
    ctx.insert("reset", &q.contains_key("reset"));
    ctx.insert("throttled", &q.contains_key("throttled"));
    ctx.insert("code_expired", &q.contains_key("code_expired"));
    anon_page(&req, &state, StatusCode::OK, "pages/sign_in.html", ctx)
}

async fn sign_in(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<Vec<(String, String)>>,
) -> PageResult {
    let form = FormData::from(form.into_inner());
    check_anon_form(&req, &state, &form)?;
    if !state.settings.auth.password_enabled {
        return Err(HtmlError::new(
            &state,
            None,
            AppError::Forbidden(format!(
                "signing in with a password is switched off; use “{}”",
                state.settings.auth.oidc.label
            )),
        ));
    }
    let next = safe_next(Some(form.get("next")));
    let email = form.get("email").trim().to_string();
    let password = form.get("password").to_string();
    let mut errors = vec![];
    if email.is_empty() {
        errors.push(FieldError::new("email", "Enter your email address"));
    }
    if password.is_empty() {
        errors.push(FieldError::new("password", "Enter your password"));
    }
    if !errors.is_empty() {
        let ctx = sign_in_context(&state, &next, &errors, &email);
        return anon_page(
            &req,
            &state,
            StatusCode::UNPROCESSABLE_ENTITY,
            "pages/sign_in.html",
            ctx,
        );
    }
    let client = client_addr(&req, &state.settings.server.trusted_proxies);
    let attempt_email = email.clone();
    let outcome = state
        .db(move |c, st| {
            auth::sign_in(
                c,
                &st.keys,
                &st.settings.auth,
                st.now(),
                &Credentials {
                    email: &attempt_email,
                    password: &password,
                    otp: None,
                    client: &client,
                    kind: TokenKind::Web,
                },
            )
        })
        .await
        .map_err(|e| HtmlError::new(&state, None, e))?;
    match outcome {
        SignIn::Ok { issued, .. } => signed_in(&req, &state, &issued.token, &next),
        SignIn::CodeNeeded { user_id } => {
            super::account_two_step::ask_for_code(&req, &state, user_id, next).await
        }
        SignIn::Invalid { delay } => {
            actix_web::rt::time::sleep(delay).await;
            let errors = [FieldError::new(
                "email",
                "Enter a correct email address and password",
            )];
            let ctx = sign_in_context(&state, &next, &errors, &email);
            anon_page(
                &req,
                &state,
                StatusCode::UNAUTHORIZED,
                "pages/sign_in.html",
                ctx,
            )
        }
        SignIn::Deactivated { delay } => {
            actix_web::rt::time::sleep(delay).await;
            let errors = [FieldError::new(
                "",
                "Your account has been deactivated, so you cannot sign in. Ask your administrator if you need it again.",
            )];
            let ctx = sign_in_context(&state, &next, &errors, &email);
            anon_page(
                &req,
                &state,
                StatusCode::FORBIDDEN,
                "pages/sign_in.html",
                ctx,
            )
        }
        SignIn::Throttled { retry_after_secs } => {
            let minutes = retry_after_secs.div_ceil(60).max(1);
            let wait = if minutes == 1 {
                "1 minute".to_string()
            } else {
                format!("{minutes} minutes")
            };
            let errors = [FieldError::new(
                "",
                format!(
                    "There have been too many attempts to sign in. Wait {wait}, then try again."
                ),
            )];
            let ctx = sign_in_context(&state, &next, &errors, &email);
            let mut resp = anon_page(
                &req,
                &state,
                StatusCode::TOO_MANY_REQUESTS,
                "pages/sign_in.html",
                ctx,
            )?;
            resp.headers_mut().insert(
                header::RETRY_AFTER,
                header::HeaderValue::from(retry_after_secs),
            );
            Ok(resp)
        }
    }
}

/// Signed in: the session cookie, the pre-sign-in cookies gone, and on to `next`.
pub(super) fn signed_in(
    req: &HttpRequest,
    state: &AppState,
    token: &str,
    next: &str,
) -> PageResult {
    let mut resp = see_other(next);
    let settings = &state.settings;
    resp.add_cookie(&cookie(req, settings, SESSION_COOKIE, token.to_string()))
        .and_then(|_| resp.add_cookie(&removal(req, settings, ANON_CSRF_COOKIE)))
        .map_err(|e| HtmlError::new(state, None, AppError::internal(e)))?;
    Ok(resp)
}

async fn sign_out(req: HttpRequest, posted: Posted) -> PageResult {
    let page = &posted.page;
    let token_id = page.user.token_id.clone();
    page.db(move |c, st, actor| {
        write_tx(c, |c| {
            auth::revoke(c, &token_id, st.now())?;
            audit::append(c, st.now(), Entry::ok(Some(actor), "sign_out"))?;
            Ok::<_, AppError>(())
        })
    })
    .await?;
    let mut resp = see_other("/sign-in?signed_out=1");
    resp.add_cookie(&removal(&req, &page.state.settings, SESSION_COOKIE))
        .map_err(|e| page.fail(AppError::internal(e)))?;
    Ok(resp)
}

fn password_context(page: &Page, errors: &[FieldError]) -> Context {
    let mut ctx = page.context("Change your password", "account");
    ctx.insert("errors", errors);
    ctx.insert("min_chars", &auth::MIN_PASSWORD_CHARS);
    ctx
}

async fn password_form(page: Page, q: Query) -> PageResult {
    let mut ctx = password_context(&page, &[]);
    ctx.insert("changed", &q.contains_key("changed"));
    page.render("pages/account/password.html", &ctx)
}

async fn change_password(posted: Posted) -> PageResult {
    let Posted { page, form } = &posted;
    let current = form.get("current_password").to_string();
    let new = form.get("new_password").to_string();
    let mut errors = vec![];
    if current.is_empty() {
        errors.push(FieldError::new(
            "current_password",
            "Enter your current password",
        ));
    }
    let me = page
        .db(|c, _, actor| users::get(c, &actor.user_id)?.ok_or(AppError::NotFound))
        .await?;
    match auth::check_password_policy("new_password", &new, &me.name, &me.email) {
        Err(_) if new.is_empty() => {
            errors.push(FieldError::new("new_password", "Enter a new password"))
        }
        Err(e) => errors.extend(humanise(vec![e], |_| Some("Your new password".into()))),
        Ok(()) => {}
    }
    if new != form.get("confirm_password") {
        errors.push(FieldError::new(
            "confirm_password",
            "Enter the same new password twice",
        ));
    }
    if errors.is_empty() {
        let token_id = page.user.token_id.clone();
        let outcome = page
            .db(move |c, st, actor| {
                let hash = users::password_hash(c, &actor.user_id)?;
                if !auth::verify_password(&current, &hash) {
                    write_tx(c, |c| {
                        audit::append(
                            c,
                            st.now(),
                            Entry::refused(
                                Some(actor),
                                "password_changed",
                                "wrong current password",
                            ),
                        )
                    })?;
                    return Ok(false);
                }
                let new_hash = auth::hash_password(&new).map_err(AppError::Internal)?;
                users::set_password(c, actor, st.now(), &new_hash, Some(&token_id))?;
                Ok(true)
            })
            .await?;
        if outcome {
            return Ok(see_other("/account/password?changed=1"));
        }
        errors.push(FieldError::new(
            "current_password",
            "Your current password is not correct",
        ));
    }
    let ctx = password_context(page, &errors);
    page.render_status(
        StatusCode::UNPROCESSABLE_ENTITY,
        "pages/account/password.html",
        &ctx,
    )
}

fn setup_context(state: &AppState, token: &str, form: &FormData, errors: &[FieldError]) -> Context {
    let mut ctx = base_context(state);
    ctx.insert("page_title", "Create the administrator account");
    ctx.insert("token", token);
    ctx.insert("form", &form.values(&[]));
    ctx.insert("errors", errors);
    ctx.insert("min_chars", &auth::MIN_PASSWORD_CHARS);
    ctx
}

async fn live_token(state: &AppState, token: String) -> Result<bool, HtmlError> {
    state
        .db(move |c, _| setup::token_is_live(c, &token))
        .await
        .map_err(|e| HtmlError::new(state, None, e))
}

async fn setup_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> PageResult {
    let token = path.into_inner();
    if !live_token(&state, token.clone()).await? {
        return Err(HtmlError::new(&state, None, AppError::NotFound));
    }
    let ctx = setup_context(&state, &token, &FormData::default(), &[]);
    anon_page(&req, &state, StatusCode::OK, "pages/setup.html", ctx)
}

async fn setup(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> PageResult {
    let token = path.into_inner();
    let form = FormData::from(form.into_inner());
    check_anon_form(&req, &state, &form)?;
    if !live_token(&state, token.clone()).await? {
        return Err(HtmlError::new(&state, None, AppError::NotFound));
    }
    let (email, name) = (form.get("email").to_string(), form.get("name").to_string());
    let password = form.get("password").to_string();
    let mut errors = match users::validate_new_user(&email, &name, &password) {
        Ok(()) => vec![],
        Err(e) => humanise(e.field_errors(), |f| {
            (f == "password").then(|| "The password".to_string())
        }),
    };
    // Reported together with any problem with the password itself, so one attempt shows both.
    if password != form.get("confirm_password") {
        errors.push(FieldError::new(
            "confirm_password",
            "Enter the same password twice",
        ));
    }
    if errors.is_empty() {
        let t = token.clone();
        let created = state
            .db(move |c, st| {
                let hash = auth::hash_password(&password).map_err(AppError::Internal)?;
                let user = setup::create_first_admin(c, st.now(), &t, email, name, hash)?;
                write_tx(c, |c| {
                    let issued = auth::issue(
                        c,
                        &st.keys,
                        &user.id,
                        TokenKind::Web,
                        auth::SignInMethod::Setup,
                        st.now(),
                        st.settings.auth.token_ttl_minutes,
                    )?;
                    audit::append(
                        c,
                        st.now(),
                        Entry::ok(None, "sign_in")
                            .subject(user.id.clone())
                            .detail(serde_json::json!({ "token": "web", "first_run": true })),
                    )?;
                    Ok::<_, AppError>(issued)
                })
            })
            .await;
        match created {
            Ok(issued) => {
                let mut resp = see_other("/admin/users?welcome=1");
                resp.add_cookie(&cookie(&req, &state.settings, SESSION_COOKIE, issued.token))
                    .map_err(|e| HtmlError::new(&state, None, AppError::internal(e)))?;
                return Ok(resp);
            }
            Err(AppError::Invalid(found)) => {
                errors = humanise(found, |_| None);
            }
            Err(e) => return Err(HtmlError::new(&state, None, e)),
        }
    }
    let ctx = setup_context(&state, &token, &form, &errors);
    anon_page(
        &req,
        &state,
        StatusCode::UNPROCESSABLE_ENTITY,
        "pages/setup.html",
        ctx,
    )
}
