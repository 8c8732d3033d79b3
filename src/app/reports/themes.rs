//! Learning themes (issue 12, for the Learning Improvement Framework): a case is tagged with
//! themes from the configured list (`reports.themes`) and free tags (`domain::themes` tidies
//! them); the report counts the tagged cases the user may see by theme and financial year, in
//! SQL (one grouped statement), each count linking to its cases.

use std::collections::BTreeMap;

use diesel::prelude::*;
use serde::Serialize;
use serde_json::{json, Map, Value};

use super::annual::Year;
use super::check_may_read;
use crate::app::access::{refuse, visible_cases, visible_or_refuse};
use crate::app::audit::{self, Entry};
use crate::app::Actor;
use crate::db::models::{CaseRow, CaseThemeRow};
use crate::db::schema::{case_themes, cases};
use crate::db::{write_tx, DbConnection};
use crate::domain::input::NOTE_MAX;
use crate::domain::themes;
use crate::error::AppError;
use crate::state::AppState;

/// The audit action of a change of a case's themes.
pub const ACTION: &str = "themes_changed";

/// The themes of a case, the configured ones first in their configured order, then the free
/// tags alphabetically.
pub fn of_case(
    conn: &mut DbConnection,
    st: &AppState,
    case_id: &str,
) -> Result<Vec<String>, AppError> {
    let rows: Vec<(String, String)> = case_themes::table
        .filter(case_themes::case_id.eq(case_id))
        .select((case_themes::theme_key, case_themes::theme))
        .load(conn)?;
    let mut rows: Vec<(usize, String, String)> = rows
        .into_iter()
        .map(|(k, t)| (place(st, &k), k, t))
        .collect();
    rows.sort();
    Ok(rows.into_iter().map(|(_, _, t)| t).collect())
}

/// A theme's place in lists: its index among the configured themes, after them otherwise.
fn place(st: &AppState, key: &str) -> usize {
    let configured = &st.settings.reports.themes;
    configured
        .iter()
        .position(|c| themes::key(c) == key)
        .unwrap_or(configured.len())
}

/// The body of `PUT /api/v1/cases/{id}/themes`: `themes` (a list of text), `reason` (optional).
pub struct ThemesInput {
    pub themes: Vec<String>,
    pub reason: Option<String>,
}

impl ThemesInput {
    /// From a JSON body, naming the field at fault (422).
    pub fn parse(body: &Map<String, Value>) -> Result<ThemesInput, AppError> {
        if let Some(k) = body
            .keys()
            .find(|k| !["themes", "reason"].contains(&k.as_str()))
        {
            return Err(AppError::invalid(
                k.clone(),
                "is not a field here; send themes (a list) and, if you like, reason",
            ));
        }
        let themes = match body.get("themes") {
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect::<Option<Vec<String>>>()
                .ok_or_else(|| AppError::invalid("themes", "each theme must be text"))?,
            Some(_) => {
                return Err(AppError::invalid(
                    "themes",
                    "must be a list of themes, e.g. [\"Neglect\"] ([] removes them all)",
                ))
            }
            None => {
                return Err(AppError::invalid(
                    "themes",
                    "required: the case's themes, e.g. [\"Neglect\"] ([] removes them all)",
                ))
            }
        };
        let reason = match body.get("reason") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => crate::domain::input::received_text("reason", s, NOTE_MAX)
                .map_err(|m| AppError::invalid("reason", m))?
                .map(str::to_string),
            Some(_) => return Err(AppError::invalid("reason", "must be text")),
        };
        Ok(ThemesInput { themes, reason })
    }
}

/// Replaces a case's themes (co-chairs and the programme manager), audited with the themes
/// before and after and the reason; answers the case's themes as they now are.
pub fn set(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    case_id: &str,
    input: &ThemesInput,
) -> Result<Vec<String>, AppError> {
    let (case, _) = visible_or_refuse(conn, st, actor, case_id, ACTION)?;
    if !actor.role.may_tag_themes() {
        refuse(
            conn,
            st,
            actor,
            Some(&case.id),
            ACTION,
            "role may not tag learning themes",
        )?;
        return Err(AppError::Forbidden(
            "only the co-chairs and the programme manager tag a case's learning themes".into(),
        ));
    }
    let wanted = match themes::normalise(&input.themes, &st.settings.reports.themes) {
        Ok(w) => w,
        Err(m) => {
            refuse(conn, st, actor, Some(&case.id), ACTION, &m)?;
            return Err(AppError::invalid("themes", m));
        }
    };
    write_tx(conn, |c| {
        let before = of_case(c, st, &case.id)?;
        let stored: Vec<CaseThemeRow> = case_themes::table
            .filter(case_themes::case_id.eq(&case.id))
            .select(CaseThemeRow::as_select())
            .load(c)?;
        let wanted_keys: Vec<String> = wanted.iter().map(|t| themes::key(t)).collect();
        let gone: Vec<&str> = stored
            .iter()
            .filter(|r| !wanted_keys.contains(&r.theme_key))
            .map(|r| r.theme_key.as_str())
            .collect();
        if !gone.is_empty() {
            diesel::delete(
                case_themes::table
                    .filter(case_themes::case_id.eq(&case.id))
                    .filter(case_themes::theme_key.eq_any(&gone)),
            )
            .execute(c)?;
        }
        for (theme, key) in wanted.iter().zip(&wanted_keys) {
            match stored.iter().find(|r| &r.theme_key == key) {
                Some(r) if &r.theme == theme => {}
                Some(_) => {
                    // The same theme spelt differently: the new spelling is kept.
                    diesel::update(
                        case_themes::table
                            .filter(case_themes::case_id.eq(&case.id))
                            .filter(case_themes::theme_key.eq(key)),
                    )
                    .set(case_themes::theme.eq(theme))
                    .execute(c)?;
                }
                None => {
                    diesel::insert_into(case_themes::table)
                        .values(CaseThemeRow {
                            case_id: case.id.clone(),
                            theme_key: key.clone(),
                            theme: theme.clone(),
                            tagged_by: actor.user_id.clone(),
                            tagged_at: st.now(),
                        })
                        .execute(c)?;
                }
            }
        }
        let after = of_case(c, st, &case.id)?;
        let added: Vec<&String> = after
            .iter()
            .filter(|t| !before.iter().any(|b| themes::key(b) == themes::key(t)))
            .collect();
        let removed: Vec<&String> = before
            .iter()
            .filter(|t| !after.iter().any(|a| themes::key(a) == themes::key(t)))
            .collect();
        audit::append(
            c,
            st.now(),
            Entry::ok(Some(actor), ACTION).case(&case.id).detail(json!({
                "before": before,
                "after": after,
                "added": added,
                "removed": removed,
                "reason": input.reason,
            })),
        )?;
        Ok(after)
    })
}

