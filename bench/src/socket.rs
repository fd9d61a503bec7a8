//! One chat socket: the handshake of `/ws/conversations/{id}` with a bearer token, the
//! wait for `ready`, and a reading of just the server frames a run counts. Frames are
//! read with borrowed strings and, for the frequent `message` frame, without a first pass
//! to find the type, because on one core the client's parsing is part of what limits a run.

use std::borrow::Cow;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use futures_util::StreamExt;
use serde::Deserialize;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::header::{AUTHORIZATION, SEC_WEBSOCKET_PROTOCOL};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use crate::api::Target;

/// An open chat socket.
pub type Ws = WebSocketStream<TcpStream>;

/// The subprotocol palaver speaks.
const SUBPROTOCOL: &str = "palaver.v1";

/// Buffers per socket: tungstenite allocates the read buffer up front, 128 KiB by default,
/// which for ten thousand idle sockets would be the client's memory problem, not the
/// server's. Writes go out at once (`0`), so a message leaves when it is sent.
pub fn config(read_buffer: usize) -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(read_buffer)
        .write_buffer_size(0)
}

/// Opens a socket bound to `conversation` as the owner of `token` and waits for `ready`;
/// `timeout` covers the TCP connect, the upgrade and the wait.
pub async fn open(
    target: &Target,
    conversation: i64,
    token: &str,
    config: WebSocketConfig,
    timeout: Duration,
) -> Result<Ws> {
    tokio::time::timeout(timeout, open_inner(target, conversation, token, config))
        .await
        .with_context(|| format!("no ready within {timeout:?}"))?
}

async fn open_inner(
    target: &Target,
    conversation: i64,
    token: &str,
    config: WebSocketConfig,
) -> Result<Ws> {
    let tcp = TcpStream::connect(target.addr)
        .await
        .with_context(|| format!("TCP connect to {}", target.addr))?;
    tcp.set_nodelay(true).context("setting TCP_NODELAY")?;
    let url = format!("ws://{}/ws/conversations/{conversation}", target.addr);
    let mut request = url
        .as_str()
        .into_client_request()
        .with_context(|| format!("building the handshake of {url}"))?;
    let headers = request.headers_mut();
    headers.insert(
        AUTHORIZATION,
        HeaderValue::from_str(&format!("Bearer {token}")).context("a token header")?,
    );
    headers.insert(
        SEC_WEBSOCKET_PROTOCOL,
        HeaderValue::from_static(SUBPROTOCOL),
    );
    let (mut ws, _response) =
        tokio_tungstenite::client_async_with_config(request, tcp, Some(config))
            .await
            .with_context(|| format!("WebSocket handshake of {url}"))?;
    loop {
        let frame = ws
            .next()
            .await
            .with_context(|| format!("{url} closed before ready"))?
            .with_context(|| format!("reading {url} before ready"))?;
        match frame {
            Message::Text(text) => {
                match parse(&text).with_context(|| format!("a frame from {url} before ready"))? {
                    Incoming::Ready { conversation_id } => {
                        if conversation_id != Some(conversation) {
                            bail!("{url}: ready names conversation {conversation_id:?}");
                        }
                        return Ok(ws);
                    }
                    Incoming::Error { code, message } => {
                        bail!("{url}: error before ready: {code}: {message}")
                    }
                    _ => {}
                }
            }
            Message::Close(close) => bail!("{url} closed before ready: {close:?}"),
            _ => {}
        }
    }
}

/// The text of a `message` frame for `conversation`. Content and id are the client's own,
/// made of characters JSON needs no escape for.
pub fn message_frame(conversation: i64, content: &str, client_msg_id: &str) -> String {
    format!(
        r#"{{"type":"message","conversation_id":{conversation},"content":"{content}","client_msg_id":"{client_msg_id}"}}"#
    )
}

/// The server frames a run cares about.
#[derive(Debug, PartialEq, Eq)]
pub enum Incoming<'a> {
    /// The socket is authenticated (and joined, for a bound socket).
    Ready {
        /// The bound conversation.
        conversation_id: Option<i64>,
    },
    /// Another socket's message.
    Message {
        /// Where it was sent.
        conversation_id: i64,
        /// What it says.
        content: Cow<'a, str>,
    },
    /// This socket's message is stored.
    Ack {
        /// Where it was sent.
        conversation_id: i64,
        /// What it says.
        content: Cow<'a, str>,
    },
    /// A frame was refused.
    Error {
        /// The error code, e.g. `rate_limited`.
        code: Cow<'a, str>,
        /// For people.
        message: Cow<'a, str>,
    },
    /// Presence, typing and everything else: not counted.
    Other,
}

