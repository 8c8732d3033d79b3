//! Cases, their events, deadlines and audit trail.

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use serde_json::Value;

use crate::app::access::identity_in_lists;
use crate::app::access::{refuse, visible_or_refuse};
use crate::app::cases::list::{self, Filter};
use crate::app::cases::{self, trail, view, NewCase};
use crate::app::export::{self, Exported, Format};
use crate::app::reports::tables;
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
    let filters = list_filters(&q);
    state
        .db(move |c, st| export_cases(c, st, &user.actor, &filter, format, filters))
        .await?
        .respond()
}

/// The filters of a case-list export as the audit keeps them (see `export::audited_search`).
pub fn list_filters(q: &HashMap<String, String>) -> Value {
    let mut m = serde_json::Map::new();
    for key in ["stage", "deadline_status", "year", "sort", "order"] {
        if let Some(v) = q.get(key).filter(|v| !v.trim().is_empty()) {
            m.insert(key.into(), Value::String(v.clone()));
        }
    }
    if let Some(v) = q.get("q").map(|v| v.trim()).filter(|v| !v.is_empty()) {
        m.insert("q".into(), export::audited_search(v));
    }
    Value::Object(m)
}

/// The whole filtered case list as a file (the API's and the page's), audited.
pub fn export_cases(
    c: &mut crate::db::DbConnection,
    st: &AppState,
    actor: &crate::app::Actor,
    filter: &Filter,
    format: Format,
    filters: Value,
) -> Result<Answer, AppError> {
    let rows = list::all(c, st, actor, filter)?;
    let table = tables::cases(&rows, identity_in_lists(actor).then_some(&st.crypto))?;
    export::audit_export(
        c,
        st,
        actor,
        Exported {
            what: "cases",
            case_id: None,
            format,
            filters,
            rows: table.rows.len(),
        },
    )?;
    Ok(Answer::file(table, format, st.today()))
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
    let (case, read) = state
        .db(move |c, st| view::read(c, st, &user.actor, &id))
        .await?;
    state.audit_read(read).await?;
    Ok(HttpResponse::Ok().json(case))
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
            let (case, _) = visible_or_refuse(c, st, &user.actor, &id, "deadlines_viewed")?;
            let list = view::case_deadlines(c, st, &case)?;
            if format == Format::Json {
                crate::db::write_tx(c, |c| {
                    audit::append(
                        c,
                        st.now(),
                        audit::Entry::ok(Some(&user.actor), "deadlines_viewed").case(&case.id),
                    )
                })?;
                return Ok(Answer::Json(
                    serde_json::to_value(&list).map_err(AppError::internal)?,
                ));
            }
            let table = tables::deadlines(&case.reference, &list);
            export::audit_export(
                c,
                st,
                &user.actor,
                Exported {
                    what: "deadlines",
                    case_id: Some(&case.id),
                    format,
                    filters: Value::Null,
                    rows: table.rows.len(),
                },
            )?;
            Ok(Answer::file(table, format, st.today()))
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
    state
        .db(move |c, st| export_audit(c, st, &user.actor, &id, format))
        .await?
        .respond()
}

/// A case's audit trail as JSON or a file (the export is audited too).
pub fn export_audit(
    c: &mut crate::db::DbConnection,
    st: &AppState,
    actor: &crate::app::Actor,
    id: &str,
    format: Format,
) -> Result<Answer, AppError> {
    let entries = trail::entries(c, st, actor, id)?;
    if format == Format::Json {
        return Ok(Answer::Json(Value::Array(entries)));
    }
    let (case, _) = crate::app::access::visible_case(c, actor, id)?;
    let table = tables::audit(&case.reference, &entries);
    export::audit_export(
        c,
        st,
        actor,
        Exported {
            what: "audit_trail",
            case_id: Some(&case.id),
            format,
            filters: Value::Null,
            rows: table.rows.len(),
        },
    )?;
    Ok(Answer::file(table, format, st.today()))
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
