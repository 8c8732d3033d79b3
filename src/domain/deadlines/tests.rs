use chrono::NaiveDate;

use super::*;
use crate::domain::case::Harm;
use crate::domain::events::{Criterion, Decision, PublicationFormat};

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

struct Case {
    facts: CaseFacts,
    events: Vec<Event>,
}

impl Case {
    fn new(aware: &str, harm: Harm, looked_after: bool) -> Case {
        Case {
            facts: CaseFacts { harm, looked_after },
            events: vec![Event {
                sequence: 1,
                occurred_on: d(aware),
                data: EventData::Aware {
                    incident_on: d(aware),
                    harm,
                    looked_after,
                },
            }],
        }
    }

    fn add(&mut self, on: &str, data: EventData) -> &mut Self {
        let sequence = self.events.len() as i32 + 1;
        self.events.push(Event {
            sequence,
            occurred_on: d(on),
            data,
        });
        self
    }

    fn deadlines(&self) -> Vec<Deadline> {
        let input = CaseInput {
            facts: self.facts,
            division: Division::EnglandAndWales,
            stage: Stage::Notification,
            events: &self.events,
        };
        compute(&input, &RuleSet::shipped(), &Calendar::shipped()).unwrap()
    }

    fn get(&self, rule: &str) -> Deadline {
        self.deadlines()
            .into_iter()
            .find(|x| x.rule_id == rule)
            .unwrap_or_else(|| panic!("no {rule} deadline"))
    }

    fn publication(&self, on: &str) -> Result<(), Vec<PublicationRefusal>> {
        let input = CaseInput {
            facts: self.facts,
            division: Division::EnglandAndWales,
            stage: Stage::PublicationPlanning,
            events: &self.events,
        };
        check_publication(&input, &RuleSet::shipped(), &Calendar::shipped(), d(on))
    }
}

fn sin() -> EventData {
    EventData::SinSubmitted {
        ofsted_reference: None,
    }
}

fn plan(on: &str) -> EventData {
    EventData::PublicationPlanned {
        publication_on: d(on),
        format: PublicationFormat::Full,
        justification: None,
        decision_id: None,
    }
}

fn copy(to: Recipient) -> EventData {
    EventData::PrepubCopySent {
        recipient: to,
        document_id: None,
        version: None,
    }
}

#[test]
fn design_examples_sin_and_rapid_review_over_christmas() {
    let mut case = Case::new("2025-12-18", Harm::Death, false);
    let sin_due = case.get("sin_submission");
    assert_eq!(sin_due.due_on, d("2025-12-29"));
    assert_eq!(sin_due.status, DeadlineStatus::Pending);
    assert!(
        sin_due.explanation.text.contains("Christmas Day"),
        "{}",
        sin_due.explanation.text
    );
    assert!(sin_due.explanation.text.contains("rule sin_submission v1"));
    case.add("2025-12-29", sin());
    let sin_due = case.get("sin_submission");
    assert_eq!(sin_due.status, DeadlineStatus::Met);
    assert_eq!(sin_due.met_on, Some(d("2025-12-29")));
    let rr = case.get("rapid_review");
    assert_eq!(rr.due_on, d("2026-01-20"));
    assert!(rr
        .explanation
        .text
        .contains("15 working days from Mon 29 Dec 2025, skipping Thu 1 Jan 2026 (New Year’s Day) → Tue 20 Jan 2026"),
        "{}", rr.explanation.text);
    // No LAC rule for a child who was not looked after.
    assert!(case
        .deadlines()
        .iter()
        .all(|x| x.rule_id != "lac_death_notification"));
}

