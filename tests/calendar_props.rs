//! Properties of working-day arithmetic, checked against a naive day-by-day oracle built from
//! the raw feed JSON (independent of the calendar's internals).

use std::collections::HashSet;

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use lcspr_tracker::domain::calendar::{Calendar, Division, SHIPPED_BANK_HOLIDAYS};
use proptest::prelude::*;

const DIVISIONS: [Division; 2] = [Division::EnglandAndWales, Division::Scotland];

fn first_trigger() -> NaiveDate {
    NaiveDate::from_ymd_opt(2018, 1, 1).unwrap()
}

fn last_trigger() -> NaiveDate {
    NaiveDate::from_ymd_opt(2027, 12, 31).unwrap()
}

/// Day-by-day reckoning over the dates listed in the feed; `None` once it leaves the years the
/// feed covers, where it knows nothing.
struct Oracle {
    holidays: HashSet<NaiveDate>,
    first: NaiveDate,
    last: NaiveDate,
}

impl Oracle {
    fn new(key: &str) -> Oracle {
        let json: serde_json::Value = serde_json::from_str(SHIPPED_BANK_HOLIDAYS).unwrap();
        let holidays: HashSet<NaiveDate> = json[key]["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| NaiveDate::parse_from_str(e["date"].as_str().unwrap(), "%Y-%m-%d").unwrap())
            .collect();
        let first_year = holidays.iter().map(|d| d.year()).min().unwrap();
        let last_year = holidays.iter().map(|d| d.year()).max().unwrap();
        Oracle {
            holidays,
            first: NaiveDate::from_ymd_opt(first_year, 1, 1).unwrap(),
            last: NaiveDate::from_ymd_opt(last_year, 12, 31).unwrap(),
        }
    }

    fn for_division(division: Division) -> &'static Oracle {
        static ORACLES: std::sync::OnceLock<[Oracle; 2]> = std::sync::OnceLock::new();
        let [ew, scot] =
            ORACLES.get_or_init(|| [Oracle::new("england-and-wales"), Oracle::new("scotland")]);
        match division {
            Division::EnglandAndWales => ew,
            Division::Scotland => scot,
            Division::NorthernIreland => unreachable!("not sampled"),
        }
    }

    fn is_working(&self, date: NaiveDate) -> Option<bool> {
        if date < self.first || date > self.last {
            return None;
        }
        let weekend = matches!(date.weekday(), Weekday::Sat | Weekday::Sun);
        Some(!weekend && !self.holidays.contains(&date))
    }

    fn add(&self, from: NaiveDate, n: i32) -> Option<NaiveDate> {
        let step = Duration::days(if n < 0 { -1 } else { 1 });
        let mut left = n.unsigned_abs();
        let mut date = from;
        while left > 0 {
            date += step;
            if self.is_working(date)? {
                left -= 1;
            }
        }
        Some(date)
    }

    fn count(&self, from: NaiveDate, to: NaiveDate) -> Option<i64> {
        let (low, high, sign) = if to >= from {
            (from + Duration::days(1), to, 1)
        } else {
            (to, from - Duration::days(1), -1)
        };
        let mut total = 0;
        let mut date = low;
        while date <= high {
            total += i64::from(self.is_working(date)?);
            date += Duration::days(1);
        }
        Some(sign * total)
    }
}

fn calendar() -> &'static Calendar {
    static CALENDAR: std::sync::OnceLock<Calendar> = std::sync::OnceLock::new();
    CALENDAR.get_or_init(Calendar::shipped)
}

fn trigger() -> impl Strategy<Value = NaiveDate> {
    let span = (last_trigger() - first_trigger()).num_days();
    (0..=span).prop_map(|offset| first_trigger() + Duration::days(offset))
}

