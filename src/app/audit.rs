//! The audit trail: append-only, each entry carrying the hash of the one before, so a changed
//! or removed entry breaks the chain (`lcspr-tracker audit verify` finds the first break).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{stored, Actor};
use crate::db::group_commit::ReadAudit;
use crate::db::models::AuditRow;
use crate::db::schema::audit_log;
use crate::db::DbConnection;

/// Genesis value of the chain.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What was done, by whom, to what, with what result.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    pub actor: Option<&'a Actor>,
    pub action: &'a str,
    /// `ok`, `refused` (permission or validation) or `failed`.
    pub outcome: &'a str,
    pub case_id: Option<&'a str>,
    pub subject: Option<String>,
    /// Before and after, or the reason for a refusal. Never the child's identity in clear.
    pub detail: Value,
}

impl<'a> Entry<'a> {
    pub fn ok(actor: Option<&'a Actor>, action: &'a str) -> Self {
        Entry {
            actor,
            action,
            outcome: "ok",
            case_id: None,
            subject: None,
            detail: Value::Null,
        }
    }
    pub fn refused(actor: Option<&'a Actor>, action: &'a str, reason: &str) -> Self {
        Entry {
            outcome: "refused",
            detail: serde_json::json!({ "reason": reason }),
            ..Entry::ok(actor, action)
        }
    }
    pub fn case(mut self, case_id: &'a str) -> Self {
        self.case_id = Some(case_id);
        self
    }
    pub fn subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }
    pub fn detail(mut self, detail: Value) -> Self {
        self.detail = detail;
        self
    }
}

