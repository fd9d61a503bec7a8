//! Paging a conversation's messages, shared by `GET /api/messages` and the socket's
//! `history`: always ascending by id, `limit` 1–200 (default 50), `before` or `after` a
//! message id but not both.

use crate::db;
use crate::db::messages::Cursor;
use crate::db::models::Message;
use crate::domain::{ConversationId, MessageId, UserId};
use crate::error::{AppError, DbContext};

use super::{conversation_not_found, Service};

/// Page size when none is asked for.
pub const DEFAULT_PAGE: i64 = 50;
/// The largest page.
pub const MAX_PAGE: i64 = 200;

/// A checked page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    cursor: Cursor,
    limit: i64,
}

impl PageRequest {
    /// Checks a page request: `before` and `after` exclude each other, `limit` is 1–200.
    pub fn new(
        before: Option<MessageId>,
        after: Option<MessageId>,
        limit: Option<i64>,
    ) -> Result<PageRequest, AppError> {
        let limit = limit.unwrap_or(DEFAULT_PAGE);
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(bad_limit());
        }
        let cursor = match (before, after) {
            (Some(_), Some(_)) => {
                return Err(AppError::BadRequest(
                    "before, after: give one or neither".into(),
                ))
            }
            (Some(id), None) => Cursor::Before(id.get()),
            (None, Some(id)) => Cursor::After(id.get()),
            (None, None) => Cursor::Latest,
        };
        Ok(PageRequest { cursor, limit })
    }
}

/// The 400 of a `limit` out of range or not a number.
pub fn bad_limit() -> AppError {
    AppError::BadRequest(format!("limit: must be between 1 and {MAX_PAGE}"))
}

impl Service {
    /// The page `requested` (already checked, or why not) for a member, with whether more
    /// lie beyond it; a non-member gets 404 before any 400 about the request.
    pub async fn history(
        &self,
        conversation_id: ConversationId,
        user: UserId,
        requested: Result<PageRequest, AppError>,
    ) -> Result<(Vec<Message>, bool), AppError> {
        let page = match requested {
            Ok(page) => page,
            Err(invalid) => return Err(self.refuse_invalid(conversation_id, user, invalid).await),
        };
        db::messages::page(
            &self.db,
            conversation_id.get(),
            user.get(),
            page.cursor,
            page.limit,
        )
        .await
        .context("paging messages")?
        .ok_or_else(|| conversation_not_found(conversation_id))
    }
}
