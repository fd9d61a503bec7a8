//! `WsSession`: one actor per socket. It owns the socket (an `actix_ws::Session` to write,
//! the frame stream to read), the proven identity, the heartbeat, the rate limits and the
//! socket's [`Outbox`], drained by one writer task, so writes stay in order and one slow
//! reader can never grow the server's memory without bound.
//!
//! The echo socket of `/ws/test` is the same actor in [`Mode::Echo`]: it shares the
//! heartbeat, the rate limit, the size limit and every close path, and only answers frames
//! differently.
//!
//! - `auth`: proving and keeping an identity (`auth`, `initial`, expiry, `refresh`).
//! - `frames`: what each client frame does, as calls into the service layer.

mod auth;
mod frames;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use actix::prelude::*;
use actix_web::{dev, web, FromRequest, HttpRequest, HttpResponse};
use actix_ws::{AggregatedMessage, ProtocolError};
use tokio::sync::mpsc;

use super::close::Close;
use super::frame_guard::{FrameGuard, FrameLimit};
use super::messages::*;
use super::outbox::{Outbound, Outbox, Pushed};
use super::protocol::{ServerFrame, SUBPROTOCOL};
use super::slots::SlotGuard;
use super::Chat;
use crate::db::models::UserView;
use crate::domain::UserId;
use crate::error::AppError;
use crate::limits::{Excesses, SocketBucket};
use crate::service::membership::Position;

/// Before authentication (and always on the echo socket) a frame may be at most this large.
pub const UNAUTHENTICATED_FRAME_BYTES: usize = 4096;

/// What a socket is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `/ws` and `/ws/conversations/{id}`: the chat protocol.
    Chat,
    /// `/ws/test`: echoes every frame, never authenticated, no chat data.
    Echo,
}

/// The identity a socket proved.
#[derive(Debug, Clone)]
pub struct SocketIdentity {
    /// Who, as the database had them when the socket authenticated.
    pub user: UserView,
    /// The same user's id, typed for the service layer.
    pub user_id: UserId,
    /// The login session whose logout closes this socket.
    pub login_session: String,
    /// When the token it authenticated with expires (Unix seconds); cookies have none.
    pub token_expires_at: Option<i64>,
}

/// How an accepted socket starts.
pub struct Accepted {
    /// Chat or echo.
    pub mode: Mode,
    /// The identity the handshake proved, if it proved one.
    pub identity: Option<SocketIdentity>,
    /// The conversation of a `/ws/conversations/{id}` socket.
    pub bound: Option<i64>,
    /// Where that conversation stood when the handshake checked membership.
    pub bound_position: Option<Position>,
    /// The socket's place under the connection limits.
    pub slot: SlotGuard,
}

/// One WebSocket.
pub struct WsSession {
    id: SocketId,
    chat: Arc<Chat>,
    mode: Mode,
    ws: actix_ws::Session,
    outbound: Outbox,
    identity: Option<SocketIdentity>,
    /// The newest message id of a bound socket's conversation, read by the handshake.
    bound_position: Option<Position>,
    /// The conversation of a `/ws/conversations/{id}` socket.
    bound: Option<i64>,
    slot: SlotGuard,
    /// The frame limit its guard enforces: 4 KiB until authenticated.
    frame_limit: Arc<FrameLimit>,
    /// Whether a pong is queued and not yet written.
    pong_queued: Arc<AtomicBool>,
    last_seen: Instant,
    /// Non-message frames, per socket.
    frames: SocketBucket,
    excess: Excesses,
    expiry: Option<SpawnHandle>,
    closing: bool,
}

