//! A case's statutory clocks as a picture: each deadline a bar from its trigger to its due date,
//! the day it was met marked on it, today as a line, missed ones red and hatched (not colour
//! alone). Only the geometry is computed here; `templates/svg/timeline.svg` draws it.

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::Value;

use crate::app::events::view::DeadlineView;
use crate::domain::deadlines::DeadlineStatus;

/// The drawing's width, the room for the clocks' names on the left, and each row's height.
pub const WIDTH: i64 = 820;
const LABELS: i64 = 300;
const ROW: i64 = 30;
const TOP: i64 = 40;

/// One clock.
#[derive(Debug, Clone, Serialize)]
pub struct Clock {
    pub label: String,
    pub rule: String,
    pub trigger_on: NaiveDate,
    pub due_on: NaiveDate,
    pub met_on: Option<NaiveDate>,
    /// `met`, `missed` (also when pending past its date), `pending` or `waived`.
    pub status: DeadlineStatus,
    /// What the bar says to a screen reader and in its tooltip.
    pub summary: String,
    pub y: i64,
    pub x1: i64,
    pub x2: i64,
    pub met_x: Option<i64>,
}

/// A month's tick on the axis.
#[derive(Debug, Clone, Serialize)]
pub struct Tick {
    pub x: i64,
    pub label: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Timeline {
    pub title: String,
    pub desc: String,
    pub width: i64,
    pub height: i64,
    pub labels_width: i64,
    pub clocks: Vec<Clock>,
    pub today: NaiveDate,
    pub today_x: i64,
    pub ticks: Vec<Tick>,
    pub axis_y: i64,
}

fn long(d: NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

/// The picture of these deadlines on `today`.
pub fn build(reference: &str, deadlines: &[DeadlineView], today: NaiveDate) -> Timeline {
    let trigger = |d: &DeadlineView| {
        d.explanation
            .get("trigger_on")
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<NaiveDate>().ok())
            .unwrap_or(d.due_on)
            .min(d.due_on)
    };
    let mut first = today;
    let mut last = today;
    for d in deadlines {
        first = first.min(trigger(d));
        last = last.max(d.due_on).max(d.met_on.unwrap_or(d.due_on));
    }
    let first = first - chrono::Duration::days(3);
    let last = last + chrono::Duration::days(3);
    let span = (last - first).num_days().max(1);
    let x = |d: NaiveDate| LABELS + (d - first).num_days() * (WIDTH - LABELS - 20) / span;
    let clocks: Vec<Clock> = deadlines
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let from = trigger(d);
            let status = d.status;
            let state = match (status, d.met_on) {
                (DeadlineStatus::Met, Some(m)) => format!("met on {}", long(m)),
                (DeadlineStatus::Missed, Some(m)) => format!("missed: done late, on {}", long(m)),
                (DeadlineStatus::Missed, None) => "missed: not done".to_string(),
                (DeadlineStatus::Waived, _) => "waived".to_string(),
                _ => "pending".to_string(),
            };
            Clock {
                label: d.label.clone(),
                rule: d.rule.clone(),
                trigger_on: from,
                due_on: d.due_on,
                met_on: d.met_on,
                status,
                summary: format!(
                    "{}: from {} to {}, {state}",
                    d.label,
                    long(from),
                    long(d.due_on)
                ),
                y: TOP + i as i64 * ROW,
                x1: x(from),
                x2: x(d.due_on).max(x(from) + 2),
                met_x: d.met_on.map(x),
            }
        })
        .collect();
    let axis_y = TOP + clocks.len() as i64 * ROW + 4;
    let mut ticks = vec![];
    let mut month = NaiveDate::from_ymd_opt(
        chrono::Datelike::year(&first),
        chrono::Datelike::month(&first),
        1,
    )
    .expect("a month");
    let step = if span > 900 {
        6
    } else if span > 300 {
        3
    } else {
        1
    };
    while month <= last {
        if month >= first {
            ticks.push(Tick {
                x: x(month),
                label: month.format("%b %Y").to_string(),
            });
        }
        month = month
            .checked_add_months(chrono::Months::new(step))
            .expect("in range");
    }
    let missed = clocks
        .iter()
        .filter(|c| c.status == DeadlineStatus::Missed)
        .count();
    Timeline {
        title: format!("Statutory clocks of {reference}"),
        desc: format!(
            "{} clocks, each a bar from the day it started to its due date, with the day it was met marked; today, {}, is the vertical line; {missed} missed, drawn red and hatched. The deadlines table gives the same dates.",
            clocks.len(),
            long(today)
        ),
        width: WIDTH,
        height: axis_y + 60,
        labels_width: LABELS,
        today,
        today_x: x(today),
        ticks,
        axis_y,
        clocks,
    }
}

/// The picture of a case the actor may see (404 otherwise, audited as a refusal); the read is
/// audited as a read of its deadlines.
pub fn for_case(
    conn: &mut crate::db::DbConnection,
    st: &crate::state::AppState,
    actor: &crate::app::Actor,
    case_id: &str,
) -> Result<Timeline, crate::error::AppError> {
    use crate::app::audit::{self, Entry};
    let (case, _) =
        crate::app::access::visible_or_refuse(conn, st, actor, case_id, "deadlines_viewed")?;
    let list = crate::app::cases::view::case_deadlines(conn, st, &case)?;
    crate::db::write_tx(conn, |c| {
        audit::append(
            c,
            st.now(),
            Entry::ok(Some(actor), "deadlines_viewed")
                .case(&case.id)
                .subject("timeline"),
        )
    })?;
    Ok(build(&case.reference, &list, st.today()))
}
