//! Working-day arithmetic for statutory deadlines (DESIGN.md §2 "Counting working days").
//!
//! Bank holidays come from gov.uk `bank-holidays.json` data (shipped, optionally replaced per year
//! by an admin's import), years neither covers are filled from the standing rules and flagged
//! provisional, and admins may add proclaimed holidays and local closure days at run time.
//! Every operation is closed-form weekday arithmetic plus binary search over each division's
//! sorted non-working weekdays, so its cost does not grow with the span counted.

#![warn(missing_docs)]

mod explain;
mod feed;
mod provisional;
mod working;

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

pub use explain::{add_calendar_months, Direction, Reckoning, SkippedDays, Unit};
pub use feed::{BankHolidayFeed, Holiday};
pub use provisional::{easter_sunday, provisional_holidays};
pub use working::{Calendar, NonWorkingDay};

/// The bank holiday data shipped with the service (`config/bank-holidays.json`, gov.uk format).
pub const SHIPPED_BANK_HOLIDAYS: &str = include_str!("../../../config/bank-holidays.json");

/// First date the calendar answers for.
pub const SUPPORTED_FROM: NaiveDate = match NaiveDate::from_ymd_opt(2000, 1, 1) {
    Some(d) => d,
    None => panic!("valid date"),
};

/// Last date the calendar answers for.
pub const SUPPORTED_TO: NaiveDate = match NaiveDate::from_ymd_opt(2199, 12, 31) {
    Some(d) => d,
    None => panic!("valid date"),
};

/// A UK bank holiday division, named as in the gov.uk feed.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Division {
    /// `england-and-wales`: the default for cases in England.
    #[default]
    EnglandAndWales,
    /// `scotland`.
    Scotland,
    /// `northern-ireland`.
    NorthernIreland,
}

impl Division {
    /// Every division, in feed order.
    pub const ALL: [Division; 3] = [
        Division::EnglandAndWales,
        Division::Scotland,
        Division::NorthernIreland,
    ];

    /// The feed key, e.g. `england-and-wales`.
    pub fn as_str(self) -> &'static str {
        match self {
            Division::EnglandAndWales => "england-and-wales",
            Division::Scotland => "scotland",
            Division::NorthernIreland => "northern-ireland",
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Division {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Division {
    type Err = CalendarError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Division::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| CalendarError::UnknownDivision(s.to_owned()))
    }
}

/// Why a weekday is not a working day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    /// A bank holiday from the feed data or the standing rules.
    BankHoliday,
    /// A one-off bank holiday proclaimed after the data was published, added at run time.
    Proclaimed,
    /// A local council closure day.
    Closure,
}

/// A non-working day an admin adds at run time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtraDay {
    /// The division it applies to; `None` applies it to every division (a local closure).
    pub division: Option<Division>,
    /// The day itself; a Saturday or Sunday changes nothing.
    pub date: NaiveDate,
    /// Shown in explanations, e.g. "Bank holiday for the State Funeral".
    pub title: String,
    /// What sort of day it is.
    pub kind: DayKind,
}

/// Everything that can go wrong in the calendar.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// A date, given or computed, outside [`SUPPORTED_FROM`]..=[`SUPPORTED_TO`].
    #[error("{date} is outside the supported range {SUPPORTED_FROM} to {SUPPORTED_TO}")]
    OutOfRange {
        /// The offending date (a computed one may be clamped to the chrono limits).
        date: NaiveDate,
    },
    /// The bank holiday file could not be used; the message says where and why.
    #[error("bank holiday file rejected: {0}")]
    BadFeed(String),
    /// A division name that is not one of the feed keys.
    #[error(
        "unknown division \"{0}\": expected one of england-and-wales, scotland, northern-ireland"
    )]
    UnknownDivision(String),
}

pub(crate) fn check_range(date: NaiveDate) -> Result<NaiveDate, CalendarError> {
    if (SUPPORTED_FROM..=SUPPORTED_TO).contains(&date) {
        Ok(date)
    } else {
        Err(CalendarError::OutOfRange { date })
    }
}
