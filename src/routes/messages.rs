//! `/api/messages*`: sending, paging, editing and deleting messages. Every change is
//! published to the live side after it is committed.

use std::time::Instant;

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::conversations::require_membership;
use super::JsonBody;
use crate::auth::AuthUser;
use crate::db::messages::{Cursor, Sent};
use crate::db::models::{Message, MessageView, ROLE_OWNER};
use crate::db::{self, Db};
use crate::domain::Content;
use crate::error::AppError;
use crate::live::{LiveEvent, Origin};
use crate::startup::AppState;

/// Page size bounds of `GET /api/messages` and the socket's `history`.
pub const DEFAULT_PAGE: i64 = 50;
pub const MAX_PAGE: i64 = 200;
/// Longest accepted `client_msg_id`.
const MAX_CLIENT_MSG_ID: usize = 128;

#[derive(Deserialize, ToSchema)]
pub struct SendMessage {
    pub conversation_id: i64,
    pub content: String,
    pub client_msg_id: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct EditMessage {
    pub content: String,
}

/// Query of `GET /api/messages`; read as text so each bad value gets a 400 naming it.
#[derive(Deserialize, IntoParams)]
pub struct ListQuery {
    pub conversation_id: Option<String>,
    pub before: Option<String>,
    pub after: Option<String>,
    /// 1–200, default 50.
    pub limit: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct MessageResponse {
    pub message: MessageView,
}

#[derive(Serialize, ToSchema)]
pub struct MessagesResponse {
    pub messages: Vec<MessageView>,
    pub has_more: bool,
}

/// Parses a positive 64-bit id, naming the field when it is not one.
pub fn parse_id(field: &str, raw: &str) -> Result<i64, AppError> {
    raw.trim()
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| AppError::BadRequest(format!("{field}: must be a positive integer")))
}

/// Checks a page request: `before` and `after` exclude each other, `limit` is 1–200.
pub fn page_cursor(
    before: Option<i64>,
    after: Option<i64>,
    limit: Option<i64>,
) -> Result<(Cursor, i64), AppError> {
    let limit = limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(AppError::BadRequest(format!(
            "limit: must be between 1 and {MAX_PAGE}"
        )));
    }
    let cursor = match (before, after) {
        (Some(_), Some(_)) => {
            return Err(AppError::BadRequest(
                "before, after: give one or neither".into(),
            ))
        }
        (Some(id), None) => Cursor::Before(id),
        (None, Some(id)) => Cursor::After(id),
        (None, None) => Cursor::Latest,
    };
    Ok((cursor, limit))
}

fn validate_client_msg_id(raw: Option<&str>) -> Result<(), AppError> {
    match raw {
        Some(id)
            if id.is_empty()
                || id.chars().count() > MAX_CLIENT_MSG_ID
                || id.chars().any(char::is_control) =>
        {
            Err(AppError::BadRequest(format!(
                "client_msg_id: must be 1 to {MAX_CLIENT_MSG_ID} characters, none of them control characters"
            )))
        }
        _ => Ok(()),
    }
}

/// Refuses an invalid request about a conversation, as 404 when the caller is not a member:
/// a conversation the caller is not in does not exist for them, so 404 comes before 400.
async fn refuse_invalid(
    db: &Db,
    conversation_id: i64,
    user_id: i64,
    invalid: AppError,
) -> AppError {
    match require_membership(db, conversation_id, user_id).await {
        Ok(_) => invalid,
        Err(not_member) => not_member,
    }
}

/// The page of history `requested` (already parsed, or why not) for a member; shared by
/// `GET /api/messages` and the socket's `history`.
pub async fn member_page(
    db: &Db,
    conversation_id: i64,
    user_id: i64,
    requested: Result<(Cursor, i64), AppError>,
) -> Result<(Vec<Message>, bool), AppError> {
    let (cursor, limit) = match requested {
        Ok(page) => page,
        Err(invalid) => return Err(refuse_invalid(db, conversation_id, user_id, invalid).await),
    };
    db::messages::page(db, conversation_id, user_id, cursor, limit)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("conversation {conversation_id} not found")))
}

/// Stores a message from `sender_id` and publishes it; `true` when it is new. Shared by HTTP and the sockets so
/// both refuse, number and deliver alike: 404 not a member, 400 bad content.
pub async fn store_message(
    state: &AppState,
    sender_id: i64,
    conversation_id: i64,
    content: &str,
    client_msg_id: Option<&str>,
    origin: Option<Origin>,
) -> Result<(Message, bool), AppError> {
    let checked = Content::parse(content, state.config.max_content_chars)
        .map_err(|e| AppError::BadRequest(e.to_string()))
        .and_then(|content| validate_client_msg_id(client_msg_id).map(|()| content));
    let content = match checked {
        Ok(content) => content,
        Err(invalid) => {
            return Err(refuse_invalid(&state.db, conversation_id, sender_id, invalid).await)
        }
    };
    let _in_order = state.conversation_locks.lock(conversation_id).await;
    let started = Instant::now();
    let sent = db::messages::send(
        &state.db,
        conversation_id,
        sender_id,
        content.as_str(),
        client_msg_id,
    )
    .await?;
    match sent {
        Sent::NotMember => Err(AppError::NotFound(format!(
            "conversation {conversation_id} not found"
        ))),
        Sent::Created(message) => {
            state.metrics.message_persisted(started.elapsed());
            state.live.publish(LiveEvent::MessageCreated {
                message: message.clone().into(),
                origin,
            });
            Ok((message, true))
        }
        Sent::Existing(message) => Ok((message, false)),
    }
}

