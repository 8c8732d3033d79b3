//! "My work": the deadlines a user answers for that are overdue or due in the next
//! [`HORIZON_WORKING_DAYS`] working days, most urgent first, [`PER_PAGE`] a page, counted by
//! [`WorkStatus`] (overdue, due today, due soon; each can be shown alone), and the visible
//! cases by stage.
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
use diesel::sql_types::Bool;
use serde::Serialize;

use super::access::visible_cases;
use super::cases::list;
use super::Actor;
use crate::db::fixed;
use crate::db::models::DeadlineRow;
use crate::db::schema::{cases, deadlines};
use crate::db::{DbBackend, DbConnection};
use crate::domain::calendar::Division;
use crate::domain::case::Stage;
use crate::domain::deadlines::DeadlineStatus;
use crate::domain::roles::Role;
use crate::error::AppError;
use crate::state::AppState;
use crate::text_enum;

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

text_enum! {
    /// Where a deadline on *My work* stands today: the groups the page counts and shows.
    pub enum WorkStatus {
        Overdue = ("overdue", "Overdue"),
        DueToday = ("due_today", "Due today"),
        DueSoon = ("due_soon", "Due soon"),
    }
}

/// How many of the user's deadlines are in one group.
#[derive(Debug, Clone, Serialize)]
pub struct StatusCount {
    pub status: WorkStatus,
    pub label: &'static str,
    pub count: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct MyWork {
    pub scope: Scope,
    pub today: NaiveDate,
    pub horizon_working_days: i32,
    /// One page of the deadlines, most urgent first.
    pub items: Vec<WorkItem>,
    /// Overdue deadlines in all (every page).
    pub overdue: i64,
    /// Every group, counted over all pages, and their sum.
    pub by_status: Vec<StatusCount>,
    pub all: i64,
    /// The group shown, if one was chosen.
    pub status: Option<WorkStatus>,
    /// Deadlines in the group shown (or in all), and the page.
    pub total: i64,
    pub page: i64,
    pub pages: i64,
    pub per_page: i64,
    pub by_stage: Vec<StageCount>,
    pub total_cases: i64,
}

/// Deadlines on one page of *My work*.
pub const PER_PAGE: i64 = 50;

/// Which part of *My work* to show.
#[derive(Debug, Clone, Copy, Default)]
pub struct Show {
    pub status: Option<WorkStatus>,
    pub page: i64,
}

impl Show {
    /// From the page's query (`status`, `page`), naming a wrong parameter.
    pub fn parse(status: Option<&str>, page: Option<&str>) -> Result<Show, AppError> {
        let status = match status.map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => Some(
                s.parse::<WorkStatus>()
                    .map_err(|m| AppError::invalid("status", m))?,
            ),
            None => None,
        };
        let page = match page.map(str::trim).filter(|s| !s.is_empty()) {
            Some(p) => p
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=list::MAX_PAGE).contains(n))
                .ok_or_else(|| {
                    AppError::invalid(
                        "page",
                        format!("must be a whole number from 1 to {}", list::MAX_PAGE),
                    )
                })?,
            None => 1,
        };
        Ok(Show { status, page })
    }
}

type Boxed<'a> = diesel::helper_types::IntoBoxed<
    'a,
    diesel::helper_types::InnerJoin<deadlines::table, cases::table>,
    DbBackend,
>;

/// The user's deadlines due by the horizon (or in one group), as a query: the partial index
/// of pending deadlines is read by due date, so the cost follows what is due, not the cases.
fn mine<'a>(
    actor: &'a Actor,
    scope: Scope,
    today: NaiveDate,
    horizons: &[(Division, NaiveDate)],
    status: Option<WorkStatus>,
) -> Boxed<'a> {
    let last = horizons.iter().map(|(_, h)| *h).max().unwrap_or(today);
    let mut q = deadlines::table
        .inner_join(cases::table)
        .filter(deadlines::status.eq(fixed::text(DeadlineStatus::Pending.as_str())))
        .filter(deadlines::due_on.le(last))
        .into_boxed();
    // Within the horizon of the case's own division (working days differ by division).
    let mut within: Box<dyn BoxableExpression<_, DbBackend, SqlType = Bool>> =
        Box::new(deadlines::due_on.lt(today));
    for (division, horizon) in horizons {
        within = Box::new(
            within.or(cases::division
                .eq(division.as_str())
                .and(deadlines::due_on.le(*horizon))),
        );
    }
    q = q.filter(within);
    q = match status {
        Some(WorkStatus::Overdue) => q.filter(deadlines::due_on.lt(today)),
        Some(WorkStatus::DueToday) => q.filter(deadlines::due_on.eq(today)),
        Some(WorkStatus::DueSoon) => q.filter(deadlines::due_on.gt(today)),
        None => q,
    };
    // Which cases the user may see (as the case list).
    q = q.filter(visible_cases(actor));
    match scope {
        Scope::CoChair => q.filter(
            deadlines::role
                .eq(Role::CoChair.as_str())
                .or(deadlines::due_on.lt(today)),
        ),
        Scope::OwnRole => q.filter(deadlines::role.eq(actor.role.as_str())),
        _ => q,
    }
}

/// The signed-in user's work as of today: one page of it, and the counts.
pub fn my_work(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    show: Show,
) -> Result<MyWork, AppError> {
    let today = st.today();
    let scope = Scope::for_role(actor.role);
    let calendar = st.calendars.current(conn)?;
    let mut items = vec![];
    let mut by_status = vec![];
    let mut total = 0;
    let page = show.page.max(1);
    if scope != Scope::NoCases {
        // The last day within the horizon in each division: the day before its next working
        // day after the horizon (a deadline on a weekend right after it still counts).
        let mut horizons = vec![];
        for division in Division::ALL {
            let after = calendar
                .add_working_days(division, today, HORIZON_WORKING_DAYS + 1)
                .map_err(AppError::internal)?
                .date;
            horizons.push((division, after.pred_opt().unwrap_or(after)));
        }
        for status in WorkStatus::ALL {
            let count: i64 = mine(actor, scope, today, &horizons, Some(*status))
                .count()
                .get_result(conn)?;
            by_status.push(StatusCount {
                status: *status,
                label: status.label(),
                count,
            });
        }
        total = match show.status {
            Some(status) => by_status
                .iter()
                .find(|c| c.status == status)
                .map_or(0, |c| c.count),
            None => by_status.iter().map(|c| c.count).sum(),
        };
        let rows: Vec<(DeadlineRow, (String, String, String))> =
            mine(actor, scope, today, &horizons, show.status)
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
                .limit(PER_PAGE)
                .offset((page - 1) * PER_PAGE)
                .load(conn)?;
        for (d, (reference, child_pseudonym, division)) in rows {
            let division: Division = division.parse().unwrap_or_default();
            let statutory = st.rules.is_statutory(&d.rule_id, d.rule_version);
            items.push(WorkItem {
                case_id: d.case_id,
                reference,
                child_pseudonym,
                rule: d.rule_id,
                label: d.label,
                due_on: d.due_on,
                working_days_left: calendar.count_working_days(division, today, d.due_on),
                overdue: d.due_on < today,
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
        overdue: by_status
            .iter()
            .find(|c| c.status == WorkStatus::Overdue)
            .map_or(0, |c| c.count),
        status: show.status,
        all: by_status.iter().map(|c| c.count).sum(),
        total,
        page,
        pages: ((total + PER_PAGE - 1) / PER_PAGE).max(1),
        per_page: PER_PAGE,
        total_cases: by_stage.iter().map(|s| s.count).sum(),
        items,
        by_status,
        by_stage,
    })
}
