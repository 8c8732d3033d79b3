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
mod metrics;
pub mod request_id;
pub mod session;
pub mod templates;

use std::net::SocketAddr;

use actix_web::dev::{Server, ServerHandle};
use actix_web::{middleware, web, App, HttpServer};

use crate::state::AppState;

/// All routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.app_data(extract::json_config())
        .configure(health::routes)
        .configure(metrics::routes)
        .configure(assets::routes)
        .configure(feeds::routes)
        .configure(api::register)
        .service(web::scope("/api").default_service(web::to(api::no_route)))
        .configure(html::routes);
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
            .wrap(middleware::from_fn(request_id::observe))
            .configure(routes)
            .default_service(web::to(error_pages::not_found))
    })
    .workers(workers)
    .shutdown_timeout(shutdown)
    // `serve` handles SIGTERM and Ctrl-C itself, so the jobs stop claiming work at once.
    .disable_signals()
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
