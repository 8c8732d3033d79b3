//! Whether a case's history is valid: its events, replayed in date order (on one date, in the
//! order first recorded), are each allowed at the stage the replay has reached, and the rules
//! that look at earlier events hold (the action done was added and is open, the copies went
//! seven working days before publication). A late entry, a correction and a void are each
//! checked by replaying from the first event they change. Events the service records itself
//! (`aware`, `report_version_uploaded`) are allowed at any stage, so they never constrain the
//! dates of the events people record.

use chrono::NaiveDate;

use super::calendar::{Calendar, Division};
use super::case::{CaseFacts, Harm};
use super::deadlines::{self, CaseInput};
use super::events::{Event, EventData, EventType, PublicationFormat};
use super::input::FieldError;
use super::rules::RuleSet;
use super::workflow::CaseState;

/// What the replay needs besides the events: the case's facts and, for the seven-working-day
/// rule, the rules and the calendar.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    pub facts: CaseFacts,
    pub division: Division,
    pub rules: &'a RuleSet,
    pub calendar: &'a Calendar,
    /// Today: a copy not sent yet could go today at the earliest.
    pub today: NaiveDate,
}

/// The first event a change would make invalid, and why (the fields as for that event).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    pub sequence: i32,
    pub kind: EventType,
    pub occurred_on: NaiveDate,
    pub errors: Vec<FieldError>,
}

impl Broken {
    /// One sentence naming the broken event and the reason, for a refusal of another change.
    pub fn describe(&self) -> String {
        let why = self
            .errors
            .first()
            .map_or_else(String::new, |e| e.message.clone());
        format!(
            "\"{}\" on {} would no longer be valid: {}",
            self.kind.label(),
            self.occurred_on.format("%-d %B %Y"),
            why
        )
    }
}

/// Checks one event against the state the events before it (`before`) fold to.
pub fn check_event(
    state: &CaseState,
    before: &[Event],
    event: &Event,
    ctx: &Context<'_>,
) -> Result<(), Vec<FieldError>> {
    let kind = event.kind();
    if before.is_empty() != (kind == EventType::Aware) {
        let message = match before.first() {
            Some(first) => format!(
                "the local authority became aware before anything else was recorded; \"{}\" is dated {}",
                first.kind().label(),
                first.occurred_on.format("%-d %B %Y")
            ),
            None => "the date cannot be before the case began (the date the local authority became aware)".into(),
        };
        return Err(vec![FieldError::new("occurred_on", message)]);
    }
    state
        .check_stage(kind)
        .map_err(|m| vec![FieldError::new("type", m)])?;
    match &event.data {
        EventData::ActionDone { action_id, .. } => match state.actions.get(action_id) {
            Some(a) if a.done_on.is_none() => Ok(()),
            Some(_) => Err(vec![FieldError::new(
                "action_id",
                "that action is already recorded as done",
            )]),
            None => Err(vec![FieldError::new(
                "action_id",
                "this case has no improvement action with that id",
            )]),
        },
        EventData::LacDeathNotified { .. }
            if !(ctx.facts.looked_after && ctx.facts.harm == Harm::Death) =>
        {
            Err(vec![FieldError::new(
                "type",
                "this notification applies only to the death of a looked-after child",
            )])
        }
        EventData::Published { .. } => check_published(state, before, event.occurred_on, ctx),
        EventData::PublicationPlanned {
            publication_on,
            format,
            ..
        } => check_planned(
            state,
            before,
            event.occurred_on,
            *publication_on,
            *format,
            ctx,
        ),
        EventData::PublicationDelayed {
            revised_publication_on: Some(revised),
            ..
        } => match state.plan {
            None => Err(vec![FieldError::new(
                "type",
                "there is no publication plan to delay: record the plan first",
            )]),
            Some(plan) if *revised <= plan.publication_on => Err(vec![FieldError::new(
                "revised_publication_on",
                format!(
                    "the revised publication date must be after the planned date, {}",
                    plan.publication_on.format("%-d %B %Y")
                ),
            )]),
            Some(_) => Ok(()),
        },
        _ => Ok(()),
    }
}

