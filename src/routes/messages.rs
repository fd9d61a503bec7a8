//! `/api/messages*`: sending, paging, editing and deleting messages, each a call into the
//! service layer, which a socket frame makes alike.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{openapi, JsonBody};
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
    #[schema(schema_with = openapi::content_schema)]
    pub content: String,
    /// The client's own id; a repeat returns the first message.
    #[schema(schema_with = openapi::client_msg_id_schema)]
    pub client_msg_id: Option<String>,
}

/// Body of `PUT /api/messages/{id}`.
#[derive(Deserialize, ToSchema)]
pub struct EditMessage {
    /// The new content.
    #[schema(schema_with = openapi::content_schema)]
    pub content: String,
}

/// Query of `GET /api/messages`; read as text so each bad value gets a 400 naming it, and
/// documented as the server reads it.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// The conversation.
    #[param(value_type = i64, required = true, minimum = 1)]
    pub conversation_id: Option<String>,
    /// The page right before this message id; not together with `after`.
    #[param(value_type = i64, required = false, minimum = 1)]
    pub before: Option<String>,
    /// The page right after this message id; not together with `before`.
    #[param(value_type = i64, required = false, minimum = 1)]
    pub after: Option<String>,
    /// The page around this message id: it and its neighbours, the older half of `limit`
    /// up to and with it, the newer half after it; not with `before` or `after`.
    #[param(value_type = i64, required = false, minimum = 1)]
    pub around: Option<String>,
    /// How many messages, 50 when absent.
    #[param(value_type = i64, required = false, minimum = 1, maximum = 200)]
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
    responses((status = 201, body = MessageResponse, description = "stored"),
        (status = 200, body = MessageResponse, description = "a repeated client_msg_id: the first message"),
        (status = 404, description = "no such conversation, or the caller is not a member"),
        (status = 429, description = "past the sender's rate (RATE_LIMIT_PER_SEC, RATE_LIMIT_BURST)")), security(("bearer" = [])))]
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
    responses((status = 200, body = MessagesResponse),
        (status = 400, description = "a parameter out of its limits, or more than one of before, after and around"),
        (status = 404, description = "no such conversation, or the caller is not a member")), security(("bearer" = [])))]
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

/// `GET /api/messages/{id}`: one message.
#[utoipa::path(get, path = "/api/messages/{id}", tag = "messages", params(("id" = i64, Path, minimum = 1, description = "the message")),
    responses((status = 200, body = MessageResponse),
        (status = 404, description = "no such message, or not in a conversation of the caller")), security(("bearer" = [])))]
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
#[utoipa::path(put, path = "/api/messages/{id}", tag = "messages", params(("id" = i64, Path, minimum = 1, description = "the message")), request_body = EditMessage,
    responses((status = 200, body = MessageResponse),
        (status = 403, description = "only the sender edits"),
        (status = 404, description = "no such message, deleted, or not in a conversation of the caller")), security(("bearer" = [])))]
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
#[utoipa::path(delete, path = "/api/messages/{id}", tag = "messages", params(("id" = i64, Path, minimum = 1, description = "the message")),
    responses((status = 204, description = "deleted"),
        (status = 403, description = "neither the sender nor the conversation's owner"),
        (status = 404, description = "no such message, or not in a conversation of the caller")), security(("bearer" = [])))]
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
