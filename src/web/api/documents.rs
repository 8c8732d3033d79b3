//! Review documents: upload, version listing, download, delete (the multipart reading and the
//! streamed download are in `web::uploads`, shared with the pages).

use actix_multipart::Multipart;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::Value;

use crate::app::documents;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::extract::{object, ApiUser};
use crate::web::uploads::{download_response, receive};

pub async fn upload(
    req: HttpRequest,
    user: ApiUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: Multipart,
) -> Result<HttpResponse, AppError> {
    let uploaded = receive(&req, &state, &user.actor, &path.into_inner(), payload).await?;
    Ok(HttpResponse::Created().json(uploaded))
}

pub async fn list(
    user: ApiUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let docs = state
        .db(move |c, _| documents::list(c, &user.actor, &id))
        .await?;
    Ok(HttpResponse::Ok().json(docs))
}

pub async fn download(
    user: ApiUser,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (doc, n) = path.into_inner();
    let n: i32 = n.parse().map_err(|_| AppError::NotFound)?;
    download_response(&state, user.actor, doc, n).await
}

pub async fn delete_version(
    user: ApiUser,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: web::Json<Value>,
) -> Result<HttpResponse, AppError> {
    let (doc, n) = path.into_inner();
    let n: i32 = n.parse().map_err(|_| AppError::NotFound)?;
    let body = object(body)?;
    let reason = body
        .get("reason")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    state
        .db(move |c, st| documents::delete_version(c, st, &user.actor, &doc, n, &reason))
        .await?;
    Ok(HttpResponse::Ok().json(super::responses::Deleted { deleted: true }))
}
