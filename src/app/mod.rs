//! Use cases. Each takes the acting user and its input, checks permission, and writes the
//! event, the derived projections, the audit entry and any outbox rows in one transaction.

pub mod access;
pub mod accounts;
pub mod agencies;
pub mod audit;
pub mod auth;
pub mod calendar;
pub mod cases;
pub mod dashboard;
pub mod documents;
pub mod events;
pub mod export;
pub mod feeds;
pub mod flows;
pub mod governance;
pub mod identity;
pub mod mfa;
pub mod oidc;
pub mod outbox;
pub mod recalc;
pub mod refusals;
pub mod reminders;
pub mod reports;
pub mod rotation;
pub mod search;
pub mod send_checks;
pub mod setup;
pub mod users;

use chrono::{NaiveDateTime, SubsecRound};

use crate::domain::roles::Role;

/// The signed-in user a use case acts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: String,
    pub role: Role,
    pub name: String,
}

/// A new random id (UUID v4, simple form).
pub fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Timestamps are stored to the microsecond, the precision both backends keep, so a value
/// read back equals the value written (the audit hash chain depends on it).
pub fn stored(t: NaiveDateTime) -> NaiveDateTime {
    t.trunc_subsecs(6)
}
