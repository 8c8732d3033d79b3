//! Recording an event through its form (`GET/POST /cases/{id}/events/{type}`). The form is the
//! JSON API's body in HTML: the same use case checks the role, the stage, the fields and the
//! dates, and its field errors come back onto the form. A one-time form id makes a double
//! submit record nothing twice.

use actix_web::http::StatusCode;
use actix_web::web;

use super::event_forms::{self, Field, Item, Source};
use super::form::{add_uncovered, for_page, humanise, Outcome, Posted};
use super::{FormData, Page, PageResult};
use crate::app::cases::{view, CaseView};
use crate::app::{documents, events, users};
use crate::db::DbConnection;
use crate::domain::deadlines::DeadlineStatus;
use crate::domain::events::{expand_recipients, EventInput, EventType};
use crate::domain::input::FieldError;
use crate::domain::roles::Role;
use crate::domain::workflow;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::session::new_form_id;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/cases/{id}/events/{type}", web::get().to(show))
        .route("/cases/{id}/events/{type}", web::post().to(record));
}

/// The event type named in the path, if it has a form here. A publication plan is recorded on
/// the publication planning page (`/cases/{id}/publication`), its one route.
fn kind_of(page: &Page, code: &str) -> Result<EventType, super::HtmlError> {
    code.parse::<EventType>()
        .ok()
        .filter(|k| event_forms::has_form(*k) && *k != EventType::PublicationPlanned)
        .ok_or_else(|| page.fail(AppError::NotFound))
}

/// The fields of the publication plan's form, its decisions to cite filled in.
pub(super) fn plan_fields(
    c: &mut DbConnection,
    st: &AppState,
    actor: &crate::app::Actor,
    case_id: &str,
) -> Result<Vec<Field>, AppError> {
    let kind = EventType::PublicationPlanned;
    let mut fields = event_forms::record_fields(kind);
    for f in &mut fields {
        if f.source == Some(Source::Decisions) {
            f.items = decision_items(c, st, actor, case_id, kind)?;
        }
    }
    Ok(fields)
}

/// The case for the form, when this user may record `kind` on it now: 403 when the role never
/// may, 404 when the case is not visible, and a message when the stage does not allow it.
fn case_for_form(
    c: &mut DbConnection,
    st: &AppState,
    actor: &crate::app::Actor,
    id: &str,
    kind: EventType,
    audited: bool,
) -> Result<(CaseView, Vec<Field>), AppError> {
    let view = if audited {
        let (view, read) = view::read(c, st, actor, id)?;
        st.read_audits.submit_blocking(read)?;
        view
    } else {
        view::visible(c, st, actor, id)?
    };
    if !workflow::may_record(actor.role, kind) {
        return Err(AppError::Forbidden(format!(
            "your role ({}) may not record \"{}\"",
            actor.role.label(),
            kind.label()
        )));
    }
    if !view.may_record.contains(&kind) {
        return Err(AppError::Conflict(format!(
            "\"{}\" cannot be recorded on {} now: the case is at the {} stage",
            kind.label(),
            view.reference,
            view.stage_label.to_lowercase()
        )));
    }
    let fields = fill_fields(c, st, actor, &view, kind, event_forms::record_fields(kind))?;
    Ok((view, fields))
}

/// The form fields of one event of `kind` (as a correction shows them) with their choices
/// filled in for the case.
pub(super) fn form_fields(
    c: &mut DbConnection,
    st: &AppState,
    actor: &crate::app::Actor,
    view: &CaseView,
    kind: EventType,
) -> Result<Vec<Field>, AppError> {
    fill_fields(c, st, actor, view, kind, event_forms::fields(kind))
}

