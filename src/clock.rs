//! Time is injected: everything that asks "what is today" takes a [`Clock`], so tests and
//! `reminders run --at` can set it.

use std::sync::{Arc, Mutex};

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, Utc, Weekday};

/// A source of the current time (UTC) and of today's date in England.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Now, as naive UTC.
    fn now(&self) -> NaiveDateTime;
    /// Today's date in the UK (statutory days turn at midnight London time).
    fn today(&self) -> NaiveDate {
        uk_local(self.now()).date()
    }
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> NaiveDateTime {
        Utc::now().naive_utc()
    }
}

/// A clock that stands still until moved; for tests and simulated runs.
#[derive(Debug, Clone)]
pub struct FixedClock(Arc<Mutex<NaiveDateTime>>);

impl FixedClock {
    pub fn new(at: NaiveDateTime) -> Self {
        FixedClock(Arc::new(Mutex::new(at)))
    }
    /// Noon UTC on the given day.
    pub fn on(day: NaiveDate) -> Self {
        Self::new(day.and_hms_opt(12, 0, 0).expect("noon exists"))
    }
    pub fn set(&self, at: NaiveDateTime) {
        *self.0.lock().expect("clock lock") = at;
    }
    pub fn set_day(&self, day: NaiveDate) {
        self.set(day.and_hms_opt(12, 0, 0).expect("noon exists"));
    }
    pub fn advance(&self, by: Duration) {
        let mut t = self.0.lock().expect("clock lock");
        *t += by;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> NaiveDateTime {
        *self.0.lock().expect("clock lock")
    }
}

/// UTC → UK civil time: British Summer Time runs from 01:00 UTC on the last Sunday of March
/// to 01:00 UTC on the last Sunday of October.
pub fn uk_local(utc: NaiveDateTime) -> NaiveDateTime {
    let year = utc.year();
    let start = last_sunday(year, 3).and_hms_opt(1, 0, 0).expect("valid");
    let end = last_sunday(year, 10).and_hms_opt(1, 0, 0).expect("valid");
    if utc >= start && utc < end {
        utc + Duration::hours(1)
    } else {
        utc
    }
}

/// UK civil time → UTC (the inverse of [`uk_local`]; in the hour the clocks go back, the first
/// of the two, BST, is taken).
pub fn uk_to_utc(local: NaiveDateTime) -> NaiveDateTime {
    let summer = local - Duration::hours(1);
    if uk_local(summer) == local {
        summer
    } else {
        local
    }
}

fn last_sunday(year: i32, month: u32) -> NaiveDate {
    let mut d =
        NaiveDate::from_ymd_opt(year, month + 1, 1).expect("valid month") - Duration::days(1);
    while d.weekday() != Weekday::Sun {
        d -= Duration::days(1);
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn london_midnight_in_summer_is_the_next_day() {
        // 23:30 UTC on 30 Jun is 00:30 BST on 1 Jul.
        assert_eq!(
            uk_local(at("2026-06-30 23:30")).date().to_string(),
            "2026-07-01"
        );
        // In winter UTC and UK agree.
        assert_eq!(
            uk_local(at("2026-12-30 23:30")).date().to_string(),
            "2026-12-30"
        );
        // BST 2026 starts 29 Mar 01:00 UTC and ends 25 Oct 01:00 UTC.
        assert_eq!(uk_local(at("2026-03-29 00:59")), at("2026-03-29 00:59"));
        assert_eq!(uk_local(at("2026-03-29 01:00")), at("2026-03-29 02:00"));
        assert_eq!(uk_local(at("2026-10-25 00:59")), at("2026-10-25 01:59"));
        assert_eq!(uk_local(at("2026-10-25 01:00")), at("2026-10-25 01:00"));
    }

    #[test]
    fn uk_time_back_to_utc() {
        assert_eq!(uk_to_utc(at("2026-07-01 10:00")), at("2026-07-01 09:00"));
        assert_eq!(uk_to_utc(at("2026-12-10 10:00")), at("2026-12-10 10:00"));
        for t in [
            "2026-03-29 00:30",
            "2026-03-29 03:00",
            "2026-10-25 03:00",
            "2026-06-30 23:30",
        ] {
            assert_eq!(uk_local(uk_to_utc(at(t))), at(t), "{t}");
        }
    }

    #[test]
    fn fixed_clock_moves_only_when_told() {
        let c = FixedClock::on(NaiveDate::from_ymd_opt(2026, 1, 5).unwrap());
        assert_eq!(c.today().to_string(), "2026-01-05");
        c.advance(Duration::days(2));
        assert_eq!(c.today().to_string(), "2026-01-07");
    }
}
