//! Reading request bodies field by field, collecting every problem with the field it concerns.

use chrono::NaiveDate;
use serde_json::{Map, Value};

use serde::Serialize;

use super::TextEnum;

/// A problem with one input field.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// No date the service records is before this (the statutory framework is far later).
pub const EARLIEST_DATE: NaiveDate = match NaiveDate::from_ymd_opt(2000, 1, 1) {
    Some(d) => d,
    None => panic!("a real date"),
};
/// No child in a case was born before this.
pub const EARLIEST_DOB: NaiveDate = match NaiveDate::from_ymd_opt(1990, 1, 1) {
    Some(d) => d,
    None => panic!("a real date"),
};

/// Refuses a date before the earliest plausible one for the field (1 January 1990 for a date of
/// birth, 1 January 2000 for anything else).
pub fn check_plausible(field: &str, d: NaiveDate) -> Result<(), String> {
    let earliest = if field == "child_dob" {
        EARLIEST_DOB
    } else {
        EARLIEST_DATE
    };
    if d < earliest {
        return Err(format!(
            "cannot be before {}; check the year",
            earliest.format("%-d %B %Y")
        ));
    }
    Ok(())
}

pub const NOTE_MAX: usize = 5000;
pub const SHORT_MAX: usize = 200;

/// Fields that hold a person's name or a child's pseudonym, where characters that reverse the
/// direction of text could disguise what a reader sees.
pub const NAME_FIELDS: &[&str] = &["name", "child_name", "child_pseudonym"];

/// Text as people type it: no control characters other than tab and newline (a carriage return
/// is allowed only before a newline, as browsers send line breaks). A NUL, which PostgreSQL
/// cannot store, is one of them.
pub fn check_text(s: &str) -> Result<(), &'static str> {
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        let allowed = match c {
            '\t' | '\n' => true,
            '\r' => chars.peek() == Some(&'\n'),
            c => !c.is_control(),
        };
        if !allowed {
            return Err("must not contain control characters (only letters, digits, punctuation, spaces, tabs and line breaks)");
        }
    }
    Ok(())
}

/// Unicode's bidirectional embedding, override and isolate characters (U+202A–U+202E,
/// U+2066–U+2069) and the directional marks (U+200E, U+200F, U+061C).
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// A name or a pseudonym: text as [`check_text`] allows, without the characters that change
/// the direction of text (a "Child Q" that displays as something else).
pub fn check_name(s: &str) -> Result<(), &'static str> {
    check_text(s)?;
    if s.chars().any(is_bidi_control) {
        return Err("must not contain characters that change the direction of text");
    }
    Ok(())
}

/// What [`check_text`] accepts, as a regular expression for the API's schema: no control
/// characters but tab and line feed, a carriage return only before a line feed.
pub const TEXT_PATTERN: &str = r"^(?:[^\u0000-\u0008\u000B-\u001F\u007F-\u009F]|\r\n)*$";
/// [`TEXT_PATTERN`] with one character at least that is not a space: a required field is
/// trimmed before it is read, so blank text is missing text.
pub const FILLED_TEXT_PATTERN: &str = r"^(?:[^\u0000-\u0008\u000B-\u001F\u007F-\u009F]|\r\n)*[^\s\u0000-\u0008\u000B-\u001F\u007F-\u009F](?:[^\u0000-\u0008\u000B-\u001F\u007F-\u009F]|\r\n)*$";
/// What [`check_name`] accepts: [`TEXT_PATTERN`] without the characters that change the
/// direction of text.
pub const NAME_PATTERN: &str = r"^(?:[^\u0000-\u0008\u000B-\u001F\u007F-\u009F\u200E\u200F\u061C\u202A-\u202E\u2066-\u2069]|\r\n)*$";
/// [`NAME_PATTERN`] for a required name.
pub const FILLED_NAME_PATTERN: &str = r"^(?:[^\u0000-\u0008\u000B-\u001F\u007F-\u009F\u200E\u200F\u061C\u202A-\u202E\u2066-\u2069]|\r\n)*[^\s\u0000-\u0008\u000B-\u001F\u007F-\u009F\u200E\u200F\u061C\u202A-\u202E\u2066-\u2069](?:[^\u0000-\u0008\u000B-\u001F\u007F-\u009F\u200E\u200F\u061C\u202A-\u202E\u2066-\u2069]|\r\n)*$";

