//! The case list: only visible cases, filtered by stage, deadline status and financial year,
//! sorted, one page at a time.

use std::collections::HashMap;

use chrono::NaiveDate;
use diesel::dsl::{count_star, exists, max};
use diesel::prelude::*;
use serde::Serialize;

use crate::app::access::visible_cases;
use crate::app::search::{self, Needle};
use crate::app::Actor;
use crate::crypto::Keyring;
use crate::db::fixed;
use crate::db::models::{CaseRow, DeadlineRow};
use crate::db::schema::{cases, deadlines};
use crate::db::DbConnection;
use crate::domain::calendar::Division;
use crate::domain::case::Stage;
use crate::domain::deadlines::DeadlineStatus;
use crate::error::AppError;
use crate::state::AppState;
use crate::text_enum;

text_enum! {
    /// How the list is ordered.
    pub enum Sort {
        NextDue = ("next_due", "Next deadline"),
        Reference = ("reference", "Reference"),
        AwareOn = ("aware_on", "Date aware"),
        Stage = ("stage", "Stage"),
        Updated = ("updated", "Last updated"),
    }
}

#[derive(Debug, Clone)]
pub struct Filter {
    /// Search text (`q`): reference, pseudonym and, for the roles that may see it, the name.
    pub q: Option<Needle>,
    pub stage: Option<Stage>,
    pub deadline_status: Option<DeadlineStatus>,
    /// Financial year, e.g. `2025-26`.
    pub year: Option<String>,
    pub sort: Sort,
    pub descending: bool,
    pub page: i64,
    pub per_page: i64,
}

impl Default for Filter {
    fn default() -> Self {
        Filter {
            q: None,
            stage: None,
            deadline_status: None,
            year: None,
            sort: Sort::NextDue,
            descending: false,
            page: 1,
            per_page: 50,
        }
    }
}

impl Filter {
    /// Parses the case-list query parameters (the API's and the page's), naming any that is
    /// wrong.
    pub fn parse(q: &HashMap<String, String>) -> Result<Filter, AppError> {
        let mut f = Filter::default();
        let get = |k: &str| q.get(k).map(|s| s.trim()).filter(|s| !s.is_empty());
        f.q = Needle::parse(q.get("q").map(String::as_str))?;
        if let Some(s) = get("stage") {
            f.stage = Some(
                s.parse::<Stage>()
                    .map_err(|m| AppError::bad_request("stage", m))?,
            );
        }
        if let Some(s) = get("deadline_status") {
            f.deadline_status = Some(
                s.parse::<DeadlineStatus>()
                    .map_err(|m| AppError::bad_request("deadline_status", m))?,
            );
        }
        if let Some(y) = get("year") {
            let shaped = y.len() == 7
                && y.as_bytes()[4] == b'-'
                && y[..4].bytes().all(|b| b.is_ascii_digit())
                && y[5..].bytes().all(|b| b.is_ascii_digit());
            if !shaped {
                return Err(AppError::bad_request(
                    "year",
                    format!("{y:?} is not a financial year like 2025-26"),
                ));
            }
            // Shaped like one (the schema's pattern) but not two years in a row: unprocessable.
            let start: i32 = y[..4].parse().unwrap_or(0);
            let end: i32 = y[5..].parse().unwrap_or(-1);
            if end != (start + 1) % 100 {
                return Err(AppError::invalid(
                    "year",
                    format!("{y:?} is not a financial year like 2025-26: the second year follows the first"),
                ));
            }
            f.year = Some(y.to_string());
        }
        if let Some(s) = get("sort") {
            f.sort = s
                .parse::<Sort>()
                .map_err(|m| AppError::bad_request("sort", m))?;
        }
        if let Some(o) = get("order") {
            f.descending = match o {
                "asc" => false,
                "desc" => true,
                _ => return Err(AppError::bad_request("order", "must be asc or desc")),
            };
        }
        // Out of range is refused (422), not clamped: page × per_page must stay a small number
        // on every backend.
        for (key, slot, max) in [
            ("page", &mut f.page, MAX_PAGE),
            ("per_page", &mut f.per_page, 500),
        ] {
            if let Some(v) = get(key) {
                *slot = v
                    .parse::<i64>()
                    .ok()
                    .filter(|n| (1..=max).contains(n))
                    .ok_or_else(|| {
                        AppError::invalid(key, format!("must be a whole number from 1 to {max}"))
                    })?;
            }
        }
        Ok(f)
    }
}

/// How far the list counts its cases (see [`Page::total`]).
pub const COUNT_LIMIT: i64 = 1_000;

