//! The delivery loop: claim one message due, send it, mark it sent only once the server has
//! accepted it, then the next; a failure is retried with exponential backoff and marked failed
//! after `jobs.max_attempts`. Claiming one at a time means a crash (kill -9) leaves at most the
//! message being sent claimed: it alone waits for its claim to run out, and may be repeated
//! (with a warning in the log). Asked to stop (SIGTERM), the loop claims nothing more and
//! finishes the message in flight.

use chrono::Duration;
use serde::Serialize;
use tokio::sync::watch;

use crate::app::outbox::{self, OutboxStatus};
use crate::error::AppError;
use crate::mail::{Email, Mailer};
use crate::state::AppState;

/// Messages sent per pass at most (each claimed on its own).
pub const BATCH: i64 = 20;

/// Transient failures in a row after which a pass stops (the mail server is down).
const GIVE_UP_AFTER: usize = 3;

/// How long a claim holds: longer than sending one message can take (each SMTP command times
/// out at 30 s).
pub fn lease() -> Duration {
    Duration::minutes(5)
}

/// What one or more delivery passes did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DeliveryReport {
    pub sent: usize,
    /// Found no longer true when claimed: marked cancelled, never sent.
    pub cancelled: usize,
    /// Failed this time; will be retried.
    pub retrying: usize,
    /// Failed for good (refused, or out of attempts).
    pub failed: usize,
}

impl DeliveryReport {
    fn add(&mut self, other: DeliveryReport) {
        self.sent += other.sent;
        self.cancelled += other.cancelled;
        self.retrying += other.retrying;
        self.failed += other.failed;
    }

    pub fn attempted(&self) -> usize {
        self.sent + self.retrying + self.failed
    }

    /// Messages this pass dealt with: attempted or cancelled.
    pub fn handled(&self) -> usize {
        self.attempted() + self.cancelled
    }
}

/// One pass through `st.mailer`: up to `limit` messages.
pub async fn deliver_batch(st: &AppState, limit: i64) -> Result<DeliveryReport, AppError> {
    deliver_batch_with(st, st.mailer.as_ref(), limit, None).await
}

/// One pass through the given mailer: up to `limit` messages, each claimed just before it is
/// sent. With `stop`, nothing more is claimed once it turns true.
pub async fn deliver_batch_with(
    st: &AppState,
    mailer: &dyn Mailer,
    limit: i64,
    stop: Option<&watch::Receiver<bool>>,
) -> Result<DeliveryReport, AppError> {
    let mut report = DeliveryReport::default();
    let max_attempts = st.settings.jobs.max_attempts;
    let mut failures_in_a_row = 0;
    for _ in 0..limit {
        if stop.is_some_and(|s| *s.borrow()) || failures_in_a_row >= GIVE_UP_AFTER {
            break;
        }
        let now = st.now();
        let claim = st.db(move |c, _| outbox::claim(c, now, lease(), 1)).await?;
        for (id, reason) in &claim.cancelled {
            // The reason names no person and no case detail.
            tracing::info!(outbox_id = %id, reason = %reason, "email cancelled: no longer true");
        }
        report.cancelled += claim.cancelled.len();
        let Some(m) = claim.messages.into_iter().next() else {
            break;
        };
        if m.expired_claim {
            tracing::warn!(
                outbox_id = %m.id,
                "an earlier claim on this message ran out before it was marked; if that sender had already sent it, it is sent a second time"
            );
        }
        let email = Email {
            to: m.to,
            subject: m.subject,
            text: m.text,
            html: m.html,
            message_id: Some(crate::mail::message_id(
                &m.dedupe_key,
                &st.settings.mail.from,
            )),
        };
        let result = mailer.send(&email).await;
        let id = m.id.clone();
        let done = st.now();
        match result {
            Ok(()) => {
                st.db(move |c, _| outbox::mark_sent(c, &id, done)).await?;
                tracing::info!(outbox_id = %m.id, transport = mailer.kind(), "email sent");
                report.sent += 1;
                failures_in_a_row = 0;
            }
            Err(e) => {
                let err = e.clone();
                let status = st
                    .db(move |c, _| outbox::mark_failed(c, &id, done, &err, max_attempts))
                    .await?;
                if status == OutboxStatus::Failed {
                    tracing::error!(outbox_id = %m.id, attempts = m.attempts + 1, error = %crate::telemetry::redact(&e.to_string()), "email failed for good");
                    report.failed += 1;
                } else {
                    tracing::warn!(outbox_id = %m.id, attempts = m.attempts + 1, error = %crate::telemetry::redact(&e.to_string()), "email not sent; will retry");
                    report.retrying += 1;
                    failures_in_a_row += 1;
                }
            }
        }
    }
    Ok(report)
}

/// Passes until no message is due (or a pass sends nothing: the server is down).
pub async fn deliver_due(st: &AppState) -> Result<DeliveryReport, AppError> {
    deliver_until_stopped(st, None).await
}

/// [`deliver_due`], claiming nothing more once `stop` turns true.
pub async fn deliver_until_stopped(
    st: &AppState,
    stop: Option<&watch::Receiver<bool>>,
) -> Result<DeliveryReport, AppError> {
    let mut total = DeliveryReport::default();
    loop {
        let r = deliver_batch_with(st, st.mailer.as_ref(), BATCH, stop).await?;
        total.add(r);
        if r.handled() < BATCH as usize || r.sent + r.cancelled == 0 {
            return Ok(total);
        }
    }
}
