//! Before a meeting: each member (core members and chairs of the body that sits, and deputies
//! named for it) gets one email `governance.meeting_notice_working_days` working days before,
//! with the agenda's case references, through the outbox (key
//! `meeting_notice:<meeting>:<user>`: exactly once). And the meetings in members' calendar
//! feeds.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use super::body_of;
use crate::app::outbox::{self, NewMessage, OutboxKind};
use crate::app::reminders::Outgoing;
use crate::clock::{uk_local, uk_to_utc};
use crate::db::models::{MeetingRow, NamedDeputyRow};
use crate::db::schema::{
    body_members, cases, meeting_agenda, meeting_attendance, meeting_deputies, meeting_papers,
    meetings, users,
};
use crate::db::DbConnection;
use crate::domain::governance::{Body, Scheduled};
use crate::domain::roles::Role;
use crate::error::AppError;
use crate::mail::templates::{self, Template};
use crate::state::AppState;

/// How long a meeting with a start time lasts in calendar feeds.
pub const FEED_MEETING_MINUTES: u32 = 120;

/// Someone a meeting notice goes to.
#[derive(Debug, Clone)]
struct Recipient {
    id: String,
    name: String,
    email: String,
    reason: &'static str,
}

/// The active core members (and chairs) of the body that sits, and the deputies named.
fn recipients(
    conn: &mut DbConnection,
    m: &MeetingRow,
    body: Body,
) -> Result<Vec<Recipient>, AppError> {
    let members: Vec<String> = body_members::table
        .filter(body_members::body.eq(body.membership().as_str()))
        .select(body_members::user_id)
        .load(conn)?;
    let named: Vec<NamedDeputyRow> = meeting_deputies::table
        .filter(meeting_deputies::meeting_id.eq(&m.id))
        .select(NamedDeputyRow::as_select())
        .load(conn)?;
    let mut wanted: BTreeMap<String, &'static str> = BTreeMap::new();
    for id in members {
        wanted.insert(id, "you are a core member");
    }
    for n in &named {
        wanted
            .entry(n.deputy_id.clone())
            .or_insert("you were named as a deputy for this meeting");
    }
    let ids: Vec<&String> = wanted.keys().collect();
    let rows: Vec<(String, String, String)> = users::table
        .filter(users::id.eq_any(ids))
        .filter(users::active.eq(true))
        .select((users::id, users::name, users::email))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, name, email)| Recipient {
            reason: wanted.get(&id).copied().unwrap_or("you are a core member"),
            id,
            name,
            email,
        })
        .collect())
}

#[derive(Serialize)]
struct NoticeContext<'a> {
    body_label: &'static str,
    date: String,
    time: Option<String>,
    references: Vec<String>,
    papers: i64,
    meeting_url: String,
    notice_days: u32,
    reason: &'static str,
    service_name: &'a str,
    partnership_name: &'a str,
}

pub fn meeting_url(st: &AppState, id: &str) -> String {
    format!("{}/meetings/{id}", st.base_url())
}

