//! `GET /ws/test`: an echo socket with no authentication and no chat data, to check that
//! WebSockets pass the proxies on the way. It is the session actor in echo mode, so it
//! shares the heartbeat, the 4 KiB frame limit, the per-socket rate limit and every close
//! code with the chat sockets.

use actix_web::{web, HttpRequest, HttpResponse};

use super::ws::check_origin;
use crate::chat::session::{Accepted, Mode, WsSession};
use crate::error::AppError;
use crate::state::AppState;

/// `GET /ws/test`: the handshake checks `Origin` and the connection limit, then echoes.
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
    let accepted = Accepted {
        mode: Mode::Echo,
        identity: None,
        bound: None,
        bound_position: None,
        slot,
    };
    WsSession::accept(state.chat.clone(), &req, body, accepted).await
}