/// The highest page number asked for (at 500 a page, far more cases than a partnership has).
pub const MAX_PAGE: i64 = 100_000;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct NextDeadline {
    pub rule: String,
    pub label: String,
    pub due_on: NaiveDate,
    pub working_days_left: i64,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct CaseSummary {
    pub id: String,
    pub reference: String,
    pub child_pseudonym: String,
    #[schemars(with = "crate::domain::case::Stage")]
    pub stage: String,
    pub stage_label: String,
    pub aware_on: NaiveDate,
    pub financial_year: String,
    pub next_deadline: Option<NextDeadline>,
    pub overdue: usize,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Page {
    pub cases: Vec<CaseSummary>,
    /// The number of matching cases, counted up to [`COUNT_LIMIT`] (or the page after this
    /// one); `total_exact` is false when there are more.
    pub total: i64,
    pub total_exact: bool,
    pub page: i64,
    pub per_page: i64,
}

type Boxed<'a> = cases::BoxedQuery<'a, crate::db::DbBackend>;

fn filtered<'a>(
    actor: &'a Actor,
    f: &'a Filter,
    today: NaiveDate,
    postgres: bool,
    keys: &Keyring,
) -> Boxed<'a> {
    let mut q = cases::table.into_boxed().filter(visible_cases(actor));
    if let Some(needle) = &f.q {
        q = q.filter(search::matches(actor, needle, postgres, keys));
    }
    if let Some(s) = f.stage {
        q = q.filter(cases::stage.eq(s.as_str()));
    }
    if let Some(y) = &f.year {
        q = q.filter(cases::financial_year.eq(y));
    }
    if let Some(status) = f.deadline_status {
        // A correlated EXISTS, one range of `deadlines_case_status` per case, while the cases
        // are read in the list's order: the first page stops after its rows, whatever the
        // size of the tables (an `IN (subquery)` would first collect every matching case).
        // Each branch keeps its subquery unboxed: a boxed subquery does not compile for the
        // two-backend connection.
        let of_case = deadlines::case_id.eq(cases::id);
        q = match status {
            DeadlineStatus::Pending => q.filter(exists(
                deadlines::table
                    .filter(of_case)
                    .filter(deadlines::status.eq(fixed::text(DeadlineStatus::Pending.as_str())))
                    .filter(deadlines::due_on.ge(today)),
            )),
            // One EXISTS with the OR inside: two EXISTS joined by OR cannot become a semi-join,
            // and PostgreSQL then hashed every missed deadline of every case on each request
            // (358 ms at 50,000 cases against 12 ms at 1,000).
            DeadlineStatus::Missed => q.filter(exists(
                deadlines::table.filter(of_case).filter(
                    deadlines::status
                        .eq(DeadlineStatus::Missed.as_str())
                        .or(deadlines::status
                            .eq(fixed::text(DeadlineStatus::Pending.as_str()))
                            .and(deadlines::due_on.lt(today))),
                ),
            )),
            other => q.filter(exists(
                deadlines::table
                    .filter(of_case)
                    .filter(deadlines::status.eq(other.as_str())),
            )),
        };
    }
    q
}

pub fn list(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    f: &Filter,
) -> Result<Page, AppError> {
    let today = st.today();
    let per_page = f.per_page.clamp(1, 500);
    let page = f.page.max(1);
    let postgres = conn.is_postgres();
    // A bounded count: at most COUNT_LIMIT rows (or up to the page after this one) are
    // counted, so the first page costs the same at 50,000 cases as at 1,000.
    let limit = COUNT_LIMIT.max((page + 1) * per_page);
    let counted = filtered(actor, f, today, postgres, &st.crypto)
        .select(crate::db::fixed::one())
        .limit(limit + 1)
        .load::<i32>(conn)?
        .len() as i64;
    let total_exact = counted <= limit;
    let total = counted.min(limit);
    let q =
        ordered(filtered(actor, f, today, postgres, &st.crypto), f).select(CaseRow::as_select());
    let rows: Vec<CaseRow> = q.limit(per_page).offset((page - 1) * per_page).load(conn)?;
    Ok(Page {
        cases: summarise(conn, st, &rows)?,
        total,
        total_exact,
        page,
        per_page,
    })
}

/// The list's order.
fn ordered<'a>(q: Boxed<'a>, f: &Filter) -> Boxed<'a> {
    match (f.sort, f.descending) {
        (Sort::NextDue, false) => q.order((
            cases::next_due_on.is_null(),
            cases::next_due_on.asc(),
            cases::reference.asc(),
        )),
        (Sort::NextDue, true) => q.order((
            cases::next_due_on.is_null(),
            cases::next_due_on.desc(),
            cases::reference.asc(),
        )),
        (Sort::Reference, false) => q.order((cases::financial_year.asc(), cases::reference.asc())),
        (Sort::Reference, true) => q.order((cases::financial_year.desc(), cases::reference.desc())),
        (Sort::AwareOn, false) => q.order((cases::aware_on.asc(), cases::reference.asc())),
        (Sort::AwareOn, true) => q.order((cases::aware_on.desc(), cases::reference.asc())),
        (Sort::Stage, false) => q.order((cases::stage.asc(), cases::reference.asc())),
        (Sort::Stage, true) => q.order((cases::stage.desc(), cases::reference.asc())),
        (Sort::Updated, false) => q.order((cases::updated_at.asc(), cases::reference.asc())),
        (Sort::Updated, true) => q.order((cases::updated_at.desc(), cases::reference.asc())),
    }
}

