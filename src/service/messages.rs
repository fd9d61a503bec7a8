//! Sending, editing and deleting messages. A message is stored first, then published,
//! then acknowledged: the same path for `POST /api/messages` and a socket's `message`,
//! through the group-commit [`writer`](super::writer).

use crate::db;
use crate::db::models::{Message, MessageView};
use crate::db::send_batch::{Outgoing, Sent as Stored};
use crate::domain::{ClientMsgId, Content, ConversationId, MessageId, Role, UserId};
use crate::error::{AppError, DbContext};
use crate::live::{LiveEvent, Origin};

use super::{conversation_not_found, Service};

/// What became of a send.
pub enum Sent {
    /// Stored now, and published.
    Created(Message),
    /// The sender had already sent this `client_msg_id`: the first message, published
    /// nowhere again.
    Repeated(Message),
}

impl Service {
    /// Stores a message from `sender` and publishes it. Refusals in order: 404 not a
    /// member, 400 bad content or `client_msg_id`.
    pub async fn send(
        &self,
        sender: UserId,
        conversation_id: ConversationId,
        content: &str,
        client_msg_id: Option<&str>,
        origin: Option<Origin>,
    ) -> Result<Sent, AppError> {
        let checked = Content::parse(content, self.max_content_chars)
            .and_then(|content| ClientMsgId::parse(client_msg_id).map(|id| (content, id)));
        let (content, client_msg_id) = match checked {
            Ok(checked) => checked,
            Err(invalid) => {
                return Err(self
                    .refuse_invalid(conversation_id, sender, invalid.into())
                    .await)
            }
        };
        let outgoing = Outgoing {
            conversation_id: conversation_id.get(),
            sender_id: sender.get(),
            content: content.as_str().to_string(),
            client_msg_id: client_msg_id.map(|id| id.as_str().to_string()),
        };
        let stored = self
            .writer
            .send(&self.db, outgoing, origin)
            .await
            .context("storing a message")?;
        match stored {
            Stored::NotMember => Err(conversation_not_found(conversation_id)),
            Stored::Created(message) => Ok(Sent::Created(message)),
            Stored::Existing(message) => Ok(Sent::Repeated(message)),
        }
    }

    /// The message if `user` is a member of its conversation, with whether they own the
    /// conversation; 404 otherwise.
    pub async fn visible_message(
        &self,
        id: MessageId,
        user: UserId,
    ) -> Result<(Message, bool), AppError> {
        let not_found = || AppError::NotFound(format!("message {id} not found"));
        let message = db::messages::find(&self.db, id.get())
            .await
            .context("reading a message")?
            .ok_or_else(not_found)?;
        let conversation_id = ConversationId::new(message.conversation_id).ok_or_else(not_found)?;
        let (_, membership) = self
            .require_membership(conversation_id, user)
            .await
            .map_err(|_| not_found())?;
        Ok((message, membership.role == Role::Owner))
    }

    /// The sender edits their message (404 not a member or deleted, 403 not the sender).
    pub async fn edit(
        &self,
        id: MessageId,
        editor: UserId,
        content: &str,
    ) -> Result<MessageView, AppError> {
        let (message, _) = self.visible_message(id, editor).await?;
        if message.sender_id != editor.get() {
            return Err(AppError::Forbidden(
                "only the sender edits a message".into(),
            ));
        }
        if message.deleted_at.is_some() {
            return Err(AppError::NotFound(format!("message {id} was deleted")));
        }
        let content = Content::parse(content, self.max_content_chars)?;
        let edited: MessageView = db::messages::edit(&self.db, id.get(), content.as_str())
            .await
            .context("editing a message")?
            .into();
        self.live.publish(LiveEvent::MessageEdited(edited.clone()));
        Ok(edited)
    }

    /// The sender or the conversation's owner deletes a message (soft delete); deleting
    /// twice is no error.
    pub async fn delete(&self, id: MessageId, caller: UserId) -> Result<(), AppError> {
        let (message, caller_owns_conversation) = self.visible_message(id, caller).await?;
        if message.sender_id != caller.get() && !caller_owns_conversation {
            return Err(AppError::Forbidden(
                "only the sender or the conversation's owner deletes a message".into(),
            ));
        }
        if message.deleted_at.is_none() {
            let deleted: MessageView = db::messages::soft_delete(&self.db, id.get())
                .await
                .context("deleting a message")?
                .into();
            self.live.publish(LiveEvent::MessageDeleted(deleted));
        }
        Ok(())
    }
}
