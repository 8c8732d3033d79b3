//! The agenda (cases by reference and pseudonym only) and the deputies members name ahead of a
//! meeting.

use std::collections::BTreeMap;

use diesel::prelude::*;
use serde_json::{Map, Value};

use super::access::{self, agenda_ids};
use super::bodies::{people, AgencyRef};
use super::meetings::{check_open, person_of, touch, AgendaItem, DeputyView};
use super::{audited, lock_meeting};
use crate::app::audit::{self, Entry};
use crate::app::{stored, Actor};
use crate::db::models::{AgendaRow, NamedDeputyRow};
use crate::db::schema::{cases, decisions, meeting_agenda, meeting_deputies, meeting_minutes};
use crate::db::{write_tx, DbConnection};
use crate::domain::governance::{may_organise, may_sit};
use crate::domain::input::{Fields, SHORT_MAX};
use crate::error::AppError;
use crate::state::AppState;

/// Puts a case on a meeting's agenda (`{"case_id"}`). A Gold Group meeting takes one case.
pub fn add_to_agenda(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    meeting_id: &str,
    input: &Map<String, Value>,
) -> Result<AgendaItem, AppError> {
    let mut f = Fields::new(input, &[]);
    let case_id = f.short_text("case_id", "the case to put on the agenda");
    audited(
        conn,
        st,
        actor,
        "agenda_case_added",
        Some(meeting_id),
        None,
        |conn| {
            f.finish().map_err(AppError::Invalid)?;
            let now = st.now();
            write_tx(conn, |c| {
                let (m, body, standing) = access::organised_meeting(c, actor, meeting_id)?;
                lock_meeting(c, &m.id)?;
                check_open(&m)?;
                let case: Option<(String, String, String)> = cases::table
                    .find(&case_id)
                    .select((cases::id, cases::reference, cases::child_pseudonym))
                    .first(c)
                    .optional()?;
                let Some((case_id, reference, pseudonym)) = case else {
                    return Err(AppError::invalid("case_id", "no case has that id"));
                };
                if !standing.may_see_case(actor.role, &case_id) {
                    return Err(AppError::invalid("case_id", "no case has that id"));
                }
                let agenda = agenda_ids(c, &m.id)?;
                if agenda.contains(&case_id) {
                    return Err(AppError::invalid(
                        "case_id",
                        format!("{reference} is already on the agenda"),
                    ));
                }
                if body.one_case_per_meeting() && !agenda.is_empty() {
                    return Err(AppError::invalid(
                        "case_id",
                        "a Gold Group is convened for one case, and this one already has its case",
                    ));
                }
                diesel::insert_into(meeting_agenda::table)
                    .values(&AgendaRow {
                        meeting_id: m.id.clone(),
                        case_id: case_id.clone(),
                        position: agenda.len() as i32 + 1,
                        added_by: actor.user_id.clone(),
                        added_at: stored(now),
                    })
                    .execute(c)?;
                touch(c, &m.id, now)?;
                audit::append(
                    c,
                    now,
                    Entry::ok(Some(actor), "agenda_case_added")
                        .case(&case_id)
                        .subject(m.id.clone())
                        .detail(serde_json::json!({ "meeting": m.id, "reference": reference })),
                )?;
                Ok(AgendaItem {
                    case_id,
                    reference,
                    pseudonym,
                    case_visible: true,
                })
            })
        },
    )
}

/// Takes a case off the agenda, while nothing was decided or minuted about it.
pub fn remove_from_agenda(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    meeting_id: &str,
    case_id: &str,
) -> Result<(), AppError> {
    audited(
        conn,
        st,
        actor,
        "agenda_case_removed",
        Some(meeting_id),
        None,
        |conn| {
            let now = st.now();
            write_tx(conn, |c| {
                let (m, _, _) = access::organised_meeting(c, actor, meeting_id)?;
                lock_meeting(c, &m.id)?;
                check_open(&m)?;
                if !agenda_ids(c, &m.id)?.iter().any(|id| id == case_id) {
                    return Err(AppError::NotFound);
                }
                let decided: i64 = decisions::table
                    .filter(decisions::meeting_id.eq(&m.id))
                    .filter(decisions::case_id.eq(case_id))
                    .count()
                    .get_result(c)?;
                let minuted: i64 = meeting_minutes::table
                    .filter(meeting_minutes::meeting_id.eq(&m.id))
                    .filter(meeting_minutes::case_id.eq(case_id))
                    .count()
                    .get_result(c)?;
                if decided + minuted > 0 {
                    return Err(AppError::invalid(
                    "case_id",
                    "the meeting has decisions or minutes about this case; it stays on the agenda",
                ));
                }
                diesel::delete(
                    meeting_agenda::table
                        .filter(meeting_agenda::meeting_id.eq(&m.id))
                        .filter(meeting_agenda::case_id.eq(case_id)),
                )
                .execute(c)?;
                touch(c, &m.id, now)?;
                audit::append(
                    c,
                    now,
                    Entry::ok(Some(actor), "agenda_case_removed")
                        .case(case_id)
                        .subject(m.id.clone())
                        .detail(serde_json::json!({ "meeting": m.id })),
                )?;
                Ok(())
            })
        },
    )
}

