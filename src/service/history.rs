//! Paging a conversation's messages, shared by `GET /api/messages` and the socket's
//! `history`: always ascending by id, `limit` 1–200 (default 50), `before` or `after` a
//! message id but not both; or `around` a message id, alone: the page that message
//! stands in, with its neighbours on both sides, from which a client pages both ways.

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
    /// Set for a page around this message id; `cursor` is then unused.
    around: Option<i64>,
    limit: i64,
}

/// A page of history, ascending by id.
#[derive(Debug, Clone)]
pub struct Page {
    /// The messages.
    pub messages: Vec<Message>,
    /// Whether more lie beyond the page in the paging direction (on either side, for a
    /// page around a message).
    pub has_more: bool,
    /// For a page around a message: whether more lie on each side.
    pub sides: Option<Sides>,
}

/// Whether a page around a message has more before and after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sides {
    /// Older messages lie before the page.
    pub has_more_before: bool,
    /// Newer messages lie after the page.
    pub has_more_after: bool,
}

impl PageRequest {
    /// Checks a page request: `before` and `after` exclude each other, `limit` is 1–200.
    pub fn new(
        before: Option<MessageId>,
        after: Option<MessageId>,
        limit: Option<i64>,
    ) -> Result<PageRequest, AppError> {
        PageRequest::with_around(before, after, None, limit)
    }

    /// As [`PageRequest::new`], with `around`: the page holding that message id and its
    /// neighbours (the older half of `limit` up to and with it, the newer half after it);
    /// it excludes `before` and `after`.
    pub fn with_around(
        before: Option<MessageId>,
        after: Option<MessageId>,
        around: Option<MessageId>,
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
        if around.is_some() && cursor != Cursor::Latest {
            return Err(AppError::BadRequest(
                "around: give it without before or after".into(),
            ));
        }
        Ok(PageRequest {
            cursor,
            around: around.map(MessageId::get),
            limit,
        })
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
        let page = self.history_page(conversation_id, user, requested).await?;
        Ok((page.messages, page.has_more))
    }

    /// As [`Service::history`], with whether a page around a message has more on each side.
    pub async fn history_page(
        &self,
        conversation_id: ConversationId,
        user: UserId,
        requested: Result<PageRequest, AppError>,
    ) -> Result<Page, AppError> {
        let request = match requested {
            Ok(request) => request,
            Err(invalid) => return Err(self.refuse_invalid(conversation_id, user, invalid).await),
        };
        let fetch = |cursor, limit| async move {
            db::messages::page(&self.db, conversation_id.get(), user.get(), cursor, limit)
                .await
                .context("paging messages")?
                .ok_or_else(|| conversation_not_found(conversation_id))
        };
        let Some(around) = request.around else {
            let (messages, has_more) = fetch(request.cursor, request.limit).await?;
            return Ok(Page {
                messages,
                has_more,
                sides: None,
            });
        };
        let newer = request.limit / 2;
        let (mut messages, has_more_before) = fetch(
            Cursor::Before(around.saturating_add(1)),
            request.limit - newer,
        )
        .await?;
        let (after, has_more_after) = fetch(Cursor::After(around), newer).await?;
        messages.extend(after);
        Ok(Page {
            messages,
            has_more: has_more_before || has_more_after,
            sides: Some(Sides {
                has_more_before,
                has_more_after,
            }),
        })
    }
}
