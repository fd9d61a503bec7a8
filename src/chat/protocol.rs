//! The frames of docs/protocol.md, as types. Client frames are parsed into [`ClientFrame`];
//! server frames are built as [`ServerFrame`] and serialised once per event. The JSON
//! Schema at `/ws/schema.json` is generated from these same types.

use bytestring::ByteString;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::db::models::{MessageView, UserView};
use crate::domain::{ConversationId, MessageId, UserId};

/// The subprotocol palaver speaks.
pub const SUBPROTOCOL: &str = "palaver.v1";

/// A frame from a client. Every frame may also carry `ref`, echoed in the reply. Unknown
/// fields are ignored; in particular a `sender_id` never names the sender.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    /// First-message authentication.
    Auth {
        /// The bearer token that proves the socket's identity.
        token: String,
        /// Echoed in the reply.
        #[serde(rename = "ref")]
        reference: Option<String>,
    },
    /// The first message of clients that name their user: `user_id` is a claim, checked against a proven identity.
    Initial {
        /// Who the client says it is: a claim, never a credential.
        user_id: UserId,
        /// A conversation to join at once.
        conversation_id: Option<ConversationId>,
        /// The token that proves it; without one the handshake's identity must match.
        token: Option<String>,
        /// Echoed in the reply.
        #[serde(rename = "ref")]
        reference: Option<String>,
    },
    /// Join a conversation's room (membership is checked in the database).
    Join {
        /// The conversation.
        conversation_id: ConversationId,
        /// Echoed in `joined` or `error`.
        #[serde(rename = "ref")]
        reference: Option<String>,
    },
    /// Leave a room.
    Leave {
        /// The conversation.
        conversation_id: ConversationId,
        /// Echoed in `left`.
        #[serde(rename = "ref")]
        reference: Option<String>,
    },
    /// Send a message: stored, then acknowledged, then delivered.
    Message {
        /// Where to send.
        conversation_id: ConversationId,
        /// 1 to `MAX_CONTENT_CHARS` characters.
        content: String,
        /// The client's own id; a repeat is acknowledged with the first message.
        client_msg_id: Option<String>,
        /// Echoed in `ack` or `error`.
        #[serde(rename = "ref")]
        reference: Option<String>,
    },
    /// The user is typing in a joined conversation.
    Typing {
        /// The conversation.
        conversation_id: ConversationId,
        /// Echoed in an `error`.
        #[serde(rename = "ref")]
        reference: Option<String>,
    },
    /// Move the read marker forward.
    Read {
        /// The conversation.
        conversation_id: ConversationId,
        /// The newest message read; must be of that conversation.
        message_id: MessageId,
        /// Echoed in an `error`.
        #[serde(rename = "ref")]
        reference: Option<String>,
    },
    /// A page of messages, as `GET /api/messages` pages them.
    History {
        /// The conversation.
        conversation_id: ConversationId,
        /// The page right before this message.
        before: Option<MessageId>,
        /// The page right after this message (resume after a reconnect).
        after: Option<MessageId>,
        /// The page around this message: it and its neighbours (not with `before` or
        /// `after`), as when opening a conversation at a search hit.
        around: Option<MessageId>,
        /// 1–200, default 50.
        limit: Option<i64>,
        /// Echoed in `history` or `error`.
        #[serde(rename = "ref")]
        reference: Option<String>,
    },
    /// Replace the socket's token before it expires.
    Refresh {
        /// The new token, of the same user.
        token: String,
        /// Echoed in `refreshed` or `error`.
        #[serde(rename = "ref")]
        reference: Option<String>,
    },
    /// An application-level ping, for clients that cannot send WebSocket pings.
    Ping {
        /// Echoed in `pong`.
        #[serde(rename = "ref")]
        reference: Option<String>,
    },
}

impl ClientFrame {
    /// The frame's `ref`, echoed in the reply.
    pub fn reference(&self) -> Option<&String> {
        match self {
            ClientFrame::Auth { reference, .. }
            | ClientFrame::Initial { reference, .. }
            | ClientFrame::Join { reference, .. }
            | ClientFrame::Leave { reference, .. }
            | ClientFrame::Message { reference, .. }
            | ClientFrame::Typing { reference, .. }
            | ClientFrame::Read { reference, .. }
            | ClientFrame::History { reference, .. }
            | ClientFrame::Refresh { reference, .. }
            | ClientFrame::Ping { reference } => reference.as_ref(),
        }
    }
}

