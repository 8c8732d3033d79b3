//! Who may see which case. The rule itself is `Role::case_scope` (domain); here it is read for
//! one case from the case's people ([`CasePeople`], [`Access`]) and, for the list, the dashboard
//! and anything else that selects many cases, as one SQL filter ([`visible_cases`]). A refused
//! attempt is audited ([`refuse`]).

use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{Bool, Text};

use super::audit::{self, Entry};
use super::Actor;
use crate::db::fixed::always;
use crate::db::models::CaseRow;
use crate::db::schema::{case_people, cases, settings};
use crate::db::{write_tx, DbBackend, DbConnection};
use crate::domain::roles::{CaseScope, Relation, Role};
use crate::error::AppError;
use crate::rev_cache::CaseRev;
use crate::state::AppState;

/// What one user is to a case.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Access {
    /// Appointed as its lead reviewer.
    pub appointed: bool,
    /// Declared a conflict of interest on it.
    pub conflicted: bool,
}

impl Access {
    /// Whether a user of this role with this access sees the case.
    pub fn sees(self, role: Role) -> bool {
        role.may_see_case(self.appointed, self.conflicted)
    }
}

/// The people related to one case (`case_people`): its lead reviewers and those who declared a
/// conflict of interest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CasePeople {
    links: Vec<(String, Relation)>,
}

impl CasePeople {
    pub fn load(conn: &mut DbConnection, case_id: &str) -> Result<CasePeople, AppError> {
        let rows: Vec<(String, String)> = case_people::table
            .filter(case_people::case_id.eq(case_id))
            .order((case_people::since.asc(), case_people::user_id.asc()))
            .select((case_people::user_id, case_people::relation))
            .load(conn)?;
        CasePeople::from_rows(rows.into_iter())
    }

    /// From `(user id, relation)` rows as stored.
    fn from_rows(rows: impl Iterator<Item = (String, String)>) -> Result<CasePeople, AppError> {
        let links = rows
            .map(|(user, relation)| {
                let relation = relation
                    .parse()
                    .map_err(|e: String| AppError::internal(anyhow::anyhow!(e)))?;
                Ok((user, relation))
            })
            .collect::<Result<_, AppError>>()?;
        Ok(CasePeople { links })
    }

    /// From rows already read (user id, relation).
    pub fn from_links(links: Vec<(String, Relation)>) -> CasePeople {
        CasePeople { links }
    }

    pub fn has(&self, user_id: &str, relation: Relation) -> bool {
        self.links
            .iter()
            .any(|(u, r)| u == user_id && *r == relation)
    }

    pub fn add(&mut self, user_id: &str, relation: Relation) {
        if !self.has(user_id, relation) {
            self.links.push((user_id.to_string(), relation));
        }
    }

    pub fn remove(&mut self, user_id: &str, relation: Relation) {
        self.links
            .retain(|(u, r)| !(u == user_id && *r == relation));
    }

    /// What `user_id` is to the case.
    pub fn access(&self, user_id: &str) -> Access {
        Access {
            appointed: self.has(user_id, Relation::LeadReviewer),
            conflicted: self.has(user_id, Relation::Conflict),
        }
    }

    /// The appointed lead reviewers, in the order they were appointed.
    pub fn reviewers(&self) -> impl Iterator<Item = &str> {
        self.links
            .iter()
            .filter(|(_, r)| *r == Relation::LeadReviewer)
            .map(|(u, _)| u.as_str())
    }
}

/// The condition "the actor may see this case" on any query that has `cases` in it: the
/// actor's [`CaseScope`] as SQL (one fragment, so it serves a query on `cases` and one joined
/// to it alike).
pub fn visible_cases<'a, QS: 'a>(
    actor: &Actor,
) -> Box<dyn BoxableExpression<QS, DbBackend, SqlType = Bool> + 'a> {
    match actor.role.case_scope() {
        CaseScope::Every => Box::new(always(true)),
        CaseScope::NotConflicted => Box::new(Related {
            user_id: actor.user_id.clone(),
            relation: Relation::Conflict,
            negate: true,
        }),
        CaseScope::Appointed => Box::new(Related {
            user_id: actor.user_id.clone(),
            relation: Relation::LeadReviewer,
            negate: false,
        }),
        CaseScope::NoCases => Box::new(always(false)),
    }
}

/// `cases.id [NOT] IN (SELECT case_id FROM case_people WHERE user_id = ? AND relation = ?)`,
/// on any query that has `cases` in it. Its text is fixed (unlike a `diesel::dsl::sql`
/// literal), so the statements it appears in are prepared once and kept (see `db::fixed`).
#[derive(Debug, Clone)]
struct Related {
    user_id: String,
    relation: Relation,
    negate: bool,
}

impl Expression for Related {
    type SqlType = Bool;
}

