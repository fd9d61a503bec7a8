//! What the HTTP side tells the live side. Handlers publish a [`LiveEvent`] after each
//! committed change; the chat server subscribes and turns them into socket frames, so a
//! message sent over HTTP reaches sockets exactly like one sent over a socket.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, OwnedMutexGuard};

use crate::db::models::MessageView;

/// The socket a change came from, so its reply (`ack`) goes to it and copies do not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    pub socket: u64,
    pub reference: Option<String>,
}

/// A committed change that open sockets must hear about.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum LiveEvent {
    MessageCreated {
        message: MessageView,
        origin: Option<Origin>,
    },
    MessageEdited(MessageView),
    MessageDeleted(MessageView),
    MemberAdded {
        conversation_id: i64,
        user_id: i64,
    },
    MemberRemoved {
        conversation_id: i64,
        user_id: i64,
    },
    Read {
        conversation_id: i64,
        user_id: i64,
        message_id: i64,
        origin: Option<u64>,
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

    pub fn session_revoked(&self, session_id: String) {
        self.publish(LiveEvent::SessionRevoked(session_id));
    }
}

impl Default for Live {
    fn default() -> Self {
        Live::new()
    }
}

/// One lock per conversation, held from a message's insert until it is published, so
/// events reach the chat server in commit order and every socket sees ids ascending.
#[derive(Default)]
pub struct ConversationLocks {
    locks: Mutex<HashMap<i64, Arc<tokio::sync::Mutex<()>>>>,
}

impl ConversationLocks {
    pub async fn lock(&self, conversation_id: i64) -> OwnedMutexGuard<()> {
        let lock = {
            let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
            if locks.len() > 10_000 {
                locks.retain(|_, lock| Arc::strong_count(lock) > 1);
            }
            Arc::clone(locks.entry(conversation_id).or_default())
        };
        lock.lock_owned().await
    }
}