/// Publication needs a plan to publish and the copies sent in time (DESIGN.md §2).
fn check_published(
    state: &CaseState,
    before: &[Event],
    on: NaiveDate,
    ctx: &Context<'_>,
) -> Result<(), Vec<FieldError>> {
    let Some(plan) = state.plan else {
        return Err(vec![FieldError::new(
            "type",
            "record the publication plan (date and format) first",
        )]);
    };
    if plan.format == PublicationFormat::None {
        return Err(vec![FieldError::new(
            "type",
            "the plan says the report is not to be published; record a new plan to publish it",
        )]);
    }
    let input = CaseInput {
        facts: ctx.facts,
        division: ctx.division,
        stage: state.stage,
        events: before,
    };
    deadlines::check_publication(&input, ctx.rules, ctx.calendar, on).map_err(|refusals| {
        let earliest = deadlines::prepub_copies(&input, ctx.rules, ctx.calendar, on, plan.format)
            .ok()
            .and_then(|copies| {
                deadlines::earliest_publication(&copies, ctx.calendar, ctx.division, ctx.today)
                    .ok()
                    .flatten()
            });
        vec![FieldError::new(
            "occurred_on",
            too_soon_message(on, earliest, &refusals),
        )]
    })
}

/// A plan to publish on a date the copies cannot reach in time is refused: the copies not sent
/// yet could go on the day of the plan at the earliest (DESIGN.md §2).
fn check_planned(
    state: &CaseState,
    before: &[Event],
    planned_on: NaiveDate,
    publication_on: NaiveDate,
    format: PublicationFormat,
    ctx: &Context<'_>,
) -> Result<(), Vec<FieldError>> {
    let input = CaseInput {
        facts: ctx.facts,
        division: ctx.division,
        stage: state.stage,
        events: before,
    };
    let Ok(copies) =
        deadlines::prepub_copies(&input, ctx.rules, ctx.calendar, publication_on, format)
    else {
        return Ok(());
    };
    let earliest = deadlines::earliest_publication(&copies, ctx.calendar, ctx.division, planned_on)
        .ok()
        .flatten();
    match earliest {
        Some(e) if e > publication_on => Err(vec![FieldError::new(
            "publication_on",
            too_soon(publication_on, e),
        )]),
        _ => Ok(()),
    }
}

/// "1 December 2026 is too soon: the earliest permissible publication date is 5 December
/// 2026": the one message for a date the copies cannot reach in time.
pub fn too_soon(on: NaiveDate, earliest: NaiveDate) -> String {
    format!(
        "{} is too soon: the earliest permissible publication date is {}",
        on.format("%-d %B %Y"),
        earliest.format("%-d %B %Y")
    )
}