/// `fields` with their choices filled in for the case.
fn fill_fields(
    c: &mut DbConnection,
    st: &AppState,
    actor: &crate::app::Actor,
    view: &CaseView,
    kind: EventType,
    mut fields: Vec<Field>,
) -> Result<Vec<Field>, AppError> {
    for f in &mut fields {
        f.items = match f.source {
            Some(Source::LeadReviewers) => users::list(c, Some(Role::LeadReviewer), false)?
                .into_iter()
                .map(|u| {
                    let text = match &u.agency {
                        Some(a) => format!("{} ({a})", u.name),
                        None => u.name.clone(),
                    };
                    Item::new(u.id, text)
                })
                .collect(),
            Some(Source::OpenActions) => view
                .actions
                .iter()
                .filter(|a| a.done_on.is_none())
                .map(|a| {
                    Item::new(
                        a.id.clone(),
                        format!(
                            "{} ({}, due {})",
                            a.description,
                            a.owner_agency,
                            a.due_on.format("%-d %B %Y")
                        ),
                    )
                })
                .collect(),
            Some(Source::PendingRules) => {
                let mut items: Vec<Item> = vec![];
                for d in view.deadlines.iter().filter(|d| {
                    d.met_on.is_none()
                        && matches!(d.status, DeadlineStatus::Pending | DeadlineStatus::Missed)
                }) {
                    if !items.iter().any(|i| i.value == d.rule) {
                        items.push(Item::new(
                            d.rule.clone(),
                            format!("{} (due {})", d.label, d.due_on.format("%-d %B %Y")),
                        ));
                    }
                }
                items
            }
            Some(Source::ReportVersions) => documents::list(c, actor, &view.id)?
                .into_iter()
                .filter(|d| d.kind.is_publishable_report())
                .flat_map(|d| {
                    d.versions
                        .into_iter()
                        .map(|v| {
                            let sent = if v.locked { ", sent" } else { "" };
                            Item::new(
                                format!("{}:{}", d.id, v.number),
                                format!(
                                    "{}: {}, version {} ({}, uploaded {}{sent})",
                                    d.kind_label,
                                    d.title,
                                    v.number,
                                    v.file_name,
                                    v.uploaded_at.format("%-d %B %Y")
                                ),
                            )
                        })
                        .collect::<Vec<_>>()
                })
                .collect(),
            Some(Source::Decisions) => decision_items(c, st, actor, &view.id, kind)?,
            None => std::mem::take(&mut f.items),
        };
    }
    Ok(fields)
}

/// The carried decisions about the case that an event of `kind` may cite, newest first.
fn decision_items(
    c: &mut DbConnection,
    st: &AppState,
    actor: &crate::app::Actor,
    case_id: &str,
    kind: EventType,
) -> Result<Vec<Item>, AppError> {
    let Some((wanted, _)) = crate::domain::governance::decision_for_event(kind) else {
        return Ok(vec![]);
    };
    let mut items = vec![];
    for (m, decisions) in crate::app::governance::meetings::for_case(c, st, actor, case_id)?
        .into_iter()
        .rev()
    {
        for d in decisions.iter().filter(|d| {
            d.kind == wanted && d.outcome == crate::domain::governance::Outcome::Carried
        }) {
            items.push(Item::new(
                d.id.clone(),
                format!(
                    "Carried by the {} on {} ({})",
                    m.body_label,
                    m.date.format("%-d %B %Y"),
                    d.method.label().to_lowercase()
                ),
            ));
        }
    }
    Ok(items)
}

/// The form of `kind` on a case, with its choices filled in.
struct EventForm {
    view: CaseView,
    kind: EventType,
    fields: Vec<Field>,
}

fn render_form(
    page: &Page,
    status: StatusCode,
    shown: &EventForm,
    form: &FormData,
    errors: &[FieldError],
    form_id: &str,
) -> PageResult {
    let EventForm { view, kind, fields } = shown;
    let kind = *kind;
    let mut form = form.clone();
    event_forms::spread_reveals(fields, &mut form);
    let mut ctx = page.context(kind.label(), "cases");
    ctx.insert("case", view);
    ctx.insert("kind", kind.as_str());
    ctx.insert("kind_label", kind.label());
    ctx.insert("fields", fields);
    ctx.insert("form", &form.values(&["criteria", "recipients"]));
    ctx.insert("errors", errors);
    ctx.insert("form_id", form_id);
    page.render_status(status, "pages/events/form.html", &ctx)
}