#[derive(Deserialize)]
struct Kind<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
}

#[derive(Deserialize)]
struct Body<'a> {
    conversation_id: i64,
    #[serde(borrow)]
    content: Cow<'a, str>,
}

#[derive(Deserialize)]
struct Delivered<'a> {
    #[serde(borrow)]
    message: Body<'a>,
}

#[derive(Deserialize)]
struct ReadyFrame {
    conversation_id: Option<i64>,
}

#[derive(Deserialize)]
struct ErrorFrame<'a> {
    #[serde(borrow, default)]
    code: Cow<'a, str>,
    #[serde(borrow, default)]
    message: Cow<'a, str>,
}

/// Reads one text frame.
pub fn parse(text: &str) -> Result<Incoming<'_>> {
    // The server writes `type` first; a frame that starts so is parsed once.
    if text.starts_with(r#"{"type":"message","#) {
        return delivered(text).map(|(conversation_id, content)| Incoming::Message {
            conversation_id,
            content,
        });
    }
    let kind: Kind = serde_json::from_str(text).context("a frame without a type")?;
    Ok(match kind.kind.as_ref() {
        "message" => {
            let (conversation_id, content) = delivered(text)?;
            Incoming::Message {
                conversation_id,
                content,
            }
        }
        "ack" => {
            let (conversation_id, content) = delivered(text)?;
            Incoming::Ack {
                conversation_id,
                content,
            }
        }
        "ready" => {
            let ready: ReadyFrame = serde_json::from_str(text).context("a ready frame")?;
            Incoming::Ready {
                conversation_id: ready.conversation_id,
            }
        }
        "error" => {
            let error: ErrorFrame = serde_json::from_str(text).context("an error frame")?;
            Incoming::Error {
                code: error.code,
                message: error.message,
            }
        }
        _ => Incoming::Other,
    })
}

fn delivered(text: &str) -> Result<(i64, Cow<'_, str>)> {
    let frame: Delivered = serde_json::from_str(text)
        .context("a message or ack frame without message.conversation_id and content")?;
    Ok((frame.message.conversation_id, frame.message.content))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_counted_frames_are_recognised() {
        let message = r#"{"type":"message","message":{"id":9,"conversation_id":3,"seq":4,"sender_id":2,"content":"b|1|2|3","client_msg_id":"s1-2","created_at":"x","edited_at":null,"deleted":false}}"#;
        assert_eq!(
            parse(message).unwrap(),
            Incoming::Message {
                conversation_id: 3,
                content: "b|1|2|3".into()
            }
        );
        let reordered = r#"{"message":{"content":"b|1|2|3","conversation_id":3},"type":"message"}"#;
        assert_eq!(parse(reordered).unwrap(), parse(message).unwrap());
        let ack = r#"{"type":"ack","client_msg_id":"s1-2","message":{"id":9,"conversation_id":3,"content":"b|1|2|3"}}"#;
        assert!(
            matches!(parse(ack).unwrap(), Incoming::Ack { conversation_id: 3, content } if content == "b|1|2|3")
        );
        let ready = r#"{"type":"ready","user":{"id":2},"session_id":"s","heartbeat_interval_ms":30000,"conversation_id":3}"#;
        assert_eq!(
            parse(ready).unwrap(),
            Incoming::Ready {
                conversation_id: Some(3)
            }
        );
        let error = r#"{"type":"error","code":"rate_limited","message":"slow down"}"#;
        assert!(
            matches!(parse(error).unwrap(), Incoming::Error { code, .. } if code == "rate_limited")
        );
        let presence = r#"{"type":"presence","conversation_id":3,"user_id":2,"status":"online"}"#;
        assert_eq!(parse(presence).unwrap(), Incoming::Other);
        assert!(parse("not json").is_err());
        assert!(parse(r#"{"type":"message","message":{}}"#).is_err());
    }

    #[test]
    fn escaped_content_is_read_too() {
        let message = r#"{"type":"message","message":{"conversation_id":3,"content":"a\"b"}}"#;
        assert!(
            matches!(parse(message).unwrap(), Incoming::Message { content, .. } if content == "a\"b")
        );
    }

    #[test]
    fn a_message_frame_is_the_protocol_s_json() {
        let frame = message_frame(7, "b|1|2|3", "s1-2");
        let value: serde_json::Value = serde_json::from_str(&frame).unwrap();
        assert_eq!(value["type"], "message");
        assert_eq!(value["conversation_id"], 7);
        assert_eq!(value["content"], "b|1|2|3");
        assert_eq!(value["client_msg_id"], "s1-2");
    }
}
