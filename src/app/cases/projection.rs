//! The stage and the deadlines are projections of a case's events: recomputed in the same
//! transaction as each event, and again when the calendar changes. A deadline already met, or
//! already past, keeps its date unless what triggered it changed.

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;

use super::{facts, stored};
use crate::app::new_id;
use crate::db::models::{CaseRow, DeadlineRow};
use crate::db::schema::{cases, deadlines};
use crate::db::DbConnection;
use crate::domain::calendar::Calendar;
use crate::domain::deadlines::{compute, CaseInput, Deadline, DeadlineStatus};
use crate::domain::events::Event;
use crate::domain::workflow::CaseState;
use crate::error::AppError;
use crate::state::AppState;

/// What happened to one deadline.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DeadlineChange {
    pub deadline_id: String,
    pub rule: String,
    pub instance: i32,
    pub label: String,
    pub change: &'static str,
    pub due_on: NaiveDate,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_due_on: Option<NaiveDate>,
    pub status: String,
}

/// The result of a refresh.
#[derive(Debug, Clone)]
pub struct Refreshed {
    pub stage: String,
    pub changes: Vec<DeadlineChange>,
}

impl Refreshed {
    /// For audit entries.
    pub fn summary(&self) -> serde_json::Value {
        serde_json::to_value(&self.changes).unwrap_or_default()
    }

    pub fn moved(&self) -> impl Iterator<Item = &DeadlineChange> {
        self.changes.iter().filter(|c| c.change == "moved")
    }
}

fn row_from(
    case_id: &str,
    id: String,
    d: &Deadline,
    now: chrono::NaiveDateTime,
) -> Result<DeadlineRow, AppError> {
    Ok(DeadlineRow {
        id,
        case_id: case_id.to_string(),
        rule_id: d.rule_id.clone(),
        rule_version: d.rule_version,
        instance: d.instance,
        label: d.label.clone(),
        role: d.role.as_str().into(),
        due_on: d.due_on,
        status: d.status.as_str().into(),
        met_on: d.met_on,
        trigger_event: d.trigger_event.as_str().into(),
        trigger_on: d.trigger_on,
        explanation: serde_json::to_string(&d.explanation).map_err(AppError::internal)?,
        updated_at: stored(now),
    })
}

/// Recomputes stage and deadlines from the events. With `write` false nothing is written and
/// the changes say what would happen (calendar previews).
pub fn refresh(
    conn: &mut DbConnection,
    st: &AppState,
    case: &CaseRow,
    events: &[Event],
    calendar: &Calendar,
    write: bool,
) -> Result<Refreshed, AppError> {
    let now = st.now();
    let today = st.today();
    let state = CaseState::from_events(events);
    let input = CaseInput {
        facts: facts(case)?,
        division: case.division.parse().map_err(AppError::internal)?,
        stage: state.stage,
        events,
    };
    let computed = compute(&input, &st.rules, calendar)
        .map_err(|e| AppError::invalid("occurred_on", e.to_string()))?;
    let existing: Vec<DeadlineRow> = deadlines::table
        .filter(deadlines::case_id.eq(&case.id))
        .select(DeadlineRow::as_select())
        .load(conn)?;
    let mut changes = vec![];
    let mut next_due: Option<NaiveDate> = None;
    for d in &computed {
        let old = existing
            .iter()
            .find(|r| r.rule_id == d.rule_id && r.instance == d.instance);
        let mut new = row_from(&case.id, old.map_or_else(new_id, |o| o.id.clone()), d, now)?;
        if let Some(o) = old {
            let same_trigger =
                o.trigger_event == new.trigger_event && o.trigger_on == new.trigger_on;
            let settled = o.status != DeadlineStatus::Pending.as_str() || o.due_on < today;
            if same_trigger && settled && o.due_on != new.due_on {
                // Met or past: the date stands even though the calendar moved.
                new.due_on = o.due_on;
                new.explanation = o.explanation.clone();
                new.rule_version = o.rule_version;
                new.status = match (d.met_on, d.status) {
                    (_, DeadlineStatus::Waived) => DeadlineStatus::Waived,
                    (Some(m), _) if m <= o.due_on => DeadlineStatus::Met,
                    (Some(_), _) => DeadlineStatus::Missed,
                    (None, _) => DeadlineStatus::Pending,
                }
                .as_str()
                .into();
            }
            let moved = o.due_on != new.due_on;
            let status_changed = o.status != new.status || o.met_on != new.met_on;
            let rest_changed = o.explanation != new.explanation
                || o.label != new.label
                || o.rule_version != new.rule_version;
            if moved || status_changed {
                changes.push(DeadlineChange {
                    deadline_id: new.id.clone(),
                    rule: new.rule_id.clone(),
                    instance: new.instance,
                    label: new.label.clone(),
                    change: if moved { "moved" } else { "status" },
                    due_on: new.due_on,
                    previous_due_on: moved.then_some(o.due_on),
                    status: new.status.clone(),
                });
            }
            if write && (moved || status_changed || rest_changed) {
                diesel::update(deadlines::table.find(&o.id))
                    .set(&new)
                    .execute(conn)?;
            }
        } else {
            changes.push(DeadlineChange {
                deadline_id: new.id.clone(),
                rule: new.rule_id.clone(),
                instance: new.instance,
                label: new.label.clone(),
                change: "created",
                due_on: new.due_on,
                previous_due_on: None,
                status: new.status.clone(),
            });
            if write {
                diesel::insert_into(deadlines::table)
                    .values(&new)
                    .execute(conn)?;
            }
        }
        if new.status == DeadlineStatus::Pending.as_str() {
            next_due = Some(next_due.map_or(new.due_on, |n| n.min(new.due_on)));
        }
    }
    // Deadlines whose trigger no longer applies (a plan changed to "not published").
    for o in existing.iter().filter(|o| {
        o.status == DeadlineStatus::Pending.as_str()
            && !computed
                .iter()
                .any(|d| d.rule_id == o.rule_id && d.instance == o.instance)
    }) {
        changes.push(DeadlineChange {
            deadline_id: o.id.clone(),
            rule: o.rule_id.clone(),
            instance: o.instance,
            label: o.label.clone(),
            change: "no_longer_applies",
            due_on: o.due_on,
            previous_due_on: None,
            status: DeadlineStatus::Waived.as_str().into(),
        });
        if write {
            let mut explanation: serde_json::Value =
                serde_json::from_str(&o.explanation).unwrap_or_default();
            if let Some(m) = explanation.as_object_mut() {
                m.insert(
                    "waived_because".into(),
                    "no longer applies after a later event".into(),
                );
            }
            diesel::update(deadlines::table.find(&o.id))
                .set((
                    deadlines::status.eq(DeadlineStatus::Waived.as_str()),
                    deadlines::explanation.eq(explanation.to_string()),
                    deadlines::updated_at.eq(stored(now)),
                ))
                .execute(conn)?;
        }
    }
    if write {
        diesel::update(cases::table.find(&case.id))
            .set((
                cases::stage.eq(state.stage.as_str()),
                cases::next_due_on.eq(next_due),
                cases::event_count.eq(events.len() as i32),
                cases::updated_at.eq(stored(now)),
            ))
            .execute(conn)?;
    }
    Ok(Refreshed {
        stage: state.stage.as_str().into(),
        changes,
    })
}
