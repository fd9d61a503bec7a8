//! A small WebSocket client for the socket suites. [`WsClient`] speaks through `awc` and
//! reads frames the way the protocol is tested: every read has a deadline, so a frame that
//! never comes fails the test instead of hanging it, and pings from the server are
//! answered unless a test plays a client that has gone silent. Hand-written handshakes and
//! frames are in `raw`, the frames' JSON in `frames`.

use std::time::Duration;

use actix_http::ws::{Item, ProtocolError};
use actix_web::web::Bytes;
use awc::cookie::Cookie;
use awc::http::header::HeaderMap;
use awc::ws::{CloseCode, CloseReason, Frame, Message, WebsocketsRequest};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use serde_json::{json, Value};

use super::app::TestApp;
use super::fixtures::TestUser;

/// How long a test waits for one frame before it fails.
pub const READ_TIMEOUT: Duration = Duration::from_secs(15);

/// How a handshake proves who is connecting (docs/protocol.md, The handshake).
#[derive(Debug, Clone)]
pub enum WsAuth {
    /// No credential: first-message authentication, or a refusal in `handshake` mode.
    None,
    /// `Authorization: Bearer <jwt>`.
    Bearer(String),
    /// `Sec-WebSocket-Protocol: palaver.v1, bearer.<jwt>`.
    Subprotocol(String),
    /// `?token=<jwt>`.
    Query(String),
    /// The `palaver_session` cookie of a login.
    Cookie(Cookie<'static>),
}

impl From<&TestUser> for WsAuth {
    fn from(user: &TestUser) -> Self {
        WsAuth::Bearer(user.token.clone())
    }
}

/// `ws://127.0.0.1:PORT{path}`.
pub fn ws_url(app: &TestApp, path: &str) -> String {
    format!("ws://127.0.0.1:{}{path}", app.port)
}

/// Whatever `awc` connected: a stream of frames and a sink of messages.
trait Transport:
    Stream<Item = Result<Frame, ProtocolError>> + Sink<Message, Error = ProtocolError> + Unpin
{
}

impl<T> Transport for T where
    T: Stream<Item = Result<Frame, ProtocolError>> + Sink<Message, Error = ProtocolError> + Unpin
{
}

/// An open socket to the server.
pub struct WsClient {
    io: Box<dyn Transport>,
    /// The headers of the `101 Switching Protocols`.
    pub headers: HeaderMap,
    /// Whether pings from the server are answered, as a live client does.
    answer_pings: bool,
    /// How many pings the server has sent so far.
    pub pings: usize,
    next_ref: u64,
    /// How long one read may wait.
    read_timeout: Duration,
}

impl WsClient {
    /// The handshake request for `path` with `auth` applied, for tests that add to it.
    pub fn request(app: &TestApp, path: &str, auth: &WsAuth) -> WebsocketsRequest {
        let client = awc::Client::builder()
            .timeout(Duration::from_secs(30))
            .finish();
        let url = match auth {
            WsAuth::Query(token) => {
                let separator = if path.contains('?') { '&' } else { '?' };
                ws_url(app, &format!("{path}{separator}token={token}"))
            }
            _ => ws_url(app, path),
        };
        let request = client.ws(url).max_frame_size(4 * 1024 * 1024);
        match auth {
            WsAuth::None | WsAuth::Query(_) => request,
            WsAuth::Bearer(token) => request.bearer_auth(token),
            WsAuth::Subprotocol(token) => {
                request.protocols(["palaver.v1".to_string(), format!("bearer.{token}")])
            }
            WsAuth::Cookie(cookie) => request.cookie(cookie.clone()),
        }
    }

    /// Completes `request`; the error names why there was no `101`.
    pub async fn open(request: WebsocketsRequest) -> Result<WsClient, String> {
        let (response, framed) = request.connect().await.map_err(|e| e.to_string())?;
        Ok(WsClient {
            io: Box::new(framed),
            headers: response.headers().clone(),
            answer_pings: true,
            pings: 0,
            next_ref: 0,
            read_timeout: READ_TIMEOUT,
        })
    }

    /// Connects to `path`; panics unless the server switches protocols.
    pub async fn connect(app: &TestApp, path: &str, auth: impl Into<WsAuth>) -> WsClient {
        let auth = auth.into();
        WsClient::open(WsClient::request(app, path, &auth))
            .await
            .unwrap_or_else(|e| panic!("the handshake to {path} with {auth:?} gets 101: {e}"))
    }

