//! The case page (`GET /cases/{id}`): the summary (the child's identity only for the roles
//! allowed), the stages as a task list, the deadlines with the explanation of each date, the
//! event timeline, links to the forms of exactly the events this user may record now, the
//! review documents with their versions (upload and delete links for the roles allowed), and
//! the meetings the case was on (an event citing a decision links to its meeting).

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::HttpResponse;
use serde::Serialize;
use serde_json::Value;

use super::{case_change, case_themes, corrections, documents, Page, PageResult};
use crate::app::cases::stages;
use crate::app::cases::view::{self, CaseView, EventView};
use crate::app::documents as app_documents;
use crate::app::governance::meetings::{self as app_meetings, DecisionView, MeetingSummary};
use crate::app::reports::timeline;
use crate::app::Actor;
use crate::db::group_commit::Queued;
use crate::db::DbConnection;
use crate::domain::case::{Harm, Stage};
use crate::domain::deadlines::DeadlineStatus;
use crate::domain::documents::DocumentKind;
use crate::domain::events::{
    Criterion, Decision, EventType, PanelOutcome, PublicationFormat, Recipient,
};
use crate::domain::roles::Role;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::session::SessionToken;

/// Events shown on one page of the timeline.
const TIMELINE_PAGE: usize = 25;

#[derive(Serialize)]
pub(super) struct Row {
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
pub(super) type DecisionLinks = HashMap<String, (String, String)>;

/// The meetings a case was on (as this user may see them) for the page's Meetings section,
/// and the links from the events that cite their decisions.
pub(super) fn meetings_of(
    list: &[(MeetingSummary, Vec<DecisionView>)],
) -> (Vec<Value>, DecisionLinks) {
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

/// The summary list; with `may_change`, a "Change" link on each detail that can be changed.
pub(super) fn summary(case: &CaseView, may_change: bool) -> Vec<Row> {
    let mut rows = summary_rows(case);
    if may_change {
        for r in &mut rows {
            if let Some(d) = change_of(&r.key) {
                r.href = Some(case_change::href(&case.id, d));
            }
        }
    }
    rows
}

/// The detail a summary row shows, when it can be changed.
fn change_of(key: &str) -> Option<&'static str> {
    Some(match key {
        "Pseudonym" => "child_pseudonym",
        "Child’s name" => "child_name",
        "Date of birth" => "child_dob",
        "Local authority aware" => "aware_on",
        "Date of incident" => "incident_on",
        "Harm" => "harm",
        "Looked-after child" => "looked_after",
        "Summary" => "summary",
        _ => return None,
    })
}

pub(super) fn summary_rows(case: &CaseView) -> Vec<Row> {
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
                .map(|r| {
                    Value::String(if r.active {
                        r.name.clone()
                    } else {
                        format!("{} (account deactivated)", r.name)
                    })
                })
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

/// A deadline as the table shows it: what the templates read of the deadline (not its whole
/// explanation, which the page shows in words), and the words.
#[derive(Serialize)]
pub(super) struct DeadlineRow<'a> {
    label: &'a str,
    rule: &'a str,
    rule_version: i32,
    due_on: chrono::NaiveDate,
    status: DeadlineStatus,
    met_on: Option<chrono::NaiveDate>,
    met_late_working_days: Option<i64>,
    working_days_left: i64,
    statutory: bool,
    /// The day the count starts from (the explanation's `trigger_on`).
    trigger_on: Option<&'a str>,
    /// Pending and past its date (not yet met).
    overdue: bool,
    role_label: &'static str,
    text: String,
    source: String,
    trigger: String,
    skipped: Vec<Skipped>,
    /// Waived by the service, not by a co-chair's decision: why it is no longer needed.
    no_longer_needed: Option<String>,
}

pub(super) fn deadline_rows(case: &CaseView) -> Vec<DeadlineRow<'_>> {
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
            let waived_by_decision = case.events.iter().any(|e| {
                e.voided.is_none()
                    && e.kind == EventType::DeadlineWaived
                    && e.fields.get("rule").and_then(Value::as_str) == Some(d.rule.as_str())
            });
            let no_longer_needed = (d.status == DeadlineStatus::Waived && !waived_by_decision)
                .then(|| s("waived_because"));
            DeadlineRow {
                no_longer_needed,
                overdue: d.met_on.is_none() && d.status == DeadlineStatus::Missed,
                role_label: d.role.parse::<Role>().map_or("", |r| r.label()),
                text: s("text"),
                source: s("source"),
                trigger,
                skipped,
                label: &d.label,
                rule: &d.rule,
                rule_version: d.rule_version,
                due_on: d.due_on,
                status: d.status,
                met_on: d.met_on,
                met_late_working_days: d.met_late_working_days,
                working_days_left: d.working_days_left,
                statutory: d.statutory,
                trigger_on: e.get("trigger_on").and_then(Value::as_str),
            }
        })
        .collect()
}

