//! The pages behind emailed one-time links, and asking for one: accepting an invitation
//! (`/invitation/<token>`: choose a password, or sign in with single sign-on), "Forgotten your
//! password?" (`/forgotten-password`, the same answer whether or not the account exists) and
//! choosing a new password (`/reset-password/<token>`). The link's token moves at once from
//! the URL into a short-lived cookie and the browser is sent on to a clean address, so it stays
//! out of the history, the `Referer` and the access log.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use tera::Context;

use super::account::{anon_page, check_anon_form, signed_in};
use super::form::humanise;
use super::{see_other, FormData, HtmlError, PageResult};
use crate::app::accounts::{self, LinkPurpose};
use crate::app::auth::{self, SignInMethod, TokenKind};
use crate::domain::input::FieldError;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::extract::client_addr;
use crate::web::session::{cookie, read_cookie, removal};
use crate::web::templates::base_context;

/// Holds a link's token between the emailed address and the form.
const LINK_COOKIE: &str = "lcspr_link";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/invitation/{token}", web::get().to(invitation_link))
        .route("/invitation", web::get().to(invitation_form))
        .route("/invitation", web::post().to(accept_invitation))
        .route("/reset-password/{token}", web::get().to(reset_link))
        .route("/reset-password", web::get().to(reset_form))
        .route("/reset-password", web::post().to(reset))
        .route("/forgotten-password", web::get().to(forgotten_form))
        .route("/forgotten-password", web::post().to(forgotten))
        .route("/forgotten-password/sent", web::get().to(forgotten_sent));
}

fn fail(state: &AppState, e: AppError) -> HtmlError {
    HtmlError::new(state, None, e)
}

/// From the emailed address to the clean one, the token in a cookie.
fn keep_token(
    req: &HttpRequest,
    state: &AppState,
    token: String,
    purpose: LinkPurpose,
) -> PageResult {
    if !accounts::well_formed(&token) {
        return Ok(see_other(purpose.path()));
    }
    let mut resp = see_other(purpose.path());
    resp.add_cookie(&cookie(req, &state.settings, LINK_COOKIE, token))
        .map_err(|e| fail(state, AppError::internal(e)))?;
    Ok(resp)
}

