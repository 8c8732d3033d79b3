//! The statutory workflow: which role may record which event, in which stage, and where the
//! case goes next. A case's state is a fold over its events.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::case::Stage;
use super::events::{Decision, Event, EventData, EventType, PanelOutcome, PublicationFormat};
use super::replay;
use super::roles::Role;

/// May this role ever record this type of event? (A lead reviewer must also be appointed to
/// the case; that is checked with the case.) Refusal here is a 403.
pub fn may_record(role: Role, kind: EventType) -> bool {
    use EventType::*;
    match kind {
        // Recorded by the service itself.
        Aware | ReportVersionUploaded => false,
        LcsprDecided | QaApproved | Withdrawn | Closed | DeadlineWaived => role == Role::CoChair,
        Ratified => matches!(role, Role::CoChair | Role::BoardMember),
        ReviewMeeting
        | LearningWorkshop
        | FamilyEngagement
        | PractitionerEngagement
        | FinalReportSubmitted
        | WebinarHeld => matches!(
            role,
            Role::CoChair | Role::ProgrammeManager | Role::LeadReviewer
        ),
        _ => matches!(role, Role::CoChair | Role::ProgrammeManager),
    }
}

/// The event types a role may record at all.
pub fn recordable_by(role: Role) -> Vec<EventType> {
    EventType::ALL
        .iter()
        .copied()
        .filter(|k| may_record(role, *k))
        .collect()
}

/// An improvement action from `action_added`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    pub description: String,
    pub owner_agency: String,
    pub due_on: NaiveDate,
    pub done_on: Option<NaiveDate>,
}

/// The current publication plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub publication_on: NaiveDate,
    pub format: PublicationFormat,
}

/// What the events say about a case now.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseState {
    pub stage: Stage,
    /// Date of the latest event.
    pub latest_on: NaiveDate,
    pub decision: Option<Decision>,
    pub rapid_review_on: Option<NaiveDate>,
    pub lcspr_decided: bool,
    pub reviewers: Vec<String>,
    pub plan: Option<Plan>,
    pub actions: BTreeMap<String, Action>,
}

impl CaseState {
    /// The state of a case given its events in order (the first is `aware`).
    pub fn from_events(events: &[Event]) -> CaseState {
        let mut state = CaseState {
            stage: Stage::Notification,
            latest_on: events.first().map_or(NaiveDate::MIN, |e| e.occurred_on),
            decision: None,
            rapid_review_on: None,
            lcspr_decided: false,
            reviewers: vec![],
            plan: None,
            actions: BTreeMap::new(),
        };
        for e in events {
            state.apply(e.occurred_on, &e.data);
        }
        state
    }

    /// Applies an already-accepted event.
    pub fn apply(&mut self, on: NaiveDate, data: &EventData) {
        self.latest_on = self.latest_on.max(on);
        self.stage = next_stage(self, data);
        match data {
            EventData::RapidReviewSent { decision, .. } => {
                self.decision = Some(*decision);
                self.rapid_review_on = Some(on);
            }
            EventData::LcsprDecided { .. } => self.lcspr_decided = true,
            EventData::ReviewerAppointed { reviewer_id, .. }
                if !self.reviewers.contains(reviewer_id) =>
            {
                self.reviewers.push(reviewer_id.clone());
            }
            EventData::PublicationPlanned {
                publication_on,
                format,
                ..
            } => {
                self.plan = Some(Plan {
                    publication_on: *publication_on,
                    format: *format,
                })
            }
            EventData::PublicationDelayed {
                revised_publication_on: Some(revised),
                ..
            } => {
                if let Some(plan) = &mut self.plan {
                    plan.publication_on = *revised;
                }
            }
            EventData::ActionAdded {
                action_id,
                description,
                owner_agency,
                due_on,
            } => {
                self.actions.insert(
                    action_id.clone(),
                    Action {
                        description: description.clone(),
                        owner_agency: owner_agency.clone(),
                        due_on: *due_on,
                        done_on: None,
                    },
                );
            }
            EventData::ActionDone { action_id, .. } => {
                if let Some(a) = self.actions.get_mut(action_id) {
                    a.done_on = Some(on);
                }
            }
            _ => {}
        }
    }

