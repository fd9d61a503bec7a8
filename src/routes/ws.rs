//! The WebSocket endpoints. The handshake authenticates before it accepts, in the order
//! of PROTOCOL.md: a valid WebSocket handshake, `Origin`, credentials (the first present
//! one decides), limits, membership. Every refusal is an ordinary HTTP response with the
//! JSON error body, never a 101 followed by a close.

use std::time::Instant;

use actix_web::http::header::{self, HeaderMap};
use actix_web::{web, HttpRequest, HttpResponse};
use actix_ws::AggregatedMessage;
use serde_json::json;

use crate::auth::identity::{self, auth_state, AuthState, Credential, SESSION_COOKIE};
use crate::chat::messages::GetStats;
use crate::chat::protocol::{self, ServerFrame, SUBPROTOCOL};
use crate::chat::session::{SocketIdentity, WsSession, UNAUTHENTICATED_FRAME_BYTES};
use crate::chat::slots::SlotRefused;
use crate::config::WsAuthMode;
use crate::db;
use crate::error::AppError;
use crate::limits::{Buckets, Excesses};
use crate::startup::AppState;

/// `GET /ws`: the main socket.
#[utoipa::path(get, path = "/ws", tag = "websocket",
    responses((status = 101, description = "switched to palaver.v1"), (status = 401), (status = 403), (status = 429), (status = 503)))]
pub async fn connect(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> actix_web::Result<HttpResponse> {
    accept(req, body, state, None).await
}

/// `GET /ws/conversations/{id}`: a socket bound to one conversation.
#[utoipa::path(get, path = "/ws/conversations/{id}", tag = "websocket", params(("id" = i64, Path)),
    responses((status = 101, description = "switched to palaver.v1"), (status = 401), (status = 403), (status = 404), (status = 429), (status = 503)))]
