//! The Sub-Group's report to each Executive Board meeting: open cases by stage, deadlines missed
//! since a date, deadlines due before the next Board meeting (the next one scheduled, else
//! [`DEFAULT_HORIZON_WEEKS`] weeks), decisions made since the date, improvement actions overdue by
//! agency. Over the cases the user may see.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;

use super::actions::{self, Action};
use super::{check_may_read, events_of, CHUNK};
use crate::app::access::visible_cases;
use crate::app::Actor;
use crate::db::fixed;
use crate::db::schema::{cases, deadlines, decisions, meetings};
use crate::db::DbConnection;
use crate::domain::case::Stage;
use crate::domain::deadlines::DeadlineStatus;
use crate::domain::governance::{Body, DecisionKind, Outcome};
use crate::domain::input::parse_date;
use crate::error::AppError;
use crate::state::AppState;

/// Without a Board meeting scheduled, deadlines due in this many weeks are listed.
pub const DEFAULT_HORIZON_WEEKS: i64 = 8;

/// `since=YYYY-MM-DD`, not after today; without it, the day of the last Board meeting held
/// (else the default horizon back from today).
pub fn parse_since(q: Option<&str>) -> Result<Option<NaiveDate>, AppError> {
    match q.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => parse_date(s)
            .map(Some)
            .map_err(|m| AppError::bad_request("since", m)),
    }
}

/// A deadline as the Board reads it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct DeadlineLine {
    pub case_id: String,
    pub reference: String,
    pub rule: String,
    pub label: String,
    pub due_on: NaiveDate,
    pub met_on: Option<NaiveDate>,
    pub status: DeadlineStatus,
}

/// A decision made at a meeting.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct DecisionLine {
    pub meeting_id: String,
    #[schemars(with = "crate::domain::governance::Body")]
    pub body: String,
    pub body_label: String,
    pub meeting_title: String,
    pub decided_on: NaiveDate,
    pub case_id: Option<String>,
    pub reference: Option<String>,
    #[schemars(with = "crate::domain::governance::DecisionKind")]
    pub kind: String,
    pub kind_label: String,
    #[schemars(with = "crate::domain::governance::Outcome")]
    pub outcome: String,
    pub outcome_label: String,
}

/// The next Board meeting, when one is scheduled.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct NextMeeting {
    pub id: String,
    pub title: String,
    pub scheduled_on: NaiveDate,
}

/// One stage and how many open cases are at it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct StageCount {
    pub stage: Stage,
    pub label: &'static str,
    pub cases: usize,
}

/// An overdue action with its case's reference.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct OverdueAction {
    pub reference: String,
    #[serde(flatten)]
    pub action: Action,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct BoardReport {
    pub since: NaiveDate,
    pub as_of: NaiveDate,
    pub next_board_meeting: Option<NextMeeting>,
    /// Deadlines due up to this day are listed: the next Board meeting, else 8 weeks ahead.
    pub due_until: NaiveDate,
    pub open_cases: usize,
    pub open_cases_by_stage: Vec<StageCount>,
    pub deadlines_missed: Vec<DeadlineLine>,
    pub deadlines_due: Vec<DeadlineLine>,
    pub decisions: Vec<DecisionLine>,
    pub actions_overdue: usize,
    pub actions_overdue_by_agency: BTreeMap<String, Vec<OverdueAction>>,
}

