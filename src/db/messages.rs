//! Queries on `messages`. A message's `seq` is taken from `conversations.last_seq` in the
//! insert's own transaction, so concurrent senders never share or skip a number.

use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::{AsyncConnection, RunQueryDsl};

use super::models::{now, Message, NewMessage};
use super::schema::{conversation_members, conversations, messages};
use super::{Db, DbError};
use crate::with_conn;

/// What became of a send.
#[derive(Debug)]
pub enum Sent {
    /// Stored now.
    Created(Message),
    /// The sender already sent this `client_msg_id`: the first message, unchanged.
    Existing(Message),
    /// The sender is not a member of the conversation (or it does not exist).
    NotMember,
}

/// Where a page of history starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cursor {
    /// The newest messages.
    Latest,
    /// The messages right before this id.
    Before(i64),
    /// The messages right after this id.
    After(i64),
}

/// Stores a message if `sender_id` is a member, numbering it in the same transaction.
pub async fn send(
    db: &Db,
    conversation_id: i64,
    sender_id: i64,
    content: &str,
    client_msg_id: Option<&str>,
) -> Result<Sent, DbError> {
    if let Some(cmid) = client_msg_id {
        if let Some(existing) = find_by_client_id(db, sender_id, cmid).await? {
            return Ok(Sent::Existing(existing));
        }
    }
    let created_at = now();
    let mut conn = db.write().await?;
    let stored = with_conn!(conn, |c| c
        .transaction::<_, DieselError, _>(async move |c| {
            let is_member = diesel::dsl::exists(
                conversation_members::table
                    .filter(conversation_members::conversation_id.eq(conversation_id))
                    .filter(conversation_members::user_id.eq(sender_id)),
            );
            let seq: Option<i64> = diesel::update(conversations::table.find(conversation_id).filter(is_member))
                .set(conversations::last_seq.eq(conversations::last_seq + 1))
                .returning(conversations::last_seq)
                .get_result(c)
                .await
                .optional()?;
            let Some(seq) = seq else { return Ok(None) };
            let message = diesel::insert_into(messages::table)
                .values(NewMessage {
                    conversation_id,
                    seq,
                    sender_id,
                    client_msg_id,
                    content,
                    created_at,
                })
                .returning(Message::as_returning())
                .get_result(c)
                .await?;
            Ok(Some(message))
        })
        .await);
    drop(conn);
    match (stored, client_msg_id) {
        (Ok(Some(message)), _) => Ok(Sent::Created(message)),
        (Ok(None), _) => Ok(Sent::NotMember),
        // A concurrent send with the same client_msg_id won the race: answer with it.
        (Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)), Some(cmid)) => {
            match find_by_client_id(db, sender_id, cmid).await? {
                Some(existing) => Ok(Sent::Existing(existing)),
                None => Err(DbError::Query(DieselError::NotFound)),
            }
        }
        (Err(e), _) => Err(e.into()),
    }
}

/// The message this sender sent with this `client_msg_id`.
pub async fn find_by_client_id(db: &Db, sender_id: i64, client_msg_id: &str) -> Result<Option<Message>, DbError> {
    let mut conn = db.read().await?;
    Ok(with_conn!(conn, |c| messages::table
        .filter(messages::sender_id.eq(sender_id))
        .filter(messages::client_msg_id.eq(client_msg_id))
        .select(Message::as_select())
        .first(c)
        .await
        .optional())?)
}

/// The message with this id.
pub async fn find(db: &Db, id: i64) -> Result<Option<Message>, DbError> {
    let mut conn = db.read().await?;
    Ok(with_conn!(conn, |c| messages::table
        .find(id)
        .select(Message::as_select())
        .first(c)
        .await
        .optional())?)
}

/// Up to `limit` messages of the conversation from `cursor`, ascending by id, and whether
/// more lie beyond them in the paging direction.
pub async fn page(db: &Db, conversation_id: i64, cursor: Cursor, limit: i64) -> Result<(Vec<Message>, bool), DbError> {
    let mut conn = db.read().await?;
    let mut rows: Vec<Message> = with_conn!(conn, |c| {
        let query = messages::table
            .filter(messages::conversation_id.eq(conversation_id))
            .select(Message::as_select())
            .limit(limit + 1)
            .into_boxed();
        let query = match cursor {
            Cursor::Latest => query.order(messages::id.desc()),
            Cursor::Before(id) => query.filter(messages::id.lt(id)).order(messages::id.desc()),
            Cursor::After(id) => query.filter(messages::id.gt(id)).order(messages::id.asc()),
        };
        query.load(c).await
    })?;
    let has_more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    if !matches!(cursor, Cursor::After(_)) {
        rows.reverse();
    }
    Ok((rows, has_more))
}

/// Replaces the content and sets `edited_at`.
pub async fn edit(db: &Db, id: i64, content: &str) -> Result<Message, DbError> {
    let mut conn = db.write().await?;
    Ok(with_conn!(conn, |c| diesel::update(messages::table.find(id))
        .set((messages::content.eq(content), messages::edited_at.eq(Some(now()))))
        .returning(Message::as_returning())
        .get_result(c)
        .await)?)
}

/// Soft-deletes: the row stays (its id and seq keep numbering intact), its content goes.
pub async fn soft_delete(db: &Db, id: i64) -> Result<Message, DbError> {
    let mut conn = db.write().await?;
    Ok(with_conn!(conn, |c| diesel::update(messages::table.find(id))
        .set((messages::content.eq(""), messages::deleted_at.eq(Some(now()))))
        .returning(Message::as_returning())
        .get_result(c)
        .await)?)
}
