//! Who belongs to a conversation. Membership is always read from the database, never
//! taken from a client, and every change to it is published so live sockets follow.

use crate::db;
use crate::db::models::{Conversation, Member, User};
use crate::domain::{ConversationId, Role, Title, UserId, Username};
use crate::error::{AppError, DbContext};
use crate::live::LiveEvent;

use super::{conversation_not_found, Service};

/// Where a conversation stands when a socket joins it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// The newest message's id, for `joined`.
    pub last_message_id: Option<i64>,
    /// The newest message's `seq` (read before the id), where delivery order starts.
    pub last_seq: i64,
}

/// What became of adding a member.
pub enum Added {
    /// Now a member.
    New,
    /// Was a member already.
    Already,
}

impl Service {
    /// The conversation and the caller's membership, or 404 if the caller is not a member.
    pub async fn require_membership(
        &self,
        conversation_id: ConversationId,
        user_id: UserId,
    ) -> Result<(Conversation, Member), AppError> {
        db::conversations::membership(&self.db, conversation_id.get(), user_id.get())
            .await
            .context("checking membership")?
            .ok_or_else(|| conversation_not_found(conversation_id))
    }

    /// Joining a conversation's live room: the user must be a member (404 otherwise); the
    /// answer is where the conversation stands, for `joined` and the delivery order.
    pub async fn join(
        &self,
        conversation_id: ConversationId,
        user_id: UserId,
    ) -> Result<Position, AppError> {
        let (conversation, _) = self.require_membership(conversation_id, user_id).await?;
        let last_message_id = db::messages::last_id(&self.db, conversation_id.get())
            .await
            .context("reading the newest message id")?;
        Ok(Position {
            last_message_id,
            last_seq: conversation.last_seq,
        })
    }

    /// Creates a conversation owned by `owner` with these members; unknown usernames are
    /// named in one 400.
    pub async fn create_conversation(
        &self,
        owner: UserId,
        title: &str,
        members: &[String],
    ) -> Result<Conversation, AppError> {
        let title = Title::parse(title)?;
        let mut wanted: Vec<String> = members.iter().map(|m| m.trim().to_lowercase()).collect();
        wanted.sort();
        wanted.dedup();
        // Only well-formed names are looked up; the others cannot exist.
        let valid: Vec<String> = wanted
            .iter()
            .filter(|name| Username::parse(name).is_ok())
            .cloned()
            .collect();
        let found = db::users::find_by_usernames(&self.db, &valid)
            .await
            .context("looking up the members")?;
        let unknown: Vec<String> = wanted
            .iter()
            .filter(|name| !found.iter().any(|u| &u.username == *name))
            .map(|name| name.escape_default().to_string())
            .collect();
        if !unknown.is_empty() {
            return Err(AppError::BadRequest(format!(
                "members: unknown usernames: {}",
                unknown.join(", ")
            )));
        }
        let member_ids: Vec<i64> = found.iter().map(|u| u.id).collect();
        let conversation =
            db::conversations::create(&self.db, owner.get(), title.as_str(), &member_ids)
                .await
                .context("creating a conversation")?;
        for &user_id in member_ids.iter().filter(|&&id| id != owner.get()) {
            self.live.publish(LiveEvent::MemberAdded {
                conversation_id: conversation.id,
                user_id,
            });
        }
        Ok(conversation)
    }

    /// Every member of a conversation with their role, owner first.
    pub async fn members(
        &self,
        conversation: &Conversation,
    ) -> Result<Vec<(User, Role)>, AppError> {
        db::conversations::members(&self.db, conversation.id)
            .await
            .context("listing members")
    }

    /// The owner adds `username` (404 not a member, 403 not the owner, 400 unknown name).
    pub async fn add_member(
        &self,
        conversation_id: ConversationId,
        caller: UserId,
        username: &str,
    ) -> Result<(Conversation, Added), AppError> {
        let (conversation, membership) = self.require_membership(conversation_id, caller).await?;
        if membership.role != Role::Owner {
            return Err(AppError::Forbidden("only the owner adds members".into()));
        }
        let unknown =
            || AppError::BadRequest(format!("username: unknown username {:?}", username.trim()));
        let username = Username::parse(username).map_err(|_| unknown())?;
        let user = db::users::find_by_username(&self.db, username.as_str())
            .await
            .context("looking up the new member")?
            .ok_or_else(unknown)?;
        let added = db::conversations::add_member(&self.db, conversation.id, user.id)
            .await
            .context("adding a member")?;
        if !added {
            return Ok((conversation, Added::Already));
        }
        self.live.publish(LiveEvent::MemberAdded {
            conversation_id: conversation.id,
            user_id: user.id,
        });
        Ok((conversation, Added::New))
    }

    /// The owner removes anyone but themself; a member removes only themself.
    pub async fn remove_member(
        &self,
        conversation_id: ConversationId,
        caller: UserId,
        user_id: UserId,
    ) -> Result<(), AppError> {
        let (_, membership) = self.require_membership(conversation_id, caller).await?;
        let is_owner = membership.role == Role::Owner;
        if is_owner && user_id == caller {
            return Err(AppError::Forbidden(
                "the owner cannot leave their own conversation".into(),
            ));
        }
        if !is_owner && user_id != caller {
            return Err(AppError::Forbidden(
                "only the owner removes other members".into(),
            ));
        }
        let removed =
            db::conversations::remove_member(&self.db, conversation_id.get(), user_id.get())
                .await
                .context("removing a member")?;
        if !removed {
            return Err(AppError::NotFound(format!(
                "user {user_id} is not a member of conversation {conversation_id}"
            )));
        }
        self.live.publish(LiveEvent::MemberRemoved {
            conversation_id: conversation_id.get(),
            user_id: user_id.get(),
        });
        Ok(())
    }
}

impl Service {
    /// The user's conversations, newest activity first, with last message and unread count.
    pub async fn conversations_of(
        &self,
        user: UserId,
    ) -> Result<Vec<db::conversations::Summary>, AppError> {
        db::conversations::list_for_user(&self.db, user.get())
            .await
            .context("listing conversations")
    }
}
