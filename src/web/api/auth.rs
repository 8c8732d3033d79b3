//! Signing in and out (`/api/v1/auth/token`, `/api/v1/auth/logout`), and the one-time links:
//! accepting an invitation, asking for and using a password reset.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::Value;

use super::responses::{Message, Token};

use crate::app::accounts;
use crate::app::auth::{self, Credentials, SignIn, TokenKind};
use crate::domain::input::Fields;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::extract::{client_addr, object, ApiUser};

/// Exchanges an email and password for a bearer token.
pub async fn token(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<Value>,
) -> Result<HttpResponse, AppError> {
    let body = object(body)?;
    if !state.settings.auth.password_enabled {
        return Err(AppError::Forbidden(
            "signing in with a password is switched off; sign in with single sign-on".into(),
        ));
    }
    let mut f = Fields::new(&body, &[]);
    let email = f.short_text("email", "your email address");
    let password = match body.get("password") {
        Some(Value::String(p)) if !p.is_empty() => p.clone(),
        _ => {
            f.fail("password", "enter your password");
            String::new()
        }
    };
    f.raw("password");
    let otp = f.opt_text_max("otp", 32);
    f.finish().map_err(AppError::Invalid)?;
    let client = client_addr(&req, &state.settings.server.trusted_proxies);
    let outcome = state
        .db(move |c, st| {
            auth::sign_in(
                c,
                &st.keys,
                &st.settings.auth,
                st.now(),
                &Credentials {
                    email: &email,
                    password: &password,
                    otp: otp.as_deref(),
                    client: &client,
                    kind: TokenKind::Api,
                },
            )
        })
        .await?;
    match outcome {
        SignIn::Ok { issued, .. } => Ok(HttpResponse::Ok().json(Token {
            token: issued.token,
            expires_at: issued.expires_at,
        })),
        // The account has a second factor: the same request again, with "otp".
        SignIn::CodeNeeded { .. } => Err(AppError::OtpRequired),
        // The API says no more to a deactivated account than to a wrong password.
        SignIn::Invalid { delay } | SignIn::Deactivated { delay } => {
            actix_web::rt::time::sleep(delay).await;
            Err(AppError::Unauthorized)
        }
        SignIn::Throttled { retry_after_secs } => Err(AppError::TooManyRequests(retry_after_secs)),
    }
}

/// Revokes the token used for this request.
pub async fn logout(user: ApiUser, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    state
        .db(move |c, st| {
            crate::db::write_tx(c, |c| {
                auth::revoke(c, &user.token_id, st.now())?;
                crate::app::audit::append(
                    c,
                    st.now(),
                    crate::app::audit::Entry::ok(Some(&user.actor), "sign_out"),
                )?;
                Ok::<_, AppError>(())
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Reads `{"token", "password"}`; the password is checked against the policy for the link's
/// user. Returns the token and the new password's hash.
async fn link_and_password(
    state: &AppState,
    body: web::Json<Value>,
    purpose: accounts::LinkPurpose,
) -> Result<(String, String), AppError> {
    if !state.settings.auth.password_enabled {
        return Err(AppError::Forbidden(
            "passwords are switched off; sign in with single sign-on".into(),
        ));
    }
    let body = object(body)?;
    let mut f = Fields::new(&body, &["password"]);
    let token = f.short_text("token", "the token from the emailed link");
    let password = match body.get("password") {
        Some(Value::String(p)) if !p.is_empty() => p.clone(),
        _ => {
            f.fail("password", "enter a password");
            String::new()
        }
    };
    f.finish().map_err(AppError::Invalid)?;
    state
        .db(move |c, st| {
            let user = accounts::link_user(c, st.now(), purpose, &token)?.ok_or_else(|| {
                AppError::invalid("token", "this link has expired or has been used")
            })?;
            auth::check_password_policy("password", &password, &user.name, &user.email)
                .map_err(|e| AppError::Invalid(vec![e]))?;
            let hash = auth::hash_password(&password).map_err(AppError::Internal)?;
            Ok((token, hash))
        })
        .await
}

/// `{"token", "password"}`: accepts an invitation by choosing a password (then sign in with
/// /auth/token).
pub async fn accept_invitation(
    state: web::Data<AppState>,
    body: web::Json<Value>,
) -> Result<HttpResponse, AppError> {
    let (token, hash) = link_and_password(&state, body, accounts::LinkPurpose::Invitation).await?;
    state
        .db(move |c, st| accounts::accept_invitation(c, st.now(), &token, &hash))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `{"email"}`: emails a reset link when the address belongs to an account that signs in with
/// a password. Always 202 with the same body, whether or not it does.
pub async fn request_password_reset(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<Value>,
) -> Result<HttpResponse, AppError> {
    let body = object(body)?;
    let mut f = Fields::new(&body, &[]);
    let email = f.short_text("email", "your email address");
    f.finish().map_err(AppError::Invalid)?;
    let client = client_addr(&req, &state.settings.server.trusted_proxies);
    state
        .db(move |c, st| accounts::request_password_reset(c, st, &email, &client))
        .await?;
    Ok(HttpResponse::Accepted().json(Message {
        message: "if this address belongs to an account, a link to choose a new password has been emailed to it".into(),
    }))
}

/// `{"token", "password"}`: sets a new password with a reset link; every session and token
/// of the account is revoked.
pub async fn reset_password(
    state: web::Data<AppState>,
    body: web::Json<Value>,
) -> Result<HttpResponse, AppError> {
    let (token, hash) =
        link_and_password(&state, body, accounts::LinkPurpose::PasswordReset).await?;
    state
        .db(move |c, st| accounts::reset_password(c, st.now(), &token, &hash))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
