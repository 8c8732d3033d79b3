//! The forms of a meeting: its attendance (a checklist of the core members with their
//! agencies, deputies, others present and guests, the quorum shown as it is ticked — counted
//! by `static/quorum.js`, or by the "Check the quorum" button without JavaScript), and the
//! minutes of the meeting or of one agenda case. The decision form is `decision_form.rs`.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use serde_json::{json, Map, Value};

use super::form::{claim, for_page, humanise, settle, Claim};
use super::{see_other, FormData, HtmlError, Page, PageResult};
use crate::app::governance::access::visible_meeting;
use crate::app::governance::bodies::{self, Person};
use crate::app::governance::meetings::{self as app_meetings, MeetingView};
use crate::app::governance::{attendance, minutes, quorum_needed};
use crate::domain::governance::quorum::{Quorum, Seat};
use crate::domain::input::FieldError;
use crate::error::AppError;
use crate::web::session::new_form_id;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/meetings/{id}/attendance", web::get().to(attendance_form))
        .route(
            "/meetings/{id}/attendance",
            web::post().to(record_attendance),
        )
        .route("/meetings/{id}/minutes", web::get().to(minutes_form))
        .route("/meetings/{id}/minutes", web::post().to(write_minutes));
}

/// The meeting as its organiser sees it, with the body's core members and everyone who may
/// sit (for deputies and others present).
pub(super) struct Organised {
    pub view: MeetingView,
    pub members: Vec<bodies::Member>,
    sitters: Vec<Person>,
}

pub(super) async fn organised(page: &Page, id: &str) -> Result<Organised, HtmlError> {
    let id = id.to_string();
    page.db(move |c, st, actor| {
        let (m, body, sight, standing) = visible_meeting(c, actor, &id)?;
        if !crate::domain::governance::may_organise(actor.role, body) {
            return Err(AppError::Forbidden(
                crate::app::governance::access::organiser_message(body),
            ));
        }
        let view = app_meetings::build(c, st, actor, &m, &sight, &standing)?;
        if view.signed_off.is_some() {
            return Err(AppError::Conflict(
                "the record of this meeting was signed off; it can no longer change".into(),
            ));
        }
        let members = bodies::get(c, body.membership())?.people;
        let sitters = app_meetings::sitters(c)?;
        Ok(Organised {
            view,
            members,
            sitters,
        })
    })
    .await
}

pub(super) fn agency_name(p: &Person) -> String {
    p.agency
        .as_ref()
        .map_or("no agency".into(), |a| a.name.clone())
}

/// The quorum of the attendance ticked on the form.
fn form_quorum(page: &Page, o: &Organised, form: &FormData) -> Quorum {
    let present = form.all("present");
    let mut seats: Vec<Seat> = o
        .members
        .iter()
        .filter(|m| present.contains(&m.person.id.as_str()))
        .filter_map(|m| {
            Some(Seat {
                user_id: m.person.id.clone(),
                agency_id: m.person.agency.as_ref()?.id.clone(),
                chair: m.chair,
            })
        })
        .collect();
    for m in &o.members {
        let by = form.get(&format!("deputy-{}", m.person.id));
        if let (false, Some(a)) = (by.is_empty(), &m.person.agency) {
            seats.push(Seat {
                user_id: by.to_string(),
                agency_id: a.id.clone(),
                chair: false,
            });
        }
    }
    let needed = quorum_needed(&page.state.settings, o.view.body);
    Quorum::of(needed, &seats)
}

fn quorum_sentence(q: &Quorum) -> String {
    let noun = if q.agencies_present == 1 {
        "agency"
    } else {
        "agencies"
    };
    format!(
        "{}: {} {noun} present, {} needed.",
        if q.quorate { "Quorate" } else { "Not quorate" },
        q.agencies_present,
        q.needed
    )
}

/// The attendance as recorded (or the deputies named), as form values.
fn recorded(o: &Organised, today: chrono::NaiveDate) -> FormData {
    let v = &o.view;
    let member_ids: Vec<&str> = o.members.iter().map(|m| m.person.id.as_str()).collect();
    let mut pairs: Vec<(String, String)> = vec![];
    match &v.attendance {
        Some(a) => {
            for p in &a.present {
                let name = if member_ids.contains(&p.person.id.as_str()) {
                    "present"
                } else {
                    "others"
                };
                pairs.push((name.into(), p.person.id.clone()));
            }
            for p in &a.apologies {
                pairs.push(("apologies".into(), p.person.id.clone()));
            }
            for d in &a.deputies {
                pairs.push((format!("deputy-{}", d.for_member.id), d.by.id.clone()));
            }
            let guests: Vec<String> = a
                .guests
                .iter()
                .map(|g| {
                    if g.organisation.is_empty() {
                        g.name.clone()
                    } else {
                        format!("{}, {}", g.name, g.organisation)
                    }
                })
                .collect();
            pairs.push(("guests".into(), guests.join("\n")));
        }
        None => {
            for d in &v.named_deputies {
                pairs.push((format!("deputy-{}", d.for_member.id), d.by.id.clone()));
            }
        }
    }
    let mut f = FormData::from(pairs);
    let on = v.held_on.unwrap_or(if v.scheduled_on <= today {
        v.scheduled_on
    } else {
        today
    });
    f.set_date("held_on", on);
    f
}

