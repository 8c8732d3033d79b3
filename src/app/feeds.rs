//! Each user's secret iCalendar feed of the deadlines they receive reminders for. The URL
//! carries a random token; only its SHA-256 is stored, so the database cannot give it away.
//! Generating a new one revokes the old.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use super::audit::{self, Entry};
use super::reminders::{self, case_url};
use super::Actor;
use crate::db::schema::users;
use crate::db::{write_tx, DbConnection};
use crate::domain::ical::{self, AllDayEvent};
use crate::error::AppError;
use crate::state::AppState;

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The feed URL for a token.
pub fn feed_url(st: &AppState, token: &str) -> String {
    format!("{}/feeds/{token}.ics", st.base_url())
}

/// Makes a new secret feed URL for the user, replacing any earlier one.
pub fn generate(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    now: NaiveDateTime,
) -> Result<String, AppError> {
    let token = hex::encode(rand::random::<[u8; 32]>());
    write_tx(conn, |c| -> Result<(), AppError> {
        let had: Option<String> = users::table
            .find(&actor.user_id)
            .select(users::feed_token_hash)
            .first(c)?;
        diesel::update(users::table.find(&actor.user_id))
            .set(users::feed_token_hash.eq(Some(hash(&token))))
            .execute(c)?;
        audit::append(
            c,
            now,
            Entry::ok(Some(actor), "calendar_feed_created")
                .subject(actor.user_id.clone())
                .detail(serde_json::json!({ "replaced": had.is_some() })),
        )?;
        Ok(())
    })?;
    Ok(feed_url(st, &token))
}

/// Revokes the user's feed URL. True when there was one.
pub fn revoke(
    conn: &mut DbConnection,
    actor: &Actor,
    now: NaiveDateTime,
) -> Result<bool, AppError> {
    write_tx(conn, |c| {
        let n = diesel::update(
            users::table
                .find(&actor.user_id)
                .filter(users::feed_token_hash.is_not_null()),
        )
        .set(users::feed_token_hash.eq(None::<String>))
        .execute(c)?;
        if n > 0 {
            audit::append(
                c,
                now,
                Entry::ok(Some(actor), "calendar_feed_revoked").subject(actor.user_id.clone()),
            )?;
        }
        Ok(n > 0)
    })
}

/// Whether the user has a feed URL now.
pub fn has_feed(conn: &mut DbConnection, actor: &Actor) -> Result<bool, AppError> {
    let h: Option<String> = users::table
        .find(&actor.user_id)
        .select(users::feed_token_hash)
        .first(conn)?;
    Ok(h.is_some())
}

/// The calendar behind a token: `None` for an unknown or revoked token, or an inactive user.
pub fn calendar_for_token(
    conn: &mut DbConnection,
    st: &AppState,
    token: &str,
) -> Result<Option<String>, AppError> {
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let user: Option<String> = users::table
        .filter(users::feed_token_hash.eq(hash(&token.to_ascii_lowercase())))
        .filter(users::active.eq(true))
        .select(users::id)
        .first(conn)
        .optional()?;
    let Some(user_id) = user else {
        return Ok(None);
    };
    let now = st.now();
    let host = host_of(&st.base_url());
    let events: Vec<AllDayEvent> = reminders::deadlines_for_user(conn, st, &user_id, now)?
        .into_iter()
        .map(|d| AllDayEvent {
            uid: format!("{}@{host}", d.deadline_id),
            date: d.due_on,
            // The case reference and what is due: nothing about the child.
            summary: format!("{} {}", d.reference, d.label),
            url: Some(case_url(st, &d.case_id)),
        })
        .collect();
    // Meetings of the bodies the user sits on: named for the body only.
    let mut timed = vec![];
    let mut events = events;
    for m in crate::app::governance::notices::feed_meetings(conn, st, &user_id, now)? {
        let uid = format!("meeting-{}@{host}", m.meeting_id);
        match m.starts_utc {
            Some(start) => timed.push(ical::TimedEvent {
                uid,
                start,
                minutes: m.minutes,
                summary: m.summary,
                url: Some(m.url),
            }),
            None => events.push(AllDayEvent {
                uid,
                date: m.on,
                summary: m.summary,
                url: Some(m.url),
            }),
        }
    }
    // Calendar services keep what they fetch: no names at all, not even the user's.
    let title = format!("{} deadlines", st.settings.service.name);
    Ok(Some(ical::calendar_with(&title, now, &events, &timed)))
}

/// The host of the public address (`https://lcspr.example:8443/x` → `lcspr.example`).
fn host_of(base_url: &str) -> String {
    let rest = base_url.split_once("://").map_or(base_url, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or(rest);
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => host,
    };
    host.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_of_base_urls() {
        assert_eq!(host_of("https://lcspr.example"), "lcspr.example");
        assert_eq!(host_of("http://127.0.0.1:8080"), "127.0.0.1");
        assert_eq!(host_of("https://lcspr.example:8443/base/"), "lcspr.example");
    }
}
