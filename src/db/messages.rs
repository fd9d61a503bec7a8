//! Queries on `messages`: reading, paging, editing and deleting. Sending is
//! [`send_batch`](super::send_batch), which numbers many messages in one transaction.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::models::{now, Message};
use super::schema::{conversation_members, messages};
use super::{Db, DbError};
use crate::with_conn;

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
/// more lie beyond them in the paging direction; `None` when `reader_id` is not a member.
/// Membership is part of the page query, so a member's read costs one statement.
pub async fn page(
    db: &Db,
    conversation_id: i64,
    reader_id: i64,
    cursor: Cursor,
    limit: i64,
) -> Result<Option<(Vec<Message>, bool)>, DbError> {
    let mut conn = db.read().await?;
    let mut rows: Vec<Message> = with_conn!(conn, |c| {
        let is_member = diesel::dsl::exists(
            conversation_members::table
                .filter(conversation_members::conversation_id.eq(conversation_id))
                .filter(conversation_members::user_id.eq(reader_id)),
        );
        // Not boxed: a fixed statement shape is prepared once per connection and cached.
        let page = messages::table
            .filter(messages::conversation_id.eq(conversation_id))
            .filter(is_member)
            .select(Message::as_select())
            .limit(limit + 1);
        match cursor {
            Cursor::After(after) => {
                page.filter(messages::id.gt(after))
                    .order(messages::id.asc())
                    .load(c)
                    .await
            }
            // The newest page is the page before any id.
            Cursor::Before(_) | Cursor::Latest => {
                let before = match cursor {
                    Cursor::Before(before) => before,
                    _ => i64::MAX,
                };
                page.filter(messages::id.lt(before))
                    .order(messages::id.desc())
                    .load(c)
                    .await
            }
        }
    })?;
    drop(conn);
    if rows.is_empty()
        && super::conversations::membership(db, conversation_id, reader_id)
            .await?
            .is_none()
    {
        return Ok(None);
    }
    let has_more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    if !matches!(cursor, Cursor::After(_)) {
        rows.reverse();
    }
    Ok(Some((rows, has_more)))
}

/// Replaces the content and sets `edited_at`.
pub async fn edit(db: &Db, id: i64, content: &str) -> Result<Message, DbError> {
    let mut conn = db.write().await?;
    Ok(with_conn!(conn, |c| diesel::update(
        messages::table.find(id)
    )
    .set((
        messages::content.eq(content),
        messages::edited_at.eq(Some(now()))
    ))
    .returning(Message::as_returning())
    .get_result(c)
    .await)?)
}

/// Soft-deletes: the row stays (its id and seq keep numbering intact), its content goes.
pub async fn soft_delete(db: &Db, id: i64) -> Result<Message, DbError> {
    let mut conn = db.write().await?;
    Ok(with_conn!(conn, |c| diesel::update(
        messages::table.find(id)
    )
    .set((
        messages::content.eq(""),
        messages::deleted_at.eq(Some(now()))
    ))
    .returning(Message::as_returning())
    .get_result(c)
    .await)?)
}

/// The id of the conversation's newest message, if it has one.
pub async fn last_id(db: &Db, conversation_id: i64) -> Result<Option<i64>, DbError> {
    let mut conn = db.read().await?;
    Ok(with_conn!(conn, |c| messages::table
        .filter(messages::conversation_id.eq(conversation_id))
        .select(diesel::dsl::max(messages::id))
        .first::<Option<i64>>(c)
        .await)?)
}
