//! Liveness and readiness probes.

use actix_web::http::header;
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

/// 200 only when the database answers and every migration is applied; always within a second
/// (503 at once while the database is known to be down).
#[get("/readyz")]
async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let ready = !state.db_health.is_down() && {
        let pool = state.pool.clone();
        let check = web::block(move || match pool.get_timeout(db::health::PROBE_TIMEOUT) {
            Ok(mut conn) => db::is_ready(&mut conn),
            Err(_) => false,
        });
        matches!(
            tokio::time::timeout(db::health::PROBE_TIMEOUT, check).await,
            Ok(Ok(true))
        )
    };
    if ready {
        HttpResponse::Ok().json(serde_json::json!({"status": "ready"}))
    } else {
        HttpResponse::ServiceUnavailable()
            .insert_header((
                header::RETRY_AFTER,
                crate::error::RETRY_AFTER_SECS.to_string(),
            ))
            .json(serde_json::json!({"status": "not ready"}))
    }
}