fn link_hash(row: &AuditRow) -> String {
    let mut h = Sha256::new();
    for part in [
        row.prev_hash.as_str(),
        &row.seq.to_string(),
        &row.at.format("%Y-%m-%dT%H:%M:%S%.6f").to_string(),
        row.actor_id.as_deref().unwrap_or(""),
        row.actor_role.as_deref().unwrap_or(""),
        &row.action,
        &row.outcome,
        row.case_id.as_deref().unwrap_or(""),
        row.subject.as_deref().unwrap_or(""),
        &row.detail,
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Appends one entry. Call inside the transaction of the change it records; entries are
/// serialised (PostgreSQL: an advisory lock; SQLite: the write lock) so the chain stays linear.
pub fn append(conn: &mut DbConnection, now: NaiveDateTime, entry: Entry<'_>) -> QueryResult<i64> {
    // Reading the head and writing the next link must be one write transaction, or two writers
    // (two processes on one SQLite file, two instances) would fork the chain.
    if !crate::db::in_transaction(conn) {
        return crate::db::write_tx(conn, |c| append_link(c, now, entry));
    }
    append_link(conn, now, entry)
}

fn append_link(conn: &mut DbConnection, now: NaiveDateTime, entry: Entry<'_>) -> QueryResult<i64> {
    let head = head(conn)?;
    insert_link(conn, head, now, entry)
}

/// The advisory lock that serialises appends to the chain on PostgreSQL (held until the
/// transaction ends).
const CHAIN_LOCK: i64 = 7272001;

/// The chain's last link (its lock taken on PostgreSQL).
fn head(conn: &mut DbConnection) -> QueryResult<(i64, String)> {
    if let DbConnection::Pg(pg) = conn {
        diesel::sql_query(format!("SELECT pg_advisory_xact_lock({CHAIN_LOCK})")).execute(pg)?;
    }
    let head: Option<(i64, String)> = audit_log::table
        .select((audit_log::seq, audit_log::hash))
        .order(audit_log::seq.desc())
        .first(conn)
        .optional()?;
    Ok(head.unwrap_or((0, GENESIS.to_string())))
}

/// Appends the audit entries of reads sent to the group-commit writer, in the order they
/// came, a batch at a time, each batch committed when [`ReadAppender::append`] returns. It
/// remembers the last link it wrote: on PostgreSQL, while that is still the chain's head, a
/// batch goes in one statement, one round trip ([`AppendIfHead`]), instead of five (begin,
/// lock, head, insert, commit).
#[derive(Debug, Default)]
pub struct ReadAppender {
    /// The last link this writer appended (seq, hash); perhaps no longer the head.
    last: Option<(i64, String)>,
}

impl ReadAppender {
    pub fn append(&mut self, conn: &mut DbConnection, reads: Vec<ReadAudit>) -> QueryResult<()> {
        if let (Some(last), DbConnection::Pg(pg)) = (self.last.take(), &mut *conn) {
            let rows = read_links(last.clone(), &reads);
            let appended = AppendIfHead {
                rows: &rows,
                head_hash: &last.1,
            }
            .execute(pg);
            match appended {
                Ok(n) if n == rows.len() => {
                    self.last = rows.last().map(|r| (r.seq, r.hash.clone()));
                    return Ok(());
                }
                // The chain moved on (an entry of a write, another instance's): read the head
                // under the lock, as every other append does.
                Ok(_)
                | Err(diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::UniqueViolation,
                    _,
                )) => {}
                Err(e) => return Err(e),
            }
        }
        let rows = crate::db::write_tx(conn, |c| {
            let rows = read_links(head(c)?, &reads);
            for row in &rows {
                diesel::insert_into(audit_log::table)
                    .values(row)
                    .execute(c)?;
            }
            QueryResult::Ok(rows)
        })?;
        self.last = rows.last().map(|r| (r.seq, r.hash.clone()));
        Ok(())
    }
}

/// The links of `reads`, chained after `prev`.
fn read_links(mut prev: (i64, String), reads: &[ReadAudit]) -> Vec<AuditRow> {
    reads
        .iter()
        .map(|r| {
            let role: Option<crate::domain::roles::Role> = r.actor_role.parse().ok();
            let actor = role.map(|role| Actor {
                user_id: r.actor_id.clone(),
                role,
                name: String::new(),
            });
            let entry = Entry {
                actor: actor.as_ref(),
                action: r.action,
                outcome: "ok",
                case_id: Some(&r.case_id),
                subject: None,
                detail: r.detail.clone(),
            };
            let row = link(prev.clone(), r.at, entry);
            prev = (row.seq, row.hash.clone());
            row
        })
        .collect()
}

/// `WITH chain_lock AS (SELECT pg_advisory_xact_lock(..)) INSERT INTO audit_log .. SELECT *
/// FROM (VALUES ..) WHERE` the lock is taken `AND` the chain's head is still `head_hash`: the
/// rows were linked after that head already. Run on its own (autocommit), it holds the lock
/// until its commit, so no other append reads the head meanwhile. Sound whatever order
/// PostgreSQL evaluates the two conditions in: when the head it reads from its snapshot is
/// stale (another append committed while it waited for the lock), the first row's `seq` is
/// taken and the primary key refuses the insert (a unique violation), and the caller appends
/// the slow way. The text depends only on the number of rows, so diesel keeps the statement
/// prepared for each batch size seen.
struct AppendIfHead<'a> {
    rows: &'a [AuditRow],
    head_hash: &'a str,
}

