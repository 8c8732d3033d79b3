//! Recording that a meeting was held: who was present, who sent apologies, the deputies who
//! stood in for absent core members (from the same agency), and guests. The agency and core
//! membership of each person are kept as they were, so a past meeting's quorum never changes.
//! The attendance may be corrected until a decision is made on it or the record is signed off.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use diesel::prelude::*;
use serde_json::{Map, Value};

use super::access;
use super::bodies::people;
use super::meetings::{self, check_deputy, check_open, id_list, MeetingView};
use super::{audited, lock_meeting, quorum_needed};
use crate::app::audit::{self, Entry};
use crate::app::{new_id, stored, Actor};
use crate::db::models::{AttendanceRow, GuestRow};
use crate::db::schema::{self, decisions, meeting_attendance, meeting_guests};
use crate::db::{write_tx, DbConnection};
use crate::domain::governance::quorum::Quorum;
use crate::domain::governance::AttendanceKind;
use crate::domain::input::{parse_date, received_text, FieldError, SHORT_MAX};
use crate::domain::roles::Role;
use crate::error::AppError;
use crate::state::AppState;

/// A parsed attendance record.
#[derive(Debug, Clone, Default)]
pub struct Held {
    pub held_on: Option<NaiveDate>,
    pub present: Vec<String>,
    pub apologies: Vec<String>,
    /// (for, by)
    pub deputies: Vec<(String, String)>,
    /// (name, organisation)
    pub guests: Vec<(String, String)>,
}

impl Held {
    /// `{"held_on","present","apologies","deputies":[{"for","by"}],"guests":[{"name","organisation"}]}`.
    pub fn parse(input: &Map<String, Value>, today: NaiveDate) -> Result<Held, Vec<FieldError>> {
        let mut errors = vec![];
        for k in input.keys() {
            if !["held_on", "present", "apologies", "deputies", "guests"].contains(&k.as_str()) {
                errors.push(FieldError::new(k.clone(), "is not a known field here"));
            }
        }
        let held_on = match input.get("held_on") {
            Some(Value::String(s)) => match parse_date(s) {
                Ok(d) if d > today => {
                    errors.push(FieldError::new(
                        "held_on",
                        format!(
                            "cannot be in the future (today is {})",
                            today.format("%-d %B %Y")
                        ),
                    ));
                    None
                }
                Ok(d) => Some(d),
                Err(m) => {
                    errors.push(FieldError::new("held_on", m));
                    None
                }
            },
            _ => {
                errors.push(FieldError::new(
                    "held_on",
                    "enter the date the meeting was held, as YYYY-MM-DD",
                ));
                None
            }
        };
        let present = id_list(input, "present", &mut errors);
        let apologies = id_list(input, "apologies", &mut errors);
        let mut deputies = vec![];
        match input.get("deputies") {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                for item in items {
                    let get = |k: &str| {
                        item.get(k)
                            .and_then(Value::as_str)
                            .map(str::trim)
                            .filter(|s| !s.is_empty())
                    };
                    match (get("for"), get("by")) {
                        (Some(f), Some(b)) => deputies.push((f.to_string(), b.to_string())),
                        _ => {
                            errors.push(FieldError::new(
                                "deputies",
                                "each deputy is {\"for\": member id, \"by\": deputy id}",
                            ));
                            break;
                        }
                    }
                }
            }
            Some(_) => errors.push(FieldError::new(
                "deputies",
                "must be a list of {\"for\", \"by\"}",
            )),
        }
        let mut guests = vec![];
        match input.get("guests") {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                for item in items {
                    let raw = |k: &str| item.get(k).and_then(Value::as_str).unwrap_or("");
                    let name = received_text("name", raw("name"), SHORT_MAX);
                    let org = received_text("organisation", raw("organisation"), SHORT_MAX);
                    match (name, org) {
                        (Ok(Some(name)), Ok(org)) => {
                            guests.push((name.to_string(), org.unwrap_or("").to_string()));
                        }
                        (Ok(None), _) => {
                            errors.push(FieldError::new("guests", "each guest needs a name"));
                            break;
                        }
                        (Err(m), _) => {
                            errors.push(FieldError::new("guests", format!("a guest's name {m}")));
                            break;
                        }
                        (_, Err(m)) => {
                            errors.push(FieldError::new(
                                "guests",
                                format!("a guest's organisation {m}"),
                            ));
                            break;
                        }
                    }
                }
            }
            Some(_) => errors.push(FieldError::new(
                "guests",
                "must be a list of {\"name\", \"organisation\"}",
            )),
        }
        if errors.is_empty() {
            Ok(Held {
                held_on,
                present,
                apologies,
                deputies,
                guests,
            })
        } else {
            Err(errors)
        }
    }
}

