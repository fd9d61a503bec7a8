//! `/api/messages*`: sending, paging, editing and deleting messages, each a call into the
//! service layer, which a socket frame makes alike.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::JsonBody;
use crate::auth::AuthUser;
use crate::db::models::MessageView;
use crate::domain::{ConversationId, MessageId};
use crate::error::AppError;
use crate::service::history::bad_limit;
use crate::service::{PageRequest, Sent};
use crate::state::AppState;

/// Body of `POST /api/messages`.
#[derive(Deserialize, ToSchema)]
pub struct SendMessage {
    /// Where to send.
    pub conversation_id: ConversationId,
    /// 1 to `MAX_CONTENT_CHARS` characters.
    pub content: String,
    /// The client's own id; a repeat returns the first message.
    pub client_msg_id: Option<String>,
}

/// Body of `PUT /api/messages/{id}`.
#[derive(Deserialize, ToSchema)]
pub struct EditMessage {
    /// The new content.
    pub content: String,
}

/// Query of `GET /api/messages`; read as text so each bad value gets a 400 naming it.
#[derive(Deserialize, IntoParams)]
pub struct ListQuery {
    /// The conversation (required).
    pub conversation_id: Option<String>,
    /// The page right before this message id.
    pub before: Option<String>,
    /// The page right after this message id.
    pub after: Option<String>,
    /// The page around this message id: it and its neighbours, the older half of `limit`
    /// up to and with it, the newer half after it; not with `before` or `after`.
    pub around: Option<String>,
    /// 1–200, default 50.
    pub limit: Option<String>,
}

impl ListQuery {
    /// The conversation, and the page asked for (or why it is invalid, which the service
    /// answers only after checking membership).
    fn parse(&self) -> Result<(ConversationId, Result<PageRequest, AppError>), AppError> {
        let conversation_id = match self.conversation_id.as_deref() {
            Some(raw) => ConversationId::parse("conversation_id", raw)?,
            None => return Err(AppError::BadRequest("conversation_id: required".into())),
        };
        let id = |field: &'static str, raw: &Option<String>| {
            raw.as_deref()
                .map(|raw| MessageId::parse(field, raw))
                .transpose()
        };
        let page = (|| {
            let limit = self
                .limit
                .as_deref()
                .map(|raw| raw.trim().parse::<i64>().map_err(|_| bad_limit()))
                .transpose()?;
            PageRequest::with_around(
                id("before", &self.before)?,
                id("after", &self.after)?,
                id("around", &self.around)?,
                limit,
            )
        })();
        Ok((conversation_id, page))
    }
}

/// `{"message"}`.
#[derive(Serialize, ToSchema)]
pub struct MessageResponse {
    /// The message.
    pub message: MessageView,
}

/// `{"messages","has_more"}`, and for a page `around` a message whether more lie on
/// each side.
#[derive(Serialize, ToSchema)]
pub struct MessagesResponse {
    /// The page, ascending by id.
    pub messages: Vec<MessageView>,
    /// Whether more lie beyond the page (on either side, for a page around a message).
    pub has_more: bool,
    /// With `around`: whether older messages lie before the page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub has_more_before: Option<bool>,
    /// With `around`: whether newer messages lie after the page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub has_more_after: Option<bool>,
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
    let sender = caller.user_id();
    state
        .send_limiter
        .take(sender.get())
        .map_err(|retry_after_secs| AppError::RateLimited { retry_after_secs })?;
    let body = body.0;
    let sent = state
        .service
        .send(
            sender,
            body.conversation_id,
            &body.content,
            body.client_msg_id.as_deref(),
            None,
        )
        .await?;
    let (mut response, message) = match sent {
        Sent::Created(message) => (HttpResponse::Created(), message),
        Sent::Repeated(message) => (HttpResponse::Ok(), message),
    };
    Ok(response.json(MessageResponse {
        message: message.into(),
    }))
}

/// `GET /api/messages?conversation_id=&before=&after=&around=&limit=`: ascending by id.
#[utoipa::path(get, path = "/api/messages", tag = "messages", params(ListQuery),
    responses((status = 200, body = MessagesResponse), (status = 400), (status = 401), (status = 404)), security(("bearer" = [])))]
pub async fn list_messages(
    state: web::Data<AppState>,
    caller: AuthUser,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let (conversation_id, page) = query.parse()?;
    let page = state
        .service
        .history_page(conversation_id, caller.user_id(), page)
        .await?;
    Ok(HttpResponse::Ok().json(MessagesResponse {
        messages: page.messages.into_iter().map(MessageView::from).collect(),
        has_more: page.has_more,
        has_more_before: page.sides.map(|s| s.has_more_before),
        has_more_after: page.sides.map(|s| s.has_more_after),
    }))
}

/// `GET /api/messages/{id}`.
#[utoipa::path(get, path = "/api/messages/{id}", tag = "messages", params(("id" = i64, Path)),
    responses((status = 200, body = MessageResponse), (status = 401), (status = 404)), security(("bearer" = [])))]
pub async fn get_message(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<MessageId>,
) -> Result<HttpResponse, AppError> {
    let (message, _) = state
        .service
        .visible_message(path.into_inner(), caller.user_id())
        .await?;
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
    path: web::Path<MessageId>,
    body: JsonBody<EditMessage>,
) -> Result<HttpResponse, AppError> {
    let message = state
        .service
        .edit(path.into_inner(), caller.user_id(), &body.0.content)
        .await?;
    Ok(HttpResponse::Ok().json(MessageResponse { message }))
}

/// `DELETE /api/messages/{id}`: the sender or the conversation's owner; a soft delete.
#[utoipa::path(delete, path = "/api/messages/{id}", tag = "messages", params(("id" = i64, Path)),
    responses((status = 204), (status = 401), (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn delete_message(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<MessageId>,
) -> Result<HttpResponse, AppError> {
    state
        .service
        .delete(path.into_inner(), caller.user_id())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
