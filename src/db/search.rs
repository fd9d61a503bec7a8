//! Full-text search over messages: SQLite's FTS5 index `messages_fts`, or PostgreSQL's
//! GIN index over the generated `messages.content_tsv` (both created by the
//! `message_search` migrations and kept exact by the database itself). Membership is part
//! of the statement, read as it is now, so a conversation the reader left or never joined
//! yields nothing; hits come newest first, by id.
//!
//! On SQLite a prefix of four characters or more is first looked up in the index's own
//! word list and searched as the words it begins, in the same read transaction: FTS5
//! reads a word's list lazily, newest first, but builds a prefix's list whole, which for
//! the prefix of a very common word means most of the index. Shorter prefixes have lists
//! of their own (the table's `prefix` option).

use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::{OptionalExtension, QueryableByName};
use diesel_async::RunQueryDsl;

use super::models::Message;
use super::{Db, DbError};
use crate::domain::SearchQuery;
use crate::with_conn;

/// Prefixes shorter than this (in characters) have lists of their own in the index.
const INDEXED_PREFIX_CHARS: usize = 4;

/// A prefix that begins more indexed words than this is searched as a prefix.
const MAX_EXPANSION: usize = 64;

/// The first indexed word from `?1` on, if it is before `?2`. Asked once per word: from
/// the prefix, then from just after the word found (the word followed by U+0001, which no
/// indexed word contains), so each step seeks to the next word instead of reading the
/// occurrences of the one before.
const SQLITE_NEXT_WORD: &str =
    "SELECT term FROM messages_fts_vocab WHERE term >= ?1 AND term < ?2 LIMIT 1";

/// A word of the index, as [`SQLITE_NEXT_WORD`] reads it.
#[derive(QueryableByName)]
struct IndexedWord {
    #[diesel(sql_type = Text)]
    term: String,
}

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

/// A search.
#[derive(Debug, Clone)]
pub struct Search {
    /// Who searches: only conversations they are a member of now are searched.
    pub reader_id: i64,
    /// What to find.
    pub query: SearchQuery,
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
/// Run as `sql_query`, which diesel never keeps as a prepared statement, so every search
/// is planned for its own words: a word in a thousand messages is read through the GIN
/// index and sorted, a word in most of them by walking the ids backwards, and the
/// generic plan a cached statement could fall back to (a GIN scan per conversation) is
/// never used.
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
            .bind::<Text, _>(search.query.pg_tsquery())
            .bind::<BigInt, _>(search.reader_id)
            .bind::<BigInt, _>(before)
            .bind::<Nullable<BigInt>, _>(search.conversation_id)
            .bind::<Nullable<Text>, _>(search.sender.clone())
            .bind::<BigInt, _>(search.limit)
            .load::<Hit>(c)
            .await,
        // One trip to the blocking pool, one read transaction for both statements.
        sqlite: |c| {
            let search = search.clone();
            c.spawn_blocking(move |c| {
                use diesel::Connection;
                c.transaction(|c| {
                    let expansions = expand_prefixes(c, &search.query)?;
                    let fts5_match = search.query.fts5_match_expanded(|prefix| {
                        expansions
                            .iter()
                            .find(|(p, _)| p == prefix)
                            .map(|(_, words)| words.clone())
                            .unwrap_or_default()
                    });
                    diesel::RunQueryDsl::load::<Hit>(
                        diesel::sql_query(SQLITE_SEARCH)
                            .bind::<Text, _>(fts5_match)
                            .bind::<BigInt, _>(search.reader_id)
                            .bind::<BigInt, _>(before)
                            .bind::<Nullable<BigInt>, _>(search.conversation_id)
                            .bind::<Nullable<Text>, _>(search.sender.clone())
                            .bind::<BigInt, _>(search.limit),
                        c,
                    )
                })
            })
            .await
        }
    )?)
}

/// Each prefix of four characters or more with the indexed words it begins, when there
/// are at most [`MAX_EXPANSION`] of them (none, or too many: searched as a prefix).
fn expand_prefixes(
    c: &mut diesel::SqliteConnection,
    query: &SearchQuery,
) -> Result<Vec<(String, Vec<String>)>, diesel::result::Error> {
    let mut expansions = Vec::new();
    for prefix in query.prefixes() {
        if prefix.chars().count() < INDEXED_PREFIX_CHARS
            || expansions.iter().any(|(p, _): &(String, _)| p == prefix)
        {
            continue;
        }
        // Past every word that begins with the prefix.
        let end = format!("{prefix}{}", char::MAX);
        let mut words: Vec<String> = Vec::new();
        let mut from = prefix.to_string();
        loop {
            let next: Option<IndexedWord> = diesel::RunQueryDsl::get_result(
                diesel::sql_query(SQLITE_NEXT_WORD)
                    .bind::<Text, _>(from)
                    .bind::<Text, _>(end.clone()),
                c,
            )
            .optional()?;
            let Some(next) = next else { break };
            if words.len() == MAX_EXPANSION {
                words.clear();
                break;
            }
            from = format!("{}\u{1}", next.term);
            words.push(next.term);
        }
        expansions.push((prefix.to_string(), words));
    }
    Ok(expansions)
}
