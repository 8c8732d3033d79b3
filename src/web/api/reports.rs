//! Reports and exports: the annual figures, the Board report and improvement actions, each as
//! JSON or, with `format=csv|xlsx`, as a file (audited).

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::app::export::{audit_export, Exported, Format};
use crate::app::reports::{actions, annual, board, tables, themes};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::download::Answer;
use crate::web::extract::ApiUser;

type Query = web::Query<HashMap<String, String>>;

fn param<'a>(q: &'a Query, key: &str) -> Option<&'a str> {
    crate::web::extract::query_param(q, key)
}

pub async fn annual_report(
    user: ApiUser,
    state: web::Data<AppState>,
    q: Query,
) -> Result<HttpResponse, AppError> {
    let year = annual::Year::parse(param(&q, "year"))?;
    let format = Format::parse(param(&q, "format"))?;
    state
        .db(move |c, st| {
            let report = annual::compute(c, st, &user.actor, year)?;
            if format == Format::Json {
                return Ok(Answer::Json(report.to_json()));
            }
            let table = tables::annual(&report);
            audit_export(
                c,
                st,
                &user.actor,
                Exported {
                    what: "annual_report",
                    case_id: None,
                    format,
                    filters: json!({ "year": year.0 }),
                    rows: table.rows.len(),
                },
            )?;
            Ok(Answer::file(table, format, st.today()))
        })
        .await?
        .respond()
}

pub async fn board_report(
    user: ApiUser,
    state: web::Data<AppState>,
    q: Query,
) -> Result<HttpResponse, AppError> {
    let since = board::parse_since(param(&q, "since"))?;
    let format = Format::parse(param(&q, "format"))?;
    state
        .db(move |c, st| {
            let report = board::compute(c, st, &user.actor, since)?;
            if format == Format::Json {
                return Ok(Answer::Json(
                    serde_json::to_value(&report).map_err(AppError::internal)?,
                ));
            }
            let table = tables::board(&report);
            audit_export(
                c,
                st,
                &user.actor,
                Exported {
                    what: "board_report",
                    case_id: None,
                    format,
                    filters: json!({ "since": report.since }),
                    rows: table.rows.len(),
                },
            )?;
            Ok(Answer::file(table, format, st.today()))
        })
        .await?
        .respond()
}

pub async fn improvement_actions(
    user: ApiUser,
    state: web::Data<AppState>,
    q: Query,
) -> Result<HttpResponse, AppError> {
    let year = match param(&q, "year") {
        Some(y) => Some(annual::Year::parse(Some(y))?),
        None => None,
    };
    let format = Format::parse(param(&q, "format"))?;
    state
        .db(move |c, st| {
            let list = actions::list(c, &user.actor, year)?;
            let today = st.today();
            if format == Format::Json {
                let body: Vec<_> = list
                    .iter()
                    .map(|(reference, a)| super::responses::ActionLine {
                        reference: reference.clone(),
                        overdue: a.overdue(today),
                        action: a.clone(),
                    })
                    .collect();
                return Ok(Answer::Json(
                    serde_json::to_value(body).map_err(AppError::internal)?,
                ));
            }
            let table = tables::actions(&list, today);
            audit_export(
                c,
                st,
                &user.actor,
                Exported {
                    what: "improvement_actions",
                    case_id: None,
                    format,
                    filters: json!({ "year": year.map(|y| y.0) }),
                    rows: table.rows.len(),
                },
            )?;
            Ok(Answer::file(table, format, today))
        })
        .await?
        .respond()
}

/// `PUT /api/v1/cases/{id}/themes`: `{"themes": [...], "reason"?}` replaces the case's learning
/// themes (co-chairs, programme manager; audited); answers the case's themes.
pub async fn put_case_themes(
    user: ApiUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<serde_json::Value>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let body = crate::web::extract::object(body)?;
    let input = themes::ThemesInput::parse(&body)?;
    let (case_id, list) = state
        .db(move |c, st| {
            let list = themes::set(c, st, &user.actor, &id, &input)?;
            Ok((id, list))
        })
        .await?;
    Ok(HttpResponse::Ok().json(super::responses::CaseThemes {
        case_id,
        themes: list,
    }))
}

/// `GET /api/v1/cases/{id}/themes`: the case's learning themes.
pub async fn get_case_themes(
    user: ApiUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let (case_id, list) = state
        .db(move |c, st| {
            let (case, _) = crate::app::access::visible_case(c, &user.actor, &id)?;
            let list = themes::of_case(c, st, &case.id)?;
            Ok((case.id, list))
        })
        .await?;
    Ok(HttpResponse::Ok().json(super::responses::CaseThemes {
        case_id,
        themes: list,
    }))
}

/// `GET /api/v1/reports/themes`: tagged cases by theme and financial year, over the cases the
/// user sees.
pub async fn themes_report(
    user: ApiUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let report = state
        .db(move |c, st| themes::report(c, st, &user.actor))
        .await?;
    Ok(HttpResponse::Ok().json(report))
}
