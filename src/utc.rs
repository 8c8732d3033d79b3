//! Timestamps on the wire. The database holds naive UTC (`Timestamp` on both backends); every
//! answer writes them as RFC 3339 with `Z`, so a reader never has to guess the zone. Use with
//! `#[serde(serialize_with = "crate::utc::ser")]` and `#[schemars(with = "crate::utc::Stamp")]`
//! (or the `opt` pair for an optional one).

use chrono::NaiveDateTime;
use serde::Serializer;

/// What the OpenAPI document says a timestamp is: a `date-time` with its zone.
pub type Stamp = chrono::DateTime<chrono::Utc>;

/// `2026-03-02T09:15:00Z` (fractions of a second kept when there are any).
pub fn format(t: &NaiveDateTime) -> String {
    t.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

pub fn ser<S: Serializer>(t: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format(t))
}

/// An optional timestamp: `null` or RFC 3339 with `Z`.
pub fn opt<S: Serializer>(t: &Option<NaiveDateTime>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&format(t)),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn writes_the_zone() {
        let t = chrono::NaiveDate::from_ymd_opt(2026, 3, 2)
            .unwrap()
            .and_hms_micro_opt(9, 15, 0, 250)
            .unwrap();
        assert_eq!(super::format(&t), "2026-03-02T09:15:00.000250Z");
        let whole = t.with_nanosecond(0).unwrap();
        assert_eq!(super::format(&whole), "2026-03-02T09:15:00Z");
        assert!(chrono::DateTime::parse_from_rfc3339(&super::format(&t)).is_ok());
    }
    use chrono::Timelike;
}