impl QueryFragment<DbBackend> for Related {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DbBackend>) -> QueryResult<()> {
        out.push_sql(if self.negate {
            "cases.id NOT IN (SELECT case_id FROM case_people WHERE user_id = "
        } else {
            "cases.id IN (SELECT case_id FROM case_people WHERE user_id = "
        });
        out.push_bind_param::<Text, _>(&self.user_id)?;
        out.push_sql(" AND relation = ");
        out.push_bind_param::<Text, _>(self.relation.as_str())?;
        out.push_sql(")");
        Ok(())
    }
}

impl QueryId for Related {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<QS> AppearsOnTable<QS> for Related {}
impl<QS> SelectableExpression<QS> for Related {}
impl<GB> ValidGrouping<GB> for Related {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}

/// Whether the child's identity is shown to this actor in lists of cases (search, exports): a
/// lead reviewer sees only the cases they are appointed to, and identity on each of them.
pub fn identity_in_lists(actor: &Actor) -> bool {
    actor.role.may_see_identity(true)
}

/// A case as one user may see it, read in one statement ([`visible_case_read`]).
#[derive(Debug, Clone)]
pub struct VisibleCase {
    pub case: CaseRow,
    /// Its people, which say what the actor is to it.
    pub people: CasePeople,
    /// The calendar's revision (the `calendar_rev` setting) read with it, for
    /// `CalendarStore::at_rev`: the deadlines' explanations need no statement of their own.
    pub calendar_rev: Option<String>,
    /// The revisions of what the case's view reads beyond its row (`cases.rev`, the
    /// `users_rev` setting): the key to what is kept of it in memory (`AppState::case_cache`).
    pub rev: CaseRev,
}

/// The case, if this actor may see it; `NotFound` otherwise (never 403: that would confirm
/// the case exists). With the case's people, which say what the actor is to it.
pub fn visible_case(
    conn: &mut DbConnection,
    actor: &Actor,
    case_id: &str,
) -> Result<(CaseRow, CasePeople), AppError> {
    visible_case_read(conn, actor, case_id).map(|v| (v.case, v.people))
}

/// One row of [`visible_case_read`]: the case, one person's id and relation (none when the
/// case has none), the calendar's revision.
type CaseAndPerson = (
    CaseRow,
    Option<String>,
    Option<String>,
    Option<String>,
    i64,
    Option<String>,
);

/// As [`visible_case`], with the calendar's revision: the case row, one row per person
/// (`LEFT JOIN case_people`, in the order they were related) and the revision as a sub-select,
/// in one statement that is kept prepared.
pub fn visible_case_read(
    conn: &mut DbConnection,
    actor: &Actor,
    case_id: &str,
) -> Result<VisibleCase, AppError> {
    let setting = |key: &'static str| {
        settings::table
            .filter(settings::key.eq(key))
            .select(settings::value)
            .single_value()
    };
    let rows: Vec<CaseAndPerson> = cases::table
        .left_join(case_people::table)
        .filter(cases::id.eq(case_id))
        .order((case_people::since.asc(), case_people::user_id.asc()))
        .select((
            CaseRow::as_select(),
            case_people::user_id.nullable(),
            case_people::relation.nullable(),
            setting(crate::calendars::REV_KEY),
            cases::rev,
            setting(crate::rev_cache::USERS_REV_KEY),
        ))
        .load(conn)?;
    let mut rows = rows.into_iter().peekable();
    let Some((case, _, _, calendar_rev, case_rev, users_rev)) = rows.peek().cloned() else {
        return Err(AppError::NotFound);
    };
    let people =
        CasePeople::from_rows(rows.filter_map(|(_, user, relation, ..)| user.zip(relation)))?;
    if !people.access(&actor.user_id).sees(actor.role) {
        return Err(AppError::NotFound);
    }
    Ok(VisibleCase {
        case,
        people,
        calendar_rev,
        rev: CaseRev {
            case: case_rev,
            users: users_rev,
        },
    })
}

/// As [`visible_case`], and a refused attempt is audited under `action`.
pub fn visible_or_refuse(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    case_id: &str,
    action: &str,
) -> Result<(CaseRow, CasePeople), AppError> {
    read_or_refuse(conn, st, actor, case_id, action).map(|v| (v.case, v.people))
}

/// As [`visible_case_read`], and a refused attempt is audited under `action`.
pub fn read_or_refuse(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    case_id: &str,
    action: &str,
) -> Result<VisibleCase, AppError> {
    visible_case_read(conn, actor, case_id).or_else(|e| {
        refuse(
            conn,
            st,
            actor,
            None,
            action,
            "case not found or not visible",
        )?;
        Err(e)
    })
}

/// Writes the audit entry of a refused attempt in its own transaction (the attempt itself
/// changed nothing).
pub fn refuse(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    case_id: Option<&str>,
    action: &str,
    reason: &str,
) -> Result<(), AppError> {
    write_tx(conn, |c| {
        let mut e = Entry::refused(Some(actor), action, reason);
        if let Some(id) = case_id {
            e = e.case(id);
        }
        audit::append(c, st.now(), e)?;
        Ok(())
    })
}