#[test]
fn late_is_missed_and_looked_after_deaths_add_a_deadline() {
    let mut case = Case::new("2026-04-02", Harm::Death, true);
    assert_eq!(case.get("sin_submission").due_on, d("2026-04-13"));
    assert_eq!(case.get("lac_death_notification").due_on, d("2026-04-13"));
    case.add("2026-04-14", sin());
    let x = case.get("sin_submission");
    assert_eq!(x.status, DeadlineStatus::Missed);
    assert_eq!(x.met_on, Some(d("2026-04-14")));
    assert_eq!(
        effective_status(DeadlineStatus::Pending, d("2026-04-13"), d("2026-04-14")),
        DeadlineStatus::Missed
    );
    assert_eq!(
        effective_status(DeadlineStatus::Pending, d("2026-04-13"), d("2026-04-13")),
        DeadlineStatus::Pending
    );
    // Serious harm to a looked-after child: no LAC death deadline.
    let case = Case::new("2026-04-02", Harm::SeriousHarm, true);
    assert!(case
        .deadlines()
        .iter()
        .all(|x| x.rule_id != "lac_death_notification"));
}

#[test]
fn withdrawal_waives_what_is_pending_only() {
    let mut case = Case::new("2026-01-05", Harm::SeriousHarm, false);
    case.add("2026-01-06", EventData::PartnersInformed { note: None });
    case.add(
        "2026-01-07",
        EventData::Withdrawn {
            reason: "criteria not met".into(),
        },
    );
    assert_eq!(case.get("partners_informed").status, DeadlineStatus::Met);
    let sin = case.get("sin_submission");
    assert_eq!(sin.status, DeadlineStatus::Waived);
    assert!(sin
        .explanation
        .waived_because
        .as_deref()
        .unwrap()
        .contains("withdrawn"));
}

fn to_publication_planning(case: &mut Case) {
    case.add("2026-01-06", sin())
        .add(
            "2026-01-20",
            EventData::RapidReviewSent {
                decision: Decision::Lcspr,
                rationale: "x".into(),
                criteria: vec![Criterion::A],
            },
        )
        .add(
            "2026-01-21",
            EventData::LcsprDecided {
                note: None,
                decision_id: None,
            },
        )
        .add(
            "2026-01-22",
            EventData::ReviewerAppointed {
                reviewer_id: "r".into(),
                conflict_declaration: "none".into(),
            },
        )
        .add(
            "2026-02-19",
            EventData::ProgressCheck {
                note: "on track".into(),
            },
        )
        .add(
            "2026-05-01",
            EventData::QaApproved {
                note: None,
                decision_id: None,
            },
        )
        .add(
            "2026-05-05",
            EventData::Ratified {
                note: None,
                decision_id: None,
            },
        );
}

#[test]
fn six_months_progress_checks_and_their_end() {
    let mut case = Case::new("2026-01-05", Harm::Death, false);
    to_publication_planning(&mut case);
    assert_eq!(case.get("lcspr_completion").due_on, d("2026-07-21"));
    let checks: Vec<Deadline> = case
        .deadlines()
        .into_iter()
        .filter(|x| x.rule_id == "progress_check")
        .collect();
    assert_eq!(checks.len(), 2, "{checks:#?}");
    // Appointed Thu 22 Jan 2026 + 20 working days = Thu 19 Feb 2026: met on the day.
    assert_eq!(checks[0].due_on, d("2026-02-19"));
    assert_eq!(checks[0].status, DeadlineStatus::Met);
    assert_eq!(checks[1].instance, 2);
    assert_eq!(checks[1].trigger_on, d("2026-02-19"));
    assert_eq!(
        checks[1].status,
        DeadlineStatus::Waived,
        "QA approval ends the checks"
    );
}

