//! A meeting as one person may see it: the views the API answers and the pages show, and how
//! they are built from the rows (the seats and quorum of a held meeting, the agenda, the
//! attendance, decisions, minutes and papers).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::Value;

use super::access::{Sight, Standing};
use super::bodies::{people, AgencyRef, Person};
use super::{body_of, quorum_needed};
use crate::app::Actor;
use crate::db::models::{
    AttendanceRow, DecisionRow, GuestRow, MeetingRow, MinutesRow, NamedDeputyRow, PaperRow,
};
use crate::db::schema::{
    cases, decisions, meeting_agenda, meeting_attendance, meeting_deputies, meeting_guests,
    meeting_minutes, meeting_papers,
};
use crate::db::DbConnection;
use crate::domain::governance::quorum::{Quorum, Seat};
use crate::domain::governance::{
    may_organise, AttendanceKind, Body, DecisionKind, MeetingStatus, Method, Outcome, Scheduled,
};
use crate::error::AppError;
use crate::state::AppState;
/// Where a meeting stands.
pub fn status(m: &MeetingRow) -> MeetingStatus {
    if m.signed_off_at.is_some() {
        MeetingStatus::SignedOff
    } else if m.held_on.is_some() {
        MeetingStatus::Held
    } else {
        MeetingStatus::Scheduled
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
#[derive(Debug, Clone, Serialize, PartialEq, Eq, schemars::JsonSchema)]
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

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct AgendaItem {
    pub case_id: String,
    pub reference: String,
    pub pseudonym: String,
    /// Whether this person may open the case (and read its minutes).
    pub case_visible: bool,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Attendee {
    #[serde(flatten)]
    pub person: Person,
    pub core_member: bool,
    pub chair: bool,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct DeputyView {
    #[serde(rename = "for")]
    pub for_member: Person,
    pub by: Person,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Guest {
    pub name: String,
    pub organisation: String,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct AttendanceView {
    pub present: Vec<Attendee>,
    pub apologies: Vec<Attendee>,
    pub deputies: Vec<DeputyView>,
    pub guests: Vec<Guest>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Revision {
    pub revision: i32,
    pub text: String,
    pub correction_reason: Option<String>,
    pub written_by: Person,
    #[serde(serialize_with = "crate::utc::ser")]
    #[schemars(with = "crate::utc::Stamp")]
    pub written_at: NaiveDateTime,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct MinutesView {
    /// `None`: the meeting's own key points; otherwise an agenda case's.
    pub case_id: Option<String>,
    pub reference: Option<String>,
    pub text: String,
    pub revision: i32,
    pub written_by: Person,
    #[serde(serialize_with = "crate::utc::ser")]
    #[schemars(with = "crate::utc::Stamp")]
    pub written_at: NaiveDateTime,
    /// Changes made after the sign-off, oldest first, each with its reason.
    pub corrections: Vec<Revision>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct PaperView {
    pub id: String,
    pub title: String,
    pub file_name: String,
    pub size_bytes: i64,
    pub content_type: String,
    pub sha256: String,
    pub uploaded_by: Person,
    #[serde(serialize_with = "crate::utc::ser")]
    #[schemars(with = "crate::utc::Stamp")]
    pub uploaded_at: NaiveDateTime,
    pub download_url: String,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
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
    #[schemars(with = "Tally")]
    pub tally: Value,
    pub note: Option<String>,
    pub recorded_by: Person,
    #[serde(serialize_with = "crate::utc::ser")]
    #[schemars(with = "crate::utc::Stamp")]
    pub recorded_at: NaiveDateTime,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct SignOff {
    pub by: Person,
    #[serde(serialize_with = "crate::utc::ser")]
    #[schemars(with = "crate::utc::Stamp")]
    pub at: NaiveDateTime,
}

/// What this person may do to the meeting.
#[derive(Debug, Clone, Copy, Serialize, schemars::JsonSchema)]
pub struct Permissions {
    pub organise: bool,
    pub sign_off: bool,
    pub name_deputy: bool,
    /// Write the minutes (organisers), or correct them after the sign-off (organisers, chairs).
    pub write_minutes: bool,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct MeetingView {
    pub id: String,
    pub body: Body,
    pub body_label: &'static str,
    pub title: String,
    pub scheduled_for: String,
    pub scheduled_on: NaiveDate,
    pub start_time: Option<String>,
    pub status: MeetingStatus,
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
    #[serde(serialize_with = "crate::utc::ser")]
    #[schemars(with = "crate::utc::Stamp")]
    pub created_at: NaiveDateTime,
    /// Only part of the meeting is shown (a lead reviewer's own cases).
    pub partial: bool,
    pub may: Permissions,
}

/// A meeting in a list.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct MeetingSummary {
    pub id: String,
    pub body: Body,
    pub body_label: &'static str,
    pub title: String,
    pub scheduled_for: String,
    pub start_time: Option<String>,
    /// The day it was held, or is to be.
    pub date: NaiveDate,
    pub status: MeetingStatus,
    pub held_on: Option<NaiveDate>,
    pub quorum: QuorumView,
    pub agenda: Vec<AgendaItem>,
    pub decisions: usize,
}

pub(super) fn person_of(
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
pub(super) fn agenda_of(
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

pub(super) fn agenda_items(
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

/// A decision's count, as recorded with it (`DecisionView::tally`).
#[derive(Serialize, schemars::JsonSchema)]
#[allow(dead_code)] // Written as JSON by `decisions::record`; the shape for the schema.
pub struct Tally {
    #[serde(rename = "for")]
    pub votes_for: u32,
    pub against: u32,
    pub abstain: u32,
    pub agencies_eligible: u32,
    pub agencies_present: u32,
    pub not_voting: Vec<AgencyRef>,
    pub split: bool,
    pub casting_vote: Option<crate::domain::governance::CastingVote>,
    pub casting_by: Option<TallyPerson>,
    pub votes: Vec<AgencyVote>,
    pub excluded: Vec<Excluded>,
    pub quorum: TallyQuorum,
}

#[derive(Serialize, schemars::JsonSchema)]
#[allow(dead_code)] // Written as JSON by `decisions::record`; the shape for the schema.
pub struct TallyPerson {
    pub id: String,
    pub name: String,
}

#[derive(Serialize, schemars::JsonSchema)]
#[allow(dead_code)] // Written as JSON by `decisions::record`; the shape for the schema.
pub struct AgencyVote {
    pub agency: AgencyRef,
    pub vote: crate::domain::governance::Vote,
}

/// A member excluded from the vote by a conflict of interest.
#[derive(Serialize, schemars::JsonSchema)]
#[allow(dead_code)] // Written as JSON by `decisions::record`; the shape for the schema.
pub struct Excluded {
    pub id: String,
    pub name: String,
    pub agency: AgencyRef,
    pub declared: crate::domain::governance::Declared,
}

#[derive(Serialize, schemars::JsonSchema)]
#[allow(dead_code)] // Written as JSON by `decisions::record`; the shape for the schema.
pub struct TallyQuorum {
    pub needed: u32,
    pub agencies_present: u32,
}
