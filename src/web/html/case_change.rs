//! "Change" on the case's summary list (`GET/POST /cases/{id}/change/{field}`): one detail of
//! the case with the reason for changing it, through the same use case as
//! `PATCH /api/v1/cases/{id}`.

use actix_web::http::StatusCode;
use actix_web::web;
use serde::Serialize;
use serde_json::{json, Map, Value};

use super::form::{for_page, humanise, Outcome, Posted};
use super::{FormData, Page, PageResult};
use crate::app::cases::{change, view, CaseView};
use crate::domain::case::Harm;
use crate::domain::input::FieldError;
use crate::error::AppError;
use crate::web::session::new_form_id;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/cases/{id}/change/{field}", web::get().to(show))
        .route("/cases/{id}/change/{field}", web::post().to(save));
}

/// A detail that can be changed: its name, how it is asked, its label.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Detail {
    pub name: &'static str,
    /// `text`, `textarea`, `date`, `harm`, `yes_no`.
    pub kind: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
    /// Only for the roles that see the child's identity.
    pub identity: bool,
}

pub const DETAILS: &[Detail] = &[
    Detail {
        name: "child_pseudonym",
        kind: "text",
        label: "Pseudonym",
        hint: "For example, Child Q",
        identity: false,
    },
    Detail {
        name: "child_name",
        kind: "text",
        label: "Child’s name",
        hint: "Leave empty if it is not recorded",
        identity: true,
    },
    Detail {
        name: "child_dob",
        kind: "date",
        label: "Date of birth",
        hint: "For example, 27 3 2015",
        identity: true,
    },
    Detail {
        name: "aware_on",
        kind: "date",
        label: "Date the local authority became aware",
        hint: "The deadlines counted from it move",
        identity: false,
    },
    Detail {
        name: "incident_on",
        kind: "date",
        label: "Date of incident",
        hint: "For example, 27 3 2026",
        identity: false,
    },
    Detail {
        name: "harm",
        kind: "harm",
        label: "Harm",
        hint: "",
        identity: false,
    },
    Detail {
        name: "looked_after",
        kind: "yes_no",
        label: "Was the child looked after?",
        hint: "",
        identity: false,
    },
    Detail {
        name: "summary",
        kind: "textarea",
        label: "Summary",
        hint: "",
        identity: false,
    },
];

/// The detail named in the path.
pub fn detail(name: &str) -> Option<&'static Detail> {
    DETAILS.iter().find(|d| d.name == name)
}

/// The href of a detail's "Change" link.
pub fn href(case_id: &str, name: &str) -> String {
    format!("/cases/{case_id}/change/{name}")
}

fn value_of(view: &CaseView, d: &Detail) -> FormData {
    let mut form = FormData::default();
    let date = |form: &mut FormData, v: Option<chrono::NaiveDate>| {
        if let Some(v) = v {
            form.set_date(d.name, v);
        }
    };
    match d.name {
        "child_pseudonym" => form.set(d.name, view.child_pseudonym.clone()),
        "child_name" => form.set(d.name, view.child_name.clone().unwrap_or_default()),
        "child_dob" => date(&mut form, view.child_dob),
        "aware_on" => date(&mut form, Some(view.aware_on)),
        "incident_on" => date(&mut form, Some(view.incident_on)),
        "harm" => form.set(d.name, view.harm.clone()),
        "looked_after" => form.set(d.name, if view.looked_after { "true" } else { "false" }),
        _ => form.set(d.name, view.summary.clone()),
    }
    form
}