/// One theme's line of the report.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ThemeLine {
    pub theme: String,
    /// Its key, for the links to its cases.
    pub key: String,
    /// One of `reports.themes` (else a free tag).
    pub configured: bool,
    /// Tagged cases by financial year (`2025-26`), for every year of the report.
    pub counts: BTreeMap<String, usize>,
    pub total: usize,
}

/// Themes across cases and years.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ThemesReport {
    /// The financial years with a tagged case the user sees, oldest first.
    pub years: Vec<String>,
    /// The configured themes (each, even when no case has it), then the free tags.
    pub themes: Vec<ThemeLine>,
    /// Cases (that the user sees) with at least one theme.
    pub cases_tagged: i64,
}

/// The report over the cases `actor` may see: one grouped statement for the counts, one for
/// the number of tagged cases.
pub fn report(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
) -> Result<ThemesReport, AppError> {
    check_may_read(actor)?;
    let grouped: Vec<(String, String, Option<String>, i64)> = case_themes::table
        .inner_join(cases::table)
        .filter(visible_cases(actor))
        .group_by((case_themes::theme_key, cases::financial_year))
        .select((
            case_themes::theme_key,
            cases::financial_year,
            diesel::dsl::min(case_themes::theme),
            diesel::dsl::count_star(),
        ))
        .load(conn)?;
    let cases_tagged: i64 = cases::table
        .filter(visible_cases(actor))
        .filter(cases::id.eq_any(case_themes::table.select(case_themes::case_id).distinct()))
        .count()
        .get_result(conn)?;
    let mut years: Vec<String> = grouped.iter().map(|g| g.1.clone()).collect();
    years.sort();
    years.dedup();
    let zero: BTreeMap<String, usize> = years.iter().map(|y| (y.clone(), 0)).collect();
    let mut lines: Vec<ThemeLine> = st
        .settings
        .reports
        .themes
        .iter()
        .map(|t| ThemeLine {
            theme: themes::tidy(t),
            key: themes::key(t),
            configured: true,
            counts: zero.clone(),
            total: 0,
        })
        .collect();
    for (key, year, shown, n) in grouped {
        let at = match lines.iter().position(|l| l.key == key) {
            Some(i) => i,
            None => {
                lines.push(ThemeLine {
                    theme: shown.clone().unwrap_or_else(|| key.clone()),
                    key: key.clone(),
                    configured: false,
                    counts: zero.clone(),
                    total: 0,
                });
                lines.len() - 1
            }
        };
        let line = &mut lines[at];
        // A free tag spelt differently on different cases: one spelling, whatever the order.
        if let Some(shown) = shown.filter(|s| !line.configured && *s < line.theme) {
            line.theme = shown;
        }
        *line.counts.entry(year).or_default() += n as usize;
        line.total += n as usize;
    }
    let configured = st.settings.reports.themes.len();
    lines[configured..].sort_by(|a, b| a.key.cmp(&b.key));
    Ok(ThemesReport {
        years,
        themes: lines,
        cases_tagged,
    })
}

/// The cases behind one count: tagged with the theme whose key is `key`, in `year` (or any),
/// that `actor` may see, by reference.
pub fn cases_of(
    conn: &mut DbConnection,
    actor: &Actor,
    key: &str,
    year: Option<Year>,
) -> Result<(String, Vec<CaseRow>), AppError> {
    check_may_read(actor)?;
    let key = themes::key(key);
    if key.is_empty() {
        return Err(AppError::bad_request("theme", "name the theme"));
    }
    let mut q = cases::table
        .inner_join(case_themes::table)
        .filter(visible_cases(actor))
        .filter(case_themes::theme_key.eq(&key))
        .order(cases::reference.asc())
        .select((CaseRow::as_select(), case_themes::theme))
        .into_boxed();
    if let Some(y) = year {
        q = q.filter(cases::financial_year.eq(y.label()));
    }
    let rows: Vec<(CaseRow, String)> = q.load(conn)?;
    let shown = rows
        .iter()
        .map(|(_, t)| t.clone())
        .min()
        .unwrap_or_else(|| key.clone());
    Ok((shown, rows.into_iter().map(|(c, _)| c).collect()))
}