impl WsSession {
    /// Accepts the upgrade behind a [`FrameGuard`] and starts the actor. The guard's
    /// first limit is 4 KiB, or `MAX_FRAME_BYTES` for a socket the handshake authenticated.
    pub async fn accept(
        chat: Arc<Chat>,
        req: &HttpRequest,
        body: web::Payload,
        accepted: Accepted,
    ) -> actix_web::Result<HttpResponse> {
        let config = &chat.parts.config;
        let first_limit = match (accepted.mode, &accepted.identity) {
            (Mode::Chat, Some(_)) => config.max_frame_bytes,
            _ => UNAUTHENTICATED_FRAME_BYTES,
        };
        let frame_limit = FrameLimit::new(first_limit);
        let guarded = FrameGuard::new(body.into_inner(), Arc::clone(&frame_limit));
        let mut payload: dev::Payload = dev::Payload::Stream {
            payload: Box::pin(guarded),
        };
        let body = web::Payload::from_request(req, &mut payload).await?;
        let (response, ws, stream) = actix_ws::handle_with_protocols(req, body, &[SUBPROTOCOL])?;
        // The guard decides; these only back it up.
        let most = config.max_frame_bytes.max(UNAUTHENTICATED_FRAME_BYTES);
        let stream = stream
            .max_frame_size(most)
            .aggregate_continuations()
            .max_continuation_size(most);
        let (outbound, queue) = Outbox::new(config.outbound_queue_limit);
        let pong_queued = Arc::new(AtomicBool::new(false));
        actix_web::rt::spawn(write_frames(ws.clone(), queue, Arc::clone(&pong_queued)));
        let frames = SocketBucket::new(config.rate_limit_per_sec, config.rate_limit_burst);
        let id = chat.socket_id();
        WsSession::create(move |ctx| {
            ctx.add_stream(stream);
            WsSession {
                id,
                chat,
                mode: accepted.mode,
                ws,
                outbound,
                identity: accepted.identity,
                bound_position: accepted.bound_position,
                bound: accepted.bound,
                slot: accepted.slot,
                frame_limit,
                pong_queued,
                last_seen: Instant::now(),
                frames,
                excess: Excesses::new(),
                expiry: None,
                closing: false,
            }
        });
        Ok(response)
    }

    fn send(&mut self, frame: &ServerFrame, ctx: &mut Context<Self>) {
        self.enqueue(Outbound::Text(frame.encode()), ctx);
    }

    /// Queues a frame; a full queue means a reader too slow to keep: close 4002.
    fn enqueue(&mut self, out: Outbound, ctx: &mut Context<Self>) {
        if self.closing {
            return;
        }
        if let Err((Pushed::Full, _)) = self.outbound.push(out) {
            self.closing = true;
            let reason = Close::SlowConsumer.reason("outbound queue full");
            let ws = self.ws.clone();
            actix_web::rt::spawn(async move {
                let _ = ws.close(Some(reason)).await;
            });
            ctx.stop();
        }
    }

    /// Sends a close frame after whatever is queued, then stops.
    fn close(&mut self, code: Close, description: &str, ctx: &mut Context<Self>) {
        if self.closing {
            return;
        }
        self.closing = true;
        let reason = code.reason(description);
        if let Err((Pushed::Full, Outbound::Close(reason))) =
            self.outbound.push(Outbound::Close(reason))
        {
            let ws = self.ws.clone();
            actix_web::rt::spawn(async move {
                let _ = ws.close(Some(reason)).await;
            });
        }
        ctx.stop();
    }

    /// Answers a refused frame with an `error`; an internal error is logged with its cause,
    /// the socket and the user, as an HTTP 500 is, and the client sees only "internal error".
    fn error(&mut self, error: &AppError, reference: Option<String>, ctx: &mut Context<Self>) {
        use actix_web::ResponseError;
        let code = AppError::code_for(error.status_code());
        let message = match error {
            AppError::Internal(cause) => {
                let user = self.identity.as_ref().map(|i| i.user.id);
                log::error!(
                    "internal error on socket {} (user {user:?}): {cause:#}",
                    self.id
                );
                "internal error".to_string()
            }
            other => other.to_string(),
        };
        self.send(&ServerFrame::error(code, message, reference), ctx);
    }

    /// Takes a token from the socket's own bucket (the user's, for a message); past it,
    /// an `error` `rate_limited`, and too many in a row close 4029.
    fn within_rate(
        &mut self,
        message: bool,
        reference: Option<String>,
        ctx: &mut Context<Self>,
    ) -> bool {
        let allowed = match (&self.identity, message) {
            (Some(identity), true) => self.chat.parts.send_limiter.take(identity.user.id),
            _ => self.frames.take(),
        };
        let Err(retry_after) = allowed else {
            return true;
        };
        if self.excess.record() {
            self.close(Close::RateLimited, "rate limit exceeded repeatedly", ctx);
        } else {
            let message = format!("too many frames, retry in {retry_after} s");
            self.send(&ServerFrame::error("rate_limited", message, reference), ctx);
        }
        false
    }

