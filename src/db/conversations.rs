//! Queries on `conversations` and `conversation_members`. Membership is always read from
//! here, never taken from a client.

use std::collections::HashMap;

use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::{AsyncConnection, RunQueryDsl};

use super::models::{now, Conversation, Member, Message, NewConversation, User};
use super::schema::{conversation_members, conversations, messages, users};
use super::{Db, DbError};
use crate::domain::Role;
use crate::with_conn;

/// One entry of a user's conversation list.
pub struct Summary {
    /// The conversation.
    pub conversation: Conversation,
    /// Its newest message, deleted or not.
    pub last_message: Option<Message>,
    /// Others' undeleted messages past the user's read marker.
    pub unread_count: i64,
}

/// Creates a conversation owned by `owner_id` with these other members, in one transaction.
pub async fn create(
    db: &Db,
    owner_id: i64,
    title: &str,
    member_ids: &[i64],
) -> Result<Conversation, DbError> {
    let created_at = now();
    let mut conn = db.write().await?;
    let conversation = with_conn!(conn, |c| c
        .transaction::<_, DieselError, _>(async move |c| {
            let conversation: Conversation = diesel::insert_into(conversations::table)
                .values(NewConversation {
                    title,
                    owner_id,
                    created_at,
                    last_seq: 0,
                })
                .returning(Conversation::as_returning())
                .get_result(c)
                .await?;
            let mut rows = vec![member_row(conversation.id, owner_id, Role::Owner)];
            rows.extend(
                member_ids
                    .iter()
                    .filter(|&&id| id != owner_id)
                    .map(|&id| member_row(conversation.id, id, Role::Member)),
            );
            for row in rows {
                diesel::insert_into(conversation_members::table)
                    .values(row)
                    .execute(c)
                    .await?;
            }
            Ok(conversation)
        })
        .await)?;
    Ok(conversation)
}

fn member_row(conversation_id: i64, user_id: i64, role: Role) -> Member {
    Member {
        conversation_id,
        user_id,
        role,
        joined_at: now(),
        last_read_message_id: None,
    }
}

/// The conversation and the caller's membership row, if the caller is a member.
pub async fn membership(
    db: &Db,
    conversation_id: i64,
    user_id: i64,
) -> Result<Option<(Conversation, Member)>, DbError> {
    let mut conn = db.read().await?;
    Ok(with_conn!(conn, |c| conversations::table
        .inner_join(conversation_members::table)
        .filter(conversations::id.eq(conversation_id))
        .filter(conversation_members::user_id.eq(user_id))
        .select((Conversation::as_select(), Member::as_select()))
        .first(c)
        .await
        .optional())?)
}

/// Every member with their role, owner first, then by join time.
pub async fn members(db: &Db, conversation_id: i64) -> Result<Vec<(User, Role)>, DbError> {
    let mut conn = db.read().await?;
    let mut rows: Vec<(User, Member)> = with_conn!(conn, |c| conversation_members::table
        .inner_join(users::table)
        .filter(conversation_members::conversation_id.eq(conversation_id))
        .order((conversation_members::joined_at.asc(), users::id.asc()))
        .select((User::as_select(), Member::as_select()))
        .load(c)
        .await)?;
    rows.sort_by_key(|(_, m)| m.role != Role::Owner);
    Ok(rows.into_iter().map(|(u, m)| (u, m.role)).collect())
}

/// Ids of every member of the conversation.
pub async fn member_ids(db: &Db, conversation_id: i64) -> Result<Vec<i64>, DbError> {
    let mut conn = db.read().await?;
    Ok(with_conn!(conn, |c| conversation_members::table
        .filter(conversation_members::conversation_id.eq(conversation_id))
        .select(conversation_members::user_id)
        .load(c)
        .await)?)
}

