//! Bytes written by hand over a plain socket, for what the client libraries will not do:
//! [`TestApp::raw_request`] sends an HTTP/1.1 request whose headers they would rewrite
//! (`Connection`) and reads the [`RawResponse`] whole; [`upgrade_request`] builds a
//! handshake whose refusal (status, headers, JSON body) a test reads that way; and
//! [`RawSocket`] writes frames byte by byte (a text frame that is not UTF-8) and can shrink
//! its receive buffer, so a reader that stops reading fills up fast.

use std::io::{Read, Write};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::app::TestApp;
use super::fixtures::TestUser;
use super::http::Auth;
use super::response::{SECURITY_HEADERS, SESSION_COOKIE};
use super::tokens::{handmade_token, token_signed_with};
use super::ws::READ_TIMEOUT;

/// An answer read off a plain socket.
#[derive(Debug)]
pub struct RawResponse {
    /// The status line's code.
    pub status: u16,
    /// Every header, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body, as text.
    pub body: String,
}

impl RawResponse {
    /// Reads one whole answer (head, then `Content-Length` bytes of body) off `stream`.
    pub fn read(stream: &mut std::net::TcpStream) -> RawResponse {
        let mut buffer = Vec::new();
        let mut chunk = [0u8; 4096];
        let head_end = loop {
            if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break at;
            }
            let n = stream.read(&mut chunk).expect("read response");
            assert!(n > 0, "connection closed before the response head");
            buffer.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .and_then(|line| line.split(' ').nth(1))
            .and_then(|code| code.parse().ok())
            .expect("a status line");
        let headers: Vec<(String, String)> = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_string()))
            .collect();
        let length: usize = headers
            .iter()
            .find(|(name, _)| name == "content-length")
            .map(|(_, value)| value.parse().expect("numeric content-length"))
            .unwrap_or(0);
        let mut body = buffer[head_end + 4..].to_vec();
        while body.len() < length {
            let n = stream.read(&mut chunk).expect("read body");
            assert!(n > 0, "connection closed before the whole body");
            body.extend_from_slice(&chunk[..n]);
        }
        RawResponse {
            status,
            headers,
            body: String::from_utf8_lossy(&body[..length]).into_owned(),
        }
    }

    /// The value of header `name` (lower-case), when present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

impl TestApp {
    /// Sends a hand-written HTTP/1.1 request over a plain socket, for headers the client
    /// library would rewrite (`Connection`).
    pub async fn raw_request(&self, head: &str) -> RawResponse {
        let (port, head) = (self.port, head.to_string());
        // On a thread of its own: the runtime must keep serving while this one blocks.
        actix_rt::task::spawn_blocking(move || {
            let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
            stream
                .set_read_timeout(Some(Duration::from_secs(30)))
                .expect("set timeout");
            stream.write_all(head.as_bytes()).expect("write request");
            RawResponse::read(&mut stream)
        })
        .await
        .expect("the raw request finishes")
    }
}

/// A hand-written handshake for `path`, with `extra` header lines (each ending `\r\n`).
pub fn upgrade_request(path: &str, extra: &str) -> String {
    upgrade_request_spelled(path, "websocket", "Upgrade", extra)
}

/// A hand-written handshake for `path` whose `Upgrade` and `Connection` headers are
/// spelled as given, for the checks of how they are matched.
pub fn upgrade_request_spelled(path: &str, upgrade: &str, connection: &str, extra: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: {upgrade}\r\nConnection: {connection}\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{extra}\r\n"
    )
}

/// `Authorization: Bearer <token>` as a header line.
pub fn bearer(token: &str) -> String {
    format!("Authorization: Bearer {token}\r\n")
}

/// Asserts a handshake was refused as an ordinary HTTP answer: `status`, the JSON error
/// body with `code`, the security headers, and `WWW-Authenticate: Bearer` on a 401.
#[track_caller]
pub fn assert_handshake_refused(response: &RawResponse, status: u16, code: &str) {
    assert_eq!(
        response.status, status,
        "the handshake is refused with {status}, never switched: {response:?}"
    );
    assert!(
        response
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/json")),
        "a JSON error body: {response:?}"
    );
    let body: Value = serde_json::from_str(&response.body)
        .unwrap_or_else(|e| panic!("the body is JSON ({e}): {}", response.body));
    assert_eq!(body["error"]["code"], code, "body: {body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "an error message: {body}"
    );
    for (name, value) in SECURITY_HEADERS {
        assert_eq!(response.header(name), Some(value), "{name} on the {status}");
    }
    if status == 401 {
        assert_eq!(response.header("www-authenticate"), Some("Bearer"));
    }
}

