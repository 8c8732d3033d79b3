//! A minimal iCalendar (RFC 5545) writer for deadline feeds: all-day events, text escaped
//! (§3.3.11), lines ending CRLF and folded at 75 octets (§3.1).

use std::fmt::Write as _;

use chrono::{Duration, NaiveDate, NaiveDateTime};

/// One all-day event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllDayEvent {
    /// Globally unique and stable across fetches (`<deadline id>@<host>`).
    pub uid: String,
    pub date: NaiveDate,
    pub summary: String,
    /// A link to the case (a URI: not escaped).
    pub url: Option<String>,
}

/// An event at a time of day (a meeting).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimedEvent {
    pub uid: String,
    /// The start, in UTC.
    pub start: NaiveDateTime,
    pub minutes: u32,
    pub summary: String,
    pub url: Option<String>,
}

/// Writes a `VCALENDAR` with the events. `stamp` (UTC) is every event's `DTSTAMP`.
pub fn calendar(name: &str, stamp: NaiveDateTime, events: &[AllDayEvent]) -> String {
    calendar_with(name, stamp, events, &[])
}

/// As [`calendar`], with timed events too (written in UTC, busy).
pub fn calendar_with(
    name: &str,
    stamp: NaiveDateTime,
    events: &[AllDayEvent],
    timed: &[TimedEvent],
) -> String {
    let mut out = String::new();
    let stamp = stamp.format("%Y%m%dT%H%M%SZ").to_string();
    line(&mut out, "BEGIN:VCALENDAR");
    line(&mut out, "VERSION:2.0");
    line(&mut out, "PRODID:-//LCSPR Tracker//Deadlines//EN");
    line(&mut out, "CALSCALE:GREGORIAN");
    line(&mut out, "METHOD:PUBLISH");
    line(&mut out, &format!("X-WR-CALNAME:{}", escape_text(name)));
    for e in events {
        line(&mut out, "BEGIN:VEVENT");
        line(&mut out, &format!("UID:{}", escape_text(&e.uid)));
        line(&mut out, &format!("DTSTAMP:{stamp}"));
        line(
            &mut out,
            &format!("DTSTART;VALUE=DATE:{}", e.date.format("%Y%m%d")),
        );
        line(
            &mut out,
            &format!(
                "DTEND;VALUE=DATE:{}",
                (e.date + Duration::days(1)).format("%Y%m%d")
            ),
        );
        line(&mut out, &format!("SUMMARY:{}", escape_text(&e.summary)));
        if let Some(url) = &e.url {
            line(&mut out, &format!("URL:{url}"));
        }
        line(&mut out, "TRANSP:TRANSPARENT");
        line(&mut out, "END:VEVENT");
    }
    for e in timed {
        line(&mut out, "BEGIN:VEVENT");
        line(&mut out, &format!("UID:{}", escape_text(&e.uid)));
        line(&mut out, &format!("DTSTAMP:{stamp}"));
        line(
            &mut out,
            &format!("DTSTART:{}", e.start.format("%Y%m%dT%H%M%SZ")),
        );
        line(&mut out, &format!("DURATION:PT{}M", e.minutes));
        line(&mut out, &format!("SUMMARY:{}", escape_text(&e.summary)));
        if let Some(url) = &e.url {
            line(&mut out, &format!("URL:{url}"));
        }
        line(&mut out, "TRANSP:OPAQUE");
        line(&mut out, "END:VEVENT");
    }
    line(&mut out, "END:VCALENDAR");
    out
}

/// Escapes a TEXT value: backslash, semicolon, comma and newlines.
pub fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends one content line, folded so no physical line exceeds 75 octets (the CRLF not
/// counted), never splitting a UTF-8 character.
fn line(out: &mut String, content: &str) {
    let mut width = 0;
    for c in content.chars() {
        let len = c.len_utf8();
        if width + len > 75 {
            out.push_str("\r\n ");
            // The leading space of a continuation line counts towards its 75 octets.
            width = 1;
        }
        out.push(c);
        width += len;
    }
    let _ = write!(out, "\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_day_events_with_crlf_and_folding() {
        let label = "Notify the Secretary of State and Ofsted of a looked-after child’s death";
        let ics = calendar(
            "Deadlines, Pat",
            "2026-01-05T12:00:00".parse().unwrap(),
            &[AllDayEvent {
                uid: "abc@lcspr.example".into(),
                date: "2026-01-12".parse().unwrap(),
                summary: format!("BSCP2025-26-01 {label}"),
                url: Some("https://lcspr.example/cases/abc".into()),
            }],
        );
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
        assert!(ics.ends_with("END:VCALENDAR\r\n"));
        assert!(ics.contains("X-WR-CALNAME:Deadlines\\, Pat\r\n"));
        assert!(ics.contains("DTSTART;VALUE=DATE:20260112\r\nDTEND;VALUE=DATE:20260113\r\n"));
        assert!(ics.contains("DTSTAMP:20260105T120000Z\r\n"));
        for l in ics.split("\r\n") {
            assert!(l.len() <= 75, "{l:?} is {} octets", l.len());
            assert!(!l.contains('\n') && !l.contains('\r'));
        }
        // Unfolding gives back the summary, the multi-byte apostrophe intact.
        let unfolded = ics.replace("\r\n ", "");
        assert!(unfolded.contains(&format!("SUMMARY:BSCP2025-26-01 {label}\r\n")));
    }

    #[test]
    fn timed_events_in_utc_with_a_duration() {
        let ics = calendar_with(
            "x",
            "2026-01-05T12:00:00".parse().unwrap(),
            &[],
            &[TimedEvent {
                uid: "m1@lcspr.example".into(),
                start: "2026-07-01T09:00:00".parse().unwrap(),
                minutes: 120,
                summary: "Serious Cases Sub-Group meeting".into(),
                url: None,
            }],
        );
        assert!(ics.contains("BEGIN:VEVENT\r\nUID:m1@lcspr.example\r\n"));
        assert!(ics.contains("DTSTART:20260701T090000Z\r\nDURATION:PT120M\r\n"));
        assert!(ics.contains("TRANSP:OPAQUE\r\n"));
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape_text("a;b,c\\d\ne"), "a\\;b\\,c\\\\d\\ne");
    }
}