fn render_attendance(
    page: &Page,
    status: StatusCode,
    o: &Organised,
    form: &FormData,
    errors: &[FieldError],
) -> PageResult {
    let present = form.all("present");
    let apologies = form.all("apologies");
    let others = form.all("others");
    let member_ids: Vec<&str> = o.members.iter().map(|m| m.person.id.as_str()).collect();
    let members: Vec<Value> = o
        .members
        .iter()
        .map(|m| {
            let deputies: Vec<Value> = o
                .sitters
                .iter()
                .filter(|p| {
                    p.agency.is_some()
                        && p.agency == m.person.agency
                        && !member_ids.contains(&p.id.as_str())
                })
                .map(|p| json!({ "value": p.id, "text": p.name }))
                .collect();
            json!({
                "id": m.person.id, "name": m.person.name, "agency": agency_name(&m.person),
                "agency_id": m.person.agency.as_ref().map(|a| a.id.clone()),
                "chair": m.chair, "present": present.contains(&m.person.id.as_str()),
                "apologies": apologies.contains(&m.person.id.as_str()),
                "deputies": deputies, "deputy": form.get(&format!("deputy-{}", m.person.id)),
            })
        })
        .collect();
    let others_list: Vec<Value> = o
        .sitters
        .iter()
        .filter(|p| !member_ids.contains(&p.id.as_str()))
        .map(|p| json!({ "id": p.id, "name": p.name, "agency": agency_name(p), "checked": others.contains(&p.id.as_str()) }))
        .collect();
    let q = form_quorum(page, o, form);
    let mut ctx = page.context("Attendance", "meetings");
    ctx.insert("meeting", &o.view);
    ctx.insert("members", &members);
    ctx.insert("others", &others_list);
    ctx.insert("form", &form.values(&["present", "apologies", "others"]));
    ctx.insert("errors", errors);
    ctx.insert("quorum", &q);
    ctx.insert("quorum_sentence", &quorum_sentence(&q));
    page.render_status(status, "pages/meetings/attendance.html", &ctx)
}

async fn attendance_form(page: Page, path: web::Path<String>) -> PageResult {
    let o = organised(&page, &path.into_inner()).await?;
    let form = recorded(&o, page.state.today());
    render_attendance(&page, StatusCode::OK, &o, &form, &[])
}

/// "Name, Organisation" per line.
fn guests(text: &str) -> Vec<Value> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| match l.split_once(',') {
            Some((n, o)) => json!({ "name": n.trim(), "organisation": o.trim() }),
            None => json!({ "name": l, "organisation": "" }),
        })
        .collect()
}