/// Writes (or with `write` false, lists) the notices due as of `now` that were not written yet.
pub fn plan(
    conn: &mut DbConnection,
    st: &AppState,
    now: NaiveDateTime,
    write: bool,
) -> Result<Vec<Outgoing>, AppError> {
    let today = uk_local(now).date();
    let days = st.settings.governance.meeting_notice_working_days as i32;
    let calendar = st.calendars.current(conn)?;
    let upcoming: Vec<MeetingRow> = meetings::table
        .filter(meetings::held_on.is_null())
        .filter(meetings::scheduled_on.ge(today))
        .order((meetings::scheduled_on.asc(), meetings::id.asc()))
        .select(MeetingRow::as_select())
        .load(conn)?;
    let mut out = vec![];
    for m in upcoming {
        let notice_on = calendar
            .add_working_days(st.division, m.scheduled_on, -days)
            .map_or(m.scheduled_on, |r| r.date);
        if today < notice_on {
            continue;
        }
        let body = body_of(&m)?;
        let people = recipients(conn, &m, body)?;
        let keys: Vec<String> = people
            .iter()
            .map(|p| format!("meeting_notice:{}:{}", m.id, p.id))
            .collect();
        let existing = outbox::existing_keys(conn, &keys)?;
        if people.iter().zip(&keys).all(|(_, k)| existing.contains(k)) {
            continue;
        }
        let references: Vec<String> = meeting_agenda::table
            .inner_join(cases::table)
            .filter(meeting_agenda::meeting_id.eq(&m.id))
            .order(meeting_agenda::position.asc())
            .select(cases::reference)
            .load(conn)?;
        let papers: i64 = meeting_papers::table
            .filter(meeting_papers::meeting_id.eq(&m.id))
            .filter(meeting_papers::deleted_at.is_null())
            .count()
            .get_result(conn)?;
        let when = Scheduled::from_stored(m.scheduled_on, m.start_time.as_deref());
        for (p, key) in people.iter().zip(keys) {
            if existing.contains(&key) {
                continue;
            }
            let rendered = templates::render(
                Template::MeetingNotice,
                &NoticeContext {
                    body_label: body.label(),
                    date: when.on.format("%A %-d %B %Y").to_string(),
                    time: when.time_text(),
                    references: references.clone(),
                    papers,
                    meeting_url: meeting_url(st, &m.id),
                    notice_days: days as u32,
                    reason: p.reason,
                    service_name: &st.settings.service.name,
                    partnership_name: &st.settings.partnership.name,
                },
            )
            .map_err(AppError::internal)?;
            let subject = rendered.subject.clone();
            let id = if write {
                let id = outbox::insert_if_absent(
                    conn,
                    NewMessage {
                        dedupe_key: key.clone(),
                        kind: OutboxKind::MeetingNotice,
                        recipient_id: Some(p.id.clone()),
                        to_address: p.email.clone(),
                        rendered,
                        case_id: None,
                        deadline_id: None,
                    },
                    now,
                )?;
                if id.is_none() {
                    continue;
                }
                id
            } else {
                None
            };
            out.push(Outgoing {
                id,
                key,
                kind: OutboxKind::MeetingNotice,
                user_id: p.id.clone(),
                user_name: p.name.clone(),
                subject,
            });
        }
    }
    if write && !out.is_empty() {
        tracing::info!(queued = out.len(), "meeting notices queued");
    }
    Ok(out)
}

/// A meeting in someone's calendar feed.
#[derive(Debug, Clone)]
pub struct FeedMeeting {
    pub meeting_id: String,
    /// Named for the body only: nothing about a case or a child.
    pub summary: String,
    pub on: chrono::NaiveDate,
    /// The start in UTC, when a time is set.
    pub starts_utc: Option<NaiveDateTime>,
    pub minutes: u32,
    pub url: String,
}

/// The meetings of the bodies this user sits on (and those they were named deputy for or
/// recorded at), from a year ago on. Lead reviewers and administrators get none.
pub fn feed_meetings(
    conn: &mut DbConnection,
    st: &AppState,
    user_id: &str,
    now: NaiveDateTime,
) -> Result<Vec<FeedMeeting>, AppError> {
    let role: Option<String> = users::table
        .find(user_id)
        .filter(users::active.eq(true))
        .select(users::role)
        .first(conn)
        .optional()?;
    if role
        .as_deref()
        .is_none_or(|r| r == Role::Admin.as_str() || r == Role::LeadReviewer.as_str())
    {
        return Ok(vec![]);
    }
    let bodies: Vec<String> = body_members::table
        .filter(body_members::user_id.eq(user_id))
        .select(body_members::body)
        .load(conn)?;
    let mut attended: Vec<String> = meeting_deputies::table
        .filter(meeting_deputies::deputy_id.eq(user_id))
        .select(meeting_deputies::meeting_id)
        .load(conn)?;
    attended.extend(
        meeting_attendance::table
            .filter(meeting_attendance::user_id.eq(user_id))
            .filter(meeting_attendance::kind.ne("apologies"))
            .select(meeting_attendance::meeting_id)
            .load::<String>(conn)?,
    );
    let since = uk_local(now).date() - Duration::days(365);
    let rows: Vec<MeetingRow> = meetings::table
        .filter(meetings::scheduled_on.ge(since))
        .order((meetings::scheduled_on.asc(), meetings::id.asc()))
        .select(MeetingRow::as_select())
        .load(conn)?;
    let mut out = vec![];
    for m in rows {
        let body = body_of(&m)?;
        if !bodies.iter().any(|b| b == body.membership().as_str()) && !attended.contains(&m.id) {
            continue;
        }
        let when =
            Scheduled::from_stored(m.held_on.unwrap_or(m.scheduled_on), m.start_time.as_deref());
        out.push(FeedMeeting {
            summary: format!("{} meeting", body.label()),
            on: when.on,
            starts_utc: when.at.map(|t| uk_to_utc(when.on.and_time(t))),
            minutes: FEED_MEETING_MINUTES,
            url: meeting_url(st, &m.id),
            meeting_id: m.id,
        });
    }
    Ok(out)
}
