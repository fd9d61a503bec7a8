//! Rows as Diesel reads and writes them, and their public JSON shapes (docs/api.md): a row
//! never goes out as it is, so a password hash cannot leak through a response.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::domain::Role;

use super::schema::{conversation_members, conversations, messages, sessions, users};

/// Times go out as RFC 3339 UTC with milliseconds.
pub fn rfc3339(t: &NaiveDateTime) -> String {
    t.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The current time at millisecond precision, so what is stored is what is shown.
pub fn now() -> NaiveDateTime {
    let now = chrono::Utc::now().naive_utc();
    chrono::DurationRound::duration_trunc(now, chrono::TimeDelta::milliseconds(1)).unwrap_or(now)
}

fn ser_time<S: serde::Serializer>(t: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&rfc3339(t))
}

/// A `users` row; never sent as it is (it holds the password hash).
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users)]
pub struct User {
    /// The key.
    pub id: i64,
    /// Lower-cased, unique.
    pub username: String,
    /// Shown to others.
    pub display_name: String,
    /// argon2id, PHC string.
    pub password_hash: String,
    /// When the account was created.
    pub created_at: NaiveDateTime,
}

/// A `users` row to insert.
#[derive(Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    /// Lower-cased, unique.
    pub username: &'a str,
    /// Shown to others.
    pub display_name: &'a str,
    /// argon2id, PHC string.
    pub password_hash: &'a str,
    /// Now.
    pub created_at: NaiveDateTime,
}

/// `user` in the API's answers.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema, schemars::JsonSchema)]
pub struct UserView {
    /// The user's id.
    pub id: i64,
    /// Lower-cased.
    pub username: String,
    /// Shown to others.
    pub display_name: String,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        UserView {
            id: u.id,
            username: u.username.clone(),
            display_name: u.display_name.clone(),
        }
    }
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        UserView {
            id: u.id,
            username: u.username,
            display_name: u.display_name,
        }
    }
}

/// A `sessions` row: one login, named by its cookie and the `sid` of its tokens.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
pub struct Session {
    /// Random 128 bits, hex.
    pub id: String,
    /// Whose login.
    pub user_id: i64,
    /// When it began.
    pub created_at: NaiveDateTime,
    /// When it ends at the latest.
    pub expires_at: NaiveDateTime,
    /// Set by logout; from then on every credential of it is refused.
    pub revoked_at: Option<NaiveDateTime>,
}

/// A `conversations` row.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = conversations)]
pub struct Conversation {
    /// The key.
    pub id: i64,
    /// 1–200 characters.
    pub title: String,
    /// Who manages membership.
    pub owner_id: i64,
    /// When it was created.
    pub created_at: NaiveDateTime,
    /// The `seq` of its newest message; the next one takes the one after.
    pub last_seq: i64,
}

/// A `conversations` row to insert.
#[derive(Insertable)]
#[diesel(table_name = conversations)]
pub struct NewConversation<'a> {
    /// 1–200 characters.
    pub title: &'a str,
    /// The creator.
    pub owner_id: i64,
    /// Now.
    pub created_at: NaiveDateTime,
    /// 0: no message yet.
    pub last_seq: i64,
}

/// A `conversation_members` row: membership is only ever read from here.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = conversation_members)]
pub struct Member {
    /// The conversation.
    pub conversation_id: i64,
    /// The member.
    pub user_id: i64,
    /// Owner or member.
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub role: Role,
    /// When they became a member.
    pub joined_at: NaiveDateTime,
    /// The newest message they have read.
    pub last_read_message_id: Option<i64>,
}

/// A member in `conversation.members`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MemberView {
    /// The member.
    pub user: UserView,
    /// Owner or member.
    pub role: Role,
}

/// `conversation` in the API's answers.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ConversationView {
    /// The conversation's id.
    pub id: i64,
    /// Its title.
    pub title: String,
    /// Who manages membership.
    pub owner_id: i64,
    /// When it was created.
    #[serde(serialize_with = "ser_time")]
    #[schema(value_type = String)]
    pub created_at: NaiveDateTime,
    /// Its members, where the answer includes them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub members: Option<Vec<MemberView>>,
}

impl From<&Conversation> for ConversationView {
    fn from(c: &Conversation) -> Self {
        ConversationView {
            id: c.id,
            title: c.title.clone(),
            owner_id: c.owner_id,
            created_at: c.created_at,
            members: None,
        }
    }
}

/// A `messages` row; a deleted one keeps its row with `deleted_at` set and content erased.
#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Identifiable)]
#[diesel(table_name = messages)]
pub struct Message {
    /// The key, increasing in commit order.
    pub id: i64,
    /// The conversation.
    pub conversation_id: i64,
    /// 1, 2, 3… within the conversation, with no gap.
    pub seq: i64,
    /// Always the proven identity of whoever sent it.
    pub sender_id: i64,
    /// The sender's own id for it, unique per sender.
    pub client_msg_id: Option<String>,
    /// The text.
    pub content: String,
    /// When it was committed.
    pub created_at: NaiveDateTime,
    /// When it was last edited.
    pub edited_at: Option<NaiveDateTime>,
    /// When it was deleted.
    pub deleted_at: Option<NaiveDateTime>,
}

/// `message` in the API's answers; a deleted message shows `deleted: true` and empty content.
#[derive(
    Debug,
    Clone,
    Serialize,
    serde::Deserialize,
    PartialEq,
    Eq,
    utoipa::ToSchema,
    schemars::JsonSchema,
)]
pub struct MessageView {
    /// The message's id.
    pub id: i64,
    /// Its conversation.
    pub conversation_id: i64,
    /// Its number within the conversation.
    pub seq: i64,
    /// Who sent it.
    pub sender_id: i64,
    /// The text; empty once deleted.
    pub content: String,
    /// The sender's own id for it.
    pub client_msg_id: Option<String>,
    /// RFC 3339 UTC with milliseconds.
    pub created_at: String,
    /// RFC 3339 UTC with milliseconds, once edited.
    pub edited_at: Option<String>,
    /// Whether it was deleted.
    pub deleted: bool,
}

impl From<Message> for MessageView {
    fn from(m: Message) -> Self {
        let deleted = m.deleted_at.is_some();
        MessageView {
            id: m.id,
            conversation_id: m.conversation_id,
            seq: m.seq,
            sender_id: m.sender_id,
            content: if deleted { String::new() } else { m.content },
            client_msg_id: m.client_msg_id,
            created_at: rfc3339(&m.created_at),
            edited_at: m.edited_at.as_ref().map(rfc3339),
            deleted,
        }
    }
}
