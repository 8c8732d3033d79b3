//! The core members and chairs of the Sub-Group and the Board, set by an administrator. A chair
//! is a core member. The Sub-Group's chairs are its co-chairs (role `co_chair`); the Board's is
//! the Independent Scrutineer. The Gold Group has no standing members: the Sub-Group's sit.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::app::audit::{self, Entry};
use crate::app::{agencies, stored, Actor};
use crate::db::models::{BodyMemberRow, UserRow};
use crate::db::schema::{body_members, users};
use crate::db::{write_tx, DbConnection};
use crate::domain::governance::{may_sit, Body};
use crate::domain::input::FieldError;
use crate::domain::roles::Role;
use crate::error::AppError;

/// A person and their agency, as governance records show them.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct Person {
    pub id: String,
    pub name: String,
    pub agency: Option<AgencyRef>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord, schemars::JsonSchema)]
pub struct AgencyRef {
    pub id: String,
    pub name: String,
}

/// One core member.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Member {
    #[serde(flatten)]
    pub person: Person,
    pub role: Role,
    pub chair: bool,
    pub active: bool,
    #[serde(serialize_with = "crate::utc::ser")]
    #[schemars(with = "crate::utc::Stamp")]
    pub since: NaiveDateTime,
}

/// A body's membership: `members` and `chairs` as user ids (the shape `PUT` takes), and
/// `people` with names and agencies.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Membership {
    pub body: Body,
    pub label: &'static str,
    pub members: Vec<String>,
    pub chairs: Vec<String>,
    pub people: Vec<Member>,
}

/// People by id, with their agencies (any user, active or not).
pub fn people(
    conn: &mut DbConnection,
    ids: &[&str],
) -> Result<BTreeMap<String, (UserRow, Option<AgencyRef>)>, AppError> {
    let rows: Vec<UserRow> = users::table
        .filter(users::id.eq_any(ids))
        .select(UserRow::as_select())
        .load(conn)?;
    let names = agencies::names(conn)?;
    Ok(rows
        .into_iter()
        .map(|u| {
            let agency = u.agency_id.as_ref().and_then(|id| {
                names.get(id).map(|n| AgencyRef {
                    id: id.clone(),
                    name: n.clone(),
                })
            });
            (u.id.clone(), (u, agency))
        })
        .collect())
}

/// The body a path names: 404 for an unknown one, 422 for the Gold Group.
pub fn standing_body(code: &str) -> Result<Body, AppError> {
    let body: Body = code.parse().map_err(|_| AppError::NotFound)?;
    if !body.has_standing_members() {
        return Err(AppError::invalid(
            "body",
            "the Gold Group has no standing members: it is convened for a case, and the Sub-Group's core members sit at it",
        ));
    }
    Ok(body)
}

/// The membership rows of a body.
pub fn rows(conn: &mut DbConnection, body: Body) -> Result<Vec<BodyMemberRow>, AppError> {
    Ok(body_members::table
        .filter(body_members::body.eq(body.membership().as_str()))
        .select(BodyMemberRow::as_select())
        .load(conn)?)
}

/// A body's core members and chairs, by name.
pub fn get(conn: &mut DbConnection, body: Body) -> Result<Membership, AppError> {
    let rows = rows(conn, body)?;
    let ids: Vec<&str> = rows.iter().map(|r| r.user_id.as_str()).collect();
    let found = people(conn, &ids)?;
    let mut people: Vec<Member> = rows
        .iter()
        .filter_map(|r| {
            let (u, agency) = found.get(&r.user_id)?;
            Some(Member {
                person: Person {
                    id: u.id.clone(),
                    name: u.name.clone(),
                    agency: agency.clone(),
                },
                role: u.role.parse().ok()?,
                chair: r.chair,
                active: u.active,
                since: r.since,
            })
        })
        .collect();
    people.sort_by(|a, b| {
        (!a.chair, &a.person.name, &a.person.id).cmp(&(!b.chair, &b.person.name, &b.person.id))
    });
    Ok(Membership {
        body,
        label: body.label(),
        members: people.iter().map(|m| m.person.id.clone()).collect(),
        chairs: people
            .iter()
            .filter(|m| m.chair)
            .map(|m| m.person.id.clone())
            .collect(),
        people,
    })
}

