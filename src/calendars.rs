//! The calendar the service uses: the shipped (or configured) bank holiday file, an imported
//! gov.uk file held in the database, days added at run time, and configured closure days.
//! Built once and rebuilt only when the database-held part changes (`calendar_rev`). Below
//! `app` so that `AppState` can hold it; the changes themselves are use cases in
//! `app/calendar.rs`.

use std::sync::{PoisonError, RwLock};

use diesel::prelude::*;

use crate::config::Settings;
use crate::db::models::CalendarDayRow;
use crate::db::schema::{calendar_days, settings as kv};
use crate::db::DbConnection;
use crate::domain::calendar::{
    BankHolidayFeed, Calendar, DayKind, ExtraDay, SHIPPED_BANK_HOLIDAYS,
};
use crate::error::AppError;

pub const REV_KEY: &str = "calendar_rev";
pub const IMPORT_KEY: &str = "calendar_import";

/// Builds and caches the calendar.
pub struct CalendarStore {
    shipped: BankHolidayFeed,
    closures: Vec<ExtraDay>,
    cache: RwLock<Option<(String, Calendar)>>,
}

impl CalendarStore {
    /// The bank holiday file from `calendar.bank_holidays_file` when it exists, else the copy
    /// compiled in; plus `calendar.closure_days`.
    pub fn from_settings(settings: &Settings) -> Result<CalendarStore, String> {
        let path = std::path::Path::new(&settings.calendar.bank_holidays_file);
        let shipped = if path.exists() {
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            BankHolidayFeed::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?
        } else {
            BankHolidayFeed::parse(SHIPPED_BANK_HOLIDAYS).map_err(|e| e.to_string())?
        };
        let closures = settings
            .calendar
            .closure_days
            .iter()
            .map(|c| ExtraDay {
                division: None,
                date: c.date,
                title: c.title.clone(),
                kind: DayKind::Closure,
            })
            .collect::<Vec<_>>();
        // Checks the configured days are in range now rather than at the first request.
        Calendar::new(&shipped, None, &closures)
            .map_err(|e| format!("calendar.closure_days: {e}"))?;
        Ok(CalendarStore {
            shipped,
            closures,
            cache: RwLock::new(None),
        })
    }

    /// The calendar as it stands in the database now.
    pub fn current(&self, conn: &mut DbConnection) -> Result<Calendar, AppError> {
        let rev: Option<String> = kv::table
            .filter(kv::key.eq(REV_KEY))
            .select(kv::value)
            .first(conn)
            .optional()?;
        self.at_rev(conn, rev)
    }

    /// The calendar at revision `rev` (the `calendar_rev` setting, already read by the caller
    /// with other data): the cached one while the revision is unchanged.
    pub fn at_rev(
        &self,
        conn: &mut DbConnection,
        rev: Option<String>,
    ) -> Result<Calendar, AppError> {
        let rev = rev.unwrap_or_default();
        if let Some(cal) = self.cached(&rev) {
            return Ok(cal);
        }
        let (imported, extra) = load_db(conn)?;
        let cal = self.build(imported.as_ref(), &extra)?;
        self.remember(rev, cal.clone());
        Ok(cal)
    }

    /// The cached calendar of revision `rev`, if that is the one cached. The cache is only ever
    /// replaced whole, so one left poisoned (a thread panicked while holding it) still holds a
    /// consistent pair: it is used, not a reason for every later event to fail.
    fn cached(&self, rev: &str) -> Option<Calendar> {
        let cache = self.cache.read().unwrap_or_else(PoisonError::into_inner);
        match cache.as_ref() {
            Some((cached_rev, cal)) if cached_rev == rev => Some(cal.clone()),
            _ => None,
        }
    }

    fn remember(&self, rev: String, cal: Calendar) {
        *self.cache.write().unwrap_or_else(PoisonError::into_inner) = Some((rev, cal));
    }

    /// A calendar from given database-held parts (for previews of a change).
    pub fn build(
        &self,
        imported: Option<&BankHolidayFeed>,
        extra: &[ExtraDay],
    ) -> Result<Calendar, AppError> {
        let mut all = self.closures.clone();
        all.extend_from_slice(extra);
        Calendar::new(&self.shipped, imported, &all)
            .map_err(|e| AppError::invalid("date", e.to_string()))
    }

    /// The database-held parts as they are now.
    pub fn db_parts(
        &self,
        conn: &mut DbConnection,
    ) -> Result<(Option<BankHolidayFeed>, Vec<ExtraDay>), AppError> {
        load_db(conn)
    }
}

fn load_db(conn: &mut DbConnection) -> Result<(Option<BankHolidayFeed>, Vec<ExtraDay>), AppError> {
    let imported: Option<String> = kv::table
        .filter(kv::key.eq(IMPORT_KEY))
        .select(kv::value)
        .first(conn)
        .optional()?;
    let imported = imported
        .map(|json| BankHolidayFeed::parse(&json))
        .transpose()
        .map_err(AppError::internal)?;
    let rows: Vec<CalendarDayRow> = calendar_days::table
        .order(calendar_days::day.asc())
        .select(CalendarDayRow::as_select())
        .load(conn)?;
    let extra = rows
        .into_iter()
        .map(|r| {
            Ok(ExtraDay {
                division: r
                    .division
                    .map(|d| d.parse())
                    .transpose()
                    .map_err(AppError::internal)?,
                date: r.day,
                title: r.title,
                kind: if r.kind == "closure" {
                    DayKind::Closure
                } else {
                    DayKind::Proclaimed
                },
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    Ok((imported, extra))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_poisoned_cache_is_still_used_and_replaced() {
        let store = CalendarStore::from_settings(Settings::built_in()).unwrap();
        store.remember("a".into(), Calendar::shipped());
        // A thread panics while holding the cache.
        let poisoned = std::thread::scope(|s| {
            s.spawn(|| {
                let _held = store.cache.write().unwrap();
                panic!("a panic while the calendar cache is held");
            })
            .join()
        });
        assert!(poisoned.is_err());
        assert!(store.cache.is_poisoned());
        assert!(store.cached("a").is_some());
        assert!(store.cached("b").is_none());
        store.remember("b".into(), Calendar::shipped());
        assert!(store.cached("b").is_some());
    }
}
