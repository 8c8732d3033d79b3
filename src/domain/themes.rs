//! Learning themes (issue 12): the configured list (`reports.themes`) and free tags, tidied and
//! compared the same way everywhere. A theme is compared by its [`key`] (capitals ignored), and
//! shown as first written, or as configured when it is one of the configured themes.

use super::input::check_text;

/// The longest theme, in characters (the partnership's priorities are under 150).
pub const THEME_MAX: usize = 200;

/// The most themes one case carries.
pub const THEMES_PER_CASE: usize = 20;

/// A theme as stored and shown: trimmed, each run of white space one space.
pub fn tidy(theme: &str) -> String {
    theme.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What two spellings of one theme share: tidied, in lower case.
pub fn key(theme: &str) -> String {
    tidy(theme).to_lowercase()
}

/// One theme's problem, if any (a sentence without the field's name).
fn problem(theme: &str) -> Option<String> {
    if check_text(theme).is_err() {
        return Some("a theme must not contain control characters".into());
    }
    let t = tidy(theme);
    if t.is_empty() {
        return Some("a theme cannot be empty".into());
    }
    let n = t.chars().count();
    if n > THEME_MAX {
        return Some(format!(
            "{:?} is {n} characters long; a theme is at most {THEME_MAX}",
            t.chars().take(40).collect::<String>() + "…"
        ));
    }
    None
}

/// The themes to keep for a case: each tidied, a configured one in its configured spelling,
/// the second spelling of one theme dropped (capitals ignored), in the order given. An error
/// (the message, for the field `themes`) when one is empty, too long or holds control
/// characters, or there are more than [`THEMES_PER_CASE`].
pub fn normalise(given: &[String], configured: &[String]) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = vec![];
    let mut keys: Vec<String> = vec![];
    for (i, theme) in given.iter().enumerate() {
        if let Some(p) = problem(theme) {
            return Err(format!("theme {}: {p}", i + 1));
        }
        let k = key(theme);
        if keys.contains(&k) {
            continue;
        }
        let shown = configured
            .iter()
            .find(|c| key(c) == k)
            .map_or_else(|| tidy(theme), |c| tidy(c));
        keys.push(k);
        out.push(shown);
    }
    if out.len() > THEMES_PER_CASE {
        return Err(format!(
            "{} themes given; a case has at most {THEMES_PER_CASE}",
            out.len()
        ));
    }
    Ok(out)
}

/// The configured list is usable: each theme valid, none twice (capitals ignored).
pub fn check_configured(list: &[String]) -> Result<(), String> {
    let mut keys: Vec<String> = vec![];
    for theme in list {
        if let Some(p) = problem(theme) {
            return Err(p);
        }
        let k = key(theme);
        if keys.contains(&k) {
            return Err(format!("{:?} is listed twice", tidy(theme)));
        }
        keys.push(k);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn tidied_deduplicated_and_configured_spelling_kept() {
        let configured = v(&["Domestic abuse", "Neglect"]);
        let got = normalise(
            &v(&[
                "  neglect ",
                "Online   harm",
                "NEGLECT",
                "online harm",
                "domestic ABUSE",
            ]),
            &configured,
        )
        .unwrap();
        assert_eq!(got, v(&["Neglect", "Online harm", "Domestic abuse"]));
        assert_eq!(normalise(&[], &configured).unwrap(), Vec::<String>::new());
    }

    #[test]
    fn empty_long_control_and_too_many_are_refused() {
        assert!(normalise(&v(&["ok", "  "]), &[])
            .unwrap_err()
            .starts_with("theme 2:"));
        let long = "x".repeat(THEME_MAX + 1);
        assert!(normalise(&[long], &[]).unwrap_err().contains("at most 200"));
        assert!(normalise(&v(&["a\u{7}b"]), &[]).is_err());
        assert!(normalise(&v(&[&"y".repeat(THEME_MAX)]), &[]).is_ok());
        let many: Vec<String> = (0..=THEMES_PER_CASE).map(|i| format!("t{i}")).collect();
        assert!(normalise(&many, &[]).unwrap_err().contains("at most 20"));
    }

    #[test]
    fn the_configured_list_is_checked() {
        assert!(check_configured(&v(&["A", "B"])).is_ok());
        assert!(check_configured(&v(&["A", " a "]))
            .unwrap_err()
            .contains("twice"));
        assert!(check_configured(&v(&[""])).is_err());
    }
}
