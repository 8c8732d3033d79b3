//! Governance: agencies, the bodies' members, meetings (agenda, deputies, attendance, minutes,
//! sign-off, papers) and decisions. The use cases are in `app::governance`.

use std::collections::HashMap;

use actix_multipart::Multipart;
use actix_web::{web, HttpResponse};
use serde_json::Value;

use super::responses::{CaseMeeting, Deleted, NamedDeputies, UserSummary};
use crate::app::governance::{attendance, bodies, decisions, meetings, minutes, papers};
use crate::app::{agencies, users};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::extract::{object, ApiUser};
use crate::web::uploads::{paper_response, read_parts, Upload};

pub async fn list_agencies(
    _user: ApiUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let list = state.db(|c, _| agencies::list(c)).await?;
    Ok(HttpResponse::Ok().json(list))
}

fn name_of(body: &serde_json::Map<String, Value>, key: &str) -> String {
    body.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

pub async fn add_agency(
    user: ApiUser,
    state: web::Data<AppState>,
    body: web::Json<Value>,
) -> Result<HttpResponse, AppError> {
    let name = name_of(&object(body)?, "name");
    let agency = state
        .db(move |c, st| agencies::add(c, &user.actor, st.now(), &name))
        .await?;
    Ok(HttpResponse::Created().json(agency))
}

pub async fn rename_agency(
    user: ApiUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let name = name_of(&object(body)?, "name");
    let agency = state
        .db(move |c, st| agencies::rename(c, &user.actor, st.now(), &id, &name))
        .await?;
    Ok(HttpResponse::Ok().json(agency))
}

/// `PUT /api/v1/users/{id}/agency {"agency": name}`: an agency named for the first time is
/// created.
pub async fn set_user_agency(
    user: ApiUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let name = name_of(&object(body)?, "agency");
    let updated = state
        .db(move |c, st| {
            agencies::set_user_agency(c, &user.actor, st.now(), &id, &name)?;
            users::get(c, &id)?.ok_or(AppError::NotFound)
        })
        .await?;
    Ok(HttpResponse::Ok().json(UserSummary::from(updated)))
}

pub async fn get_members(
    _user: ApiUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let body = bodies::standing_body(&path.into_inner())?;
    let m = state.db(move |c, _| bodies::get(c, body)).await?;
    Ok(HttpResponse::Ok().json(m))
}

pub async fn put_members(
    user: ApiUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse, AppError> {
    let which = bodies::standing_body(&path.into_inner())?;
    let input = object(body)?;
    let m = state
        .db(move |c, st| bodies::set(c, &user.actor, st.now(), which, &input))
        .await?;
    Ok(HttpResponse::Ok().json(m))
}

pub async fn list_meetings(
    user: ApiUser,
    state: web::Data<AppState>,
    q: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let filter = meetings::Filter::parse(&q)?;
    let list = state
        .db(move |c, st| meetings::list(c, st, &user.actor, &filter))
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

pub async fn schedule_meeting(
    user: ApiUser,
    state: web::Data<AppState>,
    body: web::Json<Value>,
) -> Result<HttpResponse, AppError> {
    let input = object(body)?;
    let m = state
        .db(move |c, st| meetings::schedule(c, st, &user.actor, &input))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/meetings/{}", m.id)))
        .json(m))
}

pub async fn get_meeting(
    user: ApiUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let m = state
        .db(move |c, st| meetings::read(c, st, &user.actor, &id))
        .await?;
    Ok(HttpResponse::Ok().json(m))
}

pub async fn add_agenda(
    user: ApiUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let input = object(body)?;
    let item = state
        .db(move |c, st| meetings::add_to_agenda(c, st, &user.actor, &id, &input))
        .await?;
    Ok(HttpResponse::Created().json(item))
}

pub async fn remove_agenda(
    user: ApiUser,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (id, case_id) = path.into_inner();
    state
        .db(move |c, st| meetings::remove_from_agenda(c, st, &user.actor, &id, &case_id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn name_deputy(
    user: ApiUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let input = object(body)?;
    let named = state
        .db(move |c, st| meetings::name_deputy(c, st, &user.actor, &id, &input))
        .await?;
    Ok(HttpResponse::Ok().json(NamedDeputies {
        named_deputies: named,
    }))
}

pub async fn record_held(
    user: ApiUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let input = object(body)?;
    let m = state
        .db(move |c, st| attendance::record(c, st, &user.actor, &id, &input))
        .await?;
    Ok(HttpResponse::Ok().json(m))
}

pub async fn write_minutes(
    user: ApiUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let input = object(body)?;
    let m = state
        .db(move |c, st| minutes::write(c, st, &user.actor, &id, &input))
        .await?;
    Ok(HttpResponse::Ok().json(m))
}

pub async fn sign_off(
    user: ApiUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let m = state
        .db(move |c, st| minutes::sign_off(c, st, &user.actor, &id))
        .await?;
    Ok(HttpResponse::Ok().json(m))
}

pub async fn record_decision(
    user: ApiUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let input = object(body)?;
    let d = state
        .db(move |c, st| decisions::record(c, st, &user.actor, &id, &input))
        .await?;
    Ok(HttpResponse::Created().json(d))
}

/// Reads a multipart paper (`title`, `file`) after checking the user may attach papers, and
/// keeps it. A refused upload leaves nothing on disk.
pub async fn upload_paper(
    user: ApiUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: Multipart,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let (a, m) = (user.actor.clone(), id.clone());
    state
        .db(move |c, _| papers::check_upload(c, &a, &m))
        .await?;
    let mut upload = Upload::default();
    if let Err(e) = read_parts(&state, payload, &mut upload).await {
        upload.discard();
        return Err(e);
    }
    let title = upload.fields.get("title").cloned().unwrap_or_default();
    let file_name = upload.file_name.clone().unwrap_or_default();
    let Some(received) = upload.file.take() else {
        return Err(AppError::invalid("file", "choose a file to upload"));
    };
    let paper = papers::save(&state, &user.actor, &id, &title, &file_name, received).await?;
    Ok(HttpResponse::Created().json(paper))
}

pub async fn download_paper(
    user: ApiUser,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (id, paper) = path.into_inner();
    paper_response(&state, user.actor, id, paper).await
}

pub async fn delete_paper(
    user: ApiUser,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: web::Json<Value>,
) -> Result<HttpResponse, AppError> {
    let (id, paper) = path.into_inner();
    let reason = name_of(&object(body)?, "reason");
    state
        .db(move |c, st| papers::delete(c, st, &user.actor, &id, &paper, &reason))
        .await?;
    Ok(HttpResponse::Ok().json(Deleted { deleted: true }))
}

/// The meetings a case was on (as the user may see them), each with its decisions about it.
pub async fn case_meetings(
    user: ApiUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let list = state
        .db(move |c, st| {
            let (case, _) = crate::app::access::visible_or_refuse(
                c,
                st,
                &user.actor,
                &id,
                "case_meetings_viewed",
            )?;
            meetings::for_case(c, st, &user.actor, &case.id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(
        list.into_iter()
            .map(|(meeting, decisions)| CaseMeeting { meeting, decisions })
            .collect::<Vec<_>>(),
    ))
}
