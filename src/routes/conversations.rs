//! `/api/conversations*`: creating conversations, listing them, membership and read
//! markers. A conversation the caller is not a member of does not exist for them (404),
//! and that is decided before any 403 (ARCHITECTURE.md, Order of refusals).

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::JsonBody;
use crate::auth::AuthUser;
use crate::db::models::{
    Conversation, ConversationView, Member, MemberView, MessageView, ROLE_OWNER,
};
use crate::db::{self, Db};
use crate::domain::{Title, Username};
use crate::error::AppError;
use crate::live::LiveEvent;
use crate::startup::AppState;

#[derive(Deserialize, ToSchema)]
pub struct CreateConversation {
    pub title: String,
    /// Usernames to add besides the caller, who becomes the owner.
    #[serde(default)]
    pub members: Vec<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct AddMember {
    pub username: String,
}

#[derive(Deserialize, ToSchema)]
pub struct MarkRead {
    pub message_id: i64,
}

#[derive(Serialize, ToSchema)]
pub struct ConversationResponse {
    pub conversation: ConversationView,
}

/// One entry of `GET /api/conversations`.
#[derive(Serialize, ToSchema)]
pub struct ConversationSummary {
    #[serde(flatten)]
    pub conversation: ConversationView,
    pub last_message: Option<MessageView>,
    pub unread_count: i64,
}

#[derive(Serialize, ToSchema)]
pub struct ConversationsResponse {
    pub conversations: Vec<ConversationSummary>,
}

/// The conversation and the caller's membership, or 404 if the caller is not a member.
pub async fn require_membership(
    db: &Db,
    conversation_id: i64,
    user_id: i64,
) -> Result<(Conversation, Member), AppError> {
    db::conversations::membership(db, conversation_id, user_id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("conversation {conversation_id} not found")))
}

async fn with_members(db: &Db, conversation: &Conversation) -> Result<ConversationView, AppError> {
    let members = db::conversations::members(db, conversation.id).await?;
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
    responses((status = 201, body = ConversationResponse), (status = 400), (status = 401)), security(("bearer" = [])))]
pub async fn create_conversation(
    state: web::Data<AppState>,
    caller: AuthUser,
    body: JsonBody<CreateConversation>,
) -> Result<HttpResponse, AppError> {
    let owner_id = caller.0.user_id;
    let title = Title::parse(&body.0.title).map_err(|e| AppError::BadRequest(e.to_string()))?;
    let mut wanted: Vec<String> = body
        .0
        .members
        .iter()
        .map(|m| m.trim().to_lowercase())
        .collect();
    wanted.sort();
    wanted.dedup();
    // Only well-formed names are looked up; the others cannot exist.
    let valid: Vec<String> = wanted
        .iter()
        .filter(|name| Username::parse(name).is_ok())
        .cloned()
        .collect();
    let found = db::users::find_by_usernames(&state.db, &valid).await?;
    let unknown: Vec<String> = wanted
        .iter()
        .filter(|name| !found.iter().any(|u| &u.username == *name))
        .map(|name| name.escape_default().to_string())
        .collect();
    if !unknown.is_empty() {
        return Err(AppError::BadRequest(format!(
            "members: unknown usernames: {}",
            unknown.join(", ")
        )));
    }
    let member_ids: Vec<i64> = found.iter().map(|u| u.id).collect();
    let conversation =
        db::conversations::create(&state.db, owner_id, title.as_str(), &member_ids).await?;
    for &user_id in member_ids.iter().filter(|&&id| id != owner_id) {
        state.live.publish(LiveEvent::MemberAdded {
            conversation_id: conversation.id,
            user_id,
        });
    }
    let view = with_members(&state.db, &conversation).await?;
    Ok(HttpResponse::Created().json(ConversationResponse { conversation: view }))
}

/// `GET /api/conversations`: the caller's, newest activity first.
#[utoipa::path(get, path = "/api/conversations", tag = "conversations",
    responses((status = 200, body = ConversationsResponse), (status = 401)), security(("bearer" = [])))]
pub async fn list_conversations(
    state: web::Data<AppState>,
    caller: AuthUser,
) -> Result<HttpResponse, AppError> {
    let summaries = db::conversations::list_for_user(&state.db, caller.0.user_id).await?;
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
#[utoipa::path(get, path = "/api/conversations/{id}", tag = "conversations", params(("id" = i64, Path)),
    responses((status = 200, body = ConversationResponse), (status = 401), (status = 404)), security(("bearer" = [])))]
