//! A case's entries as stored, append-only: each event as first recorded, each correction (a
//! new entry naming the one it supersedes, with a reason) and each void (an entry of type
//! `void`, with a reason). Resolved here into chains, one per event: its versions in the order
//! recorded, the last one current unless the event was voided. The replay uses the current
//! versions, each in the place (the sequence) of its first version.

use std::collections::HashMap;

use diesel::prelude::*;

use crate::db::models::EventRow;
use crate::db::schema::case_events;
use crate::db::DbConnection;
use crate::domain::events::Event;
use crate::error::AppError;

/// The stored type of an entry that voids the one it supersedes.
pub const VOID: &str = "void";

/// One event and its entries.
#[derive(Debug, Clone)]
pub struct Chain {
    /// Indexes into [`CaseEvents::rows`] of its versions, the first as first recorded.
    pub versions: Vec<usize>,
    /// The entry that voided it.
    pub void: Option<usize>,
    /// The latest version as the domain sees it, in the place of the first.
    pub event: Event,
}

impl Chain {
    pub fn latest(&self) -> usize {
        *self.versions.last().expect("a chain has a first version")
    }

    pub fn is_current(&self) -> bool {
        self.void.is_none()
    }
}

/// A case's entries and the events they make.
#[derive(Debug, Clone, Default)]
pub struct CaseEvents {
    /// Every entry, in the order recorded.
    pub rows: Vec<EventRow>,
    /// One per event, voided ones included, in replay order.
    pub chains: Vec<Chain>,
}

impl CaseEvents {
    /// Resolves entries (in any order) into chains.
    pub fn resolve(mut rows: Vec<EventRow>) -> Result<CaseEvents, AppError> {
        rows.sort_by_key(|r| r.sequence);
        let index: HashMap<&str, usize> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.as_str(), i))
            .collect();
        let mut next: HashMap<usize, usize> = HashMap::new();
        for (i, r) in rows.iter().enumerate() {
            if let Some(&old) = r.supersedes.as_deref().and_then(|s| index.get(s)) {
                next.insert(old, i);
            }
        }
        let mut chains = vec![];
        for (first, r) in rows.iter().enumerate() {
            if r.supersedes.is_some() || r.event_type == VOID {
                continue;
            }
            let mut versions = vec![first];
            let mut void = None;
            let mut at = first;
            while let Some(&n) = next.get(&at) {
                if rows[n].event_type == VOID {
                    void = Some(n);
                    break;
                }
                versions.push(n);
                at = n;
            }
            let latest = &rows[at];
            chains.push(Chain {
                versions,
                void,
                event: Event {
                    sequence: r.sequence,
                    occurred_on: latest.occurred_on,
                    data: serde_json::from_str(&latest.data).map_err(AppError::internal)?,
                },
            });
        }
        chains.sort_by_key(|c| c.event.replay_key());
        Ok(CaseEvents { rows, chains })
    }

    /// The current events, in replay order.
    pub fn current(&self) -> Vec<Event> {
        self.chains
            .iter()
            .filter(|c| c.is_current())
            .map(|c| c.event.clone())
            .collect()
    }

    /// The sequence the next entry takes.
    pub fn next_sequence(&self) -> i32 {
        self.rows.last().map_or(1, |r| r.sequence + 1)
    }

    /// The chain an entry belongs to.
    pub fn chain_of(&self, entry_id: &str) -> Option<&Chain> {
        let i = self.rows.iter().position(|r| r.id == entry_id)?;
        self.chains
            .iter()
            .find(|c| c.versions.contains(&i) || c.void == Some(i))
    }
}

/// A case's entries, resolved.
pub fn load(conn: &mut DbConnection, case_id: &str) -> Result<CaseEvents, AppError> {
    let rows: Vec<EventRow> = case_events::table
        .filter(case_events::case_id.eq(case_id))
        .order(case_events::sequence.asc())
        .select(EventRow::as_select())
        .load(conn)?;
    CaseEvents::resolve(rows)
}