/// Header lines carrying an invalid credential of every kind a handshake accepts.
pub async fn invalid_credentials(app: &TestApp, alice: &TestUser) -> Vec<(&'static str, String)> {
    let now = chrono::Utc::now().timestamp();
    let other_secret = "another-secret-that-is-long-enough-0123456789";
    let expired = handmade_token(app, alice, &json!({"iat": now - 120, "exp": now - 60}));
    let not_yet = handmade_token(app, alice, &json!({"nbf": now + 600}));
    let wrong_iss = handmade_token(app, alice, &json!({"iss": "someone-else"}));
    let wrong_aud = handmade_token(app, alice, &json!({"aud": "someone-else"}));
    let forged = token_signed_with(app, alice, &json!({}), other_secret);
    let (revoked_cookie, revoked_token) = app.another_login(&alice.username).await;
    app.logout(Auth::Bearer(revoked_token.clone()))
        .await
        .assert_status(204);
    vec![
        ("a token signed with another secret", bearer(&forged)),
        ("an expired token", bearer(&expired)),
        ("a token not valid yet", bearer(&not_yet)),
        ("a token of another issuer", bearer(&wrong_iss)),
        ("a token for another audience", bearer(&wrong_aud)),
        ("a token that is not a JWT", bearer("not.a.jwt")),
        ("a token of a logged-out session", bearer(&revoked_token)),
        (
            "a forged subprotocol token",
            format!("Sec-WebSocket-Protocol: palaver.v1, bearer.{forged}\r\n"),
        ),
        (
            "an expired subprotocol token",
            format!("Sec-WebSocket-Protocol: palaver.v1, bearer.{expired}\r\n"),
        ),
        (
            "a garbage session cookie",
            format!("Cookie: {SESSION_COOKIE}=garbage\r\n"),
        ),
        (
            "the cookie of a logged-out session",
            format!("Cookie: {SESSION_COOKIE}={}\r\n", revoked_cookie.value()),
        ),
    ]
}

/// A socket written byte by byte. Its receive buffer can be made small before it
/// connects, so a reader that stops reading fills up fast.
pub struct RawSocket {
    stream: tokio::net::TcpStream,
    buffer: Vec<u8>,
}

/// A frame read off a [`RawSocket`].
#[derive(Debug)]
pub struct RawFrame {
    /// The frame's opcode: 0x1 text, 0x2 binary, 0x8 close, 0x9 ping, 0xA pong.
    pub opcode: u8,
    /// The unmasked payload.
    pub payload: Vec<u8>,
}

impl RawFrame {
    /// The close code of a close frame.
    pub fn close_code(&self) -> Option<u16> {
        (self.opcode == 0x8 && self.payload.len() >= 2)
            .then(|| u16::from_be_bytes([self.payload[0], self.payload[1]]))
    }
}