    pub fn open_actions(&self) -> impl Iterator<Item = (&String, &Action)> {
        self.actions.iter().filter(|(_, a)| a.done_on.is_none())
    }

    /// Can this type of event be recorded in the current stage? `Err` says why not, in words
    /// a person can act on.
    pub fn check_stage(&self, kind: EventType) -> Result<(), String> {
        use EventType as E;
        use Stage as S;
        let stage = self.stage;
        let ok = match kind {
            E::Aware | E::ReportVersionUploaded => true,
            E::SinSubmitted => stage == S::Notification,
            E::PartnersInformed => matches!(stage, S::Notification | S::RapidReview),
            E::LacDeathNotified | E::DeadlineWaived => !stage.is_final(),
            E::RapidReviewSent => stage == S::RapidReview,
            E::PanelResponse => matches!(stage, S::PanelResponse | S::Commissioning),
            E::LcsprDecided => matches!(stage, S::PanelResponse | S::Commissioning),
            E::ReviewerAppointed => {
                if stage == S::Commissioning && !self.lcspr_decided {
                    return Err(
                        "record the decision to initiate the LCSPR before appointing a reviewer"
                            .into(),
                    );
                }
                matches!(stage, S::Commissioning | S::InReview | S::QualityAssurance)
            }
            E::ReviewMeeting
            | E::LearningWorkshop
            | E::FamilyEngagement
            | E::PractitionerEngagement
            | E::ProgressCheck => matches!(stage, S::InReview | S::QualityAssurance),
            E::FinalReportSubmitted => stage == S::InReview,
            E::QaApproved => matches!(stage, S::InReview | S::QualityAssurance),
            E::Ratified => stage == S::Ratification,
            E::PublicationPlanned | E::PublicationDelayed | E::PrepubCopySent => {
                stage == S::PublicationPlanning
            }
            E::Published => stage == S::PublicationPlanning,
            E::NspccSent
            | E::BriefingPublished
            | E::WebinarHeld
            | E::ActionAdded
            | E::ActionDone => {
                matches!(stage, S::Published | S::Learning | S::NationalReview)
                    || (stage == S::PublicationPlanning
                        && self.plan.map(|p| p.format) == Some(PublicationFormat::None))
            }
            E::Archived => matches!(stage, S::Published | S::Learning | S::Closed),
            E::Withdrawn => matches!(stage, S::Notification | S::RapidReview),
            E::Closed => {
                if matches!(stage, S::Learning | S::NationalReview) {
                    if let Some((_, a)) = self.open_actions().next() {
                        return Err(format!(
                            "the case still has open improvement actions (e.g. \"{}\" owned by {}); record them done first",
                            a.description, a.owner_agency
                        ));
                    }
                    true
                } else {
                    false
                }
            }
        };
        if ok {
            Ok(())
        } else {
            Err(format!(
                "\"{}\" cannot be recorded while the case is at the {} stage",
                kind.label(),
                stage.label().to_lowercase()
            ))
        }
    }
}

/// A case's events in replay order, by date and, on the same date, in the order first
/// recorded, with the state they fold to. Folded once when loaded; an event added after the
/// latest one is checked against that state and applied to it, one dated earlier (or a
/// correction, or a void) replays the history from the first event it changes, each event
/// checked again ([`replay`]).
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    events: Vec<Event>,
    state: CaseState,
    next_sequence: i32,
}

impl History {
    pub fn new(events: Vec<Event>) -> History {
        let next = events.iter().map(|e| e.sequence).max().unwrap_or(0) + 1;
        History::with_next_sequence(events, next)
    }

