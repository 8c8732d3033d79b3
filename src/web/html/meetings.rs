//! Meetings (`/meetings`): the list (upcoming and past, by body), scheduling one, and a
//! meeting's page: its agenda (cases by reference and pseudonym), the deputies named, the
//! attendance with agencies and the quorum, the decisions with their tally by agency, the
//! minutes and the papers. The actions on it (agenda, deputy, sign-off, papers) are in
//! `meeting_actions.rs`; the forms in `meeting_forms.rs` and `decision_form.rs`.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use chrono::Timelike;
use serde_json::{json, Map, Value};

use super::form::{claim, for_page, humanise, settle, Claim};
use super::{see_other, FormData, HtmlError, Page, PageResult};
use crate::app::cases::list as case_list;
use crate::app::governance::bodies;
use crate::app::governance::meetings::{self as app_meetings, DecisionView, MeetingView};
use crate::domain::events::EventType;
use crate::domain::governance::{may_organise, Body, DecisionKind, MeetingStatus, Scheduled};
use crate::domain::input::FieldError;
use crate::domain::workflow;
use crate::error::AppError;
use crate::web::filters::govuk_time;
use crate::web::session::new_form_id;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/meetings", web::get().to(list))
        .route("/meetings/new", web::get().to(new_form))
        .route("/meetings/new", web::post().to(schedule))
        .route("/meetings/{id}", web::get().to(show));
}

/// "Thursday 10 December 2026 at 10am", or the day alone.
pub fn when(s: &Scheduled) -> String {
    let day = s.on.format("%A %-d %B %Y").to_string();
    match s.at {
        Some(t) => format!("{day} at {}", govuk_time(t.hour(), t.minute())),
        None => day,
    }
}

fn status_tag(status: MeetingStatus) -> Value {
    let colour = match status {
        MeetingStatus::SignedOff => "green",
        MeetingStatus::Held => "blue",
        MeetingStatus::Scheduled => "grey",
    };
    json!({ "text": status.label(), "colour": colour })
}

fn quorum_text(q: &app_meetings::QuorumView) -> String {
    let noun = if q.agencies_present == 1 {
        "agency"
    } else {
        "agencies"
    };
    format!("{} {noun} present, {} needed", q.agencies_present, q.needed)
}

/// The bodies this user organises (may schedule).
fn organised(page: &Page) -> Vec<Body> {
    Body::ALL
        .iter()
        .copied()
        .filter(|b| may_organise(page.actor().role, *b))
        .collect()
}

async fn list(page: Page, q: web::Query<HashMap<String, String>>) -> PageResult {
    let filter = app_meetings::Filter::parse(&q).map_err(|e| page.fail(e))?;
    let body = filter.body;
    let all = page
        .db(move |c, st, actor| app_meetings::list(c, st, actor, &filter))
        .await?;
    let today = page.state.today();
    let row = |m: &app_meetings::MeetingSummary| {
        json!({
            "href": format!("/meetings/{}", m.id),
            "title": m.title,
            "body_label": m.body.short_label(),
            "date": m.date,
            "when": when(&Scheduled::from_stored(m.date, m.start_time.as_deref())),
            "status": status_tag(m.status),
            "references": m.agenda.iter().map(|a| a.reference.clone()).collect::<Vec<_>>(),
            "quorate": m.quorum.quorate,
            "quorum": quorum_text(&m.quorum),
            "decisions": m.decisions,
            "held": m.held_on.is_some(),
        })
    };
    let upcoming: Vec<Value> = all
        .iter()
        .filter(|m| m.held_on.is_none() && m.date >= today)
        .map(row)
        .collect();
    let mut past: Vec<Value> = all
        .iter()
        .filter(|m| m.held_on.is_some() || m.date < today)
        .map(row)
        .collect();
    past.reverse();
    let bodies: Vec<Value> = Body::ALL
        .iter()
        .map(|b| json!({ "value": b.as_str(), "text": b.label() }))
        .collect();
    let mut ctx = page.context("Meetings", "meetings");
    ctx.insert("upcoming", &upcoming);
    ctx.insert("past", &past);
    ctx.insert("bodies", &bodies);
    ctx.insert("filter", &json!({ "body": body.map(|b| b.as_str()) }));
    ctx.insert("may_schedule", &!organised(&page).is_empty());
    page.render("pages/meetings/list.html", &ctx)
}

