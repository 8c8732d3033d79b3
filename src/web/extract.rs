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
        Box::pin(async move {
            let (Some(token), Some(state)) = (token, state) else {
                return Err(AppError::Unauthorized);
            };
            let (actor, token_id) = state
                .db(move |c, st| {
                    auth::authenticate(
                        c,
                        &st.keys,
                        &token,
                        st.now(),
                        st.settings.auth.session_idle_minutes,
                    )
                })
                .await?;
            Ok(ApiUser { actor, token_id })
        })
    }
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

/// A JSON object body.
pub fn object(body: web::Json<Value>) -> Result<Map<String, Value>, AppError> {
    match body.into_inner() {
        Value::Object(m) => Ok(m),
        _ => Err(AppError::bad_request(
            "body",
            "the request body must be a JSON object",
        )),
    }
}

/// JSON body limits and errors in the API's own error shape.
pub fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(256 * 1024)
        .error_handler(|err, _| {
            let message = match &err {
                actix_web::error::JsonPayloadError::ContentType => {
                    "send the body as JSON with Content-Type: application/json".to_string()
                }
                other => format!("the body is not valid JSON: {other}"),
            };
            AppError::bad_request("body", message).into()
        })
}
