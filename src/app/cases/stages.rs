//! A case's progress along the statutory path, stage by stage, for the case page's task list.

use serde::Serialize;

use super::view::CaseView;
use crate::domain::case::Stage;
use crate::domain::events::{Event, EventData};
use crate::domain::workflow::CaseState;

/// Where a case stands on one stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Progress {
    Completed,
    InProgress,
    NotStarted,
    /// Passed over: the case took a branch that does not need this stage.
    NotNeeded,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct StageTask {
    pub stage: Stage,
    pub label: &'static str,
    pub progress: Progress,
}

/// The stages a case has been in, in order, from its events.
pub fn visited(events: &[Event]) -> Vec<Stage> {
    let mut seen = vec![];
    let mut state = CaseState::from_events(&events[..events.len().min(1)]);
    seen.push(state.stage);
    for e in events.iter().skip(1) {
        state.apply(e.occurred_on, &e.data);
        if !seen.contains(&state.stage) {
            seen.push(state.stage);
        }
    }
    seen
}

/// The task list: the main path ([`Stage::PATH`]) with the branches a case took (a national
/// review after the Panel's response; a withdrawal) in their place.
pub fn tasks(events: &[Event]) -> Vec<StageTask> {
    let visited = visited(events);
    let current = *visited.last().unwrap_or(&Stage::Notification);
    let finished = current.is_final();
    // Stages after the furthest one reached are not started (or not needed once finished).
    let furthest = Stage::PATH
        .iter()
        .rposition(|s| visited.contains(s))
        .unwrap_or(0);
    // The local review and its publication, which a case passes over when the rapid review or
    // the Panel decides against it (or the Panel reviews nationally).
    let index = |stage: Stage| Stage::PATH.iter().position(|s| *s == stage).unwrap_or(0);
    let local_review = index(Stage::Commissioning)..=index(Stage::Published);
    let passed_over = !visited.contains(&Stage::Commissioning)
        && (furthest > index(Stage::PanelResponse) || visited.contains(&Stage::NationalReview));
    let mut out = vec![];
    for (i, stage) in Stage::PATH.iter().copied().enumerate() {
        let progress = if stage == current {
            if finished {
                Progress::Completed
            } else {
                Progress::InProgress
            }
        } else if visited.contains(&stage) {
            Progress::Completed
        } else if passed_over && local_review.contains(&i) {
            Progress::NotNeeded
        } else if i < furthest {
            // Gone through without stopping (quality assurance approved during the review).
            Progress::Completed
        } else if finished {
            Progress::NotNeeded
        } else {
            Progress::NotStarted
        };
        out.push(StageTask {
            stage,
            label: stage.label(),
            progress,
        });
        if stage == Stage::PanelResponse && visited.contains(&Stage::NationalReview) {
            out.push(StageTask {
                stage: Stage::NationalReview,
                label: "National review (by the Panel)",
                progress: if current == Stage::NationalReview {
                    Progress::InProgress
                } else {
                    Progress::Completed
                },
            });
        }
    }
    if current == Stage::Withdrawn {
        // Withdrawn is recorded at notification or rapid review: it ends the path there.
        out.retain(|t| t.progress == Progress::Completed || t.stage == Stage::Closed);
        out.retain(|t| t.stage != Stage::Closed);
        out.push(StageTask {
            stage: Stage::Withdrawn,
            label: "Notification withdrawn",
            progress: Progress::Completed,
        });
    }
    out
}

