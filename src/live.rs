//! What the HTTP side tells the live side. Handlers publish a [`LiveEvent`] after each
//! committed change; the chat server subscribes and turns them into socket frames, so a
//! message sent over HTTP reaches sockets exactly like one sent over a socket.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{broadcast, OwnedMutexGuard};

use crate::db::models::MessageView;

/// The socket a change came from, so its reply (`ack`) goes to it and copies do not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub socket: u64,
    pub reference: Option<String>,
}

/// A committed change that open sockets must hear about.
#[derive(Debug, Clone)]
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

/// The publishing end, cheap to clone.
#[derive(Clone)]
pub struct Live {
    sender: broadcast::Sender<LiveEvent>,
}

impl Live {
    pub fn new() -> Self {
        let (sender, _) = broadcast::channel(4096);
        Live { sender }
    }

    /// A receiver of every event published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<LiveEvent> {
        self.sender.subscribe()
    }

    /// Publishes; with no subscriber (no live part running) the event is simply dropped.
    pub fn publish(&self, event: LiveEvent) {
        let _ = self.sender.send(event);
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