/// Adds `user_id` as a member; `false` if they already were one.
pub async fn add_member(db: &Db, conversation_id: i64, user_id: i64) -> Result<bool, DbError> {
    let mut conn = db.write().await?;
    let inserted = with_conn!(conn, |c| diesel::insert_into(conversation_members::table)
        .values(member_row(conversation_id, user_id, Role::Member))
        .execute(c)
        .await);
    match inserted {
        Ok(_) => Ok(true),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Removes `user_id` from the conversation; `false` if they were not a member.
pub async fn remove_member(db: &Db, conversation_id: i64, user_id: i64) -> Result<bool, DbError> {
    let mut conn = db.write().await?;
    let removed = with_conn!(conn, |c| diesel::delete(
        conversation_members::table
            .filter(conversation_members::conversation_id.eq(conversation_id))
            .filter(conversation_members::user_id.eq(user_id))
    )
    .execute(c)
    .await)?;
    Ok(removed > 0)
}

/// Moves the member's read marker forward to `message_id`; never back.
pub async fn mark_read(
    db: &Db,
    conversation_id: i64,
    user_id: i64,
    message_id: i64,
) -> Result<(), DbError> {
    let mut conn = db.write().await?;
    with_conn!(conn, |c| diesel::update(
        conversation_members::table
            .filter(conversation_members::conversation_id.eq(conversation_id))
            .filter(conversation_members::user_id.eq(user_id))
            .filter(
                conversation_members::last_read_message_id
                    .is_null()
                    .or(conversation_members::last_read_message_id.lt(message_id))
            )
    )
    .set(conversation_members::last_read_message_id.eq(Some(message_id)))
    .execute(c)
    .await)?;
    Ok(())
}

/// The user's conversations, newest activity first, each with its last message and the
/// number of others' messages after the user's read marker.
pub async fn list_for_user(db: &Db, user_id: i64) -> Result<Vec<Summary>, DbError> {
    let mut conn = db.read().await?;
    let (conversations, last_messages, unread) = with_conn!(conn, |c| {
        let conversations: Vec<Conversation> = conversations::table
            .inner_join(conversation_members::table)
            .filter(conversation_members::user_id.eq(user_id))
            .select(Conversation::as_select())
            .load(c)
            .await?;
        let ids: Vec<i64> = conversations.iter().map(|c| c.id).collect();
        let last_ids: Vec<Option<i64>> = messages::table
            .filter(messages::conversation_id.eq_any(&ids))
            .group_by(messages::conversation_id)
            .select(diesel::dsl::max(messages::id))
            .load(c)
            .await?;
        let last_ids: Vec<i64> = last_ids.into_iter().flatten().collect();
        let last_messages: Vec<Message> = messages::table
            .filter(messages::id.eq_any(&last_ids))
            .select(Message::as_select())
            .load(c)
            .await?;
        let unread: Vec<(i64, i64)> = messages::table
            .inner_join(
                conversation_members::table.on(conversation_members::conversation_id
                    .eq(messages::conversation_id)
                    .and(conversation_members::user_id.eq(user_id))),
            )
            .filter(messages::sender_id.ne(user_id))
            .filter(messages::deleted_at.is_null())
            .filter(
                conversation_members::last_read_message_id
                    .is_null()
                    .or(messages::id
                        .nullable()
                        .gt(conversation_members::last_read_message_id)),
            )
            .group_by(messages::conversation_id)
            .select((messages::conversation_id, diesel::dsl::count_star()))
            .load(c)
            .await?;
        Ok::<_, DieselError>((conversations, last_messages, unread))
    })?;

    let mut last_by_conversation: HashMap<i64, Message> = last_messages
        .into_iter()
        .map(|m| (m.conversation_id, m))
        .collect();
    let unread: HashMap<i64, i64> = unread.into_iter().collect();
    let mut summaries: Vec<Summary> = conversations
        .into_iter()
        .map(|conversation| Summary {
            last_message: last_by_conversation.remove(&conversation.id),
            unread_count: unread.get(&conversation.id).copied().unwrap_or(0),
            conversation,
        })
        .collect();
    summaries.sort_by_key(|s| {
        let activity = s
            .last_message
            .as_ref()
            .map_or(s.conversation.created_at, |m| m.created_at);
        std::cmp::Reverse((activity, s.conversation.id))
    });
    Ok(summaries)
}
