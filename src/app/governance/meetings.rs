//! Meetings: scheduling one, the list, reading one (the views are in `view.rs`, the agenda and
//! deputies in `agenda.rs`), and what the other governance use cases share.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde_json::{Map, Value};

use super::access::{self, Standing};
pub use super::agenda::{add_to_agenda, check_deputy, name_deputy, remove_from_agenda};
use super::bodies::{people, Person};
pub use super::view::*;
use super::{audited, body_of};
use crate::app::audit::{self, Entry};
use crate::app::{new_id, stored, Actor};
use crate::db::models::{AttendanceRow, DecisionRow, MeetingRow};
use crate::db::schema::{cases, decisions, meeting_agenda, meeting_attendance, meetings, users};
use crate::db::{write_tx, DbConnection};
use crate::domain::governance::{may_organise, may_sit, Body, Scheduled};
use crate::domain::input::{parse_date, FieldError, Fields};
use crate::error::AppError;
use crate::state::AppState;

/// Reads one meeting (404 when it may not be seen); the read is audited.
pub fn read(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    id: &str,
) -> Result<MeetingView, AppError> {
    let (m, _, sight, standing) = match access::visible_meeting(conn, actor, id) {
        Ok(found) => found,
        Err(e) => {
            super::refuse(
                conn,
                st,
                actor,
                "meeting_viewed",
                None,
                None,
                "meeting not found or not visible",
            )?;
            return Err(e);
        }
    };
    let view = build(conn, st, actor, &m, &sight, &standing)?;
    write_tx(conn, |c| {
        audit::append(
            c,
            st.now(),
            Entry::ok(Some(actor), "meeting_viewed")
                .subject(m.id.clone())
                .detail(serde_json::json!({ "partial": view.partial })),
        )
    })?;
    Ok(view)
}

/// Filters of the meeting list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub body: Option<Body>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// Only these meetings (the meetings a case was on).
    pub ids: Option<Vec<String>>,
}

impl Filter {
    /// From `?body=&from=&to=` (400 naming the parameter).
    pub fn parse(q: &HashMap<String, String>) -> Result<Filter, AppError> {
        let get = |k: &str| q.get(k).map(|s| s.trim()).filter(|s| !s.is_empty());
        let date = |k: &str| -> Result<Option<NaiveDate>, AppError> {
            get(k)
                .map(|s| parse_date(s).map_err(|m| AppError::bad_request(k, m)))
                .transpose()
        };
        Ok(Filter {
            body: get("body")
                .map(|b| {
                    b.parse::<Body>()
                        .map_err(|m| AppError::bad_request("body", m))
                })
                .transpose()?,
            from: date("from")?,
            to: date("to")?,
            ids: None,
        })
    }
}