pub async fn connect_bound(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> actix_web::Result<HttpResponse> {
    let raw = path.into_inner();
    accept(req, body, state, Some(raw)).await
}

/// Steps 0–4 of the handshake, then the upgrade.
async fn accept(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
    bound: Option<String>,
) -> actix_web::Result<HttpResponse> {
    actix_http::ws::verify_handshake(req.head())?;
    if state.chat.is_shutting_down() {
        return Err(AppError::Unavailable.into());
    }
    check_origin(&req, &state)?;

    let identity = match presented_credential(&req, &state)? {
        AuthState::Proven(proven) => {
            let user = db::users::find(&state.db, proven.user_id)
                .await
                .map_err(AppError::from)?;
            let Some(user) = user else {
                state.metrics.auth_rejected("deleted_user");
                return Err(AppError::Unauthorized("invalid credentials".into()).into());
            };
            Some(SocketIdentity {
                user: user.into(),
                token_expires_at: (proven.credential == Credential::Bearer)
                    .then_some(proven.expires_at),
                login_session: proven.session_id,
            })
        }
        AuthState::Invalid(reason) => {
            state.metrics.auth_rejected(reason);
            return Err(AppError::Unauthorized("invalid credentials".into()).into());
        }
        AuthState::Anonymous if state.config.ws_auth_mode == WsAuthMode::Handshake => {
            state.metrics.auth_rejected("missing_credentials");
            return Err(AppError::Unauthorized("authentication required".into()).into());
        }
        AuthState::Anonymous => None,
    };

    let slot = match &identity {
        Some(identity) => state.chat.slots.acquire(identity.user.id),
        None => state.chat.slots.acquire_anonymous(),
    }
    .map_err(|refused| match refused {
        SlotRefused::UserFull => AppError::RateLimited {
            retry_after_secs: 5,
        },
        SlotRefused::ServerFull => AppError::Unavailable,
    })?;

    let bound = match bound {
        None => None,
        Some(raw) => {
            let not_found = || AppError::NotFound(format!("conversation {raw} not found"));
            let conversation_id = raw
                .parse::<i64>()
                .ok()
                .filter(|id| *id > 0)
                .ok_or_else(not_found)?;
            Some(conversation_id)
        }
    };
    let mut bound_last_id = None;
    if let (Some(conversation_id), Some(identity)) = (bound, &identity) {
        crate::routes::conversations::require_membership(
            &state.db,
            conversation_id,
            identity.user.id,
        )
        .await?;
        bound_last_id = db::messages::last_id(&state.db, conversation_id)
            .await
            .map_err(AppError::from)?;
    }

    let (response, session, stream) = actix_ws::handle_with_protocols(&req, body, &[SUBPROTOCOL])?;
    WsSession::start(
        state.into_inner().into(),
        session,
        stream,
        identity,
        bound,
        bound_last_id,
        slot,
    );
    Ok(response)
}

/// A handshake from a browser page of another site gets 403 (cross-site WebSocket hijacking).
fn check_origin(req: &HttpRequest, state: &AppState) -> Result<(), AppError> {
    match req.headers().get(header::ORIGIN) {
        None => Ok(()),
        Some(origin)
            if origin
                .to_str()
                .is_ok_and(|o| state.config.origin_allowed(o)) =>
        {
            Ok(())
        }
        Some(_) => Err(AppError::Forbidden("origin not allowed".into())),
    }
}

/// The first credential present decides: `Authorization`, the `bearer.` subprotocol, the
/// `token` query parameter (when allowed), the session cookie.
fn presented_credential(req: &HttpRequest, state: &AppState) -> Result<AuthState, AppError> {
    if req.headers().contains_key(header::AUTHORIZATION) {
        return Ok(auth_state(req));
    }
    if let Some(token) = subprotocol_token(req.headers())? {
        return Ok(identity::from_token(
            &state.tokens,
            &state.revoked,
            &token,
            Credential::Bearer,
        ));
    }
    if state.config.ws_query_token {
        if let Some(token) = query_token(req.query_string()) {
            return Ok(identity::from_token(
                &state.tokens,
                &state.revoked,
                &token,
                Credential::Bearer,
            ));
        }
    }
    if req.cookie(SESSION_COOKIE).is_some() {
        return Ok(auth_state(req));
    }
    Ok(AuthState::Anonymous)
}

/// The `<jwt>` of `Sec-WebSocket-Protocol: palaver.v1, bearer.<jwt>`; offering it without
/// `palaver.v1` is a bad request.
fn subprotocol_token(headers: &HeaderMap) -> Result<Option<String>, AppError> {
    let offered: Vec<&str> = headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let Some(token) = offered.iter().find_map(|p| p.strip_prefix("bearer.")) else {
        return Ok(None);
    };
    if !offered.contains(&SUBPROTOCOL) {
        return Err(AppError::BadRequest(format!(
            "bearer.<jwt> must be offered together with {SUBPROTOCOL}"
        )));
    }
    Ok(Some(token.to_string()))
}

fn query_token(query: &str) -> Option<String> {
    web::Query::<std::collections::HashMap<String, String>>::from_query(query)
        .ok()
        .and_then(|q| q.get("token").cloned())
        .filter(|t| !t.is_empty())
}

/// `GET /ws/test`: an echo socket with no authentication and no chat data, to check that
/// WebSockets pass the proxies on the way.
#[utoipa::path(get, path = "/ws/test", tag = "websocket", responses((status = 101, description = "echo socket"), (status = 403)))]
pub async fn echo(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> actix_web::Result<HttpResponse> {
    actix_http::ws::verify_handshake(req.head())?;
    if state.chat.is_shutting_down() {
        return Err(AppError::Unavailable.into());
    }
    check_origin(&req, &state)?;
    let slot = state
        .chat
        .slots
        .acquire_anonymous()
        .map_err(|_| AppError::Unavailable)?;
    let (response, mut session, stream) =
        actix_ws::handle_with_protocols(&req, body, &[SUBPROTOCOL])?;
    let mut stream = stream
        .max_frame_size(UNAUTHENTICATED_FRAME_BYTES)
        .aggregate_continuations()
        .max_continuation_size(UNAUTHENTICATED_FRAME_BYTES);
    let bucket = Buckets::<()>::new(
        state.config.rate_limit_per_sec,
        state.config.rate_limit_burst,
    );
    let (heartbeat, client_timeout) =
        (state.config.heartbeat_interval, state.config.client_timeout);
    let mut shutdown = state.chat.shutdown_signal();
    actix_web::rt::spawn(async move {
        let _slot = slot;
        let mut excesses = Excesses::new();
        let mut pings = actix_web::rt::time::interval_at(
            actix_web::rt::time::Instant::now() + heartbeat,
            heartbeat,
        );
        let mut last_seen = Instant::now();
        let closing = loop {
            let item = tokio::select! {
                item = stream.recv() => item,
                _ = pings.tick() => {
                    if last_seen.elapsed() > client_timeout {
                        break Some((4000, "heartbeat timeout"));
                    }
                    if session.ping(b"").await.is_err() {
                        break None;
                    }
                    continue;
                }
                _ = shutdown.wait_for(|stopping| *stopping) => break Some((1001, "server shutting down")),
            };
            let Some(item) = item else { break None };
            last_seen = Instant::now();
            let sent = match item {
                Ok(AggregatedMessage::Text(text)) => match bucket.take(()) {
                    Ok(()) => session.text(text).await,
                    Err(_) if excesses.record() => {
                        break Some((4029, "rate limit exceeded repeatedly"))
                    }
                    Err(retry) => {
                        let error =
                            ServerFrame::error("rate_limited", format!("retry in {retry} s"), None);
                        session.text(error.encode()).await
                    }
                },
                Ok(AggregatedMessage::Binary(bytes)) => session.binary(bytes).await,
                Ok(AggregatedMessage::Ping(bytes)) => session.pong(&bytes).await,
                Ok(AggregatedMessage::Pong(_)) => Ok(()),
                Ok(AggregatedMessage::Close(_)) => break Some((1000, "bye")),
                Err(actix_ws::ProtocolError::Overflow) => break Some((1009, "frame too large")),
                Err(_) => break Some((1007, "invalid frame")),
            };
            if sent.is_err() {
                break None;
            }
        };
        if let Some((code, why)) = closing {
            let reason = actix_ws::CloseReason {
                code: code.into(),
                description: Some(why.to_string()),
            };
            let _ = session.close(Some(reason)).await;
        }
    });
    Ok(response)
}

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

/// `GET /ws/health`.
#[utoipa::path(get, path = "/ws/health", tag = "websocket", responses((status = 200, description = "socket side up")))]
pub async fn ws_health(state: web::Data<AppState>) -> HttpResponse {
    let (connections, _) = state.chat.slots.counts();
    HttpResponse::Ok().json(json!({"status": "ok", "connections": connections}))
}

/// `GET /ws/stats`: aggregate counters only.
#[utoipa::path(get, path = "/ws/stats", tag = "websocket", responses((status = 200, description = "aggregate counters"), (status = 503)))]
pub async fn ws_stats(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let stats = state
        .chat
        .server
        .send(GetStats)
        .await
        .map_err(|_| AppError::Unavailable)?;
    Ok(HttpResponse::Ok().json(json!({
        "connections": stats.connections,
        "authenticated": stats.authenticated,
        "rooms": stats.rooms,
        "messages_routed": stats.messages_routed,
        "uptime_secs": state.started.elapsed().as_secs(),
    })))
}

/// `GET /ws/schema.json`: generated from the frame types themselves.
#[utoipa::path(get, path = "/ws/schema.json", tag = "websocket", responses((status = 200, description = "JSON Schema of every frame")))]
pub async fn ws_schema() -> HttpResponse {
    HttpResponse::Ok().json(protocol::schema())
}
