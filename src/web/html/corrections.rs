//! Corrections through the pages: "Correct" and "Void" on a timeline entry
//! (`/cases/{id}/events/{event_id}/correct|void`) and "Change" on the case's summary list
//! (`/cases/{id}/change/{field}`). Each asks for the reason and goes through the same use case
//! as the API; a void is checked on a "Check your answers" page first.

use actix_web::http::StatusCode;
use actix_web::web;
use serde_json::{json, Map, Value};

use super::event_forms::{self, Field};
use super::events::{form_fields, render_check, Check};
use super::form::{for_page, humanise, Outcome, Posted};
use super::{FormData, Page, PageResult};
use crate::app::cases::view::{self, CaseView, EventView};
use crate::app::events::corrections;
use crate::app::Actor;
use crate::db::DbConnection;
use crate::domain::events::EventType;
use crate::domain::input::FieldError;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::session::new_form_id;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/cases/{id}/events/{event_id}/correct",
        web::get().to(correct_form),
    )
    .route(
        "/cases/{id}/events/{event_id}/correct",
        web::post().to(correct),
    )
    .route(
        "/cases/{id}/events/{event_id}/void",
        web::get().to(void_form),
    )
    .route("/cases/{id}/events/{event_id}/void", web::post().to(void));
}

/// Who first recorded an event (a lead reviewer may change only their own).
pub fn first_recorded_by(e: &EventView) -> &str {
    e.earlier_versions
        .first()
        .map_or(e.recorded_by.id.as_str(), |v| v.recorded_by.id.as_str())
}

/// May `actor` correct or void this timeline entry?
pub fn may_change(actor: &Actor, e: &EventView) -> bool {
    e.voided.is_none()
        && !matches!(e.kind, EventType::Aware | EventType::ReportVersionUploaded)
        && event_forms::has_form(e.kind)
        && corrections::may_correct_event(actor.role, &actor.user_id, first_recorded_by(e))
}

/// The case and the entry, when this user may change it (else 403; 404 when not visible or
/// no such current entry).
fn entry_for(
    c: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    id: &str,
    event_id: &str,
) -> Result<(CaseView, EventView), AppError> {
    let view = view::visible(c, st, actor, id)?;
    let e = view
        .events
        .iter()
        .find(|e| e.id == event_id && e.voided.is_none())
        .cloned()
        .ok_or(AppError::NotFound)?;
    if !may_change(actor, &e) {
        return Err(AppError::Forbidden(
            "you may not correct or void this event: co-chairs and the programme manager may, and a lead reviewer only the events they recorded".into(),
        ));
    }
    Ok((view, e))
}

/// The form's values from an event as recorded.
fn values_of(e: &EventView, fields: &[Field]) -> FormData {
    let mut pairs: Vec<(String, String)> = vec![];
    for f in fields {
        let v = e.fields.get(f.name);
        match f.kind {
            "date" => {
                let d = if f.name == "occurred_on" {
                    Some(e.occurred_on)
                } else {
                    v.and_then(Value::as_str).and_then(|s| s.parse().ok())
                };
                if let Some(d) = d {
                    use chrono::Datelike;
                    pairs.push((format!("{}-day", f.name), d.day().to_string()));
                    pairs.push((format!("{}-month", f.name), d.month().to_string()));
                    pairs.push((format!("{}-year", f.name), d.year().to_string()));
                }
            }
            "checkboxes" => {
                for item in v.and_then(Value::as_array).into_iter().flatten() {
                    if let Some(s) = item.as_str() {
                        pairs.push((f.name.into(), s.into()));
                    }
                }
            }
            "version" => {
                if let (Some(d), Some(n)) = (
                    e.fields.get("document_id").and_then(Value::as_str),
                    e.fields.get("version").and_then(Value::as_i64),
                ) {
                    pairs.push((f.name.into(), format!("{d}:{n}")));
                }
            }
            _ => match v {
                Some(Value::String(s)) => pairs.push((f.name.into(), s.clone())),
                Some(Value::Null) | None => {}
                Some(other) => pairs.push((f.name.into(), other.to_string())),
            },
        }
    }
    FormData::from(pairs)
}

/// The correction form of one entry.
struct Correcting<'a> {
    view: &'a CaseView,
    e: &'a EventView,
    fields: &'a [Field],
}

