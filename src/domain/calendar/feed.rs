//! The gov.uk `bank-holidays.json` format: parsed into per-division event lists.

use std::ops::RangeInclusive;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{CalendarError, Division};

/// One event of a division in the gov.uk feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holiday {
    /// As published, e.g. "Boxing Day" (titles use the typographic apostrophe ’).
    pub title: String,
    /// The day the holiday is observed.
    pub date: NaiveDate,
    /// "Substitute day" when the holiday moved off a weekend, otherwise usually empty.
    pub notes: String,
    /// Whether gov.uk shows bunting for it; kept so a feed round-trips.
    pub bunting: bool,
}

impl Holiday {
    /// True when the feed marks this as a substitute day.
    pub fn is_substitute(&self) -> bool {
        self.notes.trim().eq_ignore_ascii_case("substitute day")
    }
}

/// A parsed gov.uk bank holiday file: events per division, each list sorted by date.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BankHolidayFeed {
    divisions: [Option<Vec<Holiday>>; 3],
}

impl BankHolidayFeed {
    /// Parses a gov.uk `bank-holidays.json` document.
    ///
    /// Keys that are not a known division are ignored, but at least one known division must be
    /// present. `notes` and `bunting` may be absent (read as "" and false); `title` and an ISO
    /// `date` are required.
    pub fn parse(json: &str) -> Result<BankHolidayFeed, CalendarError> {
        let root: Value = serde_json::from_str(json)
            .map_err(|e| bad(format!("the file is not valid JSON ({e})")))?;
        let Value::Object(root) = root else {
            return Err(bad(
                "expected a JSON object keyed by division (england-and-wales, scotland, \
                 northern-ireland)"
                    .to_owned(),
            ));
        };
        let mut feed = BankHolidayFeed::default();
        for division in Division::ALL {
            if let Some(value) = root.get(division.as_str()) {
                let mut events = parse_division(division, value)?;
                events.sort_by_key(|e| e.date);
                feed.divisions[division.index()] = Some(events);
            }
        }
        if feed.divisions.iter().all(Option::is_none) {
            let found: Vec<String> = root.keys().map(|k| format!("\"{k}\"")).collect();
            let found = if found.is_empty() {
                "none".to_owned()
            } else {
                found.join(", ")
            };
            return Err(bad(format!(
                "no known division found (keys present: {found}); expected at least one of \
                 england-and-wales, scotland, northern-ireland"
            )));
        }
        Ok(feed)
    }

    /// The divisions present in the file.
    pub fn divisions(&self) -> impl Iterator<Item = Division> + '_ {
        Division::ALL
            .into_iter()
            .filter(|d| self.divisions[d.index()].is_some())
    }

    /// The events of a division sorted by date, or `None` when the file has no such division.
    pub fn events(&self, division: Division) -> Option<&[Holiday]> {
        self.divisions[division.index()].as_deref()
    }

    /// The events of a division in one year (empty when absent).
    pub fn events_in_year(&self, division: Division, year: i32) -> &[Holiday] {
        let events = self.events(division).unwrap_or_default();
        let start = events.partition_point(|e| e.date.year() < year);
        let end = events.partition_point(|e| e.date.year() <= year);
        &events[start..end]
    }

    /// First to last year with at least one event for the division.
    pub fn covered_years(&self, division: Division) -> Option<RangeInclusive<i32>> {
        let events = self.events(division)?;
        Some(events.first()?.date.year()..=events.last()?.date.year())
    }
}

fn bad(message: String) -> CalendarError {
    CalendarError::BadFeed(message)
}

fn parse_division(division: Division, value: &Value) -> Result<Vec<Holiday>, CalendarError> {
    let key = division.as_str();
    let Value::Object(body) = value else {
        return Err(bad(format!(
            "\"{key}\": expected an object with \"division\" and \"events\""
        )));
    };
    if let Some(named) = body.get("division") {
        if named.as_str() != Some(key) {
            return Err(bad(format!(
                "\"{key}\": its \"division\" field is {named}, expected \"{key}\""
            )));
        }
    }
    let Some(Value::Array(events)) = body.get("events") else {
        return Err(bad(format!(
            "\"{key}\": \"events\" must be a list of events"
        )));
    };
    events
        .iter()
        .enumerate()
        .map(|(index, event)| parse_event(key, index, event))
        .collect()
}

fn parse_event(key: &str, index: usize, event: &Value) -> Result<Holiday, CalendarError> {
    let at = format!("\"{key}\" events[{index}]");
    let Value::Object(fields) = event else {
        return Err(bad(format!(
            "{at}: expected an object with \"title\", \"date\", \"notes\" and \"bunting\""
        )));
    };
    let title = match fields.get("title") {
        Some(Value::String(t)) if !t.trim().is_empty() => t.clone(),
        Some(other) => {
            return Err(bad(format!(
                "{at}: field \"title\" must be non-empty text, found {other}"
            )))
        }
        None => return Err(bad(format!("{at}: field \"title\" is missing"))),
    };
    let at = format!("{at} (\"{title}\")");
    let date = match fields.get("date") {
        Some(Value::String(s)) => parse_iso_date(s).ok_or_else(|| {
            bad(format!(
                "{at}: field \"date\" is \"{s}\", which is not a valid date (expected \
                 YYYY-MM-DD)"
            ))
        })?,
        Some(other) => {
            return Err(bad(format!(
                "{at}: field \"date\" must be text like \"2026-12-25\", found {other}"
            )))
        }
        None => return Err(bad(format!("{at}: field \"date\" is missing"))),
    };
    Ok(Holiday {
        title,
        date,
        notes: optional_text(fields, "notes", &at)?,
        bunting: optional_bool(fields, "bunting", &at)?,
    })
}

fn parse_iso_date(s: &str) -> Option<NaiveDate> {
    // chrono alone would accept "2026-1-5"; the feed always writes zero-padded ISO dates.
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

fn optional_text(
    fields: &Map<String, Value>,
    name: &str,
    at: &str,
) -> Result<String, CalendarError> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(bad(format!(
            "{at}: field \"{name}\" must be text, found {other}"
        ))),
    }
}

fn optional_bool(fields: &Map<String, Value>, name: &str, at: &str) -> Result<bool, CalendarError> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(bad(format!(
            "{at}: field \"{name}\" must be true or false, found {other}"
        ))),
    }
}