async fn show(
    page: Page,
    path: web::Path<(String, String)>,
    q: web::Query<Vec<(String, String)>>,
) -> PageResult {
    let (id, code) = path.into_inner();
    if code == EventType::PublicationPlanned.as_str() {
        // Planning publication has one route.
        return Ok(super::see_other(&format!("/cases/{id}/publication")));
    }
    let kind = kind_of(&page, &code)?;
    let found = page
        .db(move |c, st, actor| case_for_form(c, st, actor, &id, kind, true))
        .await;
    let (view, fields) = match found {
        Err(e) if matches!(e.error(), AppError::Conflict(_)) => {
            return cannot_record_now(&page, &e.into_error().to_string())
        }
        other => other?,
    };
    // A form may be started with values.
    let mut form = FormData::from(q.into_inner());
    if form.get("occurred_on-day").is_empty() {
        form.set_date("occurred_on", page.state.today());
    }
    let shown = EventForm { view, kind, fields };
    render_form(&page, StatusCode::OK, &shown, &form, &[], &new_form_id())
}

async fn record(posted: Posted, path: web::Path<(String, String)>) -> PageResult {
    let (id, code) = path.into_inner();
    let Posted { page, form } = &posted;
    let kind = kind_of(page, &code)?;
    posted
        .once(&format!("/cases/{id}"), async || {
            let fields = event_forms::record_fields(kind);
            let (body, mut errors) = event_forms::body(kind, &fields, form);
            if errors.is_empty() && form.get("edit") == "yes" {
                // Back from "Check your answers" to the form, with the answers.
                let id = id.clone();
                let (view, fields) = page
                    .db(move |c, st, actor| case_for_form(c, st, actor, &id, kind, false))
                    .await?;
                let shown = EventForm { view, kind, fields };
                let again =
                    render_form(page, StatusCode::OK, &shown, form, &[], form.get("form_id"))?;
                return Ok(Outcome::Again(again));
            }
            if errors.is_empty() {
                // An irreversible event is first tried without being recorded, so a refusal
                // shows on the form, before "Check your answers".
                let check_first = needs_check(kind) && form.get("confirm") != "yes";
                let (case_id, sent) = (id.clone(), body.clone());
                let done = page
                    .db(move |c, st, actor| {
                        if check_first {
                            events::check_would_record(c, st, actor, &case_id, &sent)
                        } else {
                            events::record_event(c, st, actor, &case_id, &sent).map(|_| ())
                        }
                    })
                    .await;
                match done {
                    Ok(()) if check_first => {
                        let id = id.clone();
                        let (view, fields) = page
                            .db(move |c, st, actor| {
                                case_for_form(c, st, actor, &id, kind, false)
                            })
                            .await?;
                        let check = Check {
                            heading: format!(
                                "Check your answers before recording: {}",
                                kind.label()
                            ),
                            rows: answers(&fields, form),
                            action: format!("/cases/{}/events/{}", view.id, kind.as_str()),
                            button: "Confirm and record".into(),
                            warning: "Once recorded this cannot be undone: it can only be voided, with a reason, and stays in the case’s record.".into(),
                        };
                        return Ok(Outcome::Again(render_check(page, &view, &check, form)?));
                    }
                    Ok(()) => {
                        let to = format!("/cases/{id}?recorded={}", kind.as_str());
                        return Ok(Outcome::Redirect(to));
                    }
                    Err(e) => match e.into_error() {
                        AppError::Invalid(found) => {
                            errors = found
                                .into_iter()
                                .map(|e| {
                                    let field = event_forms::form_field_in(&fields, form, &e.field);
                                    FieldError::new(field, e.message)
                                })
                                .collect();
                        }
                        other => return Err(page.fail(other)),
                    },
                }
            } else {
                // Show every problem at once: what the service would say about the other
                // fields.
                let more = service_errors(&body)
                    .into_iter()
                    .map(|e| {
                        let field = event_forms::form_field_in(&fields, form, &e.field);
                        FieldError::new(field, e.message)
                    })
                    .collect();
                add_uncovered(&mut errors, more);
            }
            let errors = humanise(errors, |f| event_forms::label_of(&fields, f));
            let known = event_forms::known_names(&fields);
            let errors = for_page(errors, &known);
            let id = id.clone();
            let (view, fields) = page
                .db(move |c, st, actor| case_for_form(c, st, actor, &id, kind, false))
                .await?;
            let shown = EventForm { view, kind, fields };
            let again = render_form(
                page,
                StatusCode::UNPROCESSABLE_ENTITY,
                &shown,
                form,
                &errors,
                form.get("form_id"),
            )?;
            Ok(Outcome::Again(again))
        })
        .await
}

