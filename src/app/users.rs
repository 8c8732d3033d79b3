//! Users: one role each, an agency, an active flag.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::audit::{self, Entry};
use super::auth::{self, check_password_policy, normalise_email};
use super::{new_id, stored, Actor};
use crate::db::models::{NewUser, UserRow};
use crate::db::schema::{agencies, users};
use crate::db::{write_tx, DbConnection};
use crate::domain::roles::Role;
use crate::error::{AppError, FieldError};

/// A user as other users see them.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct UserView {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// The agency's name.
    pub agency: Option<String>,
    pub agency_id: Option<String>,
    pub active: bool,
}

impl TryFrom<(UserRow, Option<String>)> for UserView {
    type Error = AppError;
    /// A user row with the name of its agency.
    fn try_from((u, agency): (UserRow, Option<String>)) -> Result<Self, AppError> {
        Ok(UserView {
            role: u
                .role
                .parse()
                .map_err(|e: String| AppError::internal(anyhow::anyhow!(e)))?,
            id: u.id,
            email: u.email,
            name: u.name,
            agency,
            agency_id: u.agency_id,
            active: u.active,
        })
    }
}

/// A new user's details, already hashed (hashing is done off the async threads).
#[derive(Debug, Clone)]
pub struct NewUserInput {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub agency: Option<String>,
    pub password_hash: String,
}

/// Validates a new user's name and email address (no database needed).
pub fn validate_details(email: &str, name: &str) -> Result<(), AppError> {
    let errors = detail_errors(email, name);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Invalid(errors))
    }
}

fn detail_errors(email: &str, name: &str) -> Vec<FieldError> {
    let mut errors = vec![];
    let email = normalise_email(email);
    if email.len() > 254 || !valid_email(&email) {
        errors.push(FieldError::new(
            "email",
            "enter an email address like name@example.org",
        ));
    }
    if let Err(e) =
        crate::domain::input::required_text("name", name, 200, "enter the person's name")
    {
        errors.push(e);
    }
    errors
}

/// Validates a new user with their own password (the first administrator at first run).
pub fn validate_new_user(email: &str, name: &str, password: &str) -> Result<(), AppError> {
    let mut errors = detail_errors(email, name);
    if let Err(e) = check_password_policy("password", password, name, email) {
        errors.push(e);
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Invalid(errors))
    }
}

fn valid_email(email: &str) -> bool {
    validator::ValidateEmail::validate_email(&email)
}

/// Creates a user. `actor` is `None` for the command line and the first-run setup.
pub fn add(
    conn: &mut DbConnection,
    actor: Option<&Actor>,
    now: NaiveDateTime,
    input: NewUserInput,
) -> Result<UserView, AppError> {
    write_tx(conn, |c| insert(c, actor, now, input))
}

/// As [`add`], inside the caller's transaction.
pub fn insert(
    conn: &mut DbConnection,
    actor: Option<&Actor>,
    now: NaiveDateTime,
    input: NewUserInput,
) -> Result<UserView, AppError> {
    let email = normalise_email(&input.email);
    let id = new_id();
    let c = conn;
    {
        let taken: i64 = users::table
            .filter(users::email.eq(&email))
            .count()
            .get_result(c)?;
        if taken > 0 {
            return Err(AppError::invalid(
                "email",
                "a user with this email address already exists",
            ));
        }
        // An agency named for the first time is created.
        let agency = match input.agency.as_deref().filter(|a| !a.trim().is_empty()) {
            Some(name) => Some(
                super::agencies::find_or_create(c, now, name)
                    .map_err(|e| match e {
                        AppError::Invalid(errs) => AppError::Invalid(
                            errs.into_iter()
                                .map(|e| FieldError::new("agency", e.message))
                                .collect(),
                        ),
                        other => other,
                    })?
                    .0,
            ),
            None => None,
        };
        diesel::insert_into(users::table)
            .values(&NewUser {
                id: &id,
                email: &email,
                name: input.name.trim(),
                role: input.role.as_str(),
                agency_id: agency.as_ref().map(|a| a.id.as_str()),
                active: true,
                password_hash: &input.password_hash,
                password_changed_at: stored(now),
                reminder_mode: "immediate",
                created_at: stored(now),
            })
            .execute(c)?;
        audit::append(
            c,
            now,
            Entry::ok(actor, "user_added")
                .subject(id.clone())
                .detail(serde_json::json!({ "after": { "role": input.role, "agency": agency.as_ref().map(|a| &a.name), "active": true } })),
        )?;
        get(c, &id)?.ok_or(AppError::NotFound)
    }
}