/// The report for `actor`, since `since` (see [`parse_since`]).
pub fn compute(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    since: Option<NaiveDate>,
) -> Result<BoardReport, AppError> {
    check_may_read(actor)?;
    let today = st.today();
    let horizon = chrono::Duration::weeks(DEFAULT_HORIZON_WEEKS);
    let since = match since {
        Some(s) => s,
        None => meetings::table
            .filter(meetings::body.eq(Body::Board.as_str()))
            .filter(meetings::held_on.le(today))
            .select(meetings::held_on)
            .order(meetings::held_on.desc())
            .first::<Option<NaiveDate>>(conn)
            .optional()?
            .flatten()
            .unwrap_or(today - horizon),
    };
    if since > today {
        return Err(AppError::invalid("since", "cannot be in the future"));
    }
    let next_board_meeting = meetings::table
        .filter(meetings::body.eq(Body::Board.as_str()))
        .filter(meetings::held_on.is_null())
        .filter(meetings::scheduled_on.ge(today))
        .order((meetings::scheduled_on.asc(), meetings::id.asc()))
        .select((meetings::id, meetings::title, meetings::scheduled_on))
        .first::<(String, String, NaiveDate)>(conn)
        .optional()?
        .map(|(id, title, scheduled_on)| NextMeeting {
            id,
            title,
            scheduled_on,
        });
    let due_until = next_board_meeting
        .as_ref()
        .map_or(today + horizon, |m| m.scheduled_on);

    // Counted in SQL: one row per stage, however many cases.
    let stages: BTreeMap<String, i64> = cases::table
        .filter(visible_cases(actor))
        .filter(cases::stage.ne_all([Stage::Closed.as_str(), Stage::Withdrawn.as_str()]))
        .group_by(cases::stage)
        .select((cases::stage, diesel::dsl::count_star()))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect();
    let open_cases_by_stage: Vec<StageCount> = Stage::ALL
        .iter()
        .map(|s| StageCount {
            stage: *s,
            label: s.label(),
            cases: stages.get(s.as_str()).copied().unwrap_or(0) as usize,
        })
        .filter(|c| c.cases > 0)
        .collect();

    type Line = (
        String,
        String,
        String,
        String,
        NaiveDate,
        Option<NaiveDate>,
        String,
    );
    let columns = (
        cases::id,
        cases::reference,
        deadlines::rule_id,
        deadlines::label,
        deadlines::due_on,
        deadlines::met_on,
        deadlines::status,
    );
    let to_line = |(case_id, reference, rule, label, due_on, met_on, status): Line| DeadlineLine {
        case_id,
        reference,
        rule,
        label,
        due_on,
        met_on,
        status: crate::domain::deadlines::effective_status(
            status.parse().unwrap_or(DeadlineStatus::Pending),
            due_on,
            today,
        ),
    };
    let missed: Vec<Line> = deadlines::table
        .inner_join(cases::table)
        .filter(visible_cases(actor))
        .filter(deadlines::due_on.ge(since))
        .filter(deadlines::due_on.lt(today))
        .filter(deadlines::status.eq_any([
            DeadlineStatus::Missed.as_str(),
            DeadlineStatus::Pending.as_str(),
        ]))
        .order((
            deadlines::due_on.asc(),
            cases::reference.asc(),
            deadlines::rule_id.asc(),
        ))
        .select(columns)
        .load(conn)?;
    let due: Vec<Line> = deadlines::table
        .inner_join(cases::table)
        .filter(visible_cases(actor))
        .filter(deadlines::status.eq(fixed::text(DeadlineStatus::Pending.as_str())))
        .filter(deadlines::due_on.ge(today))
        .filter(deadlines::due_on.le(due_until))
        .order((
            deadlines::due_on.asc(),
            cases::reference.asc(),
            deadlines::rule_id.asc(),
        ))
        .select(columns)
        .load(conn)?;

    let decisions = decisions_since(conn, actor, since, today)?;
    let (actions_overdue, actions_overdue_by_agency) = overdue_actions(conn, actor, today)?;
    Ok(BoardReport {
        since,
        as_of: today,
        next_board_meeting,
        due_until,
        open_cases: stages.values().sum::<i64>() as usize,
        open_cases_by_stage,
        deadlines_missed: missed.into_iter().map(to_line).collect(),
        deadlines_due: due.into_iter().map(to_line).collect(),
        decisions,
        actions_overdue,
        actions_overdue_by_agency,
    })
}