/// Free text as the API's schema states it for the field `name` (`maxLength`, and
/// [`TEXT_PATTERN`] or, for a [`NAME_FIELDS`] field, [`NAME_PATTERN`]): at most `max`
/// characters as received, spaces around it included, and none of the characters
/// [`check_text`] (or [`check_name`]) refuses. What is kept is the trimmed text; blank text is
/// `None`, for the caller to say what is missing. The one reading of free text: the JSON
/// fields ([`Fields`]), multipart titles and the typed request bodies all come through here.
pub fn received_text<'s>(
    name: &str,
    received: &'s str,
    max: usize,
) -> Result<Option<&'s str>, String> {
    let s = received.trim();
    if NAME_FIELDS.contains(&name) {
        check_name(s)?;
    } else {
        check_text(s)?;
    }
    if received.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    Ok((!s.is_empty()).then_some(s))
}

/// [`received_text`] for a field that must be filled in: `missing` is the message for blank
/// text (what to enter).
pub fn required_text(
    name: &'static str,
    received: &str,
    max: usize,
    missing: &str,
) -> Result<String, FieldError> {
    match received_text(name, received, max) {
        Ok(Some(s)) => Ok(s.to_string()),
        Ok(None) => Err(FieldError::new(name, missing)),
        Err(m) => Err(FieldError::new(name, m)),
    }
}

/// Reads fields from a request body, collecting every problem with the field it concerns.
pub struct Fields<'a> {
    map: &'a Map<String, Value>,
    seen: Vec<&'static str>,
    errors: Vec<FieldError>,
}

