//! Cases, their events, deadlines and audit trail.

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use serde_json::{json, Value};

use crate::app::cases::list::{self, Filter, Sort};
use crate::app::cases::{self, view, NewCase};
use crate::app::{audit, Actor};
use crate::domain::case::Stage;
use crate::domain::deadlines::DeadlineStatus;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::extract::{object, ApiUser};

/// Parses the case-list query parameters, naming any that is wrong.
pub fn parse_filter(q: &HashMap<String, String>) -> Result<Filter, AppError> {
    let mut f = Filter::default();
    let get = |k: &str| q.get(k).map(|s| s.trim()).filter(|s| !s.is_empty());
    if let Some(s) = get("stage") {
        f.stage = Some(
            s.parse::<Stage>()
                .map_err(|m| AppError::bad_request("stage", m))?,
        );
    }
    if let Some(s) = get("deadline_status") {
        f.deadline_status = Some(
            s.parse::<DeadlineStatus>()
                .map_err(|m| AppError::bad_request("deadline_status", m))?,
        );
    }
    if let Some(y) = get("year") {
        let ok = y.len() == 7
            && y.as_bytes()[4] == b'-'
            && y[..4].parse::<i32>().is_ok()
            && y[5..]
                .parse::<i32>()
                .is_ok_and(|b| b == (y[..4].parse::<i32>().unwrap_or(0) + 1) % 100);
        if !ok {
            return Err(AppError::bad_request(
                "year",
                format!("{y:?} is not a financial year like 2025-26"),
            ));
        }
        f.year = Some(y.to_string());
    }
    if let Some(s) = get("sort") {
        f.sort = s
            .parse::<Sort>()
            .map_err(|m| AppError::bad_request("sort", m))?;
    }
    if let Some(o) = get("order") {
        f.descending = match o {
            "asc" => false,
            "desc" => true,
            _ => return Err(AppError::bad_request("order", "must be asc or desc")),
        };
    }
    // Out of range is refused (422), not clamped: page × per_page must stay a small number
    // on every backend.
    for (key, slot, max) in [
        ("page", &mut f.page, MAX_PAGE),
        ("per_page", &mut f.per_page, 500),
    ] {
        if let Some(v) = get(key) {
            *slot = v
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| {
                    AppError::invalid(key, format!("must be a whole number from 1 to {max}"))
                })?;
        }
    }
    Ok(f)
}

/// The highest page number asked for (at 500 a page, far more cases than a partnership has).
pub const MAX_PAGE: i64 = 100_000;

pub async fn list_cases(
    user: ApiUser,
    state: web::Data<AppState>,
    q: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let filter = parse_filter(&q)?;
    let page = state
        .db(move |c, st| list::list(c, st, &user.actor, &filter))
        .await?;
    Ok(HttpResponse::Ok().json(page))
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
                    cases::refuse(c, st, &user.actor, None, "case_opened", &e.to_string())?;
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
    let case = state
        .db(move |c, st| view::read(c, st, &user.actor, &id))
        .await?;
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
    let case = state
        .db(move |c, st| cases::record_event(c, st, &user.actor, &id, &body))
        .await?;
    Ok(HttpResponse::Created().json(case))
}

pub async fn case_deadlines(
    user: ApiUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let deadlines = state
        .db(move |c, st| {
            let (case, _) = cases::visible_or_refuse(c, st, &user.actor, &id, "deadlines_viewed")?;
            let list = view::case_deadlines(c, st, &case)?;
            crate::db::write_tx(c, |c| {
                audit::append(
                    c,
                    st.now(),
                    audit::Entry::ok(Some(&user.actor), "deadlines_viewed").case(&case.id),
                )
            })?;
            Ok(list)
        })
        .await?;
    Ok(HttpResponse::Ok().json(deadlines))
}

/// The audit trail of a case, for the roles allowed to read it.
pub fn case_audit_entries(
    c: &mut crate::db::DbConnection,
    st: &AppState,
    actor: &Actor,
    id: &str,
) -> Result<Vec<Value>, AppError> {
    let (case, _) = cases::visible_or_refuse(c, st, actor, id, "audit_viewed")?;
    if !actor.role.may_read_audit() {
        cases::refuse(
            c,
            st,
            actor,
            Some(&case.id),
            "audit_viewed",
            "role may not read the audit trail",
        )?;
        return Err(AppError::Forbidden(
            "your role may not read the audit trail".into(),
        ));
    }
    crate::db::write_tx(c, |c| {
        audit::append(
            c,
            st.now(),
            audit::Entry::ok(Some(actor), "audit_viewed").case(&case.id),
        )
    })?;
    let rows = audit::for_case(c, &case.id)?;
    let ids: Vec<&str> = rows.iter().filter_map(|r| r.actor_id.as_deref()).collect();
    let names = view::names(c, &ids)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            json!({
                "seq": r.seq,
                "at": r.at.and_utc().to_rfc3339(),
                "actor": r.actor_id.as_ref().map(|id| json!({ "id": id, "name": names.get(id), "role": r.actor_role })),
                "action": r.action,
                "outcome": r.outcome,
                "subject": r.subject,
                "detail": serde_json::from_str::<Value>(&r.detail).unwrap_or(Value::Null),
                "hash": r.hash,
            })
        })
        .collect())
}

pub async fn case_audit(
    user: ApiUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let entries = state
        .db(move |c, st| case_audit_entries(c, st, &user.actor, &id))
        .await?;
    Ok(HttpResponse::Ok().json(entries))
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
