//! Health and metrics: what a load balancer and Prometheus ask.

use actix_web::{web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::state::AppState;

/// The body of `/health` and `/health/ready`.
#[derive(Serialize, ToSchema)]
pub struct Readiness {
    /// `ok` while the database answers, else `unavailable`.
    #[schema(pattern = "^(ok|unavailable)$")]
    pub status: &'static str,
    /// The database alone: `ok` or `unavailable`.
    #[schema(pattern = "^(ok|unavailable)$")]
    pub database: &'static str,
    /// With `REDIS_URL` only: `ok`, or `degraded` while the cluster bus is down.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^(ok|degraded)$")]
    pub bus: Option<&'static str>,
}

/// The body of `/health/live`.
#[derive(Serialize, ToSchema)]
pub struct Liveness {
    /// Always `ok`.
    pub status: &'static str,
}

/// `GET /health` and `GET /health/ready`: readiness, 200 while the database answers, else 503.
///
/// With `REDIS_URL` the body also says whether the cluster bus is up; a degraded bus alone
/// keeps the answer 200, so a load balancer does not drain every node at once when Redis
/// goes away (each node still serves its own sockets).
#[utoipa::path(get, path = "/health", tag = "service", responses(
    (status = 200, body = Readiness, description = "the database answers"),
    (status = 503, body = Readiness, description = "the database cannot be reached")))]
pub async fn health(state: web::Data<AppState>) -> HttpResponse {
    let database = state.db.ping().await;
    let reached = match &database {
        Ok(()) => "ok",
        Err(e) => {
            log::warn!("readiness check failed: {e}");
            "unavailable"
        }
    };
    let body = Readiness {
        status: reached,
        database: reached,
        bus: state
            .bus
            .as_ref()
            .map(|bus| if bus.is_up() { "ok" } else { "degraded" }),
    };
    match database {
        Ok(()) => HttpResponse::Ok().json(body),
        Err(_) => HttpResponse::ServiceUnavailable().json(body),
    }
}

/// `GET /health/ready`: readiness, as `/health`.
///
/// Served by the same handler as `/health`; documented apart.
#[utoipa::path(get, path = "/health/ready", tag = "service", responses(
    (status = 200, body = Readiness, description = "ready: the database answers"),
    (status = 503, body = Readiness, description = "the database cannot be reached")))]
#[allow(dead_code)] // Exists only to describe the route in the OpenAPI document.
fn ready_doc() {}

/// `GET /health/live`: 200 while the process serves, whatever the database does.
#[utoipa::path(get, path = "/health/live", tag = "service", responses((status = 200, body = Liveness, description = "serving")))]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(Liveness { status: "ok" })
}

/// `GET /metrics`: Prometheus text format.
///
/// Served here in development and test. With `METRICS_BIND` it is served on that address
/// instead; in staging and production it is served there or not at all.
#[utoipa::path(get, path = "/metrics", tag = "service", responses(
    (status = 200, description = "Prometheus text", content_type = "text/plain"),
    (status = 404, description = "not served on this address: METRICS_BIND gives it one of its own, and staging and production serve it nowhere else")))]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render(state.chat.slots.counts().0))
}
