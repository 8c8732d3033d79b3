//! The outbox (`/admin/outbox`, system administrators only): how many messages are queued,
//! sent and failed; the messages of a status with their last error, newest first, 50 a page; one message in full
//! (`/admin/outbox/{id}`) with a button to send a failed one again; why a cancelled one was
//! not sent; and a test email.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::web;
use serde_json::{json, Value};

use super::form::{for_page, Outcome, Posted};
use super::{see_other, FormData, HtmlError, Page, PageResult};
use crate::app::outbox::{self, OutboxEntry, OutboxKind, OutboxStatus};
use crate::domain::input::FieldError;
use crate::domain::roles::Role;
use crate::error::AppError;
use crate::web::session::new_form_id;

/// Messages on a page, newest first.
const PER_PAGE: i64 = 50;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/outbox", web::get().to(list))
        .route("/admin/outbox/test", web::post().to(test_email))
        .route("/admin/outbox/{id}", web::get().to(show))
        .route("/admin/outbox/{id}/retry", web::post().to(retry));
}

fn admin_only(page: &Page) -> Result<(), HtmlError> {
    page.require(
        page.actor().role == Role::Admin,
        "only system administrators see the outbox",
    )
}

fn status_label(status: &str) -> &'static str {
    status
        .parse::<OutboxStatus>()
        .map_or("Unknown", |s| s.label())
}

fn kind_label(kind: &str) -> &'static str {
    kind.parse::<OutboxKind>().map_or("Email", |k| k.label())
}

/// A message as the pages show it.
fn entry_value(e: &OutboxEntry) -> Value {
    json!({
        "id": e.id,
        "href": format!("/admin/outbox/{}", e.id),
        "status": e.status,
        "status_label": status_label(&e.status),
        "status_colour": match e.status.as_str() {
            "sent" => "green",
            "failed" => "red",
            "cancelled" => "grey",
            _ => "blue",
        },
        "kind_label": kind_label(&e.kind),
        "recipient_name": e.recipient_name,
        "to_address": e.to_address,
        "subject": e.subject,
        "case_reference": e.case_reference,
        "attempts": e.attempts,
        "next_attempt_at": (e.status == OutboxStatus::Queued.as_str()).then_some(e.next_attempt_at),
        "last_error": e.last_error,
        "cancelled_reason": e.cancelled_reason,
        "created_at": e.created_at,
        "sent_at": e.sent_at,
    })
}

async fn render_list(
    page: &Page,
    status: StatusCode,
    filter: Option<OutboxStatus>,
    number: i64,
    form: &FormData,
    errors: &[FieldError],
) -> PageResult {
    let (counts, mut messages) = page
        .db(move |c, st, actor| {
            Ok((
                outbox::counts(c, actor, st.now())?,
                outbox::list(c, actor, st.now(), filter, (number, PER_PAGE))?,
            ))
        })
        .await?;
    // Newest first; messages written together in the same order on every backend.
    messages.sort_by(|a, b| {
        b.created_at
            .cmp(&a.created_at)
            .then_with(|| a.case_reference.cmp(&b.case_reference))
            .then_with(|| a.subject.cmp(&b.subject))
            .then_with(|| a.to_address.cmp(&b.to_address))
            .then_with(|| a.id.cmp(&b.id))
    });
    let total: i64 = counts.values().sum();
    let mut tabs = vec![json!({
        "text": "All", "count": total, "href": "/admin/outbox", "current": filter.is_none(),
    })];
    for s in OutboxStatus::ALL {
        tabs.push(json!({
            "text": s.label(),
            "count": counts.get(s.as_str()).copied().unwrap_or(0),
            "href": format!("/admin/outbox?status={}", s.as_str()),
            "current": filter == Some(*s),
        }));
    }
    let shown_total = filter.map_or(total, |s| counts.get(s.as_str()).copied().unwrap_or(0));
    let heading = match filter {
        None => "All messages".to_string(),
        Some(s) => format!("{} messages", s.label()),
    };
    let mut ctx = page.context("Outbox", "outbox");
    ctx.insert("tabs", &tabs);
    ctx.insert("heading", &heading);
    ctx.insert("filter", &filter.map(|s| s.as_str()));
    ctx.insert(
        "messages",
        &messages.iter().map(entry_value).collect::<Vec<_>>(),
    );
    let pages = ((shown_total + PER_PAGE - 1) / PER_PAGE).max(1);
    let first = (number - 1) * PER_PAGE + 1;
    ctx.insert("shown_total", &shown_total);
    ctx.insert("page", &number);
    ctx.insert("pages", &pages);
    ctx.insert("first", &first);
    ctx.insert("last", &(first - 1 + messages.len() as i64));
    ctx.insert(
        "page_prefix",
        &match filter {
            Some(s) => format!("/admin/outbox?status={}&page=", s.as_str()),
            None => "/admin/outbox?page=".to_string(),
        },
    );
    ctx.insert("form", &form.values(&[]));
    ctx.insert("errors", errors);
    let form_id = match form.get("form_id") {
        "" => new_form_id(),
        id => id.to_string(),
    };
    ctx.insert("form_id", &form_id);
    page.render_status(status, "pages/admin/outbox.html", &ctx)
}

