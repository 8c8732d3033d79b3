//! Governance (DESIGN.md §6, the terms of reference in Appendix 3 of the seed): the bodies that
//! meet, the decisions they make and how those are counted. Pure rules: the quorum
//! ([`quorum`]) and the vote by agency with conflicts and the chair's casting vote ([`tally`]).
//! How the seed's wording was read is in `docs/GOVERNANCE.md`.

pub mod quorum;
pub mod tally;

use chrono::{NaiveDate, NaiveTime};

use super::events::EventType;
use super::roles::Role;
use crate::text_enum;

/// Who schedules a body's meetings and records their agenda, attendance, minutes and
/// decisions: the co-chairs and the programme manager for the Sub-Group and the Gold Group;
/// the business manager and the programme manager for the Board.
pub fn may_organise(role: Role, body: Body) -> bool {
    match body {
        Body::Subgroup | Body::GoldGroup => matches!(role, Role::CoChair | Role::ProgrammeManager),
        Body::Board => matches!(role, Role::BusinessManager | Role::ProgrammeManager),
    }
}

/// Who may be a core member or a deputy: not administrators (no case content) and not lead
/// reviewers (independent, and they see only their own cases).
pub fn may_sit(role: Role) -> bool {
    !matches!(role, Role::Admin | Role::LeadReviewer)
}

text_enum! {
    /// A body that meets and decides.
    pub enum Body {
        /// The Serious Cases Sub-Group: rapid reviews, commissioning, quality assurance.
        Subgroup = ("subgroup", "Serious Cases Sub-Group"),
        /// The Executive Board, chaired by the Independent Scrutineer: ratification.
        Board = ("board", "Executive Board"),
        /// Publication and Media Planning ("Gold Group"), convened by the Sub-Group for one case.
        GoldGroup = ("gold_group", "Gold Group (Publication and Media Planning)"),
    }
}

impl Body {
    /// Whose core members and chairs sit at this body's meetings. The Gold Group has no
    /// standing membership: the Sub-Group convenes it for a case.
    pub fn membership(self) -> Body {
        match self {
            Body::GoldGroup => Body::Subgroup,
            other => other,
        }
    }

    /// Bodies whose core members and chairs an administrator sets.
    pub fn has_standing_members(self) -> bool {
        self != Body::GoldGroup
    }

    /// Whether a meeting of this body takes one case only ("convened per case").
    pub fn one_case_per_meeting(self) -> bool {
        self == Body::GoldGroup
    }

    /// What its chairs are called.
    pub fn chair_title(self) -> &'static str {
        match self {
            Body::Board => "the Independent Scrutineer",
            Body::Subgroup | Body::GoldGroup => "a Sub-Group co-chair",
        }
    }

    /// A short name for lists and email subjects.
    pub fn short_label(self) -> &'static str {
        match self {
            Body::Subgroup => "Sub-Group",
            Body::Board => "Executive Board",
            Body::GoldGroup => "Gold Group",
        }
    }
}

text_enum! {
    /// What a decision decides.
    pub enum DecisionKind {
        CommissionLcspr = ("commission_lcspr", "Commission a local child safeguarding practice review"),
        NoLcspr = ("no_lcspr", "No local review"),
        QaApprove = ("qa_approve", "Final report quality-assured"),
        Ratify = ("ratify", "Report ratified for publication"),
        PublicationPlan = ("publication_plan", "Publication plan agreed"),
        Other = ("other", "Other decision"),
    }
}

impl DecisionKind {
    /// The body that makes this kind of decision: ratification at the Board, the publication
    /// plan at the Gold Group, the rest at the Sub-Group.
    pub fn body(self) -> Body {
        match self {
            DecisionKind::Ratify => Body::Board,
            DecisionKind::PublicationPlan => Body::GoldGroup,
            _ => Body::Subgroup,
        }
    }

    /// Every kind but `other` is about one case.
    pub fn needs_case(self) -> bool {
        self != DecisionKind::Other
    }

    /// The kinds a body makes.
    pub fn made_by(body: Body) -> Vec<DecisionKind> {
        DecisionKind::ALL
            .iter()
            .copied()
            .filter(|k| k.body() == body)
            .collect()
    }
}

/// The decision a case event cites, and whether it must (with
/// `governance.require_meeting_decision`): `lcspr_decided`, `qa_approved` and `ratified` record
/// what a meeting decided; `publication_planned` may cite the Gold Group's plan.
pub fn decision_for_event(kind: EventType) -> Option<(DecisionKind, bool)> {
    match kind {
        EventType::LcsprDecided => Some((DecisionKind::CommissionLcspr, true)),
        EventType::QaApproved => Some((DecisionKind::QaApprove, true)),
        EventType::Ratified => Some((DecisionKind::Ratify, true)),
        EventType::PublicationPlanned => Some((DecisionKind::PublicationPlan, false)),
        _ => None,
    }
}

text_enum! {
    /// How a decision was reached.
    pub enum Method {
        Consensus = ("consensus", "By consensus"),
        Vote = ("vote", "By a vote of the agencies"),
    }
}

text_enum! {
    /// One agency's vote.
    pub enum Vote {
        For = ("for", "For"),
        Against = ("against", "Against"),
        Abstain = ("abstain", "Abstained"),
    }
}

text_enum! {
    /// The chair's casting vote in a split.
    pub enum CastingVote {
        For = ("for", "For"),
        Against = ("against", "Against"),
    }
}