async fn record_attendance(
    req: HttpRequest,
    page: Page,
    path: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> PageResult {
    let id = path.into_inner();
    let form = FormData::from(form.into_inner());
    page.check_form(&req, &form)?;
    let o = organised(&page, &id).await?;
    let mut errors = vec![];
    let mut body = Map::new();
    match form.date("held_on", "The date the meeting was held") {
        Ok(Some(d)) => {
            body.insert("held_on".into(), json!(d.to_string()));
        }
        Ok(None) => errors.push(FieldError::new(
            "held_on",
            "Enter the date the meeting was held",
        )),
        Err(e) => errors.push(e),
    }
    let mut present: Vec<&str> = form.all("present");
    present.extend(form.all("others"));
    body.insert("present".into(), json!(present));
    body.insert("apologies".into(), json!(form.all("apologies")));
    let deputies: Vec<Value> = o
        .members
        .iter()
        .filter_map(|m| {
            let by = form.get(&format!("deputy-{}", m.person.id)).trim();
            (!by.is_empty()).then(|| json!({ "for": m.person.id, "by": by }))
        })
        .collect();
    body.insert("deputies".into(), json!(deputies));
    body.insert("guests".into(), json!(guests(form.get("guests"))));
    if form.get("action") != "save" {
        return render_attendance(&page, StatusCode::OK, &o, &form, &errors);
    }
    if errors.is_empty() {
        let m = id.clone();
        match page
            .db(move |c, st, actor| attendance::record(c, st, actor, &m, &body))
            .await
        {
            Ok(_) => {
                return Ok(see_other(&format!(
                    "/meetings/{id}?attendance=1#attendance"
                )))
            }
            Err(e) => match e.into_error() {
                AppError::Invalid(found) => errors = humanise(found, |_| None),
                other => return Err(page.fail(other)),
            },
        }
    }
    let known: Vec<String> = [
        "held_on",
        "present",
        "apologies",
        "deputies",
        "others",
        "guests",
    ]
    .map(String::from)
    .to_vec();
    render_attendance(
        &page,
        StatusCode::UNPROCESSABLE_ENTITY,
        &o,
        &form,
        &for_page(errors, &known),
    )
}

/// The meeting and the topic of the minutes form, if this person may write them.
async fn minutes_target(
    page: &Page,
    id: &str,
    case: Option<String>,
) -> Result<(MeetingView, Option<(String, String)>), HtmlError> {
    let id = id.to_string();
    let (view, _) = page
        .db(move |c, st, actor| {
            let (m, body, sight, standing) = visible_meeting(c, actor, &id)?;
            Ok((
                app_meetings::build(c, st, actor, &m, &sight, &standing)?,
                body,
            ))
        })
        .await?;
    page.require(view.may.write_minutes, "only the meeting’s organisers write its minutes, and a chair corrects them once signed off")?;
    let topic = match case {
        None => None,
        Some(c) => Some(
            view.agenda
                .iter()
                .find(|a| a.case_id == c && a.case_visible)
                .map(|a| (a.case_id.clone(), a.reference.clone()))
                .ok_or_else(|| page.fail(AppError::NotFound))?,
        ),
    };
    Ok((view, topic))
}

fn render_minutes(
    page: &Page,
    status: StatusCode,
    view: &MeetingView,
    topic: &Option<(String, String)>,
    form: &FormData,
    errors: &[FieldError],
    form_id: &str,
) -> PageResult {
    let heading = topic
        .as_ref()
        .map_or("Key points of the meeting".to_string(), |(_, r)| {
            format!("Key points on {r}")
        });
    let mut ctx = page.context(&heading, "meetings");
    ctx.insert("meeting", view);
    ctx.insert("heading", &heading);
    ctx.insert("case_id", &topic.as_ref().map(|(c, _)| c.clone()));
    ctx.insert("form", &form.values(&[]));
    ctx.insert("errors", errors);
    ctx.insert("form_id", form_id);
    ctx.insert("correction", &view.signed_off.is_some());
    page.render_status(status, "pages/meetings/minutes.html", &ctx)
}

async fn minutes_form(
    page: Page,
    path: web::Path<String>,
    q: web::Query<HashMap<String, String>>,
) -> PageResult {
    let case = q.get("case").filter(|c| !c.is_empty()).cloned();
    let (view, topic) = minutes_target(&page, &path.into_inner(), case).await?;
    let mut form = FormData::default();
    let current = view
        .minutes
        .iter()
        .find(|m| m.case_id == topic.as_ref().map(|(c, _)| c.clone()));
    if let Some(m) = current {
        form.set("text", m.text.clone());
    }
    render_minutes(
        &page,
        StatusCode::OK,
        &view,
        &topic,
        &form,
        &[],
        &new_form_id(),
    )
}

async fn write_minutes(
    req: HttpRequest,
    page: Page,
    path: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> PageResult {
    let id = path.into_inner();
    let form = FormData::from(form.into_inner());
    page.check_form(&req, &form)?;
    let case = Some(form.get("case_id").to_string()).filter(|c| !c.is_empty());
    let (view, topic) = minutes_target(&page, &id, case.clone()).await?;
    let back = format!("/meetings/{id}#minutes");
    if let Claim::Done(resp) = claim(&page, &form, &back).await? {
        return Ok(resp);
    }
    let mut body = Map::new();
    if let Some(c) = &case {
        body.insert("case_id".into(), json!(c));
    }
    for k in ["text", "reason"] {
        let v = form.get(k).trim();
        if !v.is_empty() {
            body.insert(k.into(), json!(v));
        }
    }
    let m = id.clone();
    let errors = match page
        .db(move |c, st, actor| minutes::write(c, st, actor, &m, &body))
        .await
    {
        Ok(_) => {
            let to = format!("/meetings/{id}?minutes=1#minutes");
            settle(&page, &form, Some(&to)).await?;
            return Ok(see_other(&to));
        }
        Err(e) => match e.into_error() {
            AppError::Invalid(found) => humanise(found, |_| None),
            other => {
                settle(&page, &form, None).await?;
                return Err(page.fail(other));
            }
        },
    };
    settle(&page, &form, None).await?;
    let known: Vec<String> = ["text", "reason"].map(String::from).to_vec();
    render_minutes(
        &page,
        StatusCode::UNPROCESSABLE_ENTITY,
        &view,
        &topic,
        &form,
        &for_page(errors, &known),
        form.get("form_id"),
    )
}
