//! Meetings: scheduling one, the list, one meeting as a person may see it, the agenda (cases by
//! reference and pseudonym only) and the deputies members name ahead of a meeting.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::{Map, Value};

use super::access::{self, agenda_ids, Sight, Standing};
use super::bodies::{people, AgencyRef, Person};
use super::{audited, body_of, lock_meeting, quorum_needed};
use crate::app::audit::{self, Entry};
use crate::app::{new_id, stored, Actor};
use crate::db::models::{
    AgendaRow, AttendanceRow, DecisionRow, GuestRow, MeetingRow, MinutesRow, NamedDeputyRow,
    PaperRow,
};
use crate::db::schema::{
    cases, decisions, meeting_agenda, meeting_attendance, meeting_deputies, meeting_guests,
    meeting_minutes, meeting_papers, meetings, users,
};
use crate::db::{write_tx, DbConnection};
use crate::domain::governance::quorum::{Quorum, Seat};
use crate::domain::governance::{
    may_organise, may_sit, AttendanceKind, Body, DecisionKind, Method, Outcome, Scheduled,
};
use crate::domain::input::{parse_date, FieldError, Fields, SHORT_MAX};
use crate::error::AppError;
use crate::state::AppState;

/// Where a meeting stands.
pub fn status(m: &MeetingRow) -> &'static str {
    if m.signed_off_at.is_some() {
        "signed_off"
    } else if m.held_on.is_some() {
        "held"
    } else {
        "scheduled"
    }
}

/// The seats of a held meeting (core members present, deputies) from its attendance rows, as
/// recorded at the time.
pub fn seats(rows: &[AttendanceRow]) -> Vec<Seat> {
    rows.iter()
        .filter(|r| {
            (r.kind == AttendanceKind::Present.as_str() && r.core_member)
                || r.kind == AttendanceKind::Deputy.as_str()
        })
        .filter_map(|r| {
            Some(Seat {
                user_id: r.user_id.clone(),
                agency_id: r.agency_id.clone()?,
                chair: r.kind == AttendanceKind::Present.as_str() && r.chair,
            })
        })
        .collect()
}

/// The quorum of a meeting as it stands: of the recorded attendance once held, otherwise
/// what it will need.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct QuorumView {
    pub needed: u32,
    pub agencies_present: u32,
    pub quorate: bool,
    pub agencies: Vec<AgencyRef>,
}

