//! Governance administration (system administrators): agencies (`/admin/agencies`: add,
//! rename, put a user in one) and the core members and chairs of the Sub-Group and the Board
//! (`/admin/bodies`).

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use serde_json::{json, Value};

use super::form::{for_page, humanise};
use super::{see_other, FormData, HtmlError, Page, PageResult};
use crate::app::governance::bodies;
use crate::app::{agencies, users};
use crate::domain::governance::{may_sit, Body};
use crate::domain::input::FieldError;
use crate::error::AppError;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/agencies", web::get().to(agencies_page))
        .route("/admin/agencies", web::post().to(add_agency))
        .route("/admin/agencies/assign", web::post().to(assign))
        .route("/admin/agencies/{id}", web::post().to(rename))
        .route("/admin/bodies", web::get().to(bodies_page))
        .route("/admin/bodies/{body}", web::post().to(set_members));
}

fn admin_only(page: &Page) -> Result<(), HtmlError> {
    page.require(
        page.actor().role.may_manage_users(),
        "only system administrators manage agencies and members",
    )
}

async fn render_agencies(
    page: &Page,
    status: StatusCode,
    banner: Option<&str>,
    form: &FormData,
    errors: &[FieldError],
) -> PageResult {
    let (list, people) = page
        .db(|c, _, _| Ok((agencies::list(c)?, users::list(c, None, false)?)))
        .await?;
    let people: Vec<Value> = people
        .iter()
        .map(|u| json!({ "value": u.id, "text": format!("{} ({})", u.name, u.agency.clone().unwrap_or_else(|| "no agency".into())) }))
        .collect();
    let mut ctx = page.context("Agencies", "agencies");
    ctx.insert("agencies", &list);
    ctx.insert("people", &people);
    ctx.insert("banner", &banner);
    ctx.insert("form", &form.values(&[]));
    ctx.insert("errors", errors);
    page.render_status(status, "pages/admin/agencies.html", &ctx)
}

async fn agencies_page(page: Page, q: web::Query<HashMap<String, String>>) -> PageResult {
    admin_only(&page)?;
    let banner = [
        ("added", "Agency added"),
        ("renamed", "Agency renamed"),
        ("assigned", "The user’s agency has been changed"),
    ]
    .into_iter()
    .find(|(k, _)| q.contains_key(*k))
    .map(|(_, t)| t);
    render_agencies(&page, StatusCode::OK, banner, &FormData::default(), &[]).await
}

/// Runs an agency change; a refusal shows the page again with the errors on `field`.
async fn agency_change<F>(page: Page, form: FormData, field: String, done: &str, f: F) -> PageResult
where
    F: FnOnce(
            &mut crate::db::DbConnection,
            &crate::state::AppState,
            &crate::app::Actor,
        ) -> Result<(), AppError>
        + Send
        + 'static,
{
    match page.db(f).await {
        Ok(()) => Ok(see_other(&format!("/admin/agencies?{done}=1"))),
        Err(e) => match e.into_error() {
            AppError::Invalid(found) => {
                let errors: Vec<FieldError> = humanise(found, |_| None)
                    .into_iter()
                    .map(|e| FieldError::new(field.clone(), e.message))
                    .collect();
                let errors = for_page(errors, std::slice::from_ref(&field));
                render_agencies(
                    &page,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    None,
                    &form,
                    &errors,
                )
                .await
            }
            other => Err(page.fail(other)),
        },
    }
}

async fn add_agency(
    req: HttpRequest,
    page: Page,
    form: web::Form<Vec<(String, String)>>,
) -> PageResult {
    admin_only(&page)?;
    let form = FormData::from(form.into_inner());
    page.check_form(&req, &form)?;
    let name = form.get("name").to_string();
    agency_change(page, form, "name".into(), "added", move |c, st, actor| {
        agencies::add(c, actor, st.now(), &name).map(|_| ())
    })
    .await
}

