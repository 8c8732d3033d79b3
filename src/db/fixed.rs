//! SQL text fixed at compile time, which diesel may keep as a prepared statement.
//!
//! `diesel::dsl::sql` marks every statement it appears in as not cacheable (its text could be
//! anything), so PostgreSQL parsed and planned such statements on every request, and SQLite
//! compiled them again. A [`Fixed`] fragment is one `&'static str`: the statement's text is the
//! same on every run, so the statement cache keys it by that text like any other.
//!
//! [`text`] writes a constant as a literal instead of a bound value, where the planner must see
//! the value: `deadlines_pending_due` is a partial index (`WHERE status = 'pending'`), which a
//! query can use only when its own condition says `'pending'` in its text. SQLite is built with
//! `SQLITE_ENABLE_QPSG` (`.cargo/config.toml`), so it never looks at bound values when planning
//! (looking made it prepare a statement again each time one was bound), and PostgreSQL's
//! generic plan of a kept statement does not know them either.

use std::marker::PhantomData;

use diesel::backend::Backend;
use diesel::expression::{is_aggregate, AppearsOnTable, Expression, SelectableExpression};
use diesel::expression::{TypedExpressionType, ValidGrouping};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{Bool, Integer, Text};
use diesel::QueryResult;

/// An expression whose SQL is a constant string (no binds, no user input).
#[derive(Debug, Clone, Copy)]
pub struct Fixed<ST> {
    sql: &'static str,
    /// Written between single quotes (a text literal).
    quoted: bool,
    _type: PhantomData<fn() -> ST>,
}

/// `1 = 1` (true) or `1 = 0` (false), as a condition.
pub fn always(yes: bool) -> Fixed<Bool> {
    Fixed {
        sql: if yes { "1 = 1" } else { "1 = 0" },
        quoted: false,
        _type: PhantomData,
    }
}

/// The constant `1`, to select when only the number of rows matters (an index-only scan on
/// PostgreSQL, where a column would send it to the table).
pub fn one() -> Fixed<Integer> {
    Fixed {
        sql: "1",
        quoted: false,
        _type: PhantomData,
    }
}

/// A text constant of the code (an enum's stored name, such as a deadline's status) written
/// into the statement as a literal. Refuses, at the first use, a value that would need
/// escaping: these are identifiers, never input.
pub fn text(value: &'static str) -> Fixed<Text> {
    assert!(
        value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_'),
        "db::fixed::text takes identifiers only, not {value:?}"
    );
    Fixed {
        sql: value,
        quoted: true,
        _type: PhantomData,
    }
}

impl<ST: TypedExpressionType> Expression for Fixed<ST> {
    type SqlType = ST;
}

impl<ST, DB: Backend> QueryFragment<DB> for Fixed<ST> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        if self.quoted {
            out.push_sql("'");
            out.push_sql(self.sql);
            out.push_sql("'");
        } else {
            out.push_sql(self.sql);
        }
        Ok(())
    }
}

impl<ST> QueryId for Fixed<ST> {
    type QueryId = ();
    // The text varies with the value, so the cache keys the statement by its SQL.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<ST, QS> AppearsOnTable<QS> for Fixed<ST> where Self: Expression {}
impl<ST, QS> SelectableExpression<QS> for Fixed<ST> where Self: Expression {}

impl<ST, GB> ValidGrouping<GB> for Fixed<ST> {
    type IsAggregate = is_aggregate::Never;
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::debug_query;
    use diesel::prelude::*;

    diesel::table! {
        t (id) {
            id -> Text,
            status -> Text,
        }
    }

    #[test]
    fn fixed_text_is_written_into_the_statement_and_it_may_be_kept() {
        let q = t::table
            .filter(t::status.eq(text("pending")))
            .filter(always(true))
            .select(one());
        let sql = debug_query::<diesel::sqlite::Sqlite, _>(&q).to_string();
        assert_eq!(
            sql,
            "SELECT 1 FROM `t` WHERE ((`t`.`status` = 'pending') AND 1 = 1) -- binds: []"
        );
        let cacheable = diesel::query_builder::QueryFragment::<diesel::sqlite::Sqlite>::is_safe_to_cache_prepared(
            &q,
            &diesel::sqlite::Sqlite,
        )
        .unwrap();
        assert!(cacheable);
        let literal = diesel::dsl::sql::<Bool>("1 = 1");
        let with_sql = t::table.filter(literal).select(one());
        assert!(!diesel::query_builder::QueryFragment::<diesel::sqlite::Sqlite>::is_safe_to_cache_prepared(
            &with_sql,
            &diesel::sqlite::Sqlite,
        )
        .unwrap(), "diesel's own literal is not kept: the reason for this module");
    }

    #[test]
    #[should_panic(expected = "identifiers only")]
    fn fixed_text_refuses_anything_that_would_need_escaping() {
        let _ = text("it's");
    }
}
