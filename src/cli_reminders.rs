//! `lcspr-tracker reminders run [--at DATETIME] [--dry-run]`: one sweep as if at that time,
//! then delivery of the outbox. Prints names and subjects, never email addresses.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveDateTime};

use crate::cli_error::CliError;
use crate::clock::{Clock, FixedClock, SystemClock};
use crate::config::Settings;
use crate::jobs::{self, RunReport};
use crate::startup::build_state;

/// Parses `--at`: a date (09:00 UTC), a naive date-time (UTC) or RFC 3339.
pub fn parse_at(s: &str) -> Result<NaiveDateTime, String> {
    let s = s.trim();
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(9, 0, 0).expect("valid time"));
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.naive_utc());
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Ok(t);
        }
    }
    Err(format!(
        "--at: {s:?} is not a date or time; use YYYY-MM-DD, YYYY-MM-DDTHH:MM (UTC) or RFC 3339"
    ))
}

pub fn run(settings: Settings, at: Option<&str>, dry_run: bool) -> Result<(), CliError> {
    let clock: Arc<dyn Clock> = match at {
        Some(s) => Arc::new(FixedClock::new(
            parse_at(s).map_err(|m| CliError::new(2, m))?,
        )),
        None => Arc::new(SystemClock),
    };
    let state = build_state(settings, clock).map_err(|e| CliError::new(1, e))?;
    let report = actix_web::rt::System::new()
        .block_on(async move { jobs::run_once(&state, dry_run).await })
        .map_err(|e| CliError::new(1, format!("reminders run: {e}")))?;
    print!("{}", describe(&report));
    Ok(())
}

/// The report as printed.
pub fn describe(r: &RunReport) -> String {
    let mut out = format!(
        "reminders run as of {} UTC{}\n",
        r.at.format("%Y-%m-%d %H:%M"),
        if r.dry_run {
            " (dry run: nothing is written or sent)"
        } else {
            ""
        }
    );
    let verb = if r.dry_run { "would queue" } else { "queued" };
    for p in &r.sweep.planned {
        out.push_str(&format!(
            "current: {} {} {} (due {}, step of {}){}\n",
            p.reference,
            p.rule_id,
            p.step,
            p.due_on,
            p.step_on,
            if p.escalated { " escalated" } else { "" }
        ));
    }
    for q in &r.sweep.queued {
        out.push_str(&format!(
            "{verb}: {} {} for {}: {}\n",
            q.kind, q.key, q.user_name, q.subject
        ));
    }
    for m in &r.would_send {
        out.push_str(&format!("would send: {} {} {}\n", m.id, m.kind, m.subject));
    }
    if r.dry_run {
        out.push_str(&format!(
            "summary: {} cases, {} would be queued, {} queued messages would be sent\n",
            r.sweep.cases,
            r.sweep.queued.len(),
            r.would_send.len()
        ));
    } else {
        out.push_str(&format!(
            "summary: {} cases, {} queued; sent {}, retrying {}, failed {}, cancelled {}\n",
            r.sweep.cases,
            r.sweep.queued.len(),
            r.delivery.sent,
            r.delivery.retrying,
            r.delivery.failed,
            r.delivery.cancelled
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_accepts_dates_times_and_offsets() {
        assert_eq!(
            parse_at("2026-01-05").unwrap().to_string(),
            "2026-01-05 09:00:00"
        );
        assert_eq!(
            parse_at("2026-01-05T07:30").unwrap().to_string(),
            "2026-01-05 07:30:00"
        );
        assert_eq!(
            parse_at("2026-06-05T08:00:00+01:00").unwrap().to_string(),
            "2026-06-05 07:00:00"
        );
        assert!(parse_at("tomorrow").unwrap_err().contains("--at"));
    }
}