/// A core member names a deputy from their own agency for a meeting not yet held
/// (`{"deputy_id"}`, or `null` to withdraw; the organisers may do it for any member with
/// `"member_id"`). "Each member should nominate an appropriate individual to represent their
/// organisation in the event of an unavoidable absence" (Appendix 3).
pub fn name_deputy(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    meeting_id: &str,
    input: &Map<String, Value>,
) -> Result<Vec<DeputyView>, AppError> {
    audited(
        conn,
        st,
        actor,
        "deputy_named",
        Some(meeting_id),
        None,
        |conn| {
            let mut f = Fields::new(input, &["deputy_id"]);
            let member_id = f
                .opt_text_max("member_id", SHORT_MAX)
                .unwrap_or_else(|| actor.user_id.clone());
            let deputy_id = match input.get("deputy_id") {
                None => {
                    f.fail(
                        "deputy_id",
                        "name the deputy (a user id), or null to withdraw the deputy",
                    );
                    None
                }
                Some(Value::Null) => None,
                Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
                Some(_) => {
                    f.fail("deputy_id", "must be a user id, or null");
                    None
                }
            };
            f.finish().map_err(AppError::Invalid)?;
            let now = st.now();
            write_tx(conn, |c| {
                let (m, body, _, _) = access::visible_meeting(c, actor, meeting_id)?;
                lock_meeting(c, &m.id)?;
                if m.held_on.is_some() {
                    return Err(AppError::invalid(
                        "deputy_id",
                        "the meeting has been held: record deputies with its attendance",
                    ));
                }
                let organiser = may_organise(actor.role, body);
                if member_id != actor.user_id && !organiser {
                    return Err(AppError::Forbidden(
                        "you may name a deputy only for yourself".into(),
                    ));
                }
                let members = super::bodies::rows(c, body)?;
                if !members.iter().any(|r| r.user_id == member_id) {
                    return Err(if member_id == actor.user_id && !organiser {
                        AppError::Forbidden(format!(
                            "only a core member of the {} names a deputy for its meetings",
                            body.membership().label()
                        ))
                    } else {
                        AppError::invalid(
                            "member_id",
                            format!(
                                "that person is not a core member of the {}",
                                body.membership().label()
                            ),
                        )
                    });
                }
                let ids: Vec<&str> = [Some(member_id.as_str()), deputy_id.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect();
                let found = people(c, &ids)?;
                if let Some(d) = &deputy_id {
                    check_deputy(&found, &members, &member_id, d, "deputy_id")?;
                }
                diesel::delete(
                    meeting_deputies::table
                        .filter(meeting_deputies::meeting_id.eq(&m.id))
                        .filter(meeting_deputies::member_id.eq(&member_id)),
                )
                .execute(c)?;
                if let Some(d) = &deputy_id {
                    diesel::insert_into(meeting_deputies::table)
                        .values(&NamedDeputyRow {
                            meeting_id: m.id.clone(),
                            member_id: member_id.clone(),
                            deputy_id: d.clone(),
                            named_by: actor.user_id.clone(),
                            named_at: stored(now),
                        })
                        .execute(c)?;
                }
                touch(c, &m.id, now)?;
                audit::append(
                c,
                now,
                Entry::ok(Some(actor), "deputy_named")
                    .subject(m.id.clone())
                    .detail(serde_json::json!({ "meeting": m.id, "member": member_id, "deputy": deputy_id })),
            )?;
                let named: Vec<NamedDeputyRow> = meeting_deputies::table
                    .filter(meeting_deputies::meeting_id.eq(&m.id))
                    .select(NamedDeputyRow::as_select())
                    .load(c)?;
                let ids: Vec<&str> = named
                    .iter()
                    .flat_map(|n| [n.member_id.as_str(), n.deputy_id.as_str()])
                    .collect();
                let found = people(c, &ids)?;
                Ok(named
                    .iter()
                    .map(|n| DeputyView {
                        for_member: person_of(&found, &n.member_id),
                        by: person_of(&found, &n.deputy_id),
                    })
                    .collect())
            })
        },
    )
}

/// A deputy must be an active user from the member's agency who may sit, and not a core member
/// in their own right.
pub fn check_deputy(
    found: &BTreeMap<String, (crate::db::models::UserRow, Option<AgencyRef>)>,
    members: &[crate::db::models::BodyMemberRow],
    member_id: &str,
    deputy_id: &str,
    field: &str,
) -> Result<(), AppError> {
    let Some((deputy, deputy_agency)) = found.get(deputy_id) else {
        return Err(AppError::invalid(
            field,
            format!("no user has the id {deputy_id}"),
        ));
    };
    let member = found.get(member_id);
    let member_name = member.map_or("the member", |(u, _)| u.name.as_str());
    let role = deputy
        .role
        .parse()
        .map_err(|e: String| AppError::internal(anyhow::anyhow!(e)))?;
    if deputy_id == member_id {
        return Err(AppError::invalid(
            field,
            "a member cannot deputise for themselves",
        ));
    }
    if !deputy.active || !may_sit(role) {
        return Err(AppError::invalid(
            field,
            format!("{} cannot be a deputy (administrators, lead reviewers and deactivated users cannot)", deputy.name),
        ));
    }
    if members.iter().any(|r| r.user_id == deputy_id) {
        return Err(AppError::invalid(
            field,
            format!("{} is a core member in their own right", deputy.name),
        ));
    }
    let member_agency = member.and_then(|(_, a)| a.as_ref());
    if deputy_agency.is_none() || deputy_agency.as_ref() != member_agency {
        return Err(AppError::invalid(
            field,
            format!(
                "{} is not from {member_name}'s agency ({}): a deputy represents the same agency",
                deputy.name,
                member_agency.map_or("none", |a| a.name.as_str())
            ),
        ));
    }
    Ok(())
}
