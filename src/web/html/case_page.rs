//! The case page (`GET /cases/{id}`): the summary (the child's identity only for the roles
//! allowed), the stages as a task list, the deadlines with the explanation of each date, the
//! event timeline, links to the forms of exactly the events this user may record now, the
//! review documents with their versions (upload and delete links for the roles allowed), and
//! the meetings the case was on (an event citing a decision links to its meeting).

use std::collections::HashMap;

use serde::Serialize;
use serde_json::Value;

use super::{documents, Page, PageResult};
use crate::app::cases::stages;
use crate::app::cases::view::{self, CaseView, DeadlineView, EventView};
use crate::app::documents as app_documents;
use crate::app::governance::meetings::{self as app_meetings, DecisionView, MeetingSummary};
use crate::domain::case::{Harm, Stage};
use crate::domain::deadlines::DeadlineStatus;
use crate::domain::events::{
    Criterion, Decision, EventType, PanelOutcome, PublicationFormat, Recipient,
};
use crate::domain::roles::Role;

/// Events shown on one page of the timeline.
const TIMELINE_PAGE: usize = 25;

#[derive(Serialize)]
struct Row {
    key: String,
    value: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    href: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    action: Option<&'static str>,
}

fn row(key: &str, value: impl Into<Value>) -> Row {
    Row {
        key: key.into(),
        value: value.into(),
        href: None,
        action: None,
    }
}

/// The meeting decisions this user may follow, by id: (what, link to the meeting).
type DecisionLinks = HashMap<String, (String, String)>;

/// The meetings a case was on (as this user may see them) for the page's Meetings section,
/// and the links from the events that cite their decisions.
fn meetings_of(list: &[(MeetingSummary, Vec<DecisionView>)]) -> (Vec<Value>, DecisionLinks) {
    let mut links = DecisionLinks::new();
    let rows = list
        .iter()
        .map(|(m, decisions)| {
            let day = m.date.format("%-d %B %Y").to_string();
            for d in decisions {
                links.insert(
                    d.id.clone(),
                    (
                        format!("{} by the {}, {day}", d.outcome.label(), m.body_label),
                        format!("/meetings/{}#decision-{}", m.id, d.id),
                    ),
                );
            }
            serde_json::json!({
                "href": format!("/meetings/{}", m.id),
                "title": m.title,
                "body_label": m.body_label,
                "date": m.date,
                "held": m.held_on.is_some(),
                "decisions": decisions.iter().map(|d| format!("{}: {}", d.kind_label, d.outcome.label().to_lowercase())).collect::<Vec<_>>(),
            })
        })
        .collect();
    (rows, links)
}

fn date(d: chrono::NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

fn summary(case: &CaseView) -> Vec<Row> {
    let mut rows = vec![
        row("Reference", case.reference.clone()),
        row("Pseudonym", case.child_pseudonym.clone()),
    ];
    if case.identity_visible {
        rows.push(row(
            "Child’s name",
            case.child_name
                .clone()
                .unwrap_or_else(|| "Not recorded".into()),
        ));
        rows.push(row(
            "Date of birth",
            case.child_dob.map_or("Not recorded".into(), date),
        ));
    }
    rows.push(row("Stage", case.stage_label.clone()));
    rows.push(row("Local authority aware", date(case.aware_on)));
    rows.push(row("Date of incident", date(case.incident_on)));
    rows.push(row(
        "Harm",
        case.harm
            .parse::<Harm>()
            .map_or(case.harm.clone(), |h| h.label().to_string()),
    ));
    rows.push(row(
        "Looked-after child",
        if case.looked_after { "Yes" } else { "No" },
    ));
    rows.push(row("Summary", case.summary.clone()));
    if !case.reviewers.is_empty() {
        rows.push(row(
            "Lead reviewer",
            case.reviewers
                .iter()
                .map(|r| Value::String(r.name.clone()))
                .collect::<Vec<_>>(),
        ));
    }
    rows.push(row("Financial year", case.financial_year.clone()));
    rows
}

#[derive(Serialize)]
struct Skipped {
    date: String,
    title: String,
}

/// A deadline as the table shows it.
#[derive(Serialize)]
struct DeadlineRow<'a> {
    #[serde(flatten)]
    d: &'a DeadlineView,
    /// Pending and past its date (not yet met).
    overdue: bool,
    role_label: &'static str,
    text: String,
    source: String,
    trigger: String,
    skipped: Vec<Skipped>,
}

