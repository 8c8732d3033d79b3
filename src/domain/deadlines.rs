//! A case's deadlines, computed from its dated events, the rules and the calendar; each with
//! its explanation. Pure: the same events, rules and calendar always give the same deadlines.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::calendar::{Calendar, CalendarError, Division, Reckoning};
use super::case::{CaseFacts, Stage};
use super::events::{Event, EventData, EventType, Recipient};
use super::roles::Role;
use super::rules::{Occurrence, Offset, Rule, RuleSet};
use crate::text_enum;

text_enum! {
    /// Where a deadline stands. `Missed` covers both "met late" and "past due, not met".
    pub enum DeadlineStatus {
        Pending = ("pending", "Pending"),
        Met = ("met", "Met"),
        Missed = ("missed", "Missed"),
        Waived = ("waived", "Waived"),
    }
}

/// Why a deadline falls when it does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Explanation {
    pub rule: String,
    pub rule_version: i32,
    pub source: String,
    pub trigger_event: EventType,
    pub trigger_on: NaiveDate,
    /// The counting itself: from, count, unit, direction, every non-working day skipped.
    pub reckoning: Option<Reckoning>,
    /// Set when the deadline is waived: why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waived_because: Option<String>,
    /// The whole explanation as one sentence.
    pub text: String,
}

/// One computed deadline of a case.
#[derive(Debug, Clone, PartialEq)]
pub struct Deadline {
    pub rule_id: String,
    pub rule_version: i32,
    /// 0 for one-off rules; 1, 2, … for recurring and per-occurrence rules.
    pub instance: i32,
    pub label: String,
    pub role: Role,
    pub due_on: NaiveDate,
    /// `Pending` here means not met yet; whether it is overdue depends on today
    /// (see [`effective_status`]).
    pub status: DeadlineStatus,
    pub met_on: Option<NaiveDate>,
    pub trigger_event: EventType,
    pub trigger_on: NaiveDate,
    pub statutory: bool,
    pub explanation: Explanation,
}

/// The status a person sees today: a pending deadline whose date has passed is missed.
pub fn effective_status(
    status: DeadlineStatus,
    due_on: NaiveDate,
    today: NaiveDate,
) -> DeadlineStatus {
    if status == DeadlineStatus::Pending && due_on < today {
        DeadlineStatus::Missed
    } else {
        status
    }
}

/// Everything the computation needs about a case.
pub struct CaseInput<'a> {
    pub facts: CaseFacts,
    pub division: Division,
    pub stage: Stage,
    pub events: &'a [Event],
}

/// Computes every deadline of a case.
pub fn compute(
    case: &CaseInput<'_>,
    rules: &RuleSet,
    calendar: &Calendar,
) -> Result<Vec<Deadline>, CalendarError> {
    let mut out = vec![];
    for id in rules.ids() {
        let Some(any_version) = rules.versions(id).first().copied() else {
            continue;
        };
        let triggers: Vec<&Event> = case
            .events
            .iter()
            .filter(|e| e.kind() == any_version.trigger)
            .collect();
        let chosen: Vec<(i32, &Event)> = match any_version.occurrence {
            Occurrence::First => triggers.first().map(|e| (0, *e)).into_iter().collect(),
            Occurrence::Latest => triggers.last().map(|e| (0, *e)).into_iter().collect(),
            Occurrence::Each => triggers
                .iter()
                .enumerate()
                .map(|(i, e)| (i as i32 + 1, *e))
                .collect(),
        };
        for (instance, trigger) in chosen {
            let rule = rules
                .effective(id, trigger.occurred_on)
                .expect("a rule with versions has an effective one");
            if !rule.applies(&case.facts, &trigger.data) {
                continue;
            }
            if rule.recurring_until.is_some() {
                recurring(case, rule, trigger, calendar, &mut out)?;
            } else {
                out.push(one(case, rule, instance, trigger, calendar)?);
            }
        }
    }
    Ok(out)
}

/// A recurring rule: instance 1 from the trigger, then one after each meeting event, until a
/// stop event.
fn recurring(
    case: &CaseInput<'_>,
    rule: &Rule,
    first: &Event,
    calendar: &Calendar,
    out: &mut Vec<Deadline>,
) -> Result<(), CalendarError> {
    let stops = rule.recurring_until.as_deref().unwrap_or(&[]);
    let stop = case
        .events
        .iter()
        .find(|e| e.is_after(first) && stops.contains(&e.kind()));
    let mut trigger = first;
    let mut instance = 1;
    loop {
        let mut d = one(case, rule, instance, trigger, calendar)?;
        let next = case.events.iter().find(|e| {
            e.is_after(trigger)
                && rule.met_by.pattern.matches(&e.data)
                && stop.is_none_or(|s| s.is_after(e))
        });
        if next.is_none() && d.status == DeadlineStatus::Pending {
            if let Some(s) = stop {
                waive(
                    &mut d,
                    format!(
                        "not needed after {} on {}",
                        s.kind().label().to_lowercase(),
                        s.occurred_on.format("%-d %b %Y")
                    ),
                );
            }
        }
        out.push(d);
        match next {
            Some(e) if instance < 1000 => {
                trigger = e;
                instance += 1;
            }
            _ => return Ok(()),
        }
    }
}

