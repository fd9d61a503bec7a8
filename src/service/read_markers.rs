//! Read markers: a member's marker moves forward, never back, and the conversation's live
//! sockets hear of it.

use crate::db;
use crate::domain::{ConversationId, MessageId, UserId};
use crate::error::{AppError, DbContext};
use crate::live::LiveEvent;

use super::Service;

impl Service {
    /// Moves `reader`'s marker to `message_id` and publishes `read`; `origin` is the socket
    /// that asked, which gets no copy. 404 not a member, then 400 for a message of another
    /// conversation or of none.
    pub async fn mark_read(
        &self,
        conversation_id: ConversationId,
        reader: UserId,
        message_id: MessageId,
        origin: Option<u64>,
    ) -> Result<(), AppError> {
        self.require_membership(conversation_id, reader).await?;
        let belongs = db::messages::find(&self.db, message_id.get())
            .await
            .context("reading the marked message")?
            .is_some_and(|m| m.conversation_id == conversation_id.get());
        if !belongs {
            return Err(AppError::BadRequest(format!(
                "message_id: message {message_id} is not in conversation {conversation_id}"
            )));
        }
        db::conversations::mark_read(
            &self.db,
            conversation_id.get(),
            reader.get(),
            message_id.get(),
        )
        .await
        .context("moving a read marker")?;
        self.live.publish(LiveEvent::Read {
            conversation_id: conversation_id.get(),
            user_id: reader.get(),
            message_id: message_id.get(),
            origin,
        });
        Ok(())
    }
}
