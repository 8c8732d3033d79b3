//! Publication planning, the one route for it (`GET/POST /cases/{id}/publication`; the event
//! form's address `/cases/{id}/events/publication_planned` redirects here): choose a
//! publication date (a GET form) and see, for the Panel, Ofsted and the Secretary of State, the
//! latest day the copy may be sent and whether it has been; a date that is too soon is one
//! error naming the earliest permissible date. The plan itself (`publication_planned`) is
//! recorded from the same page.

use actix_web::http::StatusCode;
use actix_web::web;
use chrono::NaiveDate;

use super::event_forms::{self, Field};
use super::events::plan_fields;
use super::form::{add_uncovered, for_page, humanise, Outcome, Posted};
use super::{FormData, Page, PageResult};
use crate::app::cases::publication::{self, Planning};
use crate::app::events;
use crate::domain::events::{EventInput, EventType};
use crate::domain::input::FieldError;
use crate::domain::replay::too_soon;
use crate::error::AppError;
use crate::web::session::new_form_id;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/cases/{id}/publication", web::get().to(show))
        .route("/cases/{id}/publication", web::post().to(record));
}

/// What the page shows: the planning view for the date looked at and the plan form's fields.
async fn load(
    page: &Page,
    id: &str,
    asked: Option<NaiveDate>,
) -> Result<(Planning, Vec<Field>), super::HtmlError> {
    let id = id.to_string();
    page.db(move |c, st, actor| {
        let planning = publication::planning(c, st, actor, &id, asked)?;
        let fields = plan_fields(c, st, actor, &id)?;
        Ok((planning, fields))
    })
    .await
}

async fn show(
    page: Page,
    path: web::Path<String>,
    q: web::Query<Vec<(String, String)>>,
) -> PageResult {
    let id = path.into_inner();
    let query = FormData::from(q.into_inner());
    let mut errors = vec![];
    let asked: Option<NaiveDate> = match query.date("publication_on", "The publication date") {
        Ok(d) => d,
        Err(e) => {
            errors.push(e);
            None
        }
    };
    let (planning, fields) = load(&page, &id, asked).await?;
    // The plan form: the format of the current plan, today's date.
    let mut plan_form = FormData::default();
    plan_form.set_date("occurred_on", page.state.today());
    // Started from a meeting's decision: its id and the meeting's date.
    for k in [
        "decision_id",
        "occurred_on-day",
        "occurred_on-month",
        "occurred_on-year",
    ] {
        if !query.get(k).is_empty() {
            plan_form.set(k, query.get(k));
        }
    }
    plan_form.set(
        "format",
        planning.plan.as_ref().map_or("full", |p| p.format.as_str()),
    );
    let shown = Shown {
        planning: &planning,
        fields: &fields,
        query: &query,
        plan_form: &plan_form,
    };
    render(&page, StatusCode::OK, &shown, errors, &new_form_id())
}

/// Records the plan; its problems come back onto this page.
async fn record(posted: Posted, path: web::Path<String>) -> PageResult {
    let id = path.into_inner();
    let Posted { page, form } = &posted;
    posted
        .once(&format!("/cases/{id}"), async || {
            let kind = EventType::PublicationPlanned;
            let fields = event_forms::record_fields(kind);
            let (body, mut errors) = event_forms::body(kind, &fields, form);
            if errors.is_empty() {
                let (case_id, sent) = (id.clone(), body.clone());
                let done = page
                    .db(move |c, st, actor| {
                        events::record_event(c, st, actor, &case_id, &sent).map(|_| ())
                    })
                    .await;
                match done {
                    Ok(()) => {
                        return Ok(Outcome::Redirect(format!(
                            "/cases/{id}?recorded={}",
                            kind.as_str()
                        )))
                    }
                    Err(e) => match e.into_error() {
                        AppError::Invalid(found) => errors = found,
                        other => return Err(page.fail(other)),
                    },
                }
            } else if let Err(more) = EventInput::parse(&body, String::new) {
                add_uncovered(&mut errors, more);
            }
            let errors: Vec<FieldError> = errors
                .into_iter()
                .map(|e| {
                    let field = event_forms::form_field_in(&fields, form, &e.field);
                    FieldError::new(field, e.message)
                })
                .collect();
            let errors = humanise(errors, |f| event_forms::label_of(&fields, f));
            let asked = form
                .date("publication_on", "The publication date")
                .ok()
                .flatten();
            let (planning, fields) = load(page, &id, asked).await?;
            let mut query = FormData::default();
            if let Some(d) = asked {
                query.set_date("publication_on", d);
            }
            let shown = Shown {
                planning: &planning,
                fields: &fields,
                query: &query,
                plan_form: form,
            };
            let again = render(
                page,
                StatusCode::UNPROCESSABLE_ENTITY,
                &shown,
                errors,
                form.get("form_id"),
            )?;
            Ok(Outcome::Again(again))
        })
        .await
}

struct Shown<'a> {
    planning: &'a Planning,
    fields: &'a [Field],
    /// The date checked (the GET form).
    query: &'a FormData,
    /// The plan form's answers.
    plan_form: &'a FormData,
}

fn render(
    page: &Page,
    status: StatusCode,
    shown: &Shown<'_>,
    mut errors: Vec<FieldError>,
    form_id: &str,
) -> PageResult {
    let Shown {
        planning, fields, ..
    } = *shown;
    let mut query = shown.query.clone();
    if errors.is_empty() {
        if let Some(d) = planning.publication_on {
            query.set_date("publication_on", d);
        }
    }
    // A date too soon is one error, linked to the date, naming the earliest permissible one.
    if let (true, Some(on)) = (planning.too_soon, planning.publication_on) {
        let message = match planning.earliest {
            Some(e) => too_soon(on, e),
            None => format!(
                "{} is too soon: not every copy can reach its recipient 7 working days before",
                on.format("%-d %B %Y")
            ),
        };
        if !errors.iter().any(|e| e.field == "publication_on") {
            errors.push(FieldError::new("publication_on", message));
        }
    }
    let mut known = vec!["publication_on".to_string()];
    known.extend(event_forms::known_names(fields));
    let errors = for_page(humanise(errors, |_| None), &known);
    let mut plan_form = shown.plan_form.clone();
    event_forms::spread_reveals(fields, &mut plan_form);
    if let Some(d) = planning.publication_on {
        plan_form.set_date("publication_on", d);
    }
    let earliest_href = planning.earliest.map(|d| {
        use chrono::Datelike;
        format!(
            "/cases/{}/publication?publication_on-day={}&publication_on-month={}&publication_on-year={}",
            planning.case_id,
            d.day(),
            d.month(),
            d.year()
        )
    });
    // The plan form shows every field but the date, which is the one checked above.
    let plan_fields: Vec<&Field> = fields
        .iter()
        .filter(|f| f.name != "publication_on")
        .collect();
    let mut ctx = page.context("Plan publication", "cases");
    ctx.insert("planning", planning);
    ctx.insert("form", &query.values(&[]));
    ctx.insert("plan_form", &plan_form.values(&[]));
    ctx.insert("fields", &plan_fields);
    ctx.insert("errors", &errors);
    ctx.insert("earliest_href", &earliest_href);
    ctx.insert("form_id", form_id);
    page.render_status(status, "pages/cases/publication.html", &ctx)
}
