//! The calendar proper: each division's non-working weekdays, and working-day arithmetic over them.

use std::ops::{Range, RangeInclusive};
use std::sync::Arc;

use chrono::{Datelike, Days, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

use super::explain::{Direction, Reckoning, SkippedDays, Unit};
use super::{
    add_calendar_months, check_range, provisional_holidays, BankHolidayFeed, CalendarError,
    DayKind, Division, ExtraDay, Holiday, SHIPPED_BANK_HOLIDAYS, SUPPORTED_FROM, SUPPORTED_TO,
};

/// A weekday that is not a working day in a division, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct NonWorkingDay {
    /// The day (always Monday to Friday).
    pub date: NaiveDate,
    /// The feed's title, or the admin's for an extra day.
    pub title: String,
    /// Bank holiday, proclaimed holiday or local closure.
    pub kind: DayKind,
    /// The holiday moved here off a weekend ("Substitute day" in the feed).
    pub substitute: bool,
    /// Computed from the standing rules: no published data covers its year.
    pub provisional: bool,
}

/// Working-day arithmetic for every division; cheap to clone and share between threads.
#[derive(Debug, Clone)]
pub struct Calendar {
    divisions: Arc<[DivisionDays; 3]>,
}

#[derive(Debug)]
struct DivisionDays {
    /// Sorted by date, one entry per date, weekdays only; shared with the explanations.
    days: Arc<[NonWorkingDay]>,
    /// `weekday_index(days[j].date) - j`, non-decreasing: comparing it with a target tells in one
    /// binary search how many of these days a span of N working days steps over.
    keys: Vec<i64>,
    /// Supported years that no feed covers, ascending.
    provisional_years: Vec<i32>,
    /// Last year covered by feed data, if any.
    published_through: Option<i32>,
}

impl Calendar {
    /// The calendar from the shipped data alone, with no import and no extra days.
    pub fn shipped() -> Calendar {
        let feed = BankHolidayFeed::parse(SHIPPED_BANK_HOLIDAYS)
            .expect("the shipped bank holiday file is valid (checked by the calendar tests)");
        Calendar::new(&feed, None, &[]).expect("no extra days, so nothing out of range")
    }

    /// Builds the calendar: for each division and supported year, the imported feed's events if
    /// the import covers that year, else the shipped feed's, else the standing rules
    /// (provisional); then the extra days. Where two sources name the same date, the feed or
    /// rule entry is kept, then extra days in the order given.
    pub fn new(
        shipped: &BankHolidayFeed,
        imported: Option<&BankHolidayFeed>,
        extra: &[ExtraDay],
    ) -> Result<Calendar, CalendarError> {
        for day in extra {
            check_range(day.date)?;
        }
        let divisions = Division::ALL.map(|d| DivisionDays::build(d, shipped, imported, extra));
        Ok(Calendar {
            divisions: Arc::new(divisions),
        })
    }

    fn division(&self, division: Division) -> &DivisionDays {
        &self.divisions[division.index()]
    }

    /// Monday to Friday, and not a holiday or closure day of the division.
    pub fn is_working_day(&self, division: Division, date: NaiveDate) -> bool {
        is_weekday(date) && self.non_working_day(division, date).is_none()
    }

    /// The holiday or closure that makes a weekday non-working, if any.
    pub fn non_working_day(&self, division: Division, date: NaiveDate) -> Option<&NonWorkingDay> {
        let days = &self.division(division).days;
        days.binary_search_by_key(&date, |d| d.date)
            .ok()
            .map(|i| &days[i])
    }

    /// The named non-working weekdays in a date range, for previews.
    pub fn non_working_days(
        &self,
        division: Division,
        range: RangeInclusive<NaiveDate>,
    ) -> &[NonWorkingDay] {
        let days = &self.division(division).days;
        let start = days.partition_point(|d| d.date < *range.start());
        let end = days.partition_point(|d| d.date <= *range.end());
        &days[start..end.max(start)]
    }

