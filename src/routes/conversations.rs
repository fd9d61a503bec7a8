//! `/api/conversations*`: creating conversations, listing them, membership and read
//! markers, each a call into the service layer, which decides the order of refusals.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{openapi, JsonBody};
use crate::auth::AuthUser;
use crate::db::models::{Conversation, ConversationView, MemberView, MessageView};
use crate::domain::{ConversationId, MessageId, UserId};
use crate::error::AppError;
use crate::service::membership::Added;
use crate::state::AppState;

/// Body of `POST /api/conversations`.
#[derive(Deserialize, ToSchema)]
pub struct CreateConversation {
    /// 1–200 characters.
    #[schema(schema_with = openapi::title_schema)]
    pub title: String,
    /// Usernames to add besides the caller, who becomes the owner; each must exist.
    #[serde(default)]
    #[schema(schema_with = openapi::members_schema)]
    pub members: Vec<String>,
}

/// Body of `POST /api/conversations/{id}/members`.
#[derive(Deserialize, ToSchema)]
pub struct AddMember {
    /// Who to add: a registered username.
    #[schema(schema_with = openapi::username_schema)]
    pub username: String,
}

/// Body of `POST /api/conversations/{id}/read`.
#[derive(Deserialize, ToSchema)]
pub struct MarkRead {
    /// The newest message the caller has read.
    pub message_id: MessageId,
}

/// `{"conversation"}`.
#[derive(Serialize, ToSchema)]
pub struct ConversationResponse {
    /// The conversation, with its members.
    pub conversation: ConversationView,
}

/// One entry of `GET /api/conversations`.
#[derive(Serialize, ToSchema)]
pub struct ConversationSummary {
    /// The conversation.
    #[serde(flatten)]
    pub conversation: ConversationView,
    /// Its newest message.
    pub last_message: Option<MessageView>,
    /// Others' messages past the caller's read marker.
    pub unread_count: i64,
}

/// `{"conversations"}`.
#[derive(Serialize, ToSchema)]
pub struct ConversationsResponse {
    /// The caller's conversations, newest activity first.
    pub conversations: Vec<ConversationSummary>,
}

/// The conversation with its members, as `{"conversation"}` shows it.
async fn with_members(
    state: &AppState,
    conversation: &Conversation,
) -> Result<ConversationView, AppError> {
    let members = state.service.members(conversation).await?;
    let mut view = ConversationView::from(conversation);
    view.members = Some(
        members
            .into_iter()
            .map(|(user, role)| MemberView {
                user: user.into(),
                role,
            })
            .collect(),
    );
    Ok(view)
}

/// `POST /api/conversations`: the caller owns it; unknown usernames are named in a 400.
#[utoipa::path(post, path = "/api/conversations", tag = "conversations", request_body = CreateConversation,
    responses((status = 201, body = ConversationResponse),
        (status = 400, description = "a field out of its limits, or a username that does not exist")), security(("bearer" = [])))]
pub async fn create_conversation(
    state: web::Data<AppState>,
    caller: AuthUser,
    body: JsonBody<CreateConversation>,
) -> Result<HttpResponse, AppError> {
    let conversation = state
        .service
        .create_conversation(caller.user_id(), &body.0.title, &body.0.members)
        .await?;
    let view = with_members(&state, &conversation).await?;
    Ok(HttpResponse::Created().json(ConversationResponse { conversation: view }))
}

/// `GET /api/conversations`: the caller's, newest activity first.
#[utoipa::path(get, path = "/api/conversations", tag = "conversations",
    responses((status = 200, body = ConversationsResponse)), security(("bearer" = [])))]
pub async fn list_conversations(
    state: web::Data<AppState>,
    caller: AuthUser,
) -> Result<HttpResponse, AppError> {
    let summaries = state.service.conversations_of(caller.user_id()).await?;
    let conversations = summaries
        .into_iter()
        .map(|s| ConversationSummary {
            conversation: ConversationView::from(&s.conversation),
            last_message: s.last_message.map(MessageView::from),
            unread_count: s.unread_count,
        })
        .collect();
    Ok(HttpResponse::Ok().json(ConversationsResponse { conversations }))
}

/// `GET /api/conversations/{id}`: with its members.
#[utoipa::path(get, path = "/api/conversations/{id}", tag = "conversations", params(("id" = i64, Path, minimum = 1, description = "the conversation")),
    responses((status = 200, body = ConversationResponse), (status = 404, description = "no such conversation, or the caller is not a member")), security(("bearer" = [])))]
pub async fn get_conversation(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<ConversationId>,
) -> Result<HttpResponse, AppError> {
    let (conversation, _) = state
        .service
        .require_membership(path.into_inner(), caller.user_id())
        .await?;
    let view = with_members(&state, &conversation).await?;
    Ok(HttpResponse::Ok().json(ConversationResponse { conversation: view }))
}

/// `POST /api/conversations/{id}/members`: owner only; 201 added, 200 already a member.
#[utoipa::path(post, path = "/api/conversations/{id}/members", tag = "conversations", params(("id" = i64, Path, minimum = 1, description = "the conversation")), request_body = AddMember,
    responses((status = 201, body = ConversationResponse, description = "added"),
        (status = 200, body = ConversationResponse, description = "already a member"),
        (status = 400, description = "no user has this username"),
        (status = 403, description = "the caller is a member but not the owner"),
        (status = 404, description = "no such conversation, or the caller is not a member")),
    security(("bearer" = [])))]
pub async fn add_member(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<ConversationId>,
    body: JsonBody<AddMember>,
) -> Result<HttpResponse, AppError> {
    let (conversation, added) = state
        .service
        .add_member(path.into_inner(), caller.user_id(), &body.0.username)
        .await?;
    let view = with_members(&state, &conversation).await?;
    let mut response = match added {
        Added::New => HttpResponse::Created(),
        Added::Already => HttpResponse::Ok(),
    };
    Ok(response.json(ConversationResponse { conversation: view }))
}

/// `DELETE /api/conversations/{id}/members/{user_id}`: the owner removes others, a member
/// removes themself.
#[utoipa::path(delete, path = "/api/conversations/{id}/members/{user_id}", tag = "conversations",
    params(("id" = i64, Path, minimum = 1, description = "the conversation"),
        ("user_id" = i64, Path, minimum = 1, description = "the member to remove")),
    responses((status = 204, description = "removed"),
        (status = 403, description = "only the owner removes others; the owner cannot leave"),
        (status = 404, description = "no such conversation or member, or the caller is not a member")), security(("bearer" = [])))]
pub async fn remove_member(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<(ConversationId, UserId)>,
) -> Result<HttpResponse, AppError> {
    let (conversation_id, user_id) = path.into_inner();
    state
        .service
        .remove_member(conversation_id, caller.user_id(), user_id)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /api/conversations/{id}/read`: moves the caller's read marker forward.
#[utoipa::path(post, path = "/api/conversations/{id}/read", tag = "conversations", params(("id" = i64, Path, minimum = 1, description = "the conversation")), request_body = MarkRead,
    responses((status = 204, description = "the read marker is at the message, or already past it"),
        (status = 400, description = "the message is not of this conversation"),
        (status = 404, description = "no such conversation, or the caller is not a member")), security(("bearer" = [])))]
pub async fn mark_read(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<ConversationId>,
    body: JsonBody<MarkRead>,
) -> Result<HttpResponse, AppError> {
    state
        .service
        .mark_read(path.into_inner(), caller.user_id(), body.0.message_id, None)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
