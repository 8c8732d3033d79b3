//! Tera filters the pages use. Tera is built without its default features, so it has no
//! `date`, `urlencode` or `filesizeformat` of its own; these are written for GOV.UK style
//! ("6 January 2026", "2:05pm", "midday").

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime, Timelike};
use tera::{Tera, Value};

use crate::clock::uk_local;

type Args = HashMap<String, Value>;

pub fn register(tera: &mut Tera) {
    tera.register_filter("govuk_date", govuk_date);
    tera.register_filter("short_date", short_date);
    tera.register_filter("govuk_datetime", govuk_datetime);
    tera.register_filter("urlencode", urlencode);
    tera.register_filter("filesizeformat", filesizeformat);
}

/// A date (`NaiveDate`, or a date-time of which the date is taken) as "6 January 2026";
/// null is "".
pub fn govuk_date(value: &Value, _: &Args) -> tera::Result<Value> {
    format_date(value, "govuk_date", "%-d %B %Y")
}

/// A date as "Tue 6 Jan 2026"; null is "".
pub fn short_date(value: &Value, _: &Args) -> tera::Result<Value> {
    format_date(value, "short_date", "%a %-d %b %Y")
}

/// A UTC date-time (as stored) shown in UK time: "6 January 2026 at 2:05pm"; null is "".
pub fn govuk_datetime(value: &Value, _: &Args) -> tera::Result<Value> {
    let text = match value {
        Value::Null => return Ok(Value::String(String::new())),
        Value::String(s) => s,
        other => return Err(not_a_date("govuk_datetime", other)),
    };
    let utc = parse_datetime(text).ok_or_else(|| not_a_date("govuk_datetime", value))?;
    let local = uk_local(utc);
    Ok(Value::String(format!(
        "{} at {}",
        local.format("%-d %B %Y"),
        govuk_time(local.hour(), local.minute())
    )))
}

/// Percent-encodes a query string value (everything but unreserved characters).
pub fn urlencode(value: &Value, _: &Args) -> tera::Result<Value> {
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    Ok(Value::String(out))
}

/// A size in bytes for people: "900 bytes", "12 KB", "3.4 MB".
pub fn filesizeformat(value: &Value, _: &Args) -> tera::Result<Value> {
    let bytes = value
        .as_u64()
        .ok_or_else(|| tera::Error::msg(format!("filesizeformat: {value} is not a size")))?;
    let text = match bytes {
        0..1024 => format!("{bytes} bytes"),
        1024..1_048_576 => format!("{} KB", (bytes + 512) / 1024),
        _ => format!("{:.1} MB", bytes as f64 / 1_048_576.0),
    };
    Ok(Value::String(text))
}

fn format_date(value: &Value, filter: &str, pattern: &str) -> tera::Result<Value> {
    let text = match value {
        Value::Null => return Ok(Value::String(String::new())),
        Value::String(s) => s,
        other => return Err(not_a_date(filter, other)),
    };
    let date = text
        .get(..10)
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .ok_or_else(|| not_a_date(filter, value))?;
    Ok(Value::String(date.format(pattern).to_string()))
}

/// Naive UTC as stored, or RFC 3339 as the API writes it (`…Z`, see `crate::utc`).
fn parse_datetime(text: &str) -> Option<NaiveDateTime> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Some(t.naive_utc());
    }
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
}

/// GOV.UK style: "midnight", "midday", "9am", "2:05pm".
pub fn govuk_time(hour: u32, minute: u32) -> String {
    match (hour, minute) {
        (0, 0) => "midnight".into(),
        (12, 0) => "midday".into(),
        _ => {
            let suffix = if hour < 12 { "am" } else { "pm" };
            let h = match hour % 12 {
                0 => 12,
                h => h,
            };
            if minute == 0 {
                format!("{h}{suffix}")
            } else {
                format!("{h}:{minute:02}{suffix}")
            }
        }
    }
}

fn not_a_date(filter: &str, value: &Value) -> tera::Error {
    tera::Error::msg(format!("{filter}: {value} is not a date"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn apply(f: fn(&Value, &Args) -> tera::Result<Value>, v: Value) -> String {
        f(&v, &Args::new()).unwrap().as_str().unwrap().to_string()
    }

    #[test]
    fn dates_in_govuk_style() {
        let d = serde_json::to_value(NaiveDate::from_ymd_opt(2026, 1, 6).unwrap()).unwrap();
        assert_eq!(apply(govuk_date, d.clone()), "6 January 2026");
        assert_eq!(apply(short_date, d), "Tue 6 Jan 2026");
        assert_eq!(apply(govuk_date, json!("2025-12-29")), "29 December 2025");
        assert_eq!(apply(short_date, json!("2025-12-29")), "Mon 29 Dec 2025");
        assert_eq!(
            apply(govuk_date, json!("2026-02-28T23:30:00")),
            "28 February 2026"
        );
        assert_eq!(apply(govuk_date, Value::Null), "");
        assert!(govuk_date(&json!("29/12/2025"), &Args::new()).is_err());
        assert!(short_date(&json!(20251229), &Args::new()).is_err());
        assert!(govuk_date(&json!("2025-02-30"), &Args::new()).is_err());
    }

    #[test]
    fn times_in_uk_local_time() {
        // Winter: UTC is UK time.
        assert_eq!(
            apply(govuk_datetime, json!("2026-01-06T14:05:00")),
            "6 January 2026 at 2:05pm"
        );
        assert_eq!(
            apply(govuk_datetime, json!("2026-01-06T12:00:00")),
            "6 January 2026 at midday"
        );
        // Summer: British Summer Time is UTC+1, and 23:00 UTC is midnight the next day.
        let at = serde_json::to_value(
            NaiveDate::from_ymd_opt(2026, 7, 1)
                .unwrap()
                .and_hms_opt(23, 0, 0)
                .unwrap(),
        )
        .unwrap();
        assert_eq!(apply(govuk_datetime, at), "2 July 2026 at midnight");
        assert_eq!(
            apply(govuk_datetime, json!("2026-07-01T08:00:00.123")),
            "1 July 2026 at 9am"
        );
    }

    #[test]
    fn urlencode_and_sizes() {
        assert_eq!(
            apply(urlencode, json!("in_review & co/é")),
            "in_review%20%26%20co%2F%C3%A9"
        );
        assert_eq!(apply(filesizeformat, json!(900)), "900 bytes");
        assert_eq!(apply(filesizeformat, json!(12 * 1024)), "12 KB");
        assert_eq!(apply(filesizeformat, json!(3_565_158)), "3.4 MB");
    }
}