/// The events of a case view back in domain form (its fields are the stored event's).
pub fn events_of(view: &CaseView) -> Vec<Event> {
    view.events
        .iter()
        .filter(|e| e.voided.is_none())
        .filter_map(|e| {
            let mut fields = e.fields.clone();
            let map = fields.as_object_mut()?;
            map.insert("type".into(), serde_json::json!(e.kind));
            let data: EventData = serde_json::from_value(fields).ok()?;
            Some(Event {
                sequence: e.sequence,
                occurred_on: e.occurred_on,
                data,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::domain::case::Harm;
    use crate::domain::events::{Decision, PanelOutcome};

    fn ev(seq: i32, data: EventData) -> Event {
        Event {
            sequence: seq,
            occurred_on: NaiveDate::from_ymd_opt(2026, 1, 5).unwrap()
                + chrono::Duration::days(seq.into()),
            data,
        }
    }

    fn start() -> Vec<Event> {
        vec![
            ev(
                1,
                EventData::Aware {
                    incident_on: NaiveDate::from_ymd_opt(2026, 1, 5).unwrap(),
                    harm: Harm::Death,
                    looked_after: false,
                },
            ),
            ev(
                2,
                EventData::SinSubmitted {
                    ofsted_reference: None,
                },
            ),
        ]
    }

    fn rapid(decision: Decision) -> EventData {
        EventData::RapidReviewSent {
            decision,
            rationale: "r".into(),
            criteria: vec![],
        }
    }

    fn progress(tasks: &[StageTask]) -> Vec<(Stage, Progress)> {
        tasks.iter().map(|t| (t.stage, t.progress)).collect()
    }

    #[test]
    fn the_main_path_in_order() {
        let t = tasks(&start());
        assert_eq!(t.len(), Stage::PATH.len());
        assert_eq!(t[0].progress, Progress::Completed);
        assert_eq!(t[1].progress, Progress::InProgress);
        assert!(t[2..].iter().all(|t| t.progress == Progress::NotStarted));
    }

    #[test]
    fn no_local_review_passes_over_the_review_stages() {
        let mut e = start();
        e.push(ev(3, rapid(Decision::NoLcspr)));
        e.push(ev(
            4,
            EventData::PanelResponse {
                outcome: PanelOutcome::Agrees,
                note: None,
            },
        ));
        let p = progress(&tasks(&e));
        assert!(p.contains(&(Stage::PanelResponse, Progress::Completed)));
        assert!(p.contains(&(Stage::Commissioning, Progress::NotNeeded)));
        assert!(p.contains(&(Stage::Published, Progress::NotNeeded)));
        assert!(p.contains(&(Stage::Learning, Progress::InProgress)));
        assert!(p.contains(&(Stage::Closed, Progress::NotStarted)));
    }

    #[test]
    fn a_national_review_appears_after_the_panel_response() {
        let mut e = start();
        e.push(ev(3, rapid(Decision::Lcspr)));
        e.push(ev(
            4,
            EventData::PanelResponse {
                outcome: PanelOutcome::NationalReview,
                note: None,
            },
        ));
        let t = tasks(&e);
        let i = t
            .iter()
            .position(|t| t.stage == Stage::NationalReview)
            .unwrap();
        assert_eq!(t[i - 1].stage, Stage::PanelResponse);
        assert_eq!(t[i].progress, Progress::InProgress);
        let p = progress(&t);
        assert!(p.contains(&(Stage::Commissioning, Progress::NotNeeded)));
        assert!(p.contains(&(Stage::Learning, Progress::NotStarted)));
    }

    #[test]
    fn a_stage_gone_through_without_stopping_is_completed() {
        let mut e = start();
        e.push(ev(3, rapid(Decision::Lcspr)));
        e.push(ev(
            4,
            EventData::PanelResponse {
                outcome: PanelOutcome::Agrees,
                note: None,
            },
        ));
        e.push(ev(
            5,
            EventData::LcsprDecided {
                note: None,
                decision_id: None,
            },
        ));
        e.push(ev(
            6,
            EventData::ReviewerAppointed {
                reviewer_id: "r".into(),
                conflict_declaration: "none".into(),
            },
        ));
        e.push(ev(
            7,
            EventData::QaApproved {
                note: None,
                decision_id: None,
            },
        ));
        let p = progress(&tasks(&e));
        assert!(p.contains(&(Stage::QualityAssurance, Progress::Completed)));
        assert!(p.contains(&(Stage::Ratification, Progress::InProgress)));
        assert!(p.contains(&(Stage::PublicationPlanning, Progress::NotStarted)));
    }

    #[test]
    fn a_withdrawn_notification_ends_the_path() {
        let mut e = start();
        e.push(ev(3, EventData::Withdrawn { reason: "r".into() }));
        let p = progress(&tasks(&e));
        assert_eq!(
            p,
            vec![
                (Stage::Notification, Progress::Completed),
                (Stage::RapidReview, Progress::Completed),
                (Stage::Withdrawn, Progress::Completed),
            ]
        );
    }
}
