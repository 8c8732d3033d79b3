//! Cases, their events, deadlines and audit trail.

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use serde_json::Value;

use crate::app::access::{refuse, visible_or_refuse};
use crate::app::cases::list::{self, Filter};
use crate::app::cases::{self, trail, view, NewCase};
use crate::app::export::{self, Format};
use crate::app::{audit, events};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::download::Answer;
use crate::web::extract::{object, ApiUser};

pub async fn list_cases(
    user: ApiUser,
    state: web::Data<AppState>,
    q: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let filter = Filter::parse(&q)?;
    let format = Format::parse(q.get("format").map(String::as_str))?;
    if format == Format::Json {
        let page = state
            .db(move |c, st| list::list(c, st, &user.actor, &filter))
            .await?;
        return Ok(HttpResponse::Ok().json(page));
    }
    let filters = export::list_filters(&q);
    state
        .db(move |c, st| {
            let table = export::cases(c, st, &user.actor, &filter, format, filters)?;
            Ok(Answer::file(table, format, st.today()))
        })
        .await?
        .respond()
}

pub async fn create_case(
    user: ApiUser,
    state: web::Data<AppState>,
    body: web::Json<Value>,
) -> Result<HttpResponse, AppError> {
    let body = object(body)?;
    let case = state
        .db(move |c, st| {
            let input = match NewCase::parse(&body, st.today()) {
                Ok(i) => i,
                Err(e) => {
                    refuse(c, st, &user.actor, None, "case_opened", &e.to_string())?;
                    return Err(e);
                }
            };
            cases::create(c, st, &user.actor, input)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/cases/{}", case.id)))
        .json(case))
}

pub async fn get_case(
    user: ApiUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let (case, audit) = state
        .db(move |c, st| {
            let (case, read) = view::read(c, st, &user.actor, &id)?;
            Ok((case, st.queue_read_audit(read)?))
        })
        .await?;
    // Written while the answer is made; sent only once the read's audit entry is durable.
    let answer = HttpResponse::Ok().json(case);
    audit.committed().await?;
    Ok(answer)
}

pub async fn record_event(
    user: ApiUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let body = object(body)?;
    let recorded = state
        .db(move |c, st| events::record_event(c, st, &user.actor, &id, &body))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/cases/{}", recorded.case_id)))
        .json(recorded))
}

/// `PATCH /api/v1/cases/{id} {"reason", fields...}`: a case's details changed with a reason.
pub async fn change_case(
    user: ApiUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let body = object(body)?;
    let case = state
        .db(move |c, st| cases::change::change(c, st, &user.actor, &id, &body))
        .await?;
    Ok(HttpResponse::Ok().json(case))
}

/// `POST /api/v1/cases/{id}/events/{event_id}/correct {"reason", ...fields, "occurred_on"?}`.
pub async fn correct_event(
    user: ApiUser,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: web::Json<Value>,
) -> Result<HttpResponse, AppError> {
    let (id, event_id) = path.into_inner();
    let body = object(body)?;
    let recorded = state
        .db(move |c, st| {
            events::corrections::correct_event(c, st, &user.actor, &id, &event_id, &body)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/cases/{}", recorded.case_id)))
        .json(recorded))
}

/// `POST /api/v1/cases/{id}/events/{event_id}/void {"reason"}`.
pub async fn void_event(
    user: ApiUser,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: web::Json<Value>,
) -> Result<HttpResponse, AppError> {
    let (id, event_id) = path.into_inner();
    let body = object(body)?;
    // A void carries its reason only (the schema says so): anything else is refused, not
    // ignored, so a client that meant to correct the event learns it did not.
    if let Some(k) = body.keys().find(|k| k.as_str() != "reason") {
        return Err(AppError::invalid(
            k.clone(),
            "is not a field of a void; send only reason",
        ));
    }
    let recorded = state
        .db(move |c, st| events::corrections::void_event(c, st, &user.actor, &id, &event_id, &body))
        .await?;
    Ok(HttpResponse::Ok().json(recorded))
}

pub async fn case_deadlines(
    user: ApiUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let format = Format::parse(q.get("format").map(String::as_str))?;
    state
        .db(move |c, st| {
            if format != Format::Json {
                let table = export::deadlines(c, st, &user.actor, &id, format)?;
                return Ok(Answer::file(table, format, st.today()));
            }
            let (case, _) = visible_or_refuse(c, st, &user.actor, &id, "deadlines_viewed")?;
            let list = view::case_deadlines(c, st, &case)?;
            crate::db::write_tx(c, |c| {
                audit::append(
                    c,
                    st.now(),
                    audit::Entry::ok(Some(&user.actor), "deadlines_viewed").case(&case.id),
                )
            })?;
            Ok(Answer::Json(
                serde_json::to_value(&list).map_err(AppError::internal)?,
            ))
        })
        .await?
        .respond()
}

pub async fn case_audit(
    user: ApiUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let format = Format::parse(q.get("format").map(String::as_str))?;
    let filter = trail::TrailFilter::parse(&q)?;
    // The paging is checked for a file too (which holds every matching entry), so a bad
    // `page` or `per_page` is refused whatever the format.
    let paging = trail::parse_paging(&q, trail::MAX_PER_PAGE)?;
    if format != Format::Json {
        return state
            .db(move |c, st| {
                let table = export::audit_trail(c, st, &user.actor, &id, &filter, format)?;
                Ok(Answer::file(table, format, st.today()))
            })
            .await?
            .respond();
    }
    let query = filter.query();
    let p = state
        .db(move |c, st| {
            trail::page(
                c,
                st,
                &user.actor,
                &id,
                &filter,
                paging,
                trail::Order::OldestFirst,
            )
        })
        .await?;
    // The body stays the list of entries; the pages are in the headers (RFC 8288 links).
    let base = format!("/api/v1/cases/{}/audit?", p.case_id);
    let link = |page: i64, rel: &str| {
        let mut q = query.clone();
        if !q.is_empty() {
            q.push('&');
        }
        format!(
            "<{base}{q}page={page}&per_page={}>; rel=\"{rel}\"",
            p.per_page
        )
    };
    let mut links = vec![link(1, "first"), link(p.pages(), "last")];
    if p.page > 1 {
        links.push(link(p.page - 1, "prev"));
    }
    if p.page < p.pages() {
        links.push(link(p.page + 1, "next"));
    }
    Ok(HttpResponse::Ok()
        .insert_header(("X-Total-Count", p.total.to_string()))
        .insert_header(("Link", links.join(", ")))
        .json(Value::Array(p.entries)))
}

/// The signed-in user declares a conflict of interest on a case.
pub async fn declare_conflict(
    user: ApiUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let body = object(body)?;
    let note = body
        .get("note")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    state
        .db(move |c, st| cases::declare_conflict(c, st, &user.actor, &id, &note))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn timeline_svg(
    user: ApiUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let t = state
        .db(move |c, st| crate::app::reports::timeline::for_case(c, st, &user.actor, &id))
        .await?;
    crate::web::timeline_svg::respond(&state, &t)
}
