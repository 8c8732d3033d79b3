//! Case events: the append-only source of truth. Each type, its fields, and the parsing of a
//! request body into a typed event with errors that name the field.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::case::Harm;
use super::input::{parse_date, FieldError, Fields, NOTE_MAX, SHORT_MAX};
use crate::text_enum;

text_enum! {
    /// Every event a case can hold.
    pub enum EventType {
        Aware = ("aware", "Local authority became aware"),
        SinSubmitted = ("sin_submitted", "Serious incident notification submitted"),
        PartnersInformed = ("partners_informed", "Safeguarding partners informed"),
        LacDeathNotified = ("lac_death_notified", "Looked-after child death notified to the Secretary of State and Ofsted"),
        RapidReviewSent = ("rapid_review_sent", "Rapid review sent to the Panel"),
        PanelResponse = ("panel_response", "Panel response received"),
        LcsprDecided = ("lcspr_decided", "Decision to initiate an LCSPR"),
        ReviewerAppointed = ("reviewer_appointed", "Lead reviewer appointed"),
        ReviewMeeting = ("review_meeting", "Review team meeting"),
        LearningWorkshop = ("learning_workshop", "Reflective learning workshop"),
        FamilyEngagement = ("family_engagement", "Family engagement"),
        PractitionerEngagement = ("practitioner_engagement", "Practitioner engagement"),
        ProgressCheck = ("progress_check", "Progress check (time and quality)"),
        ReportVersionUploaded = ("report_version_uploaded", "Report version uploaded"),
        FinalReportSubmitted = ("final_report_submitted", "Final report submitted"),
        QaApproved = ("qa_approved", "Quality assured by the Sub-Group"),
        Ratified = ("ratified", "Ratified by the Executive Board"),
        PublicationPlanned = ("publication_planned", "Publication planned"),
        PublicationDelayed = ("publication_delayed", "Publication delayed"),
        PrepubCopySent = ("prepub_copy_sent", "Pre-publication copy sent"),
        Published = ("published", "Published"),
        NspccSent = ("nspcc_sent", "Sent to the NSPCC repository"),
        BriefingPublished = ("briefing_published", "Learning briefing published"),
        WebinarHeld = ("webinar_held", "Practitioner webinar held"),
        ActionAdded = ("action_added", "Improvement action added"),
        ActionDone = ("action_done", "Improvement action completed"),
        Archived = ("archived", "Report archived from the website"),
        DeadlineWaived = ("deadline_waived", "Deadline waived"),
        Withdrawn = ("withdrawn", "Notification withdrawn"),
        Closed = ("closed", "Case closed"),
    }
}

text_enum! {
    /// The rapid review's recommendation.
    pub enum Decision {
        Lcspr = ("lcspr", "Local review (LCSPR)"),
        NoLcspr = ("no_lcspr", "No local review"),
        NationalReview = ("national_review", "National review recommended"),
    }
}

text_enum! {
    /// The national Panel's written response to a rapid review.
    pub enum PanelOutcome {
        Agrees = ("agrees", "Agrees"),
        Challenges = ("challenges", "Challenges the decision"),
        NationalReview = ("national_review", "Panel will run a national review"),
    }
}

text_enum! {
    /// Regulation 11 criteria (Working Together ch.4/ch.5) met by the case.
    pub enum Criterion {
        A = ("a", "highlights or may highlight improvements needed to safeguard and promote the welfare of children"),
        B = ("b", "highlights or may highlight recurrent themes in the safeguarding of children"),
        C = ("c", "highlights or may highlight concerns about two or more organisations or agencies working together"),
        D = ("d", "the Panel has considered and concluded that a local review may be more appropriate"),
    }
}

text_enum! {
    /// How the report will be published.
    pub enum PublicationFormat {
        Full = ("full", "Full report"),
        Summary = ("summary", "Summary only"),
        None = ("none", "Not published"),
    }
}

