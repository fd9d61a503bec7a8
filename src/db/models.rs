//! Rows as Diesel reads and writes them, and their public JSON shapes (API.md): a row
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

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub created_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub password_hash: &'a str,
    pub created_at: NaiveDateTime,
}

/// `user` in API.md.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema, schemars::JsonSchema)]
pub struct UserView {
    pub id: i64,
    pub username: String,
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

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
pub struct Session {
    pub id: String,
    pub user_id: i64,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = conversations)]
pub struct Conversation {
    pub id: i64,
    pub title: String,
    pub owner_id: i64,
    pub created_at: NaiveDateTime,
    pub last_seq: i64,
}

#[derive(Insertable)]
#[diesel(table_name = conversations)]
pub struct NewConversation<'a> {
    pub title: &'a str,
    pub owner_id: i64,
    pub created_at: NaiveDateTime,
    pub last_seq: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = conversation_members)]
pub struct Member {
    pub conversation_id: i64,
    pub user_id: i64,
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub role: Role,
    pub joined_at: NaiveDateTime,
    pub last_read_message_id: Option<i64>,
}

/// A member in `conversation.members`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MemberView {
    pub user: UserView,
    pub role: Role,
}

/// `conversation` in API.md.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ConversationView {
    pub id: i64,
    pub title: String,
    pub owner_id: i64,
    #[serde(serialize_with = "ser_time")]
    #[schema(value_type = String)]
    pub created_at: NaiveDateTime,
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

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = messages)]
pub struct Message {
    pub id: i64,
    pub conversation_id: i64,
    pub seq: i64,
    pub sender_id: i64,
    pub client_msg_id: Option<String>,
    pub content: String,
    pub created_at: NaiveDateTime,
    pub edited_at: Option<NaiveDateTime>,
    pub deleted_at: Option<NaiveDateTime>,
}

/// `message` in API.md; a deleted message shows `deleted: true` and empty content.
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
    pub id: i64,
    pub conversation_id: i64,
    pub seq: i64,
    pub sender_id: i64,
    pub content: String,
    pub client_msg_id: Option<String>,
    /// RFC 3339 UTC with milliseconds.
    pub created_at: String,
    pub edited_at: Option<String>,
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