/// A frame to a client.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// Sent once, when the socket is authenticated.
    Ready {
        /// Who the socket is.
        user: UserView,
        /// This socket's own id, not the login session.
        session_id: String,
        /// How often the server pings.
        heartbeat_interval_ms: u64,
        /// The conversation of a bound socket, joined already.
        #[serde(skip_serializing_if = "Option::is_none")]
        conversation_id: Option<i64>,
        /// The `ref` of the frame that authenticated, if one did.
        #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
        reference: Option<String>,
    },
    /// The answer to `refresh`.
    Refreshed {
        /// When the new token expires.
        expires_at: String,
        /// The `ref` of the `refresh`.
        #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
        reference: Option<String>,
    },
    /// The answer to `join`.
    Joined {
        /// The conversation.
        conversation_id: i64,
        /// Users with a socket in the room now.
        online: Vec<i64>,
        /// The newest message id, to resume from.
        last_message_id: Option<i64>,
        /// The `ref` of the `join`.
        #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
        reference: Option<String>,
    },
    /// The socket is out of the room.
    Left {
        /// The conversation.
        conversation_id: i64,
        /// `removed` when the user lost membership.
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        /// The `ref` of the `leave`.
        #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
        reference: Option<String>,
    },
    /// The sender's message is committed.
    Ack {
        /// The client's own id, as sent.
        client_msg_id: Option<String>,
        /// The stored message.
        message: MessageView,
        /// The `ref` of the `message`.
        #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
        reference: Option<String>,
    },
    /// A new message in a joined conversation.
    Message {
        /// The message.
        message: MessageView,
    },
    /// A message was edited.
    MessageEdited {
        /// The message as it is now.
        message: MessageView,
    },
    /// A message was deleted.
    MessageDeleted {
        /// The message, with empty content.
        message: MessageView,
    },
    /// Another member is typing.
    Typing {
        /// The conversation.
        conversation_id: i64,
        /// The typist.
        user_id: i64,
    },
    /// A member's read marker moved.
    Read {
        /// The conversation.
        conversation_id: i64,
        /// The reader.
        user_id: i64,
        /// Where the marker stands now.
        message_id: i64,
    },
    /// A user came online in the room, or left it.
    Presence {
        /// The conversation.
        conversation_id: i64,
        /// The user.
        user_id: i64,
        /// Online or offline.
        status: Presence,
    },
    /// A user became a member.
    MemberAdded {
        /// The conversation.
        conversation_id: i64,
        /// The new member.
        user_id: i64,
    },
    /// A user stopped being a member.
    MemberRemoved {
        /// The conversation.
        conversation_id: i64,
        /// The former member.
        user_id: i64,
    },
    /// The answer to `history`.
    History {
        /// The conversation.
        conversation_id: i64,
        /// The page, ascending by id.
        messages: Vec<MessageView>,
        /// Whether more lie beyond the page (on either side, for a page `around` a message).
        has_more: bool,
        /// With `around`: whether older messages lie before the page.
        #[serde(skip_serializing_if = "Option::is_none")]
        has_more_before: Option<bool>,
        /// With `around`: whether newer messages lie after the page.
        #[serde(skip_serializing_if = "Option::is_none")]
        has_more_after: Option<bool>,
        /// The `ref` of the `history`.
        #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
        reference: Option<String>,
    },
    /// A frame was refused; the socket stays open.
    Error {
        /// As in the HTTP error body, plus `unauthenticated`.
        code: String,
        /// For people; names the field.
        message: String,
        /// The `ref` of the refused frame.
        #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
        reference: Option<String>,
    },
    /// The answer to `ping`.
    Pong {
        /// The `ref` of the `ping`.
        #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
        reference: Option<String>,
    },
}

/// `presence.status`.
#[derive(Debug, Clone, Copy, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    /// The user's first socket joined the room.
    Online,
    /// The user's last socket left it.
    Offline,
}

