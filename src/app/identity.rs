//! The child's name and date of birth, encrypted at rest: sealed into the case row
//! (`child_name_sealed`, `child_dob_sealed`, each its own envelope bound to the case id), with
//! the blind index of the name's words (`child_name_index`) and the master key id
//! (`identity_key_id`). Read back only through [`open`]. Search by name uses the blind index:
//! [`child_name_matches`] is the SQL condition "the child's name has these words", for the roles
//! that may see the child's identity.

use chrono::NaiveDate;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::Bool;

use crate::app::Actor;
use crate::crypto::envelope::{self, context};
use crate::crypto::{CryptoError, Keyring};
use crate::db::models::CaseRow;
use crate::db::schema::cases;
use crate::db::{write_tx, DbBackend, DbConnection};
use crate::error::AppError;

const NAME: &str = "cases.child_name";
const DOB: &str = "cases.child_dob";

/// The child's identity as entered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    pub name: Option<String>,
    pub dob: Option<NaiveDate>,
}

/// Seals `identity` into the case row (which must have its id), clearing any plaintext.
pub fn seal(keys: &Keyring, case: &mut CaseRow, identity: &Identity) {
    case.child_name_sealed = identity
        .name
        .as_deref()
        .map(|n| envelope::seal(keys, &context(NAME, &case.id), n));
    case.child_dob_sealed = identity
        .dob
        .map(|d| envelope::seal(keys, &context(DOB, &case.id), &d.to_string()));
    case.child_name_index = identity
        .name
        .as_deref()
        .map(|n| envelope::name_index(keys, n));
    case.identity_key_id = Some(keys.current().id());
    case.child_name = None;
    case.child_dob = None;
}

fn damaged(case: &CaseRow, e: CryptoError) -> AppError {
    AppError::internal(anyhow::anyhow!(
        "the identity fields of case {} cannot be opened: {e}",
        case.id
    ))
}

/// The child's identity from the case row (plaintext only in a row not yet sealed).
pub fn open(keys: &Keyring, case: &CaseRow) -> Result<Identity, AppError> {
    let name = match &case.child_name_sealed {
        Some(s) => {
            Some(envelope::open(keys, &context(NAME, &case.id), s).map_err(|e| damaged(case, e))?)
        }
        None => case.child_name.clone(),
    };
    let dob = match &case.child_dob_sealed {
        Some(s) => Some(
            envelope::open(keys, &context(DOB, &case.id), s)
                .map_err(|e| damaged(case, e))?
                .parse()
                .map_err(|e| damaged(case, CryptoError::Key(format!("date of birth: {e}"))))?,
        ),
        None => case.child_dob,
    };
    Ok(Identity { name, dob })
}

/// Whether a name or date of birth was recorded (without opening them).
pub fn recorded(case: &CaseRow) -> bool {
    case.child_name_sealed.is_some()
        || case.child_dob_sealed.is_some()
        || case.child_name.is_some()
        || case.child_dob.is_some()
}

/// Seals the rows written before encryption at rest (plaintext in `child_name`/`child_dob`).
/// Run at start-up and by `keys rotate`; returns how many rows it sealed.
pub fn seal_plaintext_rows(conn: &mut DbConnection, keys: &Keyring) -> Result<usize, AppError> {
    let mut sealed = 0;
    loop {
        let n = write_tx(conn, |c| -> Result<usize, AppError> {
            let rows: Vec<CaseRow> = cases::table
                .filter(
                    cases::child_name
                        .is_not_null()
                        .or(cases::child_dob.is_not_null()),
                )
                .order(cases::id)
                .limit(200)
                .select(CaseRow::as_select())
                .load(c)?;
            for mut row in rows.iter().cloned() {
                let identity = open(keys, &row)?;
                seal(keys, &mut row, &identity);
                update_identity(c, &row)?;
            }
            Ok(rows.len())
        })?;
        if n == 0 {
            return Ok(sealed);
        }
        sealed += n;
    }
}

/// Writes the identity columns of `row`.
pub fn update_identity(conn: &mut DbConnection, row: &CaseRow) -> QueryResult<usize> {
    diesel::update(cases::table.find(&row.id))
        .set((
            cases::child_name.eq(&row.child_name),
            cases::child_dob.eq(row.child_dob),
            cases::child_name_sealed.eq(&row.child_name_sealed),
            cases::child_dob_sealed.eq(&row.child_dob_sealed),
            cases::child_name_index.eq(&row.child_name_index),
            cases::identity_key_id.eq(&row.identity_key_id),
        ))
        .execute(conn)
}

/// The condition "the child's name has every word of `query`" as SQL on `cases`, through the
/// blind index (whole words, any case and order: "jones" finds "Amelia Jones", "jon" does not),
/// or `None` when the query has no word. Words are tagged under every loaded master key, so it
/// also holds during a key rotation. The tags are hexadecimal digits the service computed, so
/// they are written into the SQL.
pub fn name_words_sql(keys: &Keyring, query: &str) -> Option<String> {
    let words = envelope::words(query);
    if words.is_empty() {
        return None;
    }
    let condition = words
        .iter()
        .map(|w| {
            let any_key: Vec<String> = keys
                .all()
                .map(|key| {
                    format!(
                        "cases.child_name_index LIKE '% {} %'",
                        envelope::word_tag(key, w)
                    )
                })
                .collect();
            format!("({})", any_key.join(" OR "))
        })
        .collect::<Vec<_>>()
        .join(" AND ");
    Some(format!("({condition})"))
}

/// "Cases whose child's name matches": [`name_words_sql`] as a condition for any query with
/// `cases` in it. Only the roles that may see the child's identity may search by it (403
/// otherwise; a lead reviewer's visible cases are those they are appointed to, so combine this
/// with `access::visible_cases`). A query with no words is refused (422). The case list's
/// search (`app::search`) uses the same index.
pub fn child_name_matches<'a, QS: 'a>(
    actor: &Actor,
    keys: &Keyring,
    query: &str,
) -> Result<Box<dyn BoxableExpression<QS, DbBackend, SqlType = Bool> + 'a>, AppError> {
    if !actor.role.may_see_identity(true) {
        return Err(AppError::Forbidden(
            "only the roles that see the child's identity may search by the child's name".into(),
        ));
    }
    let condition = name_words_sql(keys, query)
        .ok_or_else(|| AppError::invalid("q", "must contain a letter or a digit"))?;
    Ok(Box::new(sql::<Bool>(&condition)))
}

/// The ids of the cases this actor sees whose child's name has every word of `query`.
pub fn cases_matching_child_name(
    conn: &mut DbConnection,
    actor: &Actor,
    keys: &Keyring,
    query: &str,
) -> Result<Vec<String>, AppError> {
    let matches = child_name_matches(actor, keys, query)?;
    Ok(cases::table
        .filter(crate::app::access::visible_cases(actor))
        .filter(matches)
        .order(cases::id)
        .select(cases::id)
        .load(conn)?)
}
