//! Helpers for reminder and mail tests: run sweeps and deliveries at a time the test sets,
//! read the outbox.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use lcspr_tracker::db::models::OutboxRow;
use lcspr_tracker::db::schema::outbox;
use lcspr_tracker::jobs::{self, DeliveryReport, RunReport, SweepReport};

use super::TestApp;

/// `2026-01-05 08:00` (UTC) as a date-time.
pub fn at(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").expect("YYYY-MM-DD HH:MM")
}

impl TestApp {
    /// Sets the clock to a UTC time (`YYYY-MM-DD HH:MM`).
    pub fn set_now(&self, s: &str) {
        self.clock.set(at(s));
    }

    /// One sweep as of the clock, writing.
    pub async fn sweep(&self) -> SweepReport {
        self.state
            .db(|c, st| jobs::sweep(c, st, st.now(), true))
            .await
            .expect("sweep")
    }

    /// Delivery passes until nothing is due.
    pub async fn deliver(&self) -> DeliveryReport {
        jobs::deliver_due(&self.state).await.expect("deliver")
    }

    /// What `lcspr-tracker reminders run` does, as of the clock.
    pub async fn run_reminders(&self) -> RunReport {
        jobs::run_once(&self.state, false)
            .await
            .expect("reminders run")
    }

    /// Every outbox row, oldest first.
    pub async fn outbox(&self) -> Vec<OutboxRow> {
        self.state
            .db(|c, _| {
                Ok(outbox::table
                    .order((outbox::created_at.asc(), outbox::dedupe_key.asc()))
                    .select(OutboxRow::as_select())
                    .load(c)?)
            })
            .await
            .expect("outbox")
    }

    /// Chooses the user's reminder mode through the API.
    pub async fn set_mode(&self, user: &super::api::User, mode: &str) {
        let resp = self
            .client
            .put(self.url("/api/v1/me/reminders"))
            .bearer_auth(&user.token)
            .send_json(&serde_json::json!({ "mode": mode }))
            .await
            .expect("request");
        assert_eq!(resp.status().as_u16(), 200, "set mode {mode}");
    }
}