async fn list(page: Page, q: web::Query<HashMap<String, String>>) -> PageResult {
    admin_only(&page)?;
    let filter = match q.get("status").map(|s| s.trim()).filter(|s| !s.is_empty()) {
        Some(s) => Some(
            s.parse::<OutboxStatus>()
                .map_err(|m| page.fail(AppError::bad_request("status", m)))?,
        ),
        None => None,
    };
    let (number, _) = crate::app::cases::trail::parse_paging(
        &q.iter()
            .filter(|(k, _)| k.as_str() == "page")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        PER_PAGE,
    )
    .map_err(|e| page.fail(e))?;
    render_list(
        &page,
        StatusCode::OK,
        filter,
        number,
        &FormData::default(),
        &[],
    )
    .await
}

/// Queues a test email; the delivery job sends it like any other message.
async fn test_email(posted: Posted) -> PageResult {
    let Posted { page, form } = &posted;
    admin_only(page)?;
    posted
        .once("/admin/outbox", async || {
            let to = form.get("to").trim().to_string();
            let errors = if to.is_empty() {
                vec![FieldError::new("to", "Enter an email address")]
            } else {
                let queued = page
                    .db(move |c, st, actor| outbox::queue_test_email(c, st, actor, &to))
                    .await;
                match queued {
                    Ok(entry) => {
                        let to = format!("/admin/outbox/{}?queued=1", entry.id);
                        return Ok(Outcome::Redirect(to));
                    }
                    Err(e) if matches!(e.error(), AppError::Invalid(_)) => vec![FieldError::new(
                        "to",
                        "Enter an email address in the correct format, like name@example.org",
                    )],
                    Err(e) => return Err(e),
                }
            };
            let errors = for_page(errors, &["to".to_string()]);
            let again = render_list(
                page,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                1,
                form,
                &errors,
            )
            .await?;
            Ok(Outcome::Again(again))
        })
        .await
}

async fn show(
    page: Page,
    path: web::Path<String>,
    q: web::Query<HashMap<String, String>>,
) -> PageResult {
    admin_only(&page)?;
    let id = path.into_inner();
    let m = page
        .db(move |c, st, actor| outbox::get(c, actor, st.now(), &id))
        .await?;
    let banner = if q.contains_key("queued") {
        Some(json!({ "heading": "Test email queued",
            "text": "The delivery job sends it shortly; this page shows when it has gone." }))
    } else if q.contains_key("retried") {
        Some(json!({ "heading": "The message has been queued again",
            "text": "The delivery job sends it shortly, with a fresh set of attempts." }))
    } else {
        None
    };
    let mut ctx = page.context(&m.entry.subject, "outbox");
    ctx.insert("message", &entry_value(&m.entry));
    ctx.insert("body_text", &m.body_text);
    ctx.insert(
        "retention_days",
        &page.state.settings.jobs.sent_body_retention_days,
    );
    ctx.insert(
        "may_retry",
        &(m.entry.status != OutboxStatus::Sent.as_str()),
    );
    ctx.insert("banner", &banner);
    page.render("pages/admin/outbox_message.html", &ctx)
}

/// Queues a failed (or waiting) message again, now, with a fresh set of attempts.
async fn retry(posted: Posted, path: web::Path<String>) -> PageResult {
    let page = &posted.page;
    admin_only(page)?;
    let id = path.into_inner();
    let target = id.clone();
    page.db(move |c, st, actor| outbox::retry(c, actor, st.now(), &target))
        .await?;
    Ok(see_other(&format!("/admin/outbox/{id}?retried=1")))
}
