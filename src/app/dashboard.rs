//! "My work": the deadlines a user answers for that are overdue or due in the next
//! [`HORIZON_WORKING_DAYS`] working days, most urgent first, and the visible cases by stage.
//!
//! Whose deadlines are "mine" (each rule names the role it is for):
//! - programme manager: every pending deadline of every case (they receive every alert);
//! - co-chair: the deadlines whose rule is for the co-chairs, and every overdue deadline
//!   (overdue work is escalated to them);
//! - lead reviewer: every pending deadline of the cases they are appointed to;
//! - anyone else: the deadlines whose rule names their role, on the cases they may see
//!   (with the shipped rules, none);
//! - admin: none (no case content).

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;

use super::access::visible_cases;
use super::cases::list;
use super::Actor;
use crate::db::models::DeadlineRow;
use crate::db::schema::{cases, deadlines};
use crate::db::DbConnection;
use crate::domain::calendar::Division;
use crate::domain::case::Stage;
use crate::domain::deadlines::DeadlineStatus;
use crate::domain::roles::Role;
use crate::error::AppError;
use crate::state::AppState;

/// How far ahead "due soon" looks.
pub const HORIZON_WORKING_DAYS: i32 = 10;

/// Which deadlines a user's dashboard shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Every pending deadline of the visible cases.
    AllCases,
    /// The co-chairs' own deadlines and every overdue one.
    CoChair,
    /// Every pending deadline of the cases the user is appointed to.
    Appointed,
    /// The deadlines whose rule names the user's role.
    OwnRole,
    /// No case content.
    NoCases,
}

impl Scope {
    pub fn for_role(role: Role) -> Scope {
        match role {
            Role::ProgrammeManager => Scope::AllCases,
            Role::CoChair => Scope::CoChair,
            Role::LeadReviewer => Scope::Appointed,
            Role::Admin => Scope::NoCases,
            Role::BusinessManager | Role::SubgroupMember | Role::BoardMember => Scope::OwnRole,
        }
    }
}

/// One deadline on the dashboard.
#[derive(Debug, Clone, Serialize)]
pub struct WorkItem {
    pub case_id: String,
    pub reference: String,
    pub child_pseudonym: String,
    pub rule: String,
    pub label: String,
    pub due_on: NaiveDate,
    /// Working days from today to the due date; negative when overdue.
    pub working_days_left: i64,
    pub overdue: bool,
    pub statutory: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct StageCount {
    pub stage: String,
    pub label: String,
    pub count: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct MyWork {
    pub scope: Scope,
    pub today: NaiveDate,
    pub horizon_working_days: i32,
    pub items: Vec<WorkItem>,
    pub overdue: usize,
    pub by_stage: Vec<StageCount>,
    pub total_cases: i64,
}

/// The signed-in user's work as of today.
pub fn my_work(conn: &mut DbConnection, st: &AppState, actor: &Actor) -> Result<MyWork, AppError> {
    let today = st.today();
    let scope = Scope::for_role(actor.role);
    let calendar = st.calendars.current(conn)?;
    let mut items = vec![];
    if scope != Scope::NoCases {
        // The last due date within the horizon in any division bounds the query.
        let mut horizon = today;
        for division in Division::ALL {
            let date = calendar
                .add_working_days(division, today, HORIZON_WORKING_DAYS)
                .map_err(AppError::internal)?
                .date;
            horizon = horizon.max(date);
        }
        let mut q = deadlines::table
            .inner_join(cases::table)
            .filter(deadlines::status.eq(DeadlineStatus::Pending.as_str()))
            .filter(deadlines::due_on.le(horizon))
            .into_boxed();
        // Which cases the user may see (as the case list).
        q = q.filter(visible_cases(actor));
        q = match scope {
            Scope::CoChair => q.filter(
                deadlines::role
                    .eq(Role::CoChair.as_str())
                    .or(deadlines::due_on.lt(today)),
            ),
            Scope::OwnRole => q.filter(deadlines::role.eq(actor.role.as_str())),
            _ => q,
        };
        let rows: Vec<(DeadlineRow, (String, String, String))> = q
            .order((
                deadlines::due_on.asc(),
                cases::reference.asc(),
                deadlines::rule_id.asc(),
                deadlines::instance.asc(),
            ))
            .select((
                DeadlineRow::as_select(),
                (cases::reference, cases::child_pseudonym, cases::division),
            ))
            .load(conn)?;
        for (d, (reference, child_pseudonym, division)) in rows {
            let division: Division = division.parse().unwrap_or_default();
            let left = calendar.count_working_days(division, today, d.due_on);
            let overdue = d.due_on < today;
            if !overdue && left > i64::from(HORIZON_WORKING_DAYS) {
                continue;
            }
            let statutory = st.rules.is_statutory(&d.rule_id, d.rule_version);
            items.push(WorkItem {
                case_id: d.case_id,
                reference,
                child_pseudonym,
                rule: d.rule_id,
                label: d.label,
                due_on: d.due_on,
                working_days_left: left,
                overdue,
                statutory,
            });
        }
    }
    let by_stage: Vec<StageCount> = list::count_by_stage(conn, actor)?
        .into_iter()
        .map(|(stage, count)| StageCount {
            label: stage
                .parse::<Stage>()
                .map(|s| s.label().to_string())
                .unwrap_or_else(|_| stage.clone()),
            stage,
            count,
        })
        .collect();
    Ok(MyWork {
        scope,
        today,
        horizon_working_days: HORIZON_WORKING_DAYS,
        overdue: items.iter().filter(|i| i.overdue).count(),
        total_cases: by_stage.iter().map(|s| s.count).sum(),
        items,
        by_stage,
    })
}
