//! Key points and minutes, for the meeting and for each agenda case. They are edited freely
//! until a chair signs the record off; after that a change is a correction and carries its
//! reason. Every save is kept as a revision.

use diesel::prelude::*;
use serde_json::{Map, Value};

use super::access;
use super::meetings::{self, MeetingView};
use super::{audited, lock_meeting};
use crate::app::audit::{self, Entry};
use crate::app::{new_id, stored, Actor};
use crate::db::models::MinutesRow;
use crate::db::schema::{self, meeting_minutes};
use crate::db::{write_tx, DbConnection};
use crate::domain::input::{Fields, NOTE_MAX, SHORT_MAX};
use crate::error::AppError;
use crate::state::AppState;

/// Longest minutes text.
pub const MINUTES_MAX: usize = 10 * NOTE_MAX;

/// Writes the minutes of the meeting (no `case_id`) or of one agenda case:
/// `{"case_id"?, "text", "reason"?}`. After the sign-off `reason` is required.
pub fn write(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    meeting_id: &str,
    input: &Map<String, Value>,
) -> Result<MeetingView, AppError> {
    audited(
        conn,
        st,
        actor,
        "minutes_written",
        Some(meeting_id),
        None,
        |conn| {
            let mut f = Fields::new(input, &[]);
            let case_id = f.opt_text_max("case_id", SHORT_MAX);
            let text = f.opt_text_max("text", MINUTES_MAX);
            let reason = f.opt_text("reason");
            if text.is_none() && !f.has_errors() {
                f.fail("text", "enter the key points or minutes");
            }
            f.finish().map_err(AppError::Invalid)?;
            let text = text.expect("checked");
            let now = st.now();
            write_tx(conn, |c| {
                let (m, body, _, standing) = access::visible_meeting(c, actor, meeting_id)?;
                let organiser = crate::domain::governance::may_organise(actor.role, body);
                let chair = standing.is_chair(body);
                let signed_off = m.signed_off_at.is_some();
                if !(organiser || (signed_off && chair)) {
                    return Err(AppError::Forbidden(access::organiser_message(body)));
                }
                lock_meeting(c, &m.id)?;
                if m.held_on.is_none() {
                    return Err(AppError::invalid(
                        "meeting",
                        "record the meeting's attendance first: minutes are of a held meeting",
                    ));
                }
                if let Some(case) = &case_id {
                    if !access::agenda_ids(c, &m.id)?.contains(case) {
                        return Err(AppError::invalid(
                            "case_id",
                            "that case is not on this meeting's agenda",
                        ));
                    }
                }
                let correction_reason = match (signed_off, &reason) {
                    (true, None) => {
                        return Err(AppError::invalid(
                            "reason",
                            "the minutes were signed off: give the reason for this correction",
                        ))
                    }
                    (true, Some(r)) => Some(r.clone()),
                    (false, _) => None,
                };
                let revision = meeting_minutes::table
                    .filter(meeting_minutes::meeting_id.eq(&m.id))
                    .select(diesel::dsl::max(meeting_minutes::revision))
                    .first::<Option<i32>>(c)?
                    .unwrap_or(0)
                    + 1;
                diesel::insert_into(meeting_minutes::table)
                    .values(&MinutesRow {
                        id: new_id(),
                        meeting_id: m.id.clone(),
                        case_id: case_id.clone(),
                        revision,
                        text: text.clone(),
                        correction_reason: correction_reason.clone(),
                        written_by: actor.user_id.clone(),
                        written_at: stored(now),
                    })
                    .execute(c)?;
                meetings::touch(c, &m.id, now)?;
                let action = if signed_off {
                    "minutes_corrected"
                } else {
                    "minutes_written"
                };
                let mut entry = Entry::ok(Some(actor), action).subject(m.id.clone()).detail(
                    serde_json::json!({
                        "meeting": m.id, "revision": revision, "chars": text.chars().count(),
                        "reason": correction_reason,
                    }),
                );
                if let Some(case) = &case_id {
                    entry = entry.case(case);
                }
                audit::append(c, now, entry)?;
                Ok(())
            })
        },
    )?;
    let (m, _, sight, standing) = access::visible_meeting(conn, actor, meeting_id)?;
    meetings::build(conn, st, actor, &m, &sight, &standing)
}

/// A chair of the body signs the record of a held meeting off: the minutes are then fixed.
pub fn sign_off(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    meeting_id: &str,
) -> Result<MeetingView, AppError> {
    audited(
        conn,
        st,
        actor,
        "minutes_signed_off",
        Some(meeting_id),
        None,
        |conn| {
            let now = st.now();
            write_tx(conn, |c| {
                let (m, body, _, standing) = access::visible_meeting(c, actor, meeting_id)?;
                if !standing.is_chair(body) {
                    return Err(AppError::Forbidden(format!(
                        "the record of a {} meeting is signed off by {}",
                        body.short_label(),
                        body.chair_title()
                    )));
                }
                lock_meeting(c, &m.id)?;
                if m.held_on.is_none() {
                    return Err(AppError::invalid(
                        "meeting",
                        "the meeting has not been held: record its attendance first",
                    ));
                }
                meetings::check_open(&m)?;
                diesel::update(schema::meetings::table.find(&m.id))
                    .set((
                        schema::meetings::signed_off_at.eq(Some(stored(now))),
                        schema::meetings::signed_off_by.eq(Some(&actor.user_id)),
                        schema::meetings::updated_at.eq(stored(now)),
                    ))
                    .execute(c)?;
                audit::append(
                    c,
                    now,
                    Entry::ok(Some(actor), "minutes_signed_off")
                        .subject(m.id.clone())
                        .detail(serde_json::json!({ "meeting": m.id })),
                )?;
                Ok(())
            })
        },
    )?;
    let (m, _, sight, standing) = access::visible_meeting(conn, actor, meeting_id)?;
    meetings::build(conn, st, actor, &m, &sight, &standing)
}
