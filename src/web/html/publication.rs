//! Publication planning (`GET /cases/{id}/publication`): choose a publication date (a GET form)
//! and see, for the Panel, Ofsted and the Secretary of State, the latest day the copy may be
//! sent and whether it has been; a date that is too soon names the earliest permissible one.
//! The plan itself is recorded with the `publication_planned` event form, embedded here.

use actix_web::web;
use chrono::NaiveDate;
use serde_json::json;

use super::{FormData, Page, PageResult};
use crate::app::cases::publication;
use crate::domain::events::PublicationFormat;
use crate::web::session::new_form_id;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/cases/{id}/publication", web::get().to(show));
}

async fn show(
    page: Page,
    path: web::Path<String>,
    q: web::Query<Vec<(String, String)>>,
) -> PageResult {
    let id = path.into_inner();
    let mut query = FormData::from(q.into_inner());
    let mut errors = vec![];
    let asked: Option<NaiveDate> = match query.date("publication_on", "The publication date") {
        Ok(d) => d,
        Err(e) => {
            errors.push(e);
            None
        }
    };
    let planning = page
        .db(move |c, st, actor| publication::planning(c, st, actor, &id, asked))
        .await?;
    if errors.is_empty() {
        if let Some(d) = planning.publication_on {
            query.set_date("publication_on", d);
        }
    }
    // The plan form: the date looked at, the format of the current plan, today's date.
    let mut plan_form = FormData::default();
    if let Some(d) = planning.publication_on {
        plan_form.set_date("publication_on", d);
    }
    plan_form.set_date("occurred_on", page.state.today());
    plan_form.set(
        "format",
        planning.plan.as_ref().map_or("full", |p| p.format.as_str()),
    );
    let formats: Vec<_> = PublicationFormat::ALL
        .iter()
        .map(|f| json!({ "value": f.as_str(), "text": f.label() }))
        .collect();
    let earliest_href = planning.earliest.map(|d| {
        use chrono::Datelike;
        format!(
            "/cases/{}/publication?publication_on-day={}&publication_on-month={}&publication_on-year={}",
            planning.case_id,
            d.day(),
            d.month(),
            d.year()
        )
    });
    let mut ctx = page.context(
        &format!("Publication planning – {}", planning.reference),
        "cases",
    );
    ctx.insert("planning", &planning);
    ctx.insert("form", &query.values(&[]));
    ctx.insert("plan_form", &plan_form.values(&[]));
    ctx.insert("errors", &errors);
    ctx.insert("formats", &formats);
    ctx.insert("earliest_href", &earliest_href);
    ctx.insert("form_id", &new_form_id());
    page.render("pages/cases/publication.html", &ctx)
}
