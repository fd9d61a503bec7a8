//! What the HTTP side tells the live side. Handlers publish a [`LiveEvent`] after each
//! committed change; the chat server subscribes and turns them into socket frames, so a
//! message sent over HTTP reaches sockets exactly like one sent over a socket.

use tokio::sync::broadcast;

use crate::db::models::MessageView;

/// A committed change that open sockets must hear about.
#[derive(Debug, Clone)]
pub enum LiveEvent {
    MessageCreated(MessageView),
    MessageEdited(MessageView),
    MessageDeleted(MessageView),
    MemberAdded { conversation_id: i64, user_id: i64 },
    MemberRemoved { conversation_id: i64, user_id: i64 },
    Read { conversation_id: i64, user_id: i64, message_id: i64 },
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
