//! A case on paper and as pictures: the printable chronology (`/cases/{id}/print`: events,
//! deadlines with their explanations, decisions, documents; the child's identity only for the
//! roles that see it), the clocks picture (`/cases/{id}/timeline.svg`) and the deadlines as a
//! file (`/cases/{id}/deadlines?format=csv|xlsx`, audited).

use std::collections::HashMap;

use actix_web::web;

use super::case_page::{deadline_rows, meetings_of, summary_rows, timeline_item, TimelineItem};
use super::{see_other, Page, PageResult};
use crate::app::cases::view;
use crate::app::documents as app_documents;
use crate::app::export::{self, Format};
use crate::app::governance::meetings as app_meetings;
use crate::app::reports::timeline;
use crate::web::download::Answer;
use crate::web::timeline_svg;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/cases/{id}/print", web::get().to(print))
        .route("/cases/{id}/timeline.svg", web::get().to(svg))
        .route("/cases/{id}/deadlines", web::get().to(deadlines));
}

async fn print(page: Page, path: web::Path<String>) -> PageResult {
    let id = path.into_inner();
    let (case, read, docs, meetings) = page
        .db(move |c, st, actor| {
            let (case, read) = view::read(c, st, actor, &id)?;
            let docs = app_documents::of_case(c, &case.id)?;
            let meetings = app_meetings::for_case(c, st, actor, &case.id)?;
            Ok((case, read, docs, meetings))
        })
        .await?;
    page.state
        .audit_read(read)
        .await
        .map_err(|e| page.fail(e))?;
    let (meetings, decision_links) = meetings_of(&meetings);
    let names: HashMap<String, String> = case
        .reviewers
        .iter()
        .map(|r| (r.id.clone(), r.name.clone()))
        .collect();
    let events: Vec<TimelineItem<'_>> = case
        .events
        .iter()
        .map(|e| timeline_item(e, &case, &names, &decision_links, false))
        .collect();
    let mut ctx = page.context(
        &format!("Chronology – {} – {}", case.reference, case.child_pseudonym),
        "cases",
    );
    // The heading is the title (the page the "Printable chronology" link opens).
    ctx.insert("summary", &summary_rows(&case));
    ctx.insert("deadlines", &deadline_rows(&case));
    ctx.insert("events", &events);
    ctx.insert("meetings", &meetings);
    ctx.insert("documents", &docs);
    ctx.insert("as_of", &page.state.today());
    ctx.insert("case", &case);
    page.render("pages/cases/print.html", &ctx)
}

async fn svg(page: Page, path: web::Path<String>) -> PageResult {
    let id = path.into_inner();
    let t = page
        .db(move |c, st, actor| timeline::for_case(c, st, actor, &id))
        .await?;
    timeline_svg::respond(&page.state, &t).map_err(|e| page.fail(e))
}

async fn deadlines(
    page: Page,
    path: web::Path<String>,
    q: web::Query<HashMap<String, String>>,
) -> PageResult {
    let id = path.into_inner();
    let format = Format::parse(q.get("format").map(String::as_str)).map_err(|e| page.fail(e))?;
    if format == Format::Json {
        return Ok(see_other(&format!("/cases/{id}#deadlines")));
    }
    page.db(move |c, st, actor| {
        let table = export::deadlines(c, st, actor, &id, format)?;
        Ok(Answer::file(table, format, st.today()))
    })
    .await?
    .respond()
    .map_err(|e| page.fail(e))
}