#[test]
fn seven_working_day_rule() {
    let mut case = Case::new("2025-06-02", Harm::Death, false);
    case.events.truncate(1);
    to_publication_planning(&mut case);
    // Publication Tue 6 Jan 2026: copies by Tue 23 Dec 2025 (DESIGN.md example).
    case.events
        .iter_mut()
        .for_each(|e| e.occurred_on = d("2025-06-02"));
    case.add("2025-12-01", plan("2026-01-06"));
    for r in ["prepub_panel", "prepub_ofsted", "prepub_secretary_of_state"] {
        assert_eq!(case.get(r).due_on, d("2025-12-23"), "{r}");
    }
    case.add("2025-12-22", copy(Recipient::Panel));
    case.add("2025-12-23", copy(Recipient::SecretaryOfState));
    case.add("2025-12-24", copy(Recipient::Ofsted));
    assert_eq!(case.get("prepub_panel").status, DeadlineStatus::Met);
    assert_eq!(case.get("prepub_ofsted").status, DeadlineStatus::Missed);
    let refused = case.publication("2026-01-06").unwrap_err();
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].recipient, Recipient::Ofsted);
    // Sent Wed 24 Dec; 7 working days after, skipping Christmas, Boxing Day, New Year: Tue 6 Jan? No:
    // 29,30,31 Dec, 2,5,6,7 Jan → Wed 7 Jan 2026.
    assert_eq!(refused[0].earliest, Some(d("2026-01-07")));
    assert!(
        refused[0]
            .message
            .contains("it had to go by Tue 23 Dec 2025"),
        "{}",
        refused[0].message
    );
    assert!(case.publication("2026-01-07").is_ok());
    // Re-planning moves the three deadlines and keeps the copies already sent.
    case.add("2025-12-30", plan("2026-01-20"));
    assert_eq!(case.get("prepub_ofsted").due_on, d("2026-01-09"));
    assert_eq!(case.get("prepub_ofsted").status, DeadlineStatus::Met);
}

#[test]
fn a_newer_final_report_needs_the_copies_again() {
    let mut case = Case::new("2026-01-05", Harm::Death, false);
    to_publication_planning(&mut case);
    case.add("2026-05-06", plan("2026-06-30"));
    for r in [
        Recipient::Panel,
        Recipient::Ofsted,
        Recipient::SecretaryOfState,
    ] {
        case.add("2026-05-07", copy(r));
    }
    assert!(case.publication("2026-06-30").is_ok());
    case.add(
        "2026-05-08",
        EventData::ReportVersionUploaded {
            document_id: "doc".into(),
            kind: "final_report".into(),
            version: 2,
        },
    );
    let refused = case.publication("2026-06-30").unwrap_err();
    assert_eq!(refused.len(), 3);
    assert!(refused[0].message.contains("no copy of the current report"));
    assert_eq!(case.get("prepub_panel").status, DeadlineStatus::Pending);
    // A new draft does not reset anything.
    case.events.pop();
    case.add(
        "2026-05-08",
        EventData::ReportVersionUploaded {
            document_id: "doc".into(),
            kind: "draft_report".into(),
            version: 5,
        },
    );
    assert!(case.publication("2026-06-30").is_ok());
}

#[test]
fn summary_only_and_none() {
    let mut case = Case::new("2026-01-05", Harm::Death, false);
    to_publication_planning(&mut case);
    case.add(
        "2026-05-06",
        EventData::PublicationPlanned {
            publication_on: d("2026-06-30"),
            format: PublicationFormat::None,
            justification: Some("family".into()),
            decision_id: None,
        },
    );
    assert!(case
        .deadlines()
        .iter()
        .all(|x| !x.rule_id.starts_with("prepub_")));
}

#[test]
fn improvement_actions_each_get_a_deadline() {
    let mut case = Case::new("2026-01-05", Harm::Death, false);
    case.add(
        "2026-02-01",
        EventData::ActionAdded {
            action_id: "a1".into(),
            description: "x".into(),
            owner_agency: "Police".into(),
            due_on: d("2026-06-01"),
        },
    );
    case.add(
        "2026-02-01",
        EventData::ActionAdded {
            action_id: "a2".into(),
            description: "y".into(),
            owner_agency: "NHS".into(),
            due_on: d("2026-07-01"),
        },
    );
    case.add(
        "2026-06-03",
        EventData::ActionDone {
            action_id: "a1".into(),
            note: None,
        },
    );
    let actions: Vec<Deadline> = case
        .deadlines()
        .into_iter()
        .filter(|x| x.rule_id == "improvement_action")
        .collect();
    assert_eq!(actions.len(), 2);
    assert_eq!(
        (actions[0].instance, actions[0].due_on, actions[0].status),
        (1, d("2026-06-01"), DeadlineStatus::Missed)
    );
    assert_eq!(
        (actions[1].instance, actions[1].due_on, actions[1].status),
        (2, d("2026-07-01"), DeadlineStatus::Pending)
    );
}

