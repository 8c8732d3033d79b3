//! `GET /metrics`: the Prometheus text exposition, for `metrics.allowed_addresses` (the
//! connecting address; loopback by default) or with `Authorization: Bearer <metrics.token>`.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use subtle::ConstantTimeEq;

use crate::error::AppError;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/metrics", web::get().to(metrics));
}

fn allowed(req: &HttpRequest, state: &AppState) -> bool {
    let m = &state.settings.metrics;
    let peer = req.peer_addr().map(|a| a.ip());
    if peer.is_some_and(|ip| {
        m.allowed_addresses.iter().any(|a| {
            a.parse::<std::net::IpAddr>()
                .is_ok_and(|allowed| allowed == ip)
        })
    }) {
        return true;
    }
    let Ok(Some(token)) = m.bearer_token() else {
        return false;
    };
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|given| bool::from(given.trim().as_bytes().ct_eq(token.as_bytes())))
}

async fn metrics(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    if !allowed(&req, &state) {
        return Err(AppError::Forbidden(
            "metrics are served only to metrics.allowed_addresses or with metrics.token".into(),
        ));
    }
    let figures = state
        .db(|c, st| Ok(crate::metrics::database_figures(c, st.now())?))
        .await
        .ok();
    let body = state.metrics.render(state.pool.state(), figures);
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(body))
}