fn render_new(
    page: &Page,
    status: StatusCode,
    form: &FormData,
    errors: &[FieldError],
    form_id: &str,
) -> PageResult {
    let bodies: Vec<Value> = organised(page)
        .into_iter()
        .map(|b| json!({ "value": b.as_str(), "text": b.label() }))
        .collect();
    let mut ctx = page.context("Schedule a meeting", "meetings");
    ctx.insert("form", &form.values(&[]));
    ctx.insert("errors", errors);
    ctx.insert("bodies", &bodies);
    ctx.insert("form_id", form_id);
    page.render_status(status, "pages/meetings/new.html", &ctx)
}

fn may_schedule(page: &Page) -> Result<(), HtmlError> {
    page.require(
        !organised(page).is_empty(),
        "only the co-chairs, the programme manager and the business manager schedule meetings",
    )
}

async fn new_form(page: Page) -> PageResult {
    may_schedule(&page)?;
    render_new(
        &page,
        StatusCode::OK,
        &FormData::default(),
        &[],
        &new_form_id(),
    )
}

/// `HH:MM` from the form's time field, or the problem.
fn time_of(form: &FormData) -> Result<Option<String>, FieldError> {
    let t = form.get("start_time").trim().replace('.', ":");
    if t.is_empty() {
        return Ok(None);
    }
    chrono::NaiveTime::parse_from_str(&t, "%H:%M")
        .map(|t| Some(t.format("%H:%M").to_string()))
        .map_err(|_| {
            FieldError::new(
                "start_time",
                "Enter the start time as hours and minutes, like 10:00 or 14:30",
            )
        })
}

async fn schedule(
    req: HttpRequest,
    page: Page,
    form: web::Form<Vec<(String, String)>>,
) -> PageResult {
    may_schedule(&page)?;
    let form = FormData::from(form.into_inner());
    page.check_form(&req, &form)?;
    if let Claim::Done(resp) = claim(&page, &form, "/meetings").await? {
        return Ok(resp);
    }
    let mut errors = vec![];
    let mut body = Map::new();
    match form.get("body") {
        "" => errors.push(FieldError::new("body", "Select which body meets")),
        b => {
            body.insert("body".into(), json!(b));
        }
    }
    body.insert("title".into(), json!(form.get("title").trim()));
    let time = time_of(&form).map_err(|e| errors.push(e)).ok().flatten();
    match form.date("scheduled_for", "The date of the meeting") {
        Ok(Some(d)) => {
            let at = time.map_or(d.to_string(), |t| format!("{d}T{t}"));
            body.insert("scheduled_for".into(), json!(at));
        }
        Ok(None) => errors.push(FieldError::new(
            "scheduled_for",
            "Enter the date of the meeting",
        )),
        Err(e) => errors.push(e),
    }
    if errors.is_empty() {
        let done = page
            .db(move |c, st, actor| app_meetings::schedule(c, st, actor, &body))
            .await;
        match done {
            Ok(m) => {
                let to = format!("/meetings/{}?scheduled=1", m.id);
                settle(&page, &form, Some(&to)).await?;
                return Ok(see_other(&to));
            }
            Err(e) => match e.into_error() {
                AppError::Invalid(found) => errors = humanise(found, |_| None),
                other => {
                    settle(&page, &form, None).await?;
                    return Err(page.fail(other));
                }
            },
        }
    }
    settle(&page, &form, None).await?;
    let known: Vec<String> = ["body", "title", "scheduled_for", "start_time"]
        .map(String::from)
        .to_vec();
    render_new(
        &page,
        StatusCode::UNPROCESSABLE_ENTITY,
        &form,
        &for_page(errors, &known),
        form.get("form_id"),
    )
}

