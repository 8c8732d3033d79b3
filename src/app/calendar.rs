//! Changing the calendar: importing a gov.uk file, adding a proclaimed holiday or closure day,
//! each previewed (which pending deadlines would move) and then applied in one transaction.
//! The calendar in use is built by `crate::calendars::CalendarStore`.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::audit::{self, Entry};
use super::{new_id, stored, Actor};
use crate::calendars::{CalendarStore, IMPORT_KEY, REV_KEY};
use crate::db::models::CalendarDayRow;
use crate::db::schema::{calendar_days, settings as kv};
use crate::db::DbConnection;
use crate::domain::calendar::{BankHolidayFeed, Calendar, DayKind, Division, ExtraDay};
use crate::error::AppError;

/// Marks the database-held calendar as changed, so every instance rebuilds it.
fn bump_rev(conn: &mut DbConnection) -> QueryResult<()> {
    let rev = new_id();
    let n = diesel::update(kv::table.filter(kv::key.eq(REV_KEY)))
        .set(kv::value.eq(&rev))
        .execute(conn)?;
    if n == 0 {
        diesel::insert_into(kv::table)
            .values((kv::key.eq(REV_KEY), kv::value.eq(&rev)))
            .execute(conn)?;
    }
    Ok(())
}

/// Stores an imported gov.uk file (already parsed and checked). Call inside a transaction.
pub fn store_import(
    conn: &mut DbConnection,
    actor: Option<&Actor>,
    now: NaiveDateTime,
    json: &str,
    feed: &BankHolidayFeed,
) -> Result<(), AppError> {
    diesel::delete(kv::table.filter(kv::key.eq(IMPORT_KEY))).execute(conn)?;
    diesel::insert_into(kv::table)
        .values((kv::key.eq(IMPORT_KEY), kv::value.eq(json)))
        .execute(conn)?;
    bump_rev(conn)?;
    let summary: Vec<serde_json::Value> = feed
        .divisions()
        .map(|d| {
            serde_json::json!({
                "division": d,
                "events": feed.events(d).map_or(0, <[_]>::len),
                "years": feed.covered_years(d).map(|r| format!("{}-{}", r.start(), r.end())),
            })
        })
        .collect();
    audit::append(
        conn,
        now,
        Entry::ok(actor, "calendar_imported").detail(serde_json::json!({ "divisions": summary })),
    )?;
    Ok(())
}

/// A day to add: a proclaimed holiday for one division, or a closure day for all.
#[derive(Debug, Clone)]
pub struct NewDay {
    pub division: Option<Division>,
    pub date: NaiveDate,
    pub title: String,
    pub kind: DayKind,
}

impl NewDay {
    pub fn as_extra(&self) -> ExtraDay {
        ExtraDay {
            division: self.division,
            date: self.date,
            title: self.title.clone(),
            kind: self.kind,
        }
    }
}

/// Stores an added day. Call inside a transaction.
pub fn store_day(
    conn: &mut DbConnection,
    actor: Option<&Actor>,
    now: NaiveDateTime,
    day: &NewDay,
) -> Result<(), AppError> {
    let same_day: Vec<Option<String>> = calendar_days::table
        .filter(calendar_days::day.eq(day.date))
        .select(calendar_days::division)
        .load(conn)?;
    let clash = same_day.iter().any(|d| match (day.division, d) {
        (Some(want), Some(have)) => want.as_str() == have,
        _ => true,
    });
    if clash {
        return Err(AppError::invalid(
            "date",
            "a day has already been added on this date",
        ));
    }
    diesel::insert_into(calendar_days::table)
        .values(&CalendarDayRow {
            id: new_id(),
            division: day.division.map(|d| d.as_str().to_string()),
            day: day.date,
            title: day.title.clone(),
            kind: match day.kind {
                DayKind::Closure => "closure".into(),
                _ => "proclaimed".into(),
            },
            source: "manual".into(),
            notes: String::new(),
            bunting: false,
            created_by: actor.map(|a| a.user_id.clone()),
            created_at: stored(now),
        })
        .execute(conn)?;
    bump_rev(conn)?;
    audit::append(
        conn,
        now,
        Entry::ok(actor, "calendar_day_added").detail(serde_json::json!({
            "division": day.division, "date": day.date, "title": day.title, "kind": day.kind,
        })),
    )?;
    Ok(())
}

/// Days added at run time, for the admin page.
pub fn added_days(conn: &mut DbConnection) -> QueryResult<Vec<CalendarDayRow>> {
    calendar_days::table
        .order(calendar_days::day.desc())
        .select(CalendarDayRow::as_select())
        .load(conn)
}

/// A proposed change to the database-held calendar.
#[derive(Debug, Clone)]
pub enum Change {
    /// A gov.uk file (its text and the parsed feed).
    Import { json: String, feed: BankHolidayFeed },
    /// One proclaimed holiday or closure day.
    AddDay(NewDay),
}

impl Change {
    /// Parses a gov.uk file; a malformed file, or one with no known division, is refused.
    pub fn import(json: &str) -> Result<Change, AppError> {
        let feed =
            BankHolidayFeed::parse(json).map_err(|e| AppError::invalid("file", e.to_string()))?;
        Ok(Change::Import {
            json: json.to_string(),
            feed,
        })
    }

    /// The calendar with this change made.
    fn calendar_after(
        &self,
        store: &CalendarStore,
        conn: &mut DbConnection,
    ) -> Result<Calendar, AppError> {
        let (imported, mut extra) = store.db_parts(conn)?;
        match self {
            Change::Import { feed, .. } => store.build(Some(feed), &extra),
            Change::AddDay(day) => {
                extra.push(day.as_extra());
                store.build(imported.as_ref(), &extra)
            }
        }
    }
}

/// Which pending deadlines the change would move; writes nothing.
pub fn preview(
    conn: &mut DbConnection,
    st: &crate::state::AppState,
    change: &Change,
) -> Result<Vec<super::recalc::Moved>, AppError> {
    let calendar = change.calendar_after(&st.calendars, conn)?;
    super::recalc::recompute(conn, st, None, &calendar, false)
}

/// Makes the change and moves the pending deadlines, in one transaction.
pub fn apply(
    conn: &mut DbConnection,
    st: &crate::state::AppState,
    actor: Option<&Actor>,
    change: &Change,
) -> Result<Vec<super::recalc::Moved>, AppError> {
    crate::db::write_tx(conn, |c| {
        let calendar = change.calendar_after(&st.calendars, c)?;
        match change {
            Change::Import { json, feed } => store_import(c, actor, st.now(), json, feed)?,
            Change::AddDay(day) => store_day(c, actor, st.now(), day)?,
        }
        super::recalc::recompute(c, st, actor, &calendar, true)
    })
}