/// One event in the timeline: its fields in words, each earlier version (struck through) with
/// who corrected it, when and why, and the links to correct or void it.
#[derive(Serialize)]
pub(super) struct TimelineItem<'a> {
    #[serde(flatten)]
    pub(super) e: &'a EventView,
    pub(super) lines: Vec<Row>,
    pub(super) earlier: Vec<Earlier>,
    pub(super) may_change: bool,
}

#[derive(Serialize)]
pub(super) struct Earlier {
    occurred_on: chrono::NaiveDate,
    lines: Vec<Row>,
    by: String,
    at: chrono::NaiveDateTime,
    reason: String,
}

fn label_of<T: std::str::FromStr + Copy>(v: &str, label: impl Fn(T) -> &'static str) -> String {
    v.parse::<T>()
        .map_or(v.to_string(), |x| label(x).to_string())
}

/// One timeline entry: the event's lines and its earlier versions; `may_change` offers the
/// links to correct or void it.
pub(super) fn timeline_item<'a>(
    e: &'a EventView,
    case: &CaseView,
    names: &HashMap<String, String>,
    decisions: &DecisionLinks,
    may_change: bool,
) -> TimelineItem<'a> {
    TimelineItem {
        lines: event_lines(e.kind, &e.fields, case, names, decisions),
        earlier: e
            .earlier_versions
            .iter()
            .map(|v| Earlier {
                occurred_on: v.occurred_on,
                lines: event_lines(e.kind, &v.fields, case, names, decisions),
                by: v.corrected.by.name.clone(),
                at: v.corrected.at,
                reason: v.corrected.reason.clone(),
            })
            .collect(),
        may_change,
        e,
    }
}

