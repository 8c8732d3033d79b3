//! The stage and the deadlines are projections of a case's events: recomputed in the same
//! transaction as each event, and again when the calendar changes. Three steps: compute the
//! deadlines (`domain::deadlines::compute`), [`reconcile`] them with the stored rows (pure: a
//! deadline already met, or already past, keeps its date unless what triggered it changed),
//! then write what changed. The result says what was written, so nothing is read back.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use super::facts;
use crate::app::{new_id, stored};
use crate::db::models::{CaseRow, DeadlineRow};
use crate::db::schema::{cases, deadlines};
use crate::db::DbConnection;
use crate::domain::calendar::Calendar;
use crate::domain::case::Stage;
use crate::domain::deadlines::{compute, CaseInput, Deadline, DeadlineStatus};
use crate::domain::events::Event;
use crate::domain::workflow::History;
use crate::error::AppError;
use crate::state::AppState;

crate::text_enum! {
    /// What happened to one deadline when its case's events changed.
    pub enum ChangeKind {
        Created = ("created", "Created"),
        Moved = ("moved", "Moved"),
        /// Met, missed or waived.
        Status = ("status", "Status changed"),
        NoLongerApplies = ("no_longer_applies", "No longer applies"),
        /// Its trigger was voided or corrected away.
        Removed = ("removed", "Removed"),
    }
}

/// What happened to one deadline.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DeadlineChange {
    pub deadline_id: String,
    pub rule: String,
    pub instance: i32,
    pub label: String,
    pub change: ChangeKind,
    pub due_on: NaiveDate,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_due_on: Option<NaiveDate>,
    pub status: String,
}

/// The result of a refresh: the stage, what changed, and every deadline row as it now stands
/// (written, or with `write` false as it would be).
#[derive(Debug, Clone)]
pub struct Refreshed {
    pub stage: Stage,
    pub next_due_on: Option<NaiveDate>,
    pub changes: Vec<DeadlineChange>,
    pub rows: Vec<DeadlineRow>,
    /// Rows deleted because their trigger is gone, as they were.
    pub removed: Vec<DeadlineRow>,
}

impl Refreshed {
    /// For audit entries.
    pub fn summary(&self) -> serde_json::Value {
        serde_json::to_value(&self.changes).unwrap_or_default()
    }

    pub fn moved(&self) -> impl Iterator<Item = &DeadlineChange> {
        self.changes
            .iter()
            .filter(|c| c.change == ChangeKind::Moved)
    }

    /// The deadlines still pending, soonest first (what reminders are planned for).
    pub fn pending(&self) -> Vec<&DeadlineRow> {
        let mut pending: Vec<&DeadlineRow> = self
            .rows
            .iter()
            .filter(|r| r.status == DeadlineStatus::Pending.as_str())
            .collect();
        pending.sort_by(|a, b| (a.due_on, &a.rule_id).cmp(&(b.due_on, &b.rule_id)));
        pending
    }

    /// The row a change is about (as it was, for one removed).
    pub fn row(&self, deadline_id: &str) -> Option<&DeadlineRow> {
        self.rows
            .iter()
            .chain(&self.removed)
            .find(|r| r.id == deadline_id)
    }
}

/// The deadlines of a case as stored.
pub fn stored_deadlines(
    conn: &mut DbConnection,
    case_id: &str,
) -> Result<Vec<DeadlineRow>, AppError> {
    Ok(deadlines::table
        .filter(deadlines::case_id.eq(case_id))
        .select(DeadlineRow::as_select())
        .load(conn)?)
}

/// Recomputes stage and deadlines from the history and writes what changed (with `write`
/// false nothing is written: the changes say what would happen, for calendar previews).
/// `existing` are the case's deadline rows as read in this transaction.
pub fn refresh(
    conn: &mut DbConnection,
    st: &AppState,
    case: &CaseRow,
    history: &History,
    calendar: &Calendar,
    existing: Vec<DeadlineRow>,
    write: bool,
) -> Result<Refreshed, AppError> {
    let now = st.now();
    let state = history.state();
    let input = CaseInput {
        facts: facts(case)?,
        division: case.division.parse().map_err(AppError::internal)?,
        stage: state.stage,
        events: history.events(),
    };
    let computed = compute(&input, &st.rules, calendar)
        .map_err(|e| AppError::invalid("occurred_on", e.to_string()))?;
    let r = reconcile(
        &case.id,
        existing,
        &computed,
        history.events(),
        st.today(),
        now,
    )?;
    if write {
        write_rows(conn, &r.inserts, &r.updates, &r.deletes)?;
        diesel::update(cases::table.find(&case.id))
            .set((
                cases::stage.eq(state.stage.as_str()),
                cases::next_due_on.eq(r.next_due_on),
                cases::event_count.eq(history.events().len() as i32),
                cases::updated_at.eq(stored(now)),
            ))
            .execute(conn)?;
    }
    Ok(Refreshed {
        stage: state.stage,
        next_due_on: r.next_due_on,
        changes: r.changes,
        rows: r.rows,
        removed: r.removed,
    })
}

/// What a refresh writes, and what it changes.
struct Reconciled {
    inserts: Vec<DeadlineRow>,
    updates: Vec<DeadlineRow>,
    /// Rows whose trigger is no longer among the events (it was voided or corrected away).
    deletes: Vec<String>,
    removed: Vec<DeadlineRow>,
    changes: Vec<DeadlineChange>,
    rows: Vec<DeadlineRow>,
    next_due_on: Option<NaiveDate>,
}

