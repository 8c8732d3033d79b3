//! Worked examples and reference tables for the working-day calendar (DESIGN.md §2).

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate, Weekday};
use lcspr_tracker::domain::calendar::{
    add_calendar_months, easter_sunday, provisional_holidays, BankHolidayFeed, Calendar,
    CalendarError, DayKind, Direction, Division, ExtraDay, Reckoning, Unit, SHIPPED_BANK_HOLIDAYS,
};

const EW: Division = Division::EnglandAndWales;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn iso(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn shipped_feed() -> BankHolidayFeed {
    BankHolidayFeed::parse(SHIPPED_BANK_HOLIDAYS).unwrap()
}

// ---- DESIGN.md §2 worked examples ---------------------------------------------------------

#[test]
fn sin_due_five_working_days_after_awareness_over_christmas() {
    let r = Calendar::shipped()
        .add_working_days(EW, d(2025, 12, 18), 5)
        .unwrap();
    assert_eq!(r.date, d(2025, 12, 29));
    assert_eq!(
        r.describe(),
        "5 working days from Thu 18 Dec 2025, skipping Thu 25 Dec 2025 (Christmas Day), \
         Fri 26 Dec 2025 (Boxing Day) → Mon 29 Dec 2025"
    );
}

#[test]
fn rapid_review_fifteen_working_days_after_sin() {
    let r = Calendar::shipped()
        .add_working_days(EW, d(2025, 12, 29), 15)
        .unwrap();
    assert_eq!(r.date, d(2026, 1, 20));
    assert_eq!(
        r.describe(),
        "15 working days from Mon 29 Dec 2025, skipping Thu 1 Jan 2026 (New Year’s Day) → Tue 20 Jan 2026"
    );
    assert_eq!(r.count, 15);
    assert_eq!(r.unit, Unit::WorkingDays);
    assert_eq!(r.direction, Direction::Forward);
    assert_eq!(r.division, Some(EW));
    assert_eq!(r.skipped.len(), 1);
    assert_eq!(r.skipped[0].kind, DayKind::BankHoliday);
    assert!(!r.skipped[0].provisional);
    // 22 calendar days = 15 working + 1 holiday + 6 weekend days.
    assert_eq!(r.weekend_days_skipped, 6);
    assert!(!r.provisional);
}

#[test]
fn prepublication_copies_seven_working_days_before_publication() {
    let r = Calendar::shipped()
        .add_working_days(EW, d(2026, 1, 6), -7)
        .unwrap();
    assert_eq!(r.date, d(2025, 12, 23));
    assert_eq!(r.direction, Direction::Backward);
    assert_eq!(r.count, 7);
    assert_eq!(
        r.describe(),
        "7 working days before Tue 6 Jan 2026, skipping Thu 25 Dec 2025 (Christmas Day), \
         Fri 26 Dec 2025 (Boxing Day), Thu 1 Jan 2026 (New Year’s Day) → Tue 23 Dec 2025"
    );
    assert_eq!(r.weekend_days_skipped, 4);
}

#[test]
fn sin_due_over_easter() {
    let r = Calendar::shipped()
        .add_working_days(EW, d(2026, 4, 2), 5)
        .unwrap();
    assert_eq!(r.date, d(2026, 4, 13));
    let names: Vec<&str> = r.skipped.iter().map(|s| &*s.title).collect();
    assert_eq!(names, ["Good Friday", "Easter Monday"]);
}

#[test]
fn describe_without_skipped_days() {
    let r = Calendar::shipped()
        .add_working_days(EW, d(2026, 7, 6), 5)
        .unwrap();
    assert_eq!(
        r.describe(),
        "5 working days from Mon 6 Jul 2026, no bank holidays skipped → Mon 13 Jul 2026"
    );
    let one = Calendar::shipped()
        .add_working_days(EW, d(2026, 7, 6), 1)
        .unwrap();
    assert_eq!(
        one.describe(),
        "1 working day from Mon 6 Jul 2026, no bank holidays skipped → Tue 7 Jul 2026"
    );
}

#[test]
fn substitute_days_are_named_as_such() {
    let r = Calendar::shipped()
        .add_working_days(EW, d(2026, 12, 24), 1)
        .unwrap();
    assert_eq!(r.date, d(2026, 12, 29));
    assert!(r.describe().contains(
        "skipping Fri 25 Dec 2026 (Christmas Day), Mon 28 Dec 2026 (Boxing Day, substitute day)"
    ));
}

#[test]
fn trigger_is_day_zero_whatever_day_it_is() {
    let cal = Calendar::shipped();
    // Saturday trigger: the first working day after it is Monday.
    assert_eq!(
        cal.add_working_days(EW, d(2026, 1, 3), 1).unwrap().date,
        d(2026, 1, 5)
    );
    // A trigger on a bank holiday counts from the holiday.
    assert_eq!(
        cal.add_working_days(EW, d(2025, 12, 25), 1).unwrap().date,
        d(2025, 12, 29)
    );
    // Zero leaves even a non-working day unchanged.
    let zero = cal.add_working_days(EW, d(2025, 12, 25), 0).unwrap();
    assert_eq!(zero.date, d(2025, 12, 25));
    assert!(zero.skipped.is_empty());
    assert!(!zero.provisional);
    // Backward from a Monday skips the weekend.
    assert_eq!(
        cal.add_working_days(EW, d(2026, 7, 13), -1).unwrap().date,
        d(2026, 7, 10)
    );
}

#[test]
fn counting_mirrors_adding() {
    let cal = Calendar::shipped();
    assert_eq!(
        cal.count_working_days(EW, d(2025, 12, 18), d(2025, 12, 29)),
        5
    );
    assert_eq!(
        cal.count_working_days(EW, d(2025, 12, 29), d(2026, 1, 20)),
        15
    );
    assert_eq!(
        cal.count_working_days(EW, d(2026, 1, 6), d(2025, 12, 23)),
        -7
    );
    assert_eq!(cal.count_working_days(EW, d(2026, 4, 2), d(2026, 4, 2)), 0);
    // (Fri, Mon]: the weekend does not count, Monday does.
    assert_eq!(
        cal.count_working_days(EW, d(2026, 7, 10), d(2026, 7, 13)),
        1
    );
}

// ---- England and Wales 2018–2028, as listed in DESIGN.md ---------------------------------

/// Copied from DESIGN.md §2, the independent reference.
const EW_REFERENCE: &str = "\
    2018: 01-01 03-30 04-02 05-07 05-28 08-27 12-25 12-26 · \
    2019: 01-01 04-19 04-22 05-06 05-27 08-26 12-25 12-26 · \
    2020: 01-01 04-10 04-13 05-08 05-25 08-31 12-25 12-28 · \
    2021: 01-01 04-02 04-05 05-03 05-31 08-30 12-27 12-28 · \
    2022: 01-03 04-15 04-18 05-02 06-02 06-03 08-29 09-19 12-26 12-27 · \
    2023: 01-02 04-07 04-10 05-01 05-08 05-29 08-28 12-25 12-26 · \
    2024: 01-01 03-29 04-01 05-06 05-27 08-26 12-25 12-26 · \
    2025: 01-01 04-18 04-21 05-05 05-26 08-25 12-25 12-26 · \
    2026: 01-01 04-03 04-06 05-04 05-25 08-31 12-25 12-28 · \
    2027: 01-01 03-26 03-29 05-03 05-31 08-30 12-27 12-28 · \
    2028: 01-03 04-14 04-17 05-01 05-29 08-28 12-25 12-26";

fn ew_reference() -> Vec<(i32, BTreeSet<NaiveDate>)> {
    EW_REFERENCE
        .split('·')
        .map(|year| {
            let (year, days) = year.split_once(':').unwrap();
            let year: i32 = year.trim().parse().unwrap();
            let days = days
                .split_whitespace()
                .map(|md| iso(&format!("{year}-{md}")));
            (year, days.collect())
        })
        .collect()
}

#[test]
fn england_and_wales_bank_holidays_2018_to_2028_are_exact() {
    let cal = Calendar::shipped();
    let reference = ew_reference();
    assert_eq!(reference.len(), 11);
    assert_eq!(
        reference.iter().map(|(_, days)| days.len()).sum::<usize>(),
        91
    );
    for (year, expected) in reference {
        for &date in &expected {
            assert!(
                !cal.is_working_day(EW, date),
                "{date} should be a bank holiday"
            );
            assert!(
                cal.non_working_day(EW, date).is_some(),
                "{date} should be named"
            );
        }
        let actual: BTreeSet<NaiveDate> = cal
            .non_working_days(EW, d(year, 1, 1)..=d(year, 12, 31))
            .iter()
            .map(|h| h.date)
            .collect();
        assert_eq!(actual, expected, "non-working weekdays of {year}");
        assert!(!cal.is_provisional_year(EW, year));

        let weekdays = (1..=d(year, 12, 31).ordinal())
            .map(|o| NaiveDate::from_yo_opt(year, o).unwrap())
            .filter(|x| !matches!(x.weekday(), Weekday::Sat | Weekday::Sun))
            .count() as i64;
        let worked = cal.count_working_days(EW, d(year - 1, 12, 31), d(year, 12, 31));
        assert_eq!(
            worked,
            weekdays - expected.len() as i64,
            "working days in {year}"
        );
    }
}

#[test]
fn weekends_are_never_working_days() {
    let cal = Calendar::shipped();
    assert!(!cal.is_working_day(EW, d(2026, 7, 11)));
    assert!(!cal.is_working_day(EW, d(2026, 7, 12)));
    assert!(cal.is_working_day(EW, d(2026, 7, 13)));
    // Christmas Day 2021 fell on a Saturday: only its substitute is listed.
    assert!(cal.non_working_day(EW, d(2021, 12, 25)).is_none());
    assert!(cal.non_working_day(EW, d(2021, 12, 27)).unwrap().substitute);
}

#[test]
fn divisions_differ() {
    let cal = Calendar::shipped();
    let easter_monday = d(2026, 4, 6);
    assert!(!cal.is_working_day(EW, easter_monday));
    assert!(cal.is_working_day(Division::Scotland, easter_monday));
    assert!(!cal.is_working_day(Division::Scotland, d(2026, 1, 2)));
    assert!(!cal.is_working_day(Division::NorthernIreland, d(2026, 3, 17)));
    assert!(cal.is_working_day(EW, d(2026, 3, 17)));
    let scot = cal
        .add_working_days(Division::Scotland, d(2025, 12, 29), 15)
        .unwrap();
    assert_eq!(scot.date, d(2026, 1, 21));
}

// ---- calendar months ---------------------------------------------------------------------

#[test]
fn calendar_months_clamp_to_month_end() {
    assert_eq!(add_calendar_months(d(2025, 8, 31), 6), d(2026, 2, 28));
    assert_eq!(add_calendar_months(d(2027, 8, 31), 6), d(2028, 2, 29));
    assert_eq!(add_calendar_months(d(2026, 1, 31), 1), d(2026, 2, 28));
    assert_eq!(add_calendar_months(d(2026, 3, 31), -1), d(2026, 2, 28));
    assert_eq!(add_calendar_months(d(2025, 8, 15), 6), d(2026, 2, 15));
    assert_eq!(add_calendar_months(d(2024, 2, 29), 12), d(2025, 2, 28));
    assert_eq!(add_calendar_months(d(2026, 5, 10), 3 * 12), d(2029, 5, 10));
    assert_eq!(add_calendar_months(d(2026, 5, 10), 0), d(2026, 5, 10));
    assert_eq!(
        Calendar::shipped().add_calendar_months(d(2025, 8, 31), 6),
        d(2026, 2, 28)
    );
}

#[test]
fn calendar_months_explained() {
    let r = Reckoning::calendar_months(d(2025, 8, 31), 6).unwrap();
    assert_eq!(r.unit, Unit::CalendarMonths);
    assert!(r.clamped);
    assert_eq!(
        r.describe(),
        "6 calendar months from Sun 31 Aug 2025 → Sat 28 Feb 2026 (clamped to the last day of the month)"
    );
    let plain = Reckoning::calendar_months(d(2025, 8, 15), 6).unwrap();
    assert!(!plain.clamped);
    assert_eq!(
        plain.describe(),
        "6 calendar months from Fri 15 Aug 2025 → Sun 15 Feb 2026"
    );
    let back = Reckoning::calendar_months(d(2026, 3, 31), -1).unwrap();
    assert_eq!(
        back.describe(),
        "1 calendar month before Tue 31 Mar 2026 → Sat 28 Feb 2026 (clamped to the last day of the month)"
    );
}

// ---- provisional years -------------------------------------------------------------------

#[test]
fn years_after_the_data_are_provisional_and_say_so() {
    let cal = Calendar::shipped();
    let r = cal.add_working_days(EW, d(2031, 6, 2), 5).unwrap();
    assert!(r.provisional);
    assert_eq!(r.provisional_years, [2031]);
    assert_eq!(
        r.describe(),
        "5 working days from Mon 2 Jun 2031, no bank holidays skipped → Mon 9 Jun 2031 \
         (provisional: bank holidays for 2031 are computed from the standing rules, not yet published)"
    );
    // Easter 2031 is 13 April: Good Friday and Easter Monday are computed and flagged.
    let easter = cal.add_working_days(EW, d(2031, 4, 10), 1).unwrap();
    assert_eq!(easter.date, d(2031, 4, 15));
    assert!(easter.skipped.iter().all(|s| s.provisional));
    assert!(easter
        .describe()
        .contains("Fri 11 Apr 2031 (Good Friday), Mon 14 Apr 2031 (Easter Monday)"));

    let across = cal.add_working_days(EW, d(2030, 12, 31), 300).unwrap();
    assert_eq!(across.provisional_years, [2031, 2032]);
    assert!(across
        .describe()
        .contains("(provisional: bank holidays for 2031 and 2032 are"));
}

#[test]
fn provisional_only_when_the_span_reaches_an_uncovered_year() {
    let cal = Calendar::shipped();
    assert!(
        !cal.add_working_days(EW, d(2028, 12, 1), 5)
            .unwrap()
            .provisional
    );
    let into_2029 = cal.add_working_days(EW, d(2028, 12, 20), 15).unwrap();
    assert!(into_2029.provisional);
    assert_eq!(into_2029.provisional_years, [2029]);
    // Counting back from 1 Jan 2029 stays in 2028.
    assert!(
        !cal.add_working_days(EW, d(2029, 1, 1), -3)
            .unwrap()
            .provisional
    );
    assert!(cal.is_provisional_year(EW, 2029));
    // Before the data: computed too, but not "not yet published".
    let early = cal.add_working_days(EW, d(2017, 12, 20), 5).unwrap();
    assert_eq!(early.provisional_years, [2017]);
    assert!(early.describe().ends_with(
        "(provisional: bank holidays for 2017 are computed from the standing rules, not in the published data)"
    ));
}

#[test]
fn dates_outside_the_supported_range_are_refused() {
    let cal = Calendar::shipped();
    let err = cal.add_working_days(EW, d(1999, 12, 31), 1).unwrap_err();
    assert!(matches!(err, CalendarError::OutOfRange { .. }));
    assert!(
        err.to_string().contains("2000-01-01 to 2199-12-31"),
        "{err}"
    );
    assert!(cal.add_working_days(EW, d(2199, 12, 20), 30).is_err());
    assert!(cal.add_working_days(EW, d(2000, 1, 10), -30).is_err());
    assert!(cal.add_working_days(EW, d(2026, 1, 1), i32::MAX).is_err());
    assert!(cal.add_working_days(EW, d(2026, 1, 1), i32::MIN).is_err());
    assert!(Reckoning::calendar_months(d(2199, 12, 1), 1).is_err());
    let extra = ExtraDay {
        division: None,
        date: d(2250, 1, 5),
        title: "Far future".into(),
        kind: DayKind::Closure,
    };
    assert!(Calendar::new(&shipped_feed(), None, &[extra]).is_err());
}

// ---- extra days --------------------------------------------------------------------------

#[test]
fn closure_and_proclaimed_days_are_skipped_and_named() {
    let extra = [
        ExtraDay {
            division: None,
            date: d(2026, 7, 8),
            title: "Council staff training day".into(),
            kind: DayKind::Closure,
        },
        ExtraDay {
            division: Some(EW),
            date: d(2026, 7, 10),
            title: "Bank holiday for the national celebration".into(),
            kind: DayKind::Proclaimed,
        },
        ExtraDay {
            division: Some(EW),
            date: d(2026, 7, 11),
            title: "A Saturday changes nothing".into(),
            kind: DayKind::Proclaimed,
        },
    ];
    let cal = Calendar::new(&shipped_feed(), None, &extra).unwrap();
    let r = cal.add_working_days(EW, d(2026, 7, 6), 5).unwrap();
    assert_eq!(r.date, d(2026, 7, 15));
    assert_eq!(
        r.describe(),
        "5 working days from Mon 6 Jul 2026, skipping Wed 8 Jul 2026 (local closure: Council staff \
         training day), Fri 10 Jul 2026 (proclaimed: Bank holiday for the national celebration) \
         → Wed 15 Jul 2026"
    );
    assert_eq!(cal.count_working_days(EW, d(2026, 7, 6), d(2026, 7, 15)), 5);
    // The closure applies to every division, the proclamation only to England and Wales.
    let scot = cal
        .add_working_days(Division::Scotland, d(2026, 7, 6), 5)
        .unwrap();
    assert_eq!(scot.date, d(2026, 7, 14));
    assert_eq!(scot.skipped.len(), 1);
    assert_eq!(scot.skipped[0].kind, DayKind::Closure);
    assert!(cal
        .non_working_days(EW, d(2026, 7, 11)..=d(2026, 7, 12))
        .is_empty());
    // The shipped calendar is untouched.
    assert_eq!(
        Calendar::shipped()
            .add_working_days(EW, d(2026, 7, 6), 5)
            .unwrap()
            .date,
        d(2026, 7, 13)
    );
}

#[test]
fn an_extra_day_on_a_bank_holiday_does_not_count_twice() {
    let extra = [ExtraDay {
        division: Some(EW),
        date: d(2026, 12, 25),
        title: "Office closed".into(),
        kind: DayKind::Closure,
    }];
    let cal = Calendar::new(&shipped_feed(), None, &extra).unwrap();
    let days = cal.non_working_days(EW, d(2026, 12, 25)..=d(2026, 12, 25));
    assert_eq!(days.len(), 1);
    assert_eq!(&*days[0].title, "Christmas Day");
    assert_eq!(
        cal.add_working_days(EW, d(2026, 12, 24), 1).unwrap().date,
        d(2026, 12, 29)
    );
}

// ---- imported feed -----------------------------------------------------------------------

#[test]
fn an_imported_feed_replaces_shipped_years_it_covers() {
    let import = r#"{
      "england-and-wales": {"division": "england-and-wales", "events": [
        {"title": "New Year’s Day", "date": "2028-01-03", "notes": "Substitute day", "bunting": true},
        {"title": "Bank holiday for a test", "date": "2028-06-06", "notes": "", "bunting": true},
        {"title": "New Year’s Day", "date": "2029-01-01", "notes": "", "bunting": true},
        {"title": "Good Friday", "date": "2029-03-30", "notes": "", "bunting": false}
      ]},
      "wales-only": {"division": "wales-only", "events": []}
    }"#;
    let import = BankHolidayFeed::parse(import).unwrap();
    assert_eq!(import.covered_years(EW), Some(2028..=2029));
    assert_eq!(import.covered_years(Division::Scotland), None);
    let cal = Calendar::new(&shipped_feed(), Some(&import), &[]).unwrap();

    let in_2028: Vec<NaiveDate> = cal
        .non_working_days(EW, d(2028, 1, 1)..=d(2028, 12, 31))
        .iter()
        .map(|h| h.date)
        .collect();
    assert_eq!(in_2028, [d(2028, 1, 3), d(2028, 6, 6)]);
    assert!(
        cal.is_working_day(EW, d(2028, 4, 14)),
        "shipped Good Friday 2028 replaced"
    );
    let in_2029: Vec<NaiveDate> = cal
        .non_working_days(EW, d(2029, 1, 1)..=d(2029, 12, 31))
        .iter()
        .map(|h| h.date)
        .collect();
    assert_eq!(in_2029, [d(2029, 1, 1), d(2029, 3, 30)]);
    assert!(!cal.is_provisional_year(EW, 2029));
    assert!(cal.is_provisional_year(EW, 2030));
    // Years the import does not cover still come from the shipped data.
    assert!(!cal.is_working_day(EW, d(2027, 3, 26)));
    // Divisions absent from the import are unchanged.
    assert!(!cal.is_working_day(Division::Scotland, d(2028, 4, 14)));
    let r = cal.add_working_days(EW, d(2028, 12, 20), 15).unwrap();
    assert!(!r.provisional);
}

