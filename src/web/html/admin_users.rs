//! Users (`/admin/users`, system administrators only): the list, inviting a user by email (they
//! choose their own password, or sign in with single sign-on: no administrator sees it),
//! sending an invitation again, changing a role, deactivating (which signs the user out
//! everywhere) and reactivating, and resetting a user's two-step verification.
//! Lead reviewers are appointed to cases on the case page ("Lead reviewer appointed").

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::web;
use serde_json::json;

use super::form::{for_page, humanise, Outcome, Posted};
use super::{see_other, FormData, HtmlError, Page, PageResult};
use crate::app::accounts::{self, Invite};
use crate::app::mfa;
use crate::app::users::{self, UserView};
use crate::domain::input::FieldError;
use crate::domain::roles::Role;
use crate::error::AppError;
use crate::web::session::new_form_id;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/users", web::get().to(list))
        .route("/admin/users/new", web::get().to(new_form))
        .route("/admin/users/new", web::post().to(add))
        .route("/admin/users/{id}", web::post().to(update))
        .route(
            "/admin/users/{id}/deactivate",
            web::get().to(confirm_deactivate),
        );
}

/// "Their 2 cases still list them as lead reviewer", or `None` for no case.
fn cases_still_listing(n: i64) -> Option<String> {
    match n {
        0 => None,
        1 => Some("their 1 case still lists them as lead reviewer".into()),
        n => Some(format!("their {n} cases still list them as lead reviewer")),
    }
}

/// The user and how many cases list them as lead reviewer.
async fn with_cases(page: &Page, id: String) -> Result<(UserView, i64), HtmlError> {
    page.db(move |c, _, _| {
        let user = users::get(c, &id)?.ok_or(AppError::NotFound)?;
        let cases = users::cases_as_lead_reviewer(c, &id)?;
        Ok((user, cases))
    })
    .await
}

/// Asks before deactivating: what it does, and which cases still list the user.
async fn confirm_deactivate(page: Page, path: web::Path<String>) -> PageResult {
    admin_only(&page)?;
    let (user, cases) = with_cases(&page, path.into_inner()).await?;
    if !user.active || user.id == page.actor().user_id {
        return Ok(see_other("/admin/users"));
    }
    let mut ctx = page.context(
        &format!("Are you sure you want to deactivate {}?", user.name),
        "users",
    );
    ctx.insert(
        "target",
        &json!({ "id": user.id, "name": user.name, "role_label": user.role.label() }),
    );
    ctx.insert("cases", &cases);
    ctx.insert("cases_text", &cases_still_listing(cases));
    page.render("pages/admin/user_deactivate.html", &ctx)
}

fn admin_only(page: &Page) -> Result<(), HtmlError> {
    page.require(
        page.actor().role.may_manage_users(),
        "only system administrators manage users",
    )
}

fn roles() -> Vec<serde_json::Value> {
    Role::ALL
        .iter()
        .rev()
        .map(|r| json!({ "value": r.as_str(), "text": r.label() }))
        .collect()
}

async fn render_list(
    page: &Page,
    status: StatusCode,
    banner: Option<String>,
    errors: &[FieldError],
) -> PageResult {
    let (all, invited, enrolled, now) = page
        .db(|c, st, _| {
            Ok((
                users::list(c, None, true)?,
                accounts::invitations(c)?,
                mfa::enrolled_users(c)?,
                st.now(),
            ))
        })
        .await?;
    let all: Vec<UserView> = all;
    let rows: Vec<_> = all
        .iter()
        .map(|u| {
            let invitation = invited.get(&u.id).map(|expires| {
                json!({
                    "expired": *expires <= now,
                    "expires": crate::clock::uk_local(*expires).format("%-d %B %Y %H:%M").to_string(),
                })
            });
            json!({
                "id": u.id, "name": u.name, "email": u.email, "role": u.role,
                "role_label": u.role.label(), "agency": u.agency, "active": u.active,
                "is_me": u.id == page.actor().user_id,
                "invitation": invitation,
                "two_step": enrolled.contains(&u.id),
                "form": { "role": u.role.as_str() },
            })
        })
        .collect();
    let mut ctx = page.context("Users", "users");
    ctx.insert("users", &rows);
    ctx.insert("roles", &roles());
    ctx.insert("banner", &banner);
    ctx.insert("errors", errors);
    page.render_status(status, "pages/admin/users.html", &ctx)
}

async fn list(page: Page, q: web::Query<HashMap<String, String>>) -> PageResult {
    admin_only(&page)?;
    let banner = if q.contains_key("welcome") {
        Some(
            "Your administrator account has been created. Add the partnership’s users next.".into(),
        )
    } else if let Some(id) = q.get("deactivated") {
        let (user, cases) = with_cases(&page, id.clone()).await?;
        Some(match cases_still_listing(cases) {
            Some(listing) => format!("{} can no longer sign in; {listing}", user.name),
            None => format!("{} can no longer sign in", user.name),
        })
    } else if let Some(id) = q
        .get("updated")
        .or(q.get("added"))
        .or(q.get("invited"))
        .or(q.get("reset"))
    {
        let id = id.clone();
        let name = page
            .db(move |c, _, _| users::get(c, &id))
            .await?
            .map(|u| u.name);
        name.map(|n| {
            if q.contains_key("added") {
                format!("{n} has been invited: the email with their link is on its way")
            } else if q.contains_key("invited") {
                format!("A new invitation has been sent to {n}")
            } else if q.contains_key("reset") {
                format!("{n}’s two-step verification has been reset: they set it up again when they next sign in, and have been told by email")
            } else {
                format!("{n}’s account has been updated")
            }
        })
    } else {
        None
    };
    render_list(&page, StatusCode::OK, banner, &[]).await
}

