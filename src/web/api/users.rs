//! GET /api/v1/users.

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::app::users;
use crate::domain::roles::Role;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::extract::ApiUser;

/// Active users, optionally of one role (programme manager, co-chairs, admins).
pub async fn list(
    user: ApiUser,
    state: web::Data<AppState>,
    q: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    if !user.actor.role.may_list_users() {
        return Err(AppError::Forbidden("your role may not list users".into()));
    }
    let role = match q.get("role").filter(|r| !r.is_empty()) {
        Some(r) => Some(
            r.parse::<Role>()
                .map_err(|m| AppError::bad_request("role", m))?,
        ),
        None => None,
    };
    let list = state.db(move |c, _| users::list(c, role, false)).await?;
    let out: Vec<_> = list
        .into_iter()
        .map(|u| json!({ "id": u.id, "email": u.email, "name": u.name, "role": u.role, "agency": u.agency, "agency_id": u.agency_id }))
        .collect();
    Ok(HttpResponse::Ok().json(out))
}