text_enum! {
    /// The three recipients of the pre-publication copy.
    pub enum Recipient {
        Panel = ("panel", "the Child Safeguarding Practice Review Panel"),
        Ofsted = ("ofsted", "Ofsted"),
        SecretaryOfState = ("secretary_of_state", "the Secretary of State"),
    }
}

/// A typed event. Stored as JSON (this enum's serde form) beside its type and date.
///
/// Its JSON Schema (derived) is the request body of `POST /api/v1/cases/{id}/events`, less the
/// types the service records itself and the fields it fills in (`readOnly`): lengths are those
/// [`EventInput::parse`] checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventData {
    Aware {
        incident_on: NaiveDate,
        harm: Harm,
        looked_after: bool,
    },
    SinSubmitted {
        #[schemars(length(max = SHORT_MAX))]
        ofsted_reference: Option<String>,
    },
    PartnersInformed {
        #[schemars(length(max = NOTE_MAX))]
        note: Option<String>,
    },
    LacDeathNotified {
        #[schemars(length(max = NOTE_MAX))]
        note: Option<String>,
    },
    RapidReviewSent {
        decision: Decision,
        #[schemars(length(max = NOTE_MAX))]
        rationale: String,
        /// Required (one at least) when `decision` is `lcspr`.
        #[serde(default)]
        criteria: Vec<Criterion>,
    },
    PanelResponse {
        outcome: PanelOutcome,
        #[schemars(length(max = NOTE_MAX))]
        note: Option<String>,
    },
    LcsprDecided {
        #[schemars(length(max = NOTE_MAX))]
        note: Option<String>,
        /// The meeting decision this records (`governance.require_meeting_decision`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schemars(length(max = SHORT_MAX))]
        decision_id: Option<String>,
    },
    ReviewerAppointed {
        #[schemars(length(max = SHORT_MAX))]
        reviewer_id: String,
        #[schemars(length(max = NOTE_MAX))]
        conflict_declaration: String,
    },
    ReviewMeeting {
        #[schemars(length(max = NOTE_MAX))]
        note: Option<String>,
    },
    LearningWorkshop {
        #[schemars(length(max = NOTE_MAX))]
        note: Option<String>,
    },
    FamilyEngagement {
        #[schemars(length(max = NOTE_MAX))]
        note: Option<String>,
    },
    PractitionerEngagement {
        #[schemars(length(max = NOTE_MAX))]
        note: Option<String>,
    },
    ProgressCheck {
        #[schemars(length(max = NOTE_MAX))]
        note: String,
    },
    ReportVersionUploaded {
        #[schemars(length(max = SHORT_MAX))]
        document_id: String,
        kind: String,
        #[schemars(range(min = 1))]
        version: i32,
    },
    FinalReportSubmitted {
        #[schemars(length(max = NOTE_MAX))]
        note: Option<String>,
    },
    QaApproved {
        #[schemars(length(max = NOTE_MAX))]
        note: Option<String>,
        /// The meeting decision this records (`governance.require_meeting_decision`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schemars(length(max = SHORT_MAX))]
        decision_id: Option<String>,
    },
    Ratified {
        #[schemars(length(max = NOTE_MAX))]
        note: Option<String>,
        /// The meeting decision this records (`governance.require_meeting_decision`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schemars(length(max = SHORT_MAX))]
        decision_id: Option<String>,
    },
    PublicationPlanned {
        publication_on: NaiveDate,
        format: PublicationFormat,
        #[schemars(length(max = NOTE_MAX))]
        justification: Option<String>,
        /// The meeting decision this records (`governance.require_meeting_decision`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schemars(length(max = SHORT_MAX))]
        decision_id: Option<String>,
    },
    PublicationDelayed {
        #[schemars(length(max = NOTE_MAX))]
        reason: String,
        /// The new publication date: the copies' deadlines are counted back from it. Delays
        /// recorded before it was asked for have none.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        revised_publication_on: Option<NaiveDate>,
    },
    PrepubCopySent {
        recipient: Recipient,
        #[schemars(length(max = SHORT_MAX))]
        document_id: Option<String>,
        #[schemars(range(min = 1))]
        version: Option<i32>,
    },
    Published {
        #[schemars(length(max = 2000), pattern(r"^https?://"))]
        url: String,
    },
    NspccSent {
        #[schemars(length(max = NOTE_MAX))]
        note: Option<String>,
    },
    BriefingPublished {
        #[schemars(length(max = 2000), pattern(r"^https?://"))]
        url: Option<String>,
    },
    WebinarHeld {
        #[schemars(length(max = NOTE_MAX))]
        note: Option<String>,
    },
    ActionAdded {
        /// Given by the service.
        #[schemars(extend("readOnly" = true))]
        action_id: String,
        #[schemars(length(max = NOTE_MAX))]
        description: String,
        #[schemars(length(max = SHORT_MAX))]
        owner_agency: String,
        due_on: NaiveDate,
    },
    ActionDone {
        #[schemars(length(max = SHORT_MAX))]
        action_id: String,
        #[schemars(length(max = NOTE_MAX))]
        note: Option<String>,
    },
    Archived {
        #[schemars(length(max = NOTE_MAX))]
        note: Option<String>,
    },
    DeadlineWaived {
        #[schemars(length(max = SHORT_MAX))]
        rule: String,
        #[schemars(length(max = NOTE_MAX))]
        reason: String,
    },
    Withdrawn {
        #[schemars(length(max = NOTE_MAX))]
        reason: String,
    },
    Closed {
        #[schemars(length(max = NOTE_MAX))]
        note: Option<String>,
    },
}

