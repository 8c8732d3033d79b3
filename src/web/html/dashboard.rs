//! "My work" (`GET /`): the signed-in user's overdue deadlines and those due in the next ten
//! working days, most urgent first, and the cases they may see by stage. Whose deadlines are
//! whose is decided in `app::dashboard`.

use super::{Page, PageResult};
use crate::app::dashboard;

pub async fn show(page: Page) -> PageResult {
    let work = page.db(dashboard::my_work).await?;
    let mut ctx = page.context("My work", "my-work");
    ctx.insert("work", &work);
    ctx.insert("role", page.actor().role.as_str());
    ctx.insert("role_label", page.actor().role.label());
    ctx.insert("may_open_cases", &page.actor().role.may_open_cases());
    page.render("pages/dashboard.html", &ctx)
}