fn change(row: &DeadlineRow, change: ChangeKind, previous: Option<NaiveDate>) -> DeadlineChange {
    DeadlineChange {
        deadline_id: row.id.clone(),
        rule: row.rule_id.clone(),
        instance: row.instance,
        label: row.label.clone(),
        change,
        due_on: row.due_on,
        previous_due_on: previous,
        status: row.status.clone(),
    }
}

/// Matches the computed deadlines with the stored rows (by rule and instance): the rows to
/// insert, update and delete, and every change a person would notice. `events` are the case's
/// current events.
fn reconcile(
    case_id: &str,
    existing: Vec<DeadlineRow>,
    computed: &[Deadline],
    events: &[Event],
    today: NaiveDate,
    now: NaiveDateTime,
) -> Result<Reconciled, AppError> {
    let mut out = Reconciled {
        inserts: vec![],
        updates: vec![],
        deletes: vec![],
        removed: vec![],
        changes: vec![],
        rows: vec![],
        next_due_on: None,
    };
    let mut existing: Vec<Option<DeadlineRow>> = existing.into_iter().map(Some).collect();
    for d in computed {
        let old = existing
            .iter_mut()
            .find(|r| {
                r.as_ref()
                    .is_some_and(|r| r.rule_id == d.rule_id && r.instance == d.instance)
            })
            .and_then(Option::take);
        let new = match old {
            Some(o) => updated(o, d, today, now, &mut out)?,
            None => {
                let new = row_from(case_id, new_id(), d, now)?;
                out.changes.push(change(&new, ChangeKind::Created, None));
                out.inserts.push(new.clone());
                new
            }
        };
        if new.status == DeadlineStatus::Pending.as_str() {
            out.next_due_on = Some(out.next_due_on.map_or(new.due_on, |n| n.min(new.due_on)));
        }
        out.rows.push(new);
    }
    // Stored rows no computed deadline matches: one whose trigger is gone (voided, or
    // corrected into another event) goes; a pending one whose trigger no longer applies (a
    // plan changed to "not published") is no longer needed; a settled one stays as it is.
    for o in existing.into_iter().flatten() {
        let trigger_kept = events
            .iter()
            .any(|e| e.kind().as_str() == o.trigger_event && e.occurred_on == o.trigger_on);
        if !trigger_kept {
            out.changes.push(change(&o, ChangeKind::Removed, None));
            out.deletes.push(o.id.clone());
            out.removed.push(o);
            continue;
        }
        if o.status != DeadlineStatus::Pending.as_str() {
            out.rows.push(o);
            continue;
        }
        let mut explanation: serde_json::Value =
            serde_json::from_str(&o.explanation).unwrap_or_default();
        if let Some(m) = explanation.as_object_mut() {
            m.insert(
                "waived_because".into(),
                "no longer applies after a later event".into(),
            );
        }
        let waived = DeadlineRow {
            status: DeadlineStatus::Waived.as_str().into(),
            explanation: explanation.to_string(),
            updated_at: stored(now),
            ..o
        };
        out.changes
            .push(change(&waived, ChangeKind::NoLongerApplies, None));
        out.updates.push(waived.clone());
        out.rows.push(waived);
    }
    Ok(out)
}

/// The stored row `o` brought up to the computed deadline `d`, noting any change.
fn updated(
    o: DeadlineRow,
    d: &Deadline,
    today: NaiveDate,
    now: NaiveDateTime,
    out: &mut Reconciled,
) -> Result<DeadlineRow, AppError> {
    let mut new = row_from(&o.case_id, o.id.clone(), d, now)?;
    let same_trigger = o.trigger_event == new.trigger_event && o.trigger_on == new.trigger_on;
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
        let kind = if moved {
            ChangeKind::Moved
        } else {
            ChangeKind::Status
        };
        out.changes
            .push(change(&new, kind, moved.then_some(o.due_on)));
    }
    if moved || status_changed || rest_changed {
        out.updates.push(new.clone());
        Ok(new)
    } else {
        // Unchanged: the stored row as it is (its `updated_at` included).
        Ok(o)
    }
}

fn row_from(
    case_id: &str,
    id: String,
    d: &Deadline,
    now: NaiveDateTime,
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

/// New rows (on PostgreSQL in one statement); each changed row in its own.
fn write_rows(
    conn: &mut DbConnection,
    inserts: &[DeadlineRow],
    updates: &[DeadlineRow],
    deletes: &[String],
) -> QueryResult<()> {
    if !deletes.is_empty() {
        diesel::delete(deadlines::table.filter(deadlines::id.eq_any(deletes))).execute(conn)?;
    }
    match conn {
        // A batch insert compiles for each backend, not for the two-backend connection.
        DbConnection::Pg(c) if inserts.len() > 1 => {
            diesel::insert_into(deadlines::table)
                .values(inserts)
                .execute(c)?;
        }
        // SQLite has no round trip to save (and its batch insert adds a savepoint).
        _ => {
            for row in inserts {
                diesel::insert_into(deadlines::table)
                    .values(row)
                    .execute(conn)?;
            }
        }
    }
    for row in updates {
        diesel::update(deadlines::table.find(&row.id))
            .set(row)
            .execute(conn)?;
    }
    Ok(())
}
