//! The exports as tables ([`crate::app::export::Table`]): the case list, a case's deadlines,
//! improvement actions, a case's audit trail, the annual figures and the Board report. The
//! child's identity is a column only for the roles that may see it.

use serde_json::Value;

use super::actions::Action;
use super::annual::{Annual, Figure};
use super::board::BoardReport;
use super::percent;
use crate::app::cases::list::CaseSummary;
use crate::app::events::view::DeadlineView;
use crate::app::export::{Cell, Table};
use crate::crypto::Keyring;
use crate::db::models::CaseRow;
use crate::error::AppError;

/// The case list; with `identity`, the keys it is opened with, the child's name and date of
/// birth too.
pub fn cases(
    rows: &[(CaseRow, CaseSummary)],
    identity: Option<&Keyring>,
) -> Result<Table, AppError> {
    let mut columns = vec!["Reference", "Pseudonym"];
    if identity.is_some() {
        columns.extend(["Child's name", "Date of birth"]);
    }
    columns.extend([
        "Stage",
        "Date aware",
        "Financial year",
        "Harm",
        "Looked after",
        "Next deadline",
        "Next due on",
        "Overdue deadlines",
    ]);
    let mut t = Table::new("cases", &columns);
    for (row, s) in rows {
        let mut cells: Vec<Cell> =
            vec![s.reference.clone().into(), s.child_pseudonym.clone().into()];
        if let Some(keys) = identity {
            let child = crate::app::identity::open(keys, row)?;
            cells.push(child.name.into());
            cells.push(child.dob.into());
        }
        cells.extend([
            s.stage_label.clone().into(),
            s.aware_on.into(),
            s.financial_year.clone().into(),
            row.harm.clone().into(),
            (if row.looked_after { "yes" } else { "no" }).into(),
            s.next_deadline.as_ref().map(|d| d.label.clone()).into(),
            s.next_deadline.as_ref().map(|d| d.due_on).into(),
            s.overdue.into(),
        ]);
        t.push(cells);
    }
    Ok(t)
}

/// A case's deadlines with their explanations.
pub fn deadlines(reference: &str, list: &[DeadlineView]) -> Table {
    let mut t = Table::new(
        format!("deadlines-{reference}"),
        &[
            "Reference",
            "Rule",
            "Version",
            "What is due",
            "Due on",
            "Status",
            "Done on",
            "Working days left",
            "Statutory",
            "Why this date",
        ],
    );
    for d in list {
        t.push(vec![
            reference.into(),
            d.rule.clone().into(),
            (d.rule_version as i64).into(),
            d.label.clone().into(),
            d.due_on.into(),
            d.status.as_str().into(),
            d.met_on.into(),
            d.working_days_left.into(),
            (if d.statutory { "yes" } else { "no" }).into(),
            d.explanation
                .get("text")
                .and_then(Value::as_str)
                .map(str::to_string)
                .into(),
        ]);
    }
    t
}

/// Improvement actions with their case's reference and whether each is overdue.
pub fn actions(list: &[(String, Action)], today: chrono::NaiveDate) -> Table {
    let mut t = Table::new(
        "improvement-actions",
        &[
            "Reference",
            "Action",
            "Owner agency",
            "Added on",
            "Due on",
            "Done on",
            "Overdue",
        ],
    );
    for (reference, a) in list {
        t.push(vec![
            reference.clone().into(),
            a.description.clone().into(),
            a.owner_agency.clone().into(),
            a.added_on.into(),
            a.due_on.into(),
            a.done_on.into(),
            (if a.overdue(today) { "yes" } else { "no" }).into(),
        ]);
    }
    t
}

/// A case's audit trail (entries as `trail::entries` gives them).
pub fn audit(reference: &str, entries: &[Value]) -> Table {
    let mut t = Table::new(
        format!("audit-{reference}"),
        &[
            "Sequence", "At (UTC)", "Who", "Role", "Action", "Outcome", "Subject", "Detail",
        ],
    );
    let s = |v: &Value| v.as_str().map(str::to_string);
    for e in entries {
        t.push(vec![
            e["seq"].as_i64().into(),
            s(&e["at"]).into(),
            s(&e["actor"]["name"]).into(),
            s(&e["actor"]["role"]).into(),
            s(&e["action"]).into(),
            s(&e["outcome"]).into(),
            s(&e["subject"]).into(),
            (if e["detail"].is_null() {
                None
            } else {
                Some(e["detail"].to_string())
            })
            .into(),
        ]);
    }
    t
}

