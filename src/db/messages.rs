//! Queries on `messages`. A message's `seq` is taken from `conversations.last_seq` in the
//! insert's own transaction, so concurrent senders never share or skip a number.

use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::{AsyncConnection, RunQueryDsl};

use super::models::{now, Message};
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

/// The statement that takes the next `seq` of a conversation, if the sender is a member:
/// one statement does both, so a send costs no separate membership query.
macro_rules! next_seq {
    ($conversation_id:expr, $sender_id:expr) => {
        diesel::update(
            conversations::table
                .find($conversation_id)
                .filter(diesel::dsl::exists(
                    conversation_members::table
                        .filter(conversation_members::conversation_id.eq($conversation_id))
                        .filter(conversation_members::user_id.eq($sender_id)),
                )),
        )
        .set(conversations::last_seq.eq(conversations::last_seq + 1))
        .returning(conversations::last_seq)
    };
}

/// The insert of a numbered message, returning the stored row.
macro_rules! insert_message {
    ($row:expr) => {
        diesel::insert_into(messages::table)
            .values($row)
            .returning(Message::as_returning())
    };
}

/// A message row to insert, owned so it can move to the blocking pool.
#[derive(Insertable)]
#[diesel(table_name = messages)]
struct NewMessageRow {
    conversation_id: i64,
    seq: i64,
    sender_id: i64,
    client_msg_id: Option<String>,
    content: String,
    created_at: chrono::NaiveDateTime,
}

/// Stores a message if `sender_id` is a member, numbering it in the same transaction.
pub async fn send(
    db: &Db,
    conversation_id: i64,
    sender_id: i64,
    content: &str,
    client_msg_id: Option<&str>,
) -> Result<Sent, DbError> {
    // No lookup before the insert: the unique (sender_id, client_msg_id) constraint finds
    // a repeat, so a first send costs one statement round trip and a repeat two.
    let row = NewMessageRow {
        conversation_id,
        seq: 0,
        sender_id,
        client_msg_id: client_msg_id.map(str::to_string),
        content: content.to_string(),
        created_at: now(),
    };
    let mut conn = db.write().await?;
    let stored: Result<Option<Message>, DieselError> = with_conn!(
        conn,
        postgres: |c| {
            c.transaction(async move |c| {
                let Some(seq) = next_seq!(conversation_id, sender_id)
                    .get_result(c)
                    .await
                    .optional()?
                else {
                    return Ok(None);
                };
                insert_message!(NewMessageRow { seq, ..row })
                    .get_result(c)
                    .await
                    .map(Some)
            })
            .await
        },
        // One trip to the blocking pool for the whole transaction, which takes the write
        // lock up front (BEGIN IMMEDIATE): SQLite's writer is the bottleneck under load.
        sqlite: |c| {
            c.spawn_blocking(move |c| {
                c.immediate_transaction(|c| {
                    let Some(seq) =
                        diesel::RunQueryDsl::get_result(next_seq!(conversation_id, sender_id), c)
                            .optional()?
                    else {
                        return Ok(None);
                    };
                    diesel::RunQueryDsl::get_result(
                        insert_message!(NewMessageRow { seq, ..row }),
                        c,
                    )
                    .map(Some)
                })
            })
            .await
        }
    );
    drop(conn);
    match (stored, client_msg_id) {
        (Ok(Some(message)), _) => Ok(Sent::Created(message)),
        // A sender who has left still gets their earlier message back for a retry.
        (Ok(None), Some(cmid)) => Ok(find_by_client_id(db, sender_id, cmid)
            .await?
            .map_or(Sent::NotMember, Sent::Existing)),
        (Ok(None), None) => Ok(Sent::NotMember),
        // The sender already sent this client_msg_id (a retry, or a concurrent copy that
        // won the race): answer with the first message.
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
pub async fn find_by_client_id(
    db: &Db,
    sender_id: i64,
    client_msg_id: &str,
) -> Result<Option<Message>, DbError> {
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
