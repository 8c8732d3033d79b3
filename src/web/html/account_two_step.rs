//! Two-step verification in the pages: the second step of signing in (`/sign-in/code`, after a
//! password the server has accepted and kept for five minutes), and setting it up
//! (`/account/two-step`: a QR code drawn on the server and the secret as text, confirmed with a
//! code; then the ten recovery codes, shown once, at `/account/two-step/recovery-codes`).
//! The recovery codes travel from the POST to that page in a short-lived cookie bound to the
//! session by a MAC, never in a URL.

use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest};
use tera::Context;

use super::account::{anon_page, check_anon_form, signed_in};
use super::{see_other, FormData, HtmlError, Page, PageResult};
use crate::app::auth::{self, SignIn, Throttle, TokenKind};
use crate::app::flows::{self, Flow, FlowKind};
use crate::app::{mfa, users};
use crate::domain::input::FieldError;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::extract::client_addr;
use crate::web::session::{cookie, is_https, read_cookie, removal, same_token, ENROLMENT_PAGE};
use crate::web::templates::base_context;

/// Holds the id of a sign-in waiting for its code.
const CHALLENGE_COOKIE: &str = "lcspr_second_step";
/// Carries new recovery codes to the page that shows them once.
const CODES_COOKIE: &str = "lcspr_recovery_codes";
const CODES_PATH: &str = "/account/two-step/recovery-codes";
/// Minutes a password stays accepted while the code is awaited.
const CHALLENGE_MINUTES: i64 = 5;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/sign-in/code", web::get().to(code_form))
        .route("/sign-in/code", web::post().to(code))
        .route(ENROLMENT_PAGE, web::get().to(enrol_form))
        .route(ENROLMENT_PAGE, web::post().to(enrol))
        .route(CODES_PATH, web::get().to(show_codes));
}

/// The password was right and the account has a second factor: remember that for a few
/// minutes and ask for the code.
pub(super) async fn ask_for_code(
    req: &HttpRequest,
    state: &AppState,
    user_id: String,
    next: String,
) -> PageResult {
    let id = flows::secret();
    let flow_id = id.clone();
    state
        .db(move |c, st| {
            let flow = Flow {
                user_id: Some(user_id),
                nonce: None,
                pkce_verifier: None,
                next,
            };
            flows::create(
                c,
                FlowKind::SecondFactor,
                &flow_id,
                &flow_id,
                flow,
                st.now(),
                CHALLENGE_MINUTES,
            )?;
            Ok(())
        })
        .await
        .map_err(|e| HtmlError::new(state, None, e))?;
    let mut resp = see_other("/sign-in/code");
    resp.add_cookie(&cookie(req, &state.settings, CHALLENGE_COOKIE, id))
        .map_err(|e| HtmlError::new(state, None, AppError::internal(e)))?;
    Ok(resp)
}

fn code_context(state: &AppState, errors: &[FieldError]) -> Context {
    let mut ctx = base_context(state);
    ctx.insert("page_title", "Enter the code from your authenticator app");
    ctx.insert("errors", errors);
    ctx
}

/// The sign-in waiting for a code in this browser, if it is still live.
async fn waiting(req: &HttpRequest, state: &AppState) -> Result<Option<(String, Flow)>, HtmlError> {
    let Some(id) = read_cookie(req, &state.settings, CHALLENGE_COOKIE).filter(|v| v.len() == 64)
    else {
        return Ok(None);
    };
    let flow_id = id.clone();
    let flow = state
        .db(move |c, st| {
            Ok(flows::peek(
                c,
                FlowKind::SecondFactor,
                &flow_id,
                &flow_id,
                st.now(),
            )?)
        })
        .await
        .map_err(|e| HtmlError::new(state, None, e))?;
    Ok(flow.ok().map(|f| (id, f)))
}

async fn code_form(req: HttpRequest, state: web::Data<AppState>) -> PageResult {
    if waiting(&req, &state).await?.is_none() {
        return Ok(see_other("/sign-in?code_expired=1"));
    }
    let ctx = code_context(&state, &[]);
    anon_page(&req, &state, StatusCode::OK, "pages/sign_in_code.html", ctx)
}

