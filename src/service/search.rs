//! Searching the messages a user may read: `GET /api/search`. Only conversations the
//! caller is a member of now are searched; hits come newest first, paged by `before` (a
//! message id) like history, `limit` 1–50 (default 20), each with the ranges of `content`
//! the query matched.

use std::ops::Range;

use crate::db;
use crate::db::models::Message;
use crate::domain::{ConversationId, MessageId, SearchQuery, Sender, UserId};
use crate::error::{AppError, DbContext};

use super::Service;

/// Hits per page when none is asked for.
pub const DEFAULT_HITS: i64 = 20;
/// The largest page of hits.
pub const MAX_HITS: i64 = 50;

/// A checked search request.
#[derive(Debug, Clone)]
pub struct SearchRequest {
    query: SearchQuery,
    before: Option<MessageId>,
    limit: i64,
}

impl SearchRequest {
    /// A search for `query`, older than `before`, at most `limit` hits (1–50, default 20).
    pub fn new(
        query: SearchQuery,
        before: Option<MessageId>,
        limit: Option<i64>,
    ) -> Result<SearchRequest, AppError> {
        let limit = limit.unwrap_or(DEFAULT_HITS);
        if !(1..=MAX_HITS).contains(&limit) {
            return Err(bad_limit());
        }
        Ok(SearchRequest {
            query,
            before,
            limit,
        })
    }
}

/// The 400 of a search `limit` out of range or not a number.
pub fn bad_limit() -> AppError {
    AppError::BadRequest(format!("limit: must be between 1 and {MAX_HITS}"))
}

/// A message that matched.
#[derive(Debug, Clone)]
pub struct SearchHit {
    /// The message.
    pub message: Message,
    /// Its conversation's title, to show beside it.
    pub conversation_title: String,
    /// Where the query matched `content`, in characters, sorted and apart.
    pub matches: Vec<Range<usize>>,
}

/// A page of hits, newest first.
#[derive(Debug, Clone)]
pub struct SearchPage {
    /// The hits.
    pub hits: Vec<SearchHit>,
    /// Whether older hits lie beyond the page (ask again with `before` the last id).
    pub has_more: bool,
}

impl Service {
    /// Searches what `user` may read now, in one conversation when `conversation_id` is
    /// given (404 when it is not theirs, before any 400 about the request).
    pub async fn search(
        &self,
        user: UserId,
        conversation_id: Option<ConversationId>,
        requested: Result<SearchRequest, AppError>,
    ) -> Result<SearchPage, AppError> {
        if let Some(conversation_id) = conversation_id {
            self.require_membership(conversation_id, user).await?;
        }
        let request = requested?;
        let sender = match request.query.from() {
            None => None,
            Some(Sender::Named(username)) => Some(username.as_str().to_string()),
            Some(Sender::Nobody) => {
                return Ok(SearchPage {
                    hits: Vec::new(),
                    has_more: false,
                })
            }
        };
        let mut rows = db::search::search(
            &self.db,
            db::search::Search {
                reader_id: user.get(),
                query: request.query.clone(),
                conversation_id: conversation_id.map(ConversationId::get),
                sender,
                before: request.before.map(MessageId::get),
                limit: request.limit + 1,
            },
        )
        .await
        .context("searching messages")?;
        let has_more = rows.len() as i64 > request.limit;
        rows.truncate(request.limit as usize);
        let hits = rows
            .into_iter()
            .map(|hit| SearchHit {
                matches: request.query.matched_ranges(&hit.message.content),
                message: hit.message,
                conversation_title: hit.conversation_title,
            })
            .collect();
        Ok(SearchPage { hits, has_more })
    }
}