pub async fn get_conversation(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (conversation, _) =
        require_membership(&state.db, path.into_inner(), caller.0.user_id).await?;
    let view = with_members(&state.db, &conversation).await?;
    Ok(HttpResponse::Ok().json(ConversationResponse { conversation: view }))
}

/// `POST /api/conversations/{id}/members`: owner only; 201 added, 200 already a member.
#[utoipa::path(post, path = "/api/conversations/{id}/members", tag = "conversations", params(("id" = i64, Path)), request_body = AddMember,
    responses((status = 201, body = ConversationResponse), (status = 200, body = ConversationResponse), (status = 400), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn add_member(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<i64>,
    body: JsonBody<AddMember>,
) -> Result<HttpResponse, AppError> {
    let (conversation, membership) =
        require_membership(&state.db, path.into_inner(), caller.0.user_id).await?;
    if membership.role != ROLE_OWNER {
        return Err(AppError::Forbidden("only the owner adds members".into()));
    }
    let raw = body.0.username;
    let unknown = || AppError::BadRequest(format!("username: unknown username {:?}", raw.trim()));
    let username = Username::parse(&raw).map_err(|_| unknown())?;
    let user = db::users::find_by_username(&state.db, username.as_str())
        .await?
        .ok_or_else(unknown)?;
    let added = db::conversations::add_member(&state.db, conversation.id, user.id).await?;
    if added {
        state.live.publish(LiveEvent::MemberAdded {
            conversation_id: conversation.id,
            user_id: user.id,
        });
    }
    let view = with_members(&state.db, &conversation).await?;
    let mut response = if added {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    Ok(response.json(ConversationResponse { conversation: view }))
}

/// `DELETE /api/conversations/{id}/members/{user_id}`: the owner removes others, a member
/// removes themself.
#[utoipa::path(delete, path = "/api/conversations/{id}/members/{user_id}", tag = "conversations",
    params(("id" = i64, Path), ("user_id" = i64, Path)),
    responses((status = 204), (status = 401), (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn remove_member(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, AppError> {
    let (conversation_id, user_id) = path.into_inner();
    let caller_id = caller.0.user_id;
    let (_, membership) = require_membership(&state.db, conversation_id, caller_id).await?;
    let is_owner = membership.role == ROLE_OWNER;
    if is_owner && user_id == caller_id {
        return Err(AppError::Forbidden(
            "the owner cannot leave their own conversation".into(),
        ));
    }
    if !is_owner && user_id != caller_id {
        return Err(AppError::Forbidden(
            "only the owner removes other members".into(),
        ));
    }
    if !db::conversations::remove_member(&state.db, conversation_id, user_id).await? {
        return Err(AppError::NotFound(format!(
            "user {user_id} is not a member of conversation {conversation_id}"
        )));
    }
    state.live.publish(LiveEvent::MemberRemoved {
        conversation_id,
        user_id,
    });
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /api/conversations/{id}/read`: moves the caller's read marker forward.
#[utoipa::path(post, path = "/api/conversations/{id}/read", tag = "conversations", params(("id" = i64, Path)), request_body = MarkRead,
    responses((status = 204), (status = 400), (status = 401), (status = 404)), security(("bearer" = [])))]
pub async fn mark_read(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<i64>,
    body: JsonBody<MarkRead>,
) -> Result<HttpResponse, AppError> {
    let user_id = caller.0.user_id;
    let (conversation, _) = require_membership(&state.db, path.into_inner(), user_id).await?;
    let message_id = body.0.message_id;
    read_marker_target(&state.db, conversation.id, message_id).await?;
    db::conversations::mark_read(&state.db, conversation.id, user_id, message_id).await?;
    state.live.publish(LiveEvent::Read {
        conversation_id: conversation.id,
        user_id,
        message_id,
        origin: None,
    });
    Ok(HttpResponse::NoContent().finish())
}

/// A read marker may only point at a message of its own conversation.
pub async fn read_marker_target(
    db: &Db,
    conversation_id: i64,
    message_id: i64,
) -> Result<(), AppError> {
    let belongs = message_id > 0
        && db::messages::find(db, message_id)
            .await?
            .is_some_and(|m| m.conversation_id == conversation_id);
    if belongs {
        Ok(())
    } else {
        Err(AppError::BadRequest(format!(
            "message_id: message {message_id} is not in conversation {conversation_id}"
        )))
    }
}