/// One dated event of a case, as the domain sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The order in which it was first recorded: ties on one date replay in this order. A
    /// correction carries the sequence of the entry it corrects.
    pub sequence: i32,
    pub occurred_on: NaiveDate,
    pub data: EventData,
}

impl Event {
    pub fn kind(&self) -> EventType {
        self.data.kind()
    }

    /// Where the event stands in the replay: by date, then in the order first recorded (a
    /// correction keeps the place of the entry it corrects).
    pub fn replay_key(&self) -> (NaiveDate, i32) {
        (self.occurred_on, self.sequence)
    }

    /// Whether this event comes after `other` in the replay.
    pub fn is_after(&self, other: &Event) -> bool {
        self.replay_key() > other.replay_key()
    }
}

impl EventData {
    /// The type of this event.
    pub fn kind(&self) -> EventType {
        match self {
            EventData::Aware { .. } => EventType::Aware,
            EventData::SinSubmitted { .. } => EventType::SinSubmitted,
            EventData::PartnersInformed { .. } => EventType::PartnersInformed,
            EventData::LacDeathNotified { .. } => EventType::LacDeathNotified,
            EventData::RapidReviewSent { .. } => EventType::RapidReviewSent,
            EventData::PanelResponse { .. } => EventType::PanelResponse,
            EventData::LcsprDecided { .. } => EventType::LcsprDecided,
            EventData::ReviewerAppointed { .. } => EventType::ReviewerAppointed,
            EventData::ReviewMeeting { .. } => EventType::ReviewMeeting,
            EventData::LearningWorkshop { .. } => EventType::LearningWorkshop,
            EventData::FamilyEngagement { .. } => EventType::FamilyEngagement,
            EventData::PractitionerEngagement { .. } => EventType::PractitionerEngagement,
            EventData::ProgressCheck { .. } => EventType::ProgressCheck,
            EventData::ReportVersionUploaded { .. } => EventType::ReportVersionUploaded,
            EventData::FinalReportSubmitted { .. } => EventType::FinalReportSubmitted,
            EventData::QaApproved { .. } => EventType::QaApproved,
            EventData::Ratified { .. } => EventType::Ratified,
            EventData::PublicationPlanned { .. } => EventType::PublicationPlanned,
            EventData::PublicationDelayed { .. } => EventType::PublicationDelayed,
            EventData::PrepubCopySent { .. } => EventType::PrepubCopySent,
            EventData::Published { .. } => EventType::Published,
            EventData::NspccSent { .. } => EventType::NspccSent,
            EventData::BriefingPublished { .. } => EventType::BriefingPublished,
            EventData::WebinarHeld { .. } => EventType::WebinarHeld,
            EventData::ActionAdded { .. } => EventType::ActionAdded,
            EventData::ActionDone { .. } => EventType::ActionDone,
            EventData::Archived { .. } => EventType::Archived,
            EventData::DeadlineWaived { .. } => EventType::DeadlineWaived,
            EventData::Withdrawn { .. } => EventType::Withdrawn,
            EventData::Closed { .. } => EventType::Closed,
        }
    }

