//! Health and metrics: what a load balancer and Prometheus ask.

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::state::AppState;

/// `GET /health` and `GET /health/ready`: 200 while the database answers, else 503. With
/// `REDIS_URL` the body also says whether the cluster bus is up; a degraded bus alone
/// keeps the answer 200, so a load balancer does not drain every node at once when Redis
/// goes away (each node still serves its own sockets).
#[utoipa::path(get, path = "/health", tag = "service", responses((status = 200, description = "database reachable"), (status = 503, description = "database unavailable")))]
pub async fn health(state: web::Data<AppState>) -> HttpResponse {
    let database = state.db.ping().await;
    let mut body = match &database {
        Ok(()) => json!({"status": "ok", "database": "ok"}),
        Err(e) => {
            log::warn!("readiness check failed: {e}");
            json!({"status": "unavailable", "database": "unavailable"})
        }
    };
    if let Some(bus) = &state.bus {
        body["bus"] = json!(if bus.is_up() { "ok" } else { "degraded" });
    }
    match database {
        Ok(()) => HttpResponse::Ok().json(body),
        Err(_) => HttpResponse::ServiceUnavailable().json(body),
    }
}

/// `GET /health/ready`, documented apart; served by [`health`].
#[utoipa::path(get, path = "/health/ready", tag = "service", responses((status = 200, description = "ready"), (status = 503, description = "database unavailable")))]
#[allow(dead_code)] // Exists only to describe the route in the OpenAPI document.
fn ready_doc() {}

/// `GET /health/live`: 200 while the process serves, whatever the database does.
#[utoipa::path(get, path = "/health/live", tag = "service", responses((status = 200, description = "serving")))]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// `GET /metrics`: Prometheus text format.
#[utoipa::path(get, path = "/metrics", tag = "service", responses((status = 200, description = "Prometheus text", content_type = "text/plain")))]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render(state.chat.slots.counts().0))
}