    /// A history whose stored entries (superseded and voided ones included) go up to
    /// `next_sequence - 1`.
    pub fn with_next_sequence(mut events: Vec<Event>, next_sequence: i32) -> History {
        events.sort_by_key(Event::replay_key);
        let state = CaseState::from_events(&events);
        let next_sequence = events
            .iter()
            .map(|e| e.sequence + 1)
            .fold(next_sequence, i32::max);
        History {
            events,
            state,
            next_sequence,
        }
    }

    /// The events in replay order.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// The state after every event.
    pub fn state(&self) -> &CaseState {
        &self.state
    }

    /// The sequence number the next recorded entry takes.
    pub fn next_sequence(&self) -> i32 {
        self.next_sequence
    }

    /// The event with this sequence.
    pub fn get(&self, sequence: i32) -> Option<&Event> {
        self.events.iter().find(|e| e.sequence == sequence)
    }

    /// Adds an accepted event in its place, unchecked (the service's own events, which every
    /// stage allows).
    pub fn push(&mut self, event: Event) {
        self.next_sequence = self.next_sequence.max(event.sequence + 1);
        let at = self
            .events
            .partition_point(|e| e.replay_key() <= event.replay_key());
        if at == self.events.len() {
            self.state.apply(event.occurred_on, &event.data);
            self.events.push(event);
        } else {
            self.events.insert(at, event);
            self.state = CaseState::from_events(&self.events);
        }
    }

    /// Replaces the event with sequence `remove` (if any) by `add` (if any), checking the
    /// replay from the first event that changes. Unchanged when refused: the first event the
    /// change would break, and why.
    pub fn change(
        &mut self,
        remove: Option<i32>,
        add: Option<Event>,
        ctx: &replay::Context<'_>,
    ) -> Result<(), replay::Broken> {
        if remove.is_none() {
            if let Some(e) = &add {
                if self.events.last().is_none_or(|l| e.is_after(l)) {
                    // After every other event: checked against the state as it is.
                    let checked = replay::check_event(&self.state, &self.events, e, ctx);
                    if let Err(errors) = checked {
                        return Err(replay::Broken {
                            sequence: e.sequence,
                            kind: e.kind(),
                            occurred_on: e.occurred_on,
                            errors,
                        });
                    }
                    self.push(add.expect("checked above"));
                    return Ok(());
                }
            }
        }
        let mut events = self.events.clone();
        let mut from = events.len();
        if let Some(seq) = remove {
            if let Some(i) = events.iter().position(|e| e.sequence == seq) {
                events.remove(i);
                from = i;
            }
        }
        let mut next = self.next_sequence;
        if let Some(e) = add {
            next = next.max(e.sequence + 1);
            let at = events.partition_point(|x| x.replay_key() <= e.replay_key());
            events.insert(at, e);
            from = from.min(at);
        }
        let before = CaseState::from_events(&events[..from]);
        let state = replay::replay_from(&events, from, before, ctx)?;
        self.events = events;
        self.state = state;
        self.next_sequence = next;
        Ok(())
    }
}