    /// Whether the division's holidays for a year come from the standing rules (or are not
    /// known at all: years outside the supported range).
    pub fn is_provisional_year(&self, division: Division, year: i32) -> bool {
        let years = &self.division(division).provisional_years;
        years.binary_search(&year).is_ok()
            || !(SUPPORTED_FROM.year()..=SUPPORTED_TO.year()).contains(&year)
    }

    /// `n > 0`: the nth working day after `from` (day 0, whatever day it is); `n < 0`: the |n|th
    /// working day before `from` (not itself counted); `n == 0`: `from` unchanged. With the
    /// explanation of how it was reached.
    pub fn add_working_days(
        &self,
        division: Division,
        from: NaiveDate,
        n: i32,
    ) -> Result<Reckoning, CalendarError> {
        check_range(from)?;
        let table = self.division(division);
        let steps = i64::from(n).abs();
        let (day, skipped) = if n >= 0 {
            table.forward(from, steps)
        } else {
            table.backward(from, steps)
        };
        let date = check_range(date_of(day))?;
        // The span is (from, date] going forward and [date, from) going back.
        let years = match n.signum() {
            1 => table.provisional_between(from + Days::new(1), date),
            -1 => table.provisional_between(date, from - Days::new(1)),
            _ => &[],
        };
        Ok(Reckoning {
            from,
            date,
            count: i32::try_from(steps).unwrap_or(i32::MAX),
            unit: Unit::WorkingDays,
            direction: if n < 0 {
                Direction::Backward
            } else {
                Direction::Forward
            },
            division: Some(division),
            weekend_days_skipped: (day - day_number(from)).abs() - steps - skipped.len() as i64,
            skipped: SkippedDays::new(&table.days, skipped),
            provisional: !years.is_empty(),
            provisional_years: years.to_vec(),
            published_through: table.published_through,
            clamped: false,
        })
    }

    /// Working days in `(from, to]` when `to >= from`; when `to < from`, minus the working days in
    /// `[to, from)`, so that `count(from, add(from, n)) == n` for every n. Outside the supported
    /// range only weekends are known to be non-working.
    pub fn count_working_days(&self, division: Division, from: NaiveDate, to: NaiveDate) -> i64 {
        let days = &self.division(division).days;
        let (a, b) = (day_number(from), day_number(to));
        if b >= a {
            let holidays =
                days.partition_point(|d| d.date <= to) - days.partition_point(|d| d.date <= from);
            weekdays_before(b + 1) - weekdays_before(a + 1) - holidays as i64
        } else {
            let holidays =
                days.partition_point(|d| d.date < from) - days.partition_point(|d| d.date < to);
            -(weekdays_before(a) - weekdays_before(b) - holidays as i64)
        }
    }

    /// Calendar months from a date, clamped to the end of a shorter month; see [`add_calendar_months`].
    pub fn add_calendar_months(&self, from: NaiveDate, months: i32) -> NaiveDate {
        add_calendar_months(from, months)
    }
}