impl<'a> Fields<'a> {
    /// Reads `map`; `handled` names keys read elsewhere (not reported as unknown).
    pub fn new(map: &'a Map<String, Value>, handled: &[&'static str]) -> Self {
        Fields {
            map,
            seen: handled.to_vec(),
            errors: vec![],
        }
    }

    pub fn fail(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    pub fn raw(&mut self, name: &'static str) -> Option<&'a Value> {
        self.seen.push(name);
        self.map.get(name).filter(|v| !v.is_null())
    }

    pub fn opt_text_max(&mut self, name: &'static str, max: usize) -> Option<String> {
        match self.raw(name) {
            None => None,
            Some(Value::String(received)) => match received_text(name, received, max) {
                Ok(s) => s.map(str::to_string),
                Err(m) => {
                    self.fail(name, m);
                    None
                }
            },
            Some(_) => {
                self.fail(name, "must be text");
                None
            }
        }
    }

    pub fn opt_text(&mut self, name: &'static str) -> Option<String> {
        self.opt_text_max(name, NOTE_MAX)
    }

    pub fn text(&mut self, name: &'static str, what: &str) -> String {
        let before = self.errors.len();
        match self.opt_text(name) {
            Some(s) => s,
            None => {
                if self.errors.len() == before {
                    self.fail(name, format!("enter {what}"));
                }
                String::new()
            }
        }
    }

    pub fn short_text(&mut self, name: &'static str, what: &str) -> String {
        let before = self.errors.len();
        match self.opt_text_max(name, SHORT_MAX) {
            Some(s) => s,
            None => {
                if self.errors.len() == before {
                    self.fail(name, format!("enter {what}"));
                }
                String::new()
            }
        }
    }

    pub fn date(&mut self, name: &'static str, what: &str) -> Option<NaiveDate> {
        match self.raw(name) {
            None => {
                self.fail(name, format!("enter {what} as YYYY-MM-DD"));
                None
            }
            Some(Value::String(s)) => self.plausible(name, parse_date(s)),
            Some(_) => {
                self.fail(name, "must be a date written YYYY-MM-DD");
                None
            }
        }
    }

    fn plausible(&mut self, name: &str, parsed: Result<NaiveDate, String>) -> Option<NaiveDate> {
        match parsed.and_then(|d| check_plausible(name, d).map(|()| d)) {
            Ok(d) => Some(d),
            Err(m) => {
                self.fail(name, m);
                None
            }
        }
    }

    pub fn choice<T: TextEnum>(&mut self, name: &'static str) -> Option<T> {
        match self.raw(name) {
            None => {
                self.fail(name, format!("choose one of {}", T::choices()));
                None
            }
            Some(Value::String(s)) => match s.parse() {
                Ok(v) => Some(v),
                Err(m) => {
                    self.fail(name, m);
                    None
                }
            },
            Some(_) => {
                self.fail(name, "must be text");
                None
            }
        }
    }

    pub fn opt_int(&mut self, name: &'static str) -> Option<i32> {
        match self.raw(name) {
            None => None,
            Some(Value::Number(n)) => match n.as_i64().and_then(|n| i32::try_from(n).ok()) {
                Some(n) if n > 0 => Some(n),
                _ => {
                    self.fail(name, "must be a whole number above 0");
                    None
                }
            },
            Some(Value::String(s)) => match s.trim().parse::<i32>() {
                Ok(n) if n > 0 => Some(n),
                _ => {
                    self.fail(name, "must be a whole number above 0");
                    None
                }
            },
            Some(_) => {
                self.fail(name, "must be a whole number above 0");
                None
            }
        }
    }

    pub fn url(&mut self, name: &'static str, required: bool) -> Option<String> {
        let before = self.errors.len();
        let value = self.opt_text_max(name, 2000);
        match value {
            Some(u) if u.starts_with("https://") || u.starts_with("http://") => Some(u),
            Some(_) => {
                self.fail(name, "must be a web address starting https://");
                None
            }
            None => {
                if required && self.errors.len() == before {
                    self.fail(name, "enter the web address where it is published");
                }
                None
            }
        }
    }

    /// A yes/no field; forms send "true"/"false" (or "yes"/"no").
    pub fn opt_bool(&mut self, name: &'static str) -> Option<bool> {
        match self.raw(name) {
            None => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(Value::String(s)) => match s.trim() {
                "true" | "yes" | "on" => Some(true),
                "false" | "no" | "off" => Some(false),
                _ => {
                    self.fail(name, "must be true or false");
                    None
                }
            },
            Some(_) => {
                self.fail(name, "must be true or false");
                None
            }
        }
    }

    /// An optional date.
    pub fn opt_date(&mut self, name: &'static str) -> Option<NaiveDate> {
        match self.raw(name) {
            None => None,
            Some(Value::String(s)) if s.trim().is_empty() => None,
            Some(Value::String(s)) => self.plausible(name, parse_date(s)),
            Some(_) => {
                self.fail(name, "must be a date written YYYY-MM-DD");
                None
            }
        }
    }

    /// Problems found so far.
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    pub fn finish(mut self) -> Result<(), Vec<FieldError>> {
        let mut unknown: Vec<&String> = self
            .map
            .keys()
            .filter(|k| !self.seen.contains(&k.as_str()))
            .collect();
        unknown.sort();
        for k in unknown {
            self.errors
                .push(FieldError::new(k.clone(), "is not a known field here"));
        }
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(self.errors)
        }
    }
}

/// Parses `YYYY-MM-DD` with a message a person can act on.
pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("enter a date".into());
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| format!("{s:?} is not a real date written YYYY-MM-DD"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_refused_but_tabs_and_line_breaks_kept() {
        assert!(check_text("Child Q\tnotes\r\nline two\n").is_ok());
        for bad in ["a\0b", "a\u{7}", "a\rb", "\u{1b}[31m", "a\u{85}b"] {
            assert!(check_text(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn names_refuse_direction_overrides() {
        assert!(check_name("Child Q").is_ok());
        assert!(check_name("سارة").is_ok());
        assert!(check_name("Child \u{202E}Q").is_err());
        assert!(check_name("\u{2066}x\u{2069}").is_err());
        assert!(check_text("Child \u{202E}Q").is_ok());
    }

    #[test]
    fn a_length_is_that_of_the_text_as_received() {
        let body = serde_json::json!({"reason": format!("{}  ", "r".repeat(9)), "note": " ok "});
        let map = body.as_object().unwrap();
        let mut f = Fields::new(map, &[]);
        assert_eq!(f.opt_text_max("reason", 10), None);
        assert_eq!(f.opt_text_max("note", 4).as_deref(), Some("ok"));
        let errors = f.finish().unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "reason");
        assert_eq!(errors[0].message, "must be at most 10 characters");
    }
}
