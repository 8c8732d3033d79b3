//! Figures for Prometheus (`GET /metrics`, text format 0.0.4). Counters and the job figures are
//! kept in memory by this instance; the outbox, deadline and database figures are read from
//! the database at each scrape, so every instance reports the same totals for them.

use prometheus::{
    Encoder, Gauge, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

/// This instance's figures.
pub struct Metrics {
    registry: Registry,
    pub http_requests: IntCounterVec,
    pub http_duration: HistogramVec,
    pub orphan_files_removed: IntCounterVec,
    pub sweep_last_duration: Gauge,
    pub sweep_last_run: Gauge,
    pub pool_waiting: IntGauge,
    pub pool_connections: IntGaugeVec,
    pub database_up: IntGauge,
    pub outbox_messages: IntGaugeVec,
    pub outbox_oldest_queued_age: Gauge,
    pub deadlines: IntGaugeVec,
}

/// Figures read from the database at a scrape.
#[derive(Debug, Clone, Default)]
pub struct DatabaseFigures {
    pub outbox: Vec<(String, i64)>,
    pub oldest_queued_age_secs: f64,
    pub deadlines: Vec<(String, i64)>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let registry = Registry::new_custom(Some("lcspr".into()), None).expect("prefix");
        let http_requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests answered, by route pattern and status",
            ),
            &["method", "route", "status"],
        )
        .expect("metric");
        let http_duration = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time to answer HTTP requests, by route pattern and status",
            )
            .buckets(vec![
                0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]),
            &["method", "route", "status"],
        )
        .expect("metric");
        let orphan_files_removed = IntCounterVec::new(
            Opts::new(
                "orphan_files_removed_total",
                "Files removed from the document store: partial (interrupted uploads) or unreferenced (no version refers to them)",
            ),
            &["kind"],
        )
        .expect("metric");
        let sweep_last_duration = Gauge::new(
            "reminder_sweep_last_duration_seconds",
            "How long this instance's last reminder sweep took",
        )
        .expect("metric");
        let sweep_last_run = Gauge::new(
            "reminder_sweep_last_run_timestamp_seconds",
            "When this instance's last reminder sweep finished (Unix time)",
        )
        .expect("metric");
        let pool_waiting = IntGauge::new(
            "db_pool_waiting",
            "Requests waiting for a database connection",
        )
        .expect("metric");
        let pool_connections = IntGaugeVec::new(
            Opts::new(
                "db_pool_connections",
                "Database connections in the pool, by state",
            ),
            &["state"],
        )
        .expect("metric");
        let database_up = IntGauge::new(
            "database_up",
            "1 while the database answers, 0 while it does not",
        )
        .expect("metric");
        let outbox_messages = IntGaugeVec::new(
            Opts::new("outbox_messages", "Outbox messages by status"),
            &["status"],
        )
        .expect("metric");
        let outbox_oldest_queued_age = Gauge::new(
            "outbox_oldest_queued_age_seconds",
            "Age of the oldest queued outbox message (0 when none is queued)",
        )
        .expect("metric");
        let deadlines =
            IntGaugeVec::new(Opts::new("deadlines", "Deadlines by status"), &["status"])
                .expect("metric");
        for c in [
            Box::new(http_requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(http_duration.clone()),
            Box::new(orphan_files_removed.clone()),
            Box::new(sweep_last_duration.clone()),
            Box::new(sweep_last_run.clone()),
            Box::new(pool_waiting.clone()),
            Box::new(pool_connections.clone()),
            Box::new(database_up.clone()),
            Box::new(outbox_messages.clone()),
            Box::new(outbox_oldest_queued_age.clone()),
            Box::new(deadlines.clone()),
        ] {
            registry.register(c).expect("unique metric");
        }
        for kind in ["partial", "unreferenced"] {
            orphan_files_removed.with_label_values(&[kind]);
        }
        Metrics {
            registry,
            http_requests,
            http_duration,
            orphan_files_removed,
            sweep_last_duration,
            sweep_last_run,
            pool_waiting,
            pool_connections,
            database_up,
            outbox_messages,
            outbox_oldest_queued_age,
            deadlines,
        }
    }

    /// One answered request.
    pub fn observe_request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let status = status.to_string();
        let labels = [method, route, status.as_str()];
        self.http_requests.with_label_values(&labels).inc();
        self.http_duration
            .with_label_values(&labels)
            .observe(seconds);
    }

    pub fn orphans_removed(&self, partial: usize, unreferenced: usize) {
        self.orphan_files_removed
            .with_label_values(&["partial"])
            .inc_by(partial as u64);
        self.orphan_files_removed
            .with_label_values(&["unreferenced"])
            .inc_by(unreferenced as u64);
    }

    /// A reminder sweep finished.
    pub fn sweep_done(&self, seconds: f64) {
        self.sweep_last_duration.set(seconds);
        self.sweep_last_run
            .set(chrono::Utc::now().timestamp_millis() as f64 / 1000.0);
    }

    /// The text exposition, after setting the figures read at this scrape (`None` when the
    /// database did not answer).
    pub fn render(&self, pool: r2d2::State, db: Option<DatabaseFigures>) -> String {
        let idle = i64::from(pool.idle_connections);
        self.pool_connections
            .with_label_values(&["in_use"])
            .set(i64::from(pool.connections) - idle);
        self.pool_connections.with_label_values(&["idle"]).set(idle);
        self.database_up.set(i64::from(db.is_some()));
        if let Some(db) = db {
            self.outbox_messages.reset();
            for (status, n) in db.outbox {
                self.outbox_messages.with_label_values(&[&status]).set(n);
            }
            self.outbox_oldest_queued_age.set(db.oldest_queued_age_secs);
            self.deadlines.reset();
            for (status, n) in db.deadlines {
                self.deadlines.with_label_values(&[&status]).set(n);
            }
        }
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .expect("text encoding");
        String::from_utf8(out).expect("UTF-8")
    }
}

/// Reads the outbox and deadline figures.
pub fn database_figures(
    conn: &mut crate::db::DbConnection,
    now: chrono::NaiveDateTime,
) -> diesel::QueryResult<DatabaseFigures> {
    use crate::app::outbox::OutboxStatus;
    use crate::db::schema::{deadlines, outbox};
    use diesel::prelude::*;

    let mut counts: std::collections::BTreeMap<String, i64> = OutboxStatus::ALL
        .iter()
        .map(|s| (s.as_str().to_string(), 0))
        .collect();
    for (status, n) in outbox::table
        .group_by(outbox::status)
        .select((outbox::status, diesel::dsl::count_star()))
        .load::<(String, i64)>(conn)?
    {
        counts.insert(status, n);
    }
    let oldest: Option<chrono::NaiveDateTime> = outbox::table
        .filter(outbox::status.eq(OutboxStatus::Queued.as_str()))
        .select(diesel::dsl::min(outbox::created_at))
        .first(conn)?;
    let mut by_status: std::collections::BTreeMap<String, i64> =
        ["pending", "met", "missed", "waived"]
            .iter()
            .map(|s| (s.to_string(), 0))
            .collect();
    for (status, n) in deadlines::table
        .group_by(deadlines::status)
        .select((deadlines::status, diesel::dsl::count_star()))
        .load::<(String, i64)>(conn)?
    {
        by_status.insert(status, n);
    }
    Ok(DatabaseFigures {
        outbox: counts.into_iter().collect(),
        oldest_queued_age_secs: oldest
            .map(|t| ((now - t).num_milliseconds() as f64 / 1000.0).max(0.0))
            .unwrap_or(0.0),
        deadlines: by_status.into_iter().collect(),
    })
}
