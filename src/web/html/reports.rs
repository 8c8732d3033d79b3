//! The report pages: the annual figures (`/reports/annual`, each figure linking to its cases,
//! timeliness by quarter as a chart with its table), the cases behind one figure, and the
//! Sub-Group's report to the Board (`/reports/board`, printable on A4). With `format=csv|xlsx`
//! each page answers the same file as the API (audited).

use std::collections::HashMap;

use actix_web::web;
use serde::Serialize;
use serde_json::json;

use super::{Page, PageResult};
use crate::app::access::visible_cases;
use crate::app::export::{audit_export, Exported, Format};
use crate::app::reports::annual::{self, Annual, Figure, Year};
use crate::app::reports::{board, percent, tables, themes};
use crate::db::models::CaseRow;
use crate::db::schema::cases;
use crate::domain::case::Stage;
use crate::error::AppError;
use crate::web::download::Answer;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/reports", web::get().to(index))
        .route("/reports/annual", web::get().to(annual_page))
        .route("/reports/annual/cases", web::get().to(figure_cases))
        .route("/reports/board", web::get().to(board_page))
        .route("/reports/themes", web::get().to(themes_page))
        .route("/reports/themes/cases", web::get().to(theme_cases));
}

type Query = web::Query<HashMap<String, String>>;

fn param<'a>(q: &'a Query, key: &str) -> Option<&'a str> {
    q.get(key).map(String::as_str)
}

async fn index() -> actix_web::HttpResponse {
    super::see_other("/reports/annual")
}

/// One figure on the page.
#[derive(Serialize)]
struct Line {
    code: &'static str,
    label: &'static str,
    count: usize,
    /// Of how many, when the figure is a share.
    of: Option<usize>,
    percent: Option<u32>,
    /// Whether there are cases to list.
    linked: bool,
}

/// One bar of the quarter chart: its place and size in the SVG's own units.
#[derive(Serialize)]
struct Bar {
    quarter: String,
    x: u32,
    y: u32,
    height: u32,
    percent: Option<u32>,
    part: usize,
    whole: usize,
}

#[derive(Serialize)]
struct Panel {
    title: &'static str,
    x: u32,
    bars: Vec<Bar>,
}

/// The chart's height for 100 %, and where its baseline is.
const CHART_HEIGHT: u32 = 150;
const BASELINE: u32 = 190;

fn whole_of(f: Figure) -> Option<Figure> {
    match f {
        Figure::NotifiedInTime => Some(Figure::Notifications),
        Figure::RapidReviewsInTime => Some(Figure::RapidReviews),
        Figure::PublishedWithin6Months => Some(Figure::LcsprsPublished),
        Figure::PrepubCopiesOnTime => Some(Figure::PrepubCopiesSent),
        _ => None,
    }
}

/// A quarter's (met in time, ran) for one clock.
type QuarterShare = fn(&annual::Quarter) -> (usize, usize);