async fn code(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<Vec<(String, String)>>,
) -> PageResult {
    let form = FormData::from(form.into_inner());
    check_anon_form(&req, &state, &form)?;
    let Some((id, flow)) = waiting(&req, &state).await? else {
        return Ok(see_other("/sign-in?code_expired=1"));
    };
    let otp = form.get("otp").trim().to_string();
    if otp.is_empty() {
        let errors = [FieldError::new(
            "otp",
            "Enter the 6-digit code from your authenticator app, or a recovery code",
        )];
        let ctx = code_context(&state, &errors);
        return anon_page(
            &req,
            &state,
            StatusCode::UNPROCESSABLE_ENTITY,
            "pages/sign_in_code.html",
            ctx,
        );
    }
    let client = client_addr(&req, &state.settings.server.trusted_proxies);
    let user_id = flow.user_id.clone().unwrap_or_default();
    let outcome = state
        .db(move |c, st| {
            let user = auth::user_row(c, &user_id)?.ok_or(AppError::Unauthorized)?;
            if !user.active {
                return Err(AppError::Unauthorized);
            }
            let throttle = Throttle::load(c, &st.settings.auth, &user.email, &client)?;
            auth::second_factor(
                c,
                &st.keys,
                &st.settings.auth,
                st.now(),
                &user,
                &otp,
                &throttle,
                &client,
                TokenKind::Web,
            )
        })
        .await;
    let gone = |state: &AppState, id: String| {
        let state = state.clone();
        async move {
            state
                .db(move |c, _| Ok(flows::remove(c, &id)?))
                .await
                .map_err(|e| HtmlError::new(&state, None, e))
        }
    };
    match outcome {
        Ok(SignIn::Ok { issued, .. }) => {
            gone(&state, id).await?;
            let mut resp = signed_in(&req, &state, &issued.token, &flow.next)?;
            resp.add_cookie(&removal(&req, &state.settings, CHALLENGE_COOKIE))
                .map_err(|e| HtmlError::new(&state, None, AppError::internal(e)))?;
            Ok(resp)
        }
        Ok(SignIn::Invalid { delay }) => {
            actix_web::rt::time::sleep(delay).await;
            let errors = [FieldError::new(
                "otp",
                "The code is not correct, or has been used already. Wait for the next code and try again",
            )];
            let ctx = code_context(&state, &errors);
            anon_page(
                &req,
                &state,
                StatusCode::UNAUTHORIZED,
                "pages/sign_in_code.html",
                ctx,
            )
        }
        Ok(SignIn::Throttled { retry_after_secs }) => {
            gone(&state, id).await?;
            let mut resp = see_other("/sign-in?throttled=1");
            resp.headers_mut().insert(
                header::RETRY_AFTER,
                header::HeaderValue::from(retry_after_secs),
            );
            Ok(resp)
        }
        Ok(SignIn::CodeNeeded { .. } | SignIn::Deactivated { .. })
        | Err(AppError::Unauthorized) => {
            gone(&state, id).await?;
            Ok(see_other("/sign-in?code_expired=1"))
        }
        Err(e) => Err(HtmlError::new(&state, None, e)),
    }
}

