//! An event and a deadline as people and other systems see them: in a recorded event's
//! response, on the case page and in the API's case.

use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;
use serde_json::Value;

use super::ledger::{CaseEvents, Chain};
use crate::db::models::{DeadlineRow, EventRow};
use crate::domain::calendar::{Calendar, Division};
use crate::domain::deadlines::{effective_status, DeadlineStatus};
use crate::domain::events::{Event, EventData, EventType};
use crate::state::AppState;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct PersonRef {
    pub id: String,
    pub name: String,
}

/// A correction or a void: who made it, when, and why.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ChangeView {
    pub by: PersonRef,
    #[serde(serialize_with = "crate::utc::ser")]
    #[schemars(with = "crate::utc::Stamp")]
    pub at: NaiveDateTime,
    pub reason: String,
}

/// A version of an event that a correction superseded, kept as it was.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct EarlierVersion {
    pub id: String,
    pub occurred_on: NaiveDate,
    #[schemars(schema_with = "event_fields_schema")]
    pub fields: Value,
    pub recorded_by: PersonRef,
    #[serde(serialize_with = "crate::utc::ser")]
    #[schemars(with = "crate::utc::Stamp")]
    pub recorded_at: NaiveDateTime,
    /// The correction that superseded it.
    pub corrected: ChangeView,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct EventView {
    /// The id of this version (the one to correct or void).
    pub id: String,
    pub sequence: i32,
    #[serde(rename = "type")]
    pub kind: EventType,
    pub label: &'static str,
    /// When it happened.
    pub occurred_on: NaiveDate,
    pub recorded_by: PersonRef,
    /// When it was entered.
    #[serde(serialize_with = "crate::utc::ser")]
    #[schemars(with = "crate::utc::Stamp")]
    pub recorded_at: NaiveDateTime,
    /// Calendar days from `occurred_on` to the day it was entered (0: the same day).
    pub recorded_days_later: i64,
    /// "recorded 3 days later", when it was entered after the day it happened.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recorded_late: Option<String>,
    /// The event's own fields (decision, recipient, publication_on, …).
    #[schemars(schema_with = "event_fields_schema")]
    pub fields: Value,
    /// This version corrects the one before: the reason (who and when are `recorded_by` and
    /// `recorded_at`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correction_reason: Option<String>,
    /// The versions it superseded, the first recorded first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub earlier_versions: Vec<EarlierVersion>,
    /// Voided: it no longer counts (who, when, why).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voided: Option<ChangeView>,
}

/// The schema of [`EventView::fields`]: the event's own fields, those of its type in the
/// request schema `NewEvent` (and `action_id` for an improvement action).
fn event_fields_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "object",
        "description": "The event's own fields, by type: see NewEvent",
        "additionalProperties": { "type": ["string", "integer", "boolean", "array", "null"] },
    })
}

/// An event's fields without its type.
fn fields_of(data: &EventData) -> Value {
    let mut fields = serde_json::to_value(data).unwrap_or(Value::Null);
    if let Some(m) = fields.as_object_mut() {
        m.remove("type");
    }
    fields
}

/// "recorded 3 days later", or nothing when entered the day it happened.
pub fn recorded_late(days: i64) -> Option<String> {
    match days {
        d if d <= 0 => None,
        1 => Some("recorded 1 day later".into()),
        d => Some(format!("recorded {d} days later")),
    }
}

impl EventView {
    /// The view of a stored event, recorded by `recorded_by`.
    pub fn of(row: &EventRow, event: &Event, recorded_by: PersonRef) -> EventView {
        let days = (row.recorded_at.date() - row.occurred_on).num_days();
        EventView {
            id: row.id.clone(),
            sequence: event.sequence,
            kind: event.kind(),
            label: event.kind().label(),
            occurred_on: row.occurred_on,
            recorded_by,
            recorded_at: row.recorded_at,
            recorded_days_later: days.max(0),
            recorded_late: recorded_late(days),
            fields: fields_of(&event.data),
            correction_reason: row.supersedes.as_ref().and(row.change_reason.clone()),
            earlier_versions: vec![],
            voided: None,
        }
    }

    /// The view of an event with its entries: earlier versions and a void.
    pub fn of_chain(
        entries: &CaseEvents,
        chain: &Chain,
        person: &dyn Fn(&str) -> PersonRef,
    ) -> EventView {
        let rows = &entries.rows;
        let latest = &rows[chain.latest()];
        let mut view = EventView::of(latest, &chain.event, person(&latest.recorded_by));
        view.earlier_versions = chain
            .versions
            .windows(2)
            .map(|w| {
                let (old, new) = (&rows[w[0]], &rows[w[1]]);
                let data: Option<EventData> = serde_json::from_str(&old.data).ok();
                EarlierVersion {
                    id: old.id.clone(),
                    occurred_on: old.occurred_on,
                    fields: data.as_ref().map_or(Value::Null, fields_of),
                    recorded_by: person(&old.recorded_by),
                    recorded_at: old.recorded_at,
                    corrected: ChangeView {
                        by: person(&new.recorded_by),
                        at: new.recorded_at,
                        reason: new.change_reason.clone().unwrap_or_default(),
                    },
                }
            })
            .collect();
        view.voided = chain.void.map(|v| {
            let v = &rows[v];
            ChangeView {
                by: person(&v.recorded_by),
                at: v.recorded_at,
                reason: v.change_reason.clone().unwrap_or_default(),
            }
        });
        view
    }
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct DeadlineView {
    pub id: String,
    pub rule: String,
    pub rule_version: i32,
    pub instance: i32,
    pub label: String,
    pub role: String,
    pub due_on: NaiveDate,
    /// As of today: a pending deadline past its date is `missed`.
    pub status: DeadlineStatus,
    pub met_on: Option<NaiveDate>,
    /// Met after its due date: by how many working days.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub met_late_working_days: Option<i64>,
    /// Working days from today to the due date (negative when overdue).
    pub working_days_left: i64,
    pub statutory: bool,
    /// Why it falls when it does (null for a row whose explanation cannot be read).
    #[schemars(with = "Option<crate::domain::deadlines::Explanation>")]
    pub explanation: Value,
}

/// Builds the view of a deadline row as of today.
pub fn deadline_view(
    st: &AppState,
    calendar: &Calendar,
    division: Division,
    r: DeadlineRow,
) -> DeadlineView {
    let today = st.today();
    let status: DeadlineStatus = r.status.parse().unwrap_or(DeadlineStatus::Pending);
    DeadlineView {
        working_days_left: calendar.count_working_days(division, today, r.due_on),
        status: effective_status(status, r.due_on, today),
        explanation: serde_json::from_str(&r.explanation).unwrap_or(Value::Null),
        statutory: st.rules.is_statutory(&r.rule_id, r.rule_version),
        id: r.id,
        rule: r.rule_id,
        rule_version: r.rule_version,
        instance: r.instance,
        label: r.label,
        role: r.role,
        met_late_working_days: r
            .met_on
            .filter(|m| *m > r.due_on)
            .map(|m| calendar.count_working_days(division, r.due_on, m)),
        due_on: r.due_on,
        met_on: r.met_on,
    }
}