fn panels(a: &Annual) -> Vec<Panel> {
    let measures: [(&'static str, QuarterShare); 3] = [
        ("Notified within 5 working days", |q| {
            (q.notified_in_time, q.notifications)
        }),
        ("Rapid reviews within 15 working days", |q| {
            (q.rapid_reviews_in_time, q.rapid_reviews)
        }),
        ("LCSPRs published within 6 months", |q| {
            (q.published_within_6_months, q.lcsprs_published)
        }),
    ];
    measures
        .iter()
        .enumerate()
        .map(|(i, (title, f))| Panel {
            title,
            x: i as u32 * 220,
            bars: a
                .quarters
                .iter()
                .enumerate()
                .map(|(qi, q)| {
                    let (part, whole) = f(q);
                    let p = percent(part, whole);
                    let height = p.map_or(0, |p| p * CHART_HEIGHT / 100);
                    Bar {
                        quarter: format!("Q{}", qi + 1),
                        x: 20 + qi as u32 * 48,
                        y: BASELINE - height,
                        height,
                        percent: p,
                        part,
                        whole,
                    }
                })
                .collect(),
        })
        .collect()
}

async fn annual_page(page: Page, q: Query) -> PageResult {
    let today = page.state.today();
    let year = match param(&q, "year").filter(|s| !s.trim().is_empty()) {
        Some(y) => Year::parse(Some(y)).map_err(|e| page.fail(e))?,
        None => Year::of(today),
    };
    let format = Format::parse(param(&q, "format")).map_err(|e| page.fail(e))?;
    if format != Format::Json {
        return page
            .db(move |c, st, actor| {
                let report = annual::compute(c, st, actor, year)?;
                let table = tables::annual(&report);
                audit_export(
                    c,
                    st,
                    actor,
                    Exported {
                        what: "annual_report",
                        case_id: None,
                        format,
                        filters: json!({ "year": year.0 }),
                        rows: table.rows.len(),
                    },
                )?;
                Ok(Answer::file(table, format, st.today()))
            })
            .await?
            .respond()
            .map_err(|e| page.fail(e));
    }
    let report = page
        .db(move |c, st, actor| annual::compute(c, st, actor, year))
        .await?;
    let lines: Vec<Line> = Figure::ALL
        .iter()
        .map(|f| {
            let of = whole_of(*f).map(|w| report.count(w));
            Line {
                code: f.as_str(),
                label: f.label(),
                count: report.count(*f),
                of,
                percent: of.and_then(|w| percent(report.count(*f), w)),
                linked: report.n(*f) > 0,
            }
        })
        .collect();
    let years: Vec<serde_json::Value> = (0..5)
        .map(|i| Year(Year::of(today).0 - i))
        .map(|y| json!({ "value": y.0.to_string(), "text": y.label() }))
        .collect();
    let mut ctx = page.context(&format!("Annual report {}", year.label()), "reports");
    ctx.insert("year", &year.0);
    ctx.insert("year_label", &year.label());
    ctx.insert("years", &years);
    ctx.insert("form", &json!({ "year": year.0.to_string() }));
    ctx.insert("lines", &lines);
    ctx.insert(
        "median",
        &report
            .median_working_days_to_publication()
            .map(|m| format!("{m}")),
    );
    ctx.insert("overdue_by_agency", &report.overdue_by_agency());
    ctx.insert("panels", &panels(&report));
    ctx.insert("baseline", &BASELINE);
    ctx.insert("as_of", &report.as_of);
    page.render("pages/reports/annual.html", &ctx)
}

#[derive(Serialize)]
struct CaseLine {
    id: String,
    reference: String,
    child_pseudonym: String,
    stage: String,
    aware_on: chrono::NaiveDate,
}

fn case_line(r: CaseRow) -> CaseLine {
    CaseLine {
        stage: r
            .stage
            .parse::<Stage>()
            .map_or(String::new(), |s| s.label().to_string()),
        id: r.id,
        reference: r.reference,
        child_pseudonym: r.child_pseudonym,
        aware_on: r.aware_on,
    }
}

async fn figure_cases(page: Page, q: Query) -> PageResult {
    let year = Year::parse(param(&q, "year")).map_err(|e| page.fail(e))?;
    let figure: Figure = param(&q, "figure")
        .unwrap_or("")
        .parse()
        .map_err(|m: String| page.fail(AppError::bad_request("figure", m)))?;
    let rows = page
        .db(move |c, st, actor| {
            use diesel::prelude::*;
            let report = annual::compute(c, st, actor, year)?;
            let ids: Vec<String> = report.cases[&figure].iter().cloned().collect();
            let mut rows: Vec<CaseRow> = vec![];
            for chunk in ids.chunks(500) {
                rows.extend(
                    cases::table
                        .filter(visible_cases(actor))
                        .filter(cases::id.eq_any(chunk))
                        .select(CaseRow::as_select())
                        .load(c)?,
                );
            }
            rows.sort_by(|a, b| a.reference.cmp(&b.reference));
            Ok(rows)
        })
        .await?;
    let lines: Vec<CaseLine> = rows.into_iter().map(case_line).collect();
    let mut ctx = page.context(figure.label(), "reports");
    ctx.insert("figure", figure.label());
    ctx.insert("year", &year.0);
    ctx.insert("year_label", &year.label());
    ctx.insert("cases", &lines);
    page.render("pages/reports/figure_cases.html", &ctx)
}

async fn board_page(page: Page, q: Query) -> PageResult {
    let since = board::parse_since(param(&q, "since")).map_err(|e| page.fail(e))?;
    let format = Format::parse(param(&q, "format")).map_err(|e| page.fail(e))?;
    let (report, answer) = page
        .db(move |c, st, actor| {
            let report = board::compute(c, st, actor, since)?;
            if format == Format::Json {
                return Ok((Some(report), None));
            }
            let table = tables::board(&report);
            audit_export(
                c,
                st,
                actor,
                Exported {
                    what: "board_report",
                    case_id: None,
                    format,
                    filters: json!({ "since": report.since }),
                    rows: table.rows.len(),
                },
            )?;
            Ok((None, Some(Answer::file(table, format, st.today()))))
        })
        .await?;
    if let Some(answer) = answer {
        return answer.respond().map_err(|e| page.fail(e));
    }
    let report = report.expect("a report when no file");
    let mut ctx = page.context("Report to the Executive Board", "reports");
    ctx.insert("since_value", &report.since.to_string());
    ctx.insert("r", &report);
    page.render("pages/reports/board.html", &ctx)
}

/// A count of the themes table: how many cases, and the link to them.
#[derive(Serialize)]
struct Count {
    n: usize,
    href: String,
}

#[derive(Serialize)]
struct ThemeRow {
    theme: String,
    configured: bool,
    counts: Vec<Count>,
    total: Count,
}

/// `/reports/themes/cases?theme=…&year=2025` (`year` left out: every year).
fn theme_href(key: &str, year: Option<&str>) -> String {
    let theme = crate::web::session::encode_component(key);
    match year {
        Some(y) => format!("/reports/themes/cases?theme={theme}&year={y}"),
        None => format!("/reports/themes/cases?theme={theme}"),
    }
}

/// The learning themes across cases and financial years: a table of theme × year, each count
/// linking to its cases.
async fn themes_page(page: Page) -> PageResult {
    let report = page.db(themes::report).await?;
    // "2025-26" → "2025", the year parameter of the links.
    let starts: Vec<String> = report
        .years
        .iter()
        .map(|y| y.chars().take(4).collect())
        .collect();
    let rows: Vec<ThemeRow> = report
        .themes
        .iter()
        .map(|t| ThemeRow {
            theme: t.theme.clone(),
            configured: t.configured,
            counts: report
                .years
                .iter()
                .zip(&starts)
                .map(|(y, start)| Count {
                    n: t.counts.get(y).copied().unwrap_or(0),
                    href: theme_href(&t.key, Some(start)),
                })
                .collect(),
            total: Count {
                n: t.total,
                href: theme_href(&t.key, None),
            },
        })
        .collect();
    let mut ctx = page.context("Learning themes", "reports");
    ctx.insert("years", &report.years);
    ctx.insert("rows", &rows);
    ctx.insert("cases_tagged", &report.cases_tagged);
    ctx.insert("may_tag", &page.actor().role.may_tag_themes());
    page.render("pages/reports/themes.html", &ctx)
}

/// The cases behind one count of the themes table.
async fn theme_cases(page: Page, q: Query) -> PageResult {
    let key = param(&q, "theme").unwrap_or("").to_string();
    let year = match param(&q, "year").map(str::trim).filter(|s| !s.is_empty()) {
        Some(y) => Some(Year::parse(Some(y)).map_err(|e| page.fail(e))?),
        None => None,
    };
    let (theme, rows) = page
        .db(move |c, _, actor| themes::cases_of(c, actor, &key, year))
        .await?;
    let lines: Vec<CaseLine> = rows.into_iter().map(case_line).collect();
    let mut ctx = page.context(&format!("Learning theme: {theme}"), "reports");
    ctx.insert("figure", &theme);
    ctx.insert("caption", "Learning themes");
    ctx.insert("back_href", "/reports/themes");
    ctx.insert("back_text", "Back to the learning themes");
    ctx.insert("year_label", &year.map(Year::label));
    ctx.insert("cases", &lines);
    page.render("pages/reports/theme_cases.html", &ctx)
}