fn deadline_rows(case: &CaseView) -> Vec<DeadlineRow<'_>> {
    case.deadlines
        .iter()
        .map(|d| {
            let e = &d.explanation;
            let s = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            let skipped = e
                .pointer("/reckoning/skipped")
                .and_then(Value::as_array)
                .map(|days| {
                    days.iter()
                        .map(|day| Skipped {
                            date: day
                                .get("date")
                                .and_then(Value::as_str)
                                .and_then(|t| t.parse::<chrono::NaiveDate>().ok())
                                .map_or(String::new(), |d| d.format("%a %-d %b %Y").to_string()),
                            title: day
                                .get("title")
                                .and_then(Value::as_str)
                                .unwrap_or("")
                                .to_string(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            let trigger = s("trigger_event")
                .parse::<EventType>()
                .map_or(String::new(), |k| k.label().to_string());
            DeadlineRow {
                overdue: d.met_on.is_none() && d.status == DeadlineStatus::Missed,
                role_label: d.role.parse::<Role>().map_or("", |r| r.label()),
                text: s("text"),
                source: s("source"),
                trigger,
                skipped,
                d,
            }
        })
        .collect()
}

/// One event in the timeline.
#[derive(Serialize)]
struct TimelineItem<'a> {
    #[serde(flatten)]
    e: &'a EventView,
    lines: Vec<Row>,
}

fn label_of<T: std::str::FromStr + Copy>(v: &str, label: impl Fn(T) -> &'static str) -> String {
    v.parse::<T>()
        .map_or(v.to_string(), |x| label(x).to_string())
}

/// An event's fields, each with a label and its value in words.
fn event_lines(
    e: &EventView,
    case: &CaseView,
    names: &HashMap<String, String>,
    decisions: &DecisionLinks,
) -> Vec<Row> {
    let Some(fields) = e.fields.as_object() else {
        return vec![];
    };
    let mut lines = vec![];
    for (k, v) in fields {
        let text = match v {
            Value::Null => continue,
            Value::String(s) => s.clone(),
            Value::Bool(b) => (if *b { "Yes" } else { "No" }).to_string(),
            other => other.to_string(),
        };
        let (key, value): (&str, Value) = match k.as_str() {
            "incident_on" => ("Date of incident", fmt_date(&text).into()),
            "harm" => ("Harm", label_of::<Harm>(&text, Harm::label).into()),
            "looked_after" => ("Looked-after child", text.into()),
            "ofsted_reference" => ("Ofsted reference", text.into()),
            "note" => ("Notes", text.into()),
            "decision" => (
                "Recommendation",
                label_of::<Decision>(&text, Decision::label).into(),
            ),
            "rationale" => ("Rationale", text.into()),
            "criteria" => {
                let items: Vec<Value> = v
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .map(|c| {
                                Value::String(format!(
                                    "({c}) {}",
                                    label_of::<Criterion>(c, Criterion::label)
                                ))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                if items.is_empty() {
                    continue;
                }
                ("Regulation 11 criteria", Value::Array(items))
            }
            "outcome" => (
                "Panel’s response",
                label_of::<PanelOutcome>(&text, PanelOutcome::label).into(),
            ),
            "reviewer_id" => (
                "Lead reviewer",
                names
                    .get(&text)
                    .cloned()
                    .unwrap_or_else(|| "(unknown)".into())
                    .into(),
            ),
            "conflict_declaration" => ("Conflict of interest declaration", text.into()),
            "publication_on" => ("Publication date", fmt_date(&text).into()),
            "format" => (
                "Format",
                label_of::<PublicationFormat>(&text, PublicationFormat::label).into(),
            ),
            "justification" => ("Justification", text.into()),
            "reason" => ("Reason", text.into()),
            "recipient" => (
                "Sent to",
                super::sentence(&label_of::<Recipient>(&text, Recipient::label)).into(),
            ),
            "url" => ("Web address", text.into()),
            "description" => ("Action", text.into()),
            "owner_agency" => ("Owner", text.into()),
            "due_on" => ("Due", fmt_date(&text).into()),
            "action_id" if e.kind == EventType::ActionDone => (
                "Action",
                case.actions
                    .iter()
                    .find(|a| a.id == text)
                    .map_or(text.clone(), |a| a.description.clone())
                    .into(),
            ),
            "action_id" | "document_id" => continue,
            "rule" => (
                "Deadline",
                case.deadlines
                    .iter()
                    .find(|d| d.rule == text)
                    .map_or(text.clone(), |d| d.label.clone())
                    .into(),
            ),
            "decision_id" => {
                // The meeting that made the decision, when this user may see it.
                let r = match decisions.get(&text) {
                    Some((what, href)) => Row {
                        href: Some(href.clone()),
                        action: Some("View the meeting"),
                        ..row("Decision", what.clone())
                    },
                    None => row("Decision", "Made at a meeting"),
                };
                lines.push(r);
                continue;
            }
            "kind" => ("Document", text.into()),
            "version" => ("Version", text.into()),
            _ => continue,
        };
        lines.push(row(key, value));
    }
    lines
}

fn fmt_date(s: &str) -> String {
    s.parse::<chrono::NaiveDate>().map_or(s.to_string(), date)
}

#[derive(Serialize)]
struct RecordLink {
    href: String,
    text: &'static str,
}

pub async fn show(
    page: Page,
    path: actix_web::web::Path<String>,
    q: actix_web::web::Query<HashMap<String, String>>,
) -> PageResult {
    let id = path.into_inner();
    let (case, read, docs, meetings) = page
        .db(move |c, st, actor| {
            let (case, read) = view::read(c, st, actor, &id)?;
            let docs = app_documents::list(c, actor, &case.id)?;
            let meetings = app_meetings::for_case(c, st, actor, &case.id)?;
            Ok((case, read, docs, meetings))
        })
        .await?;
    page.state
        .audit_read(read)
        .await
        .map_err(|e| page.fail(e))?;
    let (meetings, decision_links) = meetings_of(&meetings);
    let tasks = stages::tasks(&stages::events_of(&case));
    let names: HashMap<String, String> = case
        .reviewers
        .iter()
        .map(|r| (r.id.clone(), r.name.clone()))
        .collect();
    // The timeline a page at a time, newest first (`?timeline=N`).
    let pages = case.events.len().div_ceil(TIMELINE_PAGE).max(1);
    let timeline_page = q
        .get("timeline")
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(1)
        .clamp(1, pages);
    let skip = (timeline_page - 1) * TIMELINE_PAGE;
    let timeline: Vec<TimelineItem<'_>> = case
        .events
        .iter()
        .rev()
        .skip(skip)
        .take(TIMELINE_PAGE)
        .map(|e| TimelineItem {
            lines: event_lines(e, &case, &names, &decision_links),
            e,
        })
        .collect();
    let record: Vec<RecordLink> = case
        .may_record
        .iter()
        .map(|k| RecordLink {
            href: format!("/cases/{}/events/{}", case.id, k.as_str()),
            text: k.label(),
        })
        .collect();
    let recorded = q
        .get("recorded")
        .and_then(|k| k.parse::<EventType>().ok())
        .map(|k| k.label());
    let mut ctx = page.context(
        &format!("{} – {}", case.reference, case.child_pseudonym),
        "cases",
    );
    ctx.insert("summary", &summary(&case));
    ctx.insert("tasks", &tasks);
    ctx.insert("deadlines", &deadline_rows(&case));
    ctx.insert("timeline_first", &(skip + 1));
    ctx.insert("timeline_last", &(skip + timeline.len()));
    ctx.insert("timeline", &timeline);
    ctx.insert("timeline_page", &timeline_page);
    ctx.insert("timeline_pages", &pages);
    ctx.insert("record", &record);
    ctx.insert("recorded", &recorded);
    ctx.insert("opened", &q.contains_key("opened"));
    ctx.insert("may_read_audit", &page.actor().role.may_read_audit());
    let actor = page.actor();
    let appointed = case.reviewers.iter().any(|r| r.id == actor.user_id);
    ctx.insert(
        "may_upload",
        &(app_documents::may_upload(actor.role, appointed)
            && case.stage != Stage::Withdrawn.as_str()),
    );
    ctx.insert("may_delete", &app_documents::may_delete(actor.role));
    ctx.insert("documents", &documents::listing(&case.id, &docs));
    ctx.insert("documents_banner", &documents::banner(&q, &docs));
    ctx.insert(
        "show_planning",
        &(case.stage == Stage::PublicationPlanning.as_str()),
    );
    ctx.insert("meetings", &meetings);
    ctx.insert("case", &case);
    page.render("pages/cases/show.html", &ctx)
}