/// The meetings this person may see, by date (held, or scheduled), earliest first.
pub fn list(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    filter: &Filter,
) -> Result<Vec<MeetingSummary>, AppError> {
    if actor.role == crate::domain::roles::Role::Admin {
        return Ok(vec![]);
    }
    let mut q = meetings::table.select(MeetingRow::as_select()).into_boxed();
    if let Some(b) = filter.body {
        q = q.filter(meetings::body.eq(b.as_str()));
    }
    if let Some(ids) = &filter.ids {
        q = q.filter(meetings::id.eq_any(ids));
    }
    let rows: Vec<MeetingRow> = q.load(conn)?;
    let date_of = |m: &MeetingRow| m.held_on.unwrap_or(m.scheduled_on);
    let rows: Vec<MeetingRow> = rows
        .into_iter()
        .filter(|m| filter.from.is_none_or(|f| date_of(m) >= f))
        .filter(|m| filter.to.is_none_or(|t| date_of(m) <= t))
        .collect();
    let ids: Vec<&str> = rows.iter().map(|m| m.id.as_str()).collect();
    let standing = Standing::of(conn, &actor.user_id)?;
    let agenda_rows = agenda_of(conn, &ids)?;
    let attendance: Vec<AttendanceRow> = meeting_attendance::table
        .filter(meeting_attendance::meeting_id.eq_any(&ids))
        .select(AttendanceRow::as_select())
        .load(conn)?;
    let decided: Vec<(String, Option<String>)> = decisions::table
        .filter(decisions::meeting_id.eq_any(&ids))
        .select((decisions::meeting_id, decisions::case_id))
        .load(conn)?;
    let agency_names = crate::app::agencies::names(conn)?;
    let mut out = vec![];
    for m in &rows {
        let body = body_of(m)?;
        let agenda: Vec<String> = agenda_rows
            .iter()
            .filter(|(mid, ..)| mid == &m.id)
            .map(|(_, c, ..)| c.clone())
            .collect();
        let Some(sight) = access::sight(actor, &standing, m, body, &agenda) else {
            continue;
        };
        let mine: Vec<AttendanceRow> = attendance
            .iter()
            .filter(|r| r.meeting_id == m.id)
            .cloned()
            .collect();
        out.push(MeetingSummary {
            id: m.id.clone(),
            body,
            body_label: body.label(),
            title: m.title.clone(),
            scheduled_for: Scheduled::from_stored(m.scheduled_on, m.start_time.as_deref()).to_api(),
            start_time: m.start_time.clone(),
            date: date_of(m),
            status: status(m),
            held_on: m.held_on,
            quorum: quorum_view(st, m, body, &mine, &agency_names),
            agenda: agenda_items(&agenda_rows, &m.id, actor, &sight, &standing),
            decisions: decided
                .iter()
                .filter(|(mid, case)| {
                    mid == &m.id
                        && match case {
                            Some(c) => sight.sees_case(c),
                            None => sight.is_whole(),
                        }
                })
                .count(),
        });
    }
    // Meetings alike in date, time and title (two Gold Groups on one day) in the order of
    // their cases, the same on every backend.
    let first = |m: &MeetingSummary| m.agenda.first().map(|a| a.reference.clone());
    out.sort_by(|a, b| {
        (a.date, &a.start_time, &a.title, first(a), &a.id).cmp(&(
            b.date,
            &b.start_time,
            &b.title,
            first(b),
            &b.id,
        ))
    });
    Ok(out)
}

/// A validated request to schedule a meeting.
#[derive(Debug, Clone)]
pub struct NewMeeting {
    pub body: Body,
    pub title: String,
    pub scheduled: Scheduled,
}

impl NewMeeting {
    /// `{"body","title","scheduled_for"}`; a date in the future is allowed, and so is one in the
    /// past (a meeting recorded afterwards).
    pub fn parse(input: &Map<String, Value>) -> Result<NewMeeting, AppError> {
        let mut f = Fields::new(input, &["scheduled_for"]);
        let body = f.choice::<Body>("body");
        let title = f.short_text(
            "title",
            "the meeting's title, e.g. Serious Cases Sub-Group, December",
        );
        let scheduled = match input.get("scheduled_for") {
            Some(Value::String(s)) => Scheduled::parse(s)
                .map_err(|m| f.fail("scheduled_for", m))
                .ok(),
            _ => {
                f.fail(
                    "scheduled_for",
                    "enter when the meeting is, as YYYY-MM-DD or YYYY-MM-DDTHH:MM (UK time)",
                );
                None
            }
        };
        f.finish().map_err(AppError::Invalid)?;
        Ok(NewMeeting {
            body: body.expect("checked"),
            title,
            scheduled: scheduled.expect("checked"),
        })
    }
}

/// Schedules a meeting (the organisers of its body).
pub fn schedule(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    input: &Map<String, Value>,
) -> Result<MeetingView, AppError> {
    let id = new_id();
    audited(conn, st, actor, "meeting_scheduled", None, None, |conn| {
        let new = NewMeeting::parse(input)?;
        if !may_organise(actor.role, new.body) {
            return Err(AppError::Forbidden(access::organiser_message(new.body)));
        }
        let now = st.now();
        write_tx(conn, |c| {
            let row = MeetingRow {
                id: id.clone(),
                body: new.body.as_str().into(),
                title: new.title.clone(),
                scheduled_on: new.scheduled.on,
                start_time: new.scheduled.time_text(),
                held_on: None,
                quorum_needed: None,
                signed_off_at: None,
                signed_off_by: None,
                created_by: actor.user_id.clone(),
                created_at: stored(now),
                updated_at: stored(now),
            };
            diesel::insert_into(meetings::table)
                .values(&row)
                .execute(c)?;
            audit::append(
                c,
                now,
                Entry::ok(Some(actor), "meeting_scheduled")
                    .subject(id.clone())
                    .detail(serde_json::json!({
                        "after": { "body": new.body, "title": new.title, "scheduled_for": new.scheduled.to_api() }
                    })),
            )?;
            Ok(())
        })
    })?;
    let (m, _, sight, standing) = access::visible_meeting(conn, actor, &id)?;
    build(conn, st, actor, &m, &sight, &standing)
}

