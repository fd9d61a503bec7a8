//! `WsSession`: one actor per socket. It owns the socket (an `actix_ws::Session` to write,
//! the frame stream to read), the proven identity, the heartbeat, the rate limits and a
//! bounded outbound queue drained by one writer task, so writes stay in order and one slow
//! reader can never grow the server's memory without bound.

mod auth;
mod frames;

use std::time::Instant;

use actix::prelude::*;
use actix_web::web;
use actix_ws::{AggregatedMessage, CloseCode, CloseReason, ProtocolError};
use bytestring::ByteString;
use tokio::sync::mpsc;

use super::messages::*;
use super::protocol::{self, ClientFrame, ServerFrame};
use super::slots::SlotGuard;
use crate::db::models::UserView;
use crate::error::AppError;
use crate::limits::{Buckets, Excesses};
use crate::startup::AppState;

/// Before authentication a frame may be at most this large.
pub const UNAUTHENTICATED_FRAME_BYTES: usize = 4096;

/// The identity a socket proved.
#[derive(Debug, Clone)]
pub struct SocketIdentity {
    pub user: UserView,
    /// The login session whose logout closes this socket.
    pub login_session: String,
    /// When the token it authenticated with expires (Unix seconds); cookies have none.
    pub token_expires_at: Option<i64>,
}

/// What the writer task sends.
enum Outbound {
    Text(ByteString),
    Close(CloseReason),
}

/// One WebSocket.
pub struct WsSession {
    id: SocketId,
    state: web::Data<AppState>,
    ws: actix_ws::Session,
    outbound: mpsc::Sender<Outbound>,
    identity: Option<SocketIdentity>,
    /// The newest message id of a bound socket's conversation, read by the handshake.
    bound_last_id: Option<i64>,
    /// The conversation of a `/ws/conversations/{id}` socket.
    bound: Option<i64>,
    slot: SlotGuard,
    last_seen: Instant,
    /// Non-message frames, per socket.
    frames: Buckets<()>,
    excess: Excesses,
    expiry: Option<SpawnHandle>,
    closing: bool,
}

impl WsSession {
    /// Starts the actor for an accepted socket, with its identity when the handshake
    /// proved one.
    pub fn start(
        state: web::Data<AppState>,
        ws: actix_ws::Session,
        stream: actix_ws::MessageStream,
        identity: Option<SocketIdentity>,
        bound: Option<i64>,
        bound_last_id: Option<i64>,
        slot: SlotGuard,
    ) {
        let config = &state.config;
        let stream = stream
            .max_frame_size(config.max_frame_bytes)
            .aggregate_continuations()
            .max_continuation_size(config.max_frame_bytes);
        let (outbound, queue) = mpsc::channel(config.outbound_queue_limit);
        actix_web::rt::spawn(write_frames(ws.clone(), queue));
        let frames = Buckets::new(config.rate_limit_per_sec, config.rate_limit_burst);
        let id = state.chat.socket_id();
        WsSession::create(move |ctx| {
            ctx.add_stream(stream);
            WsSession {
                id,
                state,
                ws,
                outbound,
                identity,
                bound_last_id,
                bound,
                slot,
                last_seen: Instant::now(),
                frames,
                excess: Excesses::new(),
                expiry: None,
                closing: false,
            }
        });
    }

    fn send(&mut self, frame: &ServerFrame, ctx: &mut Context<Self>) {
        self.enqueue(frame.encode(), ctx);
    }

    /// Queues a frame; a full queue means a reader too slow to keep: close 4002.
    fn enqueue(&mut self, text: ByteString, ctx: &mut Context<Self>) {
        if self.closing {
            return;
        }
        if let Err(mpsc::error::TrySendError::Full(_)) =
            self.outbound.try_send(Outbound::Text(text))
        {
            self.closing = true;
            let reason = close_reason(4002, "outbound queue full");
            let ws = self.ws.clone();
            actix_web::rt::spawn(async move {
                let _ = ws.close(Some(reason)).await;
            });
            ctx.stop();
        }
    }

    /// Sends a close frame after whatever is queued, then stops.
    fn close(&mut self, code: u16, reason: &str, ctx: &mut Context<Self>) {
        if self.closing {
            return;
        }
        self.closing = true;
        let reason = close_reason(code, reason);
        if let Err(mpsc::error::TrySendError::Full(Outbound::Close(reason))) =
            self.outbound.try_send(Outbound::Close(reason))
        {
            let ws = self.ws.clone();
            actix_web::rt::spawn(async move {
                let _ = ws.close(Some(reason)).await;
            });
        }
        ctx.stop();
    }

    fn error(&mut self, error: &AppError, reference: Option<String>, ctx: &mut Context<Self>) {
        use actix_web::ResponseError;
        let code = AppError::code_for(error.status_code());
        let message = match error {
            AppError::Internal(_) => "internal error".to_string(),
            other => other.to_string(),
        };
        self.send(&ServerFrame::error(code, message, reference), ctx);
    }

    /// Counts a rate-limited frame; too many in a row closes 4029.
    fn rate_limited(
        &mut self,
        retry_after: u64,
        reference: Option<String>,
        ctx: &mut Context<Self>,
    ) {
        if self.excess.record() {
            self.close(4029, "rate limit exceeded repeatedly", ctx);
        } else {
            let message = format!("too many frames, retry in {retry_after} s");
            self.send(&ServerFrame::error("rate_limited", message, reference), ctx);
        }
    }

