//! POST /api/v1/auth/token and /api/v1/auth/logout.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

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
                    client: &client,
                    kind: TokenKind::Api,
                },
            )
        })
        .await?;
    match outcome {
        SignIn::Ok { issued, .. } => Ok(HttpResponse::Ok().json(json!({
            "token": issued.token,
            "expires_at": issued.expires_at.and_utc().to_rfc3339(),
        }))),
        SignIn::Invalid { delay } => {
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
