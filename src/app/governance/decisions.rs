//! Recording a decision at a held meeting. Refused with 422, recording nothing, when the
//! meeting was not quorate, the case is not on the agenda, the kind is not this body's, a vote
//! comes from an agency with no member free of conflict present, an agency votes twice, or a
//! casting vote is given without a split (or missing in one). The count itself is
//! `domain::governance::tally`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use diesel::prelude::*;
use serde_json::{json, Map, Value};

use super::access;
use super::bodies::{people, AgencyRef};
use super::meetings::{self, check_open, id_list, DecisionView};
use super::{audited, lock_meeting, quorum_needed};
use crate::app::audit::{self, Entry};
use crate::app::{agencies, new_id, stored, Actor};
use crate::db::models::{
    AttendanceRow, CasePersonRow, DecisionConflictRow, DecisionRow, DecisionVoteRow,
};
use crate::db::schema::{
    case_people, cases, decision_conflicts, decision_votes, decisions, meeting_attendance,
};
use crate::db::{write_tx, DbConnection};
use crate::domain::governance::quorum::Quorum;
use crate::domain::governance::tally::{self, Electorate, VoteCast};
use crate::domain::governance::{CastingVote, DecisionKind, Declared, Method, Vote};
use crate::domain::input::{FieldError, Fields, SHORT_MAX};
use crate::domain::roles::Relation;
use crate::error::AppError;
use crate::state::AppState;

/// A parsed request to record a decision.
#[derive(Debug, Clone)]
pub struct DecisionInput {
    pub case_id: Option<String>,
    pub kind: DecisionKind,
    pub method: Method,
    /// (agency id or name, vote)
    pub votes: Vec<(String, Vote)>,
    pub casting_vote: Option<CastingVote>,
    pub casting_by: Option<String>,
    pub conflicts: Vec<String>,
    pub note: Option<String>,
}

impl DecisionInput {
    /// `{"case_id","kind","method","votes":[{"agency","vote"}],"casting_vote","conflicts":[ids],
    /// "note"}` (and optionally `casting_by`, the chair who gave the casting vote). An agency is
    /// named by its id or its name.
    pub fn parse(input: &Map<String, Value>) -> Result<DecisionInput, Vec<FieldError>> {
        let mut errors = vec![];
        let conflicts = id_list(input, "conflicts", &mut errors);
        let mut f = Fields::new(input, &["votes", "conflicts", "casting_vote"]);
        let case_id = f.opt_text_max("case_id", SHORT_MAX);
        let kind = f.choice::<DecisionKind>("kind");
        let method = f.choice::<Method>("method");
        let casting_by = f.opt_text_max("casting_by", SHORT_MAX);
        let note = f.opt_text("note");
        let casting_vote = match input.get("casting_vote") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.trim().is_empty() => None,
            Some(Value::String(s)) => s
                .parse::<CastingVote>()
                .map_err(|m| f.fail("casting_vote", m))
                .ok(),
            Some(_) => {
                f.fail("casting_vote", "must be \"for\" or \"against\"");
                None
            }
        };
        let mut votes = vec![];
        match input.get("votes") {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                for item in items {
                    let agency = item.get("agency").and_then(Value::as_str).map(str::trim);
                    let vote = item
                        .get("vote")
                        .and_then(Value::as_str)
                        .map(str::parse::<Vote>);
                    match (agency, vote) {
                        (Some(a), Some(Ok(v))) if !a.is_empty() => votes.push((a.to_string(), v)),
                        (_, Some(Err(m))) => {
                            f.fail("votes", m);
                            break;
                        }
                        _ => {
                            f.fail("votes", "each vote is {\"agency\": id or name, \"vote\": \"for\", \"against\" or \"abstain\"}");
                            break;
                        }
                    }
                }
            }
            Some(_) => f.fail("votes", "must be a list of {\"agency\", \"vote\"}"),
        }
        if let Err(e) = f.finish() {
            errors.extend(e);
        }
        if errors.is_empty() {
            Ok(DecisionInput {
                case_id,
                kind: kind.expect("checked"),
                method: method.expect("checked"),
                votes,
                casting_vote,
                casting_by,
                conflicts,
                note,
            })
        } else {
            Err(errors)
        }
    }
}

/// Records a decision; answers with it (`id`, `outcome`, `tally`, …).
pub fn record(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    meeting_id: &str,
    input: &Map<String, Value>,
) -> Result<DecisionView, AppError> {
    // A refusal about a case on the agenda also appears in that case's audit trail.
    let case_hint = input
        .get("case_id")
        .and_then(Value::as_str)
        .map(str::to_string);
    let on_agenda = match &case_hint {
        Some(c) => access::agenda_ids(conn, meeting_id)?.contains(c),
        None => false,
    };
    let case_ref = case_hint.as_deref().filter(|_| on_agenda);
    let id = new_id();
    audited(
        conn,
        st,
        actor,
        "decision_recorded",
        Some(meeting_id),
        case_ref,
        |conn| {
            let parsed = DecisionInput::parse(input).map_err(AppError::Invalid)?;
            write(conn, st, actor, meeting_id, &id, &parsed)
        },
    )?;
    let row: DecisionRow = decisions::table
        .find(&id)
        .select(DecisionRow::as_select())
        .first(conn)?;
    let reference: HashMap<String, String> = match &row.case_id {
        Some(c) => cases::table
            .find(c)
            .select((cases::id, cases::reference))
            .load::<(String, String)>(conn)?
            .into_iter()
            .collect(),
        None => HashMap::new(),
    };
    Ok(meetings::decision_views(conn, vec![row], &reference)?.remove(0))
}

