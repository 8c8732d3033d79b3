//! The outbox: every email is a row written in the transaction that causes it, with a unique
//! `dedupe_key`, and is sent later by the delivery job (`jobs::delivery`). Here: writing rows
//! once, claiming and marking them, and what administrators see and do.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use super::audit::{self, Entry};
use super::{new_id, stored, Actor};
use crate::db::models::OutboxRow;
use crate::db::schema::{cases, outbox};
use crate::db::{write_tx, DbConnection};
use crate::domain::roles::Role;
use crate::error::AppError;
use crate::mail::templates::{self, Template};
use crate::mail::{MailError, Rendered};
use crate::state::AppState;
use crate::text_enum;

text_enum! {
    /// Where a message stands.
    pub enum OutboxStatus {
        /// Waiting to be sent (or to be retried, from `next_attempt_at`).
        Queued = ("queued", "Queued"),
        /// Accepted by the mail server.
        Sent = ("sent", "Sent"),
        /// Refused for good, or out of attempts; an administrator may retry it.
        Failed = ("failed", "Failed"),
        /// No longer true when its turn came (`cancelled_reason` says why); never sent.
        Cancelled = ("cancelled", "Cancelled"),
    }
}

text_enum! {
    /// What a message is.
    pub enum OutboxKind {
        Reminder = ("reminder", "Deadline reminder"),
        Digest = ("digest", "Daily digest"),
        Test = ("test", "Test email"),
        Invitation = ("invitation", "Invitation"),
        PasswordReset = ("password_reset", "Password reset"),
        MfaReset = ("mfa_reset", "Two-step verification reset"),
        MeetingNotice = ("meeting_notice", "Meeting notice"),
    }
}

/// A message to write.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub dedupe_key: String,
    pub kind: OutboxKind,
    pub recipient_id: Option<String>,
    pub to_address: String,
    pub rendered: Rendered,
    pub case_id: Option<String>,
    pub deadline_id: Option<String>,
}

/// Which of `keys` already have a row.
pub fn existing_keys(conn: &mut DbConnection, keys: &[String]) -> QueryResult<HashSet<String>> {
    let mut found = HashSet::new();
    for chunk in keys.chunks(500) {
        found.extend(
            outbox::table
                .filter(outbox::dedupe_key.eq_any(chunk))
                .select(outbox::dedupe_key)
                .load::<String>(conn)?,
        );
    }
    Ok(found)
}

/// Writes the message unless its key is already there; the new row's id, or `None`. Two
/// writers of one key (two instances sweeping at once) leave one row: `ON CONFLICT DO
/// NOTHING` against the unique key on both backends.
pub fn insert_if_absent(
    conn: &mut DbConnection,
    msg: NewMessage,
    now: NaiveDateTime,
) -> Result<Option<String>, AppError> {
    insert_if_absent_from(conn, msg, now, now)
}

/// As [`insert_if_absent`], not to be sent before `send_from` (the grace period of reminders
/// made due by a write).
pub fn insert_if_absent_from(
    conn: &mut DbConnection,
    msg: NewMessage,
    now: NaiveDateTime,
    send_from: NaiveDateTime,
) -> Result<Option<String>, AppError> {
    let id = new_id();
    let row = OutboxRow {
        id: id.clone(),
        dedupe_key: msg.dedupe_key,
        kind: msg.kind.as_str().into(),
        recipient_id: msg.recipient_id,
        to_address: msg.to_address,
        subject: msg.rendered.subject,
        body_text: msg.rendered.text,
        body_html: msg.rendered.html,
        case_id: msg.case_id,
        deadline_id: msg.deadline_id,
        status: OutboxStatus::Queued.as_str().into(),
        attempts: 0,
        next_attempt_at: stored(send_from.max(now)),
        claimed_until: None,
        last_error: None,
        created_at: stored(now),
        sent_at: None,
        cancelled_reason: None,
    };
    let inserted = match conn {
        DbConnection::Pg(c) => diesel::insert_into(outbox::table)
            .values(&row)
            .on_conflict_do_nothing()
            .execute(c)?,
        DbConnection::Sqlite(c) => diesel::insert_into(outbox::table)
            .values(&row)
            .on_conflict_do_nothing()
            .execute(c)?,
    };
    Ok((inserted == 1).then_some(id))
}