/// Records (or corrects) the attendance of a held meeting.
pub fn record(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    meeting_id: &str,
    input: &Map<String, Value>,
) -> Result<MeetingView, AppError> {
    audited(
        conn,
        st,
        actor,
        "meeting_held",
        Some(meeting_id),
        None,
        |conn| {
            let held = Held::parse(input, st.today()).map_err(AppError::Invalid)?;
            write(conn, st, actor, meeting_id, &held)
        },
    )?;
    let (m, _, sight, standing) = access::visible_meeting(conn, actor, meeting_id)?;
    meetings::build(conn, st, actor, &m, &sight, &standing)
}

fn write(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    meeting_id: &str,
    held: &Held,
) -> Result<(), AppError> {
    let now = st.now();
    write_tx(conn, |c| {
        let (m, body, _) = access::organised_meeting(c, actor, meeting_id)?;
        lock_meeting(c, &m.id)?;
        check_open(&m)?;
        let decided: i64 = decisions::table
            .filter(decisions::meeting_id.eq(&m.id))
            .count()
            .get_result(c)?;
        if decided > 0 {
            return Err(AppError::invalid(
                "present",
                "decisions were made with the attendance as recorded; it can no longer change",
            ));
        }
        let members = super::bodies::rows(c, body)?;
        let mut ids: Vec<&str> = held.present.iter().map(String::as_str).collect();
        ids.extend(held.apologies.iter().map(String::as_str));
        ids.extend(
            held.deputies
                .iter()
                .flat_map(|(f, b)| [f.as_str(), b.as_str()]),
        );
        let found = people(c, &ids)?;
        let mut errors = vec![];
        let deputy_ids: BTreeSet<&str> = held.deputies.iter().map(|(_, b)| b.as_str()).collect();
        // A deputy listed as present too is recorded once, as the deputy.
        let present: Vec<&String> = held
            .present
            .iter()
            .filter(|p| !deputy_ids.contains(p.as_str()))
            .collect();
        for (field, list) in [
            ("present", &present),
            ("apologies", &held.apologies.iter().collect()),
        ] {
            for id in list.iter() {
                match found.get(id.as_str()) {
                    None => errors.push(FieldError::new(field, format!("no user has the id {id}"))),
                    Some((u, _)) if u.role == Role::Admin.as_str() => errors.push(FieldError::new(
                        field,
                        format!(
                            "{} is a system administrator and is not recorded at meetings",
                            u.name
                        ),
                    )),
                    Some(_) => {}
                }
            }
        }
        for id in &held.apologies {
            if present.contains(&id) || deputy_ids.contains(id.as_str()) {
                let name = found.get(id).map_or(id.as_str(), |(u, _)| u.name.as_str());
                errors.push(FieldError::new(
                    "apologies",
                    format!("{name} is recorded as present"),
                ));
            }
        }
        let mut stood_for = BTreeSet::new();
        let mut deputised = BTreeSet::new();
        for (for_id, by_id) in &held.deputies {
            let name = found
                .get(for_id)
                .map_or(for_id.as_str(), |(u, _)| u.name.as_str());
            if !members.iter().any(|r| &r.user_id == for_id) {
                errors.push(FieldError::new(
                    "deputies",
                    format!(
                        "{name} is not a core member of the {}",
                        body.membership().label()
                    ),
                ));
                continue;
            }
            if present.contains(&for_id) {
                errors.push(FieldError::new(
                    "deputies",
                    format!("{name} was present: a deputy stands in for an absent member"),
                ));
            }
            if !stood_for.insert(for_id.as_str()) {
                errors.push(FieldError::new(
                    "deputies",
                    format!("{name} has two deputies: one deputy per member"),
                ));
            }
            if !deputised.insert(by_id.as_str()) {
                errors.push(FieldError::new(
                    "deputies",
                    "one person deputises for one member",
                ));
            }
            if let Err(AppError::Invalid(e)) =
                check_deputy(&found, &members, for_id, by_id, "deputies")
            {
                errors.extend(e);
            }
        }
        if present.is_empty() && held.deputies.is_empty() {
            errors.push(FieldError::new("present", "record who was present"));
        }
        if !errors.is_empty() {
            errors.dedup();
            return Err(AppError::Invalid(errors));
        }
        let first = m.held_on.is_none();
        diesel::delete(meeting_attendance::table.filter(meeting_attendance::meeting_id.eq(&m.id)))
            .execute(c)?;
        diesel::delete(meeting_guests::table.filter(meeting_guests::meeting_id.eq(&m.id)))
            .execute(c)?;
        let member = |id: &str| members.iter().find(|r| r.user_id == id);
        let agency = |id: &str| {
            found
                .get(id)
                .and_then(|(_, a)| a.as_ref().map(|a| a.id.clone()))
        };
        let mut rows: Vec<AttendanceRow> = vec![];
        for (kind, list) in [
            (AttendanceKind::Present, present.clone()),
            (AttendanceKind::Apologies, held.apologies.iter().collect()),
        ] {
            for id in list {
                rows.push(AttendanceRow {
                    meeting_id: m.id.clone(),
                    user_id: id.clone(),
                    kind: kind.as_str().into(),
                    for_member: None,
                    agency_id: agency(id),
                    core_member: member(id).is_some(),
                    chair: member(id).is_some_and(|r| r.chair),
                });
            }
        }
        for (for_id, by_id) in &held.deputies {
            rows.push(AttendanceRow {
                meeting_id: m.id.clone(),
                user_id: by_id.clone(),
                kind: AttendanceKind::Deputy.as_str().into(),
                for_member: Some(for_id.clone()),
                agency_id: agency(for_id),
                core_member: false,
                chair: false,
            });
        }
        for row in &rows {
            diesel::insert_into(meeting_attendance::table)
                .values(row)
                .execute(c)?;
        }
        let guests: Vec<GuestRow> = held
            .guests
            .iter()
            .enumerate()
            .map(|(i, (name, organisation))| GuestRow {
                id: new_id(),
                meeting_id: m.id.clone(),
                position: i as i32 + 1,
                name: name.clone(),
                organisation: organisation.clone(),
            })
            .collect();
        for g in &guests {
            diesel::insert_into(meeting_guests::table)
                .values(g)
                .execute(c)?;
        }
        let needed = quorum_needed(&st.settings, body);
        diesel::update(schema::meetings::table.find(&m.id))
            .set((
                schema::meetings::held_on.eq(held.held_on),
                schema::meetings::quorum_needed.eq(Some(needed as i32)),
                schema::meetings::updated_at.eq(stored(now)),
            ))
            .execute(c)?;
        let quorum = Quorum::of(needed, &meetings::seats(&rows));
        audit::append(
            c,
            now,
            Entry::ok(Some(actor), if first { "meeting_held" } else { "attendance_changed" })
                .subject(m.id.clone())
                .detail(serde_json::json!({
                    "meeting": m.id,
                    "before": { "held_on": m.held_on },
                    "after": {
                        "held_on": held.held_on,
                        "present": present,
                        "apologies": held.apologies,
                        "deputies": held.deputies.iter().map(|(f, b)| serde_json::json!({ "for": f, "by": b })).collect::<Vec<_>>(),
                        "guests": held.guests.len(),
                    },
                    "quorum": quorum,
                })),
        )?;
        Ok(())
    })
}
