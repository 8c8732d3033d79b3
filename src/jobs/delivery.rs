//! The delivery loop: claim the messages due, send each, mark it sent only once the server has
//! accepted it; a failure is retried with exponential backoff and marked failed after
//! `jobs.max_attempts`. A crash between the send and the mark can repeat that one message
//! (its claim runs out and the next pass takes it again, with a warning in the log).

use chrono::Duration;
use serde::Serialize;

use crate::app::outbox::{self, OutboxStatus};
use crate::error::AppError;
use crate::mail::{Email, Mailer};
use crate::state::AppState;

/// Messages claimed per pass.
pub const BATCH: i64 = 20;

/// How long a claim holds: longer than a batch can take (each SMTP attempt times out at 30 s).
pub fn lease() -> Duration {
    Duration::minutes(15)
}

/// What one or more delivery passes did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DeliveryReport {
    pub sent: usize,
    /// Failed this time; will be retried.
    pub retrying: usize,
    /// Failed for good (refused, or out of attempts).
    pub failed: usize,
}

impl DeliveryReport {
    fn add(&mut self, other: DeliveryReport) {
        self.sent += other.sent;
        self.retrying += other.retrying;
        self.failed += other.failed;
    }

    pub fn attempted(&self) -> usize {
        self.sent + self.retrying + self.failed
    }
}

/// One pass through `st.mailer`: up to `limit` messages.
pub async fn deliver_batch(st: &AppState, limit: i64) -> Result<DeliveryReport, AppError> {
    deliver_batch_with(st, st.mailer.as_ref(), limit).await
}

/// One pass through the given mailer.
pub async fn deliver_batch_with(
    st: &AppState,
    mailer: &dyn Mailer,
    limit: i64,
) -> Result<DeliveryReport, AppError> {
    let now = st.now();
    let claimed = st
        .db(move |c, _| outbox::claim(c, now, lease(), limit))
        .await?;
    let mut report = DeliveryReport::default();
    let max_attempts = st.settings.jobs.max_attempts;
    for m in claimed {
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
        };
        let result = mailer.send(&email).await;
        let id = m.id.clone();
        let done = st.now();
        match result {
            Ok(()) => {
                st.db(move |c, _| outbox::mark_sent(c, &id, done)).await?;
                tracing::info!(outbox_id = %m.id, transport = mailer.kind(), "email sent");
                report.sent += 1;
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
                }
            }
        }
    }
    Ok(report)
}

/// Passes until no message is due (or one pass sends nothing: the server is down).
pub async fn deliver_due(st: &AppState) -> Result<DeliveryReport, AppError> {
    let mut total = DeliveryReport::default();
    loop {
        let r = deliver_batch(st, BATCH).await?;
        total.add(r);
        if r.attempted() < BATCH as usize || r.sent == 0 {
            return Ok(total);
        }
    }
}
