//! The public HTTP endpoints about sockets: the settings a client needs, the health and
//! counters of the live side, and the JSON Schema of every frame.

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::chat::messages::GetStats;
use crate::chat::protocol::{self, SUBPROTOCOL};
use crate::config::WsAuthMode;
use crate::error::AppError;
use crate::state::AppState;

/// `GET /ws/config`: what a client needs to connect and stay connected.
#[utoipa::path(get, path = "/ws/config", tag = "websocket", responses((status = 200, description = "socket settings")))]
pub async fn ws_config(state: web::Data<AppState>) -> HttpResponse {
    let config = &state.config;
    let mut modes = vec!["bearer", "subprotocol"];
    if config.ws_query_token {
        modes.push("query");
    }
    modes.push("cookie");
    if config.ws_auth_mode == WsAuthMode::HandshakeOrFirstMessage {
        modes.push("first_message");
    }
    HttpResponse::Ok().json(json!({
        "heartbeat_interval_ms": config.heartbeat_interval.as_millis() as u64,
        "client_timeout_ms": config.client_timeout.as_millis() as u64,
        "first_message_timeout_ms": config.first_message_timeout.as_millis() as u64,
        "max_frame_bytes": config.max_frame_bytes,
        "max_content_chars": config.max_content_chars,
        "auth_modes": modes,
        "protocol": SUBPROTOCOL,
    }))
}

/// `GET /ws/health`: the live side is up, and how many sockets it holds.
#[utoipa::path(get, path = "/ws/health", tag = "websocket", responses((status = 200, description = "socket side up")))]
pub async fn ws_health(state: web::Data<AppState>) -> HttpResponse {
    let (connections, _) = state.chat.slots.counts();
    HttpResponse::Ok().json(json!({"status": "ok", "connections": connections}))
}

/// `GET /ws/stats`: aggregate counters only.
#[utoipa::path(get, path = "/ws/stats", tag = "websocket", responses((status = 200, description = "aggregate counters"), (status = 503)))]
pub async fn ws_stats(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let stats = state.chat.server.send(GetStats).await.map_err(|e| {
        log::error!("the chat server did not answer /ws/stats: {e}");
        AppError::Unavailable
    })?;
    let (connections, authenticated) = state.chat.slots.counts();
    let mut body = json!({
        "connections": connections,
        "authenticated": authenticated,
        "rooms": stats.rooms,
        "messages_routed": stats.messages_routed,
        "uptime_secs": state.started.elapsed().as_secs(),
    });
    if state.bus.is_some() {
        // Every node's authenticated sockets, as the bus last told, next to this node's.
        body["cluster"] = json!({"authenticated": state.chat.slots.cluster_authenticated()});
    }
    Ok(HttpResponse::Ok().json(body))
}

/// `GET /ws/schema.json`: generated from the frame types themselves.
#[utoipa::path(get, path = "/ws/schema.json", tag = "websocket", responses((status = 200, description = "JSON Schema of every frame")))]
pub async fn ws_schema() -> HttpResponse {
    HttpResponse::Ok().json(protocol::schema())
}