/// Where the case goes when this event is recorded in the current state.
fn next_stage(state: &CaseState, data: &EventData) -> Stage {
    use Stage::{
        Closed, Commissioning, InReview, Learning, NationalReview, PanelResponse,
        PublicationPlanning, Published, QualityAssurance, RapidReview, Ratification, Withdrawn,
    };
    let stage = state.stage;
    match data {
        EventData::SinSubmitted { .. } => RapidReview,
        EventData::RapidReviewSent { .. } => PanelResponse,
        EventData::PanelResponse { outcome, .. } => {
            if stage == Commissioning {
                // Recorded late, after the decision to commission: the review goes on.
                return Commissioning;
            }
            match (outcome, state.decision) {
                (PanelOutcome::NationalReview, _) => NationalReview,
                (_, Some(Decision::Lcspr)) => Commissioning,
                (PanelOutcome::Agrees, Some(Decision::NationalReview)) => NationalReview,
                (PanelOutcome::Agrees, _) => Learning,
                (PanelOutcome::Challenges, _) => RapidReview,
            }
        }
        EventData::LcsprDecided { .. } => Commissioning,
        EventData::ReviewerAppointed { .. } if stage == Commissioning => InReview,
        EventData::FinalReportSubmitted { .. } => QualityAssurance,
        EventData::QaApproved { .. } => Ratification,
        EventData::Ratified { .. } => PublicationPlanning,
        EventData::Published { .. } => Published,
        EventData::NspccSent { .. }
        | EventData::BriefingPublished { .. }
        | EventData::WebinarHeld { .. }
        | EventData::ActionAdded { .. }
        | EventData::ActionDone { .. } => Learning,
        EventData::Withdrawn { .. } => Withdrawn,
        EventData::Closed { .. } => Closed,
        _ => stage,
    }
}