impl QueryFragment<diesel::pg::Pg> for AppendIfHead<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, diesel::pg::Pg>) -> QueryResult<()> {
        use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};
        out.push_sql("WITH chain_lock AS (SELECT pg_advisory_xact_lock(");
        out.push_bind_param::<BigInt, _>(&CHAIN_LOCK)?;
        out.push_sql(
            ")) INSERT INTO audit_log (seq, at, actor_id, actor_role, action, outcome, case_id, \
             subject, detail, prev_hash, hash) SELECT * FROM (VALUES ",
        );
        for (i, r) in self.rows.iter().enumerate() {
            out.push_sql(if i == 0 { "(" } else { ", (" });
            out.push_bind_param::<BigInt, _>(&r.seq)?;
            out.push_sql(", ");
            out.push_bind_param::<Timestamp, _>(&r.at)?;
            for text in [&r.actor_id, &r.actor_role] {
                out.push_sql(", ");
                out.push_bind_param::<Nullable<Text>, _>(text)?;
            }
            for text in [&r.action, &r.outcome] {
                out.push_sql(", ");
                out.push_bind_param::<Text, _>(text)?;
            }
            for text in [&r.case_id, &r.subject] {
                out.push_sql(", ");
                out.push_bind_param::<Nullable<Text>, _>(text)?;
            }
            for text in [&r.detail, &r.prev_hash, &r.hash] {
                out.push_sql(", ");
                out.push_bind_param::<Text, _>(text)?;
            }
            out.push_sql(")");
        }
        out.push_sql(
            ") AS v WHERE EXISTS (SELECT 1 FROM chain_lock) \
             AND (SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1) = ",
        );
        out.push_bind_param::<Text, _>(self.head_hash)?;
        Ok(())
    }
}

impl QueryId for AppendIfHead<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Conn> RunQueryDsl<Conn> for AppendIfHead<'_> {}

fn insert_link(
    conn: &mut DbConnection,
    head: (i64, String),
    now: NaiveDateTime,
    entry: Entry<'_>,
) -> QueryResult<i64> {
    let row = link(head, now, entry);
    diesel::insert_into(audit_log::table)
        .values(&row)
        .execute(conn)?;
    Ok(row.seq)
}

/// The link of `entry` after `(prev_seq, prev_hash)`, its hash computed.
fn link((prev_seq, prev_hash): (i64, String), now: NaiveDateTime, entry: Entry<'_>) -> AuditRow {
    let mut row = AuditRow {
        seq: prev_seq + 1,
        at: stored(now),
        actor_id: entry.actor.map(|a| a.user_id.clone()),
        actor_role: entry.actor.map(|a| a.role.as_str().to_string()),
        action: entry.action.to_string(),
        outcome: entry.outcome.to_string(),
        case_id: entry.case_id.map(str::to_string),
        subject: entry.subject,
        detail: entry.detail.to_string(),
        prev_hash,
        hash: String::new(),
    };
    row.hash = link_hash(&row);
    row
}

/// The result of checking the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    Intact { entries: i64 },
    Broken { seq: i64, reason: String },
}

/// Walks the whole chain in order, recomputing every link.
pub fn verify(conn: &mut DbConnection) -> QueryResult<Verification> {
    let mut expected_prev = GENESIS.to_string();
    let mut expected_seq = 1_i64;
    loop {
        let batch: Vec<AuditRow> = audit_log::table
            .filter(audit_log::seq.ge(expected_seq))
            .order(audit_log::seq.asc())
            .limit(1000)
            .select(AuditRow::as_select())
            .load(conn)?;
        if batch.is_empty() {
            return Ok(Verification::Intact {
                entries: expected_seq - 1,
            });
        }
        for row in batch {
            if row.seq != expected_seq {
                return Ok(Verification::Broken {
                    seq: expected_seq,
                    reason: format!("entry {expected_seq} is missing"),
                });
            }
            if row.prev_hash != expected_prev {
                return Ok(Verification::Broken {
                    seq: row.seq,
                    reason: "its link to the previous entry does not match".into(),
                });
            }
            if link_hash(&row) != row.hash {
                return Ok(Verification::Broken {
                    seq: row.seq,
                    reason: "its content was changed after it was written".into(),
                });
            }
            expected_prev = row.hash;
            expected_seq += 1;
        }
    }
}

/// Entries about one case, oldest first.
pub fn for_case(conn: &mut DbConnection, case_id: &str) -> QueryResult<Vec<AuditRow>> {
    audit_log::table
        .filter(audit_log::case_id.eq(case_id))
        .order(audit_log::seq.asc())
        .select(AuditRow::as_select())
        .load(conn)
}
