//! Improvement actions, as the reports count them: each `action_added` with the `action_done`
//! that completed it, if any.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;

use super::annual::Year;
use super::{check_may_read, events_of, DatedEvent, CHUNK};
use crate::app::access::visible_cases;
use crate::app::Actor;
use crate::db::schema::{case_events, cases};
use crate::db::DbConnection;
use crate::domain::events::{EventData, EventType};
use crate::error::AppError;

/// The event types [`from_events`] reads.
pub const TYPES: [EventType; 2] = [EventType::ActionAdded, EventType::ActionDone];

/// One improvement action.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Action {
    pub case_id: String,
    pub action_id: String,
    pub description: String,
    pub owner_agency: String,
    pub added_on: NaiveDate,
    pub due_on: NaiveDate,
    pub done_on: Option<NaiveDate>,
}

impl Action {
    /// Not done and due before `today`.
    pub fn overdue(&self, today: NaiveDate) -> bool {
        self.done_on.is_none() && self.due_on < today
    }
}

/// The actions among these events (of [`TYPES`]), in the order they were added.
pub fn from_events(events: &[DatedEvent]) -> Vec<Action> {
    let mut actions: Vec<Action> = vec![];
    for e in events {
        match &e.data {
            EventData::ActionAdded {
                action_id,
                description,
                owner_agency,
                due_on,
            } => actions.push(Action {
                case_id: e.case_id.clone(),
                action_id: action_id.clone(),
                description: description.clone(),
                owner_agency: owner_agency.clone(),
                added_on: e.occurred_on,
                due_on: *due_on,
                done_on: None,
            }),
            EventData::ActionDone { action_id, .. } => {
                if let Some(a) = actions
                    .iter_mut()
                    .find(|a| a.case_id == e.case_id && &a.action_id == action_id)
                {
                    a.done_on.get_or_insert(e.occurred_on);
                }
            }
            _ => {}
        }
    }
    actions
}

/// Overdue actions counted by owner agency, agencies in name order.
pub fn overdue_by_agency<'a>(
    actions: impl IntoIterator<Item = &'a Action>,
    today: NaiveDate,
) -> BTreeMap<String, Vec<&'a Action>> {
    let mut by: BTreeMap<String, Vec<&Action>> = BTreeMap::new();
    for a in actions.into_iter().filter(|a| a.overdue(today)) {
        by.entry(a.owner_agency.clone()).or_default().push(a);
    }
    by
}

/// Every improvement action of the cases `actor` sees (of one financial year, by the case's
/// awareness date, when given), with the case's reference, by reference; read a chunk of cases
/// at a time.
pub fn list(
    conn: &mut DbConnection,
    actor: &Actor,
    year: Option<Year>,
) -> Result<Vec<(String, Action)>, AppError> {
    check_may_read(actor)?;
    let mut q = cases::table
        .into_boxed()
        .filter(visible_cases(actor))
        .filter(
            cases::id.eq_any(
                case_events::table
                    .filter(case_events::event_type.eq(EventType::ActionAdded.as_str()))
                    .select(case_events::case_id),
            ),
        );
    if let Some(y) = year {
        q = q.filter(cases::financial_year.eq(y.label()));
    }
    let with_actions: Vec<(String, String)> = q
        .order(cases::reference.asc())
        .select((cases::id, cases::reference))
        .load(conn)?;
    let mut out = vec![];
    for chunk in with_actions.chunks(CHUNK) {
        let ids: Vec<&str> = chunk.iter().map(|(id, _)| id.as_str()).collect();
        let events = events_of(conn, &ids, &TYPES)?;
        for (id, reference) in chunk {
            let own: Vec<_> = events
                .iter()
                .filter(|e| &e.case_id == id)
                .cloned()
                .collect();
            out.extend(
                from_events(&own)
                    .into_iter()
                    .map(|a| (reference.clone(), a)),
            );
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn ev(case: &str, on: &str, data: EventData) -> DatedEvent {
        DatedEvent {
            case_id: case.into(),
            occurred_on: d(on),
            data,
        }
    }

    #[test]
    fn done_matches_its_own_case_and_action() {
        let add = |id: &str, agency: &str, due: &str| EventData::ActionAdded {
            action_id: id.into(),
            description: "d".into(),
            owner_agency: agency.into(),
            due_on: d(due),
        };
        let done = |id: &str| EventData::ActionDone {
            action_id: id.into(),
            note: None,
        };
        let events = vec![
            ev("c1", "2025-05-01", add("a1", "Police", "2025-06-01")),
            ev("c1", "2025-05-01", add("a2", "Health", "2025-06-01")),
            ev("c2", "2025-05-01", add("a1", "Police", "2025-09-01")),
            ev("c1", "2025-05-20", done("a1")),
        ];
        let actions = from_events(&events);
        assert_eq!(actions.len(), 3);
        assert_eq!(actions[0].done_on, Some(d("2025-05-20")));
        assert_eq!(actions[2].done_on, None, "c2's a1 is another action");
        let by = overdue_by_agency(&actions, d("2025-07-01"));
        assert_eq!(by.keys().collect::<Vec<_>>(), vec!["Health"]);
    }
}
