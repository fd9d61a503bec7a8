//! Full-text search over messages: SQLite's FTS5 index `messages_fts`, or PostgreSQL's
//! GIN index over the generated `messages.content_tsv` (both created by the
//! `message_search` migrations and kept exact by the database itself). Membership is part
//! of the statement, read as it is now, so a conversation the reader left or never joined
//! yields nothing; hits come newest first, by id.

use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::QueryableByName;
use diesel_async::RunQueryDsl;

use super::models::Message;
use super::{Db, DbError};
use crate::with_conn;

/// A message that matched, with its conversation's title.
#[derive(Debug, Clone, QueryableByName)]
pub struct Hit {
    /// The message, as stored.
    #[diesel(embed)]
    pub message: Message,
    /// The title of its conversation.
    #[diesel(sql_type = Text)]
    pub conversation_title: String,
}

/// A search, with the query already written for each engine.
#[derive(Debug, Clone)]
pub struct Search {
    /// Who searches: only conversations they are a member of now are searched.
    pub reader_id: i64,
    /// The FTS5 `MATCH` expression (SQLite).
    pub fts5_match: String,
    /// The `to_tsquery('simple', …)` text (PostgreSQL).
    pub pg_tsquery: String,
    /// Only this conversation.
    pub conversation_id: Option<i64>,
    /// Only messages of the user with this (lower-cased) username.
    pub sender: Option<String>,
    /// Only messages older than this id (the cursor).
    pub before: Option<i64>,
    /// At most this many hits.
    pub limit: i64,
}

/// The columns of a hit, as [`Hit`] reads them by name.
macro_rules! hit_columns {
    () => {
        "m.id, m.conversation_id, m.seq, m.sender_id, m.client_msg_id, m.content, \
         m.created_at, m.edited_at, m.deleted_at, c.title AS conversation_title"
    };
}

/// SQLite: the index is walked newest first (FTS5 orders by rowid cheaply), each hit
/// joined to its row, the reader's membership and the conversation, until the page is full.
const SQLITE_SEARCH: &str = concat!(
    "SELECT ",
    hit_columns!(),
    " FROM messages_fts \
     JOIN messages m ON m.id = messages_fts.rowid \
     JOIN conversation_members cm ON cm.conversation_id = m.conversation_id AND cm.user_id = ?2 \
     JOIN conversations c ON c.id = m.conversation_id \
     WHERE messages_fts MATCH ?1 \
       AND messages_fts.rowid < ?3 \
       AND m.deleted_at IS NULL \
       AND (?4 IS NULL OR m.conversation_id = ?4) \
       AND (?5 IS NULL OR m.sender_id = (SELECT u.id FROM users u WHERE u.username = ?5)) \
     ORDER BY messages_fts.rowid DESC \
     LIMIT ?6"
);

/// PostgreSQL: the GIN index finds the matching rows; the same joins and order follow.
const PG_SEARCH: &str = concat!(
    "SELECT ",
    hit_columns!(),
    " FROM messages m \
     JOIN conversation_members cm ON cm.conversation_id = m.conversation_id AND cm.user_id = $2 \
     JOIN conversations c ON c.id = m.conversation_id \
     WHERE m.content_tsv @@ to_tsquery('simple', $1) \
       AND m.id < $3 \
       AND m.deleted_at IS NULL \
       AND ($4::bigint IS NULL OR m.conversation_id = $4) \
       AND ($5::text IS NULL OR m.sender_id = (SELECT u.id FROM users u WHERE u.username = $5)) \
     ORDER BY m.id DESC \
     LIMIT $6"
);

/// Up to `search.limit` messages matching the search, newest first.
pub async fn search(db: &Db, search: Search) -> Result<Vec<Hit>, DbError> {
    let before = search.before.unwrap_or(i64::MAX);
    let mut conn = db.read().await?;
    Ok(with_conn!(
        conn,
        postgres: |c| diesel::sql_query(PG_SEARCH)
            .bind::<Text, _>(search.pg_tsquery.clone())
            .bind::<BigInt, _>(search.reader_id)
            .bind::<BigInt, _>(before)
            .bind::<Nullable<BigInt>, _>(search.conversation_id)
            .bind::<Nullable<Text>, _>(search.sender.clone())
            .bind::<BigInt, _>(search.limit)
            .load::<Hit>(c)
            .await,
        sqlite: |c| diesel::sql_query(SQLITE_SEARCH)
            .bind::<Text, _>(search.fts5_match.clone())
            .bind::<BigInt, _>(search.reader_id)
            .bind::<BigInt, _>(before)
            .bind::<Nullable<BigInt>, _>(search.conversation_id)
            .bind::<Nullable<Text>, _>(search.sender.clone())
            .bind::<BigInt, _>(search.limit)
            .load::<Hit>(c)
            .await
    )?)
}