/// Refuses a change to a meeting whose record was signed off.
pub fn check_open(m: &MeetingRow) -> Result<(), AppError> {
    match m.signed_off_at {
        Some(at) => Err(AppError::invalid(
            "meeting",
            format!(
                "the meeting's record was signed off on {}; it can no longer change",
                at.format("%-d %B %Y")
            ),
        )),
        None => Ok(()),
    }
}

/// Marks a meeting changed.
pub fn touch(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> Result<(), AppError> {
    diesel::update(meetings::table.find(id))
        .set(meetings::updated_at.eq(stored(now)))
        .execute(conn)?;
    Ok(())
}

/// Whether the case is on any meeting's agenda: [`for_case`] has nothing to show otherwise.
pub fn on_agenda(conn: &mut DbConnection, case_id: &str) -> QueryResult<bool> {
    Ok(meeting_agenda::table
        .filter(meeting_agenda::case_id.eq(case_id))
        .select(meeting_agenda::meeting_id)
        .first::<String>(conn)
        .optional()?
        .is_some())
}

/// The meetings a case was on that this person may see, with the decisions about it.
pub fn for_case(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    case_id: &str,
) -> Result<Vec<(MeetingSummary, Vec<DecisionView>)>, AppError> {
    let ids: Vec<String> = meeting_agenda::table
        .filter(meeting_agenda::case_id.eq(case_id))
        .select(meeting_agenda::meeting_id)
        .load(conn)?;
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let filter = Filter {
        ids: Some(ids),
        ..Filter::default()
    };
    let mine = list(conn, st, actor, &filter)?;
    let rows: Vec<DecisionRow> = decisions::table
        .filter(decisions::case_id.eq(case_id))
        .order((decisions::recorded_at.asc(), decisions::id.asc()))
        .select(DecisionRow::as_select())
        .load(conn)?;
    let reference: Option<String> = cases::table
        .find(case_id)
        .select(cases::reference)
        .first(conn)
        .optional()?;
    let reference_of: HashMap<String, String> = reference
        .into_iter()
        .map(|r| (case_id.to_string(), r))
        .collect();
    let views = decision_views(conn, rows, &reference_of)?;
    Ok(mine
        .into_iter()
        .map(|m| {
            let here = views
                .iter()
                .filter(|d| d.meeting_id == m.id)
                .cloned()
                .collect();
            (m, here)
        })
        .collect())
}

/// The active users an organiser may record at a meeting, by name: everyone who may sit.
pub fn sitters(conn: &mut DbConnection) -> Result<Vec<Person>, AppError> {
    let ids: Vec<String> = users::table
        .filter(users::active.eq(true))
        .select(users::id)
        .load(conn)?;
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let found = people(conn, &refs)?;
    let mut out: Vec<Person> = found
        .values()
        .filter(|(u, _)| u.role.parse().is_ok_and(may_sit))
        .map(|(u, a)| Person {
            id: u.id.clone(),
            name: u.name.clone(),
            agency: a.clone(),
        })
        .collect();
    out.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
    Ok(out)
}

/// Fields of a validated request shared by attendance and decisions.
pub fn id_list(
    input: &Map<String, Value>,
    name: &str,
    errors: &mut Vec<FieldError>,
) -> Vec<String> {
    match input.get(name) {
        None | Some(Value::Null) => vec![],
        Some(Value::Array(items)) => {
            let mut out: Vec<String> = vec![];
            for v in items {
                match v.as_str().map(str::trim) {
                    Some(s) if !s.is_empty() => {
                        if !out.iter().any(|o| o == s) {
                            out.push(s.to_string());
                        }
                    }
                    _ => {
                        errors.push(FieldError::new(name, "must be a list of user ids"));
                        return vec![];
                    }
                }
            }
            out
        }
        Some(_) => {
            errors.push(FieldError::new(name, "must be a list of user ids"));
            vec![]
        }
    }
}