fn one(
    case: &CaseInput<'_>,
    rule: &Rule,
    instance: i32,
    trigger: &Event,
    calendar: &Calendar,
) -> Result<Deadline, CalendarError> {
    let (due_on, reckoning) = match &rule.offset {
        Offset::WorkingDays(n) => {
            let r = calendar.add_working_days(case.division, trigger.occurred_on, *n)?;
            (r.date, Some(r))
        }
        Offset::WorkingDaysBefore { days, field } => {
            let base = match revision(case.events, trigger, field) {
                Some((_, revised)) => revised,
                None => trigger
                    .data
                    .date_field(field)
                    .unwrap_or(trigger.occurred_on),
            };
            let r = calendar.add_working_days(case.division, base, -days)?;
            (r.date, Some(r))
        }
        Offset::CalendarMonths(m) => {
            let r = Reckoning::calendar_months(trigger.occurred_on, *m)?;
            (r.date, Some(r))
        }
        Offset::OnDate { field } => (
            trigger
                .data
                .date_field(field)
                .unwrap_or(trigger.occurred_on),
            None,
        ),
    };
    let met_on = met_on(case.events, rule, trigger);
    let status = match met_on {
        Some(m) if m <= due_on => DeadlineStatus::Met,
        Some(_) => DeadlineStatus::Missed,
        None => DeadlineStatus::Pending,
    };
    let revised = match &rule.offset {
        Offset::WorkingDaysBefore { field, .. } => revision(case.events, trigger, field),
        _ => None,
    };
    let text = explain_text(rule, trigger, revised, reckoning.as_ref(), due_on);
    let mut d = Deadline {
        rule_id: rule.id.clone(),
        rule_version: rule.version,
        instance,
        label: rule.label.clone(),
        role: rule.role,
        due_on,
        status,
        met_on,
        trigger_event: trigger.kind(),
        trigger_on: trigger.occurred_on,
        statutory: rule.statutory,
        explanation: Explanation {
            rule: rule.id.clone(),
            rule_version: rule.version,
            source: rule.source.clone(),
            trigger_event: trigger.kind(),
            trigger_on: trigger.occurred_on,
            reckoning,
            waived_because: None,
            text,
        },
    };
    if d.status == DeadlineStatus::Pending {
        if let Some(reason) = waiver(case, rule, trigger) {
            waive(&mut d, reason);
        }
    }
    Ok(d)
}

/// The latest event after `trigger` that moves its date `field` (a delay moving the planned
/// publication date), with the new date.
fn revision<'e>(
    events: &'e [Event],
    trigger: &Event,
    field: &str,
) -> Option<(&'e Event, NaiveDate)> {
    events
        .iter()
        .filter(|e| e.is_after(trigger))
        .filter_map(|e| e.data.revises(field).map(|d| (e, d)))
        .next_back()
}

fn waive(d: &mut Deadline, reason: String) {
    d.status = DeadlineStatus::Waived;
    d.explanation.text = format!("{}. Waived: {reason}", d.explanation.text);
    d.explanation.waived_because = Some(reason);
}

/// The date of the first event that meets the deadline, if any.
fn met_on(events: &[Event], rule: &Rule, trigger: &Event) -> Option<NaiveDate> {
    let m = &rule.met_by;
    let reset_after = events
        .iter()
        .filter(|e| m.reset_by.iter().any(|p| p.matches(&e.data)))
        .map(Event::replay_key)
        .max();
    let tie = m
        .same
        .as_ref()
        .map(|field| (field, trigger.data.field(field)));
    events
        .iter()
        .filter(|e| m.any_time || e.is_after(trigger))
        .filter(|e| reset_after.is_none_or(|r| e.replay_key() > r))
        .filter(|e| m.pattern.matches(&e.data))
        .find(|e| tie.as_ref().is_none_or(|(f, v)| &e.data.field(f) == v))
        .map(|e| e.occurred_on)
}

