//! The calendar (`/admin/calendar`, system administrators only): the days added so far; adding a
//! proclaimed bank holiday or a local closure day; importing an official gov.uk
//! `bank-holidays.json`. Each change is first previewed (which pending deadlines would move and
//! where) and applied only from the preview's confirm button, which carries the change (for an
//! import, the file's text in a hidden field).

use std::collections::HashMap;

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use futures_util::StreamExt;
use serde_json::json;

use super::form::{for_page, humanise, Outcome, Posted};
use super::{FormData, HtmlError, Page, PageResult};
use crate::app::calendar::{self, Change, NewDay};
use crate::domain::calendar::DayKind;
use crate::domain::input::{FieldError, SHORT_MAX};
use crate::error::AppError;
use crate::web::session::new_form_id;

/// Largest bank holiday file accepted (the official one is about 20 KB).
const MAX_FILE_BYTES: usize = 512 * 1024;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/calendar", web::get().to(show))
        .route("/admin/calendar/preview", web::post().to(preview_day))
        .route("/admin/calendar/import", web::post().to(preview_import))
        .route("/admin/calendar/apply", web::post().to(apply));
}

fn admin_only(page: &Page) -> Result<(), HtmlError> {
    page.require(
        page.actor().role.may_manage_calendar(),
        "only system administrators manage the calendar",
    )
}

async fn render_calendar(
    page: &Page,
    status: StatusCode,
    form: &FormData,
    errors: &[FieldError],
    applied: Option<usize>,
) -> PageResult {
    let days = page.db(|c, _, _| Ok(calendar::added_days(c)?)).await?;
    let days: Vec<_> = days
        .iter()
        .map(|d| {
            json!({
                "date": d.day, "title": d.title,
                "kind": if d.kind == "closure" { "Local closure day" } else { "Proclaimed bank holiday" },
                "division": d.division.clone().unwrap_or_else(|| "all divisions".into()),
            })
        })
        .collect();
    let mut ctx = page.context("Calendar", "calendar");
    ctx.insert("days", &days);
    ctx.insert("form", &form.values(&[]));
    ctx.insert("errors", errors);
    ctx.insert(
        "applied_text",
        &applied.map(|n| match n {
            0 => "No pending deadline moved.".to_string(),
            1 => "1 pending deadline moved.".to_string(),
            n => format!("{n} pending deadlines moved."),
        }),
    );
    ctx.insert("division", page.state.division.as_str());
    ctx.insert(
        "kinds",
        &json!([
            { "value": "proclaimed", "text": "A proclaimed bank holiday", "hint": format!("For the partnership’s division ({})", page.state.division.as_str()) },
            { "value": "closure", "text": "A local closure day", "hint": "The partnership’s offices are closed" },
        ]),
    );
    page.render_status(status, "pages/admin/calendar.html", &ctx)
}

async fn show(page: Page, q: web::Query<HashMap<String, String>>) -> PageResult {
    admin_only(&page)?;
    let applied = q.get("applied").and_then(|n| n.parse().ok());
    render_calendar(&page, StatusCode::OK, &FormData::default(), &[], applied).await
}

/// A day to add, from the form.
fn new_day(page: &Page, form: &FormData) -> Result<NewDay, Vec<FieldError>> {
    let mut errors = vec![];
    let date = match form.date("date", "The date") {
        Ok(Some(d)) => Some(d),
        Ok(None) => {
            errors.push(FieldError::new("date", "Enter the date"));
            None
        }
        Err(e) => {
            errors.push(e);
            None
        }
    };
    let title = form.get("title").trim().to_string();
    if title.is_empty() {
        errors.push(FieldError::new(
            "title",
            "Enter what the day is, for example Bank holiday for the State Funeral",
        ));
    } else if title.chars().count() > SHORT_MAX {
        errors.push(FieldError::new(
            "title",
            format!("The title must be {SHORT_MAX} characters or fewer"),
        ));
    }
    let kind = match form.get("day_kind") {
        "proclaimed" => Some(DayKind::Proclaimed),
        "closure" => Some(DayKind::Closure),
        _ => {
            errors.push(FieldError::new("day_kind", "Select what sort of day it is"));
            None
        }
    };
    match (date, kind) {
        (Some(date), Some(kind)) if errors.is_empty() => Ok(NewDay {
            division: (kind == DayKind::Proclaimed).then_some(page.state.division),
            date,
            title,
            kind,
        }),
        _ => Err(errors),
    }
}

/// The preview of a change: which pending deadlines would move.
async fn render_preview(
    page: &Page,
    change: Change,
    hidden: Vec<(String, String)>,
    what: String,
) -> PageResult {
    let moved = page
        .db(move |c, st, _| calendar::preview(c, st, &change))
        .await;
    let moved = match moved {
        Ok(m) => m,
        Err(e) => return Err(e),
    };
    let mut ctx = page.context("Check the calendar change", "calendar");
    ctx.insert("moved", &moved);
    let hidden: Vec<_> = hidden
        .into_iter()
        .map(|(name, value)| json!({ "name": name, "value": value }))
        .collect();
    ctx.insert("hidden", &hidden);
    ctx.insert("what", &what);
    ctx.insert("form_id", &new_form_id());
    page.render("pages/admin/calendar_preview.html", &ctx)
}