    fn on_text(&mut self, text: &str, ctx: &mut Context<Self>) {
        let authenticated = self.identity.is_some();
        if !authenticated && text.len() > UNAUTHENTICATED_FRAME_BYTES {
            return self.close(1009, "frame too large before authentication", ctx);
        }
        let frame = match protocol::parse(text) {
            Ok(frame) => frame,
            Err(malformed) => {
                return self.send(
                    &ServerFrame::error("bad_request", malformed.message, malformed.reference),
                    ctx,
                );
            }
        };
        let is_message = matches!(frame, ClientFrame::Message { .. });
        let allowed = match (&self.identity, is_message) {
            (Some(identity), true) => self.state.send_limiter.take(identity.user.id),
            _ => self.frames.take(()),
        };
        if let Err(retry_after) = allowed {
            return self.rate_limited(retry_after, reference_of(&frame), ctx);
        }
        match (authenticated, frame) {
            (_, ClientFrame::Ping { reference }) => {
                self.send(&ServerFrame::Pong { reference }, ctx)
            }
            (_, ClientFrame::Auth { token, reference }) => {
                self.on_auth(&token, None, None, reference, ctx)
            }
            (
                _,
                ClientFrame::Initial {
                    user_id,
                    conversation_id,
                    token,
                    reference,
                },
            ) => self.on_initial(user_id, conversation_id, token, reference, ctx),
            (false, other) => {
                let message = "authenticate first with auth or initial";
                self.send(
                    &ServerFrame::error("unauthenticated", message, reference_of(&other)),
                    ctx,
                )
            }
            (true, frame) => self.on_frame(frame, ctx),
        }
    }
}

fn reference_of(frame: &ClientFrame) -> Option<String> {
    match frame {
        ClientFrame::Auth { reference, .. }
        | ClientFrame::Initial { reference, .. }
        | ClientFrame::Join { reference, .. }
        | ClientFrame::Leave { reference, .. }
        | ClientFrame::Message { reference, .. }
        | ClientFrame::Typing { reference, .. }
        | ClientFrame::Read { reference, .. }
        | ClientFrame::History { reference, .. }
        | ClientFrame::Refresh { reference, .. }
        | ClientFrame::Ping { reference } => reference.clone(),
    }
}

fn close_reason(code: u16, description: &str) -> CloseReason {
    CloseReason {
        code: CloseCode::from(code),
        description: Some(description.to_string()),
    }
}

/// Drains the outbound queue into the socket, in order, until a close or a dead socket.
async fn write_frames(mut ws: actix_ws::Session, mut queue: mpsc::Receiver<Outbound>) {
    while let Some(out) = queue.recv().await {
        match out {
            Outbound::Text(text) => {
                if ws.text(text).await.is_err() {
                    return;
                }
            }
            Outbound::Close(reason) => {
                let _ = ws.close(Some(reason)).await;
                return;
            }
        }
    }
}

impl Actor for WsSession {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        let chat = &self.state.chat.server;
        chat.do_send(Connect {
            socket: self.id,
            push: ctx.address().recipient(),
            close: ctx.address().recipient(),
            bound: self.bound,
        });
        ctx.run_interval(self.state.config.heartbeat_interval, |act, ctx| {
            if act.last_seen.elapsed() > act.state.config.client_timeout {
                return act.close(4000, "heartbeat timeout", ctx);
            }
            let mut ws = act.ws.clone();
            actix_web::rt::spawn(async move {
                let _ = ws.ping(b"").await;
            });
        });
        match self.identity.take() {
            Some(identity) => {
                self.authenticated(identity, self.bound_last_id, None, ctx);
            }
            None => {
                ctx.run_later(self.state.config.first_message_timeout, |act, ctx| {
                    if act.identity.is_none() {
                        act.close(1008, "authentication timed out", ctx);
                    }
                });
            }
        }
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        self.state
            .chat
            .server
            .do_send(Disconnect { socket: self.id });
    }
}

impl Handler<Push> for WsSession {
    type Result = ();

    /// A frame routed by the `ChatServer`.
    fn handle(&mut self, msg: Push, ctx: &mut Context<Self>) {
        self.enqueue(msg.0, ctx);
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
            Ok(AggregatedMessage::Text(text)) => self.on_text(&text, ctx),
            Ok(AggregatedMessage::Binary(_)) => {
                self.close(1003, "binary frames are not supported", ctx)
            }
            Ok(AggregatedMessage::Ping(bytes)) => {
                let mut ws = self.ws.clone();
                actix_web::rt::spawn(async move {
                    let _ = ws.pong(&bytes).await;
                });
            }
            Ok(AggregatedMessage::Pong(_)) => {}
            Ok(AggregatedMessage::Close(_)) => self.close(1000, "bye", ctx),
            Err(ProtocolError::Overflow) => self.close(1009, "frame too large", ctx),
            Err(ProtocolError::Io(e)) if e.kind() == std::io::ErrorKind::InvalidData => {
                self.close(1007, "text frames must be UTF-8", ctx)
            }
            Err(e) => {
                log::debug!("socket {} protocol error: {e}", self.id);
                self.close(1002, "protocol error", ctx);
            }
        }
    }

    fn finished(&mut self, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}