/// The event a carried decision lets someone record on the case, and its form's address.
fn record_link(page: &Page, d: &DecisionView, held_on: Option<chrono::NaiveDate>) -> Option<Value> {
    use chrono::Datelike;
    let kind = match d.kind {
        DecisionKind::CommissionLcspr => EventType::LcsprDecided,
        DecisionKind::QaApprove => EventType::QaApproved,
        DecisionKind::Ratify => EventType::Ratified,
        DecisionKind::PublicationPlan => EventType::PublicationPlanned,
        _ => return None,
    };
    let case = d.case_id.as_ref()?;
    let on = held_on?;
    if d.outcome != crate::domain::governance::Outcome::Carried
        || !workflow::may_record(page.actor().role, kind)
    {
        return None;
    }
    // Planning publication has one route, the planning page.
    let form = match kind {
        EventType::PublicationPlanned => format!("/cases/{case}/publication"),
        _ => format!("/cases/{case}/events/{}", kind.as_str()),
    };
    Some(json!({
        "href": format!(
            "{form}?decision_id={}&occurred_on-day={}&occurred_on-month={}&occurred_on-year={}",
            d.id, on.day(), on.month(), on.year()
        ),
        "text": format!("Record “{}” on {}", kind.label(), d.reference.clone().unwrap_or_default()),
    }))
}

/// A decision as the meeting page shows it.
pub fn decision_value(page: &Page, d: &DecisionView, held_on: Option<chrono::NaiveDate>) -> Value {
    let t = &d.tally;
    let n = |k: &str| t[k].as_u64().unwrap_or(0);
    let summary = if d.method == crate::domain::governance::Method::Consensus {
        format!(
            "By consensus of the {} agencies taking part.",
            n("agencies_eligible")
        )
    } else {
        let mut s = format!(
            "{} for, {} against, {} abstained.",
            n("for"),
            n("against"),
            n("abstain")
        );
        if let Some(v) = t["casting_vote"].as_str() {
            let by = t["casting_by"]["name"]
                .as_str()
                .map_or("the chair".to_string(), |n| n.to_string());
            s.push_str(&format!(" Split: casting vote of {by}, {v}."));
        }
        s
    };
    json!({
        "id": d.id,
        "kind_label": d.kind_label,
        "reference": d.reference,
        "case_id": d.case_id,
        "outcome": d.outcome.label(),
        "carried": d.outcome == crate::domain::governance::Outcome::Carried,
        "method": d.method.label(),
        "summary": summary,
        "votes": t["votes"].as_array().cloned().unwrap_or_default().iter().map(|v| json!({
            "agency": v["agency"]["name"], "vote": v["vote"].as_str().and_then(|x| x.parse::<crate::domain::governance::Vote>().ok()).map_or("", |x| x.label()),
        })).collect::<Vec<_>>(),
        "not_voting": t["not_voting"].as_array().cloned().unwrap_or_default().iter().filter_map(|a| a["name"].as_str().map(str::to_string)).collect::<Vec<_>>(),
        "excluded": t["excluded"].as_array().cloned().unwrap_or_default().iter().map(|e| json!({
            "name": e["name"], "agency": e["agency"]["name"],
            "declared": if e["declared"] == "at_meeting" { "declared at the meeting" } else { "declared earlier on the case" },
        })).collect::<Vec<_>>(),
        "note": d.note,
        "recorded_by": d.recorded_by.name,
        "recorded_at": d.recorded_at,
        "record": record_link(page, d, held_on),
    })
}

/// What the meeting page needs besides the meeting: the cases an organiser may add, and the
/// people a member may name as deputy.
struct Extras {
    cases: Vec<Value>,
    deputies: Vec<Value>,
}

async fn extras(page: &Page, view: &MeetingView) -> Result<Extras, HtmlError> {
    let organise = view.may.organise && view.signed_off.is_none();
    let on_agenda: Vec<String> = view.agenda.iter().map(|a| a.case_id.clone()).collect();
    let name_deputy = view.may.name_deputy;
    let body = view.body;
    page.db(move |c, st, actor| {
        let room = !body.one_case_per_meeting() || on_agenda.is_empty();
        let cases = if organise && room {
            let filter = case_list::Filter {
                per_page: 500,
                sort: case_list::Sort::Reference,
                ..Default::default()
            };
            case_list::list(c, st, actor, &filter)?
                .cases
                .into_iter()
                .filter(|k| !on_agenda.contains(&k.id))
                .map(|k| json!({ "value": k.id, "text": format!("{} – {} ({})", k.reference, k.child_pseudonym, k.stage_label.to_lowercase()) }))
                .collect()
        } else {
            vec![]
        };
        let deputies = if name_deputy {
            let membership = bodies::get(c, body.membership())?;
            let me = membership.people.iter().find(|p| p.person.id == actor.user_id);
            match me.and_then(|m| m.person.agency.clone()) {
                Some(agency) => app_meetings::sitters(c)?
                    .into_iter()
                    .filter(|p| p.agency.as_ref() == Some(&agency) && !membership.members.contains(&p.id))
                    .map(|p| json!({ "value": p.id, "text": p.name }))
                    .collect(),
                None => vec![],
            }
        } else {
            vec![]
        };
        Ok(Extras { cases, deputies })
    })
    .await
}

