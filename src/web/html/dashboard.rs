//! "My work" (`GET /`, `?status=overdue|due_today|due_soon`, `?page=N`): the signed-in user's
//! overdue deadlines and those due in the next ten working days, most urgent first, 50 a
//! page, counted by status, and the cases they may see by stage. Whose deadlines are whose is
//! decided in `app::dashboard`.

use std::collections::HashMap;

use actix_web::web;

use super::{Page, PageResult};
use crate::app::dashboard::{self, Show};

pub async fn show(page: Page, q: web::Query<Vec<(String, String)>>) -> PageResult {
    let q: HashMap<String, String> = q.into_inner().into_iter().collect();
    let show = Show::parse(
        q.get("status").map(String::as_str),
        q.get("page").map(String::as_str),
    )
    .map_err(|e| page.fail(e))?;
    let work = page
        .db(move |c, st, actor| dashboard::my_work(c, st, actor, show))
        .await?;
    let mut ctx = page.context("My work", "my-work");
    let prefix = match work.status {
        Some(s) => format!("/?status={}&page=", s.as_str()),
        None => "/?page=".to_string(),
    };
    ctx.insert("page_prefix", &prefix);
    ctx.insert("work", &work);
    ctx.insert("role", page.actor().role.as_str());
    ctx.insert("role_label", page.actor().role.label());
    ctx.insert("may_open_cases", &page.actor().role.may_open_cases());
    page.render("pages/dashboard.html", &ctx)
}