/// `POST /api/messages`: 201 stored, 200 the same `client_msg_id` again.
#[utoipa::path(post, path = "/api/messages", tag = "messages", request_body = SendMessage,
    responses((status = 201, body = MessageResponse), (status = 200, body = MessageResponse, description = "a repeated client_msg_id"),
        (status = 400), (status = 401), (status = 404), (status = 429)), security(("bearer" = [])))]
pub async fn send_message(
    state: web::Data<AppState>,
    caller: AuthUser,
    body: JsonBody<SendMessage>,
) -> Result<HttpResponse, AppError> {
    let sender_id = caller.0.user_id;
    state
        .send_limiter
        .take(sender_id)
        .map_err(|retry_after_secs| AppError::RateLimited { retry_after_secs })?;
    let body = body.0;
    let (message, created) = store_message(
        &state,
        sender_id,
        body.conversation_id,
        &body.content,
        body.client_msg_id.as_deref(),
        None,
    )
    .await?;
    let mut response = if created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    Ok(response.json(MessageResponse {
        message: message.into(),
    }))
}

/// `GET /api/messages?conversation_id=&before=&after=&limit=`: ascending by id.
#[utoipa::path(get, path = "/api/messages", tag = "messages", params(ListQuery),
    responses((status = 200, body = MessagesResponse), (status = 400), (status = 401), (status = 404)), security(("bearer" = [])))]
pub async fn list_messages(
    state: web::Data<AppState>,
    caller: AuthUser,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let conversation_id = match query.conversation_id.as_deref() {
        Some(raw) => parse_id("conversation_id", raw)?,
        None => return Err(AppError::BadRequest("conversation_id: required".into())),
    };
    let user_id = caller.0.user_id;
    let optional =
        |field: &str, raw: &Option<String>| raw.as_deref().map(|r| parse_id(field, r)).transpose();
    let page = (|| {
        let limit = query
            .limit
            .as_deref()
            .map(|raw| {
                raw.trim().parse::<i64>().map_err(|_| {
                    AppError::BadRequest(format!("limit: must be between 1 and {MAX_PAGE}"))
                })
            })
            .transpose()?;
        page_cursor(
            optional("before", &query.before)?,
            optional("after", &query.after)?,
            limit,
        )
    })();
    let (messages, has_more) = member_page(&state.db, conversation_id, user_id, page).await?;
    Ok(HttpResponse::Ok().json(MessagesResponse {
        messages: messages.into_iter().map(MessageView::from).collect(),
        has_more,
    }))
}

/// The message if the caller is a member of its conversation; 404 otherwise.
async fn visible_message(db: &Db, id: i64, user_id: i64) -> Result<(Message, bool), AppError> {
    let not_found = || AppError::NotFound(format!("message {id} not found"));
    let message = db::messages::find(db, id).await?.ok_or_else(not_found)?;
    let (_, membership) = require_membership(db, message.conversation_id, user_id)
        .await
        .map_err(|_| not_found())?;
    Ok((message, membership.role == ROLE_OWNER))
}

/// `GET /api/messages/{id}`.
#[utoipa::path(get, path = "/api/messages/{id}", tag = "messages", params(("id" = i64, Path)),
    responses((status = 200, body = MessageResponse), (status = 401), (status = 404)), security(("bearer" = [])))]
pub async fn get_message(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (message, _) = visible_message(&state.db, path.into_inner(), caller.0.user_id).await?;
    Ok(HttpResponse::Ok().json(MessageResponse {
        message: message.into(),
    }))
}

/// `PUT /api/messages/{id}`: the sender edits; sets `edited_at`.
#[utoipa::path(put, path = "/api/messages/{id}", tag = "messages", params(("id" = i64, Path)), request_body = EditMessage,
    responses((status = 200, body = MessageResponse), (status = 400), (status = 401), (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn edit_message(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<i64>,
    body: JsonBody<EditMessage>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let (message, _) = visible_message(&state.db, id, caller.0.user_id).await?;
    if message.sender_id != caller.0.user_id {
        return Err(AppError::Forbidden(
            "only the sender edits a message".into(),
        ));
    }
    if message.deleted_at.is_some() {
        return Err(AppError::NotFound(format!("message {id} was deleted")));
    }
    let content = Content::parse(&body.0.content, state.config.max_content_chars)
        .map_err(|e| AppError::BadRequest(e.to_string()))?;
    let edited: MessageView = db::messages::edit(&state.db, id, content.as_str())
        .await?
        .into();
    state.live.publish(LiveEvent::MessageEdited(edited.clone()));
    Ok(HttpResponse::Ok().json(MessageResponse { message: edited }))
}

/// `DELETE /api/messages/{id}`: the sender or the conversation's owner; a soft delete.
#[utoipa::path(delete, path = "/api/messages/{id}", tag = "messages", params(("id" = i64, Path)),
    responses((status = 204), (status = 401), (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn delete_message(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let (message, caller_owns_conversation) =
        visible_message(&state.db, id, caller.0.user_id).await?;
    if message.sender_id != caller.0.user_id && !caller_owns_conversation {
        return Err(AppError::Forbidden(
            "only the sender or the conversation's owner deletes a message".into(),
        ));
    }
    if message.deleted_at.is_none() {
        let deleted: MessageView = db::messages::soft_delete(&state.db, id).await?.into();
        state.live.publish(LiveEvent::MessageDeleted(deleted));
    }
    Ok(HttpResponse::NoContent().finish())
}