impl DivisionDays {
    fn build(
        division: Division,
        shipped: &BankHolidayFeed,
        imported: Option<&BankHolidayFeed>,
        extra: &[ExtraDay],
    ) -> DivisionDays {
        let shipped_years = shipped.covered_years(division);
        let imported_years = imported.and_then(|f| f.covered_years(division));
        let covers =
            |r: &Option<RangeInclusive<i32>>, y: i32| r.as_ref().is_some_and(|r| r.contains(&y));
        let mut days = Vec::new();
        let mut provisional_years = Vec::new();
        let mut published_through = None;
        for year in SUPPORTED_FROM.year()..=SUPPORTED_TO.year() {
            let computed;
            let (events, provisional): (&[Holiday], bool) = match imported {
                Some(feed) if covers(&imported_years, year) => {
                    (feed.events_in_year(division, year), false)
                }
                _ if covers(&shipped_years, year) => {
                    (shipped.events_in_year(division, year), false)
                }
                _ => {
                    computed = provisional_holidays(division, year);
                    (&computed, true)
                }
            };
            if provisional {
                provisional_years.push(year);
            } else {
                published_through = Some(year);
            }
            days.extend(
                events
                    .iter()
                    .filter(|e| is_weekday(e.date))
                    .map(|e| NonWorkingDay {
                        date: e.date,
                        title: e.title.clone(),
                        kind: DayKind::BankHoliday,
                        substitute: e.is_substitute(),
                        provisional,
                    }),
            );
        }
        days.extend(
            extra
                .iter()
                .filter(|x| x.division.is_none_or(|d| d == division) && is_weekday(x.date))
                .map(|x| NonWorkingDay {
                    date: x.date,
                    title: x.title.clone(),
                    kind: x.kind,
                    substitute: false,
                    provisional: false,
                }),
        );
        // Stable sort: on a shared date the feed or rule entry, pushed first, survives the dedup.
        days.sort_by_key(|d| d.date);
        days.dedup_by_key(|d| d.date);
        let keys = days
            .iter()
            .enumerate()
            .map(|(j, d)| weekdays_before(day_number(d.date)) - j as i64)
            .collect();
        DivisionDays {
            days: days.into(),
            keys,
            provisional_years,
            published_through,
        }
    }

    /// The day number `n >= 0` working days after `from`, and the non-working days stepped over.
    fn forward(&self, from: NaiveDate, n: i64) -> (i64, Range<usize>) {
        let a = day_number(from);
        if n == 0 {
            return (a, 0..0);
        }
        let first_weekday = weekdays_before(a + 1);
        let start = self.days.partition_point(|d| d.date <= from);
        // Day j is stepped over iff fewer than n working days lie between `from` and it.
        let target = n + first_weekday - start as i64;
        let skipped = self.keys[start..].partition_point(|&k| k < target);
        let day = nth_weekday(first_weekday + n - 1 + skipped as i64);
        (day, start..start + skipped)
    }

    /// The day number `n > 0` working days before `from`, and the non-working days stepped over.
    fn backward(&self, from: NaiveDate, n: i64) -> (i64, Range<usize>) {
        let weekdays = weekdays_before(day_number(from));
        let end = self.days.partition_point(|d| d.date < from);
        // Day j is stepped over iff fewer than n working days lie between it and `from`.
        let threshold = weekdays - end as i64 - n;
        let first = self.keys[..end].partition_point(|&k| k <= threshold);
        let day = nth_weekday(weekdays - n - (end - first) as i64);
        (day, first..end)
    }

    /// Provisional years touched by the dates `first..=last`.
    fn provisional_between(&self, first: NaiveDate, last: NaiveDate) -> &[i32] {
        let years = &self.provisional_years;
        let start = years.partition_point(|&y| y < first.year());
        let end = years.partition_point(|&y| y <= last.year());
        &years[start..end.max(start)]
    }
}

// Day numbers count from Monday 1 January 1 (proleptic Gregorian) = 0, so weeks align with 7.
fn day_number(date: NaiveDate) -> i64 {
    i64::from(date.num_days_from_ce()) - 1
}

fn date_of(day: i64) -> NaiveDate {
    i32::try_from(day + 1)
        .ok()
        .and_then(NaiveDate::from_num_days_from_ce_opt)
        .unwrap_or(if day < 0 {
            NaiveDate::MIN
        } else {
            NaiveDate::MAX
        })
}

/// Weekdays among day numbers `[0, day)`.
fn weekdays_before(day: i64) -> i64 {
    5 * day.div_euclid(7) + day.rem_euclid(7).min(5)
}

/// Day number of the weekday with index `m` (0 = the first Monday).
fn nth_weekday(m: i64) -> i64 {
    7 * m.div_euclid(5) + m.rem_euclid(5)
}

fn is_weekday(date: NaiveDate) -> bool {
    !matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}