fn render_correct(
    page: &Page,
    status: StatusCode,
    shown: &Correcting<'_>,
    form: &FormData,
    errors: &[FieldError],
    form_id: &str,
) -> PageResult {
    let Correcting { view, e, fields } = *shown;
    let mut form = form.clone();
    event_forms::spread_reveals(fields, &mut form);
    let mut ctx = page.context(&format!("Correct: {}", e.label), "cases");
    ctx.insert("case", view);
    ctx.insert("kind", e.kind.as_str());
    ctx.insert("kind_label", &format!("Correct: {}", e.label));
    ctx.insert("fields", fields);
    ctx.insert("form", &form.values(&["criteria"]));
    ctx.insert("errors", errors);
    ctx.insert("form_id", form_id);
    ctx.insert(
        "action",
        &format!("/cases/{}/events/{}/correct", view.id, e.id),
    );
    ctx.insert("correcting", &true);
    page.render_status(status, "pages/events/form.html", &ctx)
}

async fn correct_form(page: Page, path: web::Path<(String, String)>) -> PageResult {
    let (id, event_id) = path.into_inner();
    let (view, e, fields) = page
        .db(move |c, st, actor| {
            let (view, e) = entry_for(c, st, actor, &id, &event_id)?;
            let fields = form_fields(c, st, actor, &view, e.kind)?;
            Ok((view, e, fields))
        })
        .await?;
    let form = values_of(&e, &fields);
    render_correct(
        &page,
        StatusCode::OK,
        &Correcting {
            view: &view,
            e: &e,
            fields: &fields,
        },
        &form,
        &[],
        &new_form_id(),
    )
}

/// The API's body of a correction from the form: the reason, the date, and every field of the
/// form (an emptied optional one as `null`, so that it is cleared).
fn correction_body(
    kind: EventType,
    fields: &[Field],
    form: &FormData,
) -> (Map<String, Value>, Vec<FieldError>) {
    let (body, mut errors) = event_forms::body(kind, fields, form);
    let reason = form.get("change_reason").trim();
    if reason.is_empty() {
        errors.push(FieldError::new(
            "change_reason",
            "Enter why the event is being corrected",
        ));
    }
    let mut own = Map::new();
    for f in fields.iter().filter(|f| f.name != "occurred_on") {
        if f.kind == "version" {
            for k in ["document_id", "version"] {
                own.insert(k.into(), body.get(k).cloned().unwrap_or(Value::Null));
            }
        } else {
            own.insert(
                f.name.into(),
                body.get(f.name).cloned().unwrap_or(Value::Null),
            );
        }
    }
    let mut out = Map::new();
    out.insert("reason".into(), json!(reason));
    if let Some(on) = body.get("occurred_on") {
        out.insert("occurred_on".into(), on.clone());
    }
    out.insert("fields".into(), Value::Object(own));
    (out, errors)
}

async fn correct(posted: Posted, path: web::Path<(String, String)>) -> PageResult {
    let (id, event_id) = path.into_inner();
    let Posted { page, form } = &posted;
    posted
        .once(&format!("/cases/{id}"), async || {
            let (case_id, eid) = (id.clone(), event_id.clone());
            let (view, e, fields) = page
                .db(move |c, st, actor| {
                    let (view, e) = entry_for(c, st, actor, &case_id, &eid)?;
                    let fields = form_fields(c, st, actor, &view, e.kind)?;
                    Ok((view, e, fields))
                })
                .await?;
            let (body, mut errors) = correction_body(e.kind, &fields, form);
            if errors.is_empty() {
                let (case_id, eid) = (id.clone(), event_id.clone());
                let done = page
                    .db(move |c, st, actor| {
                        corrections::correct_event(c, st, actor, &case_id, &eid, &body).map(|_| ())
                    })
                    .await;
                match done {
                    Ok(()) => {
                        return Ok(Outcome::Redirect(format!(
                            "/cases/{id}?corrected={}#timeline",
                            e.kind.as_str()
                        )))
                    }
                    Err(err) => match err.into_error() {
                        AppError::Invalid(found) => {
                            errors = found
                                .into_iter()
                                .map(|f| {
                                    let name = f.field.trim_start_matches("fields.");
                                    FieldError::new(
                                        event_forms::form_field_in(&fields, form, name),
                                        f.message,
                                    )
                                })
                                .collect();
                        }
                        other => return Err(page.fail(other)),
                    },
                }
            }
            let errors = humanise(errors, |f| event_forms::label_of(&fields, f));
            let mut known = event_forms::known_names(&fields);
            known.push("change_reason".into());
            let errors = for_page(errors, &known);
            let again = render_correct(
                page,
                StatusCode::UNPROCESSABLE_ENTITY,
                &Correcting {
                    view: &view,
                    e: &e,
                    fields: &fields,
                },
                form,
                &errors,
                form.get("form_id"),
            )?;
            Ok(Outcome::Again(again))
        })
        .await
}

