//! A whole case's deadline computation: every rule over a case at publication, with its
//! explanations (cargo bench --bench deadlines).

use chrono::NaiveDate;
use criterion::{criterion_group, criterion_main, Criterion};

use lcspr_tracker::domain::calendar::{Calendar, Division};
use lcspr_tracker::domain::case::{CaseFacts, Harm, Stage};
use lcspr_tracker::domain::deadlines::{compute, CaseInput};
use lcspr_tracker::domain::events::{
    Criterion as Reg11, Decision, Event, EventData, PanelOutcome, PublicationFormat, Recipient,
};
use lcspr_tracker::domain::rules::RuleSet;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn case_events() -> Vec<Event> {
    let mut v = vec![
        (
            "2025-12-18",
            EventData::Aware {
                incident_on: d("2025-12-17"),
                harm: Harm::Death,
                looked_after: true,
            },
        ),
        (
            "2025-12-29",
            EventData::SinSubmitted {
                ofsted_reference: None,
            },
        ),
        ("2025-12-29", EventData::PartnersInformed { note: None }),
        ("2025-12-30", EventData::LacDeathNotified { note: None }),
        (
            "2026-01-19",
            EventData::RapidReviewSent {
                decision: Decision::Lcspr,
                rationale: "r".into(),
                criteria: vec![Reg11::A],
            },
        ),
        (
            "2026-02-02",
            EventData::PanelResponse {
                outcome: PanelOutcome::Agrees,
                note: None,
            },
        ),
        (
            "2026-02-03",
            EventData::LcsprDecided {
                note: None,
                decision_id: None,
            },
        ),
        (
            "2026-02-10",
            EventData::ReviewerAppointed {
                reviewer_id: "r".into(),
                conflict_declaration: "none".into(),
            },
        ),
    ];
    for on in ["2026-03-10", "2026-04-08", "2026-05-07"] {
        v.push((on, EventData::ProgressCheck { note: "ok".into() }));
    }
    v.push((
        "2026-06-08",
        EventData::QaApproved {
            note: None,
            decision_id: None,
        },
    ));
    v.push((
        "2026-06-15",
        EventData::Ratified {
            note: None,
            decision_id: None,
        },
    ));
    v.push((
        "2026-06-16",
        EventData::PublicationPlanned {
            publication_on: d("2026-07-14"),
            format: PublicationFormat::Full,
            justification: None,
            decision_id: None,
        },
    ));
    for r in [
        Recipient::Panel,
        Recipient::Ofsted,
        Recipient::SecretaryOfState,
    ] {
        v.push((
            "2026-07-01",
            EventData::PrepubCopySent {
                recipient: r,
                document_id: None,
                version: None,
            },
        ));
    }
    v.push((
        "2026-07-14",
        EventData::Published {
            url: "https://example.org".into(),
        },
    ));
    for i in 0..5 {
        v.push((
            "2026-07-20",
            EventData::ActionAdded {
                action_id: format!("a{i}"),
                description: "x".into(),
                owner_agency: "y".into(),
                due_on: d("2026-12-01"),
            },
        ));
    }
    v.into_iter()
        .enumerate()
        .map(|(i, (on, data))| Event {
            sequence: i as i32 + 1,
            occurred_on: d(on),
            data,
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let rules = RuleSet::shipped();
    let calendar = Calendar::shipped();
    let events = case_events();
    let input = CaseInput {
        facts: CaseFacts {
            harm: Harm::Death,
            looked_after: true,
        },
        division: Division::EnglandAndWales,
        stage: Stage::Learning,
        events: &events,
    };
    let n = compute(&input, &rules, &calendar).unwrap().len();
    c.bench_function(
        &format!(
            "whole case: {} events → {n} deadlines with explanations",
            events.len()
        ),
        |b| b.iter(|| compute(&input, &rules, &calendar).unwrap()),
    );
}

criterion_group!(deadlines, bench);
criterion_main!(deadlines);
