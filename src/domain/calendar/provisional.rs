//! Bank holidays computed from the standing rules, for years no published data covers.
//!
//! The rules reproduce every regular holiday of the gov.uk data 2018–2028 (titles, notes and
//! bunting included); only one-off proclamations (VE day 2020, the 2022 jubilee and funeral,
//! the 2023 coronation, Scotland's 2026 World Cup day) differ, and the tests list them.

use chrono::{Datelike, Duration, NaiveDate, Weekday};

use super::{Division, Holiday};

const NEW_YEAR: &str = "New Year’s Day";
const SECOND_JANUARY: &str = "2nd January";
const ST_PATRICK: &str = "St Patrick’s Day";
const GOOD_FRIDAY: &str = "Good Friday";
const EASTER_MONDAY: &str = "Easter Monday";
const EARLY_MAY: &str = "Early May bank holiday";
const SPRING: &str = "Spring bank holiday";
const BOYNE: &str = "Battle of the Boyne (Orangemen’s Day)";
const SUMMER: &str = "Summer bank holiday";
const ST_ANDREW: &str = "St Andrew’s Day";
const CHRISTMAS: &str = "Christmas Day";
const BOXING: &str = "Boxing Day";
const SUBSTITUTE: &str = "Substitute day";

/// Easter Sunday of a Gregorian year (the anonymous Gregorian computus).
pub fn easter_sunday(year: i32) -> NaiveDate {
    let a = year.rem_euclid(19);
    let b = year.div_euclid(100);
    let c = year.rem_euclid(100);
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    ymd(year, month as u32, day as u32)
}

/// The holidays the standing rules give a division in a year, observed dates only, sorted.
///
/// A holiday falling on a weekend (or on a day another holiday already occupies) is observed on
/// the next weekday not already a holiday, in date order, and noted "Substitute day".
pub fn provisional_holidays(division: Division, year: i32) -> Vec<Holiday> {
    let easter = easter_sunday(year);
    let good_friday = easter - Duration::days(2);
    let easter_monday = easter + Duration::days(1);
    let new_year = ymd(year, 1, 1);
    let mut nominal: Vec<Nominal> = Vec::with_capacity(10);
    let mut push = |title: &'static str, date: NaiveDate| {
        nominal.push(Nominal {
            title,
            date,
            waits: false,
        })
    };
    push(NEW_YEAR, new_year);
    match division {
        Division::EnglandAndWales => {
            push(GOOD_FRIDAY, good_friday);
            push(EASTER_MONDAY, easter_monday);
        }
        Division::Scotland => {
            push(SECOND_JANUARY, ymd(year, 1, 2));
            push(GOOD_FRIDAY, good_friday);
            push(ST_ANDREW, ymd(year, 11, 30));
        }
        Division::NorthernIreland => {
            push(ST_PATRICK, ymd(year, 3, 17));
            push(GOOD_FRIDAY, good_friday);
            push(EASTER_MONDAY, easter_monday);
            push(BOYNE, ymd(year, 7, 12));
        }
    }
    push(EARLY_MAY, first_monday(year, 5));
    push(SPRING, last_monday(year, 5));
    let summer = match division {
        Division::Scotland => first_monday(year, 8),
        _ => last_monday(year, 8),
    };
    push(SUMMER, summer);
    push(CHRISTMAS, ymd(year, 12, 25));
    push(BOXING, ymd(year, 12, 26));
    nominal.sort_by_key(|n| n.date);

    // Scots law moves New Year's Day off a Sunday onto 2 January and 2nd January onto the 3rd,
    // so there the titles follow the chronological chain rather than the general rule.
    if division == Division::Scotland && new_year.weekday() == Weekday::Sun {
        if let Some(second) = nominal.iter_mut().find(|n| n.title == SECOND_JANUARY) {
            second.waits = true;
        }
    }
    observe(&nominal)
}

struct Nominal {
    title: &'static str,
    date: NaiveDate,
    /// Give up its own date to an earlier holiday that needs a substitute.
    waits: bool,
}

fn observe(nominal: &[Nominal]) -> Vec<Holiday> {
    let mut out: Vec<Holiday> = Vec::with_capacity(nominal.len());
    let mut moving = Vec::new();
    for n in nominal {
        let taken = out.iter().any(|h| h.date == n.date);
        if is_weekend(n.date) || n.waits || taken {
            moving.push(n);
        } else {
            out.push(holiday(n.title, n.date, ""));
        }
    }
    for n in moving {
        let mut date = n.date + Duration::days(1);
        while is_weekend(date) || out.iter().any(|h| h.date == date) {
            date += Duration::days(1);
        }
        out.push(holiday(n.title, date, SUBSTITUTE));
    }
    out.sort_by_key(|h| h.date);
    out
}

fn holiday(title: &str, date: NaiveDate, notes: &str) -> Holiday {
    Holiday {
        title: title.to_owned(),
        date,
        notes: notes.to_owned(),
        bunting: !matches!(title, GOOD_FRIDAY | BOYNE),
    }
}

fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("rule dates exist in every year")
}

fn first_monday(year: i32, month: u32) -> NaiveDate {
    NaiveDate::from_weekday_of_month_opt(year, month, Weekday::Mon, 1).expect("a first Monday")
}

fn last_monday(year: i32, month: u32) -> NaiveDate {
    NaiveDate::from_weekday_of_month_opt(year, month, Weekday::Mon, 5)
        .or_else(|| NaiveDate::from_weekday_of_month_opt(year, month, Weekday::Mon, 4))
        .expect("a fourth Monday")
}