fn render_void(
    page: &Page,
    status: StatusCode,
    view: &CaseView,
    e: &EventView,
    form: &FormData,
    errors: &[FieldError],
    form_id: &str,
) -> PageResult {
    let heading = format!("Void: {}", e.label);
    let mut ctx = page.context(&heading, "cases");
    ctx.insert("case", view);
    ctx.insert("heading", &heading);
    ctx.insert("event", e);
    ctx.insert("form", &form.values(&[]));
    ctx.insert("errors", errors);
    ctx.insert("form_id", form_id);
    ctx.insert(
        "action",
        &format!("/cases/{}/events/{}/void", view.id, e.id),
    );
    page.render_status(status, "pages/events/void.html", &ctx)
}

async fn void_form(page: Page, path: web::Path<(String, String)>) -> PageResult {
    let (id, event_id) = path.into_inner();
    let (view, e) = page
        .db(move |c, st, actor| entry_for(c, st, actor, &id, &event_id))
        .await?;
    render_void(
        &page,
        StatusCode::OK,
        &view,
        &e,
        &FormData::default(),
        &[],
        &new_form_id(),
    )
}

/// The reason first, then "Check your answers", then the void.
async fn void(posted: Posted, path: web::Path<(String, String)>) -> PageResult {
    let (id, event_id) = path.into_inner();
    let Posted { page, form } = &posted;
    posted
        .once(&format!("/cases/{id}"), async || {
            let (case_id, eid) = (id.clone(), event_id.clone());
            let (view, e) = page
                .db(move |c, st, actor| entry_for(c, st, actor, &case_id, &eid))
                .await?;
            let reason = form.get("reason").trim().to_string();
            let mut errors = vec![];
            if reason.is_empty() {
                errors.push(FieldError::new(
                    "reason",
                    "Enter why the event is being voided",
                ));
            } else if form.get("edit") == "yes" {
                let again = render_void(page, StatusCode::OK, &view, &e, form, &[], form.get("form_id"))?;
                return Ok(Outcome::Again(again));
            } else if form.get("confirm") != "yes"
                && would_void(page, &id, &event_id, &reason, &mut errors).await?
            {
                let mut rows = vec![
                    json!({ "key": "Event", "value": e.label }),
                    json!({ "key": "Date", "value": e.occurred_on.format("%-d %B %Y").to_string() }),
                    json!({ "key": "Recorded by", "value": e.recorded_by.name }),
                ];
                rows.push(json!({ "key": "Why it is voided", "value": reason }));
                let check = Check {
                    heading: format!("Check your answers before voiding: {}", e.label),
                    rows,
                    action: format!("/cases/{}/events/{}/void", view.id, e.id),
                    button: "Void this event".into(),
                    warning: "A voided event no longer counts: the stage and the deadlines are worked out again without it. It stays in the case’s record, struck through, with your reason.".into(),
                };
                return Ok(Outcome::Again(render_check(page, &view, &check, form)?));
            } else if form.get("confirm") == "yes" {
                let (case_id, eid) = (id.clone(), event_id.clone());
                let body: Map<String, Value> =
                    [("reason".to_string(), json!(reason))].into_iter().collect();
                let done = page
                    .db(move |c, st, actor| {
                        corrections::void_event(c, st, actor, &case_id, &eid, &body).map(|_| ())
                    })
                    .await;
                match done {
                    Ok(()) => {
                        return Ok(Outcome::Redirect(format!(
                            "/cases/{id}?voided={}#timeline",
                            e.kind.as_str()
                        )))
                    }
                    Err(err) => match err.into_error() {
                        AppError::Invalid(found) => {
                            errors = found
                                .into_iter()
                                .map(|f| FieldError::new("reason", f.message))
                                .collect();
                        }
                        other => return Err(page.fail(other)),
                    },
                }
            }
            let errors = for_page(errors, &["reason".to_string()]);
            let again = render_void(
                page,
                StatusCode::UNPROCESSABLE_ENTITY,
                &view,
                &e,
                form,
                &errors,
                form.get("form_id"),
            )?;
            Ok(Outcome::Again(again))
        })
        .await
}

/// The void tried without being made, before "Check your answers": `false` with the reasons in
/// `errors` when it would be refused.
async fn would_void(
    page: &Page,
    id: &str,
    event_id: &str,
    reason: &str,
    errors: &mut Vec<FieldError>,
) -> Result<bool, super::HtmlError> {
    let (case_id, eid) = (id.to_string(), event_id.to_string());
    let body: Map<String, Value> = [("reason".to_string(), json!(reason))]
        .into_iter()
        .collect();
    let checked = page
        .db(move |c, st, actor| corrections::check_would_void(c, st, actor, &case_id, &eid, &body))
        .await;
    match checked {
        Ok(()) => Ok(true),
        Err(err) => match err.into_error() {
            AppError::Invalid(found) => {
                errors.extend(
                    found
                        .into_iter()
                        .map(|f| FieldError::new("reason", f.message)),
                );
                Ok(false)
            }
            other => Err(page.fail(other)),
        },
    }
}