pub fn quorum_view(
    st: &AppState,
    m: &MeetingRow,
    body: Body,
    rows: &[AttendanceRow],
    agency_names: &HashMap<String, String>,
) -> QuorumView {
    let needed = m
        .quorum_needed
        .map_or_else(|| quorum_needed(&st.settings, body), |n| n as u32);
    let seats = seats(rows);
    let q = Quorum::of(needed, &seats);
    let mut agencies: Vec<AgencyRef> = seats
        .iter()
        .map(|s| s.agency_id.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .map(|id| AgencyRef {
            name: agency_names.get(&id).cloned().unwrap_or_default(),
            id,
        })
        .collect();
    agencies.sort_by(|a, b| a.name.cmp(&b.name));
    QuorumView {
        needed: q.needed,
        agencies_present: q.agencies_present,
        quorate: m.held_on.is_some() && q.quorate,
        agencies,
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct AgendaItem {
    pub case_id: String,
    pub reference: String,
    pub pseudonym: String,
    /// Whether this person may open the case (and read its minutes).
    pub case_visible: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Attendee {
    #[serde(flatten)]
    pub person: Person,
    pub core_member: bool,
    pub chair: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct DeputyView {
    #[serde(rename = "for")]
    pub for_member: Person,
    pub by: Person,
}

#[derive(Debug, Clone, Serialize)]
pub struct Guest {
    pub name: String,
    pub organisation: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct AttendanceView {
    pub present: Vec<Attendee>,
    pub apologies: Vec<Attendee>,
    pub deputies: Vec<DeputyView>,
    pub guests: Vec<Guest>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Revision {
    pub revision: i32,
    pub text: String,
    pub correction_reason: Option<String>,
    pub written_by: Person,
    pub written_at: NaiveDateTime,
}

#[derive(Debug, Clone, Serialize)]
pub struct MinutesView {
    /// `None`: the meeting's own key points; otherwise an agenda case's.
    pub case_id: Option<String>,
    pub reference: Option<String>,
    pub text: String,
    pub revision: i32,
    pub written_by: Person,
    pub written_at: NaiveDateTime,
    /// Changes made after the sign-off, oldest first, each with its reason.
    pub corrections: Vec<Revision>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PaperView {
    pub id: String,
    pub title: String,
    pub file_name: String,
    pub size_bytes: i64,
    pub content_type: String,
    pub sha256: String,
    pub uploaded_by: Person,
    pub uploaded_at: NaiveDateTime,
    pub download_url: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DecisionView {
    pub id: String,
    pub meeting_id: String,
    pub case_id: Option<String>,
    pub reference: Option<String>,
    pub kind: DecisionKind,
    pub kind_label: &'static str,
    pub method: Method,
    pub outcome: Outcome,
    /// The count as made: `for`, `against`, `abstain`, each agency's vote, the agencies that
    /// could vote, those excluded by a conflict, the casting vote.
    pub tally: Value,
    pub note: Option<String>,
    pub recorded_by: Person,
    pub recorded_at: NaiveDateTime,
}

#[derive(Debug, Clone, Serialize)]
pub struct SignOff {
    pub by: Person,
    pub at: NaiveDateTime,
}

/// What this person may do to the meeting.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Permissions {
    pub organise: bool,
    pub sign_off: bool,
    pub name_deputy: bool,
    /// Write the minutes (organisers), or correct them after the sign-off (organisers, chairs).
    pub write_minutes: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct MeetingView {
    pub id: String,
    pub body: Body,
    pub body_label: &'static str,
    pub title: String,
    pub scheduled_for: String,
    pub scheduled_on: NaiveDate,
    pub start_time: Option<String>,
    /// `scheduled`, `held` or `signed_off`.
    pub status: &'static str,
    pub held_on: Option<NaiveDate>,
    pub quorum: QuorumView,
    pub agenda: Vec<AgendaItem>,
    /// Who was there (not shown to lead reviewers).
    pub attendance: Option<AttendanceView>,
    pub named_deputies: Vec<DeputyView>,
    pub decisions: Vec<DecisionView>,
    pub minutes: Vec<MinutesView>,
    pub papers: Vec<PaperView>,
    pub signed_off: Option<SignOff>,
    pub created_by: Person,
    pub created_at: NaiveDateTime,
    /// Only part of the meeting is shown (a lead reviewer's own cases).
    pub partial: bool,
    pub may: Permissions,
}

/// A meeting in a list.
#[derive(Debug, Clone, Serialize)]
pub struct MeetingSummary {
    pub id: String,
    pub body: Body,
    pub body_label: &'static str,
    pub title: String,
    pub scheduled_for: String,
    pub start_time: Option<String>,
    /// The day it was held, or is to be.
    pub date: NaiveDate,
    pub status: &'static str,
    pub held_on: Option<NaiveDate>,
    pub quorum: QuorumView,
    pub agenda: Vec<AgendaItem>,
    pub decisions: usize,
}

fn person_of(
    found: &BTreeMap<String, (crate::db::models::UserRow, Option<AgencyRef>)>,
    id: &str,
) -> Person {
    match found.get(id) {
        Some((u, agency)) => Person {
            id: u.id.clone(),
            name: u.name.clone(),
            agency: agency.clone(),
        },
        None => Person {
            id: id.to_string(),
            name: "(unknown user)".into(),
            agency: None,
        },
    }
}

/// The agenda rows of meetings, with each case's reference and pseudonym, in order.
fn agenda_of(
    conn: &mut DbConnection,
    meeting_ids: &[&str],
) -> Result<Vec<(String, String, String, String)>, AppError> {
    Ok(meeting_agenda::table
        .inner_join(cases::table)
        .filter(meeting_agenda::meeting_id.eq_any(meeting_ids))
        .order((
            meeting_agenda::meeting_id.asc(),
            meeting_agenda::position.asc(),
        ))
        .select((
            meeting_agenda::meeting_id,
            cases::id,
            cases::reference,
            cases::child_pseudonym,
        ))
        .load(conn)?)
}

fn agenda_items(
    rows: &[(String, String, String, String)],
    meeting_id: &str,
    actor: &Actor,
    sight: &Sight,
    standing: &Standing,
) -> Vec<AgendaItem> {
    rows.iter()
        .filter(|(m, c, _, _)| m == meeting_id && sight.sees_case(c))
        .map(|(_, c, reference, pseudonym)| AgendaItem {
            case_id: c.clone(),
            reference: reference.clone(),
            pseudonym: pseudonym.clone(),
            case_visible: standing.may_see_case(actor.role, c),
        })
        .collect()
}

/// Decisions as views; `reference_of` names each case.
pub fn decision_views(
    conn: &mut DbConnection,
    rows: Vec<DecisionRow>,
    reference_of: &HashMap<String, String>,
) -> Result<Vec<DecisionView>, AppError> {
    let ids: Vec<&str> = rows.iter().map(|d| d.recorded_by.as_str()).collect();
    let found = people(conn, &ids)?;
    rows.into_iter()
        .map(|d| {
            Ok(DecisionView {
                reference: d
                    .case_id
                    .as_ref()
                    .and_then(|c| reference_of.get(c).cloned()),
                kind: d
                    .kind
                    .parse()
                    .map_err(|e: String| AppError::internal(anyhow::anyhow!(e)))?,
                kind_label: d.kind.parse::<DecisionKind>().map_or("", |k| k.label()),
                method: d
                    .method
                    .parse()
                    .map_err(|e: String| AppError::internal(anyhow::anyhow!(e)))?,
                outcome: d
                    .outcome
                    .parse()
                    .map_err(|e: String| AppError::internal(anyhow::anyhow!(e)))?,
                tally: serde_json::from_str(&d.tally).unwrap_or(Value::Null),
                recorded_by: person_of(&found, &d.recorded_by),
                id: d.id,
                meeting_id: d.meeting_id,
                case_id: d.case_id,
                note: d.note,
                recorded_at: d.recorded_at,
            })
        })
        .collect()
}

/// One meeting as this person may see it.
pub fn build(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    m: &MeetingRow,
    sight: &Sight,
    standing: &Standing,
) -> Result<MeetingView, AppError> {
    let body = body_of(m)?;
    let agenda_rows = agenda_of(conn, &[&m.id])?;
    let agenda = agenda_items(&agenda_rows, &m.id, actor, sight, standing);
    let reference_of: HashMap<String, String> = agenda_rows
        .iter()
        .map(|(_, c, r, _)| (c.clone(), r.clone()))
        .collect();
    let attendance: Vec<AttendanceRow> = meeting_attendance::table
        .filter(meeting_attendance::meeting_id.eq(&m.id))
        .select(AttendanceRow::as_select())
        .load(conn)?;
    let guests: Vec<GuestRow> = meeting_guests::table
        .filter(meeting_guests::meeting_id.eq(&m.id))
        .order(meeting_guests::position.asc())
        .select(GuestRow::as_select())
        .load(conn)?;
    let named: Vec<NamedDeputyRow> = meeting_deputies::table
        .filter(meeting_deputies::meeting_id.eq(&m.id))
        .select(NamedDeputyRow::as_select())
        .load(conn)?;
    let decision_rows: Vec<DecisionRow> = decisions::table
        .filter(decisions::meeting_id.eq(&m.id))
        .order((decisions::recorded_at.asc(), decisions::id.asc()))
        .select(DecisionRow::as_select())
        .load(conn)?;
    let minutes_rows: Vec<MinutesRow> = meeting_minutes::table
        .filter(meeting_minutes::meeting_id.eq(&m.id))
        .order(meeting_minutes::revision.asc())
        .select(MinutesRow::as_select())
        .load(conn)?;
    let paper_rows: Vec<PaperRow> = meeting_papers::table
        .filter(meeting_papers::meeting_id.eq(&m.id))
        .filter(meeting_papers::deleted_at.is_null())
        .order((
            meeting_papers::uploaded_at.asc(),
            meeting_papers::title.asc(),
        ))
        .select(PaperRow::as_select())
        .load(conn)?;
    let mut ids: Vec<&str> = attendance.iter().map(|r| r.user_id.as_str()).collect();
    ids.extend(attendance.iter().filter_map(|r| r.for_member.as_deref()));
    ids.extend(
        named
            .iter()
            .flat_map(|n| [n.member_id.as_str(), n.deputy_id.as_str()]),
    );
    ids.extend(minutes_rows.iter().map(|r| r.written_by.as_str()));
    ids.extend(paper_rows.iter().map(|r| r.uploaded_by.as_str()));
    ids.extend(m.signed_off_by.as_deref());
    ids.push(&m.created_by);
    let found = people(conn, &ids)?;
    let agency_names = crate::app::agencies::names(conn)?;
    let person = |id: &str| person_of(&found, id);
    let attendee = |r: &AttendanceRow| Attendee {
        person: Person {
            agency: r.agency_id.as_ref().map(|a| AgencyRef {
                id: a.clone(),
                name: agency_names.get(a).cloned().unwrap_or_default(),
            }),
            ..person(&r.user_id)
        },
        core_member: r.core_member,
        chair: r.chair,
    };
    let by_name = |v: &mut Vec<Attendee>| {
        v.sort_by(|a, b| (&a.person.name, &a.person.id).cmp(&(&b.person.name, &b.person.id)))
    };
    let whole = sight.is_whole();
    let attendance_view = (whole && m.held_on.is_some()).then(|| {
        let mut present: Vec<Attendee> = attendance
            .iter()
            .filter(|r| r.kind == AttendanceKind::Present.as_str())
            .map(attendee)
            .collect();
        let mut apologies: Vec<Attendee> = attendance
            .iter()
            .filter(|r| r.kind == AttendanceKind::Apologies.as_str())
            .map(attendee)
            .collect();
        by_name(&mut present);
        by_name(&mut apologies);
        let mut deputies: Vec<DeputyView> = attendance
            .iter()
            .filter(|r| r.kind == AttendanceKind::Deputy.as_str())
            .map(|r| DeputyView {
                for_member: person(r.for_member.as_deref().unwrap_or_default()),
                by: attendee(r).person,
            })
            .collect();
        deputies.sort_by(|a, b| a.for_member.name.cmp(&b.for_member.name));
        AttendanceView {
            present,
            apologies,
            deputies,
            guests: guests
                .iter()
                .map(|g| Guest {
                    name: g.name.clone(),
                    organisation: g.organisation.clone(),
                })
                .collect(),
        }
    });
    let decisions: Vec<DecisionRow> = decision_rows
        .into_iter()
        .filter(|d| match &d.case_id {
            Some(c) => sight.sees_case(c),
            None => whole,
        })
        .collect();
    let mut decisions = decision_views(conn, decisions, &reference_of)?;
    // Decisions made at the same moment in the order of their cases, on every backend.
    decisions.sort_by(|a, b| {
        (a.recorded_at, &a.reference, &a.id).cmp(&(b.recorded_at, &b.reference, &b.id))
    });
    // Minutes: the latest revision of each topic; the meeting's own only for the whole view,
    // a case's only for someone who may see the case.
    let mut topics: BTreeMap<Option<String>, Vec<&MinutesRow>> = BTreeMap::new();
    for r in &minutes_rows {
        topics.entry(r.case_id.clone()).or_default().push(r);
    }
    let minutes: Vec<MinutesView> = topics
        .into_iter()
        .filter(|(case, _)| match case {
            None => whole,
            Some(c) => sight.sees_case(c) && standing.may_see_case(actor.role, c),
        })
        .filter_map(|(case, revs)| {
            let last = revs.last()?;
            Some(MinutesView {
                reference: case.as_ref().and_then(|c| reference_of.get(c).cloned()),
                case_id: case,
                text: last.text.clone(),
                revision: last.revision,
                written_by: person(&last.written_by),
                written_at: last.written_at,
                corrections: revs
                    .iter()
                    .filter(|r| r.correction_reason.is_some())
                    .map(|r| Revision {
                        revision: r.revision,
                        text: r.text.clone(),
                        correction_reason: r.correction_reason.clone(),
                        written_by: person(&r.written_by),
                        written_at: r.written_at,
                    })
                    .collect(),
            })
        })
        .collect();
    let papers = if whole {
        paper_rows
            .iter()
            .map(|p| PaperView {
                id: p.id.clone(),
                title: p.title.clone(),
                file_name: p.file_name.clone(),
                size_bytes: p.size_bytes,
                content_type: p.content_type.clone(),
                sha256: p.sha256.clone(),
                uploaded_by: person(&p.uploaded_by),
                uploaded_at: p.uploaded_at,
                download_url: format!("/api/v1/meetings/{}/papers/{}", m.id, p.id),
            })
            .collect()
    } else {
        vec![]
    };
    let organise = may_organise(actor.role, body);
    let member = standing.is_member(body);
    Ok(MeetingView {
        id: m.id.clone(),
        body,
        body_label: body.label(),
        title: m.title.clone(),
        scheduled_for: Scheduled::from_stored(m.scheduled_on, m.start_time.as_deref()).to_api(),
        scheduled_on: m.scheduled_on,
        start_time: m.start_time.clone(),
        status: status(m),
        held_on: m.held_on,
        quorum: quorum_view(st, m, body, &attendance, &agency_names),
        agenda,
        attendance: attendance_view,
        named_deputies: if whole {
            named
                .iter()
                .map(|n| DeputyView {
                    for_member: person(&n.member_id),
                    by: person(&n.deputy_id),
                })
                .collect()
        } else {
            vec![]
        },
        decisions,
        minutes,
        papers,
        signed_off: match (&m.signed_off_by, m.signed_off_at) {
            (Some(by), Some(at)) => Some(SignOff { by: person(by), at }),
            _ => None,
        },
        created_by: person(&m.created_by),
        created_at: m.created_at,
        partial: !whole,
        may: Permissions {
            organise,
            sign_off: standing.is_chair(body) && m.held_on.is_some() && m.signed_off_at.is_none(),
            name_deputy: m.held_on.is_none() && (organise || member),
            write_minutes: m.held_on.is_some()
                && (organise || (m.signed_off_at.is_some() && standing.is_chair(body))),
        },
    })
}

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

/// Puts a case on a meeting's agenda (`{"case_id"}`). A Gold Group meeting takes one case.
pub fn add_to_agenda(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    meeting_id: &str,
    input: &Map<String, Value>,
) -> Result<AgendaItem, AppError> {
    let mut f = Fields::new(input, &[]);
    let case_id = f.short_text("case_id", "the case to put on the agenda");
    audited(
        conn,
        st,
        actor,
        "agenda_case_added",
        Some(meeting_id),
        None,
        |conn| {
            f.finish().map_err(AppError::Invalid)?;
            let now = st.now();
            write_tx(conn, |c| {
                let (m, body, standing) = access::organised_meeting(c, actor, meeting_id)?;
                lock_meeting(c, &m.id)?;
                check_open(&m)?;
                let case: Option<(String, String, String)> = cases::table
                    .find(&case_id)
                    .select((cases::id, cases::reference, cases::child_pseudonym))
                    .first(c)
                    .optional()?;
                let Some((case_id, reference, pseudonym)) = case else {
                    return Err(AppError::invalid("case_id", "no case has that id"));
                };
                if !standing.may_see_case(actor.role, &case_id) {
                    return Err(AppError::invalid("case_id", "no case has that id"));
                }
                let agenda = agenda_ids(c, &m.id)?;
                if agenda.contains(&case_id) {
                    return Err(AppError::invalid(
                        "case_id",
                        format!("{reference} is already on the agenda"),
                    ));
                }
                if body.one_case_per_meeting() && !agenda.is_empty() {
                    return Err(AppError::invalid(
                        "case_id",
                        "a Gold Group is convened for one case, and this one already has its case",
                    ));
                }
                diesel::insert_into(meeting_agenda::table)
                    .values(&AgendaRow {
                        meeting_id: m.id.clone(),
                        case_id: case_id.clone(),
                        position: agenda.len() as i32 + 1,
                        added_by: actor.user_id.clone(),
                        added_at: stored(now),
                    })
                    .execute(c)?;
                touch(c, &m.id, now)?;
                audit::append(
                    c,
                    now,
                    Entry::ok(Some(actor), "agenda_case_added")
                        .case(&case_id)
                        .subject(m.id.clone())
                        .detail(serde_json::json!({ "meeting": m.id, "reference": reference })),
                )?;
                Ok(AgendaItem {
                    case_id,
                    reference,
                    pseudonym,
                    case_visible: true,
                })
            })
        },
    )
}

/// Takes a case off the agenda, while nothing was decided or minuted about it.
pub fn remove_from_agenda(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    meeting_id: &str,
    case_id: &str,
) -> Result<(), AppError> {
    audited(
        conn,
        st,
        actor,
        "agenda_case_removed",
        Some(meeting_id),
        None,
        |conn| {
            let now = st.now();
            write_tx(conn, |c| {
                let (m, _, _) = access::organised_meeting(c, actor, meeting_id)?;
                lock_meeting(c, &m.id)?;
                check_open(&m)?;
                if !agenda_ids(c, &m.id)?.iter().any(|id| id == case_id) {
                    return Err(AppError::NotFound);
                }
                let decided: i64 = decisions::table
                    .filter(decisions::meeting_id.eq(&m.id))
                    .filter(decisions::case_id.eq(case_id))
                    .count()
                    .get_result(c)?;
                let minuted: i64 = meeting_minutes::table
                    .filter(meeting_minutes::meeting_id.eq(&m.id))
                    .filter(meeting_minutes::case_id.eq(case_id))
                    .count()
                    .get_result(c)?;
                if decided + minuted > 0 {
                    return Err(AppError::invalid(
                    "case_id",
                    "the meeting has decisions or minutes about this case; it stays on the agenda",
                ));
                }
                diesel::delete(
                    meeting_agenda::table
                        .filter(meeting_agenda::meeting_id.eq(&m.id))
                        .filter(meeting_agenda::case_id.eq(case_id)),
                )
                .execute(c)?;
                touch(c, &m.id, now)?;
                audit::append(
                    c,
                    now,
                    Entry::ok(Some(actor), "agenda_case_removed")
                        .case(case_id)
                        .subject(m.id.clone())
                        .detail(serde_json::json!({ "meeting": m.id })),
                )?;
                Ok(())
            })
        },
    )
}

/// Marks a meeting changed.
pub fn touch(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> Result<(), AppError> {
    diesel::update(meetings::table.find(id))
        .set(meetings::updated_at.eq(stored(now)))
        .execute(conn)?;
    Ok(())
}

/// A core member names a deputy from their own agency for a meeting not yet held
/// (`{"deputy_id"}`, or `null` to withdraw; the organisers may do it for any member with
/// `"member_id"`). "Each member should nominate an appropriate individual to represent their
/// organisation in the event of an unavoidable absence" (Appendix 3).
pub fn name_deputy(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    meeting_id: &str,
    input: &Map<String, Value>,
) -> Result<Vec<DeputyView>, AppError> {
    audited(
        conn,
        st,
        actor,
        "deputy_named",
        Some(meeting_id),
        None,
        |conn| {
            let mut f = Fields::new(input, &["deputy_id"]);
            let member_id = f
                .opt_text_max("member_id", SHORT_MAX)
                .unwrap_or_else(|| actor.user_id.clone());
            let deputy_id = match input.get("deputy_id") {
                None => {
                    f.fail(
                        "deputy_id",
                        "name the deputy (a user id), or null to withdraw the deputy",
                    );
                    None
                }
                Some(Value::Null) => None,
                Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
                Some(_) => {
                    f.fail("deputy_id", "must be a user id, or null");
                    None
                }
            };
            f.finish().map_err(AppError::Invalid)?;
            let now = st.now();
            write_tx(conn, |c| {
                let (m, body, _, _) = access::visible_meeting(c, actor, meeting_id)?;
                lock_meeting(c, &m.id)?;
                if m.held_on.is_some() {
                    return Err(AppError::invalid(
                        "deputy_id",
                        "the meeting has been held: record deputies with its attendance",
                    ));
                }
                let organiser = may_organise(actor.role, body);
                if member_id != actor.user_id && !organiser {
                    return Err(AppError::Forbidden(
                        "you may name a deputy only for yourself".into(),
                    ));
                }
                let members = super::bodies::rows(c, body)?;
                if !members.iter().any(|r| r.user_id == member_id) {
                    return Err(if member_id == actor.user_id && !organiser {
                        AppError::Forbidden(format!(
                            "only a core member of the {} names a deputy for its meetings",
                            body.membership().label()
                        ))
                    } else {
                        AppError::invalid(
                            "member_id",
                            format!(
                                "that person is not a core member of the {}",
                                body.membership().label()
                            ),
                        )
                    });
                }
                let ids: Vec<&str> = [Some(member_id.as_str()), deputy_id.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect();
                let found = people(c, &ids)?;
                if let Some(d) = &deputy_id {
                    check_deputy(&found, &members, &member_id, d, "deputy_id")?;
                }
                diesel::delete(
                    meeting_deputies::table
                        .filter(meeting_deputies::meeting_id.eq(&m.id))
                        .filter(meeting_deputies::member_id.eq(&member_id)),
                )
                .execute(c)?;
                if let Some(d) = &deputy_id {
                    diesel::insert_into(meeting_deputies::table)
                        .values(&NamedDeputyRow {
                            meeting_id: m.id.clone(),
                            member_id: member_id.clone(),
                            deputy_id: d.clone(),
                            named_by: actor.user_id.clone(),
                            named_at: stored(now),
                        })
                        .execute(c)?;
                }
                touch(c, &m.id, now)?;
                audit::append(
                c,
                now,
                Entry::ok(Some(actor), "deputy_named")
                    .subject(m.id.clone())
                    .detail(serde_json::json!({ "meeting": m.id, "member": member_id, "deputy": deputy_id })),
            )?;
                let named: Vec<NamedDeputyRow> = meeting_deputies::table
                    .filter(meeting_deputies::meeting_id.eq(&m.id))
                    .select(NamedDeputyRow::as_select())
                    .load(c)?;
                let ids: Vec<&str> = named
                    .iter()
                    .flat_map(|n| [n.member_id.as_str(), n.deputy_id.as_str()])
                    .collect();
                let found = people(c, &ids)?;
                Ok(named
                    .iter()
                    .map(|n| DeputyView {
                        for_member: person_of(&found, &n.member_id),
                        by: person_of(&found, &n.deputy_id),
                    })
                    .collect())
            })
        },
    )
}

/// A deputy must be an active user from the member's agency who may sit, and not a core member
/// in their own right.
pub fn check_deputy(
    found: &BTreeMap<String, (crate::db::models::UserRow, Option<AgencyRef>)>,
    members: &[crate::db::models::BodyMemberRow],
    member_id: &str,
    deputy_id: &str,
    field: &str,
) -> Result<(), AppError> {
    let Some((deputy, deputy_agency)) = found.get(deputy_id) else {
        return Err(AppError::invalid(
            field,
            format!("no user has the id {deputy_id}"),
        ));
    };
    let member = found.get(member_id);
    let member_name = member.map_or("the member", |(u, _)| u.name.as_str());
    let role = deputy
        .role
        .parse()
        .map_err(|e: String| AppError::internal(anyhow::anyhow!(e)))?;
    if deputy_id == member_id {
        return Err(AppError::invalid(
            field,
            "a member cannot deputise for themselves",
        ));
    }
    if !deputy.active || !may_sit(role) {
        return Err(AppError::invalid(
            field,
            format!("{} cannot be a deputy (administrators, lead reviewers and deactivated users cannot)", deputy.name),
        ));
    }
    if members.iter().any(|r| r.user_id == deputy_id) {
        return Err(AppError::invalid(
            field,
            format!("{} is a core member in their own right", deputy.name),
        ));
    }
    let member_agency = member.and_then(|(_, a)| a.as_ref());
    if deputy_agency.is_none() || deputy_agency.as_ref() != member_agency {
        return Err(AppError::invalid(
            field,
            format!(
                "{} is not from {member_name}'s agency ({}): a deputy represents the same agency",
                deputy.name,
                member_agency.map_or("none", |a| a.name.as_str())
            ),
        ));
    }
    Ok(())
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
    let all = list(conn, st, actor, &Filter::default())?;
    let mine: Vec<MeetingSummary> = all.into_iter().filter(|m| ids.contains(&m.id)).collect();
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