fn write(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    meeting_id: &str,
    id: &str,
    input: &DecisionInput,
) -> Result<(), AppError> {
    let now = st.now();
    write_tx(conn, |c| {
        let (m, body, _) = access::organised_meeting(c, actor, meeting_id)?;
        lock_meeting(c, &m.id)?;
        if input.kind.body() != body {
            return Err(AppError::invalid(
                "kind",
                format!(
                    "\"{}\" is decided by the {}, not the {}",
                    input.kind.label(),
                    input.kind.body().label(),
                    body.label()
                ),
            ));
        }
        let Some(held_on) = m.held_on else {
            return Err(AppError::invalid(
                "meeting",
                "record the meeting's attendance first: decisions are made at a held, quorate meeting",
            ));
        };
        check_open(&m)?;
        let attendance: Vec<AttendanceRow> = meeting_attendance::table
            .filter(meeting_attendance::meeting_id.eq(&m.id))
            .select(AttendanceRow::as_select())
            .load(c)?;
        let seats = meetings::seats(&attendance);
        let needed = m
            .quorum_needed
            .map_or_else(|| quorum_needed(&st.settings, body), |n| n as u32);
        if let Some(shortfall) = Quorum::of(needed, &seats).shortfall() {
            return Err(AppError::invalid(
                "quorum",
                format!(
                    "the meeting was not quorate ({shortfall}): an inquorate meeting cannot decide"
                ),
            ));
        }
        let agenda = access::agenda_ids(c, &m.id)?;
        let case_id = match (&input.case_id, input.kind.needs_case()) {
            (None, true) => {
                return Err(AppError::invalid(
                    "case_id",
                    "name the case the decision is about",
                ))
            }
            (None, false) => None,
            (Some(id), _) if !agenda.contains(id) => {
                return Err(AppError::invalid(
                    "case_id",
                    "that case is not on this meeting's agenda: put it on the agenda first",
                ))
            }
            (Some(id), _) => Some(id.clone()),
        };
        let attendee_ids: BTreeSet<&str> = attendance
            .iter()
            .filter(|r| r.kind != "apologies")
            .map(|r| r.user_id.as_str())
            .collect();
        let mut ids: Vec<&str> = input.conflicts.iter().map(String::as_str).collect();
        ids.extend(attendee_ids.iter().copied());
        let found = people(c, &ids)?;
        let name_of = |id: &str| {
            found
                .get(id)
                .map_or(id.to_string(), |(u, _)| u.name.clone())
        };
        let mut errors = vec![];
        for u in &input.conflicts {
            if !attendee_ids.contains(u.as_str()) {
                errors.push(FieldError::new(
                    "conflicts",
                    format!("{} was not at the meeting: a conflict declared elsewhere is recorded on the case", name_of(u)),
                ));
            }
        }
        let earlier: BTreeSet<String> = match &case_id {
            Some(cid) => case_people::table
                .filter(case_people::case_id.eq(cid))
                .filter(case_people::relation.eq(Relation::Conflict.as_str()))
                .select(case_people::user_id)
                .load::<String>(c)?
                .into_iter()
                .collect(),
            None => BTreeSet::new(),
        };
        let at_meeting: BTreeSet<String> = input.conflicts.iter().cloned().collect();
        let conflicted: BTreeSet<String> = at_meeting.union(&earlier).cloned().collect();
        let agency_names = agencies::names(c)?;
        let known = agencies::all(c)?;
        let mut votes = vec![];
        for (text, vote) in &input.votes {
            match agencies::find(&known, text) {
                Some(a) => votes.push(VoteCast {
                    agency_id: a.id.clone(),
                    vote: *vote,
                }),
                None => errors.push(FieldError::new(
                    "votes",
                    format!("no agency is called {text:?}"),
                )),
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let electorate = Electorate::of(&seats, &conflicted);
        let agency_name = |id: &str| {
            agency_names
                .get(id)
                .cloned()
                .unwrap_or_else(|| id.to_string())
        };
        let counted = tally::count(
            input.method,
            &votes,
            input.casting_vote,
            &electorate,
            agency_name,
        )
        .map_err(AppError::Invalid)?;
        let casting_by = if counted.split {
            match &input.casting_by {
                Some(by) if electorate.chairs.contains(by) => Some(by.clone()),
                Some(_) => {
                    return Err(AppError::invalid(
                        "casting_by",
                        format!(
                            "the casting vote is given by {} sitting without a conflict",
                            body.chair_title()
                        ),
                    ))
                }
                None if electorate.chairs.contains(&actor.user_id) => Some(actor.user_id.clone()),
                None if electorate.chairs.len() == 1 => electorate.chairs.first().cloned(),
                None => None,
            }
        } else {
            None
        };
        let agency_ref = |id: &str| AgencyRef {
            id: id.to_string(),
            name: agency_name(id),
        };
        let excluded: Vec<Value> = seats
            .iter()
            .filter(|s| conflicted.contains(&s.user_id))
            .map(|s| {
                json!({
                    "id": s.user_id, "name": name_of(&s.user_id), "agency": agency_ref(&s.agency_id),
                    "declared": if at_meeting.contains(&s.user_id) { Declared::AtMeeting } else { Declared::Earlier },
                })
            })
            .collect();
        let mut by_agency: BTreeMap<String, Vote> = BTreeMap::new();
        for v in &votes {
            by_agency.insert(v.agency_id.clone(), v.vote);
        }
        let mut vote_list: Vec<Value> = by_agency
            .iter()
            .map(|(a, v)| json!({ "agency": agency_ref(a), "vote": v }))
            .collect();
        vote_list.sort_by_key(|v| v["agency"]["name"].as_str().unwrap_or("").to_string());
        let tally_json = json!({
            "for": counted.votes_for,
            "against": counted.against,
            "abstain": counted.abstain,
            "agencies_eligible": counted.agencies_eligible,
            "agencies_present": electorate.present.len(),
            "not_voting": counted.not_voting.iter().map(|a| agency_ref(a)).collect::<Vec<_>>(),
            "split": counted.split,
            "casting_vote": counted.casting_vote,
            "casting_by": casting_by.as_ref().map(|u| json!({ "id": u, "name": name_of(u) })),
            "votes": vote_list,
            "excluded": excluded,
            "quorum": { "needed": needed, "agencies_present": electorate.present.len() },
        });
        diesel::insert_into(decisions::table)
            .values(&DecisionRow {
                id: id.to_string(),
                meeting_id: m.id.clone(),
                case_id: case_id.clone(),
                kind: input.kind.as_str().into(),
                method: input.method.as_str().into(),
                outcome: counted.outcome.as_str().into(),
                votes_for: counted.votes_for as i32,
                votes_against: counted.against as i32,
                abstentions: counted.abstain as i32,
                casting_vote: counted.casting_vote.map(|v| v.as_str().to_string()),
                casting_by: casting_by.clone(),
                tally: tally_json.to_string(),
                note: input.note.clone(),
                recorded_by: actor.user_id.clone(),
                recorded_at: stored(now),
            })
            .execute(c)?;
        let vote_rows: Vec<DecisionVoteRow> = votes
            .iter()
            .map(|v| DecisionVoteRow {
                decision_id: id.to_string(),
                agency_id: v.agency_id.clone(),
                vote: v.vote.as_str().into(),
            })
            .collect();
        for v in &vote_rows {
            diesel::insert_into(decision_votes::table)
                .values(v)
                .execute(c)?;
        }
        let conflict_rows: Vec<DecisionConflictRow> = conflicted
            .iter()
            .filter(|u| attendee_ids.contains(u.as_str()))
            .map(|u| DecisionConflictRow {
                decision_id: id.to_string(),
                user_id: u.clone(),
                declared: if at_meeting.contains(u) {
                    Declared::AtMeeting
                } else {
                    Declared::Earlier
                }
                .as_str()
                .into(),
            })
            .collect();
        for r in &conflict_rows {
            diesel::insert_into(decision_conflicts::table)
                .values(r)
                .execute(c)?;
        }
        // A conflict declared at the meeting is a conflict on the case from then on.
        if let Some(cid) = &case_id {
            for u in at_meeting.difference(&earlier) {
                diesel::insert_into(case_people::table)
                    .values(&CasePersonRow {
                        case_id: cid.clone(),
                        user_id: u.clone(),
                        relation: Relation::Conflict.as_str().into(),
                        since: held_on,
                    })
                    .execute(c)?;
                audit::append(
                    c,
                    now,
                    Entry::ok(Some(actor), "conflict_declared")
                        .case(cid)
                        .subject(u.clone())
                        .detail(json!({ "at_meeting": m.id, "declared_by": u })),
                )?;
            }
        }
        meetings::touch(c, &m.id, now)?;
        let mut entry = Entry::ok(Some(actor), "decision_recorded")
            .subject(m.id.clone())
            .detail(json!({
                "meeting": m.id, "decision": id, "kind": input.kind, "method": input.method,
                "outcome": counted.outcome, "tally": tally_json, "note": input.note,
            }));
        if let Some(cid) = &case_id {
            entry = entry.case(cid);
        }
        audit::append(c, now, entry)?;
        Ok(())
    })
}