fn render_new(
    page: &Page,
    status: StatusCode,
    form: &FormData,
    errors: &[FieldError],
    form_id: &str,
) -> PageResult {
    let mut ctx = page.context("Add a user", "users");
    ctx.insert("form", &form.values(&[]));
    ctx.insert("errors", errors);
    ctx.insert("roles", &roles());
    ctx.insert("form_id", form_id);
    ctx.insert(
        "valid_hours",
        &page.state.settings.auth.invitation_valid_hours,
    );
    page.render_status(status, "pages/admin/user_new.html", &ctx)
}

async fn new_form(page: Page) -> PageResult {
    admin_only(&page)?;
    render_new(
        &page,
        StatusCode::OK,
        &FormData::default(),
        &[],
        &new_form_id(),
    )
}

async fn add(posted: Posted) -> PageResult {
    let Posted { page, form } = &posted;
    admin_only(page)?;
    posted
        .once("/admin/users", async || {
            let (email, name) = (form.get("email").to_string(), form.get("name").to_string());
            let mut errors = match users::validate_details(&email, &name) {
                Ok(()) => vec![],
                Err(e) => humanise(e.field_errors(), |_| None),
            };
            let role = form.get("role").parse::<Role>().ok();
            if role.is_none() {
                errors.push(FieldError::new("role", "Select the user’s role"));
            }
            if let (true, Some(role)) = (errors.is_empty(), role) {
                let agency = Some(form.get("agency").to_string()).filter(|a| !a.trim().is_empty());
                let added = page
                    .state
                    .db({
                        let actor = page.actor().clone();
                        move |c, st| {
                            accounts::invite(
                                c,
                                st,
                                Some(&actor),
                                Invite {
                                    email,
                                    name,
                                    role,
                                    agency,
                                },
                            )
                        }
                    })
                    .await;
                match added {
                    Ok(invited) => {
                        return Ok(Outcome::Redirect(format!(
                            "/admin/users?added={}",
                            invited.user.id
                        )))
                    }
                    Err(AppError::Invalid(found)) => errors = humanise(found, |_| None),
                    Err(e) => return Err(page.fail(e)),
                }
            }
            let known: Vec<String> = ["name", "email", "role", "agency"]
                .map(String::from)
                .to_vec();
            let again = render_new(
                page,
                StatusCode::UNPROCESSABLE_ENTITY,
                form,
                &for_page(errors, &known),
                form.get("form_id"),
            )?;
            Ok(Outcome::Again(again))
        })
        .await
}

async fn update(posted: Posted, path: web::Path<String>) -> PageResult {
    let Posted { page, form } = &posted;
    admin_only(page)?;
    let id = path.into_inner();
    let target = id.clone();
    let actor = page.actor().clone();
    match form.get("action") {
        "invite_again" => {
            let sent = page
                .state
                .db(move |c, st| accounts::resend_invitation(c, st, &actor, &target))
                .await;
            return match sent {
                Ok(_) => Ok(see_other(&format!("/admin/users?invited={id}"))),
                Err(e) => Err(page.fail(e)),
            };
        }
        "reset_two_step" => {
            let reset = page
                .state
                .db(move |c, st| mfa::reset(c, st, &actor, &target))
                .await;
            return match reset {
                Ok(()) => Ok(see_other(&format!("/admin/users?reset={id}"))),
                Err(e) => Err(page.fail(e)),
            };
        }
        _ => {}
    }
    let (role, active) = match form.get("action") {
        "role" => match form.get("role").parse::<Role>() {
            Ok(r) => (Some(r), None),
            Err(m) => return Err(page.fail(AppError::bad_request("role", m))),
        },
        // The list's button leads to the confirmation page; only its button says yes.
        "deactivate" if form.get("confirm") != "yes" => {
            return Ok(see_other(&format!("/admin/users/{id}/deactivate")));
        }
        "deactivate" => (None, Some(false)),
        "reactivate" => (None, Some(true)),
        _ => {
            return Err(page.fail(AppError::bad_request(
                "action",
                "choose to change the role, deactivate or reactivate",
            )))
        }
    };
    let target = id.clone();
    let updated = page
        .state
        .db({
            let actor = page.actor().clone();
            move |c, st| users::update(c, &actor, st.now(), &target, role, active)
        })
        .await;
    match updated {
        Ok(_) if active == Some(false) => Ok(see_other(&format!("/admin/users?deactivated={id}"))),
        Ok(_) => Ok(see_other(&format!("/admin/users?updated={id}"))),
        Err(AppError::Invalid(found)) => {
            let errors = for_page(humanise(found, |_| None), &[]);
            render_list(page, StatusCode::UNPROCESSABLE_ENTITY, None, &errors).await
        }
        Err(e) => Err(page.fail(e)),
    }
}
