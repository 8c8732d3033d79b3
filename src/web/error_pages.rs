//! Error pages in the service's design, with nothing internal on them, and the answer to an
//! unknown path: an HTML page, or JSON under `/api`.

use actix_web::http::header::ContentType;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use tera::Context;

use super::templates::base_context;
use crate::error::AppError;
use crate::state::AppState;

/// An error page for `status`. `extra` may add `user` and `csrf_token` (for the navigation)
/// and, for a 500, `error_id` (the reference that was logged with the cause).
pub fn error_page(state: &AppState, status: StatusCode, extra: &Context) -> HttpResponse {
    let mut ctx = base_context(state);
    ctx.extend(extra.clone());
    let template = match status {
        StatusCode::NOT_FOUND => "errors/404.html",
        StatusCode::FORBIDDEN => "errors/403.html",
        StatusCode::SERVICE_UNAVAILABLE => generic(
            &mut ctx,
            "Sorry, the service is unavailable",
            "Try again later.",
        ),
        StatusCode::INSUFFICIENT_STORAGE => generic(
            &mut ctx,
            "Sorry, the document store is full",
            "The document store is full; nothing was saved. Try again later, or tell your administrator.",
        ),
        s if s.is_server_error() => "errors/500.html",
        StatusCode::TOO_MANY_REQUESTS => generic(
            &mut ctx,
            "Too many attempts",
            "Wait a few minutes, then try again.",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => generic(
            &mut ctx,
            "The file is too large",
            "Go back and choose a smaller file.",
        ),
        StatusCode::UNAUTHORIZED => generic(
            &mut ctx,
            "You need to sign in",
            "Your session has ended or you have not signed in.",
        ),
        _ => generic(
            &mut ctx,
            "Sorry, there is a problem",
            "The service could not do what you asked. Go back and try again.",
        ),
    };
    let title = if status.is_server_error() {
        "Sorry, there is a problem with the service"
    } else {
        "Sorry, there is a problem"
    };
    let body = state.templates.render(template, &ctx).unwrap_or_else(|e| {
        tracing::error!(error = %crate::telemetry::redact_debug(&e), template, "error page did not render");
        format!("<!DOCTYPE html><html lang=\"en-GB\"><title>{title}</title><h1>{title}</h1></html>")
    });
    HttpResponse::build(status)
        .content_type(ContentType::html())
        .body(body)
}

fn generic(ctx: &mut Context, heading: &str, message: &str) -> &'static str {
    ctx.insert("heading", heading);
    ctx.insert("message", message);
    "errors/generic.html"
}

/// The default service: an unknown path is a 404 page, or the JSON error under `/api`.
pub async fn not_found(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let path = req.path();
    if path == "/api" || path.starts_with("/api/") {
        AppError::NotFound.error_response()
    } else {
        error_page(&state, StatusCode::NOT_FOUND, &Context::new())
    }
}
