//! Recording a decision at a held meeting through its form: the case (from the agenda), the
//! kind (this body's), consensus or each agency's vote, the conflicts declared, the casting
//! vote. The use case's refusals (an inquorate meeting, a split without a casting vote…) come
//! back onto the form.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use serde_json::{json, Map, Value};

use super::form::{claim, for_page, humanise, settle, Claim};
use super::{see_other, FormData, HtmlError, Page, PageResult};
use crate::app::governance::decisions;
use crate::domain::governance::{CastingVote, DecisionKind, Method, Vote};
use crate::domain::input::FieldError;
use crate::error::AppError;
use crate::web::session::new_form_id;

use super::meeting_forms::{agency_name, organised, Organised};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/meetings/{id}/decisions/new", web::get().to(decision_form))
        .route(
            "/meetings/{id}/decisions/new",
            web::post().to(record_decision),
        );
}

fn render_decision(
    page: &Page,
    status: StatusCode,
    o: &Organised,
    form: &FormData,
    errors: &[FieldError],
    form_id: &str,
) -> PageResult {
    let v = &o.view;
    let cases: Vec<Value> = v
        .agenda
        .iter()
        .map(|a| json!({ "value": a.case_id, "text": format!("{} – {}", a.reference, a.pseudonym) }))
        .chain(std::iter::once(json!({ "value": "none", "text": "No case (another matter)", "divider": if v.agenda.is_empty() { Value::Null } else { json!("or") } })))
        .collect();
    let kinds: Vec<Value> = DecisionKind::made_by(v.body)
        .into_iter()
        .map(|k| json!({ "value": k.as_str(), "text": k.label() }))
        .collect();
    let methods: Vec<Value> = Method::ALL
        .iter()
        .map(|m| json!({ "value": m.as_str(), "text": m.label() }))
        .collect();
    let mut agencies: BTreeMap<String, String> = BTreeMap::new();
    let mut attendees: Vec<Value> = vec![];
    if let Some(a) = &v.attendance {
        for p in a.present.iter().filter(|p| p.core_member) {
            if let Some(ag) = &p.person.agency {
                agencies.insert(ag.name.clone(), ag.id.clone());
            }
        }
        for d in &a.deputies {
            if let Some(ag) = &d.by.agency {
                agencies.insert(ag.name.clone(), ag.id.clone());
            }
        }
        for p in &a.present {
            attendees.push(json!({ "value": p.person.id, "text": format!("{} ({})", p.person.name, agency_name(&p.person)) }));
        }
        for d in &a.deputies {
            attendees.push(json!({ "value": d.by.id, "text": format!("{} ({}, deputy for {})", d.by.name, agency_name(&d.by), d.for_member.name) }));
        }
    }
    let vote_choices: Vec<Value> = Vote::ALL
        .iter()
        .map(|x| json!({ "value": x.as_str(), "text": x.label() }))
        .chain(std::iter::once(
            json!({ "value": "", "text": "Did not vote" }),
        ))
        .collect();
    let votes: Vec<Value> = agencies
        .iter()
        .map(|(name, id)| json!({ "name": format!("vote-{id}"), "agency": name, "items": vote_choices }))
        .collect();
    let casting: Vec<Value> = std::iter::once(json!({ "value": "", "text": "No casting vote" }))
        .chain(
            CastingVote::ALL
                .iter()
                .map(|c| json!({ "value": c.as_str(), "text": c.label() })),
        )
        .collect();
    let mut ctx = page.context("Record a decision", "meetings");
    ctx.insert("meeting", v);
    ctx.insert("cases", &cases);
    ctx.insert("kinds", &kinds);
    ctx.insert("methods", &methods);
    ctx.insert("votes", &votes);
    ctx.insert("attendees", &attendees);
    ctx.insert("casting", &casting);
    ctx.insert("form", &form.values(&["conflicts"]));
    ctx.insert("errors", errors);
    ctx.insert("form_id", form_id);
    ctx.insert("chair_title", v.body.chair_title());
    page.render_status(status, "pages/meetings/decision.html", &ctx)
}

fn must_be_held(page: &Page, o: &Organised) -> Result<(), HtmlError> {
    if o.view.held_on.is_none() {
        return Err(page.fail(AppError::Conflict(
            "record the meeting’s attendance first: decisions are made at a held meeting".into(),
        )));
    }
    Ok(())
}

async fn decision_form(page: Page, path: web::Path<String>) -> PageResult {
    let o = organised(&page, &path.into_inner()).await?;
    must_be_held(&page, &o)?;
    let mut form = FormData::default();
    if o.view.agenda.len() == 1 {
        form.set("case_id", o.view.agenda[0].case_id.clone());
    }
    form.set("method", "consensus");
    render_decision(&page, StatusCode::OK, &o, &form, &[], &new_form_id())
}

async fn record_decision(
    req: HttpRequest,
    page: Page,
    path: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> PageResult {
    let id = path.into_inner();
    let form = FormData::from(form.into_inner());
    page.check_form(&req, &form)?;
    let o = organised(&page, &id).await?;
    must_be_held(&page, &o)?;
    let back = format!("/meetings/{id}");
    if let Claim::Done(resp) = claim(&page, &form, &back).await? {
        return Ok(resp);
    }
    let mut body = Map::new();
    match form.get("case_id") {
        "" | "none" => {}
        c => {
            body.insert("case_id".into(), json!(c));
        }
    }
    for k in ["kind", "method", "casting_vote", "note"] {
        let v = form.get(k).trim();
        if !v.is_empty() {
            body.insert(k.into(), json!(v));
        }
    }
    if form.get("method") == Method::Vote.as_str() {
        let votes: Vec<Value> = form
            .map()
            .into_iter()
            .filter_map(|(k, v)| Some((k.strip_prefix("vote-")?.to_string(), v)))
            .filter(|(_, v)| !v.is_empty())
            .map(|(agency, vote)| json!({ "agency": agency, "vote": vote }))
            .collect();
        body.insert("votes".into(), json!(votes));
    }
    body.insert("conflicts".into(), json!(form.all("conflicts")));
    let m = id.clone();
    let result = page
        .db(move |c, st, actor| decisions::record(c, st, actor, &m, &body))
        .await;
    let errors = match result {
        Ok(d) => {
            let to = format!("/meetings/{id}?decided=1#decision-{}", d.id);
            settle(&page, &form, Some(&to)).await?;
            return Ok(see_other(&to));
        }
        Err(e) => match e.into_error() {
            AppError::Invalid(found) => humanise(found, |f| match f {
                "casting_vote" => Some("The casting vote".into()),
                _ => None,
            }),
            other => {
                settle(&page, &form, None).await?;
                return Err(page.fail(other));
            }
        },
    };
    settle(&page, &form, None).await?;
    let known: Vec<String> = [
        "case_id",
        "kind",
        "method",
        "votes",
        "conflicts",
        "casting_vote",
        "casting_by",
        "note",
    ]
    .map(String::from)
    .to_vec();
    render_decision(
        &page,
        StatusCode::UNPROCESSABLE_ENTITY,
        &o,
        &form,
        &for_page(errors, &known),
        form.get("form_id"),
    )
}