fn division() -> impl Strategy<Value = Division> {
    prop::sample::select(DIVISIONS.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn forward_lands_on_a_working_day_n_working_days_on(
        from in trigger(), n in 1..=500i32, division in division()
    ) {
        let cal = calendar();
        let r = cal.add_working_days(division, from, n).unwrap();
        prop_assert!(r.date > from);
        prop_assert!(cal.is_working_day(division, r.date), "{} is not a working day", r.date);
        prop_assert_eq!(cal.count_working_days(division, from, r.date), i64::from(n));
        prop_assert!(r.skipped.iter().all(|s| s.date > from && s.date < r.date));
        let span = (r.date - from).num_days();
        prop_assert_eq!(span, i64::from(n) + r.skipped.len() as i64 + r.weekend_days_skipped);
    }

    #[test]
    fn adding_is_strictly_monotone(from in trigger(), n in 1..=500i32, division in division()) {
        let cal = calendar();
        let at = |k: i32| cal.add_working_days(division, from, k).unwrap().date;
        prop_assert!(at(n) < at(n + 1));
        prop_assert!(at(-n - 1) < at(-n));
        prop_assert!(at(-1) < from && from < at(1));
    }

    #[test]
    fn backward_mirrors_forward(from in trigger(), n in 1..=500i32, division in division()) {
        let cal = calendar();
        let forward = cal.add_working_days(division, from, n).unwrap().date;
        let back = cal.add_working_days(division, forward, -n).unwrap().date;
        prop_assert!(back <= from);
        if cal.is_working_day(division, from) {
            prop_assert_eq!(back, from);
        }
        let before = cal.add_working_days(division, from, -n).unwrap().date;
        prop_assert!(cal.is_working_day(division, before));
        prop_assert_eq!(cal.count_working_days(division, from, before), -i64::from(n));
    }

    #[test]
    fn agrees_with_the_day_by_day_oracle(
        from in trigger(), n in 1..=500i32, division in division()
    ) {
        let cal = calendar();
        let oracle = Oracle::for_division(division);
        for k in [n, -n] {
            let r = cal.add_working_days(division, from, k).unwrap();
            match oracle.add(from, k) {
                Some(expected) => {
                    prop_assert_eq!(r.date, expected, "{} {:+} working days", from, k);
                    prop_assert!(!r.provisional);
                }
                None => prop_assert!(r.provisional, "{} {:+} leaves the data", from, k),
            }
        }
    }

    #[test]
    fn counting_agrees_with_the_oracle(a in trigger(), b in trigger(), division in division()) {
        let expected = Oracle::for_division(division).count(a, b).unwrap();
        prop_assert_eq!(calendar().count_working_days(division, a, b), expected);
    }
}

#[test]
fn every_trigger_2018_to_2027_agrees_with_the_oracle() {
    let cal = calendar();
    let mut compared = 0;
    let mut provisional = 0;
    for division in DIVISIONS {
        let oracle = Oracle::for_division(division);
        let mut from = first_trigger();
        while from <= last_trigger() {
            for n in [1, 5, 7, 15, -7, -5] {
                let r = cal.add_working_days(division, from, n).unwrap();
                match oracle.add(from, n) {
                    Some(expected) => {
                        assert_eq!(r.date, expected, "{division} {from} {n:+}");
                        assert!(!r.provisional, "{division} {from} {n:+}");
                        compared += 1;
                    }
                    None => {
                        // Only going back from early January 2018 leaves the data.
                        assert!(n < 0 && from.year() == 2018 && from.month() == 1);
                        assert!(r.provisional && r.provisional_years == [2017]);
                        provisional += 1;
                    }
                }
            }
            from += Duration::days(1);
        }
    }
    assert!(compared > 43_000, "{compared} comparisons");
    assert!(provisional > 0);
}

#[test]
fn working_days_agree_with_the_oracle_every_day() {
    let cal = calendar();
    for division in DIVISIONS {
        let oracle = Oracle::for_division(division);
        let mut date = oracle.first;
        while date <= oracle.last {
            assert_eq!(
                Some(cal.is_working_day(division, date)),
                oracle.is_working(date),
                "{division} {date}"
            );
            date += Duration::days(1);
        }
    }
}

#[test]
fn the_one_off_years_are_counted_exactly() {
    let cal = calendar();
    let oracle = Oracle::for_division(Division::EnglandAndWales);
    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
    // VE day 2020, the jubilee and the funeral 2022, the coronation 2023, Easter, substitutes.
    for from in [
        d(2020, 5, 1),
        d(2022, 5, 27),
        d(2022, 9, 14),
        d(2023, 5, 3),
        d(2021, 12, 23),
    ] {
        for n in [-10, -3, 1, 3, 10] {
            let r = cal
                .add_working_days(Division::EnglandAndWales, from, n)
                .unwrap();
            assert_eq!(Some(r.date), oracle.add(from, n), "{from} {n:+}");
        }
    }
    let ve_day = cal
        .add_working_days(Division::EnglandAndWales, d(2020, 5, 1), 5)
        .unwrap();
    assert_eq!(ve_day.date, d(2020, 5, 11));
    assert_eq!(&*ve_day.skipped[0].title, "Early May bank holiday (VE day)");
}