/// A refused publication as one message: the earliest permissible date first, then why.
pub fn too_soon_message(
    on: NaiveDate,
    earliest: Option<NaiveDate>,
    refusals: &[deadlines::PublicationRefusal],
) -> String {
    let day = |d: NaiveDate| d.format("%-d %B %Y").to_string();
    let reasons: Vec<&str> = refusals.iter().map(|r| r.message.as_str()).collect();
    match earliest.filter(|e| *e > on) {
        Some(e) => format!("{}. {}", too_soon(on, e), capitalised(&reasons.join("; "))),
        None => format!(
            "publication on {} is not allowed yet: {}",
            day(on),
            reasons.join("; ")
        ),
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map_or_else(String::new, |f| f.to_uppercase().chain(c).collect())
}

/// Replays `events` (in replay order) from position `from`, each checked against the state
/// before it; `state` is the fold of the events before `from`. The state after all of them,
/// or the first event that breaks.
pub fn replay_from(
    events: &[Event],
    from: usize,
    mut state: CaseState,
    ctx: &Context<'_>,
) -> Result<CaseState, Broken> {
    for (i, e) in events.iter().enumerate().skip(from) {
        check_event(&state, &events[..i], e, ctx).map_err(|errors| Broken {
            sequence: e.sequence,
            kind: e.kind(),
            occurred_on: e.occurred_on,
            errors,
        })?;
        state.apply(e.occurred_on, &e.data);
    }
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::events::{Criterion, Decision};
    use crate::domain::workflow::History;

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

    fn history() -> History {
        History::new(vec![
            ev(
                1,
                "2026-01-05",
                EventData::Aware {
                    incident_on: d("2026-01-04"),
                    harm: Harm::Death,
                    looked_after: false,
                },
            ),
            ev(
                2,
                "2026-01-07",
                EventData::SinSubmitted {
                    ofsted_reference: None,
                },
            ),
            ev(
                3,
                "2026-01-20",
                EventData::RapidReviewSent {
                    decision: Decision::Lcspr,
                    rationale: "r".into(),
                    criteria: vec![Criterion::A],
                },
            ),
        ])
    }

    fn check(h: &mut History, remove: Option<i32>, add: Option<Event>) -> Result<(), Broken> {
        let (rules, calendar) = (RuleSet::shipped(), Calendar::shipped());
        let ctx = Context {
            facts: CaseFacts {
                harm: Harm::Death,
                looked_after: false,
            },
            division: Division::EnglandAndWales,
            rules: &rules,
            calendar: &calendar,
            today: d("2026-12-31"),
        };
        h.change(remove, add, &ctx)
    }

    #[test]
    fn a_late_entry_takes_its_place_when_the_replay_allows_it() {
        let mut h = history();
        let partners = ev(4, "2026-01-08", EventData::PartnersInformed { note: None });
        check(&mut h, None, Some(partners)).unwrap();
        let order: Vec<i32> = h.events().iter().map(|e| e.sequence).collect();
        assert_eq!(order, [1, 2, 4, 3]);
        assert_eq!(h.state(), &CaseState::from_events(h.events()));
        assert_eq!(h.next_sequence(), 5);
        // A second SIN is not allowed once one was submitted: the new event itself is named.
        let again = ev(
            5,
            "2026-01-09",
            EventData::SinSubmitted {
                ofsted_reference: None,
            },
        );
        let broken = check(&mut h, None, Some(again)).unwrap_err();
        assert_eq!(broken.sequence, 5);
        assert_eq!(broken.errors[0].field, "type");
        assert_eq!(h.events().len(), 4, "unchanged when refused");
    }

    #[test]
    fn a_void_or_a_correction_that_breaks_a_later_event_is_refused_naming_it() {
        let mut h = history();
        let before = h.clone();
        let broken = check(&mut h, Some(2), None).unwrap_err();
        assert_eq!(broken.sequence, 3);
        assert!(broken.describe().starts_with(
            "\"Rapid review sent to the Panel\" on 20 January 2026 would no longer be valid"
        ));
        let moved = ev(
            2,
            "2026-01-21",
            EventData::SinSubmitted {
                ofsted_reference: None,
            },
        );
        assert_eq!(check(&mut h, Some(2), Some(moved)).unwrap_err().sequence, 3);
        assert_eq!(h, before);
        // Corrected to an earlier date it keeps its place among the events of that day.
        let fixed = ev(
            2,
            "2026-01-06",
            EventData::SinSubmitted {
                ofsted_reference: Some("X".into()),
            },
        );
        check(&mut h, Some(2), Some(fixed.clone())).unwrap();
        assert_eq!(h.events()[1], fixed);
        assert_eq!(h.next_sequence(), 4);
    }

    #[test]
    fn nothing_comes_before_awareness() {
        let mut h = history();
        let early = ev(4, "2026-01-04", EventData::PartnersInformed { note: None });
        let broken = check(&mut h, None, Some(early)).unwrap_err();
        assert_eq!(broken.sequence, 4);
        assert_eq!(broken.errors[0].field, "occurred_on");
    }
}