async fn preview_day(posted: Posted) -> PageResult {
    let Posted { page, form } = &posted;
    admin_only(page)?;
    let day = match new_day(page, form) {
        Ok(d) => d,
        Err(errors) => {
            return render_calendar(page, StatusCode::UNPROCESSABLE_ENTITY, form, &errors, None)
                .await
        }
    };
    let what = format!(
        "Add {} on {} ({})",
        if day.kind == DayKind::Closure {
            "a local closure day"
        } else {
            "a proclaimed bank holiday"
        },
        day.date.format("%A %-d %B %Y"),
        day.title
    );
    let hidden = ["date-day", "date-month", "date-year", "title", "day_kind"]
        .iter()
        .map(|k| (k.to_string(), form.get(k).to_string()))
        .chain([("change".to_string(), "add".to_string())])
        .collect();
    match render_preview(page, Change::AddDay(day), hidden, what).await {
        Err(e) if matches!(e.error(), AppError::Invalid(_)) => {
            let errors = for_page(
                humanise(e.into_error().field_errors(), |_| None),
                &["date".into()],
            );
            render_calendar(page, StatusCode::UNPROCESSABLE_ENTITY, form, &errors, None).await
        }
        other => other,
    }
}

async fn preview_import(req: HttpRequest, page: Page, mut parts: Multipart) -> PageResult {
    admin_only(&page)?;
    let mut form = FormData::default();
    let mut file: Option<Vec<u8>> = None;
    while let Some(part) = parts.next().await {
        let mut part = part.map_err(|e| {
            page.fail(AppError::bad_request(
                "file",
                format!("the upload could not be read: {e}"),
            ))
        })?;
        let name = part.name().unwrap_or("").to_string();
        let mut bytes = vec![];
        while let Some(chunk) = part.next().await {
            let chunk = chunk.map_err(|e| {
                page.fail(AppError::bad_request(
                    "file",
                    format!("the upload could not be read: {e}"),
                ))
            })?;
            if bytes.len() + chunk.len() > MAX_FILE_BYTES {
                return Err(page.fail(AppError::TooLarge(
                    "the file is too large for a bank holiday file".into(),
                )));
            }
            bytes.extend_from_slice(&chunk);
        }
        if name == "file" {
            file = Some(bytes);
        } else {
            form.set(&name, String::from_utf8_lossy(&bytes).into_owned());
        }
    }
    page.check_form(&req, &form)?;
    let json = match file.filter(|b| !b.is_empty()).map(String::from_utf8) {
        Some(Ok(text)) => text,
        Some(Err(_)) => {
            return import_error(&page, "The file must be a JSON file in the gov.uk format").await
        }
        None => return import_error(&page, "Select a bank holidays file").await,
    };
    let change = match Change::import(&json) {
        Ok(c) => c,
        Err(e) => {
            let message = e
                .field_errors()
                .first()
                .map_or("The file is not a gov.uk bank holidays file".into(), |f| {
                    super::sentence(&f.message)
                });
            return import_error(&page, &message).await;
        }
    };
    let hidden = vec![
        ("change".to_string(), "import".to_string()),
        ("json".to_string(), json),
    ];
    render_preview(
        &page,
        change,
        hidden,
        "Import a gov.uk bank holidays file".into(),
    )
    .await
}

async fn import_error(page: &Page, message: &str) -> PageResult {
    let errors = [FieldError::new("file", message)];
    render_calendar(
        page,
        StatusCode::UNPROCESSABLE_ENTITY,
        &FormData::default(),
        &errors,
        None,
    )
    .await
}

async fn apply(posted: Posted) -> PageResult {
    let Posted { page, form } = &posted;
    admin_only(page)?;
    let change = match form.get("change") {
        "add" => new_day(page, form)
            .map(Change::AddDay)
            .map_err(AppError::Invalid),
        "import" => Change::import(form.get("json")),
        _ => Err(AppError::bad_request(
            "change",
            "the change is missing; start again",
        )),
    }
    .map_err(|e| page.fail(e))?;
    posted
        .once("/admin/calendar", async || {
            let applied = page
                .db(move |c, st, actor| calendar::apply(c, st, Some(actor), &change))
                .await;
            match applied {
                Ok(moved) => Ok(Outcome::Redirect(format!(
                    "/admin/calendar?applied={}",
                    moved.len()
                ))),
                Err(e) => match e.into_error() {
                    AppError::Invalid(found) => {
                        let errors = for_page(humanise(found, |_| None), &["date".into()]);
                        let again = render_calendar(
                            page,
                            StatusCode::UNPROCESSABLE_ENTITY,
                            form,
                            &errors,
                            None,
                        )
                        .await?;
                        Ok(Outcome::Again(again))
                    }
                    other => Err(page.fail(other)),
                },
            }
        })
        .await
}