    /// A field's value as text, for rules that match on fields (`recipient = "panel"`).
    pub fn field(&self, name: &str) -> Option<String> {
        let v = serde_json::to_value(self).ok()?;
        match v.get(name)? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        }
    }

    /// The new value this event gives to a date field of an earlier event: a delay moves the
    /// plan's `publication_on` to its `revised_publication_on`.
    pub fn revises(&self, field: &str) -> Option<NaiveDate> {
        match self {
            EventData::PublicationDelayed {
                revised_publication_on: Some(d),
                ..
            } if field == "publication_on" => Some(*d),
            _ => None,
        }
    }

    /// A date-valued field (`publication_on`, `due_on`).
    pub fn date_field(&self, name: &str) -> Option<NaiveDate> {
        self.field(name).and_then(|s| s.parse().ok())
    }
}

/// A parsed request to record an event.
#[derive(Debug, Clone, PartialEq)]
pub struct EventInput {
    pub occurred_on: NaiveDate,
    pub data: EventData,
}

impl EventInput {
    /// Parses `{"type", "occurred_on", ...fields}`. `new_id` supplies ids for new improvement
    /// actions. Events the system records itself (`aware`, report uploads) are refused here.
    pub fn parse(
        body: &Map<String, Value>,
        new_id: impl FnOnce() -> String,
    ) -> Result<EventInput, Vec<FieldError>> {
        let kind = kind(body)?;
        let mut r = Fields::new(body, &["type", "occurred_on"]);
        let occurred_on = match body.get("occurred_on") {
            Some(Value::String(s)) => parse_date(s).map_err(|m| r.fail("occurred_on", m)).ok(),
            _ => {
                r.fail("occurred_on", "enter the date it happened as YYYY-MM-DD");
                None
            }
        };
        let data = data(kind, &mut r, new_id);
        r.finish()?;
        Ok(EventInput {
            occurred_on: occurred_on.expect("no errors means a date"),
            data,
        })
    }
}

/// The bodies one request records: the body itself, or, for `prepub_copy_sent` with
/// `recipients` (a list), one body per recipient named, in the order of [`Recipient::ALL`]. The
/// copies sent together are recorded together or not at all.
pub fn expand_recipients(
    body: &Map<String, Value>,
) -> Result<Vec<Map<String, Value>>, Vec<FieldError>> {
    let is_copy =
        body.get("type").and_then(Value::as_str) == Some(EventType::PrepubCopySent.as_str());
    let Some(list) = body.get("recipients").filter(|_| is_copy) else {
        return Ok(vec![body.clone()]);
    };
    let fail = |m: String| vec![FieldError::new("recipients", m)];
    if body.contains_key("recipient") {
        return Err(fail("give either recipient or recipients, not both".into()));
    }
    let Value::Array(items) = list else {
        return Err(fail(format!(
            "must be a list of recipients, from {}",
            Recipient::choices()
        )));
    };
    let mut chosen = vec![];
    for item in items {
        match item.as_str().map(str::parse::<Recipient>) {
            Some(Ok(r)) => chosen.push(r),
            Some(Err(m)) => return Err(fail(m)),
            None => {
                return Err(fail(format!(
                    "must be a list of recipients, from {}",
                    Recipient::choices()
                )))
            }
        }
    }
    if chosen.is_empty() {
        return Err(fail(format!(
            "select at least one recipient, from {}",
            Recipient::choices()
        )));
    }
    Ok(Recipient::ALL
        .iter()
        .filter(|r| chosen.contains(r))
        .map(|r| {
            let mut one = body.clone();
            one.remove("recipients");
            one.insert("recipient".into(), Value::String(r.as_str().into()));
            one
        })
        .collect())
}

