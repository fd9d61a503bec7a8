//! Every HTTP endpoint, one resource per file. [`endpoints`] is the single list of
//! routes: it mounts the handlers and feeds the auth gate's route table, so the two can
//! never disagree about which routes exist or which are public.

pub mod auth;
pub mod conversations;
pub mod docs;
pub mod health;
pub mod messages;
pub mod openapi;
pub mod page;
pub mod search;
pub mod users;
pub mod ws;
pub mod ws_echo;
pub mod ws_info;

mod json;

pub use json::JsonBody;

use std::collections::BTreeMap;

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::Method;
use actix_web::{web, FromRequest, Handler, Responder, Route};

use crate::error::AppError;
use crate::middleware::{Access, RouteTable};

/// One route: where, which method, whether it needs an identity, and its handler.
pub struct Endpoint {
    /// The path pattern, as actix-web matches it.
    pub path: &'static str,
    /// The one method this route answers.
    pub method: Method,
    /// Whether the auth gate lets it through without an identity.
    pub access: Access,
    route: Route,
}

fn endpoint<F, Args>(access: Access, method: Method, path: &'static str, handler: F) -> Endpoint
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    Endpoint {
        path,
        route: web::method(method.clone()).to(handler),
        method,
        access,
    }
}

/// Where Prometheus reads the metrics; `startup` decides on which listener.
pub const METRICS_PATH: &str = "/metrics";

/// Every route of the server (docs/api.md).
pub fn endpoints() -> Vec<Endpoint> {
    use Access::{Protected, Public};
    vec![
        endpoint(Public, Method::GET, "/", page::index),
        endpoint(Public, Method::GET, "/health", health::health),
        endpoint(Public, Method::GET, "/health/ready", health::health),
        endpoint(Public, Method::GET, "/health/live", health::live),
        endpoint(Public, Method::GET, METRICS_PATH, health::metrics),
        endpoint(Public, Method::GET, "/openapi.json", openapi::openapi_json),
        endpoint(Public, Method::GET, "/docs", docs::docs_page),
        endpoint(Public, Method::GET, "/docs/{file:.*}", docs::docs_asset),
        endpoint(Public, Method::POST, "/api/auth/register", auth::register),
        endpoint(Public, Method::POST, "/api/auth/login", auth::login),
        endpoint(Protected, Method::POST, "/api/auth/logout", auth::logout),
        endpoint(Protected, Method::GET, "/api/auth/me", auth::me),
        endpoint(
            Protected,
            Method::POST,
            "/api/auth/token",
            auth::refresh_token,
        ),
        endpoint(Protected, Method::GET, "/api/users", users::search_users),
        endpoint(
            Protected,
            Method::POST,
            "/api/conversations",
            conversations::create_conversation,
        ),
        endpoint(
            Protected,
            Method::GET,
            "/api/conversations",
            conversations::list_conversations,
        ),
        endpoint(
            Protected,
            Method::GET,
            "/api/conversations/{id}",
            conversations::get_conversation,
        ),
        endpoint(
            Protected,
            Method::POST,
            "/api/conversations/{id}/members",
            conversations::add_member,
        ),
        endpoint(
            Protected,
            Method::DELETE,
            "/api/conversations/{id}/members/{user_id}",
            conversations::remove_member,
        ),
        endpoint(
            Protected,
            Method::POST,
            "/api/conversations/{id}/read",
            conversations::mark_read,
        ),
        endpoint(
            Protected,
            Method::POST,
            "/api/messages",
            messages::send_message,
        ),
        endpoint(
            Protected,
            Method::GET,
            "/api/messages",
            messages::list_messages,
        ),
        endpoint(
            Protected,
            Method::GET,
            "/api/messages/{id}",
            messages::get_message,
        ),
        endpoint(
            Protected,
            Method::PUT,
            "/api/messages/{id}",
            messages::edit_message,
        ),
        endpoint(
            Protected,
            Method::DELETE,
            "/api/messages/{id}",
            messages::delete_message,
        ),
        endpoint(
            Protected,
            Method::GET,
            "/api/search",
            search::search_messages,
        ),
        // Public to the gate: the handshake authenticates before it accepts.
        endpoint(Public, Method::GET, "/ws", ws::connect),
        endpoint(
            Public,
            Method::GET,
            "/ws/conversations/{id}",
            ws::connect_bound,
        ),
        endpoint(Public, Method::GET, "/ws/test", ws_echo::echo),
        endpoint(Public, Method::GET, "/ws/config", ws_info::ws_config),
        endpoint(Public, Method::GET, "/ws/health", ws_info::ws_health),
        endpoint(Public, Method::GET, "/ws/stats", ws_info::ws_stats),
        endpoint(Public, Method::GET, "/ws/schema.json", ws_info::ws_schema),
    ]
}

/// The auth gate's view of [`endpoints`].
pub fn route_table(endpoints: &[Endpoint]) -> RouteTable {
    let mut table = RouteTable::default();
    for e in endpoints {
        table.insert(e.path, e.method.clone(), e.access);
    }
    table
}

/// Mounts the endpoints, one resource per path (so a wrong method is `405` with `Allow`),
/// the static assets, and the extractor settings that turn bad input into JSON errors.
pub fn mount(cfg: &mut web::ServiceConfig, endpoints: Vec<Endpoint>, max_body_bytes: usize) {
    cfg.app_data(json_config(max_body_bytes))
        .app_data(web::QueryConfig::default().error_handler(|e, _| query_error(e).into()))
        .app_data(web::PathConfig::default().error_handler(|e, _| path_error(e).into()));
    let mut by_path: BTreeMap<&'static str, Vec<Route>> = BTreeMap::new();
    for e in endpoints {
        by_path.entry(e.path).or_default().push(e.route);
    }
    for (path, routes) in by_path {
        let resource = routes
            .into_iter()
            .fold(web::resource(path), |resource, route| resource.route(route));
        cfg.service(resource);
    }
    cfg.service(actix_files::Files::new("/static", page::static_dir()));
}

fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(|e, _| json_error(e).into())
}

fn json_error(e: JsonPayloadError) -> AppError {
    match e {
        JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
            AppError::PayloadTooLarge("request body too large".into())
        }
        JsonPayloadError::ContentType => {
            AppError::UnsupportedMediaType("expected Content-Type: application/json".into())
        }
        JsonPayloadError::Deserialize(e) if e.is_data() => {
            AppError::BadRequest(format!("invalid body: {e}"))
        }
        JsonPayloadError::Deserialize(e) => AppError::BadRequest(format!("malformed JSON: {e}")),
        other => AppError::BadRequest(format!("unreadable body: {other}")),
    }
}

fn query_error(e: QueryPayloadError) -> AppError {
    AppError::BadRequest(format!("invalid query: {e}"))
}

fn path_error(e: PathError) -> AppError {
    AppError::BadRequest(format!("invalid path: {e}; ids are positive integers"))
}