// ---- feed parsing ------------------------------------------------------------------------

#[test]
fn shipped_feed_parses() {
    let feed = shipped_feed();
    assert_eq!(feed.divisions().collect::<Vec<_>>(), Division::ALL);
    for division in Division::ALL {
        assert_eq!(feed.covered_years(division), Some(2018..=2028));
    }
    let ew = feed.events(EW).unwrap();
    assert_eq!(ew.len(), 91);
    assert_eq!(ew[0].title, "New Year’s Day");
    assert_eq!(ew[0].date, d(2018, 1, 1));
    assert!(ew[0].bunting);
    let boxing_2020 = ew.iter().find(|h| h.date == d(2020, 12, 28)).unwrap();
    assert_eq!(boxing_2020.notes, "Substitute day");
    assert!(boxing_2020.is_substitute());
    assert_eq!(feed.events_in_year(Division::Scotland, 2026).len(), 10);
}

fn feed_error(json: &str) -> String {
    match BankHolidayFeed::parse(json) {
        Err(CalendarError::BadFeed(message)) => message,
        other => panic!("expected BadFeed, got {other:?}"),
    }
}

#[test]
fn feed_errors_say_what_to_fix() {
    assert!(feed_error("{\"england-and-wales\": ").contains("not valid JSON"));
    assert!(feed_error("[1, 2]").contains("object keyed by division"));
    let none = feed_error(r#"{"wales": {"division": "wales", "events": []}}"#);
    assert!(
        none.contains("no known division") && none.contains("\"wales\""),
        "{none}"
    );
    assert!(
        none.contains("england-and-wales, scotland, northern-ireland"),
        "{none}"
    );

    let bad_date = feed_error(
        r#"{"scotland": {"division": "scotland", "events": [
            {"title": "New Year’s Day", "date": "2018-01-01", "notes": "", "bunting": true},
            {"title": "Leap day", "date": "2018-02-29", "notes": "", "bunting": true}]}}"#,
    );
    assert!(bad_date.contains("\"scotland\" events[1]"), "{bad_date}");
    assert!(bad_date.contains("\"Leap day\""), "{bad_date}");
    assert!(
        bad_date.contains("field \"date\" is \"2018-02-29\""),
        "{bad_date}"
    );
    assert!(bad_date.contains("YYYY-MM-DD"), "{bad_date}");

    let unpadded = feed_error(r#"{"scotland": {"events": [{"title": "X", "date": "2018-1-1"}]}}"#);
    assert!(unpadded.contains("\"2018-1-1\""), "{unpadded}");
    let no_title = feed_error(r#"{"scotland": {"events": [{"date": "2018-01-01"}]}}"#);
    assert!(
        no_title.contains("events[0]: field \"title\" is missing"),
        "{no_title}"
    );
    let no_date = feed_error(r#"{"scotland": {"events": [{"title": "X"}]}}"#);
    assert!(no_date.contains("field \"date\" is missing"), "{no_date}");
    let numeric = feed_error(r#"{"scotland": {"events": [{"title": "X", "date": 20180101}]}}"#);
    assert!(numeric.contains("must be text"), "{numeric}");
    let bunting = feed_error(
        r#"{"scotland": {"events": [{"title": "X", "date": "2018-01-01", "bunting": "yes"}]}}"#,
    );
    assert!(
        bunting.contains("field \"bunting\" must be true or false"),
        "{bunting}"
    );
    let mismatch = feed_error(r#"{"scotland": {"division": "england-and-wales", "events": []}}"#);
    assert!(mismatch.contains("\"division\" field"), "{mismatch}");
    let events = feed_error(r#"{"scotland": {"division": "scotland"}}"#);
    assert!(events.contains("\"events\" must be a list"), "{events}");
    let message = BankHolidayFeed::parse("[]").unwrap_err().to_string();
    assert!(
        message.starts_with("bank holiday file rejected: "),
        "{message}"
    );

    // Notes and bunting may be left out.
    let minimal = BankHolidayFeed::parse(
        r#"{"scotland": {"events": [{"title": "X", "date": "2030-01-06"}]}}"#,
    )
    .unwrap();
    assert_eq!(minimal.events(Division::Scotland).unwrap()[0].notes, "");
    assert_eq!(minimal.events(EW), None);
}

// ---- divisions ---------------------------------------------------------------------------

#[test]
fn division_names() {
    for (division, name) in
        Division::ALL
            .iter()
            .zip(["england-and-wales", "scotland", "northern-ireland"])
    {
        assert_eq!(division.as_str(), name);
        assert_eq!(division.to_string(), name);
        assert_eq!(name.parse::<Division>().unwrap(), *division);
        assert_eq!(
            serde_json::to_string(division).unwrap(),
            format!("\"{name}\"")
        );
        assert_eq!(
            serde_json::from_str::<Division>(&format!("\"{name}\"")).unwrap(),
            *division
        );
    }
    assert_eq!(Division::default(), EW);
    let err = "wales".parse::<Division>().unwrap_err();
    assert_eq!(err, CalendarError::UnknownDivision("wales".into()));
    assert_eq!(
        err.to_string(),
        "unknown division \"wales\": expected one of england-and-wales, scotland, northern-ireland"
    );
}

#[test]
fn reckoning_serialises_for_the_api() {
    let r = Calendar::shipped()
        .add_working_days(EW, d(2025, 12, 29), 15)
        .unwrap();
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["date"], "2026-01-20");
    assert_eq!(json["unit"], "working_days");
    assert_eq!(json["direction"], "forward");
    assert_eq!(json["division"], "england-and-wales");
    assert_eq!(json["skipped"][0]["title"], "New Year’s Day");
    assert_eq!(json["skipped"][0]["kind"], "bank_holiday");
    assert_eq!(json["provisional"], false);
    let back: Reckoning = serde_json::from_value(json).unwrap();
    assert_eq!(back, r);
}

#[test]
fn calendar_is_shareable() {
    fn shareable<T: Clone + Send + Sync + 'static>() {}
    shareable::<Calendar>();
}

// ---- the standing rules against the published data ---------------------------------------

type Entry = (Division, NaiveDate, String, String, bool);

/// Published days the rules cannot know (one-off proclamations and moves), and rule days those
/// moves displaced: `(division, date, title, notes, bunting)`.
fn one_offs() -> (BTreeSet<Entry>, BTreeSet<Entry>) {
    let all = Division::ALL;
    let mut only_in_data = BTreeSet::new();
    let mut only_in_rules = BTreeSet::new();
    let add = |set: &mut BTreeSet<Entry>,
               divisions: &[Division],
               date: &str,
               title: &str,
               bunting: bool| {
        for &division in divisions {
            set.insert((
                division,
                iso(date),
                title.to_owned(),
                String::new(),
                bunting,
            ));
        }
    };
    // 2020: Early May bank holiday moved to Friday 8 May for the 75th anniversary of VE day.
    add(
        &mut only_in_data,
        &all,
        "2020-05-08",
        "Early May bank holiday (VE day)",
        true,
    );
    add(
        &mut only_in_rules,
        &all,
        "2020-05-04",
        "Early May bank holiday",
        true,
    );
    // 2020: no bunting for Easter Monday during the first lockdown.
    let easter_monday = [Division::EnglandAndWales, Division::NorthernIreland];
    add(
        &mut only_in_data,
        &easter_monday,
        "2020-04-13",
        "Easter Monday",
        false,
    );
    add(
        &mut only_in_rules,
        &easter_monday,
        "2020-04-13",
        "Easter Monday",
        true,
    );
    // 2022: Spring bank holiday moved to 2 June, Platinum Jubilee 3 June, the Queen's funeral.
    add(
        &mut only_in_rules,
        &all,
        "2022-05-30",
        "Spring bank holiday",
        true,
    );
    add(
        &mut only_in_data,
        &all,
        "2022-06-02",
        "Spring bank holiday",
        true,
    );
    add(
        &mut only_in_data,
        &all,
        "2022-06-03",
        "Platinum Jubilee bank holiday",
        true,
    );
    add(
        &mut only_in_data,
        &all,
        "2022-09-19",
        "Bank Holiday for the State Funeral of Queen Elizabeth II",
        false,
    );
    // 2023: the coronation.
    add(
        &mut only_in_data,
        &all,
        "2023-05-08",
        "Bank holiday for the coronation of King Charles III",
        true,
    );
    // 2026: Scotland's World Cup holiday.
    add(
        &mut only_in_data,
        &[Division::Scotland],
        "2026-06-15",
        "Bank holiday for the World Cup (Scotland)",
        true,
    );
    (only_in_data, only_in_rules)
}

#[test]
fn standing_rules_reproduce_the_published_data_except_one_offs() {
    let feed = shipped_feed();
    let mut only_in_data = BTreeSet::new();
    let mut only_in_rules = BTreeSet::new();
    for division in Division::ALL {
        for year in 2018..=2028 {
            let entry = |h: &lcspr_tracker::domain::calendar::Holiday| {
                (
                    division,
                    h.date,
                    h.title.clone(),
                    h.notes.clone(),
                    h.bunting,
                )
            };
            let data: BTreeSet<Entry> = feed
                .events_in_year(division, year)
                .iter()
                .map(entry)
                .collect();
            let rules: BTreeSet<Entry> = provisional_holidays(division, year)
                .iter()
                .map(entry)
                .collect();
            only_in_data.extend(data.difference(&rules).cloned());
            only_in_rules.extend(rules.difference(&data).cloned());
        }
    }
    let (expected_data, expected_rules) = one_offs();
    assert_eq!(
        only_in_data, expected_data,
        "published days the rules do not produce"
    );
    assert_eq!(
        only_in_rules, expected_rules,
        "rule days the published data does not have"
    );
}

#[test]
fn easter_by_the_computus() {
    let known = [
        (2000, 4, 23),
        (2008, 3, 23),
        (2011, 4, 24),
        (2019, 4, 21),
        (2024, 3, 31),
        (2025, 4, 20),
        (2026, 4, 5),
        (2038, 4, 25),
        (2049, 4, 18),
        (2285, 3, 22),
    ];
    for (y, m, day) in known {
        assert_eq!(easter_sunday(y), d(y, m, day), "Easter {y}");
    }
}

#[test]
fn scottish_new_year_on_a_sunday_chains_both_days() {
    // 2034 starts on a Sunday, like 2023.
    let rules = provisional_holidays(Division::Scotland, 2034);
    let january: Vec<(&str, NaiveDate, bool)> = rules
        .iter()
        .filter(|h| h.date.month() == 1)
        .map(|h| (h.title.as_str(), h.date, h.is_substitute()))
        .collect();
    assert_eq!(
        january,
        [
            ("New Year’s Day", d(2034, 1, 2), true),
            ("2nd January", d(2034, 1, 3), true)
        ]
    );
}