    /// Connects to `/ws` as `user` and reads `ready`.
    pub async fn ready(app: &TestApp, user: &TestUser) -> WsClient {
        let mut socket = WsClient::connect(app, "/ws", user).await;
        socket.expect_type("ready").await;
        socket
    }

    /// Connects to `/ws` as `user`, reads `ready`, joins `conversation_id` and reads `joined`.
    pub async fn joined(app: &TestApp, user: &TestUser, conversation_id: i64) -> WsClient {
        let mut socket = WsClient::ready(app, user).await;
        socket.join(conversation_id).await;
        socket
    }

    /// Makes one read wait at most `timeout`, for a frame that must come sooner than usual.
    pub fn set_read_timeout(&mut self, timeout: Duration) {
        self.read_timeout = timeout;
    }

    /// Plays a client that has gone silent: pings are read but never answered.
    pub fn stop_answering_pings(&mut self) {
        self.answer_pings = false;
    }

    /// A `ref` no other frame of this socket carries.
    pub fn fresh_ref(&mut self) -> String {
        self.next_ref += 1;
        format!("r{}", self.next_ref)
    }

    /// Writes one message to the socket.
    pub async fn send(&mut self, message: Message) {
        self.io
            .send(message)
            .await
            .expect("the frame is written to the socket");
    }

    /// Writes one text frame.
    pub async fn send_text(&mut self, text: impl Into<String>) {
        self.send(Message::Text(text.into().into())).await;
    }

    /// Writes `frame` as one text frame.
    pub async fn send_json(&mut self, frame: &Value) {
        self.send_text(frame.to_string()).await;
    }

    /// Sends a close frame with `code`.
    pub async fn close(&mut self, code: u16) {
        self.send(Message::Close(Some(CloseReason {
            code: CloseCode::from(code),
            description: None,
        })))
        .await;
    }

    /// Sends a text message in two fragments whose bytes are not UTF-8 together.
    pub async fn send_fragmented_text(&mut self, first: &'static [u8], last: &'static [u8]) {
        self.send(Message::Continuation(Item::FirstText(Bytes::from_static(
            first,
        ))))
        .await;
        self.send(Message::Continuation(Item::Last(Bytes::from_static(last))))
            .await;
    }

    /// The next frame, pings included (and answered unless told otherwise); `None` once
    /// the connection has ended. Panics when nothing arrives within the read timeout
    /// ([`READ_TIMEOUT`] unless set otherwise).
    pub async fn next_frame(&mut self) -> Option<Frame> {
        let timeout = self.read_timeout;
        let item = actix_rt::time::timeout(timeout, self.io.next())
            .await
            .unwrap_or_else(|_| panic!("no frame arrived within {timeout:?}"))?;
        let frame = match item {
            Ok(frame) => frame,
            // The server dropped the connection under a read: it has ended.
            Err(ProtocolError::Io(_)) => return None,
            Err(e) => panic!("the server sent a frame that breaks the protocol: {e}"),
        };
        if let Frame::Ping(payload) = &frame {
            self.pings += 1;
            if self.answer_pings {
                // The socket may be closing under us; a lost pong changes nothing then.
                let _ = self.io.send(Message::Pong(payload.clone())).await;
            }
        }
        Some(frame)
    }

