//! Reading what people type into the GOV.UK form components, with the Design System's error
//! messages. Field names match `templates/macros/forms.html`: a date is three fields
//! `<name>-day`, `<name>-month`, `<name>-year`, and its errors name `<name>` (the whole date,
//! or the day), `<name>-month` or `<name>-year` so the right fields are marked.

use std::collections::HashMap;

use chrono::NaiveDate;

use crate::domain::input::FieldError;

/// A date typed as three fields in `form`. `Ok(None)` when all three are blank (the caller
/// decides whether the date is required: "Enter <what>"). `what` names the date in messages,
/// starting with a capital: "The date of the meeting".
pub fn date_from_form(
    form: &HashMap<String, String>,
    name: &str,
    what: &str,
) -> Result<Option<NaiveDate>, FieldError> {
    let part = |p: &str| {
        form.get(&format!("{name}-{p}"))
            .map(String::as_str)
            .unwrap_or("")
    };
    date_from_parts(name, what, part("day"), part("month"), part("year"))
}

/// As [`date_from_form`], from the three values.
pub fn date_from_parts(
    name: &str,
    what: &str,
    day: &str,
    month: &str,
    year: &str,
) -> Result<Option<NaiveDate>, FieldError> {
    let (day, month, year) = (day.trim(), month.trim(), year.trim());
    let missing: Vec<&str> = [("day", day), ("month", month), ("year", year)]
        .iter()
        .filter(|(_, v)| v.is_empty())
        .map(|(p, _)| *p)
        .collect();
    match missing.as_slice() {
        [] => {}
        [_, _, _] => return Ok(None),
        ["month"] => {
            let field = format!("{name}-month");
            return Err(FieldError::new(
                field,
                format!("{what} must include a month"),
            ));
        }
        ["year"] => {
            let field = format!("{name}-year");
            return Err(FieldError::new(
                field,
                format!("{what} must include a year"),
            ));
        }
        [one] => {
            return Err(FieldError::new(
                name,
                format!("{what} must include a {one}"),
            ))
        }
        [a, b] => {
            return Err(FieldError::new(
                name,
                format!("{what} must include a {a} and {b}"),
            ))
        }
        _ => unreachable!("three parts"),
    }
    if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
        return Err(FieldError::new(
            format!("{name}-year"),
            "Year must include 4 numbers",
        ));
    }
    let number = |s: &str| {
        (s.len() <= 2 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u32>().ok())
            .flatten()
    };
    let date = match (number(day), number(month), year.parse::<i32>()) {
        (Some(d), Some(m), Ok(y)) => NaiveDate::from_ymd_opt(y, m, d),
        _ => None,
    };
    date.map(Some)
        .ok_or_else(|| FieldError::new(name, format!("{what} must be a real date")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(d: &str, m: &str, y: &str) -> Result<Option<NaiveDate>, FieldError> {
        date_from_parts("held_on", "The date of the meeting", d, m, y)
    }

    #[test]
    fn a_real_date_in_three_fields() {
        let expected = NaiveDate::from_ymd_opt(2026, 3, 27);
        assert_eq!(parse("27", "3", "2026"), Ok(expected));
        assert_eq!(parse(" 27 ", "03", "2026 "), Ok(expected));
        assert_eq!(
            parse("29", "2", "2028"),
            Ok(NaiveDate::from_ymd_opt(2028, 2, 29))
        );
        assert_eq!(parse("", " ", ""), Ok(None));
        let form: HashMap<String, String> = [
            ("held_on-day", "6"),
            ("held_on-month", "1"),
            ("held_on-year", "2026"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(
            date_from_form(&form, "held_on", "The date"),
            Ok(NaiveDate::from_ymd_opt(2026, 1, 6))
        );
        assert_eq!(date_from_form(&form, "other", "The date"), Ok(None));
    }

    #[test]
    fn each_problem_names_the_field_to_mark() {
        let err = |d, m, y| parse(d, m, y).unwrap_err();
        assert_eq!(
            err("27", "", "2026"),
            FieldError::new(
                "held_on-month",
                "The date of the meeting must include a month"
            )
        );
        assert_eq!(
            err("27", "3", ""),
            FieldError::new(
                "held_on-year",
                "The date of the meeting must include a year"
            )
        );
        assert_eq!(
            err("", "3", "2026"),
            FieldError::new("held_on", "The date of the meeting must include a day")
        );
        assert_eq!(
            err("", "", "2026"),
            FieldError::new(
                "held_on",
                "The date of the meeting must include a day and month"
            )
        );
        assert_eq!(
            err("27", "3", "26"),
            FieldError::new("held_on-year", "Year must include 4 numbers")
        );
        for (d, m) in [
            ("31", "4"),
            ("29", "2"),
            ("x", "3"),
            ("27", "13"),
            ("0", "3"),
            ("123", "3"),
        ] {
            assert_eq!(
                err(d, m, "2026"),
                FieldError::new("held_on", "The date of the meeting must be a real date"),
                "{d}/{m}"
            );
        }
    }
}
