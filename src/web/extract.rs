//! Request extractors: the API's bearer-token user, the client's address, JSON bodies.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use serde_json::{Map, Value};

use crate::app::{auth, Actor};
use crate::error::AppError;
use crate::state::AppState;

/// A user authenticated by `Authorization: Bearer <token>`. The API takes no cookies, so a
/// browser session can never be used to call it from another site.
#[derive(Debug, Clone)]
pub struct ApiUser {
    pub actor: Actor,
    pub token_id: String,
}

impl FromRequest for ApiUser {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|t| t.trim().to_string());
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let path = req.path().to_string();
        Box::pin(async move {
            let (Some(token), Some(state)) = (token, state) else {
                return Err(AppError::Unauthorized);
            };
            let session = state
                .db(move |c, st| {
                    auth::authenticate(c, &st.keys, &st.settings.auth, &token, st.now())
                })
                .await?;
            if session.mfa_enrolment_required && !allowed_before_enrolment(&path) {
                let actor = session.actor.clone();
                state
                    .db(move |c, st| {
                        crate::app::refusals::refuse(
                            c,
                            st.now(),
                            &actor,
                            "api_refused",
                            "two-step verification not set up",
                            None,
                        )
                    })
                    .await?;
                return Err(AppError::MfaEnrolmentRequired);
            }
            Ok(ApiUser {
                actor: session.actor,
                token_id: session.token_id,
            })
        })
    }
}

/// What a token of a role that must set up two-step verification reaches before it has.
fn allowed_before_enrolment(path: &str) -> bool {
    path.starts_with("/api/v1/me/mfa/") || path == "/api/v1/auth/logout"
}

/// The client's address: the peer, or the first `X-Forwarded-For` entry when the peer is a
/// configured trusted proxy.
pub fn client_addr(req: &HttpRequest, trusted_proxies: &[String]) -> String {
    let peer = req
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    if trusted_proxies.iter().any(|p| p == &peer) {
        if let Some(forwarded) = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
        {
            return forwarded.trim().to_string();
        }
    }
    peer
}

/// A JSON object body. Every string in it, at any depth, is checked for control characters
/// (other than tab and line breaks): a 422 naming the top-level field that holds one.
pub fn object(body: web::Json<Value>) -> Result<Map<String, Value>, AppError> {
    match body.into_inner() {
        Value::Object(m) => {
            let errors: Vec<crate::error::FieldError> = m
                .iter()
                .filter_map(|(k, v)| {
                    let bad = crate::domain::input::check_text(k)
                        .err()
                        .or_else(|| first_bad_text(v));
                    bad.map(|message| crate::error::FieldError::new(k.clone(), message))
                })
                .collect();
            if errors.is_empty() {
                Ok(m)
            } else {
                Err(AppError::Invalid(errors))
            }
        }
        _ => Err(AppError::bad_request(
            "body",
            "the request body must be a JSON object",
        )),
    }
}

fn first_bad_text(v: &Value) -> Option<&'static str> {
    match v {
        Value::String(s) => crate::domain::input::check_text(s).err(),
        Value::Array(items) => items.iter().find_map(first_bad_text),
        Value::Object(m) => m.iter().find_map(|(k, v)| {
            crate::domain::input::check_text(k)
                .err()
                .or_else(|| first_bad_text(v))
        }),
        _ => None,
    }
}

/// The largest JSON body accepted: room for the longest text the schema allows (minutes,
/// 50,000 characters) written as JSON may write it, each character outside the basic plane as
/// two `\uXXXX` escapes (12 bytes a character: 600,000 bytes), with the other fields.
pub const JSON_LIMIT: usize = 1024 * 1024;

/// A query parameter as the API reads every one: trimmed, and a blank value is an absent one
/// (forms send `stage=`; `openapi.rs` says so in each optional parameter's schema).
pub fn query_param<'a>(
    q: &'a std::collections::HashMap<String, String>,
    key: &str,
) -> Option<&'a str> {
    q.get(key).map(|s| s.trim()).filter(|s| !s.is_empty())
}

/// JSON body limits and errors in the API's own error shape.
pub fn json_config() -> web::JsonConfig {
    use actix_web::error::JsonPayloadError;
    web::JsonConfig::default()
        .limit(JSON_LIMIT)
        .error_handler(|err, _| {
            let message = match &err {
                JsonPayloadError::OverflowKnownLength { .. }
                | JsonPayloadError::Overflow { .. } => {
                    return AppError::TooLarge(format!(
                        "the body is larger than {} KiB",
                        JSON_LIMIT / 1024
                    ))
                    .into()
                }
                JsonPayloadError::ContentType => {
                    "send the body as JSON with Content-Type: application/json".to_string()
                }
                other => format!("the body is not valid JSON: {other}"),
            };
            AppError::bad_request("body", message).into()
        })
}