impl ServerFrame {
    /// Serialises the frame once; the bytes are shared by every recipient.
    pub fn encode(&self) -> ByteString {
        serde_json::to_string(self)
            .expect("server frames are plain data and always serialise")
            .into()
    }

    /// An `error` frame with the code of the HTTP error body.
    pub fn error(code: &str, message: impl Into<String>, reference: Option<String>) -> ServerFrame {
        ServerFrame::Error {
            code: code.to_string(),
            message: message.into(),
            reference,
        }
    }
}

/// Why a client frame was refused before it did anything.
#[derive(Debug)]
pub struct Malformed {
    /// The frame's `ref`, when one could be read.
    pub reference: Option<String>,
    /// What is wrong, naming the field.
    pub message: String,
}

/// Parses a text frame: not JSON, an unknown `type`, a missing field or an id that is not a
/// positive 64-bit integer is [`Malformed`], with the `ref` when one could be read.
pub fn parse(text: &str) -> Result<ClientFrame, Malformed> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| Malformed {
        reference: None,
        message: format!("not JSON: {e}"),
    })?;
    let reference = value
        .get("ref")
        .and_then(|r| r.as_str())
        .map(str::to_string);
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        Malformed {
            reference,
            message: if path == "." {
                e.into_inner().to_string()
            } else {
                format!("{path}: {}", e.into_inner())
            },
        }
    })
}

/// The JSON Schema of every client and server frame.
pub fn schema() -> serde_json::Value {
    serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "palaver.v1 WebSocket frames",
        "client": schemars::schema_for!(ClientFrame),
        "server": schemars::schema_for!(ServerFrame),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::Strategy;

    #[test]
    fn frames_parse_with_their_ref() {
        let frame = parse(r#"{"type":"join","conversation_id":3,"ref":"r1"}"#).unwrap();
        assert!(
            matches!(frame, ClientFrame::Join { conversation_id, reference: Some(ref r) } if conversation_id.get() == 3 && r == "r1")
        );
    }

    #[test]
    fn malformed_frames_keep_their_ref() {
        let err = parse(r#"{"type":"join","ref":"r2"}"#).unwrap_err();
        assert_eq!(err.reference.as_deref(), Some("r2"));
        assert!(parse(r#"{"type":"nope"}"#).is_err());
        assert!(parse("not json").is_err());
        assert!(parse(r#"{"type":"join","conversation_id":-1}"#).is_err());
        assert!(parse(r#"{"type":"join","conversation_id":18446744073709551615}"#).is_err());
    }

    proptest::proptest! {
        /// Whatever text arrives, parsing answers a frame or a `Malformed` that says why.
        #[test]
        fn any_text_parses_or_is_refused_with_a_reason(text in ".*") {
            if let Err(malformed) = parse(&text) {
                proptest::prop_assert!(!malformed.message.is_empty());
            }
        }

        /// JSON objects with a known `type` and fields of any kind never panic the parser.
        #[test]
        fn any_frame_shaped_json_parses_or_is_refused(
            kind in proptest::sample::select(vec![
                "auth", "initial", "join", "leave", "message", "typing", "read", "history",
                "refresh", "ping", "nope",
            ]),
            field in "[a-z_]{1,16}",
            value in proptest::prop_oneof![
                proptest::num::i64::ANY.prop_map(|n| serde_json::json!(n)),
                proptest::num::f64::ANY.prop_map(|n| serde_json::json!(n)),
                ".*".prop_map(|s| serde_json::json!(s)),
                proptest::bool::ANY.prop_map(|b| serde_json::json!(b)),
            ],
        ) {
            let frame = serde_json::json!({"type": kind, field: value, "ref": "r"});
            if let Err(malformed) = parse(&frame.to_string()) {
                proptest::prop_assert_eq!(malformed.reference.as_deref(), Some("r"));
            }
        }
    }

    #[test]
    fn server_frames_carry_their_type() {
        let text = ServerFrame::Pong { reference: None }.encode();
        assert_eq!(&*text, r#"{"type":"pong"}"#);
    }
}