/// The events the service records itself (awareness when a case is opened, a report version
/// when one is uploaded): refused in a request, left out of the request's schema.
pub const RECORDED_BY_SERVICE: [EventType; 2] =
    [EventType::Aware, EventType::ReportVersionUploaded];

/// The event type of a body: one a person may record.
fn kind(body: &Map<String, Value>) -> Result<EventType, Vec<FieldError>> {
    let Some(Value::String(s)) = body.get("type") else {
        return Err(vec![FieldError::new(
            "type",
            format!("enter the event type, one of {}", EventType::choices()),
        )]);
    };
    match s.parse::<EventType>() {
        Ok(k) if RECORDED_BY_SERVICE.contains(&k) => Err(vec![FieldError::new(
            "type",
            format!("{s} events are recorded by the service itself"),
        )]),
        Ok(k) => Ok(k),
        Err(m) => Err(vec![FieldError::new("type", m)]),
    }
}

/// An event's own fields, by type.
fn data(kind: EventType, r: &mut Fields<'_>, new_id: impl FnOnce() -> String) -> EventData {
    match kind {
        EventType::Aware | EventType::ReportVersionUploaded => unreachable!("refused above"),
        EventType::SinSubmitted => EventData::SinSubmitted {
            ofsted_reference: r.opt_text_max("ofsted_reference", SHORT_MAX),
        },
        EventType::PartnersInformed => EventData::PartnersInformed {
            note: r.opt_text("note"),
        },
        EventType::LacDeathNotified => EventData::LacDeathNotified {
            note: r.opt_text("note"),
        },
        EventType::RapidReviewSent => rapid_review(r),
        EventType::PanelResponse => EventData::PanelResponse {
            outcome: r.choice("outcome").unwrap_or(PanelOutcome::Agrees),
            note: r.opt_text("note"),
        },
        EventType::LcsprDecided => EventData::LcsprDecided {
            note: r.opt_text("note"),
            decision_id: r.opt_text_max("decision_id", SHORT_MAX),
        },
        EventType::ReviewerAppointed => EventData::ReviewerAppointed {
            reviewer_id: r.short_text("reviewer_id", "the lead reviewer"),
            conflict_declaration: r.text(
                "conflict_declaration",
                "the reviewer's conflict of interest declaration",
            ),
        },
        EventType::ReviewMeeting => EventData::ReviewMeeting {
            note: r.opt_text("note"),
        },
        EventType::LearningWorkshop => EventData::LearningWorkshop {
            note: r.opt_text("note"),
        },
        EventType::FamilyEngagement => EventData::FamilyEngagement {
            note: r.opt_text("note"),
        },
        EventType::PractitionerEngagement => EventData::PractitionerEngagement {
            note: r.opt_text("note"),
        },
        EventType::ProgressCheck => EventData::ProgressCheck {
            note: r.text("note", "what the check found about time and quality"),
        },
        EventType::FinalReportSubmitted => EventData::FinalReportSubmitted {
            note: r.opt_text("note"),
        },
        EventType::QaApproved => EventData::QaApproved {
            note: r.opt_text("note"),
            decision_id: r.opt_text_max("decision_id", SHORT_MAX),
        },
        EventType::Ratified => EventData::Ratified {
            note: r.opt_text("note"),
            decision_id: r.opt_text_max("decision_id", SHORT_MAX),
        },
        EventType::PublicationPlanned => publication_planned(r),
        EventType::PublicationDelayed => EventData::PublicationDelayed {
            reason: r.text("reason", "the reason for the delay"),
            revised_publication_on: r
                .date("revised_publication_on", "the revised publication date"),
        },
        EventType::PrepubCopySent => EventData::PrepubCopySent {
            recipient: r.choice("recipient").unwrap_or(Recipient::Panel),
            document_id: r.opt_text_max("document_id", SHORT_MAX),
            version: r.opt_int("version"),
        },
        EventType::Published => EventData::Published {
            url: r.url("url", true).unwrap_or_default(),
        },
        EventType::NspccSent => EventData::NspccSent {
            note: r.opt_text("note"),
        },
        EventType::BriefingPublished => EventData::BriefingPublished {
            url: r.url("url", false),
        },
        EventType::WebinarHeld => EventData::WebinarHeld {
            note: r.opt_text("note"),
        },
        EventType::ActionAdded => EventData::ActionAdded {
            action_id: new_id(),
            description: r.text("description", "what the action is"),
            owner_agency: r.short_text("owner_agency", "the agency that owns the action"),
            due_on: r
                .date("due_on", "the date the action is due")
                .unwrap_or_default(),
        },
        EventType::ActionDone => EventData::ActionDone {
            action_id: r.short_text("action_id", "which action was completed"),
            note: r.opt_text("note"),
        },
        EventType::Archived => EventData::Archived {
            note: r.opt_text("note"),
        },
        EventType::DeadlineWaived => EventData::DeadlineWaived {
            rule: r.short_text("rule", "the rule of the deadline being waived"),
            reason: r.text("reason", "why the deadline is waived"),
        },
        EventType::Withdrawn => EventData::Withdrawn {
            reason: r.text("reason", "why the notification is withdrawn"),
        },
        EventType::Closed => EventData::Closed {
            note: r.opt_text("note"),
        },
    }
}