/// Why an unmet deadline no longer applies, if it does not.
fn waiver(case: &CaseInput<'_>, rule: &Rule, trigger: &Event) -> Option<String> {
    for e in case.events.iter().filter(|e| e.is_after(trigger)) {
        match &e.data {
            EventData::DeadlineWaived { rule: id, reason } if id == &rule.id => {
                return Some(format!(
                    "{reason} (recorded {})",
                    e.occurred_on.format("%-d %b %Y")
                ));
            }
            EventData::Withdrawn { .. } => {
                return Some(format!(
                    "notification withdrawn on {}",
                    e.occurred_on.format("%-d %b %Y")
                ));
            }
            EventData::Closed { .. } if !rule.survives_closure => {
                return Some(format!(
                    "case closed on {}",
                    e.occurred_on.format("%-d %b %Y")
                ));
            }
            _ => {}
        }
    }
    None
}

fn explain_text(
    rule: &Rule,
    trigger: &Event,
    revised: Option<(&Event, NaiveDate)>,
    reckoning: Option<&Reckoning>,
    due: NaiveDate,
) -> String {
    let counted = match reckoning {
        Some(r) => r.describe(),
        None => format!(
            "due on the date set when the {} was recorded → {}",
            trigger.kind().label().to_lowercase(),
            due.format("%a %-d %b %Y")
        ),
    };
    // A delay moves the date counted from: say which and when.
    let moved = revised.map_or_else(String::new, |(by, to)| {
        format!(
            ", {} on {} to {}",
            by.kind().label().to_lowercase(),
            by.occurred_on.format("%a %-d %b %Y"),
            to.format("%a %-d %b %Y")
        )
    });
    format!(
        "{} (rule {} v{}): {} on {}{moved}; {}",
        rule.label,
        rule.id,
        rule.version,
        trigger.kind().label(),
        trigger.occurred_on.format("%a %-d %b %Y"),
        counted
    )
}

/// Why publishing on a date is not allowed yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicationRefusal {
    pub recipient: Recipient,
    pub message: String,
    /// The earliest date publication would be allowed, when a copy was sent but too late.
    pub earliest: Option<NaiveDate>,
}

/// The seven-working-day rule: publication on `publication_on` is allowed only when every
/// pre-publication copy ([`prepub_copies`], in the format of the latest plan) was sent on or
/// before its latest day counted back from that date.
pub fn check_publication(
    case: &CaseInput<'_>,
    rules: &RuleSet,
    calendar: &Calendar,
    publication_on: NaiveDate,
) -> Result<(), Vec<PublicationRefusal>> {
    let format = case
        .events
        .iter()
        .rev()
        .find_map(|e| match &e.data {
            EventData::PublicationPlanned { format, .. } => Some(*format),
            _ => None,
        })
        .unwrap_or(super::events::PublicationFormat::Full);
    let copies = prepub_copies(case, rules, calendar, publication_on, format).map_err(|e| {
        vec![PublicationRefusal {
            recipient: Recipient::Panel,
            message: e.to_string(),
            earliest: None,
        }]
    })?;
    let day = |d: NaiveDate| d.format("%a %-d %b %Y").to_string();
    let refusals: Vec<PublicationRefusal> = copies
        .into_iter()
        .filter_map(|c| match c.sent_on {
            Some(sent) if sent <= c.latest_send => None,
            Some(sent) => {
                let earliest =
                    earliest_publication_after(calendar, case.division, sent, c.days).ok();
                Some(PublicationRefusal {
                    recipient: c.recipient,
                    message: format!(
                        "the copy to {} was sent on {}, less than {} working days before publication on {} (it had to go by {})",
                        c.recipient.label(),
                        day(sent),
                        c.days,
                        day(publication_on),
                        day(c.latest_send),
                    ),
                    earliest,
                })
            }
            None => Some(PublicationRefusal {
                recipient: c.recipient,
                message: format!(
                    "no copy of the current report has been sent to {}; send it by {} to publish on {}",
                    c.recipient.label(),
                    day(c.latest_send),
                    day(publication_on),
                ),
                earliest: None,
            }),
        })
        .collect();
    if refusals.is_empty() {
        Ok(())
    } else {
        Err(refusals)
    }
}

fn offset_days(rule: &Rule) -> i32 {
    match rule.offset {
        Offset::WorkingDaysBefore { days, .. } => days,
        _ => 0,
    }
}

/// For a publication date, the latest day each copy may be sent; and the earliest permissible
/// publication date given today's date if no copy has been sent yet.
pub fn prepub_latest_send(
    rules: &RuleSet,
    calendar: &Calendar,
    division: Division,
    publication_on: NaiveDate,
) -> Result<Vec<(String, NaiveDate, Reckoning)>, CalendarError> {
    let mut out = vec![];
    for id in rules.ids() {
        let Some(rule) = rules.effective(id, publication_on) else {
            continue;
        };
        if rule.trigger == EventType::PublicationPlanned {
            if let Offset::WorkingDaysBefore { days, .. } = rule.offset {
                let r = calendar.add_working_days(division, publication_on, -days)?;
                out.push((rule.label.clone(), r.date, r));
            }
        }
    }
    Ok(out)
}