/// A row as administrators see it in lists: no bodies.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct OutboxEntry {
    pub id: String,
    #[schemars(with = "OutboxKind")]
    pub kind: String,
    #[schemars(with = "OutboxStatus")]
    pub status: String,
    pub recipient_id: Option<String>,
    pub recipient_name: Option<String>,
    pub to_address: String,
    pub subject: String,
    pub case_id: Option<String>,
    pub case_reference: Option<String>,
    pub deadline_id: Option<String>,
    pub attempts: i32,
    #[serde(serialize_with = "crate::utc::ser")]
    #[schemars(with = "crate::utc::Stamp")]
    pub next_attempt_at: NaiveDateTime,
    pub last_error: Option<String>,
    #[serde(serialize_with = "crate::utc::ser")]
    #[schemars(with = "crate::utc::Stamp")]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "crate::utc::opt")]
    #[schemars(with = "Option<crate::utc::Stamp>")]
    pub sent_at: Option<NaiveDateTime>,
    /// Why a cancelled message was not sent.
    pub cancelled_reason: Option<String>,
}

/// One message in full (administrators only).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct OutboxMessage {
    #[serde(flatten)]
    pub entry: OutboxEntry,
    pub dedupe_key: String,
    /// Empty once cleared, `jobs.sent_body_retention_days` after the message was sent.
    pub body_text: String,
    /// Empty once cleared, as `body_text`.
    pub body_html: String,
}

/// Administrators only; anyone else's attempt is refused and audited.
fn require_admin(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    actor: &Actor,
) -> Result<(), AppError> {
    if actor.role == Role::Admin {
        Ok(())
    } else {
        let why = "only administrators see and manage the outbox";
        super::refusals::refuse(conn, now, actor, "outbox", why, None)?;
        Err(AppError::Forbidden(why.into()))
    }
}

fn entries(conn: &mut DbConnection, rows: &[OutboxRow]) -> Result<Vec<OutboxEntry>, AppError> {
    let user_ids: Vec<&str> = rows
        .iter()
        .filter_map(|r| r.recipient_id.as_deref())
        .collect();
    let names = super::users::names(conn, &user_ids)?;
    let case_ids: Vec<&str> = rows.iter().filter_map(|r| r.case_id.as_deref()).collect();
    let refs: HashMap<String, String> = cases::table
        .filter(cases::id.eq_any(&case_ids))
        .select((cases::id, cases::reference))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    Ok(rows
        .iter()
        .map(|r| OutboxEntry {
            id: r.id.clone(),
            kind: r.kind.clone(),
            status: r.status.clone(),
            recipient_id: r.recipient_id.clone(),
            recipient_name: r.recipient_id.as_ref().and_then(|u| names.get(u).cloned()),
            to_address: r.to_address.clone(),
            subject: r.subject.clone(),
            case_id: r.case_id.clone(),
            case_reference: r.case_id.as_ref().and_then(|c| refs.get(c).cloned()),
            deadline_id: r.deadline_id.clone(),
            attempts: r.attempts,
            next_attempt_at: r.next_attempt_at,
            last_error: r.last_error.clone(),
            created_at: r.created_at,
            sent_at: r.sent_at,
            cancelled_reason: r.cancelled_reason.clone(),
        })
        .collect())
}

/// One page (from 1) of `per_page` messages, newest first, optionally of one status
/// (administrators).
pub fn list(
    conn: &mut DbConnection,
    actor: &Actor,
    now: NaiveDateTime,
    status: Option<OutboxStatus>,
    (page, per_page): (i64, i64),
) -> Result<Vec<OutboxEntry>, AppError> {
    require_admin(conn, now, actor)?;
    let per_page = per_page.clamp(1, 1000);
    let mut q = outbox::table
        .select(OutboxRow::as_select())
        .order((outbox::created_at.desc(), outbox::id.asc()))
        .offset((page.max(1) - 1) * per_page)
        .limit(per_page)
        .into_boxed();
    if let Some(s) = status {
        q = q.filter(outbox::status.eq(s.as_str()));
    }
    let rows = q.load(conn)?;
    entries(conn, &rows)
}