/// Decisions of meetings held from `since` to today, on cases the actor sees (a decision on no
/// case only for the roles that see every case).
fn decisions_since(
    conn: &mut DbConnection,
    actor: &Actor,
    since: NaiveDate,
    today: NaiveDate,
) -> Result<Vec<DecisionLine>, AppError> {
    type Row = (
        String,
        String,
        String,
        Option<NaiveDate>,
        Option<String>,
        String,
        String,
    );
    let rows: Vec<Row> = decisions::table
        .inner_join(meetings::table)
        .filter(meetings::held_on.ge(since))
        .filter(meetings::held_on.le(today))
        .order((meetings::held_on.asc(), decisions::recorded_at.asc()))
        .select((
            meetings::id,
            meetings::body,
            meetings::title,
            meetings::held_on,
            decisions::case_id,
            decisions::kind,
            decisions::outcome,
        ))
        .load(conn)?;
    let case_ids: Vec<&str> = rows.iter().filter_map(|r| r.4.as_deref()).collect();
    let visible: BTreeMap<String, String> = cases::table
        .filter(visible_cases(actor))
        .filter(cases::id.eq_any(&case_ids))
        .select((cases::id, cases::reference))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    let every = actor.role.sees_all_cases();
    Ok(rows
        .into_iter()
        .filter(|r| match &r.4 {
            Some(id) => visible.contains_key(id),
            None => every,
        })
        .map(
            |(meeting_id, body, title, held_on, case_id, kind, outcome)| {
                let label =
                    |s: &str, f: fn(&str) -> Option<&'static str>| f(s).unwrap_or("").to_string();
                DecisionLine {
                    meeting_id,
                    body_label: label(&body, |s| s.parse::<Body>().ok().map(Body::label)),
                    body,
                    meeting_title: title,
                    decided_on: held_on.unwrap_or(today),
                    reference: case_id.as_ref().and_then(|id| visible.get(id).cloned()),
                    case_id,
                    kind_label: label(&kind, |s| {
                        s.parse::<DecisionKind>().ok().map(DecisionKind::label)
                    }),
                    kind,
                    outcome_label: label(&outcome, |s| {
                        s.parse::<Outcome>().ok().map(Outcome::label)
                    }),
                    outcome,
                }
            },
        )
        .collect())
}

/// Overdue improvement actions of the visible cases, by owner agency: only the cases with an
/// improvement action deadline past due are read, a chunk at a time.
fn overdue_actions(
    conn: &mut DbConnection,
    actor: &Actor,
    today: NaiveDate,
) -> Result<(usize, BTreeMap<String, Vec<OverdueAction>>), AppError> {
    let overdue_cases: Vec<(String, String)> = cases::table
        .filter(visible_cases(actor))
        .filter(
            cases::id.eq_any(
                deadlines::table
                    .filter(deadlines::rule_id.eq("improvement_action"))
                    .filter(deadlines::status.eq(fixed::text(DeadlineStatus::Pending.as_str())))
                    .filter(deadlines::due_on.lt(today))
                    .select(deadlines::case_id),
            ),
        )
        .order(cases::reference.asc())
        .select((cases::id, cases::reference))
        .load(conn)?;
    let references: BTreeMap<&str, &str> = overdue_cases
        .iter()
        .map(|(id, r)| (id.as_str(), r.as_str()))
        .collect();
    let mut by: BTreeMap<String, Vec<OverdueAction>> = BTreeMap::new();
    let mut total = 0;
    for chunk in overdue_cases.chunks(CHUNK) {
        let ids: Vec<&str> = chunk.iter().map(|(id, _)| id.as_str()).collect();
        let events = events_of(conn, &ids, &actions::TYPES)?;
        let list = actions::from_events(&events);
        for (agency, list) in actions::overdue_by_agency(&list, today) {
            total += list.len();
            by.entry(agency)
                .or_default()
                .extend(list.into_iter().map(|a| {
                    OverdueAction {
                        reference: references
                            .get(a.case_id.as_str())
                            .map(|r| r.to_string())
                            .unwrap_or_default(),
                        action: a.clone(),
                    }
                }));
        }
    }
    Ok((total, by))
}
