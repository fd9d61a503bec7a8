//! What the HTTP side tells the live side. Handlers publish a [`LiveEvent`] after each
//! committed change; the chat server subscribes and turns them into socket frames, so a
//! message sent over HTTP reaches sockets exactly like one sent over a socket.

use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::db::models::MessageView;

/// The socket a change came from, so its reply (`ack`) goes to it and copies do not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    /// The socket's id within this process.
    pub socket: u64,
    /// The `ref` of the frame, echoed in the `ack`.
    pub reference: Option<String>,
}

/// A committed change that open sockets must hear about.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum LiveEvent {
    /// A new message: `message` to the room, `ack` to the socket it came from.
    MessageCreated {
        /// The committed message.
        message: MessageView,
        /// The sending socket, when it came over one.
        origin: Option<Origin>,
    },
    /// `message_edited` to the room.
    MessageEdited(MessageView),
    /// `message_deleted` to the room.
    MessageDeleted(MessageView),
    /// `member_added` to the room and the user's `/ws` sockets.
    MemberAdded {
        /// The conversation.
        conversation_id: i64,
        /// The new member.
        user_id: i64,
    },
    /// `member_removed`; the user's sockets leave the room (bound ones close 4003).
    MemberRemoved {
        /// The conversation.
        conversation_id: i64,
        /// The former member.
        user_id: i64,
    },
    /// `read` to the room, except the socket that sent it.
    Read {
        /// The conversation.
        conversation_id: i64,
        /// The reader.
        user_id: i64,
        /// Where the marker now stands.
        message_id: i64,
        /// The socket that moved it, which gets no copy.
        origin: Option<u64>,
    },
    /// `typing` to the room, except the typist's own sockets; never stored.
    Typing {
        /// The conversation.
        conversation_id: i64,
        /// The typist.
        user_id: i64,
    },
    /// A node's user came online in a conversation (their first socket there joined), or
    /// went offline (their last one left).
    Presence {
        /// The conversation.
        conversation_id: i64,
        /// The user.
        user_id: i64,
        /// Online or offline.
        online: bool,
        /// The node whose sockets these are.
        node: String,
    },
    /// A node's whole list of online users, sent regularly: it repairs what was missed and
    /// shows the node is alive.
    PresenceSnapshot {
        /// The node.
        node: String,
        /// `(conversation, user)` for every user online there.
        online: Vec<(i64, i64)>,
        /// `(user, sockets)` for every user with an authenticated socket there.
        #[serde(default)]
        sockets: Vec<(i64, usize)>,
    },
    /// A node now holds `count` authenticated sockets of a user (`MAX_SOCKETS_PER_USER`
    /// counts them on every node).
    SocketCount {
        /// The node.
        node: String,
        /// The user.
        user_id: i64,
        /// Their sockets there now.
        count: usize,
    },
    /// A node (re)joined the bus and asks every other node for its list.
    PresenceRequest {
        /// The asking node.
        node: String,
    },
    /// A login session was revoked: its sockets close 4001.
    SessionRevoked(String),
}

impl LiveEvent {
    /// The event as another process sees it: socket ids are per process, so the origin
    /// (and with it the `ack`) stays with the process the socket is on.
    pub fn without_origin(self) -> LiveEvent {
        match self {
            LiveEvent::MessageCreated { message, .. } => LiveEvent::MessageCreated {
                message,
                origin: None,
            },
            LiveEvent::Read {
                conversation_id,
                user_id,
                message_id,
                ..
            } => LiveEvent::Read {
                conversation_id,
                user_id,
                message_id,
                origin: None,
            },
            other => other,
        }
    }
}

/// An event as the live side receives it.
#[derive(Debug, Clone)]
pub struct Published {
    /// The change.
    pub event: LiveEvent,
    /// Committed by this process (and so to be shared with the others over the bus).
    pub local: bool,
}

/// The publishing end, cheap to clone.
#[derive(Clone)]
pub struct Live {
    sender: broadcast::Sender<Published>,
}

impl Live {
    /// A channel with room for bursts; a receiver that falls further behind is told so.
    pub fn new() -> Self {
        let (sender, _) = broadcast::channel(65536);
        Live { sender }
    }

    /// A receiver of every event published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Published> {
        self.sender.subscribe()
    }

    /// Publishes a change committed here; with no subscriber the event is simply dropped.
    pub fn publish(&self, event: LiveEvent) {
        let _ = self.sender.send(Published { event, local: true });
    }

    /// Publishes a change another process committed (from the cluster bus).
    pub fn publish_remote(&self, event: LiveEvent) {
        let _ = self.sender.send(Published {
            event,
            local: false,
        });
    }

    /// Publishes a logout: the session's sockets close 4001, here and on every node.
    pub fn session_revoked(&self, session_id: String) {
        self.publish(LiveEvent::SessionRevoked(session_id));
    }
}

impl Default for Live {
    fn default() -> Self {
        Live::new()
    }
}