#[test]
fn closure_waives_but_website_retention_runs_on() {
    let mut case = Case::new("2026-01-05", Harm::Death, false);
    to_publication_planning(&mut case);
    case.add(
        "2026-06-01",
        EventData::Published {
            url: "https://x".into(),
        },
    );
    case.add("2026-06-02", EventData::Closed { note: None });
    let keep = case.get("website_retention");
    assert_eq!(keep.due_on, d("2029-06-01"));
    assert_eq!(keep.status, DeadlineStatus::Pending);
    assert_eq!(case.get("lcspr_completion").status, DeadlineStatus::Met);
}

#[test]
fn explicit_waiver() {
    let mut case = Case::new("2026-01-05", Harm::Death, false);
    case.add(
        "2026-01-06",
        EventData::DeadlineWaived {
            rule: "partners_informed".into(),
            reason: "partners were at the strategy meeting".into(),
        },
    );
    let p = case.get("partners_informed");
    assert_eq!(p.status, DeadlineStatus::Waived);
    assert!(p.explanation.text.contains("strategy meeting"));
    assert_eq!(case.get("sin_submission").status, DeadlineStatus::Pending);
}

#[test]
fn latest_send_dates_for_planning() {
    let v = prepub_latest_send(
        &RuleSet::shipped(),
        &Calendar::shipped(),
        Division::EnglandAndWales,
        d("2026-01-06"),
    )
    .unwrap();
    assert_eq!(v.len(), 3);
    assert!(v.iter().all(|(_, date, _)| *date == d("2025-12-23")));
}

#[test]
fn prepub_copies_say_what_was_sent_and_the_earliest_permissible_date() {
    let mut case = Case::new("2025-06-02", Harm::Death, false);
    case.add("2025-12-01", plan("2026-01-06"));
    case.add("2025-12-22", copy(Recipient::Panel));
    let input = CaseInput {
        facts: case.facts,
        division: Division::EnglandAndWales,
        stage: Stage::PublicationPlanning,
        events: &case.events,
    };
    let (rules, cal) = (RuleSet::shipped(), Calendar::shipped());
    let copies = prepub_copies(
        &input,
        &rules,
        &cal,
        d("2026-01-06"),
        PublicationFormat::Full,
    )
    .unwrap();
    let recipients: Vec<Recipient> = copies.iter().map(|c| c.recipient).collect();
    assert_eq!(
        recipients,
        vec![
            Recipient::Panel,
            Recipient::Ofsted,
            Recipient::SecretaryOfState
        ]
    );
    assert!(copies.iter().all(|c| c.latest_send == d("2025-12-23")));
    assert_eq!(copies[0].sent_on, Some(d("2025-12-22")));
    assert_eq!(copies[1].sent_on, None);
    // On Mon 22 Dec 2025 every copy can still go in time; on Wed 24 Dec two cannot.
    assert!(copies.iter().all(|c| !c.too_late(d("2025-12-22"))));
    assert!(!copies[0].too_late(d("2025-12-24")));
    assert!(copies[1].too_late(d("2025-12-24")));
    // Sent today at the earliest: 7 working days after Wed 24 Dec 2025, skipping Christmas,
    // Boxing Day and New Year's Day.
    assert_eq!(
        earliest_publication(&copies, &cal, Division::EnglandAndWales, d("2025-12-24")).unwrap(),
        Some(d("2026-01-07"))
    );
    // Not published: no copies are needed.
    let none = prepub_copies(
        &input,
        &rules,
        &cal,
        d("2026-01-06"),
        PublicationFormat::None,
    )
    .unwrap();
    assert!(none.is_empty());
}