async fn invitation_link(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> PageResult {
    keep_token(&req, &state, path.into_inner(), LinkPurpose::Invitation)
}

async fn reset_link(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> PageResult {
    keep_token(&req, &state, path.into_inner(), LinkPurpose::PasswordReset)
}

/// The person a live link in this browser's cookie belongs to, with the token.
async fn link_holder(
    req: &HttpRequest,
    state: &AppState,
    purpose: LinkPurpose,
) -> Result<Option<(String, crate::app::users::UserView)>, HtmlError> {
    let Some(token) = read_cookie(req, &state.settings, LINK_COOKIE) else {
        return Ok(None);
    };
    let t = token.clone();
    let user = state
        .db(move |c, st| accounts::link_user(c, st.now(), purpose, &t))
        .await
        .map_err(|e| fail(state, e))?;
    Ok(user.map(|u| (token, u)))
}

fn link_context(
    state: &AppState,
    purpose: LinkPurpose,
    user: Option<&crate::app::users::UserView>,
    errors: &[FieldError],
) -> Context {
    let mut ctx = base_context(state);
    let auth = &state.settings.auth;
    ctx.insert("errors", errors);
    ctx.insert("min_chars", &auth::MIN_PASSWORD_CHARS);
    ctx.insert("password_enabled", &auth.password_enabled);
    ctx.insert("sso_enabled", &auth.oidc.enabled());
    ctx.insert("sso_label", &auth.oidc.label);
    ctx.insert("live", &user.is_some());
    ctx.insert("purpose", purpose.as_str());
    if let Some(u) = user {
        ctx.insert(
            "person",
            &serde_json::json!({ "name": u.name, "email": u.email }),
        );
    }
    let title = match (purpose, user.is_some()) {
        (LinkPurpose::Invitation, true) => "Set up your account",
        (LinkPurpose::PasswordReset, true) => "Choose a new password",
        (LinkPurpose::Invitation, false) => "This invitation link does not work",
        (LinkPurpose::PasswordReset, false) => "This reset link does not work",
    };
    ctx.insert("page_title", title);
    ctx
}

async fn link_page(req: &HttpRequest, state: &AppState, purpose: LinkPurpose) -> PageResult {
    let holder = link_holder(req, state, purpose).await?;
    let ctx = link_context(state, purpose, holder.as_ref().map(|(_, u)| u), &[]);
    let status = if holder.is_some() {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    };
    anon_page(req, state, status, "pages/account/link.html", ctx)
}

async fn invitation_form(req: HttpRequest, state: web::Data<AppState>) -> PageResult {
    link_page(&req, &state, LinkPurpose::Invitation).await
}

async fn reset_form(req: HttpRequest, state: web::Data<AppState>) -> PageResult {
    if !state.settings.auth.password_enabled {
        return Err(fail(&state, AppError::NotFound));
    }
    link_page(&req, &state, LinkPurpose::PasswordReset).await
}

/// Sets the password a link allows, signs the person in (an invitation) or sends them to sign
/// in (a reset: every session was ended).
async fn set_password(
    req: HttpRequest,
    state: &AppState,
    form: FormData,
    purpose: LinkPurpose,
) -> PageResult {
    check_anon_form(&req, state, &form)?;
    if !state.settings.auth.password_enabled {
        return Err(fail(
            state,
            AppError::Forbidden("passwords are switched off; use single sign-on".into()),
        ));
    }
    let Some((token, user)) = link_holder(&req, state, purpose).await? else {
        return link_page(&req, state, purpose).await;
    };
    let password = form.get("password").to_string();
    let mut errors = vec![];
    if password.is_empty() {
        errors.push(FieldError::new("password", "Enter a password"));
    } else if let Err(e) =
        auth::check_password_policy("password", &password, &user.name, &user.email)
    {
        errors.extend(humanise(vec![e], |_| Some("Your password".into())));
    }
    if password != form.get("confirm_password") {
        errors.push(FieldError::new(
            "confirm_password",
            "Enter the same password twice",
        ));
    }
    if !errors.is_empty() {
        let ctx = link_context(state, purpose, Some(&user), &errors);
        return anon_page(
            &req,
            state,
            StatusCode::UNPROCESSABLE_ENTITY,
            "pages/account/link.html",
            ctx,
        );
    }
    let client = client_addr(&req, &state.settings.server.trusted_proxies);
    let done = state
        .db(move |c, st| {
            let hash = auth::hash_password(&password).map_err(AppError::Internal)?;
            match purpose {
                LinkPurpose::Invitation => {
                    let user = accounts::accept_invitation(c, st.now(), &token, &hash)?;
                    let row = auth::user_row(c, &user.id)?.ok_or(AppError::NotFound)?;
                    match auth::complete_sign_in(
                        c,
                        &st.keys,
                        &st.settings.auth,
                        st.now(),
                        &row,
                        TokenKind::Web,
                        SignInMethod::Invitation,
                        None,
                        &client,
                    )? {
                        auth::SignIn::Ok { issued, .. } => Ok(Some(issued.token)),
                        _ => Err(AppError::internal(anyhow::anyhow!("no session made"))),
                    }
                }
                LinkPurpose::PasswordReset => {
                    accounts::reset_password(c, st.now(), &token, &hash)?;
                    Ok(None)
                }
            }
        })
        .await;
    let mut resp = match done {
        Ok(Some(session)) => signed_in(&req, state, &session, "/")?,
        Ok(None) => see_other("/sign-in?reset=1"),
        Err(AppError::Invalid(_)) => return link_page(&req, state, purpose).await,
        Err(e) => return Err(fail(state, e)),
    };
    resp.add_cookie(&removal(&req, &state.settings, LINK_COOKIE))
        .map_err(|e| fail(state, AppError::internal(e)))?;
    Ok(resp)
}

async fn accept_invitation(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<Vec<(String, String)>>,
) -> PageResult {
    set_password(
        req,
        &state,
        FormData::from(form.into_inner()),
        LinkPurpose::Invitation,
    )
    .await
}

async fn reset(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<Vec<(String, String)>>,
) -> PageResult {
    set_password(
        req,
        &state,
        FormData::from(form.into_inner()),
        LinkPurpose::PasswordReset,
    )
    .await
}

fn forgotten_context(state: &AppState, errors: &[FieldError], email: &str) -> Context {
    let mut ctx = base_context(state);
    ctx.insert("page_title", "Reset your password");
    ctx.insert("errors", errors);
    ctx.insert("form", &serde_json::json!({ "email": email }));
    ctx.insert(
        "valid_minutes",
        &state.settings.auth.password_reset_valid_minutes,
    );
    ctx
}

async fn forgotten_form(req: HttpRequest, state: web::Data<AppState>) -> PageResult {
    if !state.settings.auth.password_enabled {
        return Err(fail(&state, AppError::NotFound));
    }
    let ctx = forgotten_context(&state, &[], "");
    anon_page(
        &req,
        &state,
        StatusCode::OK,
        "pages/account/forgotten.html",
        ctx,
    )
}

async fn forgotten(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<Vec<(String, String)>>,
) -> PageResult {
    let form = FormData::from(form.into_inner());
    check_anon_form(&req, &state, &form)?;
    if !state.settings.auth.password_enabled {
        return Err(fail(&state, AppError::NotFound));
    }
    let email = form.get("email").trim().to_string();
    if crate::app::users::validate_details(&email, "x").is_err() {
        let errors = [FieldError::new(
            "email",
            "Enter an email address in the correct format, like name@example.org",
        )];
        let ctx = forgotten_context(&state, &errors, &email);
        return anon_page(
            &req,
            &state,
            StatusCode::UNPROCESSABLE_ENTITY,
            "pages/account/forgotten.html",
            ctx,
        );
    }
    let client = client_addr(&req, &state.settings.server.trusted_proxies);
    state
        .db(move |c, st| accounts::request_password_reset(c, st, &email, &client))
        .await
        .map_err(|e| fail(&state, e))?;
    Ok(see_other("/forgotten-password/sent"))
}

async fn forgotten_sent(req: HttpRequest, state: web::Data<AppState>) -> PageResult {
    let mut ctx = base_context(&state);
    ctx.insert("page_title", "Check your email");
    ctx.insert(
        "valid_minutes",
        &state.settings.auth.password_reset_valid_minutes,
    );
    anon_page(
        &req,
        &state,
        StatusCode::OK,
        "pages/account/forgotten_sent.html",
        ctx,
    )
}
