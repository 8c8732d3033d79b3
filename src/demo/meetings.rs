//! The demo's governance: the Sub-Group (six agencies, the ICB with two members) and the Board
//! (five), the meetings at which the cases' decisions were made, and four that show the rules:
//! a Sub-Group meeting that was not quorate (its decision refused), one that commissioned an
//! LCSPR by a vote with a declared conflict and the chair's casting vote, a Board ratification
//! signed off by the Independent Scrutineer, and a Gold Group; and two meetings to come.

use chrono::NaiveDate;
use serde_json::{json, Map, Value};

use super::Demo;
use crate::app::governance::{attendance, bodies, decisions, meetings, minutes};
use crate::app::Actor;
use crate::db::DbConnection;
use crate::domain::governance::{Body, DecisionKind};
use crate::domain::roles::Role;
use crate::error::AppError;

const SUBGROUP_CHAIRS: [&str; 2] = ["chair.health@demo.example", "chair.police@demo.example"];
const SUBGROUP_MEMBERS: [&str; 5] = [
    "member@demo.example",
    "nurse@demo.example",
    "trust@demo.example",
    "nspcc@demo.example",
    "bchc@demo.example",
];
const BOARD_CHAIR: &str = "board@demo.example";
const BOARD_MEMBERS: [&str; 4] = [
    "chair.health@demo.example",
    "board.police@demo.example",
    "board.trust@demo.example",
    "board.council@demo.example",
];

