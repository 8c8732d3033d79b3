//! Who sees a meeting, and how much of it. Members read the meetings of their bodies; the
//! organisers (`domain::governance::may_organise`), the programme manager and the business
//! manager read them all; a deputy named for a meeting, or recorded at it, reads that meeting;
//! a lead reviewer sees only the meetings with their cases on the agenda, and only those cases;
//! administrators see none. A meeting someone may not see answers 404, as a case does.

use std::collections::{BTreeSet, HashSet};

use diesel::prelude::*;

use crate::app::Actor;
use crate::db::models::MeetingRow;
use crate::db::schema::{
    body_members, case_people, meeting_agenda, meeting_attendance, meeting_deputies,
};
use crate::db::DbConnection;
use crate::domain::governance::{may_organise, Body};
use crate::domain::roles::{Relation, Role};
use crate::error::AppError;

/// How much of a meeting someone sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sight {
    /// The whole meeting (agenda cases the person may not see are named, without their
    /// minutes).
    Whole,
    /// Only these agenda cases, their decisions and minutes (a lead reviewer's own cases).
    Cases(BTreeSet<String>),
}

impl Sight {
    pub fn sees_case(&self, case_id: &str) -> bool {
        match self {
            Sight::Whole => true,
            Sight::Cases(ids) => ids.contains(case_id),
        }
    }

    pub fn is_whole(&self) -> bool {
        *self == Sight::Whole
    }
}

/// What one person is to the meetings: read once, used for many meetings.
#[derive(Debug, Clone, Default)]
pub struct Standing {
    /// Bodies (`subgroup`, `board`) the person is a core member of.
    pub member_of: HashSet<String>,
    /// Bodies the person chairs.
    pub chair_of: HashSet<String>,
    /// Meetings the person was named deputy for, or recorded at.
    pub attended: HashSet<String>,
    /// Cases the person is appointed to as lead reviewer.
    pub appointed: HashSet<String>,
    /// Cases the person declared a conflict of interest on.
    pub conflicted: HashSet<String>,
}

impl Standing {
    pub fn of(conn: &mut DbConnection, user_id: &str) -> Result<Standing, AppError> {
        let mut s = Standing::default();
        let rows: Vec<(String, bool)> = body_members::table
            .filter(body_members::user_id.eq(user_id))
            .select((body_members::body, body_members::chair))
            .load(conn)?;
        for (body, chair) in rows {
            if chair {
                s.chair_of.insert(body.clone());
            }
            s.member_of.insert(body);
        }
        s.attended.extend(
            meeting_deputies::table
                .filter(meeting_deputies::deputy_id.eq(user_id))
                .select(meeting_deputies::meeting_id)
                .load::<String>(conn)?,
        );
        s.attended.extend(
            meeting_attendance::table
                .filter(meeting_attendance::user_id.eq(user_id))
                .filter(meeting_attendance::kind.ne("apologies"))
                .select(meeting_attendance::meeting_id)
                .load::<String>(conn)?,
        );
        let relations: Vec<(String, String)> = case_people::table
            .filter(case_people::user_id.eq(user_id))
            .select((case_people::case_id, case_people::relation))
            .load(conn)?;
        for (case, relation) in relations {
            match relation.parse::<Relation>() {
                Ok(Relation::LeadReviewer) => {
                    s.appointed.insert(case);
                }
                Ok(Relation::Conflict) => {
                    s.conflicted.insert(case);
                }
                Err(_) => {}
            }
        }
        Ok(s)
    }

    /// A core member (or chair) of the body whose members sit at `body`'s meetings.
    pub fn is_member(&self, body: Body) -> bool {
        self.member_of.contains(body.membership().as_str())
    }

    pub fn is_chair(&self, body: Body) -> bool {
        self.chair_of.contains(body.membership().as_str())
    }

    /// May the person see this case's details (minutes, a link to it)? The case rule of
    /// `Role::may_see_case`.
    pub fn may_see_case(&self, role: Role, case_id: &str) -> bool {
        role.may_see_case(
            self.appointed.contains(case_id),
            self.conflicted.contains(case_id),
        )
    }
}

/// How much of `meeting` this person sees (`None`: nothing, a 404). `agenda` is the meeting's
/// agenda case ids.
pub fn sight(
    actor: &Actor,
    standing: &Standing,
    meeting: &MeetingRow,
    body: Body,
    agenda: &[String],
) -> Option<Sight> {
    let role = actor.role;
    if role == Role::Admin {
        return None;
    }
    if role == Role::LeadReviewer {
        // Even when recorded at the meeting (presenting a report), only their own cases.
        let mine: BTreeSet<String> = agenda
            .iter()
            .filter(|c| standing.appointed.contains(*c))
            .cloned()
            .collect();
        return (!mine.is_empty()).then_some(Sight::Cases(mine));
    }
    if may_organise(role, body)
        || matches!(role, Role::ProgrammeManager | Role::BusinessManager)
        || standing.is_member(body)
        || standing.attended.contains(&meeting.id)
    {
        return Some(Sight::Whole);
    }
    None
}

/// The agenda case ids of one meeting, in order.
pub fn agenda_ids(conn: &mut DbConnection, meeting_id: &str) -> Result<Vec<String>, AppError> {
    Ok(meeting_agenda::table
        .filter(meeting_agenda::meeting_id.eq(meeting_id))
        .order(meeting_agenda::position.asc())
        .select(meeting_agenda::case_id)
        .load(conn)?)
}

/// The meeting, if this person may see it, with how much; `NotFound` otherwise.
pub fn visible_meeting(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
) -> Result<(MeetingRow, Body, Sight, Standing), AppError> {
    let meeting = super::find_meeting(conn, id)?.ok_or(AppError::NotFound)?;
    let body = super::body_of(&meeting)?;
    let standing = Standing::of(conn, &actor.user_id)?;
    let agenda = agenda_ids(conn, &meeting.id)?;
    let sight = sight(actor, &standing, &meeting, body, &agenda).ok_or(AppError::NotFound)?;
    Ok((meeting, body, sight, standing))
}

/// As [`visible_meeting`], and the person must organise the body's meetings (403 otherwise).
pub fn organised_meeting(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
) -> Result<(MeetingRow, Body, Standing), AppError> {
    let (meeting, body, _, standing) = visible_meeting(conn, actor, id)?;
    if !may_organise(actor.role, body) {
        return Err(AppError::Forbidden(organiser_message(body)));
    }
    Ok((meeting, body, standing))
}

/// Who organises a body's meetings, as a refusal says it.
pub fn organiser_message(body: Body) -> String {
    match body {
        Body::Board => "only the business manager and the programme manager record the Executive Board's meetings".into(),
        Body::Subgroup | Body::GoldGroup => format!(
            "only the co-chairs and the programme manager record the meetings of the {}",
            body.short_label()
        ),
    }
}
