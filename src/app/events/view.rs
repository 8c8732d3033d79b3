//! An event and a deadline as people and other systems see them: in a recorded event's
//! response, on the case page and in the API's case.

use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;
use serde_json::Value;

use crate::db::models::{DeadlineRow, EventRow};
use crate::domain::calendar::{Calendar, Division};
use crate::domain::deadlines::{effective_status, DeadlineStatus};
use crate::domain::events::{Event, EventType};
use crate::state::AppState;

#[derive(Debug, Clone, Serialize)]
pub struct PersonRef {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct EventView {
    pub id: String,
    pub sequence: i32,
    #[serde(rename = "type")]
    pub kind: EventType,
    pub label: &'static str,
    pub occurred_on: NaiveDate,
    pub recorded_by: PersonRef,
    pub recorded_at: NaiveDateTime,
    /// The event's own fields (decision, recipient, publication_on, …).
    pub fields: Value,
}

impl EventView {
    /// The view of a stored event, recorded by `recorded_by`.
    pub fn of(row: &EventRow, event: &Event, recorded_by: PersonRef) -> EventView {
        let mut fields = serde_json::to_value(&event.data).unwrap_or(Value::Null);
        if let Some(m) = fields.as_object_mut() {
            m.remove("type");
        }
        EventView {
            id: row.id.clone(),
            sequence: row.sequence,
            kind: event.kind(),
            label: event.kind().label(),
            occurred_on: row.occurred_on,
            recorded_by,
            recorded_at: row.recorded_at,
            fields,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
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
    /// Working days from today to the due date (negative when overdue).
    pub working_days_left: i64,
    pub statutory: bool,
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
        due_on: r.due_on,
        met_on: r.met_on,
    }
}
