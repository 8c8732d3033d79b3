//! Agencies: each user belongs to one. Administrators add and rename them; naming an agency
//! for a user for the first time (`user add --agency`, the users page, the users API) creates
//! it. Names are unique without regard to case or surrounding spaces.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::audit::{self, Entry};
use super::{new_id, stored, Actor};
use crate::db::models::AgencyRow;
use crate::db::schema::{agencies, users};
use crate::db::{write_tx, DbConnection};
use crate::domain::input::SHORT_MAX;
use crate::error::AppError;

/// An agency, with how many active users belong to it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct AgencyView {
    pub id: String,
    pub name: String,
    pub users: i64,
}

/// A name as stored: trimmed, inner runs of spaces made one.
pub fn clean_name(name: &str) -> Result<String, AppError> {
    let name =
        crate::domain::input::required_text("name", name, SHORT_MAX, "enter the agency's name")?;
    Ok(name.split_whitespace().collect::<Vec<_>>().join(" "))
}

fn same(a: &str, b: &str) -> bool {
    a.to_lowercase() == b.to_lowercase()
}

/// Every agency, by name, with its number of active users.
pub fn list(conn: &mut DbConnection) -> Result<Vec<AgencyView>, AppError> {
    let rows: Vec<AgencyRow> = agencies::table.select(AgencyRow::as_select()).load(conn)?;
    let counts: Vec<(Option<String>, i64)> = users::table
        .filter(users::active.eq(true))
        .filter(users::agency_id.is_not_null())
        .group_by(users::agency_id)
        .select((users::agency_id, diesel::dsl::count_star()))
        .load(conn)?;
    let counts: HashMap<String, i64> = counts
        .into_iter()
        .filter_map(|(id, n)| id.map(|id| (id, n)))
        .collect();
    let mut out: Vec<AgencyView> = rows
        .into_iter()
        .map(|a| AgencyView {
            users: counts.get(&a.id).copied().unwrap_or(0),
            id: a.id,
            name: a.name,
        })
        .collect();
    out.sort_by_key(|a| a.name.to_lowercase());
    Ok(out)
}

/// Every agency.
pub fn all(conn: &mut DbConnection) -> Result<Vec<AgencyRow>, AppError> {
    Ok(agencies::table.select(AgencyRow::as_select()).load(conn)?)
}

/// The agency `text` names among `all`: its id, or its name in any case.
pub fn find<'a>(all: &'a [AgencyRow], text: &str) -> Option<&'a AgencyRow> {
    let text = text.trim();
    all.iter().find(|a| a.id == text || same(&a.name, text))
}

/// The agency named `text` (its id, or its name in any case).
pub fn resolve(conn: &mut DbConnection, text: &str) -> Result<Option<AgencyRow>, AppError> {
    Ok(find(&all(conn)?, text).cloned())
}

/// Names of agencies by id.
pub fn names(conn: &mut DbConnection) -> Result<HashMap<String, String>, AppError> {
    Ok(agencies::table
        .select((agencies::id, agencies::name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect())
}

/// The agency with this name, created when it is new, inside the caller's transaction.
/// Returns it and whether it was created.
pub fn find_or_create(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    name: &str,
) -> Result<(AgencyRow, bool), AppError> {
    let name = clean_name(name)?;
    if let Some(a) = resolve(conn, &name)? {
        return Ok((a, false));
    }
    let row = AgencyRow {
        id: new_id(),
        name: name.clone(),
        created_at: stored(now),
    };
    // Two writers naming the same new agency at once: the unique index keeps one.
    let inserted = match conn {
        DbConnection::Pg(c) => diesel::insert_into(agencies::table)
            .values(&row)
            .on_conflict_do_nothing()
            .execute(c)?,
        DbConnection::Sqlite(c) => diesel::insert_into(agencies::table)
            .values(&row)
            .on_conflict_do_nothing()
            .execute(c)?,
    };
    if inserted == 1 {
        return Ok((row, true));
    }
    let found = resolve(conn, &name)?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("agency vanished after a conflict")))?;
    Ok((found, false))
}

fn admin_only(actor: &Actor) -> Result<(), AppError> {
    if actor.role.may_manage_users() {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "only system administrators manage agencies".into(),
        ))
    }
}

fn view(conn: &mut DbConnection, id: &str) -> Result<AgencyView, AppError> {
    list(conn)?
        .into_iter()
        .find(|a| a.id == id)
        .ok_or(AppError::NotFound)
}

/// Adds an agency (administrators).
pub fn add(
    conn: &mut DbConnection,
    actor: &Actor,
    now: NaiveDateTime,
    name: &str,
) -> Result<AgencyView, AppError> {
    admin_only(actor)?;
    let name = clean_name(name)?;
    write_tx(conn, |c| {
        if let Some(a) = resolve(c, &name)? {
            return Err(AppError::invalid(
                "name",
                format!("there is already an agency called {}", a.name),
            ));
        }
        let (agency, _) = find_or_create(c, now, &name)?;
        audit::append(
            c,
            now,
            Entry::ok(Some(actor), "agency_added")
                .subject(agency.id.clone())
                .detail(serde_json::json!({ "after": { "name": agency.name } })),
        )?;
        view(c, &agency.id)
    })
}

/// Renames an agency (administrators). Its users and their votes stay with it.
pub fn rename(
    conn: &mut DbConnection,
    actor: &Actor,
    now: NaiveDateTime,
    id: &str,
    name: &str,
) -> Result<AgencyView, AppError> {
    admin_only(actor)?;
    let name = clean_name(name)?;
    write_tx(conn, |c| {
        let before: AgencyRow = agencies::table
            .find(id)
            .select(AgencyRow::as_select())
            .first(c)
            .optional()?
            .ok_or(AppError::NotFound)?;
        if let Some(other) = resolve(c, &name)?.filter(|a| a.id != id) {
            return Err(AppError::invalid(
                "name",
                format!("there is already an agency called {}", other.name),
            ));
        }
        diesel::update(agencies::table.find(id))
            .set(agencies::name.eq(&name))
            .execute(c)?;
        audit::append(
            c,
            now,
            Entry::ok(Some(actor), "agency_renamed")
                .subject(id.to_string())
                .detail(serde_json::json!({ "before": { "name": before.name }, "after": { "name": name } })),
        )?;
        view(c, id)
    })
}

/// Puts a user in the agency named `name` (created when new), administrators only.
pub fn set_user_agency(
    conn: &mut DbConnection,
    actor: &Actor,
    now: NaiveDateTime,
    user_id: &str,
    name: &str,
) -> Result<AgencyView, AppError> {
    admin_only(actor)?;
    let cleaned = clean_name(name).map_err(|_| {
        AppError::invalid("agency", "enter the name of the agency the user belongs to")
    })?;
    write_tx(conn, |c| {
        let before: Option<Option<String>> = users::table
            .find(user_id)
            .select(users::agency_id)
            .first(c)
            .optional()?;
        let Some(before) = before else {
            return Err(AppError::NotFound);
        };
        let (agency, created) = find_or_create(c, now, &cleaned)?;
        diesel::update(users::table.find(user_id))
            .set(users::agency_id.eq(Some(&agency.id)))
            .execute(c)?;
        let names = names(c)?;
        audit::append(
            c,
            now,
            Entry::ok(Some(actor), "user_agency_changed")
                .subject(user_id.to_string())
                .detail(serde_json::json!({
                    "before": { "agency": before.as_ref().and_then(|id| names.get(id)) },
                    "after": { "agency": agency.name },
                    "agency_created": created,
                })),
        )?;
        view(c, &agency.id)
    })
}