/// How many messages are in each status (administrators).
pub fn counts(
    conn: &mut DbConnection,
    actor: &Actor,
    now: NaiveDateTime,
) -> Result<BTreeMap<String, i64>, AppError> {
    require_admin(conn, now, actor)?;
    let mut out: BTreeMap<String, i64> = OutboxStatus::ALL
        .iter()
        .map(|s| (s.as_str().to_string(), 0))
        .collect();
    for (status, n) in outbox::table
        .group_by(outbox::status)
        .select((outbox::status, diesel::dsl::count_star()))
        .load::<(String, i64)>(conn)?
    {
        out.insert(status, n);
    }
    Ok(out)
}

/// One message with its bodies (administrators).
pub fn get(
    conn: &mut DbConnection,
    actor: &Actor,
    now: NaiveDateTime,
    id: &str,
) -> Result<OutboxMessage, AppError> {
    require_admin(conn, now, actor)?;
    let row: OutboxRow = outbox::table
        .find(id)
        .select(OutboxRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(AppError::NotFound)?;
    let entry = entries(conn, std::slice::from_ref(&row))?
        .pop()
        .ok_or(AppError::NotFound)?;
    // A one-time link is for its recipient only: administrators see the message without it.
    Ok(OutboxMessage {
        entry,
        dedupe_key: row.dedupe_key,
        body_text: super::accounts::hide_tokens(&row.body_text),
        body_html: super::accounts::hide_tokens(&row.body_html),
    })
}

/// Queues a failed (or waiting) message again, now, with a fresh set of attempts. A sent
/// message is not sent again.
pub fn retry(
    conn: &mut DbConnection,
    actor: &Actor,
    now: NaiveDateTime,
    id: &str,
) -> Result<OutboxEntry, AppError> {
    require_admin(conn, now, actor)?;
    write_tx(conn, |c| {
        let status: String = outbox::table
            .find(id)
            .select(outbox::status)
            .first(c)
            .optional()?
            .ok_or(AppError::NotFound)?;
        if status == OutboxStatus::Sent.as_str() {
            return Err(AppError::Conflict(
                "this message has been sent; it is not sent twice".into(),
            ));
        }
        diesel::update(outbox::table.find(id))
            .set((
                outbox::status.eq(OutboxStatus::Queued.as_str()),
                outbox::attempts.eq(0),
                outbox::next_attempt_at.eq(stored(now)),
                outbox::cancelled_reason.eq(None::<String>),
            ))
            .execute(c)?;
        audit::append(
            c,
            now,
            Entry::ok(Some(actor), "outbox_retry")
                .subject(id.to_string())
                .detail(serde_json::json!({ "before": { "status": status } })),
        )?;
        let row: OutboxRow = outbox::table
            .find(id)
            .select(OutboxRow::as_select())
            .first(c)?;
        entries(c, &[row])?.pop().ok_or(AppError::NotFound)
    })
}

/// Queues a test email to `to` (administrators); the delivery job sends it.
pub fn queue_test_email(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    to: &str,
) -> Result<OutboxEntry, AppError> {
    require_admin(conn, st.now(), actor)?;
    let to = to.trim();
    if to.len() > 254 || !validator::ValidateEmail::validate_email(&to) {
        return Err(AppError::invalid(
            "to",
            "enter an email address like name@example.org",
        ));
    }
    let now = st.now();
    let rendered = templates::render(
        Template::Test,
        &serde_json::json!({
            "service_name": st.settings.service.name,
            "partnership_name": st.settings.partnership.name,
            "base_url": st.base_url(),
            "queued_at": now.format("%-d %B %Y %H:%M").to_string(),
        }),
    )
    .map_err(AppError::internal)?;
    write_tx(conn, |c| {
        let id = insert_if_absent(
            c,
            NewMessage {
                dedupe_key: format!("test:{}", new_id()),
                kind: OutboxKind::Test,
                recipient_id: None,
                to_address: to.to_string(),
                rendered,
                case_id: None,
                deadline_id: None,
            },
            now,
        )?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("test email key collided")))?;
        // The address is not audited: the row id leads to it for those who may see it.
        audit::append(
            c,
            now,
            Entry::ok(Some(actor), "test_email_queued").subject(id.clone()),
        )?;
        let row: OutboxRow = outbox::table
            .find(&id)
            .select(OutboxRow::as_select())
            .first(c)?;
        entries(c, &[row])?.pop().ok_or(AppError::NotFound)
    })
}

