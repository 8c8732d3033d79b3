//! Finding cases by what people type: the reference (whole or part), the pseudonym and, only for
//! the roles that may see identity, the child's name (whole words, through the blind index of
//! the encrypted name: `identity::name_words_sql`). One SQL condition on `cases`, added to the
//! list's query beside `access::visible_cases`, so a search never widens what a user sees.
//!
//! Case-insensitive the same way on both backends: the letters A–Z match either case and every
//! other character matches as typed (SQLite's `lower()` folds only ASCII; on PostgreSQL the
//! column is folded under the "C" collation, which does the same).

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};

use super::identity;
use super::Actor;
use crate::crypto::Keyring;
use crate::db::DbBackend;
use crate::error::AppError;

/// The longest search text taken.
pub const MAX_QUERY: usize = 100;

/// What was typed, checked and folded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Needle {
    /// As typed (trimmed), for the page and the audit.
    pub text: String,
    /// `%…%` with `\`, `%` and `_` escaped, ASCII letters lower-cased.
    pattern: String,
}

impl Needle {
    /// `None` for an empty search; an error naming `q` for one too long or with control
    /// characters.
    pub fn parse(q: Option<&str>) -> Result<Option<Needle>, AppError> {
        let Some(text) = q.map(str::trim).filter(|s| !s.is_empty()) else {
            return Ok(None);
        };
        if text.chars().count() > MAX_QUERY {
            return Err(AppError::invalid(
                "q",
                format!("search for at most {MAX_QUERY} characters"),
            ));
        }
        if text.chars().any(char::is_control) {
            return Err(AppError::invalid("q", "remove the control characters"));
        }
        let mut pattern = String::from("%");
        for c in text.to_ascii_lowercase().chars() {
            if matches!(c, '\\' | '%' | '_') {
                pattern.push('\\');
            }
            pattern.push(c);
        }
        pattern.push('%');
        Ok(Some(Needle {
            text: text.to_string(),
            pattern,
        }))
    }
}

/// `column`, folded as the needle is.
fn folded(column: &str, postgres: bool) -> String {
    if postgres {
        format!("lower({column} COLLATE \"C\")")
    } else {
        format!("lower({column})")
    }
}

/// The condition "this case matches the search" for this actor, on any query with `cases` in it.
pub fn matches<'a, QS: 'a>(
    actor: &Actor,
    needle: &Needle,
    postgres: bool,
    keys: &Keyring,
) -> Box<dyn BoxableExpression<QS, DbBackend, SqlType = Bool> + 'a> {
    let like = |column: &str| {
        sql::<Bool>(&format!("{} LIKE ", folded(column, postgres)))
            .bind::<Text, _>(needle.pattern.clone())
            .sql(" ESCAPE '\\'")
    };
    let by_reference = like("cases.reference").or(like("cases.child_pseudonym"));
    match identity::name_words_sql(keys, &needle.text).filter(|_| searches_identity(actor)) {
        Some(name) => Box::new(by_reference.or(sql::<Bool>(&name))),
        None => Box::new(by_reference),
    }
}

/// Whether this actor's search looks at the child's name.
pub fn searches_identity(actor: &Actor) -> bool {
    super::access::identity_in_lists(actor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_wildcards_and_folds_ascii_only() {
        let n = Needle::parse(Some("  Child_Q 100% É ")).unwrap().unwrap();
        assert_eq!(n.text, "Child_Q 100% É");
        assert_eq!(n.pattern, "%child\\_q 100\\% É%");
    }

    #[test]
    fn empty_is_none_and_bad_input_names_q() {
        assert_eq!(Needle::parse(Some("   ")).unwrap(), None);
        assert_eq!(Needle::parse(None).unwrap(), None);
        let long = "x".repeat(MAX_QUERY + 1);
        for bad in [long.as_str(), "a\u{7}b"] {
            let e = Needle::parse(Some(bad)).unwrap_err();
            assert!(format!("{e:?}").contains("\"q\""), "{e:?}");
        }
    }
}
