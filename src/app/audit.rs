//! The audit trail: append-only, each entry carrying the hash of the one before, so a changed
//! or removed entry breaks the chain (`lcspr-tracker audit verify` finds the first break).

use chrono::NaiveDateTime;
use diesel::prelude::*;
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

/// The chain's last link (its lock taken on PostgreSQL).
fn head(conn: &mut DbConnection) -> QueryResult<(i64, String)> {
    if let DbConnection::Pg(pg) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock(7272001)").execute(pg)?;
    }
    let head: Option<(i64, String)> = audit_log::table
        .select((audit_log::seq, audit_log::hash))
        .order(audit_log::seq.desc())
        .first(conn)
        .optional()?;
    Ok(head.unwrap_or((0, GENESIS.to_string())))
}

/// Appends the audit entries of reads sent to the group-commit writer, in the order they
/// came: one lock and one read of the chain's head for the whole batch. Called by the writer
/// inside its transaction.
pub fn append_reads(conn: &mut DbConnection, reads: Vec<ReadAudit>) -> QueryResult<()> {
    let mut prev = head(conn)?;
    for r in reads {
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
            detail: r.detail,
        };
        let (seq, hash) = insert_link_hash(conn, prev, r.at, entry)?;
        prev = (seq, hash);
    }
    Ok(())
}

fn insert_link(
    conn: &mut DbConnection,
    head: (i64, String),
    now: NaiveDateTime,
    entry: Entry<'_>,
) -> QueryResult<i64> {
    insert_link_hash(conn, head, now, entry).map(|(seq, _)| seq)
}

fn insert_link_hash(
    conn: &mut DbConnection,
    (prev_seq, prev_hash): (i64, String),
    now: NaiveDateTime,
    entry: Entry<'_>,
) -> QueryResult<(i64, String)> {
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
    diesel::insert_into(audit_log::table)
        .values(&row)
        .execute(conn)?;
    Ok((row.seq, row.hash))
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