/// The secret in groups of four, as authenticator apps show it.
fn grouped(secret: &str) -> String {
    secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

async fn render_enrol(page: &Page, status: StatusCode, errors: &[FieldError]) -> PageResult {
    let (state, pending) = page
        .db(|c, st, actor| {
            let state = mfa::status(c, &actor.user_id)?;
            let pending = match state {
                Some(_) => None,
                None => Some(match mfa::pending(c, st, actor)? {
                    Some(p) => p,
                    None => mfa::begin(c, st, actor, false)?,
                }),
            };
            Ok((state, pending))
        })
        .await?;
    let mut ctx = page.context("Two-step verification", "account");
    ctx.insert("errors", errors);
    ctx.insert("required", &page.user.mfa_enrolment_required);
    if let Some((since, left)) = state {
        ctx.insert("enrolled", &true);
        ctx.insert("since", &since.format("%-d %B %Y").to_string());
        ctx.insert("codes_left", &left);
    } else if let Some(p) = pending {
        ctx.insert("enrolled", &false);
        ctx.insert(
            "qr_svg",
            &mfa::qr_svg(&p.otpauth_uri).map_err(|e| page.fail(e))?,
        );
        ctx.insert("secret", &grouped(&p.secret));
    }
    page.render_status(status, "pages/account/two_step.html", &ctx)
}

async fn enrol_form(page: Page) -> PageResult {
    render_enrol(&page, StatusCode::OK, &[]).await
}

fn codes_mac(page: &Page, codes: &str) -> String {
    page.state
        .keys
        .mac(&format!("recovery-codes:{}:{codes}", page.user.token_id))
}

fn codes_cookie(req: &HttpRequest, page: &Page, value: String) -> Cookie<'static> {
    Cookie::build(CODES_COOKIE, value)
        .path(CODES_PATH)
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(is_https(req, &page.state.settings) || page.state.settings.is_https())
        .max_age(CookieDuration::minutes(5))
        .finish()
}

async fn enrol(req: HttpRequest, page: Page, form: web::Form<Vec<(String, String)>>) -> PageResult {
    let form = FormData::from(form.into_inner());
    page.check_form(&req, &form)?;
    let otp = form.get("otp").trim().to_string();
    if otp.is_empty() {
        let errors = [FieldError::new(
            "otp",
            "Enter the 6-digit code your authenticator app shows",
        )];
        return render_enrol(&page, StatusCode::UNPROCESSABLE_ENTITY, &errors).await;
    }
    let client = client_addr(&req, &page.state.settings.server.trusted_proxies);
    let confirmed = page
        .db(move |c, st, actor| {
            let email = users::get(c, &actor.user_id)?
                .ok_or(AppError::NotFound)?
                .email;
            let throttle = Throttle::load(c, &st.settings.auth, &email, &client)?;
            if let Some(secs) = throttle.refuse(c, st.now(), &client)? {
                return Err(AppError::TooManyRequests(secs));
            }
            match mfa::confirm(c, st, actor, &otp, true) {
                Err(AppError::Invalid(e)) => {
                    throttle.fail(
                        c,
                        st.now(),
                        Some(&actor.user_id),
                        "mfa_enrolled",
                        "wrong code",
                        &client,
                    )?;
                    Err(AppError::Invalid(e))
                }
                other => other,
            }
        })
        .await;
    match confirmed {
        Ok(codes) => {
            let joined = codes.join(" ");
            let value = format!("{}.{}", joined.replace(' ', "_"), codes_mac(&page, &joined));
            let mut resp = see_other(CODES_PATH);
            resp.add_cookie(&codes_cookie(&req, &page, value))
                .map_err(|e| page.fail(AppError::internal(e)))?;
            Ok(resp)
        }
        Err(e) if matches!(e.error(), AppError::Invalid(_)) => {
            let errors = [FieldError::new(
                "otp",
                "The code is not correct. Check the time on your phone, wait for the next code and try again",
            )];
            render_enrol(&page, StatusCode::UNPROCESSABLE_ENTITY, &errors).await
        }
        Err(e) => Err(e),
    }
}

async fn show_codes(req: HttpRequest, page: Page) -> PageResult {
    let codes = req.cookie(CODES_COOKIE).and_then(|c| {
        let (codes, mac) = c.value().rsplit_once('.')?;
        let joined = codes.replace('_', " ");
        same_token(mac, &codes_mac(&page, &joined)).then(|| {
            joined
                .split(' ')
                .map(str::to_string)
                .collect::<Vec<String>>()
        })
    });
    let Some(codes) = codes else {
        return Ok(see_other(ENROLMENT_PAGE));
    };
    let mut ctx = page.context("Your recovery codes", "account");
    ctx.insert("codes", &codes);
    let mut resp = page.render("pages/account/recovery_codes.html", &ctx)?;
    // Shown once: the cookie goes with this page.
    let mut gone = codes_cookie(&req, &page, String::new());
    gone.set_max_age(CookieDuration::ZERO);
    resp.add_cookie(&gone)
        .map_err(|e| page.fail(AppError::internal(e)))?;
    Ok(resp)
}