fn map(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

impl Demo {
    fn user(&self, email: &str) -> Actor {
        let i = super::DEMO_USERS
            .iter()
            .position(|(e, ..)| *e == email)
            .expect("a demo user");
        self.actors[i].clone()
    }

    fn ids(&self, emails: &[&str]) -> Vec<String> {
        emails.iter().map(|e| self.user(e).user_id).collect()
    }

    fn admin(&self) -> Actor {
        self.actor(Role::Admin, 0).clone()
    }

    fn pm(&self) -> Actor {
        self.actor(Role::ProgrammeManager, 0).clone()
    }

    /// The core members and chairs of the Sub-Group and the Board.
    pub(super) fn set_up_bodies(&self, conn: &mut DbConnection) -> Result<(), AppError> {
        let admin = self.admin();
        let now = self.st.now();
        let sub = map(json!({
            "members": self.ids(&SUBGROUP_MEMBERS),
            "chairs": self.ids(&SUBGROUP_CHAIRS),
        }));
        bodies::set(conn, &admin, now, Body::Subgroup, &sub)?;
        let board = map(json!({
            "members": self.ids(&BOARD_MEMBERS),
            "chairs": self.ids(&[BOARD_CHAIR]),
        }));
        bodies::set(conn, &admin, now, Body::Board, &board)?;
        Ok(())
    }

    /// The meeting `body` held on `on`, scheduled and held with everyone there the first time.
    fn meeting(
        &self,
        conn: &mut DbConnection,
        body: Body,
        on: NaiveDate,
    ) -> Result<String, AppError> {
        if let Some(id) = self.meetings.borrow().get(&(body, on)) {
            return Ok(id.clone());
        }
        self.clock.set_day(on);
        let pm = self.pm();
        let title = match body {
            Body::Subgroup => "Serious Cases Sub-Group",
            Body::Board => "Executive Board",
            Body::GoldGroup => "Publication and media planning",
        };
        let m = meetings::schedule(
            conn,
            &self.st,
            &pm,
            &map(json!({ "body": body, "title": title, "scheduled_for": format!("{on}T10:00") })),
        )?;
        let (present, guests) = match body {
            Body::Subgroup => {
                let mut p = self.ids(&SUBGROUP_CHAIRS);
                p.extend(self.ids(&SUBGROUP_MEMBERS));
                p.push(pm.user_id.clone());
                (p, json!([]))
            }
            Body::Board => {
                let mut p = self.ids(&[BOARD_CHAIR]);
                p.extend(self.ids(&BOARD_MEMBERS));
                p.push(pm.user_id.clone());
                p.push(self.actor(Role::BusinessManager, 0).user_id.clone());
                (p, json!([]))
            }
            Body::GoldGroup => (
                vec![
                    self.user(SUBGROUP_CHAIRS[0]).user_id,
                    self.user("nurse@demo.example").user_id,
                    pm.user_id.clone(),
                ],
                json!([
                    { "name": "Jo Harris", "organisation": "Birmingham City Council press office" },
                    { "name": "Sam Reid", "organisation": "Family liaison, Birmingham Children's Trust" },
                ]),
            ),
        };
        attendance::record(
            conn,
            &self.st,
            &pm,
            &m.id,
            &map(json!({ "held_on": on.to_string(), "present": present, "guests": guests })),
        )?;
        self.meetings.borrow_mut().insert((body, on), m.id.clone());
        Ok(m.id)
    }

    fn on_agenda(
        &self,
        conn: &mut DbConnection,
        meeting: &str,
        case_id: &str,
    ) -> Result<(), AppError> {
        let pm = self.pm();
        meetings::add_to_agenda(
            conn,
            &self.st,
            &pm,
            meeting,
            &map(json!({ "case_id": case_id })),
        )?;
        Ok(())
    }

    /// The decision an event about to be recorded cites: made that day by consensus at the
    /// body's meeting, unless one of the meetings below made it already.
    pub(super) fn decision_for(
        &self,
        conn: &mut DbConnection,
        case_id: &str,
        event: &Map<String, Value>,
        on: NaiveDate,
    ) -> Result<Option<String>, AppError> {
        let kind = match event.get("type").and_then(Value::as_str) {
            Some("lcspr_decided") => DecisionKind::CommissionLcspr,
            Some("qa_approved") => DecisionKind::QaApprove,
            Some("ratified") => DecisionKind::Ratify,
            Some("publication_planned") => DecisionKind::PublicationPlan,
            _ => return Ok(None),
        };
        if kind.body() == Body::GoldGroup {
            // Convened for one case: a meeting of its own.
            self.meetings.borrow_mut().remove(&(Body::GoldGroup, on));
        }
        let meeting = self.meeting(conn, kind.body(), on)?;
        if let Some(id) = self.made(conn, &meeting, case_id, kind)? {
            return Ok(Some(id));
        }
        self.on_agenda(conn, &meeting, case_id)?;
        let pm = self.pm();
        let d = decisions::record(
            conn,
            &self.st,
            &pm,
            &meeting,
            &map(json!({ "case_id": case_id, "kind": kind, "method": "consensus" })),
        )?;
        Ok(Some(d.id))
    }

    /// A decision of `kind` about the case already made at the meeting.
    fn made(
        &self,
        conn: &mut DbConnection,
        meeting: &str,
        case_id: &str,
        kind: DecisionKind,
    ) -> Result<Option<String>, AppError> {
        let pm = self.pm();
        let (m, _, sight, standing) =
            crate::app::governance::access::visible_meeting(conn, &pm, meeting)?;
        let view = meetings::build(conn, &self.st, &pm, &m, &sight, &standing)?;
        Ok(view
            .decisions
            .iter()
            .find(|d| d.case_id.as_deref() == Some(case_id) && d.kind == kind)
            .map(|d| d.id.clone()))
    }

    /// Child F: the Sub-Group commissions an LCSPR by a vote. The NSPCC's member declares a
    /// conflict (the NSPCC then has no vote); the ICB's two members give one vote; the
    /// Community Healthcare member sends a deputy; two agencies for, two against, one
    /// abstaining: the co-chair's casting vote carries it.
    pub(super) fn commissioning_vote(
        &self,
        conn: &mut DbConnection,
        case_id: &str,
        on: NaiveDate,
    ) -> Result<(), AppError> {
        self.clock.set_day(on);
        let pm = self.pm();
        let chair = self.user(SUBGROUP_CHAIRS[0]);
        let m = meetings::schedule(
            conn,
            &self.st,
            &pm,
            &map(
                json!({ "body": "subgroup", "title": "Serious Cases Sub-Group (extraordinary)", "scheduled_for": format!("{on}T14:00") }),
            ),
        )?;
        self.on_agenda(conn, &m.id, case_id)?;
        let mut present = self.ids(&SUBGROUP_CHAIRS);
        present.extend(self.ids(&[
            "member@demo.example",
            "nurse@demo.example",
            "trust@demo.example",
            "nspcc@demo.example",
        ]));
        present.push(pm.user_id.clone());
        attendance::record(
            conn,
            &self.st,
            &pm,
            &m.id,
            &map(json!({
                "held_on": on.to_string(),
                "present": present,
                "apologies": self.ids(&["bchc@demo.example"]),
                "deputies": [{ "for": self.user("bchc@demo.example").user_id, "by": self.user("deputy@demo.example").user_id }],
            })),
        )?;
        decisions::record(
            conn,
            &self.st,
            &chair,
            &m.id,
            &map(json!({
                "case_id": case_id,
                "kind": "commission_lcspr",
                "method": "vote",
                "votes": [
                    { "agency": "NHS Birmingham and Solihull ICB", "vote": "for" },
                    { "agency": "West Midlands Police", "vote": "for" },
                    { "agency": "Birmingham Children's Trust", "vote": "against" },
                    { "agency": "Education", "vote": "against" },
                    { "agency": "Birmingham Community Healthcare NHS Trust", "vote": "abstain" },
                ],
                "casting_vote": "for",
                "conflicts": self.ids(&["nspcc@demo.example"]),
                "note": "Split on whether the learning is multi-agency; the co-chair's casting vote commissions a local review.",
            })),
        )?;
        minutes::write(
            conn,
            &self.st,
            &pm,
            &m.id,
            &map(
                json!({ "case_id": case_id, "text": "The Panel agreed with the rapid review. Members differed on whether a local review would add to the single-agency learning already under way. The NSPCC member declared a conflict of interest (her service worked with the family) and took no part in the decision. The vote was split; the chair gave the casting vote for a local review." }),
            ),
        )?;
        self.meetings
            .borrow_mut()
            .insert((Body::Subgroup, on), m.id);
        Ok(())
    }

    /// Child H: the Sub-Group meets without a quorum (three agencies, four needed) and cannot
    /// quality-assure the report; the refused decision is in the audit trail.
    pub(super) fn inquorate_meeting(
        &self,
        conn: &mut DbConnection,
        case_id: &str,
        on: NaiveDate,
    ) -> Result<(), AppError> {
        self.clock.set_day(on);
        let pm = self.pm();
        let m = meetings::schedule(
            conn,
            &self.st,
            &pm,
            &map(
                json!({ "body": "subgroup", "title": "Serious Cases Sub-Group", "scheduled_for": format!("{on}T10:00") }),
            ),
        )?;
        self.on_agenda(conn, &m.id, case_id)?;
        attendance::record(
            conn,
            &self.st,
            &pm,
            &m.id,
            &map(json!({
                "held_on": on.to_string(),
                "present": self.ids(&["chair.police@demo.example", "trust@demo.example", "member@demo.example", "pm@demo.example"]),
                "apologies": self.ids(&["chair.health@demo.example", "nurse@demo.example", "nspcc@demo.example", "bchc@demo.example"]),
            })),
        )?;
        let refused = decisions::record(
            conn,
            &self.st,
            &pm,
            &m.id,
            &map(json!({ "case_id": case_id, "kind": "qa_approve", "method": "consensus" })),
        );
        if refused.is_ok() {
            return Err(AppError::internal(anyhow::anyhow!(
                "the demo's inquorate meeting decided"
            )));
        }
        minutes::write(
            conn,
            &self.st,
            &pm,
            &m.id,
            &map(
                json!({ "text": "Not quorate: three agencies present, four needed. The quality assurance of the final report is deferred to the next meeting." }),
            ),
        )?;
        Ok(())
    }

    /// Child L: the Board's meeting that ratified the report, its record signed off by the
    /// Independent Scrutineer.
    pub(super) fn sign_off_board(
        &self,
        conn: &mut DbConnection,
        on: NaiveDate,
    ) -> Result<(), AppError> {
        let Some(id) = self.meetings.borrow().get(&(Body::Board, on)).cloned() else {
            return Ok(());
        };
        let pm = self.pm();
        minutes::write(
            conn,
            &self.st,
            &pm,
            &id,
            &map(
                json!({ "text": "The Sub-Group reported on its reviews. The Board agreed the report is ready for publication." }),
            ),
        )?;
        let scrutineer = self.user(BOARD_CHAIR);
        minutes::sign_off(conn, &self.st, &scrutineer, &id)?;
        Ok(())
    }

    /// Meetings to come: the Board in three working days (its members' notices are due), the
    /// Sub-Group in eight, with the cases waiting for them.
    pub(super) fn meetings_to_come(
        &self,
        conn: &mut DbConnection,
        qa: &str,
        ratify: &str,
    ) -> Result<(), AppError> {
        self.clock.set_day(self.today);
        let pm = self.pm();
        for (body, days, title, case) in [
            (Body::Board, 3, "Executive Board", ratify),
            (Body::Subgroup, 8, "Serious Cases Sub-Group", qa),
        ] {
            let on = crate::domain::calendar::Calendar::shipped()
                .add_working_days(self.st.division, self.today, days)
                .map_or(self.today, |r| r.date);
            let m = meetings::schedule(
                conn,
                &self.st,
                &pm,
                &map(
                    json!({ "body": body, "title": title, "scheduled_for": format!("{on}T10:00") }),
                ),
            )?;
            self.on_agenda(conn, &m.id, case)?;
        }
        Ok(())
    }
}
