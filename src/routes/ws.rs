//! The WebSocket handshake of `/ws` and `/ws/conversations/{id}`. It authenticates before
//! it accepts, in this order: a valid WebSocket handshake, `Origin`, credentials (the
//! first present one decides), limits, membership. Every refusal is an ordinary HTTP
//! response with the JSON error body, never a 101 followed by a close.

use actix_web::http::header::{self, HeaderMap};
use actix_web::{web, HttpRequest, HttpResponse};

use crate::auth::identity::{self, auth_state, AuthState, Credential, SESSION_COOKIE};
use crate::chat::protocol::SUBPROTOCOL;
use crate::chat::session::{Accepted, Mode, SocketIdentity, WsSession};
use crate::chat::slots::SlotRefused;
use crate::config::WsAuthMode;
use crate::domain::ConversationId;
use crate::error::{AppError, DbContext};
use crate::state::AppState;

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

    let identity = match presented_credential(&req, &state).await? {
        AuthState::Proven(proven) => {
            let user = state
                .sessions
                .user(&state.db, proven.user_id)
                .await
                .context("reading the handshake's user")?;
            let Some(user) = user else {
                state.metrics.auth_rejected("deleted_user");
                return Err(AppError::Unauthorized("invalid credentials".into()).into());
            };
            Some(SocketIdentity {
                user,
                user_id: proven.user_id,
                token_expires_at: (proven.credential == Credential::Bearer)
                    .then_some(proven.expires_at),
                login_session: proven.session_id,
            })
        }
        AuthState::Invalid(reason) => {
            state.metrics.auth_rejected(reason);
            return Err(AppError::Unauthorized("invalid credentials".into()).into());
        }
        AuthState::Unavailable => return Err(AppError::Unavailable.into()),
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

    // A path that is not an id names no conversation: 404, as for one the caller is not in.
    let bound = bound
        .map(|raw| {
            ConversationId::parse("id", &raw)
                .map_err(|_| AppError::NotFound(format!("conversation {raw} not found")))
        })
        .transpose()?;
    let mut bound_position = None;
    if let (Some(conversation_id), Some(identity)) = (bound, &identity) {
        bound_position = Some(
            state
                .service
                .join(conversation_id, identity.user_id)
                .await?,
        );
    }

    let accepted = Accepted {
        mode: Mode::Chat,
        identity,
        bound: bound.map(ConversationId::get),
        bound_position,
        slot,
    };
    WsSession::accept(state.chat.clone(), &req, body, accepted).await
}

/// A handshake from a browser page of another site gets 403 (cross-site WebSocket hijacking).
pub(super) fn check_origin(req: &HttpRequest, state: &AppState) -> Result<(), AppError> {
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
async fn presented_credential(req: &HttpRequest, state: &AppState) -> Result<AuthState, AppError> {
    if req.headers().contains_key(header::AUTHORIZATION) {
        return Ok(auth_state(req));
    }
    let token = match subprotocol_token(req.headers())? {
        Some(token) => Some(token),
        None if state.config.ws_query_token => query_token(req.query_string()),
        None => None,
    };
    if let Some(token) = token {
        let proven = identity::from_token(
            &state.tokens,
            &state.sessions,
            &state.db,
            &token,
            Credential::Bearer,
        )
        .await;
        return Ok(proven);
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