/// A message claimed for sending.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: String,
    /// The outbox key (the `Message-ID` is derived from it).
    pub dedupe_key: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub attempts: i32,
    /// An earlier claim ran out before the row was marked: that sender may have crashed
    /// after the server accepted the message, so this send may repeat it.
    pub expired_claim: bool,
}

/// What one claim did: the messages claimed, and those cancelled on the way.
#[derive(Debug, Clone, Default)]
pub struct Claim {
    pub messages: Vec<Claimed>,
    /// (row id, reason) of each message found no longer true ([`super::send_checks`]).
    pub cancelled: Vec<(String, String)>,
}

/// Rows looked at in one claim at most, cancelled ones included.
const CLAIM_SCAN_LIMIT: usize = 200;

/// Claims up to `limit` messages due now for `lease`: no other delivery loop takes them until
/// the lease runs out. Each is checked first ([`super::send_checks::why_not_send`]); one that is
/// no longer true is marked `cancelled` with the reason in the same transaction, and the next
/// is taken. On PostgreSQL the rows are locked `FOR UPDATE SKIP LOCKED` while the claim is
/// written, so two instances never claim the same row; on SQLite the write transaction
/// serialises claimers.
pub fn claim(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    lease: Duration,
    limit: i64,
) -> Result<Claim, AppError> {
    let now = stored(now);
    write_tx(conn, |c| {
        let mut out = Claim::default();
        let mut scanned = 0;
        while (out.messages.len() as i64) < limit && scanned < CLAIM_SCAN_LIMIT {
            let wanted = limit - out.messages.len() as i64;
            let rows = due_rows(c, now, wanted)?;
            if rows.is_empty() {
                break;
            }
            scanned += rows.len();
            let mut ids = vec![];
            for r in rows {
                if let Some(reason) = super::send_checks::why_not_send(c, &r)? {
                    cancel(c, &r.id, &reason)?;
                    out.cancelled.push((r.id, reason));
                    continue;
                }
                ids.push(r.id.clone());
                out.messages.push(Claimed {
                    expired_claim: r.claimed_until.is_some(),
                    id: r.id,
                    dedupe_key: r.dedupe_key,
                    to: r.to_address,
                    subject: r.subject,
                    text: r.body_text,
                    html: r.body_html,
                    attempts: r.attempts,
                });
            }
            if !ids.is_empty() {
                diesel::update(outbox::table.filter(outbox::id.eq_any(&ids)))
                    .set(outbox::claimed_until.eq(now + lease))
                    .execute(c)?;
            }
        }
        Ok(out)
    })
}

/// Up to `limit` queued rows due at `now` and not claimed, oldest due first.
fn due_rows(c: &mut DbConnection, now: NaiveDateTime, limit: i64) -> QueryResult<Vec<OutboxRow>> {
    let due = outbox::status
        .eq(OutboxStatus::Queued.as_str())
        .and(outbox::next_attempt_at.le(now))
        .and(
            outbox::claimed_until
                .is_null()
                .or(outbox::claimed_until.le(now)),
        );
    let order = (outbox::next_attempt_at.asc(), outbox::created_at.asc());
    match c {
        DbConnection::Pg(pg) => outbox::table
            .filter(due)
            .order(order)
            .limit(limit)
            .select(OutboxRow::as_select())
            .for_update()
            .skip_locked()
            .load(pg),
        DbConnection::Sqlite(sq) => outbox::table
            .filter(due)
            .order(order)
            .limit(limit)
            .select(OutboxRow::as_select())
            .load(sq),
    }
}

/// Marks a queued message cancelled: it is never sent.
fn cancel(c: &mut DbConnection, id: &str, reason: &str) -> QueryResult<usize> {
    let mut reason = reason.to_string();
    reason.truncate(1000);
    diesel::update(
        outbox::table
            .find(id)
            .filter(outbox::status.eq(OutboxStatus::Queued.as_str())),
    )
    .set((
        outbox::status.eq(OutboxStatus::Cancelled.as_str()),
        outbox::claimed_until.eq(None::<NaiveDateTime>),
        outbox::cancelled_reason.eq(Some(reason)),
    ))
    .execute(c)
}