text_enum! {
    /// Where a meeting stands.
    pub enum MeetingStatus {
        Scheduled = ("scheduled", "Scheduled"),
        Held = ("held", "Held"),
        SignedOff = ("signed_off", "Signed off"),
    }
}

text_enum! {
    /// What came of a decision.
    pub enum Outcome {
        Carried = ("carried", "Carried"),
        NotCarried = ("not_carried", "Not carried"),
    }
}

text_enum! {
    /// How someone was recorded at a held meeting.
    pub enum AttendanceKind {
        Present = ("present", "Present"),
        Apologies = ("apologies", "Apologies"),
        /// Stood in for an absent core member of the same agency.
        Deputy = ("deputy", "Deputy"),
    }
}

text_enum! {
    /// When a conflict of interest that excluded a member was declared.
    pub enum Declared {
        AtMeeting = ("at_meeting", "Declared at the meeting"),
        Earlier = ("earlier", "Declared earlier on the case"),
    }
}

/// When a meeting is: a day, and the time it starts (UK local time) when known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scheduled {
    pub on: NaiveDate,
    pub at: Option<NaiveTime>,
}

impl Scheduled {
    /// Reads `YYYY-MM-DD`, or `YYYY-MM-DDTHH:MM` (a space instead of `T`, and seconds, are
    /// accepted): the time is UK local time.
    pub fn parse(s: &str) -> Result<Scheduled, String> {
        let s = s.trim();
        let bad =
            || format!("{s:?} is not a date (YYYY-MM-DD) or a date and time (YYYY-MM-DDTHH:MM)");
        let (day, time) = match s.split_once(['T', ' ']) {
            Some((d, t)) => (d, Some(t)),
            None => (s, None),
        };
        let on = NaiveDate::parse_from_str(day, "%Y-%m-%d").map_err(|_| bad())?;
        let at = match time {
            None => None,
            Some(t) => Some(
                NaiveTime::parse_from_str(t, "%H:%M")
                    .or_else(|_| NaiveTime::parse_from_str(t, "%H:%M:%S"))
                    .map_err(|_| bad())?,
            ),
        };
        Ok(Scheduled { on, at })
    }

    /// The stored time, `HH:MM`.
    pub fn time_text(&self) -> Option<String> {
        self.at.map(|t| t.format("%H:%M").to_string())
    }

    /// As written in the API: `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM`.
    pub fn to_api(&self) -> String {
        match self.at {
            Some(t) => format!("{}T{}", self.on, t.format("%H:%M")),
            None => self.on.to_string(),
        }
    }

    /// From the stored day and `HH:MM` text.
    pub fn from_stored(on: NaiveDate, time: Option<&str>) -> Scheduled {
        Scheduled {
            on,
            at: time.and_then(|t| NaiveTime::parse_from_str(t, "%H:%M").ok()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_is_decided_by_the_body_the_issue_names() {
        assert_eq!(DecisionKind::Ratify.body(), Body::Board);
        assert_eq!(DecisionKind::PublicationPlan.body(), Body::GoldGroup);
        for k in [
            DecisionKind::CommissionLcspr,
            DecisionKind::NoLcspr,
            DecisionKind::QaApprove,
            DecisionKind::Other,
        ] {
            assert_eq!(k.body(), Body::Subgroup, "{k}");
        }
        assert_eq!(
            DecisionKind::made_by(Body::Board),
            vec![DecisionKind::Ratify]
        );
        assert_eq!(Body::GoldGroup.membership(), Body::Subgroup);
        assert!(!Body::GoldGroup.has_standing_members());
    }

    #[test]
    fn who_organises_which_body() {
        let organisers = |body| {
            Role::ALL
                .into_iter()
                .filter(|r| may_organise(*r, body))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            organisers(Body::Subgroup),
            vec![Role::ProgrammeManager, Role::CoChair]
        );
        assert_eq!(organisers(Body::GoldGroup), organisers(Body::Subgroup));
        assert_eq!(
            organisers(Body::Board),
            vec![Role::BusinessManager, Role::ProgrammeManager]
        );
        assert!(!may_sit(Role::LeadReviewer) && !may_sit(Role::Admin));
        assert!(may_sit(Role::SubgroupMember) && may_sit(Role::BoardMember));
    }

    #[test]
    fn the_events_that_cite_a_decision() {
        assert_eq!(
            decision_for_event(EventType::LcsprDecided),
            Some((DecisionKind::CommissionLcspr, true))
        );
        assert_eq!(
            decision_for_event(EventType::Ratified),
            Some((DecisionKind::Ratify, true))
        );
        assert_eq!(
            decision_for_event(EventType::PublicationPlanned),
            Some((DecisionKind::PublicationPlan, false))
        );
        assert_eq!(decision_for_event(EventType::Published), None);
    }

    #[test]
    fn scheduled_for_is_a_date_or_a_date_and_time() {
        let d = Scheduled::parse("2026-12-10").unwrap();
        assert_eq!((d.on.to_string(), d.at), ("2026-12-10".into(), None));
        assert_eq!(d.to_api(), "2026-12-10");
        let t = Scheduled::parse("2026-12-10T09:30").unwrap();
        assert_eq!(t.to_api(), "2026-12-10T09:30");
        assert_eq!(Scheduled::parse("2026-12-10 09:30:00").unwrap(), t);
        assert_eq!(Scheduled::from_stored(t.on, t.time_text().as_deref()), t);
        let err = Scheduled::parse("10/12/2026").unwrap_err();
        assert!(err.contains("YYYY-MM-DD"), "{err}");
        assert!(Scheduled::parse("2026-12-10T25:00").is_err());
    }
}