fn render(
    page: &Page,
    status: StatusCode,
    view: &CaseView,
    d: &Detail,
    form: &FormData,
    errors: &[FieldError],
    form_id: &str,
) -> PageResult {
    let heading = format!("Change: {}", d.label.trim_end_matches('?'));
    let mut ctx = page.context(&heading, "cases");
    ctx.insert("case", view);
    ctx.insert("heading", &heading);
    ctx.insert("detail", d);
    ctx.insert(
        "harm_items",
        &Harm::ALL
            .iter()
            .map(|h| json!({ "value": h.as_str(), "text": h.label() }))
            .collect::<Vec<_>>(),
    );
    ctx.insert(
        "yes_no",
        &[
            json!({ "value": "true", "text": "Yes" }),
            json!({ "value": "false", "text": "No" }),
        ],
    );
    ctx.insert("form", &form.values(&[]));
    ctx.insert("errors", errors);
    ctx.insert("form_id", form_id);
    ctx.insert("action", &href(&view.id, d.name));
    page.render_status(status, "pages/cases/change.html", &ctx)
}

/// The case, when this user may change `d` on it.
async fn case_for(
    page: &Page,
    id: String,
    d: &'static Detail,
) -> Result<CaseView, super::HtmlError> {
    let view = page
        .db(move |c, st, actor| view::visible(c, st, actor, &id))
        .await?;
    let role = page.actor().role;
    page.require(
        role.may_open_cases() && (!d.identity || view.identity_visible),
        "only the co-chairs and the programme manager change a case's details",
    )?;
    Ok(view)
}

async fn show(page: Page, path: web::Path<(String, String)>) -> PageResult {
    let (id, field) = path.into_inner();
    let d = detail(&field).ok_or_else(|| page.fail(AppError::NotFound))?;
    let view = case_for(&page, id, d).await?;
    let form = value_of(&view, d);
    render(&page, StatusCode::OK, &view, d, &form, &[], &new_form_id())
}

async fn save(posted: Posted, path: web::Path<(String, String)>) -> PageResult {
    let (id, field) = path.into_inner();
    let Posted { page, form } = &posted;
    let d = detail(&field).ok_or_else(|| page.fail(AppError::NotFound))?;
    posted
        .once(&format!("/cases/{id}"), async || {
            let view = case_for(page, id.clone(), d).await?;
            let mut errors = vec![];
            let value = match d.kind {
                "date" => match form.date(d.name, d.label) {
                    Ok(Some(v)) => json!(v.to_string()),
                    Ok(None) if d.name == "child_dob" => Value::Null,
                    Ok(None) => {
                        errors.push(FieldError::new(
                            d.name,
                            format!("Enter the {}", d.label.to_lowercase()),
                        ));
                        Value::Null
                    }
                    Err(e) => {
                        errors.push(e);
                        Value::Null
                    }
                },
                "yes_no" => json!(form.get(d.name)),
                _ => match form.get(d.name).trim() {
                    "" if d.name == "child_name" => Value::Null,
                    v => json!(v),
                },
            };
            let reason = form.get("reason").trim();
            if reason.is_empty() {
                errors.push(FieldError::new("reason", "Enter why it is being changed"));
            }
            if errors.is_empty() {
                let mut body = Map::new();
                body.insert("reason".into(), json!(reason));
                body.insert(d.name.into(), value);
                let case_id = id.clone();
                let done = page
                    .db(move |c, st, actor| {
                        change::change(c, st, actor, &case_id, &body).map(|_| ())
                    })
                    .await;
                match done {
                    Ok(()) => {
                        return Ok(Outcome::Redirect(format!("/cases/{id}?changed={}", d.name)))
                    }
                    Err(e) => match e.into_error() {
                        AppError::Invalid(found) => errors = found,
                        other => return Err(page.fail(other)),
                    },
                }
            }
            let errors = humanise(errors, |f| {
                (f == d.name)
                    .then(|| format!("The {}", d.label.trim_end_matches('?').to_lowercase()))
            });
            let errors = for_page(errors, &[d.name.to_string(), "reason".to_string()]);
            let again = render(
                page,
                StatusCode::UNPROCESSABLE_ENTITY,
                &view,
                d,
                form,
                &errors,
                form.get("form_id"),
            )?;
            Ok(Outcome::Again(again))
        })
        .await
}
