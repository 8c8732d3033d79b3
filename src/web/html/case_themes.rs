//! "Change" on a case's learning themes (`GET/POST /cases/{id}/themes`): checkboxes for the
//! configured themes (`reports.themes`), a field for other themes (one a line) and an optional
//! reason, through the same use case as `PUT /api/v1/cases/{id}/themes`.

use actix_web::http::StatusCode;
use actix_web::web;
use serde_json::{json, Value};

use super::form::{for_page, Outcome, Posted};
use super::{FormData, Page, PageResult};
use crate::app::access::visible_case;
use crate::app::reports::themes::{self, ThemesInput};
use crate::db::models::CaseRow;
use crate::domain::input::FieldError;
use crate::domain::themes::key;
use crate::error::AppError;
use crate::web::session::new_form_id;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/cases/{id}/themes", web::get().to(show))
        .route("/cases/{id}/themes", web::post().to(save));
}

/// The href of the case page's "Change" link.
pub fn href(case_id: &str) -> String {
    format!("/cases/{case_id}/themes")
}

/// The case and its themes, when this user may change them (404 for a case they may not see,
/// 403 for a role that may not tag).
async fn case_for(page: &Page, id: String) -> Result<(CaseRow, Vec<String>), super::HtmlError> {
    let found = page
        .db(move |c, st, actor| {
            let (case, _) = visible_case(c, actor, &id)?;
            let list = themes::of_case(c, st, &case.id)?;
            Ok((case, list))
        })
        .await?;
    page.require(
        page.actor().role.may_tag_themes(),
        "only the co-chairs and the programme manager tag a case's learning themes",
    )?;
    Ok(found)
}

fn render(
    page: &Page,
    status: StatusCode,
    case: &CaseRow,
    form: &FormData,
    errors: &[FieldError],
    form_id: &str,
) -> PageResult {
    let mut ctx = page.context(&format!("Learning themes – {}", case.reference), "cases");
    ctx.insert(
        "case",
        &json!({ "id": case.id, "reference": case.reference, "child_pseudonym": case.child_pseudonym }),
    );
    let items: Vec<Value> = page
        .state
        .settings
        .reports
        .themes
        .iter()
        .map(|t| json!({ "value": t, "text": t }))
        .collect();
    ctx.insert("items", &items);
    ctx.insert("form", &form.values(&["themes"]));
    ctx.insert("errors", errors);
    ctx.insert("form_id", form_id);
    ctx.insert("action", &href(&case.id));
    page.render_status(status, "pages/cases/themes.html", &ctx)
}

async fn show(page: Page, path: web::Path<String>) -> PageResult {
    let (case, list) = case_for(&page, path.into_inner()).await?;
    let configured: Vec<String> = page
        .state
        .settings
        .reports
        .themes
        .iter()
        .map(|t| key(t))
        .collect();
    let mut form = FormData::default();
    let mut pairs: Vec<(String, String)> = vec![];
    let mut other: Vec<&str> = vec![];
    for t in &list {
        if configured.contains(&key(t)) {
            pairs.push(("themes".into(), t.clone()));
        } else {
            other.push(t);
        }
    }
    if !pairs.is_empty() {
        form = FormData::from(pairs);
    }
    form.set("other_themes", other.join("\n"));
    render(&page, StatusCode::OK, &case, &form, &[], &new_form_id())
}

async fn save(posted: Posted, path: web::Path<String>) -> PageResult {
    let id = path.into_inner();
    let Posted { page, form } = &posted;
    posted
        .once(&format!("/cases/{id}"), async || {
            let (case, _) = case_for(page, id.clone()).await?;
            let mut list: Vec<String> = form.all("themes").into_iter().map(String::from).collect();
            list.extend(
                form.get("other_themes")
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(String::from),
            );
            let reason = form.get("reason").trim();
            let input = ThemesInput {
                themes: list,
                reason: (!reason.is_empty()).then(|| reason.to_string()),
            };
            let case_id = id.clone();
            let done = page
                .db(move |c, st, actor| themes::set(c, st, actor, &case_id, &input).map(|_| ()))
                .await;
            let errors = match done {
                Ok(()) => return Ok(Outcome::Redirect(format!("/cases/{id}?themes=changed"))),
                Err(e) => match e.into_error() {
                    // A configured theme is always valid: the problem is in the other themes.
                    AppError::Invalid(found) => found
                        .into_iter()
                        .map(|f| match f.field.as_str() {
                            "themes" => FieldError::new(
                                "other_themes",
                                format!("Other themes: {}", f.message),
                            ),
                            _ => FieldError::new(f.field, super::sentence(&f.message)),
                        })
                        .collect::<Vec<_>>(),
                    other => return Err(page.fail(other)),
                },
            };
            let errors = for_page(errors, &["other_themes".to_string(), "reason".to_string()]);
            let again = render(
                page,
                StatusCode::UNPROCESSABLE_ENTITY,
                &case,
                form,
                &errors,
                form.get("form_id"),
            )?;
            Ok(Outcome::Again(again))
        })
        .await
}