/// One pre-publication copy for a planned publication date: to whom, the latest day it may be
/// sent, and when it was sent (if it was, since the current report version).
#[derive(Debug, Clone, PartialEq)]
pub struct PrepubCopy {
    pub rule_id: String,
    pub recipient: Recipient,
    pub label: String,
    /// Working days before publication.
    pub days: i32,
    pub latest_send: NaiveDate,
    pub reckoning: Reckoning,
    pub sent_on: Option<NaiveDate>,
}

impl PrepubCopy {
    /// Publication on the date these copies were worked out for is too soon: the copy was sent
    /// after its latest day, or was not sent and its latest day is before `today`.
    pub fn too_late(&self, today: NaiveDate) -> bool {
        match self.sent_on {
            Some(sent) => sent > self.latest_send,
            None => self.latest_send < today,
        }
    }
}

/// The pre-publication copies that publishing on `publication_on` needs (none when the plan
/// is not to publish), with what the case's events say about each. Defined, like
/// [`check_publication`], by the rules triggered by `publication_planned` with a
/// `working_days_before` offset.
pub fn prepub_copies(
    case: &CaseInput<'_>,
    rules: &RuleSet,
    calendar: &Calendar,
    publication_on: NaiveDate,
    format: super::events::PublicationFormat,
) -> Result<Vec<PrepubCopy>, CalendarError> {
    let synthetic = Event {
        sequence: case.events.iter().map(|e| e.sequence).max().unwrap_or(0) + 1,
        occurred_on: publication_on,
        data: EventData::PublicationPlanned {
            publication_on,
            format,
            justification: None,
            decision_id: None,
        },
    };
    let mut out = vec![];
    for id in rules.ids() {
        let Some(rule) = rules.effective(id, publication_on) else {
            continue;
        };
        if rule.trigger != EventType::PublicationPlanned
            || !matches!(rule.offset, Offset::WorkingDaysBefore { .. })
            || !rule.applies(&case.facts, &synthetic.data)
        {
            continue;
        }
        let recipient = rule
            .met_by
            .pattern
            .fields
            .get("recipient")
            .and_then(|v| v.first())
            .and_then(|r| r.parse::<Recipient>().ok())
            .unwrap_or(Recipient::Panel);
        let days = offset_days(rule);
        let reckoning = calendar.add_working_days(case.division, publication_on, -days)?;
        out.push(PrepubCopy {
            rule_id: rule.id.clone(),
            recipient,
            label: rule.label.clone(),
            days,
            latest_send: reckoning.date,
            reckoning,
            sent_on: met_on(case.events, rule, &synthetic),
        });
    }
    Ok(out)
}

/// The earliest permissible publication date for a copy sent on `sent` under a rule of `days`
/// working days before publication (DESIGN.md §2): the least date `p` such that `sent` is on or
/// before the `days`th working day before `p`; every date after it is permissible too, none
/// before it. The one definition: the planning page, the refusal of `published` and
/// [`earliest_publication`] all use it.
///
/// Counting `days` working days forward from `sent` is the inverse only when `sent` is a
/// working day. In general, with `w` the first working day on or after `sent`, the `days`th
/// working day before `p` is on or after `w` exactly when `p` is after the `(days - 1)`th
/// working day after `w`; so `p` is the day after that, which may be a weekend day (a copy
/// sent on Thursday 8 January 2026 allows publication on Saturday 17 January).
pub fn earliest_publication_after(
    calendar: &Calendar,
    division: Division,
    sent: NaiveDate,
    days: i32,
) -> Result<NaiveDate, CalendarError> {
    if days <= 0 {
        return Ok(sent);
    }
    let first = if calendar.is_working_day(division, sent) {
        sent
    } else {
        calendar.add_working_days(division, sent, 1)?.date
    };
    let last_counted = calendar.add_working_days(division, first, days - 1)?.date;
    Ok(last_counted + chrono::Days::new(1))
}

/// The earliest permissible publication date given the copies: each copy already sent allows
/// publication from [`earliest_publication_after`] its sending; one not yet sent could go today
/// at the earliest. `None` when no copy is needed.
pub fn earliest_publication(
    copies: &[PrepubCopy],
    calendar: &Calendar,
    division: Division,
    today: NaiveDate,
) -> Result<Option<NaiveDate>, CalendarError> {
    let mut earliest: Option<NaiveDate> = None;
    for c in copies {
        let from = c.sent_on.unwrap_or(today);
        let date = earliest_publication_after(calendar, division, from, c.days)?;
        earliest = Some(earliest.map_or(date, |e| e.max(date)));
    }
    Ok(earliest)
}

#[cfg(test)]
mod tests;
