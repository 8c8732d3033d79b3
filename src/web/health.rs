//! Liveness and readiness probes.

use actix_web::{get, web, HttpResponse};

use crate::db;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(healthz).service(readyz);
}

/// 200 while the process runs.
#[get("/healthz")]
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

/// 200 only when the database answers and every migration is applied.
#[get("/readyz")]
async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let pool = state.pool.clone();
    let ready = web::block(move || match pool.get() {
        Ok(mut conn) => db::is_ready(&mut conn),
        Err(_) => false,
    })
    .await
    .unwrap_or(false);
    if ready {
        HttpResponse::Ok().json(serde_json::json!({"status": "ready"}))
    } else {
        HttpResponse::ServiceUnavailable().json(serde_json::json!({"status": "not ready"}))
    }
}