/// Checks the date of an event that happened: not in the future, not before the case began
/// (`began_on`, the day the local authority became aware). Where it falls among the other
/// events is for the replay to judge.
pub fn check_date(
    began_on: NaiveDate,
    occurred_on: NaiveDate,
    today: NaiveDate,
) -> Result<(), String> {
    if occurred_on > today {
        return Err(format!(
            "the date cannot be in the future (today is {})",
            today.format("%-d %B %Y")
        ));
    }
    if occurred_on < began_on {
        return Err(format!(
            "the date cannot be before the case began ({}, when the local authority became aware)",
            began_on.format("%-d %B %Y")
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::case::Harm;
    use crate::domain::events::{Criterion, Recipient};

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn ev(seq: i32, on: &str, data: EventData) -> Event {
        Event {
            sequence: seq,
            occurred_on: d(on),
            data,
        }
    }

    fn aware() -> Event {
        ev(
            1,
            "2026-01-05",
            EventData::Aware {
                incident_on: d("2026-01-02"),
                harm: Harm::Death,
                looked_after: false,
            },
        )
    }

    fn rr(decision: Decision) -> EventData {
        EventData::RapidReviewSent {
            decision,
            rationale: "r".into(),
            criteria: vec![Criterion::A],
        }
    }

    fn panel(outcome: PanelOutcome) -> EventData {
        EventData::PanelResponse {
            outcome,
            note: None,
        }
    }

    fn stage_after(datas: Vec<EventData>) -> Stage {
        let mut events = vec![aware()];
        for (i, data) in datas.into_iter().enumerate() {
            events.push(ev(i as i32 + 2, "2026-01-06", data));
        }
        CaseState::from_events(&events).stage
    }

    #[test]
    fn panel_response_branches() {
        let sin = EventData::SinSubmitted {
            ofsted_reference: None,
        };
        assert_eq!(
            stage_after(vec![
                sin.clone(),
                rr(Decision::Lcspr),
                panel(PanelOutcome::Agrees)
            ]),
            Stage::Commissioning
        );
        assert_eq!(
            stage_after(vec![
                sin.clone(),
                rr(Decision::NoLcspr),
                panel(PanelOutcome::Agrees)
            ]),
            Stage::Learning
        );
        assert_eq!(
            stage_after(vec![
                sin.clone(),
                rr(Decision::NoLcspr),
                panel(PanelOutcome::Challenges)
            ]),
            Stage::RapidReview
        );
        assert_eq!(
            stage_after(vec![
                sin,
                rr(Decision::NoLcspr),
                panel(PanelOutcome::NationalReview)
            ]),
            Stage::NationalReview
        );
    }

    #[test]
    fn stage_checks_speak_plainly() {
        let state = CaseState::from_events(&[aware()]);
        assert!(state.check_stage(EventType::SinSubmitted).is_ok());
        let err = state.check_stage(EventType::Published).unwrap_err();
        assert!(err.contains("notification stage"), "{err}");
        assert!(state.check_stage(EventType::Withdrawn).is_ok());
    }

    #[test]
    fn reviewer_needs_the_commissioning_decision() {
        let mut state = CaseState::from_events(&[aware()]);
        state.stage = Stage::Commissioning;
        assert!(state
            .check_stage(EventType::ReviewerAppointed)
            .unwrap_err()
            .contains("decision"));
        state.lcspr_decided = true;
        assert!(state.check_stage(EventType::ReviewerAppointed).is_ok());
    }

    #[test]
    fn closing_needs_actions_done() {
        let mut state = CaseState::from_events(&[aware()]);
        state.stage = Stage::Learning;
        state.apply(
            d("2026-02-01"),
            &EventData::ActionAdded {
                action_id: "x".into(),
                description: "Audit".into(),
                owner_agency: "Police".into(),
                due_on: d("2026-06-01"),
            },
        );
        assert!(state
            .check_stage(EventType::Closed)
            .unwrap_err()
            .contains("Audit"));
        state.apply(
            d("2026-02-02"),
            &EventData::ActionDone {
                action_id: "x".into(),
                note: None,
            },
        );
        assert!(state.check_stage(EventType::Closed).is_ok());
    }

    #[test]
    fn roles() {
        assert!(may_record(Role::CoChair, EventType::LcsprDecided));
        assert!(!may_record(Role::ProgrammeManager, EventType::LcsprDecided));
        assert!(may_record(Role::BoardMember, EventType::Ratified));
        assert!(!may_record(Role::BoardMember, EventType::SinSubmitted));
        assert!(may_record(Role::LeadReviewer, EventType::ReviewMeeting));
        assert!(!may_record(Role::LeadReviewer, EventType::PrepubCopySent));
        assert!(!may_record(Role::Admin, EventType::SinSubmitted));
        assert!(!may_record(Role::CoChair, EventType::Aware));
        let _ = Recipient::Panel;
    }

    #[test]
    fn history_replays_in_date_order_and_applies_the_latest_event() {
        let sin = EventData::SinSubmitted {
            ofsted_reference: None,
        };
        // Stored in the order recorded; the third was dated before the second.
        let mut history = History::new(vec![
            aware(),
            ev(3, "2026-01-09", rr(Decision::Lcspr)),
            ev(2, "2026-01-06", sin.clone()),
        ]);
        let order: Vec<i32> = history.events().iter().map(|e| e.sequence).collect();
        assert_eq!(order, [1, 2, 3]);
        assert_eq!(history.state().stage, Stage::PanelResponse);
        assert_eq!(history.next_sequence(), 4);
        history.push(ev(4, "2026-01-12", panel(PanelOutcome::Agrees)));
        assert_eq!(history.state().stage, Stage::Commissioning);
        assert_eq!(history.state().latest_on, d("2026-01-12"));
        // The same state as folding the whole history afresh.
        assert_eq!(history.state(), &CaseState::from_events(history.events()));
        // An event dated among the others takes its place and the history is replayed.
        history.push(ev(
            5,
            "2026-01-07",
            EventData::PartnersInformed { note: None },
        ));
        let order: Vec<i32> = history.events().iter().map(|e| e.sequence).collect();
        assert_eq!(order, [1, 2, 5, 3, 4]);
        assert_eq!(history.state(), &CaseState::from_events(history.events()));
        assert_eq!(history.next_sequence(), 6);
    }

    #[test]
    fn dates_are_not_future_nor_before_the_case_began() {
        let today = d("2026-01-10");
        let began = d("2026-01-05");
        assert!(check_date(began, d("2026-01-11"), today)
            .unwrap_err()
            .contains("future"));
        assert!(check_date(began, d("2026-01-04"), today)
            .unwrap_err()
            .contains("5 January 2026"));
        assert!(check_date(began, d("2026-01-05"), today).is_ok());
    }
}
