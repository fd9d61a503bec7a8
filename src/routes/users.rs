//! `/api/users`: finding people to talk to.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::AuthUser;
use crate::db::{self, models::UserView};
use crate::error::{AppError, DbContext};
use crate::state::AppState;

/// At most this many users per search.
const SEARCH_LIMIT: i64 = 20;

/// Query of `GET /api/users`.
#[derive(Deserialize, IntoParams)]
pub struct SearchQuery {
    /// Username prefix, case-insensitive; no control character. Every user when absent.
    #[param(pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    pub query: Option<String>,
}

/// `{"users"}`.
#[derive(Serialize, ToSchema)]
pub struct UsersResponse {
    /// At most 20, by username.
    pub users: Vec<UserView>,
}

/// `GET /api/users?query=ali`: up to 20 users by username prefix.
#[utoipa::path(get, path = "/api/users", tag = "users", params(SearchQuery),
    responses((status = 200, body = UsersResponse),
        (status = 400, description = "the query holds a control character")), security(("bearer" = [])))]
pub async fn search_users(
    state: web::Data<AppState>,
    _caller: AuthUser,
    query: web::Query<SearchQuery>,
) -> Result<HttpResponse, AppError> {
    let prefix = query.query.as_deref().unwrap_or("").trim().to_lowercase();
    if prefix.chars().any(char::is_control) {
        return Err(AppError::BadRequest(
            "query: must not contain control characters".into(),
        ));
    }
    let users = db::users::search_prefix(&state.db, &prefix, SEARCH_LIMIT)
        .await
        .context("searching users")?;
    Ok(HttpResponse::Ok().json(UsersResponse {
        users: users.into_iter().map(UserView::from).collect(),
    }))
}