    /// The next JSON frame, skipping pings and pongs; panics on a close or a non-JSON frame.
    pub async fn recv(&mut self) -> Value {
        loop {
            match self.next_frame().await {
                Some(Frame::Text(bytes)) => {
                    return serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                        panic!("a text frame that is not JSON ({e}): {bytes:?}")
                    })
                }
                Some(Frame::Ping(_) | Frame::Pong(_)) => continue,
                Some(Frame::Close(reason)) => {
                    panic!("the socket closed with {reason:?} while a frame was awaited")
                }
                Some(other) => panic!("an unexpected frame: {other:?}"),
                None => panic!("the connection ended while a frame was awaited"),
            }
        }
    }

    /// Reads JSON frames until one of type `kind` arrives; returns it and every frame
    /// that came before it.
    pub async fn recv_until(&mut self, kind: &str) -> (Value, Vec<Value>) {
        let mut before = Vec::new();
        loop {
            let frame = self.recv().await;
            if frame["type"] == kind {
                return (frame, before);
            }
            before.push(frame);
        }
    }

    /// Reads JSON frames until one of type `kind` arrives, passing over the others.
    pub async fn expect_type(&mut self, kind: &str) -> Value {
        self.recv_until(kind).await.0
    }

    /// Reads until the server's close frame; returns its code and the JSON frames before.
    /// Panics when the connection ends without one.
    pub async fn close_code_after(&mut self) -> (u16, Vec<Value>) {
        let mut before = Vec::new();
        loop {
            match self.next_frame().await {
                Some(Frame::Close(reason)) => {
                    let code = reason.map(|r| u16::from(r.code)).unwrap_or(1005);
                    return (code, before);
                }
                Some(Frame::Text(bytes)) => before.push(
                    serde_json::from_slice(&bytes)
                        .unwrap_or_else(|_| json!({"raw": String::from_utf8_lossy(&bytes)})),
                ),
                Some(_) => continue,
                None => panic!("the connection ended without a close frame; before it: {before:?}"),
            }
        }
    }

    /// Reads until the server's close frame and returns its code.
    pub async fn close_code(&mut self) -> u16 {
        self.close_code_after().await.0
    }

    /// Sends `{"type":"ping"}` and waits for its `pong`, proving the socket is open and has
    /// handled every frame sent before; returns the frames that came before the pong.
    pub async fn round_trip(&mut self) -> Vec<Value> {
        let reference = self.fresh_ref();
        self.send_json(&json!({"type": "ping", "ref": reference}))
            .await;
        let mut before = Vec::new();
        loop {
            let frame = self.recv().await;
            if frame["type"] == "pong" && frame["ref"] == reference.as_str() {
                return before;
            }
            before.push(frame);
        }
    }

    /// Sends `frame` with a fresh `ref` and reads until the reply carrying it.
    pub async fn request_reply(&mut self, mut frame: Value) -> Value {
        let reference = self.fresh_ref();
        frame["ref"] = json!(reference);
        self.send_json(&frame).await;
        loop {
            let reply = self.recv().await;
            if reply["ref"] == reference.as_str() {
                return reply;
            }
        }
    }

    /// Joins `conversation_id`; panics unless the reply is `joined`.
    pub async fn join(&mut self, conversation_id: i64) -> Value {
        let reply = self
            .request_reply(json!({"type": "join", "conversation_id": conversation_id}))
            .await;
        assert_eq!(reply["type"], "joined", "join {conversation_id}: {reply}");
        reply
    }

    /// Sends `content` to `conversation_id` and returns the acknowledged message.
    pub async fn send_chat(&mut self, conversation_id: i64, content: &str) -> Value {
        let reply = self
            .request_reply(
                json!({"type": "message", "conversation_id": conversation_id, "content": content}),
            )
            .await;
        assert_eq!(
            reply["type"], "ack",
            "message to {conversation_id}: {reply}"
        );
        reply["message"].clone()
    }

    /// Reads frames, answering pings, until the wall clock passes `until` (Unix seconds);
    /// panics if the socket closes first. Needs a server that pings every second.
    pub async fn stay_connected_until(&mut self, until: i64) {
        while chrono::Utc::now().timestamp() <= until {
            match self.next_frame().await {
                Some(Frame::Close(reason)) => panic!("the socket closed with {reason:?}"),
                None => panic!("the connection ended"),
                Some(_) => {}
            }
        }
    }

    /// Reads `count` chat messages (`ack` or `message`) off the socket, in arrival order.
    pub async fn read_chat_messages(&mut self, count: usize) -> Vec<Value> {
        let mut seen = Vec::new();
        while seen.len() < count {
            let frame = self.recv().await;
            if frame["type"] == "ack" || frame["type"] == "message" {
                seen.push(frame["message"].clone());
            }
        }
        seen
    }
}

/// `typist` types in `id` and `watcher` reads up to that typing: returns what came before,
/// so a test can see that nothing else was routed to the watcher in between.
pub async fn frames_until_typing_from(
    watcher: &mut WsClient,
    typist: &mut WsClient,
    id: i64,
) -> Vec<Value> {
    typist
        .send_json(&json!({"type": "typing", "conversation_id": id}))
        .await;
    watcher.recv_until("typing").await.1
}