/// An event's fields, each with a label and its value in words.
pub(super) fn event_lines(
    kind: EventType,
    fields: &Value,
    case: &CaseView,
    names: &HashMap<String, String>,
    decisions: &DecisionLinks,
) -> Vec<Row> {
    let Some(fields) = fields.as_object() else {
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
            "action_id" if kind == EventType::ActionDone => (
                "Action",
                case.actions
                    .iter()
                    .find(|a| a.id == text)
                    .map_or(text.clone(), |a| a.description.clone())
                    .into(),
            ),
            "action_id" => continue,
            // Named by its title (the version is its own line).
            "document_id" => (
                "Document",
                names
                    .get(&text)
                    .cloned()
                    .unwrap_or_else(|| "(deleted)".into())
                    .into(),
            ),
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
            "kind" => (
                "Kind",
                text.parse::<DocumentKind>()
                    .map_or(text.clone(), |k| k.label().to_string())
                    .into(),
            ),
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

/// What happens next on the case and who must act: the stage's next step, and the soonest
/// deadline still open with its role.
fn next_step(case: &CaseView) -> String {
    let stage = case.stage.parse::<Stage>().ok();
    let decided = case
        .events
        .iter()
        .any(|e| e.voided.is_none() && e.kind == EventType::LcsprDecided);
    let step = match stage {
        Some(Stage::Notification) => "The programme manager submits the serious incident notification to the Panel and tells the safeguarding partners.",
        Some(Stage::RapidReview) => "The co-chairs send the rapid review to the Panel.",
        Some(Stage::PanelResponse) => "Waiting for the Panel’s response to the rapid review (the programme manager records it).",
        Some(Stage::Commissioning) if !decided => "Waiting for the co-chairs’ decision on commissioning an LCSPR.",
        Some(Stage::Commissioning) => "The programme manager appoints the lead reviewer.",
        Some(Stage::InReview) => "The lead reviewer carries out the review; the programme manager records progress checks until the final report is submitted.",
        Some(Stage::QualityAssurance) => "Waiting for the Sub-Group to quality assure the final report (the co-chairs record it).",
        Some(Stage::Ratification) => "Waiting for the Executive Board to ratify the report.",
        Some(Stage::PublicationPlanning) => "The programme manager plans the publication and sends the copies to the Panel, Ofsted and the Secretary of State at least 7 working days before it.",
        Some(Stage::Published | Stage::Learning | Stage::NationalReview) => "The programme manager records the learning: improvement actions, briefings, webinars; then the co-chairs close the case.",
        Some(Stage::Withdrawn | Stage::Closed) | None => return "Nothing more is due on this case.".into(),
    };
    let soonest = case
        .deadlines
        .iter()
        .filter(|d| {
            d.met_on.is_none()
                && matches!(d.status, DeadlineStatus::Pending | DeadlineStatus::Missed)
        })
        .min_by_key(|d| d.due_on);
    match soonest {
        Some(d) => format!(
            "{step} Soonest deadline: {}, for the {}, due {}.",
            d.label,
            d.role
                .parse::<Role>()
                .map_or("programme manager", |r| r.label())
                .to_lowercase(),
            d.due_on.format("%-d %B %Y")
        ),
        None => step.to_string(),
    }
}

/// What the page shows of a case beside its view: its documents, its learning themes, and
/// whether it is on a meeting's agenda (the meetings themselves depend on who reads). Kept in
/// memory, as the view's record is, while the case's revision holds.
struct PageRecord {
    documents: Vec<app_documents::DocumentView>,
    themes: Vec<String>,
    on_agenda: bool,
}

impl PageRecord {
    fn load(
        c: &mut DbConnection,
        st: &AppState,
        case_id: &str,
    ) -> Result<(PageRecord, u64), AppError> {
        let documents = app_documents::of_case(c, case_id)?;
        let themes = crate::app::reports::themes::of_case(c, st, case_id)?;
        let on_agenda = app_meetings::on_agenda(c, case_id)?;
        // An estimate of its bytes: a little for each version and the themes' text.
        let weight = documents
            .iter()
            .map(|d| d.title.len() + 256 + 512 * d.versions.len())
            .chain(themes.iter().map(|t| t.len() + 32))
            .sum::<usize>();
        Ok((
            PageRecord {
                documents,
                themes,
                on_agenda,
            },
            weight as u64,
        ))
    }
}

#[derive(Serialize)]
struct RecordLink {
    href: String,
    text: &'static str,
}

/// What the page reads of the case: its view, the audit entry of the read (queued), what the
/// page keeps beside the view, and the meetings it was on.
type Read = (
    CaseView,
    Queued,
    Arc<PageRecord>,
    Vec<(MeetingSummary, Vec<DecisionView>)>,
);

fn read(c: &mut DbConnection, st: &AppState, actor: &Actor, id: &str) -> Result<Read, AppError> {
    let (case, read) = view::read(c, st, actor, id)?;
    let extra = st
        .case_cache
        .get_or_load("case_page", &case.id, &case.rev, || {
            PageRecord::load(c, st, &case.id)
        })?;
    let meetings = if extra.on_agenda {
        app_meetings::for_case(c, st, actor, &case.id)?
    } else {
        vec![]
    };
    // The audit entry is written while the page is made (an fsync on SQLite); the page is sent
    // only once it is durable.
    let audit = st.queue_read_audit(read)?;
    Ok((case, audit, extra, meetings))
}

/// The case's page. The session is checked in the same blocking call that reads the case (one
/// trip to the blocking pool and one connection, not two).
pub async fn show(
    state: actix_web::web::Data<AppState>,
    session: SessionToken,
    path: actix_web::web::Path<String>,
    q: actix_web::web::Query<HashMap<String, String>>,
) -> actix_web::Result<HttpResponse> {
    session.present()?;
    let id = path.into_inner();
    let (user, got) = state
        .db(move |c, st| {
            Ok(session.authenticate(c, st).map(|user| {
                let got = read(c, st, &user.actor, &id);
                (user, got)
            }))
        })
        .await??;
    let page = Page { state, user };
    let got = got.map_err(|e| page.fail(e))?;
    Ok(render(page, q, got).await?)
}

async fn render(
    page: Page,
    q: actix_web::web::Query<HashMap<String, String>>,
    (case, audit, extra, meetings): Read,
) -> PageResult {
    let (docs, themes) = (&extra.documents, &extra.themes);
    let (meetings, decision_links) = meetings_of(&meetings);
    let tasks = stages::tasks(&stages::events_of(&case));
    // People and documents by id, for the timeline's lines.
    let names: HashMap<String, String> = case
        .reviewers
        .iter()
        .map(|r| (r.id.clone(), r.name.clone()))
        .chain(docs.iter().map(|d| (d.id.clone(), d.title.clone())))
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
        .map(|e| {
            timeline_item(
                e,
                &case,
                &names,
                &decision_links,
                corrections::may_change(page.actor(), e),
            )
        })
        .collect();
    let record: Vec<RecordLink> = case
        .may_record
        .iter()
        .map(|k| match k {
            // Planning publication has one route, named as its page is.
            EventType::PublicationPlanned => RecordLink {
                href: format!("/cases/{}/publication", case.id),
                text: "Plan publication",
            },
            _ => RecordLink {
                href: format!("/cases/{}/events/{}", case.id, k.as_str()),
                text: k.label(),
            },
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
    let mut summary = summary(&case, page.actor().role.may_open_cases());
    let mut themes_row = row(
        "Learning themes",
        if themes.is_empty() {
            Value::String("None".into())
        } else {
            Value::from(themes.clone())
        },
    );
    if page.actor().role.may_tag_themes() {
        themes_row.href = Some(case_themes::href(&case.id));
    }
    summary.push(themes_row);
    ctx.insert("summary", &summary);
    ctx.insert("tasks", &tasks);
    ctx.insert("next_step", &next_step(&case));
    ctx.insert("deadlines", &deadline_rows(&case));
    ctx.insert(
        "t",
        &timeline::build(&case.reference, &case.deadlines, page.state.today()),
    );
    ctx.insert("timeline_first", &(skip + 1));
    ctx.insert("timeline_last", &(skip + timeline.len()));
    ctx.insert("timeline", &timeline);
    ctx.insert("timeline_page", &timeline_page);
    ctx.insert("timeline_pages", &pages);
    ctx.insert("record", &record);
    ctx.insert("recorded", &recorded);
    let changed = q
        .get("corrected")
        .map(|_| "Event corrected")
        .or(q.get("voided").map(|_| "Event voided"))
        .or(q.get("changed").map(|_| "Case details changed"));
    ctx.insert("changed", &changed);
    ctx.insert("themes_changed", &q.contains_key("themes"));
    ctx.insert("opened", &q.contains_key("opened"));
    ctx.insert("may_read_audit", &page.actor().role.may_read_audit());
    let actor = page.actor();
    let appointed = case.reviewers.iter().any(|r| r.id == actor.user_id);
    ctx.insert(
        "may_upload",
        &(app_documents::may_upload(actor.role, appointed)
            && case.stage != Stage::Withdrawn.as_str()),
    );
    // A lead reviewer may delete the versions they uploaded: the column shows when any may go.
    let event_names: HashMap<String, String> = case
        .events
        .iter()
        .map(|e| {
            let on = e.occurred_on.format("%-d %B %Y");
            (e.id.clone(), format!("{}, {on}", e.label))
        })
        .collect();
    let listing = documents::listing(&case.id, docs, (actor.role, &actor.user_id), &event_names);
    let any_deletable = listing.iter().any(|d| {
        d["versions"]
            .as_array()
            .is_some_and(|vs| vs.iter().any(|v| v["may_delete"] == true))
    });
    ctx.insert(
        "may_delete",
        &(app_documents::may_delete(actor.role, false) || any_deletable),
    );
    ctx.insert("documents", &listing);
    ctx.insert("documents_banner", &documents::banner(&q, docs));
    ctx.insert(
        "show_planning",
        &(case.stage == Stage::PublicationPlanning.as_str()),
    );
    ctx.insert("meetings", &meetings);
    // What the page reads of the case itself (the rest is in the variables above): not the
    // whole view, whose events and deadlines would be copied into the context once more.
    ctx.insert(
        "case",
        &serde_json::json!({
            "id": case.id,
            "reference": case.reference,
            "child_pseudonym": case.child_pseudonym,
        }),
    );
    ctx.insert("timeline_total", &case.events.len());
    let answer = page.render("pages/cases/show.html", &ctx)?;
    audit.committed().await.map_err(|e| page.fail(e.into()))?;
    Ok(answer)
}