/// Marks a claimed message sent (the server accepted it).
pub fn mark_sent(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> Result<(), AppError> {
    write_tx(conn, |c| {
        diesel::update(
            outbox::table
                .find(id)
                .filter(outbox::status.eq(OutboxStatus::Queued.as_str())),
        )
        .set((
            outbox::status.eq(OutboxStatus::Sent.as_str()),
            outbox::sent_at.eq(Some(stored(now))),
            outbox::attempts.eq(outbox::attempts + 1),
            outbox::claimed_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(None::<String>),
        ))
        .execute(c)
    })?;
    Ok(())
}

/// Messages whose bodies one statement clears at a time.
const CLEAR_BATCH: i64 = 500;

/// Clears the text and HTML of the messages sent more than `days` days before `now`
/// (`jobs.sent_body_retention_days`; 0 keeps them for ever), `CLEAR_BATCH` at a time, each batch
/// in its own short transaction. The rows stay, with their subject, recipient, times and
/// `dedupe_key` (what keeps a reminder from being written twice); failed, cancelled and queued
/// messages keep their bodies (an administrator may send them again). Returns how many were
/// cleared.
pub fn clear_sent_bodies(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    days: u32,
) -> Result<usize, AppError> {
    if days == 0 {
        return Ok(0);
    }
    let cutoff = stored(now - Duration::days(i64::from(days)));
    let sent = OutboxStatus::Sent.as_str();
    let mut cleared = 0;
    loop {
        let ids: Vec<String> = outbox::table
            .filter(outbox::status.eq(sent))
            .filter(outbox::sent_at.lt(cutoff))
            .filter(outbox::body_text.ne("").or(outbox::body_html.ne("")))
            .select(outbox::id)
            .limit(CLEAR_BATCH)
            .load(conn)?;
        if ids.is_empty() {
            return Ok(cleared);
        }
        let batch = ids.len();
        cleared += write_tx(conn, |c| {
            diesel::update(
                outbox::table
                    .filter(outbox::id.eq_any(&ids))
                    .filter(outbox::status.eq(sent)),
            )
            .set((outbox::body_text.eq(""), outbox::body_html.eq("")))
            .execute(c)
        })?;
        if (batch as i64) < CLEAR_BATCH {
            return Ok(cleared);
        }
    }
}

/// The wait before attempt `n + 1` after `n` failed ones: 1, 2, 4, … minutes, at most an hour.
pub fn backoff(attempts: i32) -> Duration {
    let exp = attempts.clamp(1, 7) - 1;
    Duration::minutes((1i64 << exp).min(60))
}

/// Records a failed attempt: retried after [`backoff`], or `failed` when the refusal is
/// permanent or the attempts are used up. Returns the new status.
pub fn mark_failed(
    conn: &mut DbConnection,
    id: &str,
    now: NaiveDateTime,
    error: &MailError,
    max_attempts: i32,
) -> Result<OutboxStatus, AppError> {
    write_tx(conn, |c| {
        let attempts: i32 = outbox::table.find(id).select(outbox::attempts).first(c)?;
        let attempts = attempts + 1;
        let status = if error.permanent || attempts >= max_attempts {
            OutboxStatus::Failed
        } else {
            OutboxStatus::Queued
        };
        let mut message = error.message.clone();
        if error.permanent {
            message = format!("refused: {message}");
        }
        message.truncate(1000);
        diesel::update(
            outbox::table
                .find(id)
                .filter(outbox::status.eq(OutboxStatus::Queued.as_str())),
        )
        .set((
            outbox::status.eq(status.as_str()),
            outbox::attempts.eq(attempts),
            outbox::next_attempt_at.eq(stored(now + backoff(attempts))),
            outbox::claimed_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(Some(message)),
        ))
        .execute(c)?;
        Ok(status)
    })
}

/// Queued messages due now (for `reminders run --dry-run`).
pub fn due_now(conn: &mut DbConnection, now: NaiveDateTime) -> Result<Vec<OutboxRow>, AppError> {
    Ok(outbox::table
        .filter(outbox::status.eq(OutboxStatus::Queued.as_str()))
        .filter(outbox::next_attempt_at.le(stored(now)))
        .order(outbox::next_attempt_at.asc())
        .select(OutboxRow::as_select())
        .load(conn)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        let minutes: Vec<i64> = (1..=9).map(|n| backoff(n).num_minutes()).collect();
        assert_eq!(minutes, vec![1, 2, 4, 8, 16, 32, 60, 60, 60]);
    }
}