/// The annual figures: one row per figure, then timeliness by quarter.
pub fn annual(a: &Annual) -> Table {
    let mut t = Table::new(
        format!("annual-report-{}", a.year.label()),
        &["Year", "Figure", "Code", "Count", "Per cent"],
    );
    let whole = |f: Figure| match f {
        Figure::NotifiedInTime => Some(Figure::Notifications),
        Figure::RapidReviewsInTime => Some(Figure::RapidReviews),
        Figure::PublishedWithin6Months => Some(Figure::LcsprsPublished),
        Figure::PrepubCopiesOnTime => Some(Figure::PrepubCopiesSent),
        _ => None,
    };
    for f in Figure::ALL {
        let pc = whole(*f).and_then(|w| percent(a.count(*f), a.count(w)));
        t.push(vec![
            a.year.label().into(),
            f.label().into(),
            f.as_str().into(),
            a.count(*f).into(),
            pc.map(|p| p as i64).into(),
        ]);
    }
    t.push(vec![
        a.year.label().into(),
        "Median working days from decision to publication".into(),
        "median_working_days_to_publication".into(),
        a.median_working_days_to_publication()
            .map_or(Cell::Empty, Cell::Number),
        Cell::Empty,
    ]);
    for (agency, n) in a.overdue_by_agency() {
        t.push(vec![
            a.year.label().into(),
            format!("Improvement actions overdue: {agency}").into(),
            "actions_overdue_by_agency".into(),
            n.into(),
            Cell::Empty,
        ]);
    }
    for (i, q) in a.quarters.iter().enumerate() {
        let name = format!("Q{}", i + 1);
        for (label, code, part, whole) in [
            (
                "notified within 5 working days",
                "notified_in_time",
                q.notified_in_time,
                q.notifications,
            ),
            (
                "rapid reviews within 15 working days",
                "rapid_reviews_in_time",
                q.rapid_reviews_in_time,
                q.rapid_reviews,
            ),
            (
                "published within 6 months",
                "published_within_6_months",
                q.published_within_6_months,
                q.lcsprs_published,
            ),
        ] {
            t.push(vec![
                a.year.label().into(),
                format!("{name}: {label} (of {whole})").into(),
                format!("{}_{code}", name.to_lowercase()).into(),
                part.into(),
                percent(part, whole).map(|p| p as i64).into(),
            ]);
        }
    }
    t
}

/// The Board report as one table: a section column, then what each line is about.
pub fn board(r: &BoardReport) -> Table {
    let mut t = Table::new(
        format!("board-report-{}", r.as_of),
        &[
            "Section",
            "Reference",
            "What",
            "Date",
            "Status or agency",
            "Count",
        ],
    );
    for s in &r.open_cases_by_stage {
        t.push(vec![
            "Open cases by stage".into(),
            Cell::Empty,
            s.label.into(),
            Cell::Empty,
            Cell::Empty,
            s.cases.into(),
        ]);
    }
    for (section, list) in [
        (
            "Deadlines missed since the last report",
            &r.deadlines_missed,
        ),
        (
            "Deadlines due before the next Board meeting",
            &r.deadlines_due,
        ),
    ] {
        for d in list {
            t.push(vec![
                section.into(),
                d.reference.clone().into(),
                d.label.clone().into(),
                d.due_on.into(),
                d.status.as_str().into(),
                Cell::Empty,
            ]);
        }
    }
    for d in &r.decisions {
        t.push(vec![
            "Decisions made".into(),
            d.reference.clone().into(),
            format!("{}: {}", d.body_label, d.kind_label).into(),
            d.decided_on.into(),
            d.outcome_label.clone().into(),
            Cell::Empty,
        ]);
    }
    for (agency, list) in &r.actions_overdue_by_agency {
        for a in list {
            t.push(vec![
                "Improvement actions overdue".into(),
                a.reference.clone().into(),
                a.action.description.clone().into(),
                a.action.due_on.into(),
                agency.clone().into(),
                Cell::Empty,
            ]);
        }
    }
    t
}
