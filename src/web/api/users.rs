//! Users: the list (programme manager, co-chairs, admins); inviting a user, sending an
//! invitation again and resetting a user's two-step verification (administrators).

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use serde_json::Value;

use crate::app::accounts::{self, Invite};
use crate::app::{mfa, refusals, users};
use crate::domain::input::Fields;
use crate::domain::roles::Role;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::extract::{object, ApiUser};

/// Active users, optionally of one role (programme manager, co-chairs, admins).
pub async fn list(
    user: ApiUser,
    state: web::Data<AppState>,
    q: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    if !user.actor.role.may_list_users() {
        let why = "your role may not list users";
        state
            .db(move |c, st| refusals::refuse(c, st.now(), &user.actor, "users_listed", why, None))
            .await?;
        return Err(AppError::Forbidden(why.into()));
    }
    let role = match crate::web::extract::query_param(&q, "role") {
        Some(r) => Some(
            r.parse::<Role>()
                .map_err(|m| AppError::bad_request("role", m))?,
        ),
        None => None,
    };
    let list = state.db(move |c, _| users::list(c, role, false)).await?;
    let out: Vec<super::responses::UserSummary> = list.into_iter().map(Into::into).collect();
    Ok(HttpResponse::Ok().json(out))
}

/// `{"email","name","role","agency"?}`: adds a user and emails them an invitation (a one-time
/// link to choose their own password, or to sign in with single sign-on).
pub async fn invite(
    user: ApiUser,
    state: web::Data<AppState>,
    body: web::Json<Value>,
) -> Result<HttpResponse, AppError> {
    let body = object(body)?;
    let mut f = Fields::new(&body, &[]);
    let email = f.short_text("email", "the person's email address");
    let name = f.short_text("name", "the person's name");
    let role = f.choice::<RoleChoice>("role");
    let agency = f.opt_text_max("agency", crate::domain::input::SHORT_MAX);
    let checked = f.finish();
    let invited = state
        .db(move |c, st| {
            // A role that may not add users is refused (and audited) before the fields.
            if !user.actor.role.may_manage_users() {
                let why = "only system administrators manage users";
                refusals::refuse(c, st.now(), &user.actor, "user_added", why, None)?;
                return Err(AppError::Forbidden(why.into()));
            }
            checked.map_err(AppError::Invalid)?;
            let role = role
                .map(|r| r.0)
                .ok_or_else(|| AppError::invalid("role", "choose a role"))?;
            let invite = Invite {
                email,
                name,
                role,
                agency,
            };
            accounts::invite(c, st, Some(&user.actor), invite)
        })
        .await?;
    Ok(HttpResponse::Created().json(invited))
}

/// A new invitation for a user who has not set up their account (the earlier link stops).
pub async fn invite_again(
    user: ApiUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let invited = state
        .db(move |c, st| accounts::resend_invitation(c, st, &user.actor, &id))
        .await?;
    Ok(HttpResponse::Ok().json(invited))
}

/// Removes a user's second factor (a lost phone): audited, the user is signed out everywhere
/// and told by email; they set it up again at their next sign-in.
pub async fn reset_mfa(
    user: ApiUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    state
        .db(move |c, st| mfa::reset(c, st, &user.actor, &id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A role, read by [`Fields::choice`].
#[derive(Clone, Copy)]
struct RoleChoice(Role);

impl std::str::FromStr for RoleChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        s.parse().map(RoleChoice)
    }
}

impl crate::domain::TextEnum for RoleChoice {
    fn choices() -> String {
        Role::ALL.map(Role::as_str).join(", ")
    }
}
