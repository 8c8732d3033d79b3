//! Every request gets an id: the `X-Request-Id` a trusted proxy sent (`server.trusted_proxies`),
//! or a new one. It is returned in the `X-Request-Id` header, every log line of the request
//! carries it (a tracing span; `AppState::db` re-enters the span on the blocking threads), and a
//! 500 shows it as the reference to quote. The same middleware writes the access log line and
//! counts the request for `/metrics` by its route pattern.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, Error};
use tracing::Instrument;

use crate::state::AppState;

pub const HEADER: &str = "x-request-id";

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being answered, if any.
pub fn current() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// A proxy's id is kept when it is short and plain.
fn acceptable(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

fn request_id(req: &ServiceRequest, trusted_proxies: &[String]) -> String {
    let peer = req
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    if trusted_proxies.iter().any(|p| p == &peer) {
        if let Some(id) = req
            .headers()
            .get(HEADER)
            .and_then(|v| v.to_str().ok())
            .filter(|v| acceptable(v))
        {
            return id.to_string();
        }
    }
    uuid::Uuid::new_v4().simple().to_string()
}

/// Paths not written to the access log (probes and scrapes); they are still counted.
fn quiet(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz" | "/metrics")
}

pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let trusted = state
        .as_ref()
        .map(|s| s.settings.server.trusted_proxies.clone())
        .unwrap_or_default();
    let id = request_id(&req, &trusted);
    let span = tracing::info_span!("request", id = %id);
    let method = req.method().to_string();
    let uri = req.uri().clone();
    let version = format!("{:?}", req.version());
    // (The request must not be cloned before routing: the router writes into it.)
    let answered = REQUEST_ID
        .scope(id.clone(), next.call(req).instrument(span.clone()))
        .await;
    let elapsed = started.elapsed();
    let (status, route) = match &answered {
        Ok(res) => (
            res.status().as_u16(),
            res.request()
                .match_pattern()
                .unwrap_or_else(|| "unmatched".into()),
        ),
        // Handlers answer errors themselves; only a failing middleware gets here.
        Err(e) => (
            e.as_response_error().status_code().as_u16(),
            "unmatched".to_string(),
        ),
    };
    if let Some(state) = &state {
        state
            .metrics
            .observe_request(&method, &route, status, elapsed.as_secs_f64());
    }
    if !quiet(uri.path()) {
        let line = super::feeds::redacted_request_line(
            &method,
            uri.path_and_query().map_or(uri.path(), |p| p.as_str()),
            &version,
        );
        span.in_scope(|| {
            tracing::info!(
                target: "access",
                status,
                ms = elapsed.as_millis() as u64,
                "{line}"
            )
        });
    }
    let mut res = answered?;
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(HeaderName::from_static(HEADER), v);
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_short_ids_are_taken_from_a_proxy() {
        assert!(acceptable("4bf92f3577b34da6a3ce929d0e0e4736"));
        assert!(acceptable("req-1.2:3_x"));
        assert!(!acceptable(""));
        assert!(!acceptable("a b"));
        assert!(!acceptable("x\u{e9}"));
        assert!(!acceptable(&"a".repeat(129)));
    }
}