async fn show(
    page: Page,
    path: web::Path<String>,
    q: web::Query<HashMap<String, String>>,
) -> PageResult {
    let id = path.into_inner();
    let view = page
        .db(move |c, st, actor| app_meetings::read(c, st, actor, &id))
        .await?;
    render_show(&page, StatusCode::OK, &view, &q, &[]).await
}

pub(super) async fn render_show(
    page: &Page,
    status: StatusCode,
    view: &MeetingView,
    q: &HashMap<String, String>,
    errors: &[FieldError],
) -> PageResult {
    let extras = extras(page, view).await?;
    let banner = [
        ("scheduled", "Meeting scheduled"),
        ("added", "Case added to the agenda"),
        ("removed", "Case taken off the agenda"),
        ("attendance", "Attendance recorded"),
        ("decided", "Decision recorded"),
        ("minutes", "Minutes saved"),
        ("deputy", "Deputy named"),
        ("signed", "The record has been signed off"),
        ("paper", "Paper added"),
    ]
    .into_iter()
    .find(|(k, _)| q.contains_key(*k))
    .map(|(_, text)| text);
    let scheduled = Scheduled::from_stored(view.scheduled_on, view.start_time.as_deref());
    let mut summary = vec![
        json!({ "key": "Body", "value": view.body_label }),
        json!({ "key": "Date", "value": when(&scheduled) }),
    ];
    if let Some(h) = view.held_on {
        if h != view.scheduled_on {
            summary.push(json!({ "key": "Held on", "value": h.format("%-d %B %Y").to_string() }));
        }
    }
    if let Some(s) = &view.signed_off {
        summary.push(json!({ "key": "Signed off", "value": format!("by {}", s.by.name) }));
    }
    let decisions: Vec<Value> = view
        .decisions
        .iter()
        .map(|d| decision_value(page, d, view.held_on))
        .collect();
    let minutes: Vec<Value> = view
        .minutes
        .iter()
        .map(|m| {
            json!({
                "heading": m.reference.clone().map_or("Key points of the meeting".to_string(), |r| format!("Key points: {r}")),
                "text": m.text, "written_by": m.written_by.name, "written_at": m.written_at,
                "corrections": m.corrections, "case_id": m.case_id,
                "href": format!("/meetings/{}/minutes{}", view.id, m.case_id.as_ref().map_or(String::new(), |c| format!("?case={c}"))),
            })
        })
        .collect();
    let minuted: Vec<Option<String>> = view.minutes.iter().map(|m| m.case_id.clone()).collect();
    let unminuted: Vec<Value> = std::iter::once(None)
        .chain(view.agenda.iter().filter(|a| a.case_visible).map(|a| Some(a.clone())))
        .filter(|a| !minuted.contains(&a.as_ref().map(|a| a.case_id.clone())))
        .map(|a| match a {
            None => json!({ "text": "Write the key points of the meeting", "href": format!("/meetings/{}/minutes", view.id) }),
            Some(a) => json!({ "text": format!("Write the key points on {}", a.reference), "href": format!("/meetings/{}/minutes?case={}", view.id, a.case_id) }),
        })
        .collect();
    let mut ctx = page.context(&view.title, "meetings");
    ctx.insert("meeting", view);
    ctx.insert("summary", &summary);
    ctx.insert("status", &status_tag(view.status));
    ctx.insert("quorum_text", &quorum_text(&view.quorum));
    ctx.insert("decisions", &decisions);
    ctx.insert("minutes", &minutes);
    ctx.insert("unminuted", &unminuted);
    ctx.insert("banner", &banner);
    ctx.insert("cases", &extras.cases);
    ctx.insert("deputy_choices", &extras.deputies);
    ctx.insert("errors", errors);
    ctx.insert("form_id", &new_form_id());
    ctx.insert("open", &view.signed_off.is_none());
    page.render_status(status, "pages/meetings/show.html", &ctx)
}
