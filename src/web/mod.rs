//! HTTP: routes, the server, and its lifecycle.

pub mod api;
pub mod assets;
pub mod download;
pub mod error_pages;
pub mod extract;
pub mod feeds;
pub mod filters;
pub mod forms;
pub mod headers;
mod health;
pub mod html;
mod metrics;
pub mod request_id;
pub mod session;
pub mod templates;
pub mod timeline_svg;
pub mod uploads;

use std::net::SocketAddr;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServerHandle, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{middleware, web, App, HttpServer, ResponseError};

use crate::error::AppError;
use crate::state::AppState;

/// All routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.app_data(extract::json_config())
        .configure(health::routes)
        .configure(metrics::routes)
        .configure(assets::routes)
        .configure(feeds::routes)
        .configure(api::register)
        .configure(html::routes);
}

/// Percent-decodes a URL part (invalid escapes are kept as they are).
fn percent_decoded(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The field of the request line holding a control character: `path`, or a query
/// parameter's name. PostgreSQL cannot store a NUL, and no id or filter holds one.
fn control_character_in(req: &ServiceRequest) -> Option<String> {
    let path = percent_decoded(req.path());
    if path.chars().any(char::is_control) {
        return Some("path".into());
    }
    url::form_urlencoded::parse(req.query_string().as_bytes()).find_map(|(k, v)| {
        let bad = crate::domain::input::check_text(&k)
            .and_then(|()| crate::domain::input::check_text(&v));
        bad.is_err().then(|| k.into_owned())
    })
}

/// Before a request: a control character in the path or the query is a 422 naming it (as
/// JSON under /api, as a page elsewhere). After it: a refusal that a page marked for the
/// audit trail (CSRF, Origin, a role that may not open the page) is written to it.
async fn refusal_audit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    if let Some(field) = control_character_in(&req) {
        let error = AppError::invalid(field, "must not contain control characters");
        let resp = match &state {
            Some(st) if !req.path().starts_with("/api/") => {
                html::HtmlError::new(st, None, error).error_response()
            }
            _ => error.error_response(),
        };
        return Ok(req.into_response(resp).map_into_right_body());
    }
    let method = req.method().to_string();
    let path = feeds::redacted_request_line("", req.path(), "");
    let res = next.call(req).await?;
    let refusal = res.response().extensions().get::<html::Refusal>().cloned();
    if let (Some(r), Some(state)) = (refusal, state) {
        let written = state
            .db(move |c, st| {
                crate::app::refusals::refuse_as(
                    c,
                    st.now(),
                    r.actor.as_ref(),
                    r.action,
                    &r.reason,
                    None,
                    serde_json::json!({ "method": method, "path": path.trim() }),
                )
            })
            .await;
        if let Err(e) = written {
            tracing::error!(error = %crate::telemetry::redact(&e.to_string()), "could not audit a refusal");
        }
    }
    Ok(res.map_into_left_body())
}

/// A bound, not yet awaited server.
pub struct Running {
    pub addr: SocketAddr,
    pub server: Server,
}

impl Running {
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }
}

/// Binds the HTTP server; SIGTERM and Ctrl-C let in-flight requests finish.
pub fn bind(state: AppState, bind: &str) -> std::io::Result<Running> {
    start(state, Address::Bind(bind))
}

/// Serves on a listener already bound (tests that must know the port before the settings are
/// made: the single sign-on callback address is in them).
pub fn listen(state: AppState, listener: std::net::TcpListener) -> std::io::Result<Running> {
    start(state, Address::Listener(listener))
}

enum Address<'a> {
    Bind(&'a str),
    Listener(std::net::TcpListener),
}

fn start(state: AppState, address: Address<'_>) -> std::io::Result<Running> {
    let workers = match state.settings.server.workers {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
        n => n,
    };
    let shutdown = state.settings.server.shutdown_timeout_secs;
    let https = state.settings.is_https();
    let data = web::Data::new(state);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .wrap(middleware::from_fn(refusal_audit))
            .wrap(headers::security_headers(https))
            .wrap(middleware::from_fn(request_id::observe))
            .configure(routes)
            .default_service(web::to(error_pages::not_found))
    })
    .workers(workers)
    .shutdown_timeout(shutdown)
    // `serve` handles SIGTERM and Ctrl-C itself, so the jobs stop claiming work at once.
    .disable_signals();
    let server = match address {
        Address::Bind(bind) => server.bind(bind)?,
        Address::Listener(listener) => server.listen(listener)?,
    };
    let addr = *server
        .addrs()
        .first()
        .ok_or_else(|| std::io::Error::other("no address bound"))?;
    Ok(Running {
        addr,
        server: server.run(),
    })
}
