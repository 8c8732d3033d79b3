//! The password policy: at least 12 characters; not a common or leaked password, nor one
//! built from such words (the `zxcvbn` crate's dictionaries and estimator, compiled into the
//! binary); and not made from the person's own name or email address. Each refusal says why.

use zxcvbn::matching::patterns::MatchPattern;
use zxcvbn::Score;

/// The fewest characters a password may have.
pub const MIN_CHARS: usize = 12;
/// The most characters a password may have (Argon2 has to hash it).
pub const MAX_CHARS: usize = 1024;

/// Parts of a name or an email address shorter than this are not looked for in a password
/// (two- and three-letter parts are too common inside words).
const MIN_PART_CHARS: usize = 4;

/// Checks a new password for the person with this `name` and `email`. The error is a message
/// to show next to the field: "must be at least 12 characters", "must not contain your name
/// or email address", "is on a list of common or leaked passwords", …
pub fn check(password: &str, name: &str, email: &str) -> Result<(), String> {
    let n = password.chars().count();
    if n < MIN_CHARS {
        return Err(format!("must be at least {MIN_CHARS} characters"));
    }
    if n > MAX_CHARS {
        return Err(format!("must be at most {MAX_CHARS} characters"));
    }
    let parts = personal_parts(name, email);
    let folded = fold(password);
    if parts.iter().any(|p| folded.contains(p.as_str())) {
        return Err("must not contain your name or email address".into());
    }
    let inputs: Vec<&str> = parts.iter().map(String::as_str).collect();
    let estimate = zxcvbn::zxcvbn(password, &inputs);
    if estimate.score() >= Score::Three {
        return Ok(());
    }
    let dictionary_of_whole = estimate.sequence().iter().find_map(|m| match &m.pattern {
        MatchPattern::Dictionary(d) if m.i == 0 && m.j + 1 >= n => {
            Some(format!("{:?}", d.dictionary_name))
        }
        _ => None,
    });
    let uses_own_details = estimate.sequence().iter().any(|m| {
        matches!(&m.pattern, MatchPattern::Dictionary(d) if format!("{:?}", d.dictionary_name) == "UserInputs")
    });
    if uses_own_details {
        return Err("must not contain your name or email address".into());
    }
    if dictionary_of_whole.as_deref() == Some("Passwords") {
        return Err("is on a list of common or leaked passwords; choose another".into());
    }
    let why = estimate
        .feedback()
        .and_then(|f| f.warning())
        .map(|w| w.to_string())
        .unwrap_or_else(|| "It is made of words and patterns that are tried first.".into());
    Err(format!(
        "is too easy to guess. {why} A few unrelated words make a strong password"
    ))
}

/// Lower case, letters and digits only.
fn fold(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The parts of a name and an email address worth looking for: each word of the name, the
/// email's local part whole and in pieces, and the domain's first label.
fn personal_parts(name: &str, email: &str) -> Vec<String> {
    let email = email.trim().to_lowercase();
    let (local, domain) = email.split_once('@').unwrap_or((email.as_str(), ""));
    let mut parts: Vec<String> = name
        .split(|c: char| !c.is_alphanumeric())
        .chain(local.split(|c: char| !c.is_alphanumeric()))
        .chain(std::iter::once(local))
        .chain(domain.split('.').next())
        .map(fold)
        .filter(|p| p.chars().count() >= MIN_PART_CHARS)
        .collect();
    parts.sort();
    parts.dedup();
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAME: &str = "Priya Sharma";
    const EMAIL: &str = "p.sharma@bscp.example";

    #[test]
    fn long_unrelated_words_pass() {
        assert_eq!(check("correct horse battery staple", NAME, EMAIL), Ok(()));
        assert_eq!(check("plinth-otter-saucepan-42", NAME, EMAIL), Ok(()));
    }

    #[test]
    fn short_passwords_say_how_long() {
        assert_eq!(
            check("Xq7#pL2!", NAME, EMAIL).unwrap_err(),
            "must be at least 12 characters"
        );
        assert!(check(&"a".repeat(1025), NAME, EMAIL)
            .unwrap_err()
            .contains("at most 1024"));
    }

    #[test]
    fn common_and_leaked_passwords_are_refused() {
        for common in [
            "password1234",
            "qwertyuiop123",
            "iloveyou1234",
            "123456789012",
        ] {
            let err = check(common, NAME, EMAIL).unwrap_err();
            assert!(
                err.contains("common") || err.contains("easy to guess"),
                "{common}: {err}"
            );
        }
        assert!(check("passwordpassword", NAME, EMAIL).is_err());
    }

    #[test]
    fn the_persons_own_name_and_email_are_refused() {
        for own in [
            "PriyaSharma2026!",
            "sharma-birmingham",
            "bscp-bscp-bscp-1",
            "p.sharma@bscp",
        ] {
            assert_eq!(
                check(own, NAME, EMAIL).unwrap_err(),
                "must not contain your name or email address",
                "{own}"
            );
        }
    }
}