/// The rapid review: its recommendation, the regulation 11 criteria (one at least for a local
/// review) and the rationale.
fn rapid_review(r: &mut Fields<'_>) -> EventData {
    let decision = r.choice::<Decision>("decision");
    let rationale = r.text("rationale", "the rationale for the decision");
    let criteria = criteria(r);
    if decision == Some(Decision::Lcspr) && criteria.is_empty() {
        r.fail(
            "criteria",
            "a local review needs at least one regulation 11 criterion (a to d)",
        );
    }
    EventData::RapidReviewSent {
        decision: decision.unwrap_or(Decision::NoLcspr),
        rationale,
        criteria,
    }
}

/// The publication plan: the date and the format, with the justification a summary or no
/// publication needs.
fn publication_planned(r: &mut Fields<'_>) -> EventData {
    let publication_on = r.date("publication_on", "the planned publication date");
    let format = r.choice::<PublicationFormat>("format");
    let justification = r.opt_text("justification");
    match (format, &justification) {
        (Some(PublicationFormat::Summary | PublicationFormat::None), None) => r.fail(
            "justification",
            "explain why the full report will not be published (it goes to the Panel and the Secretary of State)",
        ),
        (Some(PublicationFormat::Full), Some(_)) => r.fail(
            "justification",
            "give a justification only when the full report will not be published (format summary or none)",
        ),
        _ => {}
    }
    EventData::PublicationPlanned {
        publication_on: publication_on.unwrap_or_default(),
        format: format.unwrap_or(PublicationFormat::Full),
        justification,
        decision_id: r.opt_text_max("decision_id", SHORT_MAX),
    }
}

