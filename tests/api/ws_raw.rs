//! Handshakes and frames written by hand, for what the client library will not do:
//! [`upgrade_request`] builds a handshake whose refusal (status, headers, JSON body) a test
//! reads whole, and [`RawSocket`] writes frames byte by byte (a text frame that is not
//! UTF-8) and can shrink its receive buffer, so a reader that stops reading fills up fast.

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{RawResponse, TestApp, SECURITY_HEADERS};
use crate::ws_client::READ_TIMEOUT;

/// A hand-written handshake for `path`, with `extra` header lines (each ending `\r\n`).
pub fn upgrade_request(path: &str, extra: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
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
pub fn assert_refused(response: &RawResponse, status: u16, code: &str) {
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

/// A socket written byte by byte. Its receive buffer can be made small before it
/// connects, so a reader that stops reading fills up fast.
pub struct RawSocket {
    stream: tokio::net::TcpStream,
    buffer: Vec<u8>,
}

/// A frame read off a [`RawSocket`].
#[derive(Debug)]
pub struct RawFrame {
    pub opcode: u8,
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

    /// Writes one masked frame, as a client must.
    pub async fn send_frame(&mut self, opcode: u8, payload: &[u8]) {
        let mask: [u8; 4] = rand::random();
        let mut frame = vec![0x80 | opcode];
        match payload.len() {
            n if n < 126 => frame.push(0x80 | n as u8),
            n if n <= u16::MAX as usize => {
                frame.push(0x80 | 126);
                frame.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                frame.push(0x80 | 127);
                frame.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        self.stream
            .write_all(&frame)
            .await
            .expect("write the frame");
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
