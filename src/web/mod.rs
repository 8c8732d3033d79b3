//! HTTP: routes, the server, and its lifecycle.

pub mod api;
pub mod assets;
pub mod error_pages;
pub mod extract;
pub mod feeds;
pub mod filters;
pub mod forms;
pub mod headers;
mod health;
pub mod html;
pub mod session;
pub mod templates;
pub mod uploads;

use std::net::SocketAddr;

use actix_web::dev::{Server, ServerHandle};
use actix_web::{middleware, web, App, HttpServer};

use crate::state::AppState;

/// All routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.app_data(extract::json_config())
        .configure(health::routes)
        .configure(assets::routes)
        .configure(feeds::routes)
        .configure(api::register)
        .service(web::scope("/api").default_service(web::to(api::no_route)))
        .configure(html::routes);
}

/// The access log: the request line (a calendar feed's secret token redacted), status, time.
fn access_log() -> middleware::Logger {
    middleware::Logger::new("%{request}xi %s %Dms")
        .custom_request_replace("request", |req| {
            let uri = req.uri();
            feeds::redacted_request_line(
                req.method().as_str(),
                uri.path_and_query().map_or(uri.path(), |p| p.as_str()),
                &format!("{:?}", req.version()),
            )
        })
        .exclude("/healthz")
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
            .wrap(headers::security_headers(https))
            .wrap(access_log())
            .configure(routes)
            .default_service(web::to(error_pages::not_found))
    })
    .workers(workers)
    .shutdown_timeout(shutdown)
    .bind(bind)?;
    let addr = *server
        .addrs()
        .first()
        .ok_or_else(|| std::io::Error::other("no address bound"))?;
    Ok(Running {
        addr,
        server: server.run(),
    })
}
