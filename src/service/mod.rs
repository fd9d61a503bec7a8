//! The rules both transports share. An HTTP handler and a socket frame that ask for the
//! same thing (send a message, join a conversation, page its history, move a read marker)
//! call the same function here, so they refuse in the same order, number messages alike
//! and publish the same live events. Nothing here knows about actix-web or sockets:
//! inputs are [`domain`](crate::domain) types, answers are rows or [`AppError`]s, and
//! committed changes go out through [`Live`].
//!
//! The order of refusals is written once, in [`Service::refuse_invalid`]: a conversation
//! the caller is not a member of does not exist for them (404), and that is decided before
//! an invalid field (400) or a forbidden action (403).
//!
//! - [`membership`]: membership checks, joining, creating conversations, adding and removing members.
//! - [`messages`]: sending (through the group-commit writer), editing, deleting, reading one message.
//! - [`history`]: paging a conversation's messages.
//! - [`read_markers`]: moving a read marker and telling the conversation.
//! - [`search`]: full-text search over what a user may read.

pub mod history;
pub mod membership;
pub mod messages;
pub mod read_markers;
pub mod search;
mod writer;

use std::sync::Arc;

use crate::db::Db;
use crate::domain::{ConversationId, UserId};
use crate::error::AppError;
use crate::live::Live;
use crate::metrics::Metrics;

pub use history::PageRequest;
pub use messages::Sent;

/// The shared rules, over the database and the live side.
pub struct Service {
    /// Where everything is stored.
    pub db: Db,
    /// Where committed changes are published for the sockets (and the cluster bus).
    pub live: Live,
    /// `MAX_CONTENT_CHARS`.
    max_content_chars: usize,
    /// The one task that stores messages, in batches.
    writer: writer::Writer,
}

impl Service {
    /// The service over `db`, publishing to `live`; starts the message writer, so it
    /// must be called on a tokio runtime.
    pub fn new(db: Db, live: Live, metrics: Arc<Metrics>, max_content_chars: usize) -> Service {
        let writer = writer::Writer::start(db.clone(), live.clone(), metrics);
        Service {
            db,
            live,
            max_content_chars,
            writer,
        }
    }

    /// Refuses an invalid request about a conversation, as 404 when the caller is not a
    /// member: a conversation the caller is not in does not exist for them, so 404 comes
    /// before 400.
    pub async fn refuse_invalid(
        &self,
        conversation_id: ConversationId,
        user_id: UserId,
        invalid: AppError,
    ) -> AppError {
        match self.require_membership(conversation_id, user_id).await {
            Ok(_) => invalid,
            Err(not_member) => not_member,
        }
    }
}

/// The 404 of a conversation that does not exist for the caller.
pub fn conversation_not_found(conversation_id: ConversationId) -> AppError {
    AppError::NotFound(format!("conversation {conversation_id} not found"))
}
