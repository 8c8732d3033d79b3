//! A case's clocks picture as `image/svg+xml`, for the API and the pages.

use actix_web::HttpResponse;

use crate::app::reports::timeline::Timeline;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::templates::render_string;

pub fn respond(state: &AppState, t: &Timeline) -> Result<HttpResponse, AppError> {
    let mut ctx = tera::Context::new();
    ctx.insert("t", t);
    let body = render_string(state, "svg/timeline.svg", &ctx)?;
    Ok(HttpResponse::Ok()
        .content_type("image/svg+xml; charset=utf-8")
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Cache-Control", "no-store"))
        .body(format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}",
            body.trim_start()
        )))
}