/// DESIGN.md §2: for every day a copy may be sent, 2018 to 2028, in every division, publishing
/// on the earliest permissible date the service names is allowed by the check that refuses
/// `published`, and publishing the calendar day before is refused.
#[test]
fn the_earliest_permissible_date_passes_the_check_and_the_day_before_fails_2018_to_2028() {
    let (rules, cal) = (RuleSet::shipped(), Calendar::shipped());
    for division in Division::ALL {
        let mut sent = d("2018-01-01");
        while sent <= d("2028-12-31") {
            let mut case = Case::new("2017-12-01", Harm::Death, false);
            case.add("2017-12-01", plan("2017-12-01"));
            for r in [
                Recipient::Panel,
                Recipient::Ofsted,
                Recipient::SecretaryOfState,
            ] {
                case.events.push(Event {
                    sequence: case.events.len() as i32 + 1,
                    occurred_on: sent,
                    data: copy(r),
                });
            }
            let input = CaseInput {
                facts: case.facts,
                division,
                stage: Stage::PublicationPlanning,
                events: &case.events,
            };
            let earliest = earliest_publication_after(&cal, division, sent, 7).unwrap();
            assert!(
                check_publication(&input, &rules, &cal, earliest).is_ok(),
                "{division:?}: sent {sent}, publication on {earliest} refused"
            );
            let before = earliest.pred_opt().unwrap();
            let refused = check_publication(&input, &rules, &cal, before)
                .expect_err(&format!("{division:?}: sent {sent}, {before} allowed"));
            // The refusal names the same earliest date.
            assert!(refused.iter().all(|r| r.earliest == Some(earliest)));
            sent = sent.succ_opt().unwrap();
        }
    }
}

#[test]
fn the_earliest_permissible_date_after_a_weekend_or_holiday_send() {
    let cal = Calendar::shipped();
    let ew = Division::EnglandAndWales;
    let earliest = |s: &str| earliest_publication_after(&cal, ew, d(s), 7).unwrap();
    // DESIGN.md: sent Saturday 29 Nov 2025 → Wed 10 Dec 2025; Christmas Day 2025 → Thu 8 Jan.
    assert_eq!(earliest("2025-11-29"), d("2025-12-10"));
    assert_eq!(earliest("2025-12-25"), d("2026-01-08"));
    // Issue 10: sent Saturday 28 Nov 2026 → Wed 9 Dec 2026, not Tue 8 Dec.
    assert_eq!(earliest("2026-11-28"), d("2026-12-09"));
    // A working day: the 7th working day after it, when the day before that is one too.
    assert_eq!(earliest("2026-01-05"), d("2026-01-14"));
    // Sent on a Thursday: from the Saturday after the 6th working day.
    assert_eq!(earliest("2026-01-08"), d("2026-01-17"));
}

#[test]
fn a_delay_counts_the_copies_back_from_the_revised_date() {
    let mut case = Case::new("2025-06-02", Harm::Death, false);
    case.events.truncate(1);
    to_publication_planning(&mut case);
    case.events
        .iter_mut()
        .for_each(|e| e.occurred_on = d("2025-06-02"));
    case.add("2025-12-01", plan("2026-01-06"));
    case.add(
        "2025-12-10",
        EventData::PublicationDelayed {
            reason: "Inquest".into(),
            revised_publication_on: Some(d("2026-07-14")),
        },
    );
    // Tue 14 Jul 2026: seven working days before is Fri 3 Jul 2026.
    let panel = case.get("prepub_panel");
    assert_eq!(panel.due_on, d("2026-07-03"));
    assert_eq!(panel.trigger_event, EventType::PublicationPlanned);
    assert!(
        panel.explanation.text.contains(
            "Publication planned on Mon 1 Dec 2025, publication delayed on Wed 10 Dec 2025 to Tue 14 Jul 2026; 7 working days before Tue 14 Jul 2026"
        ),
        "{}",
        panel.explanation.text
    );
    // A new plan after the delay counts from its own date again.
    case.add("2025-12-20", plan("2026-09-01"));
    assert_eq!(case.get("prepub_panel").due_on, d("2026-08-20"));
    assert!(!case
        .get("prepub_panel")
        .explanation
        .text
        .contains("delayed"));
}
