//! Send-time checks: an email is sent only while what it says is still true. The delivery loop
//! asks [`why_not_send`] as it claims each row (`outbox::claim`, in the same transaction); a
//! reason means the row is marked `cancelled` with it and never sent. Checked at every claim, so
//! a reminder queued before an SMTP outage is checked again when it finally goes.
//!
//! A reminder goes only while its deadline is still pending with the due date it was written
//! for, its case is not withdrawn (a closed case keeps pending only the deadlines that survive
//! closure), and its recipient is still active and may still see the case (`Access::sees`, the
//! one visibility rule). A digest or a meeting notice goes only to an active recipient.

use chrono::NaiveDate;
use diesel::prelude::*;

use super::access::CasePeople;
use super::outbox::OutboxKind;
use super::reminders;
use crate::db::models::OutboxRow;
use crate::db::schema::{cases, deadlines, users};
use crate::db::DbConnection;
use crate::domain::case::Stage;
use crate::domain::deadlines::DeadlineStatus;
use crate::domain::roles::Role;
use crate::error::AppError;

/// Why `row` must not be sent now, or `None` when it may go.
pub fn why_not_send(conn: &mut DbConnection, row: &OutboxRow) -> Result<Option<String>, AppError> {
    match row.kind.parse::<OutboxKind>() {
        Ok(OutboxKind::Reminder) => reminder(conn, row),
        Ok(OutboxKind::Digest | OutboxKind::MeetingNotice) => {
            Ok(recipient(conn, row.recipient_id.as_deref())?
                .err()
                .map(str::to_string))
        }
        _ => Ok(None),
    }
}

fn reminder(conn: &mut DbConnection, row: &OutboxRow) -> Result<Option<String>, AppError> {
    let Some(deadline_id) = row.deadline_id.as_deref() else {
        return Ok(None);
    };
    let deadline: Option<(String, NaiveDate, String)> = deadlines::table
        .find(deadline_id)
        .select((deadlines::status, deadlines::due_on, deadlines::case_id))
        .first(conn)
        .optional()?;
    let Some((status, due_on, case_id)) = deadline else {
        return Ok(Some("its deadline no longer exists".into()));
    };
    if status != DeadlineStatus::Pending.as_str() {
        return Ok(Some(no_longer_pending(&status)));
    }
    if let Some(written_for) = reminders::key_due_on(&row.dedupe_key) {
        if written_for != due_on {
            return Ok(Some(format!(
                "the deadline moved from {} to {}",
                written_for.format("%-d %B %Y"),
                due_on.format("%-d %B %Y")
            )));
        }
    }
    let stage: String = cases::table
        .find(&case_id)
        .select(cases::stage)
        .first(conn)?;
    if stage == Stage::Withdrawn.as_str() {
        return Ok(Some("the case was withdrawn".into()));
    }
    let role = match recipient(conn, row.recipient_id.as_deref())? {
        Ok(Some(role)) => role,
        Ok(None) => return Ok(None),
        Err(why) => return Ok(Some(why.into())),
    };
    let user_id = row.recipient_id.as_deref().unwrap_or_default();
    if !CasePeople::load(conn, &case_id)?.access(user_id).sees(role) {
        return Ok(Some("the recipient may no longer see the case".into()));
    }
    Ok(None)
}

fn no_longer_pending(status: &str) -> String {
    match status.parse::<DeadlineStatus>() {
        Ok(DeadlineStatus::Met) => "the deadline was met".into(),
        Ok(DeadlineStatus::Waived) => "the deadline was waived".into(),
        Ok(DeadlineStatus::Missed) => "the deadline was marked missed".into(),
        _ => format!("the deadline is no longer pending ({status})"),
    }
}

/// The recipient's role while their account is active (`Ok(None)`: no recipient), or why not.
fn recipient(
    conn: &mut DbConnection,
    user_id: Option<&str>,
) -> Result<Result<Option<Role>, &'static str>, AppError> {
    let Some(user_id) = user_id else {
        return Ok(Ok(None));
    };
    let user: Option<(bool, String)> = users::table
        .find(user_id)
        .select((users::active, users::role))
        .first(conn)
        .optional()?;
    Ok(match user {
        Some((true, role)) => Ok(role.parse().ok()),
        Some((false, _)) => Err("the recipient's account is deactivated"),
        None => Err("the recipient no longer exists"),
    })
}
