//! `GET /api/search`: full-text search over the messages the caller may read, a call into
//! the service layer.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::AuthUser;
use crate::db::models::MessageView;
use crate::domain::{ConversationId, MessageId, SearchQuery};
use crate::error::AppError;
use crate::service::search::{bad_limit, SearchPage, SearchRequest};
use crate::state::AppState;

/// Query of `GET /api/search`; read as text so each bad value gets a 400 naming it.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// What to find: words (each also a prefix: `deplo` finds "deploy"), quoted
    /// phrases, and `from:username`; every term must match. Anything else is plain text.
    /// It must hold at least one word (a letter or digit): symbols, operators or `from:`
    /// alone are a 400.
    #[param(value_type = String, required = true, min_length = 1, max_length = 200)]
    pub q: Option<String>,
    /// Only this conversation (404 when the caller is not a member).
    #[param(value_type = i64, required = false, minimum = 1)]
    pub conversation_id: Option<String>,
    /// Only hits older than this message id: the last id of the previous page.
    #[param(value_type = i64, required = false, minimum = 1)]
    pub before: Option<String>,
    /// 1–50, default 20.
    #[param(value_type = i64, required = false, minimum = 1, maximum = 50)]
    pub limit: Option<String>,
}

impl SearchParams {
    /// The conversation filter, and the search asked for (or why it is invalid, which the
    /// service answers only after checking membership).
    fn parse(&self) -> Result<(Option<ConversationId>, Result<SearchRequest, AppError>), AppError> {
        let conversation_id = self
            .conversation_id
            .as_deref()
            .map(|raw| ConversationId::parse("conversation_id", raw))
            .transpose()?;
        let request = (|| {
            let query = SearchQuery::parse(self.q.as_deref().unwrap_or(""))?;
            let before = self
                .before
                .as_deref()
                .map(|raw| MessageId::parse("before", raw))
                .transpose()?;
            let limit = self
                .limit
                .as_deref()
                .map(|raw| raw.trim().parse::<i64>().map_err(|_| bad_limit()))
                .transpose()?;
            SearchRequest::new(query, before, limit)
        })();
        Ok((conversation_id, request))
    }
}

/// Where a query matched a message's `content`: `[start, end)` in characters (Unicode
/// code points, not UTF-16 units), for highlighting without markup.
#[derive(Serialize, ToSchema)]
pub struct MatchRange {
    /// The first character matched.
    pub start: usize,
    /// One past the last character matched.
    pub end: usize,
}

/// One message that matched.
#[derive(Serialize, ToSchema)]
pub struct SearchResult {
    /// The message, as `GET /api/messages` shows it.
    pub message: MessageView,
    /// Its conversation.
    pub conversation_id: i64,
    /// Its conversation's title.
    pub conversation_title: String,
    /// Where the query matched `message.content`, sorted and apart.
    pub matches: Vec<MatchRange>,
}

/// `{"results","has_more"}`.
#[derive(Serialize, ToSchema)]
pub struct SearchResponse {
    /// Newest first.
    pub results: Vec<SearchResult>,
    /// Whether older hits lie beyond the page: ask again with `before` the last id.
    pub has_more: bool,
}

impl From<SearchPage> for SearchResponse {
    fn from(page: SearchPage) -> Self {
        SearchResponse {
            results: page
                .hits
                .into_iter()
                .map(|hit| SearchResult {
                    conversation_id: hit.message.conversation_id,
                    conversation_title: hit.conversation_title,
                    matches: hit
                        .matches
                        .into_iter()
                        .map(|r| MatchRange {
                            start: r.start,
                            end: r.end,
                        })
                        .collect(),
                    message: hit.message.into(),
                })
                .collect(),
            has_more: page.has_more,
        }
    }
}

/// `GET /api/search?q=&conversation_id=&before=&limit=`: messages matching `q` in the
/// conversations the caller is a member of now, newest first.
#[utoipa::path(get, path = "/api/search", tag = "messages", params(SearchParams),
    responses((status = 200, body = SearchResponse),
        (status = 400, description = "`q` empty, longer than 200 characters or only operators; or another field invalid"),
        (status = 404, description = "`conversation_id` is not a conversation of the caller's")),
    security(("bearer" = [])))]
pub async fn search_messages(
    state: web::Data<AppState>,
    caller: AuthUser,
    query: web::Query<SearchParams>,
) -> Result<HttpResponse, AppError> {
    let (conversation_id, request) = query.parse()?;
    let page = state
        .service
        .search(caller.user_id(), conversation_id, request)
        .await?;
    Ok(HttpResponse::Ok().json(SearchResponse::from(page)))
}