impl RawSocket {
    /// Opens a socket with a receive buffer of `receive_buffer` bytes (when given) and
    /// sends the handshake `head`; panics unless the answer is `101`.
    pub async fn connect(app: &TestApp, head: &str, receive_buffer: Option<u32>) -> RawSocket {
        let socket = tokio::net::TcpSocket::new_v4().expect("a TCP socket");
        if let Some(size) = receive_buffer {
            socket
                .set_recv_buffer_size(size)
                .expect("the receive buffer size is set");
        }
        let address = std::net::SocketAddr::from(([127, 0, 0, 1], app.port));
        let mut stream = socket.connect(address).await.expect("connect");
        stream
            .write_all(head.as_bytes())
            .await
            .expect("write the handshake");
        let mut raw = RawSocket {
            stream,
            buffer: Vec::new(),
        };
        let head_end = loop {
            if let Some(at) = raw.buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break at;
            }
            raw.fill().await;
        };
        let head = String::from_utf8_lossy(&raw.buffer[..head_end]).into_owned();
        assert!(
            head.starts_with("HTTP/1.1 101"),
            "the handshake is switched: {head}"
        );
        raw.buffer.drain(..head_end + 4);
        raw
    }

    async fn fill(&mut self) {
        let mut chunk = [0u8; 64 * 1024];
        let n = actix_rt::time::timeout(READ_TIMEOUT, self.stream.read(&mut chunk))
            .await
            .unwrap_or_else(|_| panic!("nothing arrived within {READ_TIMEOUT:?}"))
            .expect("read from the socket");
        assert!(n > 0, "the connection ended");
        self.buffer.extend_from_slice(&chunk[..n]);
    }

    /// Writes one masked, final frame, as a client must.
    pub async fn send_frame(&mut self, opcode: u8, payload: &[u8]) {
        self.send_frame_with(0x80 | opcode, payload).await;
    }

    /// Writes one masked frame whose first byte (FIN, the reserved bits, the opcode) is
    /// `first`, so tests can send fragments and frames RFC 6455 forbids.
    pub async fn send_frame_with(&mut self, first: u8, payload: &[u8]) {
        let (mut frame, mask) = frame_header(first, payload.len() as u64);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        self.send_bytes(&frame).await;
    }

    /// Writes only a frame header announcing `length` payload bytes, none of which follow.
    pub async fn send_header(&mut self, first: u8, length: u64) {
        let (header, _) = frame_header(first, length);
        self.send_bytes(&header).await;
    }

    /// Writes bytes as they are.
    pub async fn send_bytes(&mut self, bytes: &[u8]) {
        self.stream
            .write_all(bytes)
            .await
            .expect("write to the socket");
    }

    /// Reads one (unmasked, unfragmented) frame from the server.
    pub async fn read_frame(&mut self) -> RawFrame {
        loop {
            if let Some((frame, used)) = parse_frame(&self.buffer) {
                self.buffer.drain(..used);
                return frame;
            }
            self.fill().await;
        }
    }

    /// Reads frames until the close frame; returns its code and the text frames before it.
    pub async fn close_code_after(&mut self) -> (u16, Vec<Value>) {
        let mut texts = Vec::new();
        loop {
            let frame = self.read_frame().await;
            match frame.opcode {
                0x8 => return (frame.close_code().unwrap_or(1005), texts),
                0x1 => texts.push(
                    serde_json::from_slice(&frame.payload)
                        .unwrap_or_else(|e| panic!("a text frame that is not JSON: {e}")),
                ),
                _ => continue,
            }
        }
    }
}

/// A masked client frame header for `length` payload bytes, and its mask.
fn frame_header(first: u8, length: u64) -> (Vec<u8>, [u8; 4]) {
    let mask: [u8; 4] = rand::random();
    let mut header = vec![first];
    match length {
        n if n < 126 => header.push(0x80 | n as u8),
        n if n <= u64::from(u16::MAX) => {
            header.push(0x80 | 126);
            header.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            header.push(0x80 | 127);
            header.extend_from_slice(&n.to_be_bytes());
        }
    }
    header.extend_from_slice(&mask);
    (header, mask)
}

/// One complete server frame at the start of `buffer`, and how many bytes it took.
fn parse_frame(buffer: &[u8]) -> Option<(RawFrame, usize)> {
    if buffer.len() < 2 {
        return None;
    }
    let opcode = buffer[0] & 0x0f;
    let (length, mut at) = match buffer[1] & 0x7f {
        126 if buffer.len() >= 4 => (u16::from_be_bytes([buffer[2], buffer[3]]) as usize, 4),
        127 if buffer.len() >= 10 => {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(&buffer[2..10]);
            (u64::from_be_bytes(bytes) as usize, 10)
        }
        126 | 127 => return None,
        n => (n as usize, 2),
    };
    if buffer[1] & 0x80 != 0 {
        at += 4;
    }
    if buffer.len() < at + length {
        return None;
    }
    let payload = buffer[at..at + length].to_vec();
    Some((RawFrame { opcode, payload }, at + length))
}
