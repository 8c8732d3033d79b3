//! When a deadline's reminders go, and to whom. Pure: given a due date, the rule's schedule,
//! today and the calendar, which step of the schedule is current; given the people who could
//! receive it, who does.
//!
//! The steps of a schedule, in date order: `before:N` on the Nth working day before the due
//! date (for each N of `before`), `due` on the due date (when `on_due`), then `overdue:K` on the
//! Kth working day after it (1 = the first working day after the due date) for every K that is a
//! multiple of `overdue_every`, and on `escalate_from_overdue_day` itself, so the escalation is
//! never later than configured. Only the most recent step whose date has come is current: a
//! sweep after downtime, or a case opened late, sends one reminder, not a burst.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;

use super::calendar::{Calendar, Division};
use super::roles::Role;
use super::rules::{ReminderSchedule, Rule};
use crate::text_enum;

text_enum! {
    /// How a user receives reminders. Statutory reminders cannot be switched off, so there is
    /// no "off".
    pub enum ReminderMode {
        /// One email per reminder, as it falls due.
        Immediate = ("immediate", "An email for each reminder"),
        /// One email per working day listing everything due and overdue, grouped by case.
        Daily = ("daily", "One daily digest"),
    }
}

/// One step of a reminder schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    /// N working days before the due date.
    Before(u32),
    /// On the due date.
    Due,
    /// On the Kth working day after the due date.
    Overdue(u32),
}

impl fmt::Display for Step {
    /// The code used in outbox keys: `before:5`, `due`, `overdue:2`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Before(n) => write!(f, "before:{n}"),
            Step::Due => f.write_str("due"),
            Step::Overdue(k) => write!(f, "overdue:{k}"),
        }
    }
}

impl FromStr for Step {
    type Err = String;
    fn from_str(s: &str) -> Result<Step, String> {
        let number = |n: &str| {
            n.parse::<u32>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("{s:?} is not a reminder step"))
        };
        match s.split_once(':') {
            None if s == "due" => Ok(Step::Due),
            Some(("before", n)) => number(n).map(Step::Before),
            Some(("overdue", k)) => number(k).map(Step::Overdue),
            _ => Err(format!("{s:?} is not a reminder step")),
        }
    }
}

/// The current step of a deadline's schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CurrentStep {
    pub step: Step,
    /// The date the step fell due (on or before today).
    pub on: NaiveDate,
    /// From the escalation day on, the escalation roles receive it too.
    pub escalated: bool,
    /// Working days from today to the due date; negative when overdue.
    pub working_days_left: i64,
}

/// The most recent step of `schedule` whose date is on or before `today`, for a deadline due on
/// `due_on`; `None` before the first step (or when the schedule has no step yet due).
pub fn current_step(
    schedule: &ReminderSchedule,
    due_on: NaiveDate,
    today: NaiveDate,
    calendar: &Calendar,
    division: Division,
) -> Option<CurrentStep> {
    let left = calendar.count_working_days(division, today, due_on);
    let at = |step: Step, on: NaiveDate| CurrentStep {
        step,
        on,
        escalated: matches!(step, Step::Overdue(k) if k >= schedule.escalate_from_overdue_day),
        working_days_left: left,
    };
    if today > due_on {
        let overdue =
            u32::try_from(calendar.count_working_days(division, due_on, today)).unwrap_or(u32::MAX);
        if let Some(k) = latest_overdue_step(schedule, overdue) {
            let on = calendar
                .add_working_days(division, due_on, i32::try_from(k).unwrap_or(i32::MAX))
                .map(|r| r.date)
                .unwrap_or(today);
            return Some(at(Step::Overdue(k), on));
        }
    }
    if today >= due_on && schedule.on_due {
        return Some(at(Step::Due, due_on));
    }
    // The before-step with the latest date not after today (the smallest N that has come).
    let mut before: Vec<u32> = schedule.before.iter().copied().filter(|n| *n > 0).collect();
    before.sort_unstable();
    before.dedup();
    before.into_iter().find_map(|n| {
        let on = calendar
            .add_working_days(division, due_on, -i32::try_from(n).unwrap_or(i32::MAX))
            .ok()?
            .date;
        (on <= today).then(|| at(Step::Before(n), on))
    })
}

/// The largest overdue step day not after `overdue` (working days past the due date).
fn latest_overdue_step(schedule: &ReminderSchedule, overdue: u32) -> Option<u32> {
    let every = schedule.overdue_every;
    if every == 0 || overdue == 0 {
        return None;
    }
    let regular = (overdue / every) * every;
    let escalation = schedule.escalate_from_overdue_day;
    let k = if escalation <= overdue {
        regular.max(escalation)
    } else {
        regular
    };
    (k > 0).then_some(k)
}

