//! Refused attempts are audited like everything else. A refusal found inside a transaction is
//! rolled back with it, so it is written here on its own, after.

use chrono::NaiveDateTime;

use super::audit::{self, Entry};
use super::Actor;
use crate::db::{write_tx, DbConnection};
use crate::error::AppError;

/// Audits one refused attempt: who (if known), what, why, and on what.
pub fn refuse(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    actor: &Actor,
    action: &str,
    reason: &str,
    subject: Option<&str>,
) -> Result<(), AppError> {
    refuse_as(
        conn,
        now,
        Some(actor),
        action,
        reason,
        subject,
        serde_json::Value::Null,
    )
}

/// As [`refuse`], for an unknown or anonymous actor, with extra detail.
pub fn refuse_as(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    actor: Option<&Actor>,
    action: &str,
    reason: &str,
    subject: Option<&str>,
    extra: serde_json::Value,
) -> Result<(), AppError> {
    write_tx(conn, |c| {
        let mut e = Entry::refused(actor, action, reason);
        if let serde_json::Value::Object(more) = extra {
            if let serde_json::Value::Object(d) = &mut e.detail {
                d.extend(more);
            }
        }
        if let Some(s) = subject {
            e = e.subject(s.to_string());
        }
        audit::append(c, now, e)?;
        Ok(())
    })
}

/// Runs a use case that changes something; if it is refused (any 4xx), the refusal is
/// audited under `action` once its transaction has rolled back, with the reason given to the
/// user.
pub fn audited<T>(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    actor: &Actor,
    action: &str,
    subject: Option<&str>,
    f: impl FnOnce(&mut DbConnection) -> Result<T, AppError>,
) -> Result<T, AppError> {
    match f(conn) {
        Ok(v) => Ok(v),
        Err(e @ (AppError::Internal(_) | AppError::Unavailable(_))) => Err(e),
        Err(e) => {
            let reason = match &e {
                AppError::NotFound => "not found or not visible".to_string(),
                other => other.to_string(),
            };
            refuse(conn, now, actor, action, &reason, subject)?;
            Err(e)
        }
    }
}