fn criteria(r: &mut Fields<'_>) -> Vec<Criterion> {
    let mut out = vec![];
    match r.raw("criteria") {
        None => {}
        Some(Value::Array(items)) => {
            for item in items {
                match item.as_str().map(str::parse::<Criterion>) {
                    Some(Ok(c)) if !out.contains(&c) => out.push(c),
                    Some(Ok(_)) => {}
                    Some(Err(m)) => r.fail("criteria", m),
                    None => r.fail("criteria", "must be a list of letters a to d"),
                }
            }
        }
        // A form sends "a,c".
        Some(Value::String(s)) => {
            for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                match part.parse::<Criterion>() {
                    Ok(c) if !out.contains(&c) => out.push(c),
                    Ok(_) => {}
                    Err(m) => r.fail("criteria", m),
                }
            }
        }
        Some(_) => r.fail("criteria", "must be a list of letters a to d"),
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<EventInput, Vec<FieldError>> {
        EventInput::parse(v.as_object().unwrap(), || "act-1".into())
    }

    #[test]
    fn parses_a_rapid_review() {
        let e = parse(json!({"type": "rapid_review_sent", "occurred_on": "2026-01-20",
            "decision": "lcspr", "rationale": "Agencies did not share information", "criteria": ["c", "a"]}))
        .unwrap();
        assert_eq!(e.occurred_on.to_string(), "2026-01-20");
        assert_eq!(
            e.data,
            EventData::RapidReviewSent {
                decision: Decision::Lcspr,
                rationale: "Agencies did not share information".into(),
                criteria: vec![Criterion::A, Criterion::C],
            }
        );
        assert_eq!(e.data.kind(), EventType::RapidReviewSent);
    }

    #[test]
    fn names_every_bad_field() {
        let errs = parse(
            json!({"type": "rapid_review_sent", "occurred_on": "2026-02-30",
            "decision": "maybe", "criteria": ["e"], "colour": "red"}),
        )
        .unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec!["occurred_on", "decision", "rationale", "criteria", "colour"]
        );
        assert!(errs[0].message.contains("2026-02-30"));
        assert!(errs[1].message.contains("no_lcspr"));
    }

    #[test]
    fn unknown_type_lists_the_types() {
        let errs = parse(json!({"type": "party", "occurred_on": "2026-01-01"})).unwrap_err();
        assert_eq!(errs[0].field, "type");
        assert!(errs[0].message.contains("sin_submitted"));
        let errs = parse(json!({"type": "aware", "occurred_on": "2026-01-01"})).unwrap_err();
        assert!(errs[0].message.contains("recorded by the service"));
    }

    #[test]
    fn summary_publication_needs_a_justification() {
        let errs = parse(
            json!({"type": "publication_planned", "occurred_on": "2026-01-01",
            "publication_on": "2026-03-02", "format": "summary"}),
        )
        .unwrap_err();
        assert_eq!(errs[0].field, "justification");
        let ok = parse(
            json!({"type": "publication_planned", "occurred_on": "2026-01-01",
            "publication_on": "2026-03-02", "format": "full"}),
        )
        .unwrap();
        assert_eq!(
            ok.data.date_field("publication_on"),
            Some("2026-03-02".parse().unwrap())
        );
        assert_eq!(ok.data.field("format").as_deref(), Some("full"));
    }

    #[test]
    fn a_decision_is_cited_and_old_records_without_one_still_read() {
        let e = parse(
            json!({"type": "lcspr_decided", "occurred_on": "2026-01-26", "decision_id": "d1"}),
        )
        .unwrap();
        assert_eq!(e.data.field("decision_id").as_deref(), Some("d1"));
        let old: EventData = serde_json::from_str(r#"{"type":"ratified","note":null}"#).unwrap();
        assert_eq!(
            old,
            EventData::Ratified {
                note: None,
                decision_id: None
            }
        );
        // Stored as before when there is none.
        assert_eq!(
            serde_json::to_string(&old).unwrap(),
            r#"{"type":"ratified","note":null}"#
        );
        let errs = parse(json!({"type": "published", "occurred_on": "2026-01-26", "url": "https://x.org", "decision_id": "d1"}))
            .unwrap_err();
        assert_eq!(errs[0].field, "decision_id");
    }

    #[test]
    fn copies_to_several_recipients_become_one_body_each() {
        let body = json!({"type": "prepub_copy_sent", "occurred_on": "2026-05-19",
            "recipients": ["secretary_of_state", "panel", "panel"], "version": 2});
        let bodies = expand_recipients(body.as_object().unwrap()).unwrap();
        let recipients: Vec<&Value> = bodies.iter().map(|b| &b["recipient"]).collect();
        assert_eq!(recipients, [&json!("panel"), &json!("secretary_of_state")]);
        assert!(bodies
            .iter()
            .all(|b| !b.contains_key("recipients") && b["version"] == 2));
        for bad in [json!([]), json!(["mars"]), json!("panel"), json!([1])] {
            let body = json!({"type": "prepub_copy_sent", "recipients": bad});
            let errs = expand_recipients(body.as_object().unwrap()).unwrap_err();
            assert_eq!(errs[0].field, "recipients", "{bad}");
        }
        let both =
            json!({"type": "prepub_copy_sent", "recipient": "panel", "recipients": ["ofsted"]});
        assert!(expand_recipients(both.as_object().unwrap()).is_err());
        // Another type keeps the body as it is (its parse names the unknown field).
        let other = json!({"type": "published", "recipients": ["panel"]});
        assert_eq!(
            expand_recipients(other.as_object().unwrap()).unwrap().len(),
            1
        );
    }

    #[test]
    fn a_delay_takes_a_revised_date_that_moves_the_publication_date() {
        let errs = parse(json!({"type": "publication_delayed", "occurred_on": "2026-05-19", "reason": "Inquest"}))
            .unwrap_err();
        assert_eq!(errs[0].field, "revised_publication_on");
        let e = parse(
            json!({"type": "publication_delayed", "occurred_on": "2026-05-19",
            "reason": "Inquest", "revised_publication_on": "2026-07-14"}),
        )
        .unwrap();
        assert_eq!(
            e.data.revises("publication_on"),
            Some("2026-07-14".parse().unwrap())
        );
        assert_eq!(e.data.revises("due_on"), None);
        // A delay stored before the revised date existed still reads.
        let old: EventData =
            serde_json::from_str(r#"{"type":"publication_delayed","reason":"r"}"#).unwrap();
        assert_eq!(old.revises("publication_on"), None);
    }

    #[test]
    fn a_justification_only_when_the_full_report_is_not_published() {
        let errs = parse(
            json!({"type": "publication_planned", "occurred_on": "2026-01-01",
            "publication_on": "2026-03-02", "format": "full", "justification": "x"}),
        )
        .unwrap_err();
        assert_eq!(errs[0].field, "justification");
        assert!(parse(
            json!({"type": "publication_planned", "occurred_on": "2026-01-01",
            "publication_on": "2026-03-02", "format": "none", "justification": "x"})
        )
        .is_ok());
    }

    #[test]
    fn kind_matches_the_stored_type_code() {
        let e = parse(json!({"type": "withdrawn", "occurred_on": "2026-01-01", "reason": "r"}))
            .unwrap();
        let stored = serde_json::to_value(&e.data).unwrap();
        assert_eq!(stored["type"], e.data.kind().as_str());
    }

    #[test]
    fn stored_form_round_trips() {
        let e = parse(json!({"type": "action_added", "occurred_on": "2026-05-01",
            "description": "Audit referrals", "owner_agency": "Police", "due_on": "2026-09-01"}))
        .unwrap();
        let stored = serde_json::to_string(&e.data).unwrap();
        let back: EventData = serde_json::from_str(&stored).unwrap();
        assert_eq!(back, e.data);
        assert_eq!(back.field("action_id").as_deref(), Some("act-1"));
    }
}