/// Why someone receives a reminder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reason {
    /// The deadline is for their role.
    Owner,
    /// They are the case's appointed lead reviewer and the rule notifies reviewers.
    Reviewer,
    /// The programme manager receives every deadline alert.
    ProgrammeManager,
    /// The deadline is overdue past the escalation day.
    Escalation,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Owner => "owner",
            Reason::Reviewer => "reviewer",
            Reason::ProgrammeManager => "programme_manager",
            Reason::Escalation => "escalation",
        }
    }

    /// Completes "You receive this because …".
    pub fn describe(self) -> &'static str {
        match self {
            Reason::Owner => "this deadline is for your role",
            Reason::Reviewer => "you are the lead reviewer appointed to this case",
            Reason::ProgrammeManager => "the programme manager receives every deadline alert",
            Reason::Escalation => "the deadline is overdue and has been escalated to you",
        }
    }
}

/// An active user, as far as reminders are concerned, in relation to one case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    pub role: Role,
    /// Appointed to the case (lead reviewer).
    pub appointed: bool,
    /// Declared a conflict of interest on the case.
    pub conflicted: bool,
}

/// Who among `people` (active users) receives a reminder of `rule` for one case, with the
/// first reason that applies; indexes into `people`. Never someone who may not see the case.
pub fn recipients(rule: &Rule, escalated: bool, people: &[Candidate]) -> Vec<(usize, Reason)> {
    people
        .iter()
        .enumerate()
        .filter(|(_, p)| p.role.may_see_case(p.appointed, p.conflicted))
        .filter_map(|(i, p)| {
            let reason = if p.role == rule.role {
                Reason::Owner
            } else if rule.notify_reviewers && p.role == Role::LeadReviewer && p.appointed {
                Reason::Reviewer
            } else if p.role == Role::ProgrammeManager {
                Reason::ProgrammeManager
            } else if escalated && rule.reminders.escalate_to.contains(&p.role) {
                Reason::Escalation
            } else {
                return None;
            };
            Some((i, reason))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::rules::RuleSet;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn default_schedule() -> ReminderSchedule {
        ReminderSchedule {
            before: vec![10, 5, 2, 1],
            on_due: true,
            overdue_every: 1,
            escalate_from_overdue_day: 2,
            escalate_to: vec![Role::CoChair],
        }
    }

    fn step_on(schedule: &ReminderSchedule, due: &str, today: &str) -> Option<(String, String)> {
        current_step(
            schedule,
            d(due),
            d(today),
            &Calendar::shipped(),
            Division::EnglandAndWales,
        )
        .map(|c| (c.step.to_string(), c.on.to_string()))
    }

    #[test]
    fn steps_fall_on_working_days_around_the_due_date() {
        let s = default_schedule();
        // Due Mon 12 Jan 2026.
        let due = "2026-01-12";
        assert_eq!(step_on(&s, due, "2025-12-23"), None);
        // 10 working days before Mon 12 Jan, skipping 1 Jan, 25 and 26 Dec: Wed 24 Dec.
        assert_eq!(
            step_on(&s, due, "2025-12-24"),
            Some(("before:10".into(), "2025-12-24".into()))
        );
        assert_eq!(
            step_on(&s, due, "2026-01-04"),
            Some(("before:10".into(), "2025-12-24".into()))
        );
        assert_eq!(
            step_on(&s, due, "2026-01-05"),
            Some(("before:5".into(), "2026-01-05".into()))
        );
        assert_eq!(
            step_on(&s, due, "2026-01-08"),
            Some(("before:2".into(), "2026-01-08".into()))
        );
        assert_eq!(
            step_on(&s, due, "2026-01-10"),
            Some(("before:1".into(), "2026-01-09".into()))
        );
        assert_eq!(
            step_on(&s, due, "2026-01-12"),
            Some(("due".into(), "2026-01-12".into()))
        );
        assert_eq!(
            step_on(&s, due, "2026-01-13"),
            Some(("overdue:1".into(), "2026-01-13".into()))
        );
        // A weekend adds no step: Sat 17 Jan is still overdue day 4 (Fri 16 Jan).
        assert_eq!(
            step_on(&s, due, "2026-01-17"),
            Some(("overdue:4".into(), "2026-01-16".into()))
        );
    }

    #[test]
    fn escalation_from_the_configured_overdue_day() {
        let s = default_schedule();
        let cal = Calendar::shipped();
        let at = |today: &str| {
            current_step(
                &s,
                d("2026-01-12"),
                d(today),
                &cal,
                Division::EnglandAndWales,
            )
            .unwrap()
        };
        assert!(!at("2026-01-12").escalated);
        assert!(!at("2026-01-13").escalated);
        assert!(at("2026-01-14").escalated);
        assert_eq!(at("2026-01-14").working_days_left, -2);
        assert_eq!(at("2026-01-08").working_days_left, 2);
    }

    #[test]
    fn sparse_overdue_reminders_still_escalate_on_time() {
        let s = ReminderSchedule {
            before: vec![5, 1],
            on_due: true,
            overdue_every: 5,
            escalate_from_overdue_day: 3,
            escalate_to: vec![Role::CoChair],
        };
        let due = "2026-01-12";
        // Overdue days 1 and 2: the due-date reminder is still the latest.
        assert_eq!(step_on(&s, due, "2026-01-14").unwrap().0, "due");
        assert_eq!(step_on(&s, due, "2026-01-15").unwrap().0, "overdue:3");
        assert_eq!(step_on(&s, due, "2026-01-16").unwrap().0, "overdue:3");
        assert_eq!(step_on(&s, due, "2026-01-19").unwrap().0, "overdue:5");
        assert_eq!(step_on(&s, due, "2026-01-26").unwrap().0, "overdue:10");
    }

    #[test]
    fn without_a_due_step_or_overdue_steps_the_last_before_stays_current() {
        let s = ReminderSchedule {
            before: vec![2],
            on_due: false,
            overdue_every: 0,
            escalate_from_overdue_day: 1,
            escalate_to: vec![],
        };
        assert_eq!(
            step_on(&s, "2026-01-12", "2026-02-20"),
            Some(("before:2".into(), "2026-01-08".into()))
        );
    }

    #[test]
    fn a_due_date_on_a_weekend_is_reminded_on_the_day_and_overdue_from_monday() {
        let s = default_schedule();
        // Sun 26 Jul 2026 (six calendar months can land on a weekend).
        assert_eq!(step_on(&s, "2026-07-26", "2026-07-26").unwrap().0, "due");
        assert_eq!(
            step_on(&s, "2026-07-26", "2026-07-27"),
            Some(("overdue:1".into(), "2026-07-27".into()))
        );
    }

    #[test]
    fn step_codes_round_trip() {
        for s in [Step::Before(10), Step::Due, Step::Overdue(3)] {
            assert_eq!(s.to_string().parse::<Step>().unwrap(), s);
        }
        assert!("before:0".parse::<Step>().is_err());
        assert!("soon".parse::<Step>().is_err());
    }

    #[test]
    fn recipients_follow_role_reviewers_programme_manager_and_escalation() {
        let rules = RuleSet::shipped();
        let progress = rules.effective("progress_check", d("2026-01-01")).unwrap();
        let people = [
            Candidate {
                role: Role::ProgrammeManager,
                appointed: false,
                conflicted: false,
            },
            Candidate {
                role: Role::LeadReviewer,
                appointed: true,
                conflicted: false,
            },
            Candidate {
                role: Role::LeadReviewer,
                appointed: false,
                conflicted: false,
            },
            Candidate {
                role: Role::CoChair,
                appointed: false,
                conflicted: false,
            },
            Candidate {
                role: Role::BusinessManager,
                appointed: false,
                conflicted: false,
            },
            Candidate {
                role: Role::Admin,
                appointed: false,
                conflicted: false,
            },
        ];
        assert_eq!(
            recipients(progress, false, &people),
            vec![(0, Reason::Owner), (1, Reason::Reviewer)]
        );
        assert_eq!(
            recipients(progress, true, &people),
            vec![
                (0, Reason::Owner),
                (1, Reason::Reviewer),
                (3, Reason::Escalation)
            ]
        );
        let rr = rules.effective("rapid_review", d("2026-01-01")).unwrap();
        assert_eq!(
            recipients(rr, false, &people),
            vec![(0, Reason::ProgrammeManager), (3, Reason::Owner)]
        );
    }

    #[test]
    fn nobody_who_may_not_see_the_case_is_told_of_it() {
        let rules = RuleSet::shipped();
        let mut rule = rules
            .effective("sin_submission", d("2026-01-01"))
            .unwrap()
            .clone();
        rule.reminders.escalate_to = vec![Role::SubgroupMember, Role::Admin];
        let people = [
            Candidate {
                role: Role::SubgroupMember,
                appointed: false,
                conflicted: true,
            },
            Candidate {
                role: Role::SubgroupMember,
                appointed: false,
                conflicted: false,
            },
            Candidate {
                role: Role::Admin,
                appointed: false,
                conflicted: false,
            },
        ];
        assert_eq!(
            recipients(&rule, true, &people),
            vec![(1, Reason::Escalation)]
        );
    }
}
