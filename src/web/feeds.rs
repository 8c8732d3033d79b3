//! `GET /feeds/<token>.ics`: a user's secret calendar feed. The token is the only credential,
//! so it is never logged (see the access log format in `web::bind`).

use actix_web::http::header;
use actix_web::{web, HttpResponse};

use crate::app::feeds;
use crate::error::AppError;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/feeds/{file}", web::get().to(feed));
}

async fn feed(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let Some(token) = path.into_inner().strip_suffix(".ics").map(str::to_string) else {
        return Ok(not_found());
    };
    let ics = state
        .db(move |c, st| feeds::calendar_for_token(c, st, &token))
        .await?;
    Ok(match ics {
        Some(body) => HttpResponse::Ok()
            .content_type("text/calendar; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "private, no-cache"))
            .insert_header((header::REFERRER_POLICY, "no-referrer"))
            .insert_header(("X-Robots-Tag", "noindex"))
            .body(body),
        None => not_found(),
    })
}

fn not_found() -> HttpResponse {
    HttpResponse::NotFound()
        .content_type("text/plain; charset=utf-8")
        .body("No such calendar feed: it may have been revoked or replaced.\n")
}

/// The request line for the access log, with a feed token replaced by `[token]`.
pub fn redacted_request_line(method: &str, path_and_query: &str, version: &str) -> String {
    // Secrets that live in paths: calendar feed tokens and the first-run setup token.
    let path = if path_and_query.starts_with("/feeds/") {
        "/feeds/[token].ics"
    } else if path_and_query.starts_with("/setup/") {
        "/setup/[token]"
    } else if path_and_query.starts_with("/invitation/") {
        "/invitation/[token]"
    } else if path_and_query.starts_with("/reset-password/") {
        "/reset-password/[token]"
    } else if path_and_query.starts_with("/sign-in/sso/callback?") {
        // The provider's code and state.
        "/sign-in/sso/callback?[redacted]"
    } else {
        path_and_query
    };
    format!("{method} {path} {version}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feed_tokens_never_reach_the_log() {
        let token = "ab".repeat(32);
        let line = redacted_request_line("GET", &format!("/feeds/{token}.ics?x=1"), "HTTP/1.1");
        assert_eq!(line, "GET /feeds/[token].ics HTTP/1.1");
        assert!(!line.contains(&token));
        let line = redacted_request_line("POST", &format!("/setup/{token}"), "HTTP/1.1");
        assert_eq!(line, "POST /setup/[token] HTTP/1.1");
        for (path, shown) in [
            (format!("/invitation/{token}"), "/invitation/[token]"),
            (
                format!("/reset-password/{token}"),
                "/reset-password/[token]",
            ),
            (
                format!("/sign-in/sso/callback?code={token}&state=x"),
                "/sign-in/sso/callback?[redacted]",
            ),
        ] {
            let line = redacted_request_line("GET", &path, "HTTP/1.1");
            assert_eq!(line, format!("GET {shown} HTTP/1.1"));
        }
        assert_eq!(
            redacted_request_line("GET", "/api/v1/cases?page=2", "HTTP/1.1"),
            "GET /api/v1/cases?page=2 HTTP/1.1"
        );
    }
}
