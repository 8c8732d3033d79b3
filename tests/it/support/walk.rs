//! One helper that takes a case along the statutory path: the steps of the main path with the
//! body each is recorded with and who records it, so a test names only the stage it needs (and,
//! when the dates matter, the date of each step).

use chrono::NaiveDate;
use serde_json::{json, Value};

use lcspr_tracker::domain::case::Stage;

use super::api::User;
use super::TestApp;

/// The people who record a case's events. The board member ratifies when there is one (else a
/// co-chair does); the reviewer is the one appointed.
#[derive(Clone, Copy)]
pub struct Cast<'a> {
    pub pm: &'a User,
    pub chair: &'a User,
    pub board: Option<&'a User>,
    pub reviewer: Option<&'a User>,
}

/// One step of the main path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Sin,
    PartnersInformed,
    RapidReview,
    PanelAgrees,
    Decided,
    Appointed,
    FinalReport,
    QaApproved,
    Ratified,
    /// The plan to publish in full on this date (`YYYY-MM-DD`).
    Planned(&'static str),
    /// The copy to the Panel, Ofsted or the Secretary of State.
    Copy(&'static str),
    Published,
}

impl Step {
    /// The steps that take a newly opened case to `stage` on the main path (every step that
    /// leaves it at `stage` or before: to commissioning includes the decision).
    pub fn path_to(stage: Stage) -> Vec<Step> {
        use Step::*;
        let index = |s: Stage| Stage::PATH.iter().position(|p| *p == s);
        let target = index(stage).expect("a stage of the main path");
        assert!(
            target <= index(Stage::PublicationPlanning).unwrap(),
            "walk_to goes as far as publication planning, not {stage:?}"
        );
        [
            (Sin, Stage::RapidReview),
            (RapidReview, Stage::PanelResponse),
            (PanelAgrees, Stage::Commissioning),
            (Decided, Stage::Commissioning),
            (Appointed, Stage::InReview),
            (FinalReport, Stage::QualityAssurance),
            (QaApproved, Stage::Ratification),
            (Ratified, Stage::PublicationPlanning),
        ]
        .into_iter()
        .filter(|(_, reached)| index(*reached).unwrap() <= target)
        .map(|(step, _)| step)
        .collect()
    }

    /// The body of this step's event (without its date), and who records it.
    fn event<'a>(self, cast: &Cast<'a>) -> (Value, &'a User) {
        let reviewer = || cast.reviewer.expect("a reviewer in the cast to appoint");
        match self {
            Step::Sin => (json!({"type": "sin_submitted"}), cast.pm),
            Step::PartnersInformed => (json!({"type": "partners_informed"}), cast.pm),
            Step::RapidReview => (
                json!({"type": "rapid_review_sent", "decision": "lcspr", "criteria": ["a"], "rationale": "r"}),
                cast.chair,
            ),
            Step::PanelAgrees => (
                json!({"type": "panel_response", "outcome": "agrees"}),
                cast.pm,
            ),
            Step::Decided => (json!({"type": "lcspr_decided"}), cast.chair),
            Step::Appointed => (
                json!({"type": "reviewer_appointed", "reviewer_id": reviewer().id, "conflict_declaration": "None"}),
                cast.pm,
            ),
            Step::FinalReport => (json!({"type": "final_report_submitted"}), cast.pm),
            Step::QaApproved => (json!({"type": "qa_approved"}), cast.chair),
            Step::Ratified => (
                json!({"type": "ratified"}),
                cast.board.unwrap_or(cast.chair),
            ),
            Step::Planned(on) => (
                json!({"type": "publication_planned", "publication_on": on, "format": "full"}),
                cast.pm,
            ),
            Step::Copy(recipient) => (
                json!({"type": "prepub_copy_sent", "recipient": recipient}),
                cast.pm,
            ),
            Step::Published => (
                json!({"type": "published", "url": "https://example.org/report"}),
                cast.pm,
            ),
        }
    }
}

impl TestApp {
    /// Records each step on its date (`YYYY-MM-DD`) through the API, asserting each is
    /// accepted.
    pub async fn walk(&self, case_id: &str, cast: &Cast<'_>, steps: &[(&str, Step)]) {
        for (on, step) in steps {
            let (mut body, who) = step.event(cast);
            body["occurred_on"] = json!(on);
            // A decision, quality assurance or ratification cites what a quorate meeting
            // decided that day (`governance.require_meeting_decision`).
            let body = self.cite(cast.pm, case_id, body).await;
            self.ok_event(who, case_id, body).await;
        }
    }

    /// Takes a newly opened case to `stage` along the main path, one step a day from `first`.
    pub async fn walk_to(&self, case_id: &str, cast: &Cast<'_>, stage: Stage, first: &str) {
        let first: NaiveDate = first.parse().expect("a date");
        let dates: Vec<String> = (0..)
            .map(|i| (first + chrono::Duration::days(i)).to_string())
            .take(Step::path_to(stage).len())
            .collect();
        let steps: Vec<(&str, Step)> = dates
            .iter()
            .map(String::as_str)
            .zip(Step::path_to(stage))
            .collect();
        self.walk(case_id, cast, &steps).await;
    }
}