async fn rename(
    req: HttpRequest,
    page: Page,
    path: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> PageResult {
    admin_only(&page)?;
    let form = FormData::from(form.into_inner());
    page.check_form(&req, &form)?;
    let id = path.into_inner();
    let field = format!("rename-{id}");
    let name = form.get(&field).to_string();
    agency_change(page, form, field, "renamed", move |c, st, actor| {
        agencies::rename(c, actor, st.now(), &id, &name).map(|_| ())
    })
    .await
}

async fn assign(
    req: HttpRequest,
    page: Page,
    form: web::Form<Vec<(String, String)>>,
) -> PageResult {
    admin_only(&page)?;
    let form = FormData::from(form.into_inner());
    page.check_form(&req, &form)?;
    let (user, agency) = (
        form.get("user_id").to_string(),
        form.get("agency").to_string(),
    );
    if user.is_empty() {
        let errors = vec![FieldError::new("user_id", "Select the user")];
        return render_agencies(
            &page,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            &form,
            &errors,
        )
        .await;
    }
    agency_change(
        page,
        form,
        "agency".into(),
        "assigned",
        move |c, st, actor| {
            agencies::set_user_agency(c, actor, st.now(), &user, &agency).map(|_| ())
        },
    )
    .await
}

async fn render_bodies(
    page: &Page,
    status: StatusCode,
    banner: Option<&str>,
    posted: Option<(Body, &FormData)>,
    errors: &[FieldError],
) -> PageResult {
    let (sub, board, people) = page
        .db(|c, _, _| {
            Ok((
                bodies::get(c, Body::Subgroup)?,
                bodies::get(c, Body::Board)?,
                users::list(c, None, false)?,
            ))
        })
        .await?;
    let eligible: Vec<Value> = people
        .iter()
        .filter(|u| may_sit(u.role))
        .map(|u| {
            json!({
                "value": u.id,
                "text": u.name,
                "hint": format!("{}, {}", u.agency.clone().unwrap_or_else(|| "no agency".into()), u.role.label()),
            })
        })
        .collect();
    let section = |b: Body, m: &bodies::Membership| {
        let mut values = serde_json::Map::new();
        match posted {
            Some((p, form)) if p == b => {
                values = form.values(&[
                    &format!("{}-members", b.as_str()),
                    &format!("{}-chairs", b.as_str()),
                ]);
            }
            _ => {
                values.insert(format!("{}-members", b.as_str()), json!(m.members));
                values.insert(format!("{}-chairs", b.as_str()), json!(m.chairs));
            }
        }
        json!({
            "body": b.as_str(), "label": b.label(), "values": values,
            "chair_hint": if b == Body::Subgroup { "The co-chairs (role: Sub-Group co-chair)" } else { "The Independent Scrutineer" },
            "people": m.people.iter().map(|p| json!({
                "name": p.person.name, "agency": p.person.agency.as_ref().map(|a| a.name.clone()), "chair": p.chair,
            })).collect::<Vec<_>>(),
        })
    };
    let mut ctx = page.context("Members of the Sub-Group and the Board", "bodies");
    ctx.insert(
        "sections",
        &[section(Body::Subgroup, &sub), section(Body::Board, &board)],
    );
    ctx.insert("eligible", &eligible);
    ctx.insert("banner", &banner);
    ctx.insert("errors", errors);
    page.render_status(status, "pages/admin/bodies.html", &ctx)
}

async fn bodies_page(page: Page, q: web::Query<HashMap<String, String>>) -> PageResult {
    admin_only(&page)?;
    let banner = q
        .get("saved")
        .and_then(|b| b.parse::<Body>().ok())
        .map(|b| match b {
            Body::Board => "The Executive Board’s members have been saved",
            _ => "The Sub-Group’s members have been saved",
        });
    render_bodies(&page, StatusCode::OK, banner, None, &[]).await
}

async fn set_members(
    req: HttpRequest,
    page: Page,
    path: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> PageResult {
    admin_only(&page)?;
    let form = FormData::from(form.into_inner());
    page.check_form(&req, &form)?;
    let body = bodies::standing_body(&path.into_inner()).map_err(|e| page.fail(e))?;
    let members_field = format!("{}-members", body.as_str());
    let chairs_field = format!("{}-chairs", body.as_str());
    let input = json!({ "members": form.all(&members_field), "chairs": form.all(&chairs_field) });
    let done = page
        .db(move |c, st, actor| {
            bodies::set(c, actor, st.now(), body, input.as_object().expect("object")).map(|_| ())
        })
        .await;
    match done {
        Ok(()) => Ok(see_other(&format!("/admin/bodies?saved={}", body.as_str()))),
        Err(e) => match e.into_error() {
            AppError::Invalid(found) => {
                let errors: Vec<FieldError> = humanise(found, |_| None)
                    .into_iter()
                    .map(|e| {
                        let field = if e.field == "chairs" {
                            chairs_field.clone()
                        } else {
                            members_field.clone()
                        };
                        FieldError::new(field, e.message)
                    })
                    .collect();
                let errors = for_page(errors, &[members_field.clone(), chairs_field.clone()]);
                render_bodies(
                    &page,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    None,
                    Some((body, &form)),
                    &errors,
                )
                .await
            }
            other => Err(page.fail(other)),
        },
    }
}