/// What the service would say about a body's fields (copies to several recipients: of the
/// first, and of the list).
fn service_errors(body: &serde_json::Map<String, serde_json::Value>) -> Vec<FieldError> {
    match expand_recipients(body) {
        Err(errors) => errors,
        Ok(bodies) => bodies
            .first()
            .and_then(|b| EventInput::parse(b, String::new).err())
            .unwrap_or_default()
            .into_iter()
            .map(|mut e| {
                if e.field == "recipient" && body.contains_key("recipients") {
                    e.field = "recipients".into();
                }
                e
            })
            .collect(),
    }
}

/// The events that cannot be undone: "Check your answers" comes first.
fn needs_check(kind: EventType) -> bool {
    matches!(
        kind,
        EventType::Published | EventType::Ratified | EventType::Closed | EventType::Withdrawn
    )
}

/// A "Check your answers" page.
pub(super) struct Check {
    pub heading: String,
    pub rows: Vec<serde_json::Value>,
    pub action: String,
    pub button: String,
    pub warning: String,
}

/// Renders "Check your answers": the answers as a summary list, and again as hidden fields so
/// that confirming sends them (the form's one-time id too, released by showing this page).
pub(super) fn render_check(
    page: &Page,
    view: &CaseView,
    check: &Check,
    form: &FormData,
) -> PageResult {
    let hidden: Vec<serde_json::Value> = form
        .pairs()
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "csrf_token" | "form_id" | "confirm" | "edit"))
        .map(|(k, v)| serde_json::json!({ "name": k, "value": v }))
        .collect();
    let mut ctx = page.context(&check.heading, "cases");
    ctx.insert("case", view);
    ctx.insert("heading", &check.heading);
    ctx.insert("rows", &check.rows);
    ctx.insert("hidden", &hidden);
    ctx.insert("action", &check.action);
    ctx.insert("button", &check.button);
    ctx.insert("warning", &check.warning);
    ctx.insert("form_id", form.get("form_id"));
    page.render("pages/events/check.html", &ctx)
}

/// The answers of an event's form in words: each field's label and the value given.
fn answers(fields: &[Field], form: &FormData) -> Vec<serde_json::Value> {
    fields
        .iter()
        .map(|f| {
            let value = match f.kind {
                "date" => form
                    .date(f.name, &f.label)
                    .ok()
                    .flatten()
                    .map(|d| d.format("%-d %B %Y").to_string()),
                "checkboxes" => {
                    let chosen: Vec<String> = form
                        .all(f.name)
                        .into_iter()
                        .map(|v| item_text(f, v))
                        .collect();
                    (!chosen.is_empty()).then(|| chosen.join("; "))
                }
                _ => {
                    let v = form.get(f.name).trim();
                    (!v.is_empty()).then(|| item_text(f, v))
                }
            };
            let key = f.label.trim_end_matches(" (optional)");
            serde_json::json!({ "key": key, "value": value.unwrap_or_else(|| "Not given".into()) })
        })
        .collect()
}

fn item_text(f: &Field, value: &str) -> String {
    f.items
        .iter()
        .find(|i| i.value == value)
        .map_or(value.to_string(), |i| i.text.clone())
}

/// A stage that does not allow the event: not a failure of the service, so said plainly (409).
fn cannot_record_now(page: &Page, reason: &str) -> PageResult {
    let mut ctx = page.context("This cannot be recorded now", "cases");
    ctx.insert("heading", "This cannot be recorded now");
    ctx.insert("message", &super::sentence(reason));
    page.render_status(StatusCode::CONFLICT, "errors/generic.html", &ctx)
}