/// Sets a body's core members and chairs (administrators): `{"members": [ids], "chairs": [ids]}`.
pub fn set(
    conn: &mut DbConnection,
    actor: &Actor,
    now: NaiveDateTime,
    body: Body,
    input: &Map<String, Value>,
) -> Result<Membership, AppError> {
    if !actor.role.may_manage_users() {
        return Err(AppError::Forbidden(
            "only system administrators set the members of the Sub-Group and the Board".into(),
        ));
    }
    let mut errors = vec![];
    for k in input
        .keys()
        .filter(|k| !["members", "chairs"].contains(&k.as_str()))
    {
        errors.push(FieldError::new(k.clone(), "is not a known field here"));
    }
    if !matches!(input.get("members"), Some(Value::Array(_))) {
        errors.push(FieldError::new("members", "must be a list of user ids"));
    }
    let members = super::meetings::id_list(input, "members", &mut errors);
    let chairs = super::meetings::id_list(input, "chairs", &mut errors);
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let chair_set: BTreeSet<String> = chairs.iter().cloned().collect();
    // A chair is a core member.
    let all: BTreeSet<String> = members.iter().chain(chairs.iter()).cloned().collect();
    write_tx(conn, |c| {
        let ids: Vec<&str> = all.iter().map(String::as_str).collect();
        let found = people(c, &ids)?;
        let mut errors = vec![];
        for id in &all {
            let field = if chair_set.contains(id) && !members.contains(id) {
                "chairs"
            } else {
                "members"
            };
            let Some((u, agency)) = found.get(id) else {
                errors.push(FieldError::new(field, format!("no user has the id {id}")));
                continue;
            };
            let role: Role = u
                .role
                .parse()
                .map_err(|e: String| AppError::internal(anyhow::anyhow!(e)))?;
            if !u.active {
                errors.push(FieldError::new(field, format!("{} is deactivated", u.name)));
            } else if !may_sit(role) {
                errors.push(FieldError::new(
                    field,
                    format!(
                        "{} is a {}: administrators and lead reviewers are not core members",
                        u.name,
                        role.label().to_lowercase()
                    ),
                ));
            } else if agency.is_none() {
                errors.push(FieldError::new(
                    field,
                    format!("{} belongs to no agency: set their agency first (the quorum and the votes count agencies)", u.name),
                ));
            }
            if body == Body::Subgroup && chair_set.contains(id) && role != Role::CoChair {
                errors.push(FieldError::new(
                    "chairs",
                    format!("{} is not a co-chair (role co_chair): the Sub-Group's chairs are its co-chairs", u.name),
                ));
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let before = get(c, body)?;
        diesel::delete(
            body_members::table
                .filter(body_members::body.eq(body.as_str()))
                .filter(body_members::user_id.ne_all(&ids)),
        )
        .execute(c)?;
        for id in &all {
            let chair = chair_set.contains(id);
            let updated = diesel::update(
                body_members::table
                    .filter(body_members::body.eq(body.as_str()))
                    .filter(body_members::user_id.eq(id)),
            )
            .set(body_members::chair.eq(chair))
            .execute(c)?;
            if updated == 0 {
                diesel::insert_into(body_members::table)
                    .values(&BodyMemberRow {
                        body: body.as_str().into(),
                        user_id: id.clone(),
                        chair,
                        since: stored(now),
                    })
                    .execute(c)?;
            }
        }
        let after = get(c, body)?;
        audit::append(
            c,
            now,
            Entry::ok(Some(actor), "body_members_set")
                .subject(body.as_str())
                .detail(serde_json::json!({
                    "before": { "members": before.members, "chairs": before.chairs },
                    "after": { "members": after.members, "chairs": after.chairs },
                })),
        )?;
        Ok(after)
    })
}
