//! How a computed date was reached, in data ([`Reckoning`]) and in one English line.

use std::fmt::{self, Write};
use std::ops::{Deref, Range};
use std::sync::Arc;

use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{check_range, CalendarError, DayKind, Division, NonWorkingDay};

/// What was counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Monday to Friday, less bank holidays and closure days.
    WorkingDays,
    /// Calendar months, clamped to the end of a shorter month.
    CalendarMonths,
}

/// Which way from the trigger date the count went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// After the trigger (also used for a count of zero).
    Forward,
    /// Before the trigger, e.g. copies due before a publication date.
    Backward,
}

/// The explanation of one computed date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Reckoning {
    /// The trigger date (day 0).
    pub from: NaiveDate,
    /// The computed date.
    pub date: NaiveDate,
    /// How many units were counted, without sign: `direction` says which way.
    pub count: i32,
    /// Working days or calendar months.
    pub unit: Unit,
    /// Forward or backward from `from`.
    pub direction: Direction,
    /// The division whose holidays applied (`None` for calendar months).
    pub division: Option<Division>,
    /// Non-working weekdays stepped over, in date order.
    #[schemars(with = "Vec<super::NonWorkingDay>")]
    pub skipped: SkippedDays,
    /// Saturdays and Sundays stepped over.
    pub weekend_days_skipped: i64,
    /// Part of the span lies in a year whose holidays come from the standing rules.
    pub provisional: bool,
    /// Those years, ascending.
    pub provisional_years: Vec<i32>,
    /// The last year the division's published data covers, to word the provisional note.
    pub published_through: Option<i32>,
    /// Calendar months only: the day of the month was cut to the end of a shorter month.
    pub clamped: bool,
}

impl Reckoning {
    /// `months` calendar months from `from` (backward when negative), explained; no bank
    /// holidays are involved, so it is never provisional.
    pub fn calendar_months(from: NaiveDate, months: i32) -> Result<Reckoning, CalendarError> {
        check_range(from)?;
        let date = check_range(add_calendar_months(from, months))?;
        Ok(Reckoning {
            from,
            date,
            count: i32::try_from(months.unsigned_abs()).unwrap_or(i32::MAX),
            unit: Unit::CalendarMonths,
            direction: if months < 0 {
                Direction::Backward
            } else {
                Direction::Forward
            },
            division: None,
            skipped: SkippedDays::default(),
            weekend_days_skipped: 0,
            provisional: false,
            provisional_years: Vec::new(),
            published_through: None,
            clamped: date.day() != from.day(),
        })
    }

    /// One English line, e.g. `15 working days from Mon 29 Dec 2025, skipping Thu 1 Jan 2026
    /// (New Year’s Day) → Tue 20 Jan 2026`.
    pub fn describe(&self) -> String {
        let unit = match (self.unit, self.count == 1) {
            (Unit::WorkingDays, true) => "working day",
            (Unit::WorkingDays, false) => "working days",
            (Unit::CalendarMonths, true) => "calendar month",
            (Unit::CalendarMonths, false) => "calendar months",
        };
        let way = match self.direction {
            Direction::Forward => "from",
            Direction::Backward => "before",
        };
        let mut line = format!("{} {unit} {way} {}", self.count, day(self.from));
        if self.unit == Unit::WorkingDays {
            if self.skipped.is_empty() {
                line.push_str(", no bank holidays skipped");
            } else {
                line.push_str(", skipping ");
                for (i, skipped) in self.skipped.iter().enumerate() {
                    if i > 0 {
                        line.push_str(", ");
                    }
                    let _ = write!(line, "{} ({})", day(skipped.date), reason(skipped));
                }
            }
        }
        let _ = write!(line, " → {}", day(self.date));
        if self.clamped {
            line.push_str(" (clamped to the last day of the month)");
        }
        if self.provisional {
            let years: Vec<String> = self.provisional_years.iter().map(i32::to_string).collect();
            let all_later = self
                .provisional_years
                .iter()
                .all(|&y| self.published_through.is_none_or(|last| y > last));
            let why = if all_later {
                "not yet published"
            } else {
                "not in the published data"
            };
            let _ = write!(
                line,
                " (provisional: bank holidays for {} are computed from the standing rules, {why})",
                join_english(&years)
            );
        }
        line
    }
}

/// The non-working weekdays a count stepped over, in date order: a window onto the calendar's
/// own list, so explaining a span costs the same however many days it skipped. Reads as a slice
/// and serialises as a list.
#[derive(Clone)]
pub struct SkippedDays {
    days: Arc<[NonWorkingDay]>,
    range: Range<usize>,
}

impl SkippedDays {
    pub(crate) fn new(days: &Arc<[NonWorkingDay]>, range: Range<usize>) -> SkippedDays {
        debug_assert!(range.end <= days.len());
        SkippedDays {
            days: Arc::clone(days),
            range,
        }
    }

    /// The days as a slice.
    pub fn as_slice(&self) -> &[NonWorkingDay] {
        &self.days[self.range.clone()]
    }
}

impl Default for SkippedDays {
    fn default() -> SkippedDays {
        SkippedDays::from(Vec::new())
    }
}

impl From<Vec<NonWorkingDay>> for SkippedDays {
    fn from(days: Vec<NonWorkingDay>) -> SkippedDays {
        SkippedDays {
            range: 0..days.len(),
            days: days.into(),
        }
    }
}

impl Deref for SkippedDays {
    type Target = [NonWorkingDay];

    fn deref(&self) -> &[NonWorkingDay] {
        self.as_slice()
    }
}

impl PartialEq for SkippedDays {
    fn eq(&self, other: &SkippedDays) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for SkippedDays {}

impl fmt::Debug for SkippedDays {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Serialize for SkippedDays {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for SkippedDays {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<SkippedDays, D::Error> {
        Vec::<NonWorkingDay>::deserialize(deserializer).map(SkippedDays::from)
    }
}

impl<'a> IntoIterator for &'a SkippedDays {
    type Item = &'a NonWorkingDay;
    type IntoIter = std::slice::Iter<'a, NonWorkingDay>;

    fn into_iter(self) -> Self::IntoIter {
        self.as_slice().iter()
    }
}

/// `months` calendar months after `from` (before it when negative), clamped to the last day of
/// a shorter month: 31 Aug 2025 + 6 = 28 Feb 2026. Years are `12 * years` months. Saturates at
/// chrono's date limits.
pub fn add_calendar_months(from: NaiveDate, months: i32) -> NaiveDate {
    let span = Months::new(months.unsigned_abs());
    if months >= 0 {
        from.checked_add_months(span).unwrap_or(NaiveDate::MAX)
    } else {
        from.checked_sub_months(span).unwrap_or(NaiveDate::MIN)
    }
}

fn day(date: NaiveDate) -> impl fmt::Display {
    date.format("%a %-d %b %Y")
}

fn reason(day: &NonWorkingDay) -> String {
    match day.kind {
        DayKind::BankHoliday if day.substitute => format!("{}, substitute day", day.title),
        DayKind::BankHoliday => day.title.to_string(),
        DayKind::Proclaimed => format!("proclaimed: {}", day.title),
        DayKind::Closure => format!("local closure: {}", day.title),
    }
}

fn join_english(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}
