//! `WsSession`: one actor per socket. It owns the socket (an `actix_ws::Session` to write,
//! the frame stream to read), the proven identity, the heartbeat, the rate limits and a
//! bounded outbound queue drained by one writer task, so writes stay in order and one slow
//! reader can never grow the server's memory without bound.

use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_web::web;
use actix_ws::{AggregatedMessage, CloseCode, CloseReason, ProtocolError};
use bytestring::ByteString;
use tokio::sync::mpsc;

use super::messages::*;
use super::protocol::{self, ClientFrame, ServerFrame};
use super::slots::{SlotGuard, SlotRefused};
use crate::auth::identity::{self, AuthState, Credential, Identity};
use crate::db;
use crate::db::models::{MessageView, UserView};
use crate::error::AppError;
use crate::limits::{Buckets, Excesses};
use crate::live::{LiveEvent, Origin};
use crate::routes::conversations::{read_marker_target, require_membership};
use crate::routes::messages::{page_cursor, store_message};
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

    /// Finishes authentication: tells the `ChatServer`, sends `ready`, joins a bound
    /// socket's room, and arms the close at the token's expiry.
    fn authenticated(
        &mut self,
        identity: SocketIdentity,
        last_message_id: Option<i64>,
        reference: Option<String>,
        ctx: &mut Context<Self>,
    ) {
        self.state.chat.server.do_send(Authenticated {
            socket: self.id,
            user_id: identity.user.id,
            login_session: identity.login_session.clone(),
        });
        self.arm_expiry(identity.token_expires_at, ctx);
        let ready = ServerFrame::Ready {
            user: identity.user.clone(),
            session_id: self.id.to_string(),
            heartbeat_interval_ms: self.state.config.heartbeat_interval.as_millis() as u64,
            conversation_id: self.bound,
            reference,
        };
        self.identity = Some(identity);
        self.send(&ready, ctx);
        if let Some(conversation_id) = self.bound {
            self.state.chat.server.do_send(Join {
                socket: self.id,
                conversation_id,
                last_message_id,
                reference: None,
                silent: true,
            });
        }
    }

    /// Closes the socket with 4001 when its token expires, unless a `refresh` re-arms it.
    fn arm_expiry(&mut self, expires_at: Option<i64>, ctx: &mut Context<Self>) {
        if let Some(handle) = self.expiry.take() {
            ctx.cancel_future(handle);
        }
        if let Some(expires_at) = expires_at {
            let wait = (expires_at - chrono::Utc::now().timestamp()).max(0) as u64;
            self.expiry = Some(ctx.run_later(Duration::from_secs(wait), |act, ctx| {
                act.close(4001, "token expired", ctx);
            }));
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

    /// `initial`: `user_id` must be the identity proven by its token, or by the handshake.
    fn on_initial(
        &mut self,
        user_id: i64,
        conversation_id: Option<i64>,
        token: Option<String>,
        reference: Option<String>,
        ctx: &mut Context<Self>,
    ) {
        match token {
            Some(token) => self.on_auth(&token, Some(user_id), conversation_id, reference, ctx),
            None => match &self.identity {
                Some(identity) if identity.user.id == user_id => match conversation_id {
                    Some(conversation_id) => self.join(conversation_id, reference, ctx),
                    None => self.send(
                        &ServerFrame::error("bad_request", "already authenticated", reference),
                        ctx,
                    ),
                },
                _ => self.close(1008, "user_id is not the proven identity", ctx),
            },
        }
    }

    /// `auth`, or `initial` with a token: proves the identity (or, on an authenticated
    /// socket, checks it is the same one).
    fn on_auth(
        &mut self,
        token: &str,
        claimed: Option<i64>,
        conversation_id: Option<i64>,
        reference: Option<String>,
        ctx: &mut Context<Self>,
    ) {
        let Some(proven) = self.prove(token) else {
            return self.close(1008, "authentication failed", ctx);
        };
        if claimed.is_some_and(|claimed| claimed != proven.user_id) {
            return self.close(1008, "user_id is not the proven identity", ctx);
        }
        if let Some(current) = &self.identity {
            if current.user.id != proven.user_id {
                return self.close(1008, "another identity on an authenticated socket", ctx);
            }
            return match conversation_id {
                Some(conversation_id) => self.join(conversation_id, reference, ctx),
                None => self.send(
                    &ServerFrame::error("bad_request", "already authenticated", reference),
                    ctx,
                ),
            };
        }
        let state = self.state.clone();
        let bound = self.bound;
        let lookup = async move {
            let user = db::users::find(&state.db, proven.user_id).await?;
            let membership = match (bound, &user) {
                (Some(conversation_id), Some(user)) => Some(
                    db::conversations::membership(&state.db, conversation_id, user.id)
                        .await?
                        .is_some(),
                ),
                _ => None,
            };
            let last_id = match bound {
                Some(conversation_id) if membership == Some(true) => {
                    db::messages::last_id(&state.db, conversation_id).await?
                }
                _ => None,
            };
            Ok::<_, db::DbError>((user, membership, last_id))
        };
        ctx.wait(lookup.into_actor(self).map(move |result, act, ctx| {
            let (user, membership, last_id) = match result {
                Ok(found) => found,
                Err(e) => {
                    log::warn!("socket authentication failed on the database: {e}");
                    return act.close(1011, "database unavailable", ctx);
                }
            };
            let Some(user) = user else {
                return act.close(1008, "authentication failed", ctx);
            };
            if let Err(SlotRefused::UserFull | SlotRefused::ServerFull) = act.slot.assign(user.id) {
                return act.close(1013, "too many sockets for this user", ctx);
            }
            if membership == Some(false) {
                return act.close(4003, "not a member of this conversation", ctx);
            }
            let identity = SocketIdentity {
                user: user.into(),
                login_session: proven.session_id,
                token_expires_at: Some(proven.expires_at),
            };
            act.authenticated(identity, last_id, reference.clone(), ctx);
            if let Some(conversation_id) = conversation_id {
                act.join(conversation_id, reference, ctx);
            }
        }));
    }

    /// `join`: membership is checked in the database, then the `ChatServer` adds the socket.
    fn join(&mut self, conversation_id: i64, reference: Option<String>, ctx: &mut Context<Self>) {
        let Some(user_id) = self.identity.as_ref().map(|i| i.user.id) else {
            return;
        };
        let state = self.state.clone();
        let check = async move {
            require_membership(&state.db, conversation_id, user_id).await?;
            Ok::<_, AppError>(db::messages::last_id(&state.db, conversation_id).await?)
        };
        ctx.wait(
            check
                .into_actor(self)
                .map(move |result, act, ctx| match result {
                    Ok(last_message_id) => act.state.chat.server.do_send(Join {
                        socket: act.id,
                        conversation_id,
                        last_message_id,
                        reference,
                        silent: false,
                    }),
                    Err(e) => act.error(&e, reference, ctx),
                }),
        );
    }

    /// Frames of an authenticated socket.
    fn on_frame(&mut self, frame: ClientFrame, ctx: &mut Context<Self>) {
        let Some(identity) = self.identity.clone() else {
            return;
        };
        let user_id = identity.user.id;
        let state = self.state.clone();
        match frame {
            ClientFrame::Join {
                conversation_id,
                reference,
            } => self.join(conversation_id, reference, ctx),
            ClientFrame::Leave {
                conversation_id,
                reference,
            } => self.state.chat.server.do_send(Leave {
                socket: self.id,
                conversation_id,
                reference,
            }),
            ClientFrame::Typing {
                conversation_id,
                reference,
            } => self.state.chat.server.do_send(Typing {
                socket: self.id,
                conversation_id,
                reference,
            }),
            ClientFrame::Message {
                conversation_id,
                content,
                client_msg_id,
                reference,
            } => {
                let origin = Origin {
                    socket: self.id,
                    reference: reference.clone(),
                };
                let store = async move {
                    store_message(
                        &state,
                        user_id,
                        conversation_id,
                        &content,
                        client_msg_id.as_deref(),
                        Some(origin),
                    )
                    .await
                };
                ctx.wait(
                    store
                        .into_actor(self)
                        .map(move |result, act, ctx| match result {
                            // A new message is acknowledged by the ChatServer, in order with the
                            // others; a repeated client_msg_id gets the original, delivered nowhere else.
                            Ok((_, true)) => {}
                            Ok((message, false)) => {
                                let message = MessageView::from(message);
                                let ack = ServerFrame::Ack {
                                    client_msg_id: message.client_msg_id.clone(),
                                    message,
                                    reference,
                                };
                                act.send(&ack, ctx);
                            }
                            Err(e) => act.error(&e, reference, ctx),
                        }),
                );
            }
            ClientFrame::Read {
                conversation_id,
                message_id,
                reference,
            } => {
                let socket = self.id;
                let mark = async move {
                    require_membership(&state.db, conversation_id, user_id).await?;
                    read_marker_target(&state.db, conversation_id, message_id).await?;
                    db::conversations::mark_read(&state.db, conversation_id, user_id, message_id)
                        .await?;
                    state.live.publish(LiveEvent::Read {
                        conversation_id,
                        user_id,
                        message_id,
                        origin: Some(socket),
                    });
                    Ok::<_, AppError>(())
                };
                ctx.wait(mark.into_actor(self).map(move |result, act, ctx| {
                    if let Err(e) = result {
                        act.error(&e, reference, ctx);
                    }
                }));
            }
            ClientFrame::History {
                conversation_id,
                before,
                after,
                limit,
                reference,
            } => {
                let fetch = async move {
                    let not_found =
                        || AppError::NotFound(format!("conversation {conversation_id} not found"));
                    let (cursor, limit) = match page_cursor(before, after, limit) {
                        Ok(page) => page,
                        Err(invalid) => {
                            require_membership(&state.db, conversation_id, user_id).await?;
                            return Err(invalid);
                        }
                    };
                    db::messages::page(&state.db, conversation_id, user_id, cursor, limit)
                        .await?
                        .ok_or_else(not_found)
                };
                ctx.wait(
                    fetch
                        .into_actor(self)
                        .map(move |result, act, ctx| match result {
                            Ok((messages, has_more)) => {
                                let history = ServerFrame::History {
                                    conversation_id,
                                    messages: messages.into_iter().map(MessageView::from).collect(),
                                    has_more,
                                    reference,
                                };
                                act.send(&history, ctx);
                            }
                            Err(e) => act.error(&e, reference, ctx),
                        }),
                );
            }
            ClientFrame::Refresh { token, reference } => self.refresh(&token, reference, ctx),
            ClientFrame::Ping { .. } | ClientFrame::Auth { .. } | ClientFrame::Initial { .. } => {}
        }
    }

    /// The identity a token proves right now (signature, claims, not revoked), if any.
    fn prove(&self, token: &str) -> Option<Identity> {
        match identity::from_token(
            &self.state.tokens,
            &self.state.revoked,
            token,
            Credential::Bearer,
        ) {
            AuthState::Proven(proven) => Some(proven),
            _ => None,
        }
    }

    /// `refresh`: a new token for the same user replaces the socket's credential.
    fn refresh(&mut self, token: &str, reference: Option<String>, ctx: &mut Context<Self>) {
        let Some(proven) = self.prove(token) else {
            let invalid = ServerFrame::error("unauthorized", "invalid token", reference);
            return self.send(&invalid, ctx);
        };
        let Some(identity) = self.identity.as_mut() else {
            return;
        };
        if proven.user_id != identity.user.id {
            return self.send(
                &ServerFrame::error("forbidden", "a token of another user", reference),
                ctx,
            );
        }
        identity.login_session = proven.session_id.clone();
        identity.token_expires_at = Some(proven.expires_at);
        self.state.chat.server.do_send(Authenticated {
            socket: self.id,
            user_id: proven.user_id,
            login_session: proven.session_id,
        });
        self.arm_expiry(Some(proven.expires_at), ctx);
        let expires_at = chrono::DateTime::from_timestamp(proven.expires_at, 0)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
            .unwrap_or_default();
        self.send(
            &ServerFrame::Refreshed {
                expires_at,
                reference,
            },
            ctx,
        );
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
