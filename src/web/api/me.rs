//! The signed-in user's own settings: how reminders arrive, the calendar feed, and setting up
//! two-step verification.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::Value;

use super::responses::{FeedUrl, ReminderModeOnly, ReminderSettings, TotpEnrolment};

use crate::app::auth::Throttle;
use crate::app::{feeds, mfa, reminders, users};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::extract::{client_addr, object, ApiUser};

/// `{"mode": "immediate" | "daily"}`.
pub async fn get_reminders(
    user: ApiUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let (mode, feed) = state
        .db(move |c, _| {
            Ok((
                reminders::mode(c, &user.actor)?,
                feeds::has_feed(c, &user.actor)?,
            ))
        })
        .await?;
    Ok(HttpResponse::Ok().json(ReminderSettings { mode, feed }))
}

/// Sets the mode; "off" is refused: statutory reminders cannot be switched off.
pub async fn put_reminders(
    user: ApiUser,
    state: web::Data<AppState>,
    body: web::Json<Value>,
) -> Result<HttpResponse, AppError> {
    let body = object(body)?;
    // Nothing but `mode`: an unknown field is refused, as everywhere in the API.
    crate::domain::input::Fields::new(&body, &["mode"])
        .finish()
        .map_err(AppError::Invalid)?;
    let mode = reminders::parse_mode(body.get("mode").and_then(Value::as_str))?;
    let mode = state
        .db(move |c, st| reminders::set_mode(c, &user.actor, st.now(), mode))
        .await?;
    Ok(HttpResponse::Ok().json(ReminderModeOnly { mode }))
}

/// Makes a new secret feed URL (revoking any earlier one).
pub async fn create_feed(
    user: ApiUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let url = state
        .db(move |c, st| feeds::generate(c, st, &user.actor, st.now()))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .json(FeedUrl { url }))
}

/// Revokes the feed URL.
pub async fn delete_feed(
    user: ApiUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    state
        .db(move |c, st| feeds::revoke(c, &user.actor, st.now()))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Starts setting up TOTP: `{"secret", "otpauth_uri", "recovery_codes"}`, shown this once. The
/// codes work once the secret is confirmed. 409 when it is set up already.
pub async fn begin_totp(
    user: ApiUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let e = state
        .db(move |c, st| mfa::begin(c, st, &user.actor, true))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .json(TotpEnrolment {
            secret: e.secret,
            otpauth_uri: e.otpauth_uri,
            recovery_codes: e.recovery_codes,
        }))
}

/// `{"otp"}`: confirms the secret with a code from the app. A wrong code is a 422 and counts
/// towards the sign-in throttle (429 after too many).
pub async fn confirm_totp(
    req: HttpRequest,
    user: ApiUser,
    state: web::Data<AppState>,
    body: web::Json<Value>,
) -> Result<HttpResponse, AppError> {
    let body = object(body)?;
    let mut f = crate::domain::input::Fields::new(&body, &[]);
    let otp = f.short_text("otp", "the 6-digit code from your authenticator app");
    f.finish().map_err(AppError::Invalid)?;
    let client = client_addr(&req, &state.settings.server.trusted_proxies);
    state
        .db(move |c, st| {
            let email = users::get(c, &user.actor.user_id)?
                .ok_or(AppError::NotFound)?
                .email;
            let throttle = Throttle::load(c, &st.settings.auth, &email, &client)?;
            if let Some(secs) = throttle.refuse(c, st.now(), &client)? {
                return Err(AppError::TooManyRequests(secs));
            }
            match mfa::confirm(c, st, &user.actor, &otp, false) {
                Err(AppError::Invalid(e)) => {
                    let who = Some(user.actor.user_id.as_str());
                    throttle.fail(c, st.now(), who, "mfa_enrolled", "wrong code", &client)?;
                    Err(AppError::Invalid(e))
                }
                other => other.map(|_| ()),
            }
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
