//! Administration: the outbox (queued, sent, failed with the last error, cancelled with the reason), retrying a message,
//! sending a test email. Administrators only.

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use serde_json::Value;

use crate::app::outbox::{self, OutboxStatus};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::extract::{object, ApiUser};

/// `?status=queued|sent|failed|cancelled&limit=N` (newest first; default 200).
pub async fn outbox_list(
    user: ApiUser,
    state: web::Data<AppState>,
    q: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let status = match crate::web::extract::query_param(&q, "status") {
        Some(s) => Some(
            s.parse::<OutboxStatus>()
                .map_err(|m| AppError::bad_request("status", m))?,
        ),
        None => None,
    };
    // `limit` is the older name of `per_page`.
    let mut paging_q = q.clone();
    if let Some(limit) = q.get("limit") {
        paging_q
            .entry("per_page".into())
            .or_insert_with(|| limit.clone());
    }
    let (page, per_page) = crate::app::cases::trail::parse_paging(&paging_q, 1000)?;
    let (counts, messages) = state
        .db(move |c, st| {
            Ok((
                outbox::counts(c, &user.actor, st.now())?,
                outbox::list(c, &user.actor, st.now(), status, (page, per_page))?,
            ))
        })
        .await?;
    let total: i64 = match status {
        Some(s) => counts.get(s.as_str()).copied().unwrap_or(0),
        None => counts.values().sum(),
    };
    Ok(HttpResponse::Ok().json(super::responses::OutboxPage {
        counts,
        messages,
        total,
        page,
        per_page,
        pages: ((total + per_page - 1) / per_page).max(1),
    }))
}

/// One message with its bodies.
pub async fn outbox_get(
    user: ApiUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let m = state
        .db(move |c, st| outbox::get(c, &user.actor, st.now(), &id))
        .await?;
    Ok(HttpResponse::Ok().json(m))
}

/// Queues a failed (or waiting) message again, now.
pub async fn outbox_retry(
    user: ApiUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let entry = state
        .db(move |c, st| outbox::retry(c, &user.actor, st.now(), &id))
        .await?;
    Ok(HttpResponse::Ok().json(entry))
}

/// `{"to": "name@example.org"}`: queues a test email.
pub async fn test_email(
    user: ApiUser,
    state: web::Data<AppState>,
    body: web::Json<Value>,
) -> Result<HttpResponse, AppError> {
    let body = object(body)?;
    let to = body
        .get("to")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let entry = state
        .db(move |c, st| outbox::queue_test_email(c, st, &user.actor, &to))
        .await?;
    Ok(HttpResponse::Accepted().json(entry))
}