    /// Pings on every heartbeat, and closes 4000 when nothing came back in time.
    fn start_heartbeat(&self, ctx: &mut Context<Self>) {
        ctx.run_interval(self.chat.parts.config.heartbeat_interval, |act, ctx| {
            if act.last_seen.elapsed() > act.chat.parts.config.client_timeout {
                return act.close(Close::HeartbeatTimeout, "heartbeat timeout", ctx);
            }
            let mut ws = act.ws.clone();
            actix_web::rt::spawn(async move {
                let _ = ws.ping(b"").await;
            });
        });
    }
}

/// Drains the outbound queue into the socket, in order, until a close or a dead socket.
async fn write_frames(
    mut ws: actix_ws::Session,
    mut queue: mpsc::Receiver<Outbound>,
    pong_queued: Arc<AtomicBool>,
) {
    while let Some(out) = queue.recv().await {
        let sent = match out {
            Outbound::Text(text) => ws.text(text).await,
            Outbound::Binary(bytes) => ws.binary(bytes).await,
            Outbound::Pong(bytes) => {
                pong_queued.store(false, Ordering::Relaxed);
                ws.pong(&bytes).await
            }
            Outbound::Close(reason) => {
                let _ = ws.close(Some(reason)).await;
                return;
            }
        };
        if sent.is_err() {
            return;
        }
    }
}

impl Actor for WsSession {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.chat.server.do_send(Connect {
            socket: self.id,
            outbox: self.outbound.clone(),
            close: ctx.address().recipient(),
            bound: self.bound,
        });
        self.start_heartbeat(ctx);
        if self.mode == Mode::Echo {
            return;
        }
        match self.identity.take() {
            Some(identity) => {
                self.authenticated(identity, self.bound_position, None, ctx);
            }
            None => {
                ctx.run_later(self.chat.parts.config.first_message_timeout, |act, ctx| {
                    if act.identity.is_none() {
                        act.close(Close::PolicyViolation, "authentication timed out", ctx);
                    }
                });
            }
        }
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        self.chat.server.do_send(Disconnect { socket: self.id });
    }
}

impl Handler<CloseSocket> for WsSession {
    type Result = ();

    /// The `ChatServer` ends this socket (logout, removal, shutdown).
    fn handle(&mut self, msg: CloseSocket, ctx: &mut Context<Self>) {
        self.close(msg.code, msg.reason, ctx);
    }
}

impl StreamHandler<Result<AggregatedMessage, ProtocolError>> for WsSession {
    fn handle(&mut self, item: Result<AggregatedMessage, ProtocolError>, ctx: &mut Context<Self>) {
        self.last_seen = Instant::now();
        match item {
            Ok(AggregatedMessage::Text(text)) => match self.mode {
                Mode::Chat => self.on_text(&text, ctx),
                Mode::Echo => {
                    if self.within_rate(false, None, ctx) {
                        self.enqueue(Outbound::Text(text), ctx);
                    }
                }
            },
            Ok(AggregatedMessage::Binary(bytes)) => match self.mode {
                Mode::Chat => {
                    self.close(Close::Unsupported, "binary frames are not supported", ctx)
                }
                Mode::Echo => {
                    if self.within_rate(false, None, ctx) {
                        self.enqueue(Outbound::Binary(bytes), ctx);
                    }
                }
            },
            Ok(AggregatedMessage::Ping(bytes)) => {
                if self.within_rate(false, None, ctx)
                    && !self.pong_queued.swap(true, Ordering::Relaxed)
                {
                    self.enqueue(Outbound::Pong(bytes), ctx);
                }
            }
            Ok(AggregatedMessage::Pong(_)) => {}
            Ok(AggregatedMessage::Close(_)) => self.close(Close::Normal, "bye", ctx),
            Err(_) if self.frame_limit.verdict().is_some() => {
                let close = self.frame_limit.verdict().unwrap_or(Close::ProtocolError);
                let why = match close {
                    Close::TooBig => "frame too large",
                    _ => "protocol error",
                };
                self.close(close, why, ctx)
            }
            Err(ProtocolError::Overflow) => self.close(Close::TooBig, "frame too large", ctx),
            Err(ProtocolError::Io(e)) if e.kind() == std::io::ErrorKind::InvalidData => {
                self.close(Close::InvalidPayload, "text frames must be UTF-8", ctx)
            }
            Err(e) => {
                log::debug!("socket {} protocol error: {e}", self.id);
                self.close(Close::ProtocolError, "protocol error", ctx);
            }
        }
    }

    fn finished(&mut self, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}
