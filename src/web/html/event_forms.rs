//! The form of each event type: which fields, how they are asked, and how a submitted form
//! becomes the JSON body `app::cases::record_event` takes (field names are the same).

use serde::Serialize;
use serde_json::{json, Map, Value};

use super::form::FormData;
use crate::domain::events::{
    Criterion, Decision, EventType, PanelOutcome, PublicationFormat, Recipient,
};
use crate::domain::input::FieldError;

/// Where a select's options come from (filled in from the case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    LeadReviewers,
    OpenActions,
    PendingRules,
    /// The case's final and summary report versions (`document_id:number`).
    ReportVersions,
    /// The carried meeting decisions about the case that the event may cite.
    Decisions,
}

/// One field of an event form, as the template renders it.
#[derive(Debug, Clone, Serialize)]
pub struct Field {
    /// `date`, `radios`, `checkboxes`, `select`, `text`, `textarea`; `version` is a select of
    /// document versions whose value (`document_id:number`) becomes `document_id` and `version`.
    pub kind: &'static str,
    pub name: &'static str,
    pub label: String,
    pub hint: String,
    pub required: bool,
    pub items: Vec<Item>,
    /// A select's first option, with no value.
    pub empty: &'static str,
    /// Said instead of a select that has nothing to choose from.
    pub when_empty: String,
    #[serde(skip)]
    pub source: Option<Source>,
    /// A field asked only when it applies (kind `revealed`): the radios field and the choices
    /// of it that reveal this one. Each of those choices shows its own box, named
    /// `name-choice` (GOV.UK conditional reveal); the one of the choice made is sent as `name`.
    #[serde(skip)]
    pub revealed_by: Option<(&'static str, &'static [&'static str])>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Item {
    pub value: String,
    pub text: String,
    /// The field this choice reveals (a text box, shown when the choice is made).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reveal: Option<Reveal>,
}

/// A text box revealed by a choice.
#[derive(Debug, Clone, Serialize)]
pub struct Reveal {
    pub name: String,
    pub label: String,
    pub hint: String,
}

impl Item {
    pub fn new(value: impl Into<String>, text: impl Into<String>) -> Item {
        Item {
            value: value.into(),
            text: text.into(),
            reveal: None,
        }
    }
}

/// The name of the box that `choice` of a revealed field's radios shows.
pub fn revealed_name(name: &str, choice: &str) -> String {
    format!("{name}-{choice}")
}

/// Puts each revealed field under the choices that reveal it.
fn attach_reveals(fields: &mut [Field]) {
    let revealed: Vec<Field> = fields
        .iter()
        .filter(|f| f.revealed_by.is_some())
        .cloned()
        .collect();
    for r in revealed {
        let (by, choices) = r.revealed_by.expect("filtered");
        for f in fields.iter_mut().filter(|f| f.name == by) {
            for item in f
                .items
                .iter_mut()
                .filter(|i| choices.contains(&i.value.as_str()))
            {
                item.reveal = Some(Reveal {
                    name: revealed_name(r.name, &item.value),
                    label: r.label.clone(),
                    hint: r.hint.clone(),
                });
            }
        }
    }
}

/// The form field showing the API field `api_field` for the answers in `form`: a revealed
/// field's box under the choice made.
pub fn form_field_in(fields: &[Field], form: &FormData, api_field: &str) -> String {
    let name = form_field(api_field);
    match fields
        .iter()
        .find(|f| f.name == name)
        .and_then(|f| f.revealed_by)
    {
        Some((by, choices)) if choices.contains(&form.get(by)) => revealed_name(name, form.get(by)),
        _ => name.to_string(),
    }
}

/// The names of the form's fields as errors link to them (revealed boxes included).
pub fn known_names(fields: &[Field]) -> Vec<String> {
    let mut known = vec![];
    for f in fields {
        known.push(f.name.to_string());
        if let Some((_, choices)) = f.revealed_by {
            known.extend(choices.iter().map(|c| revealed_name(f.name, c)));
        }
    }
    known
}

/// A revealed field's value given as `name` (a recorded value) copied into the box of the
/// choice made, so a form starts with it.
pub fn spread_reveals(fields: &[Field], form: &mut FormData) {
    for f in fields {
        if let Some((by, choices)) = f.revealed_by {
            let chosen = form.get(by).to_string();
            let value = form.get(f.name).to_string();
            let target = revealed_name(f.name, &chosen);
            if choices.contains(&chosen.as_str())
                && !value.is_empty()
                && form.get(&target).is_empty()
            {
                form.set(&target, value);
            }
        }
    }
}

fn field(kind: &'static str, name: &'static str, label: &str, required: bool) -> Field {
    Field {
        kind,
        name,
        label: label.into(),
        hint: String::new(),
        required,
        items: vec![],
        empty: "Choose",
        when_empty: format!("There is nothing to choose from for “{label}”."),
        source: None,
        revealed_by: None,
    }
}

fn date(name: &'static str, label: &str) -> Field {
    field("date", name, label, true)
}

fn text(name: &'static str, label: &str, required: bool) -> Field {
    field("text", name, label, required)
}

fn textarea(name: &'static str, label: &str, required: bool) -> Field {
    field("textarea", name, label, required)
}

fn note() -> Field {
    textarea("note", "Notes (optional)", false)
}

fn hint(mut f: Field, hint: &str) -> Field {
    f.hint = hint.into();
    f
}

fn radios(name: &'static str, label: &str, items: Vec<Item>) -> Field {
    Field {
        items,
        ..field("radios", name, label, true)
    }
}

fn select(name: &'static str, label: &str, source: Source) -> Field {
    Field {
        source: Some(source),
        ..field("select", name, label, true)
    }
}

fn capitalised(s: &str) -> String {
    super::sentence(s)
}

/// The event types a person records through a form (the service records `aware` and
/// report uploads itself).
pub fn has_form(kind: EventType) -> bool {
    !matches!(kind, EventType::Aware | EventType::ReportVersionUploaded)
}

/// The fields of an event type's form; the first is always the date it happened.
pub fn fields(kind: EventType) -> Vec<Field> {
    if !has_form(kind) {
        return vec![];
    }
    let mut fields = vec![date("occurred_on", when_label(kind))];
    fields.extend(details(kind));
    attach_reveals(&mut fields);
    fields
}

/// The fields of the form that records `kind`: as [`fields`], except that the copies sent to
/// the Panel, Ofsted and the Secretary of State on one date are recorded together (recipients
/// as checkboxes, one event each).
pub fn record_fields(kind: EventType) -> Vec<Field> {
    let mut fields = fields(kind);
    if kind == EventType::PrepubCopySent {
        for f in &mut fields {
            if f.name == "recipient" {
                *f = Field {
                    hint: "Select every recipient the copy went to on this date".into(),
                    items: std::mem::take(&mut f.items),
                    ..field(
                        "checkboxes",
                        "recipients",
                        "Who was the copy sent to?",
                        true,
                    )
                };
            }
        }
    }
    fields
}

/// The label of the date an event happened.
fn when_label(kind: EventType) -> &'static str {
    use EventType as E;
    match kind {
        E::Aware | E::ReportVersionUploaded => "Date",
        E::SinSubmitted => "Date the notification was submitted",
        E::PartnersInformed => "Date the safeguarding partners were informed",
        E::LacDeathNotified => "Date the Secretary of State and Ofsted were notified",
        E::RapidReviewSent => "Date the rapid review was sent to the Panel",
        E::PanelResponse => "Date of the Panel’s response",
        E::LcsprDecided => "Date of the decision",
        E::ReviewerAppointed => "Date of the appointment",
        E::ReviewMeeting => "Date of the meeting",
        E::LearningWorkshop => "Date of the workshop",
        E::FamilyEngagement => "Date of the engagement",
        E::PractitionerEngagement => "Date of the engagement",
        E::ProgressCheck => "Date of the check",
        E::FinalReportSubmitted => "Date the final report was submitted",
        E::QaApproved => "Date the Sub-Group approved the report",
        E::Ratified => "Date the Executive Board agreed the report",
        E::PublicationPlanned => "Date of the publication planning meeting",
        E::PublicationDelayed => "Date of the decision to delay",
        E::PrepubCopySent => "Date the copy was sent",
        E::Published => "Date of publication",
        E::NspccSent => "Date it was sent to the NSPCC repository",
        E::BriefingPublished => "Date the briefing was published",
        E::WebinarHeld => "Date of the webinar",
        E::ActionAdded => "Date the action was agreed",
        E::ActionDone => "Date the action was completed",
        E::Archived => "Date the report was archived",
        E::DeadlineWaived => "Date of the decision",
        E::Withdrawn => "Date of the decision to withdraw",
        E::Closed => "Date the case was closed",
    }
}

/// The fields after the date: a note for most events, the others by the part of the path they
/// belong to.
fn details(kind: EventType) -> Vec<Field> {
    use EventType as E;
    match kind {
        E::SinSubmitted | E::RapidReviewSent | E::PanelResponse => notification_details(kind),
        E::ReviewerAppointed | E::ProgressCheck => review_details(kind),
        E::LcsprDecided | E::QaApproved | E::Ratified => vec![decision_of(kind), note()],
        E::PublicationPlanned | E::PublicationDelayed | E::PrepubCopySent | E::Published => {
            publication_details(kind)
        }
        E::BriefingPublished
        | E::ActionAdded
        | E::ActionDone
        | E::DeadlineWaived
        | E::Withdrawn => learning_details(kind),
        _ => vec![note()],
    }
}

fn notification_details(kind: EventType) -> Vec<Field> {
    use EventType as E;
    match kind {
        E::SinSubmitted => vec![hint(
            text("ofsted_reference", "Ofsted reference (optional)", false),
            "The reference Ofsted’s notification system gave",
        )],
        E::RapidReviewSent => vec![
            radios(
                "decision",
                "What did the rapid review recommend?",
                Decision::ALL
                    .iter()
                    .map(|d| Item::new(d.as_str(), d.label()))
                    .collect(),
            ),
            Field {
                hint: "Select all that apply. A local review needs at least one.".into(),
                items: Criterion::ALL
                    .iter()
                    .map(|c| Item::new(c.as_str(), format!("({}) {}", c.as_str(), c.label())))
                    .collect(),
                ..field(
                    "checkboxes",
                    "criteria",
                    "Which regulation 11 criteria does the case meet?",
                    false,
                )
            },
            textarea("rationale", "Rationale for the recommendation", true),
        ],
        E::PanelResponse => vec![
            radios(
                "outcome",
                "What did the Panel say?",
                PanelOutcome::ALL
                    .iter()
                    .map(|o| Item::new(o.as_str(), o.label()))
                    .collect(),
            ),
            note(),
        ],
        _ => vec![],
    }
}

/// The meeting decision an event records (`decision_id`): required by the use case when
/// `governance.require_meeting_decision` is on, so optional here.
fn decision(label: &str, empty: &'static str, when_empty: &str) -> Field {
    Field {
        source: Some(Source::Decisions),
        empty,
        when_empty: when_empty.into(),
        hint: "Carried at a meeting with this case on its agenda; the event is dated the day of that meeting".into(),
        ..field("select", "decision_id", label, false)
    }
}

/// The decision field of the events that record one.
fn decision_of(kind: EventType) -> Field {
    match kind {
        EventType::QaApproved => decision(
            "The Sub-Group’s quality assurance decision",
            "Choose the decision",
            "No carried quality assurance decision of the Sub-Group is recorded for this case. Record it at a quorate meeting with the case on its agenda first.",
        ),
        EventType::Ratified => decision(
            "The Executive Board’s decision to ratify",
            "Choose the decision",
            "No carried ratification by the Executive Board is recorded for this case. Record it at a quorate Board meeting with the case on its agenda first.",
        ),
        EventType::PublicationPlanned => decision(
            "The Gold Group’s decision (optional)",
            "None",
            "No Gold Group decision on publication is recorded for this case (citing one is optional).",
        ),
        _ => decision(
            "The Sub-Group’s decision to commission",
            "Choose the decision",
            "No carried decision of the Sub-Group to commission a review of this case is recorded. Record it at a quorate meeting with the case on its agenda first.",
        ),
    }
}

fn review_details(kind: EventType) -> Vec<Field> {
    use EventType as E;
    match kind {
        E::ReviewerAppointed => vec![
            select("reviewer_id", "Lead reviewer", Source::LeadReviewers),
            hint(
                textarea(
                    "conflict_declaration",
                    "Conflict of interest declaration",
                    true,
                ),
                "What the reviewer declared about their links with the agencies involved",
            ),
        ],
        E::ProgressCheck => vec![textarea(
            "note",
            "What did the check find about time and quality?",
            true,
        )],
        _ => vec![],
    }
}

fn publication_details(kind: EventType) -> Vec<Field> {
    use EventType as E;
    match kind {
        E::PublicationPlanned => vec![date("publication_on", "Planned publication date"),
            radios(
                "format",
                "How will the report be published?",
                PublicationFormat::ALL
                    .iter()
                    .map(|f| Item::new(f.as_str(), f.label()))
                    .collect(),
            ),
            Field {
                revealed_by: Some(("format", &["summary", "none"])),
                ..hint(
                    field("revealed", "justification", "Why will the full report not be published?", true),
                    "This goes to the Panel and the Secretary of State",
                )
            },
            decision_of(kind)],
        E::PublicationDelayed => vec![
            date("revised_publication_on", "Revised publication date"),
            hint(
                textarea("reason", "Reason for the delay", true),
                "For example, criminal proceedings or an inquest",
            )],
        E::PrepubCopySent => vec![radios(
                "recipient",
                "Who was the copy sent to?",
                Recipient::ALL
                    .iter()
                    .map(|r| Item::new(r.as_str(), capitalised(r.label())))
                    .collect(),
            ),
            Field {
                hint: "Leave this empty to record the newest version of the final or summary report. The version sent is locked: it cannot be deleted.".into(),
                empty: "The newest version",
                when_empty: "No final or summary report has been uploaded to this case, so no version will be recorded.".into(),
                source: Some(Source::ReportVersions),
                ..field("version", "sent_version", "Which version of the report was sent? (optional)", false)
            }],
        E::Published => vec![hint(
                text("url", "Web address where it is published", true),
                "Starting https://",
            )],
        _ => vec![],
    }
}

fn learning_details(kind: EventType) -> Vec<Field> {
    use EventType as E;
    match kind {
        E::BriefingPublished => vec![text("url", "Web address of the briefing (optional)", false)],
        E::ActionAdded => vec![
            textarea("description", "What is the action?", true),
            text("owner_agency", "Agency that owns the action", true),
            date("due_on", "Date the action is due"),
        ],
        E::ActionDone => vec![
            select(
                "action_id",
                "Which action was completed?",
                Source::OpenActions,
            ),
            note(),
        ],
        E::DeadlineWaived => vec![
            select("rule", "Which deadline is waived?", Source::PendingRules),
            textarea("reason", "Why is the deadline waived?", true),
        ],
        E::Withdrawn => vec![textarea(
            "reason",
            "Why is the notification withdrawn?",
            true,
        )],
        _ => vec![],
    }
}

/// The form field showing a field of the event's API body (`document_id` and `version` are
/// one select).
pub fn form_field(api_field: &str) -> &str {
    match api_field {
        "document_id" | "version" => "sent_version",
        other => other,
    }
}

/// The label of a field, to start a message that does not name it.
pub fn label_of(fields: &[Field], name: &str) -> Option<String> {
    let base = name
        .trim_end_matches("-day")
        .trim_end_matches("-month")
        .trim_end_matches("-year");
    fields
        .iter()
        .find(|f| f.name == base)
        .map(|f| match f.kind {
            "date" => format!(
                "The {}",
                lower_first(f.label.trim_end_matches(" (optional)"))
            ),
            _ => "The answer".to_string(),
        })
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The body for `record_event`, and the problems found reading the form itself (dates that are
/// not real, choices not made). `kind` is the event type.
pub fn body(
    kind: EventType,
    fields: &[Field],
    form: &FormData,
) -> (Map<String, Value>, Vec<FieldError>) {
    let mut body = Map::new();
    let mut errors = vec![];
    body.insert("type".into(), json!(kind.as_str()));
    for f in fields {
        match f.kind {
            "date" => {
                let what = lower_first(&f.label);
                match form.date(f.name, &capitalised(&what)) {
                    Ok(Some(d)) => {
                        body.insert(f.name.into(), json!(d.to_string()));
                    }
                    Ok(None) if f.required => {
                        errors.push(FieldError::new(f.name, format!("Enter the {what}")));
                    }
                    Ok(None) => {}
                    Err(e) => errors.push(e),
                }
            }
            "checkboxes" => {
                let chosen = form.all(f.name);
                if chosen.is_empty() && f.required {
                    let what = lower_first(f.label.trim_end_matches('?'));
                    errors.push(FieldError::new(
                        f.name,
                        format!("Select {}", choice_phrase(&what)),
                    ));
                }
                body.insert(f.name.into(), json!(chosen));
            }
            "revealed" => {
                let (by, choices) = f.revealed_by.unwrap_or(("", &[]));
                let chosen = form.get(by);
                if choices.contains(&chosen) {
                    let v = form.get(&revealed_name(f.name, chosen)).trim();
                    if !v.is_empty() {
                        body.insert(f.name.into(), json!(v));
                    }
                }
            }
            "version" => {
                let v = form.get(f.name).trim();
                match v.rsplit_once(':').map(|(d, n)| (d, n.parse::<i32>())) {
                    _ if v.is_empty() => {}
                    Some((doc, Ok(n))) if !doc.is_empty() => {
                        body.insert("document_id".into(), json!(doc));
                        body.insert("version".into(), json!(n));
                    }
                    _ => errors.push(FieldError::new(
                        f.name,
                        "Select the version of the report that was sent",
                    )),
                }
            }
            "radios" | "select" => {
                let v = form.get(f.name).trim();
                if v.is_empty() {
                    if f.required {
                        let what = lower_first(f.label.trim_end_matches('?'));
                        errors.push(FieldError::new(
                            f.name,
                            format!("Select {}", choice_phrase(&what)),
                        ));
                    }
                } else {
                    body.insert(f.name.into(), json!(v));
                }
            }
            _ => {
                let v = form.get(f.name).trim();
                if !v.is_empty() {
                    body.insert(f.name.into(), json!(v));
                }
            }
        }
    }
    (body, errors)
}

/// "who was the copy sent to" → "who the copy was sent to"; otherwise the label as asked.
fn choice_phrase(question: &str) -> String {
    match question.to_lowercase().as_str() {
        "what did the rapid review recommend" => "what the rapid review recommended".into(),
        "what did the panel say" => "what the Panel said".into(),
        "how will the report be published" => "how the report will be published".into(),
        "who was the copy sent to" => "who the copy was sent to".into(),
        "which action was completed" => "the action that was completed".into(),
        "which deadline is waived" => "the deadline that is waived".into(),
        "lead reviewer" => "the lead reviewer".into(),
        q if q.starts_with("the ") && q.contains("decision") => q.into(),
        _ => question.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_recordable_type_has_a_form_starting_with_its_date() {
        for kind in EventType::ALL.iter().copied().filter(|k| has_form(*k)) {
            let f = fields(kind);
            assert_eq!(f[0].name, "occurred_on", "{kind}");
            assert_eq!(f[0].kind, "date", "{kind}");
        }
    }

    #[test]
    fn a_rapid_review_form_becomes_the_api_body() {
        let kind = EventType::RapidReviewSent;
        let (body, errors) = body(
            kind,
            &fields(kind),
            &FormData::of(&[
                ("occurred_on-day", "20"),
                ("occurred_on-month", "1"),
                ("occurred_on-year", "2026"),
                ("decision", "lcspr"),
                ("criteria", "a"),
                ("criteria", "c"),
                ("rationale", " Agencies did not share information "),
            ]),
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            Value::Object(body),
            json!({"type": "rapid_review_sent", "occurred_on": "2026-01-20", "decision": "lcspr",
                   "criteria": ["a", "c"], "rationale": "Agencies did not share information"})
        );
    }

    #[test]
    fn the_version_sent_becomes_the_document_and_its_number() {
        let kind = EventType::PrepubCopySent;
        let date = [
            ("occurred_on-day", "1"),
            ("occurred_on-month", "4"),
            ("occurred_on-year", "2026"),
            ("recipient", "panel"),
        ];
        let mut chosen = date.to_vec();
        chosen.push(("sent_version", "0123abcd:2"));
        let (body, errors) = body(kind, &fields(kind), &FormData::of(&chosen));
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(body["document_id"], "0123abcd");
        assert_eq!(body["version"], 2);
        let (body, errors) = body_of(kind, &date);
        assert!(errors.is_empty() && !body.contains_key("document_id"));
        let mut bad = date.to_vec();
        bad.push(("sent_version", "nonsense"));
        let (_, errors) = body_of(kind, &bad);
        assert_eq!(errors[0].field, "sent_version");
        assert_eq!(form_field("version"), "sent_version");
    }

    fn body_of(kind: EventType, pairs: &[(&str, &str)]) -> (Map<String, Value>, Vec<FieldError>) {
        body(kind, &fields(kind), &FormData::of(pairs))
    }

    #[test]
    fn a_date_that_is_not_real_and_a_missing_choice_are_named() {
        let kind = EventType::PanelResponse;
        let (_, errors) = body(
            kind,
            &fields(kind),
            &FormData::of(&[
                ("occurred_on-day", "30"),
                ("occurred_on-month", "2"),
                ("occurred_on-year", "2026"),
            ]),
        );
        assert_eq!(
            errors,
            vec![
                FieldError::new(
                    "occurred_on",
                    "Date of the Panel’s response must be a real date"
                ),
                FieldError::new("outcome", "Select what the Panel said"),
            ]
        );
    }
}
