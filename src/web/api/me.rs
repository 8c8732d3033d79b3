//! The signed-in user's own settings: how reminders arrive, and the calendar feed.

use actix_web::{web, HttpResponse};
use serde_json::{json, Value};

use crate::app::{feeds, reminders};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::extract::{object, ApiUser};

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
    Ok(HttpResponse::Ok().json(json!({ "mode": mode, "feed": feed })))
}

/// Sets the mode; "off" is refused: statutory reminders cannot be switched off.
pub async fn put_reminders(
    user: ApiUser,
    state: web::Data<AppState>,
    body: web::Json<Value>,
) -> Result<HttpResponse, AppError> {
    let body = object(body)?;
    let mode = reminders::parse_mode(body.get("mode").and_then(Value::as_str))?;
    let mode = state
        .db(move |c, st| reminders::set_mode(c, &user.actor, st.now(), mode))
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "mode": mode })))
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
        .json(json!({ "url": url })))
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