/// Every case of the filtered list in its order, not a page (for an export), with the rows the
/// summaries were made from.
pub fn all(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    f: &Filter,
) -> Result<Vec<(CaseRow, CaseSummary)>, AppError> {
    let postgres = conn.is_postgres();
    let rows: Vec<CaseRow> = ordered(filtered(actor, f, st.today(), postgres, &st.crypto), f)
        .select(CaseRow::as_select())
        .load(conn)?;
    let mut out = Vec::with_capacity(rows.len());
    for chunk in rows.chunks(500) {
        let summaries = summarise(conn, st, chunk)?;
        out.extend(chunk.iter().cloned().zip(summaries));
    }
    Ok(out)
}

/// The summaries of these cases: each with its next pending deadline and overdue count.
fn summarise(
    conn: &mut DbConnection,
    st: &AppState,
    rows: &[CaseRow],
) -> Result<Vec<CaseSummary>, AppError> {
    let today = st.today();
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let pending: Vec<DeadlineRow> = if ids.is_empty() {
        vec![]
    } else {
        deadlines::table
            .filter(deadlines::case_id.eq_any(&ids))
            .filter(deadlines::status.eq(fixed::text(DeadlineStatus::Pending.as_str())))
            // Ties broken the same way on every backend.
            .order((
                deadlines::due_on.asc(),
                deadlines::rule_id.asc(),
                deadlines::instance.asc(),
            ))
            .select(DeadlineRow::as_select())
            .load(conn)?
    };
    let mut by_case: HashMap<&str, Vec<&DeadlineRow>> = HashMap::new();
    for d in &pending {
        by_case.entry(d.case_id.as_str()).or_default().push(d);
    }
    let calendar = st.calendars.current(conn)?;
    let cases = rows
        .iter()
        .map(|r| {
            let division: Division = r.division.parse().unwrap_or_default();
            let ds = by_case.get(r.id.as_str()).map(Vec::as_slice).unwrap_or(&[]);
            CaseSummary {
                id: r.id.clone(),
                reference: r.reference.clone(),
                child_pseudonym: r.child_pseudonym.clone(),
                stage_label: r
                    .stage
                    .parse::<Stage>()
                    .map(|s| s.label().to_string())
                    .unwrap_or_default(),
                stage: r.stage.clone(),
                aware_on: r.aware_on,
                financial_year: r.financial_year.clone(),
                overdue: ds.iter().filter(|d| d.due_on < today).count(),
                next_deadline: ds.first().map(|d| NextDeadline {
                    rule: d.rule_id.clone(),
                    label: d.label.clone(),
                    due_on: d.due_on,
                    working_days_left: calendar.count_working_days(division, today, d.due_on),
                }),
            }
        })
        .collect();
    Ok(cases)
}

/// Visible cases counted by stage (for the dashboard).
pub fn count_by_stage(
    conn: &mut DbConnection,
    actor: &Actor,
) -> Result<Vec<(String, i64)>, AppError> {
    let stages: Vec<(String, i64)> = cases::table
        .filter(visible_cases(actor))
        .group_by(cases::stage)
        .select((cases::stage, count_star()))
        .load(conn)?;
    let mut counts: Vec<(String, i64)> = Stage::ALL
        .iter()
        .map(|s| {
            let n = stages
                .iter()
                .find(|(x, _)| x == s.as_str())
                .map_or(0, |(_, n)| *n);
            (s.as_str().to_string(), n)
        })
        .collect();
    counts.retain(|(_, n)| *n > 0);
    Ok(counts)
}

/// The financial years of the visible cases, latest first (for the list's filter): one
/// index lookup per year (`cases_year_next_due`), not a pass over every case.
pub fn years(conn: &mut DbConnection, actor: &Actor) -> Result<Vec<String>, AppError> {
    let mut years: Vec<String> = vec![];
    loop {
        let mut q = cases::table
            .into_boxed()
            .filter(visible_cases(actor))
            .select(max(cases::financial_year));
        if let Some(last) = years.last() {
            q = q.filter(cases::financial_year.lt(last.clone()));
        }
        match q.first::<Option<String>>(conn)? {
            Some(year) => years.push(year),
            None => return Ok(years),
        }
    }
}
