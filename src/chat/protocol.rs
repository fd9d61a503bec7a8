//! The frames of PROTOCOL.md, as types. Client frames are parsed into [`ClientFrame`];
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
        token: String,
        #[serde(rename = "ref")]
        reference: Option<String>,
    },
    /// The first message of clients that name their user: `user_id` is a claim, checked against a proven identity.
    Initial {
        user_id: UserId,
        conversation_id: Option<ConversationId>,
        token: Option<String>,
        #[serde(rename = "ref")]
        reference: Option<String>,
    },
    Join {
        conversation_id: ConversationId,
        #[serde(rename = "ref")]
        reference: Option<String>,
    },
    Leave {
        conversation_id: ConversationId,
        #[serde(rename = "ref")]
        reference: Option<String>,
    },
    Message {
        conversation_id: ConversationId,
        content: String,
        client_msg_id: Option<String>,
        #[serde(rename = "ref")]
        reference: Option<String>,
    },
    Typing {
        conversation_id: ConversationId,
        #[serde(rename = "ref")]
        reference: Option<String>,
    },
    Read {
        conversation_id: ConversationId,
        message_id: MessageId,
        #[serde(rename = "ref")]
        reference: Option<String>,
    },
    History {
        conversation_id: ConversationId,
        before: Option<MessageId>,
        after: Option<MessageId>,
        limit: Option<i64>,
        #[serde(rename = "ref")]
        reference: Option<String>,
    },
    Refresh {
        token: String,
        #[serde(rename = "ref")]
        reference: Option<String>,
    },
    Ping {
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
    Ready {
        user: UserView,
        /// This socket's own id, not the login session.
        session_id: String,
        heartbeat_interval_ms: u64,
        #[serde(skip_serializing_if = "Option::is_none")]
        conversation_id: Option<i64>,
        #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
        reference: Option<String>,
    },
    Refreshed {
        expires_at: String,
        #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
        reference: Option<String>,
    },
    Joined {
        conversation_id: i64,
        online: Vec<i64>,
        last_message_id: Option<i64>,
        #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
        reference: Option<String>,
    },
    Left {
        conversation_id: i64,
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
        reference: Option<String>,
    },
    Ack {
        client_msg_id: Option<String>,
        message: MessageView,
        #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
        reference: Option<String>,
    },
    Message {
        message: MessageView,
    },
    MessageEdited {
        message: MessageView,
    },
    MessageDeleted {
        message: MessageView,
    },
    Typing {
        conversation_id: i64,
        user_id: i64,
    },
    Read {
        conversation_id: i64,
        user_id: i64,
        message_id: i64,
    },
    Presence {
        conversation_id: i64,
        user_id: i64,
        status: Presence,
    },
    MemberAdded {
        conversation_id: i64,
        user_id: i64,
    },
    MemberRemoved {
        conversation_id: i64,
        user_id: i64,
    },
    History {
        conversation_id: i64,
        messages: Vec<MessageView>,
        has_more: bool,
        #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
        reference: Option<String>,
    },
    Error {
        code: String,
        message: String,
        #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
        reference: Option<String>,
    },
    Pong {
        #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
        reference: Option<String>,
    },
}

/// `presence.status`.
#[derive(Debug, Clone, Copy, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    Online,
    Offline,
}

impl ServerFrame {
    /// Serialises the frame once; the bytes are shared by every recipient.
    pub fn encode(&self) -> ByteString {
        serde_json::to_string(self)
            .expect("server frames are plain data and always serialise")
            .into()
    }

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

    #[test]
    fn server_frames_carry_their_type() {
        let text = ServerFrame::Pong { reference: None }.encode();
        assert_eq!(&*text, r#"{"type":"pong"}"#);
    }
}