pub fn get(conn: &mut DbConnection, id: &str) -> Result<Option<UserView>, AppError> {
    users::table
        .find(id)
        .left_join(agencies::table)
        .select((UserRow::as_select(), agencies::name.nullable()))
        .first::<(UserRow, Option<String>)>(conn)
        .optional()?
        .map(UserView::try_from)
        .transpose()
}

pub fn count(conn: &mut DbConnection) -> QueryResult<i64> {
    users::table.count().get_result(conn)
}

/// Active users, optionally of one role, by name.
pub fn list(
    conn: &mut DbConnection,
    role: Option<Role>,
    include_inactive: bool,
) -> Result<Vec<UserView>, AppError> {
    let mut q = users::table
        .left_join(agencies::table)
        .select((UserRow::as_select(), agencies::name.nullable()))
        .order(users::name.asc())
        .into_boxed();
    if let Some(r) = role {
        q = q.filter(users::role.eq(r.as_str()));
    }
    if !include_inactive {
        q = q.filter(users::active.eq(true));
    }
    q.load::<(UserRow, Option<String>)>(conn)?
        .into_iter()
        .map(UserView::try_from)
        .collect()
}

/// Changes role and/or active flag (admin). Deactivation revokes every token at once.
pub fn update(
    conn: &mut DbConnection,
    actor: &Actor,
    now: NaiveDateTime,
    id: &str,
    role: Option<Role>,
    active: Option<bool>,
) -> Result<UserView, AppError> {
    write_tx(conn, |c| {
        let before = get(c, id)?.ok_or(AppError::NotFound)?;
        if id == actor.user_id && (active == Some(false) || role.is_some_and(|r| r != Role::Admin))
        {
            return Err(AppError::invalid(
                "role",
                "you cannot remove your own administrator access",
            ));
        }
        if let Some(r) = role {
            diesel::update(users::table.find(id))
                .set(users::role.eq(r.as_str()))
                .execute(c)?;
        }
        if let Some(a) = active {
            diesel::update(users::table.find(id))
                .set(users::active.eq(a))
                .execute(c)?;
            if !a {
                auth::revoke_all(c, id, None, now)?;
            }
        }
        let after = get(c, id)?.ok_or(AppError::NotFound)?;
        audit::append(
            c,
            now,
            Entry::ok(Some(actor), "user_updated")
                .subject(id.to_string())
                .detail(serde_json::json!({
                    "before": { "role": before.role, "active": before.active },
                    "after": { "role": after.role, "active": after.active },
                })),
        )?;
        Ok(after)
    })
}

/// Sets a new password hash; every other token of the user is revoked.
pub fn set_password(
    conn: &mut DbConnection,
    actor: &Actor,
    now: NaiveDateTime,
    new_hash: &str,
    keep_token: Option<&str>,
) -> Result<(), AppError> {
    write_tx(conn, |c| {
        diesel::update(users::table.find(&actor.user_id))
            .set((
                users::password_hash.eq(new_hash),
                users::password_changed_at.eq(stored(now)),
            ))
            .execute(c)?;
        auth::revoke_all(c, &actor.user_id, keep_token, now)?;
        audit::append(
            c,
            now,
            Entry::ok(Some(actor), "password_changed").subject(actor.user_id.clone()),
        )?;
        Ok(())
    })
}

/// The stored password hash of a user (for checking the current password).
pub fn password_hash(conn: &mut DbConnection, id: &str) -> Result<String, AppError> {
    users::table
        .find(id)
        .select(users::password_hash)
        .first(conn)
        .optional()?
        .ok_or(AppError::NotFound)
}

/// Names of users by id.
/// Each user's name and whether their account is active, by id.
pub fn names_and_active(
    conn: &mut DbConnection,
    ids: &[&str],
) -> QueryResult<HashMap<String, (String, bool)>> {
    Ok(users::table
        .filter(users::id.eq_any(ids))
        .select((users::id, users::name, users::active))
        .load::<(String, String, bool)>(conn)?
        .into_iter()
        .map(|(id, name, active)| (id, (name, active)))
        .collect())
}

/// How many cases list the user as their lead reviewer.
pub fn cases_as_lead_reviewer(conn: &mut DbConnection, user_id: &str) -> QueryResult<i64> {
    use crate::db::schema::case_people;
    case_people::table
        .filter(case_people::user_id.eq(user_id))
        .filter(case_people::relation.eq(crate::domain::roles::Relation::LeadReviewer.as_str()))
        .count()
        .get_result(conn)
}

pub fn names(conn: &mut DbConnection, ids: &[&str]) -> QueryResult<HashMap<String, String>> {
    Ok(users::table
        .filter(users::id.eq_any(ids))
        .select((users::id, users::name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect())
}
