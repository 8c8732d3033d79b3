//! The case list (`GET /cases`: filters, sortable columns, pages) and the new case form
//! (`GET/POST /cases/new`, programme manager and co-chairs).

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::web;
use serde::Serialize;
use serde_json::{json, Map, Value};

use super::form::{add_uncovered, date_base, for_page, humanise, Outcome, Posted};
use super::{case_page, FormData, Page, PageResult};
use crate::app::cases::list::{self, Filter, Sort};
use crate::app::cases::{self, NewCase};
use crate::app::export::{self, Format};
use crate::app::search;
use crate::domain::case::{Harm, Stage};
use crate::domain::deadlines::DeadlineStatus;
use crate::domain::input::FieldError;
use crate::error::AppError;
use crate::web::download::Answer;
use crate::web::session::{encode_component, new_form_id};

/// Cases on one page of the list.
pub const PER_PAGE: i64 = 25;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/cases", web::get().to(list))
        .route("/cases/new", web::get().to(new_form))
        .route("/cases/new", web::post().to(create))
        .route("/cases/{id}", web::get().to(case_page::show));
}

/// A query string from pairs, leaving out blank values.
fn query(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", encode_component(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[derive(Serialize)]
struct Column {
    label: &'static str,
    /// The sort code, when the column sorts.
    sort: &'static str,
    href: String,
    /// `ascending`, `descending` or `none`.
    aria_sort: &'static str,
}

async fn list(page: Page, q: web::Query<Vec<(String, String)>>) -> PageResult {
    let q: HashMap<String, String> = q.into_inner().into_iter().collect();
    let mut filter = Filter::parse(&q).map_err(|e| page.fail(e))?;
    if !q.contains_key("per_page") {
        filter.per_page = PER_PAGE;
    }
    let format = Format::parse(q.get("format").map(String::as_str)).map_err(|e| page.fail(e))?;
    if format != Format::Json {
        let filters = export::list_filters(&q);
        return page
            .db(move |c, st, actor| {
                let table = export::cases(c, st, actor, &filter, format, filters)?;
                Ok(Answer::file(table, format, st.today()))
            })
            .await?
            .respond()
            .map_err(|e| page.fail(e));
    }
    let f = filter.clone();
    let (result, years) = page
        .db(move |c, st, actor| Ok((list::list(c, st, actor, &f)?, list::years(c, actor)?)))
        .await?;
    let get = |k: &str| q.get(k).map(String::as_str).unwrap_or("").trim();
    let (search, stage, status, year) =
        (get("q"), get("stage"), get("deadline_status"), get("year"));
    let filters = [
        ("q", search),
        ("stage", stage),
        ("deadline_status", status),
        ("year", year),
    ];
    let order = if filter.descending { "desc" } else { "asc" };
    let columns: Vec<Column> = [
        ("Case", Sort::Reference),
        ("Stage", Sort::Stage),
        ("Date aware", Sort::AwareOn),
        ("Next deadline", Sort::NextDue),
    ]
    .into_iter()
    .map(|(label, sort)| {
        let current = filter.sort == sort;
        let next_order = if current && !filter.descending {
            "desc"
        } else {
            "asc"
        };
        let mut pairs = filters.to_vec();
        pairs.push(("sort", sort.as_str()));
        pairs.push(("order", next_order));
        Column {
            label,
            sort: sort.as_str(),
            href: format!("/cases?{}", query(&pairs)),
            aria_sort: match (current, filter.descending) {
                (false, _) => "none",
                (true, false) => "ascending",
                (true, true) => "descending",
            },
        }
    })
    .collect();
    let mut pairs = filters.to_vec();
    pairs.push(("sort", filter.sort.as_str()));
    pairs.push(("order", order));
    let pages = ((result.total + result.per_page - 1) / result.per_page).max(1);
    let mut ctx = page.context("Cases", "cases");
    ctx.insert("result", &result);
    ctx.insert("pages", &pages);
    ctx.insert("columns", &columns);
    ctx.insert("page_prefix", &format!("/cases?{}&page=", query(&pairs)));
    ctx.insert(
        "form",
        &json!({ "q": search, "stage": stage, "deadline_status": status, "year": year }),
    );
    let name_hint = if search::searches_identity(page.actor()) {
        ", pseudonym or the child's name"
    } else {
        " or pseudonym"
    };
    ctx.insert("name_hint", name_hint);
    ctx.insert("export_query", &query(&pairs));
    ctx.insert("sort", filter.sort.as_str());
    ctx.insert("order", order);
    ctx.insert("filtered", &filters.iter().any(|(_, v)| !v.is_empty()));
    ctx.insert(
        "stages",
        &Stage::ALL
            .iter()
            .map(|s| json!({ "value": s.as_str(), "text": s.label() }))
            .collect::<Vec<_>>(),
    );
    ctx.insert(
        "statuses",
        &[
            (DeadlineStatus::Pending, "Deadline pending"),
            (DeadlineStatus::Missed, "Deadline missed or overdue"),
            (DeadlineStatus::Met, "Deadline met"),
            (DeadlineStatus::Waived, "Deadline waived"),
        ]
        .map(|(s, text)| json!({ "value": s.as_str(), "text": text })),
    );
    ctx.insert(
        "years",
        &years
            .iter()
            .map(|y| json!({ "value": y, "text": y }))
            .collect::<Vec<_>>(),
    );
    ctx.insert("may_open_cases", &page.actor().role.may_open_cases());
    page.render("pages/cases/list.html", &ctx)
}

fn harms() -> Vec<Value> {
    Harm::ALL
        .iter()
        .map(|h| json!({ "value": h.as_str(), "text": h.label() }))
        .collect()
}

fn render_new(
    page: &Page,
    status: StatusCode,
    form: &FormData,
    errors: &[FieldError],
    form_id: &str,
) -> PageResult {
    let mut ctx = page.context("Open a case", "cases");
    ctx.insert("form", &form.values(&[]));
    ctx.insert("errors", errors);
    ctx.insert("form_id", form_id);
    ctx.insert("harms", &harms());
    ctx.insert(
        "yes_no",
        &json!([{ "value": "true", "text": "Yes" }, { "value": "false", "text": "No" }]),
    );
    page.render_status(status, "pages/cases/new.html", &ctx)
}

fn may_open(page: &Page) -> Result<(), super::HtmlError> {
    page.require(
        page.actor().role.may_open_cases(),
        "only the programme manager and the co-chairs open cases",
    )
}

async fn new_form(page: Page) -> PageResult {
    may_open(&page)?;
    render_new(
        &page,
        StatusCode::OK,
        &FormData::default(),
        &[],
        &new_form_id(),
    )
}

/// The new case's fields: (name, what a message calls it, a date?, required?).
const NEW_CASE_FIELDS: [(&str, &str, bool, bool); 8] = [
    ("child_pseudonym", "the pseudonym", false, true),
    (
        "aware_on",
        "the date the local authority became aware",
        true,
        true,
    ),
    ("incident_on", "the date of the incident", true, true),
    ("harm", "what happened to the child", false, true),
    (
        "looked_after",
        "whether the child was looked after",
        false,
        true,
    ),
    ("summary", "a short summary", false, true),
    ("child_name", "the child’s name", false, false),
    ("child_dob", "the child’s date of birth", true, false),
];

async fn create(posted: Posted) -> PageResult {
    let Posted { page, form } = &posted;
    may_open(page)?;
    posted
        .once("/cases", async || {
            let mut body = Map::new();
            let mut errors = vec![];
            for (name, what, is_date, required) in NEW_CASE_FIELDS {
                if is_date {
                    match form.date(name, &super::sentence(what)) {
                        Ok(Some(d)) => {
                            body.insert(name.into(), json!(d.to_string()));
                        }
                        Ok(None) if required => {
                            errors.push(FieldError::new(name, format!("Enter {what}")))
                        }
                        Ok(None) => {}
                        Err(e) => errors.push(e),
                    }
                } else {
                    let v = form.get(name).trim();
                    if !v.is_empty() {
                        body.insert(name.into(), json!(v));
                    } else if matches!(name, "harm" | "looked_after") {
                        errors.push(FieldError::new(name, format!("Select {what}")));
                    }
                }
            }
            let today = page.state.today();
            let outcome = match NewCase::parse(&body, today) {
                Err(AppError::Invalid(more)) => {
                    add_uncovered(&mut errors, more);
                    Ok(None)
                }
                Err(e) => Err(e),
                Ok(_) if !errors.is_empty() => Ok(None),
                Ok(input) => {
                    let opened = page
                        .state
                        .db({
                            let actor = page.actor().clone();
                            move |c, st| cases::create(c, st, &actor, input)
                        })
                        .await;
                    match opened {
                        Ok(case) => Ok(Some(case.id)),
                        Err(AppError::Invalid(more)) => {
                            errors.extend(more);
                            Ok(None)
                        }
                        Err(e) => Err(e),
                    }
                }
            };
            match outcome {
                Ok(Some(id)) => return Ok(Outcome::Redirect(format!("/cases/{id}?opened=1"))),
                Ok(None) => {}
                Err(e) => return Err(page.fail(e)),
            }
            let errors = humanise(errors, |f| {
                NEW_CASE_FIELDS
                    .iter()
                    .find(|(n, ..)| *n == date_base(f))
                    .map(|(_, what, ..)| super::sentence(what))
            });
            let known: Vec<String> = NEW_CASE_FIELDS
                .iter()
                .map(|(n, ..)| n.to_string())
                .collect();
            let errors = for_page(errors, &known);
            let again = render_new(
                page,
                StatusCode::UNPROCESSABLE_ENTITY,
                form,
                &errors,
                form.get("form_id"),
            )?;
            Ok(Outcome::Again(again))
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_leave_out_blanks_and_encode() {
        assert_eq!(
            query(&[("stage", "in_review"), ("year", ""), ("q", "a b&c")]),
            "stage=in_review&q=a%20b%26c"
        );
    }
}
