//! `/openapi.json`, generated from the handlers' own annotations (utoipa), and `/docs`,
//! a page rendered from the same document on the server, so it needs no script at all.

use actix_web::{http::header::ContentType, HttpResponse};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{auth, conversations, health, messages, page, search, users, ws, ws_echo, ws_info};
use crate::error::ErrorBody;

#[derive(OpenApi)]
#[openapi(
    info(title = "palaver", description = "Real-time chat server: HTTP API. The WebSocket protocol is described at /ws/schema.json."),
    paths(
        page::index, health::health, health::ready_doc, health::live, health::metrics, openapi_json, docs_page,
        auth::register, auth::login, auth::logout, auth::me, auth::refresh_token,
        users::search_users,
        conversations::create_conversation, conversations::list_conversations, conversations::get_conversation,
        conversations::add_member, conversations::remove_member, conversations::mark_read,
        messages::send_message, messages::list_messages, messages::get_message, messages::edit_message, messages::delete_message,
        search::search_messages,
        ws::connect, ws::connect_bound, ws_echo::echo, ws_info::ws_config, ws_info::ws_health, ws_info::ws_stats, ws_info::ws_schema,
    ),
    components(schemas(ErrorBody)),
    modifiers(&BearerAuth)
)]
/// The OpenAPI document of every HTTP route, generated from the handlers' annotations.
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// `GET /openapi.json`.
#[utoipa::path(get, path = "/openapi.json", tag = "service", responses((status = 200, description = "this document")))]
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}

/// `GET /docs`: every route with its summary and answers.
#[utoipa::path(get, path = "/docs", tag = "service", responses((status = 200, description = "the API reference", content_type = "text/html")))]
pub async fn docs_page() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(ContentType::html())
        .body(render(&ApiDoc::openapi()))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn render(doc: &utoipa::openapi::OpenApi) -> String {
    let mut html = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>palaver API</title>\
         <link rel=\"stylesheet\" href=\"/static/app.css\"></head><body><main class=\"docs\"><h1>palaver API</h1>\
         <p>Machine-readable: <a href=\"/openapi.json\">/openapi.json</a>. Errors have the body \
         <code>{\"error\":{\"code\",\"message\"}}</code>.</p>",
    );
    for (path, item) in doc.paths.paths.iter() {
        let operations = [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PUT", &item.put),
            ("DELETE", &item.delete),
        ];
        for (method, operation) in operations {
            let Some(op) = operation else { continue };
            let summary = op
                .summary
                .as_deref()
                .or(op.description.as_deref())
                .unwrap_or("");
            let statuses: Vec<String> = op.responses.responses.keys().map(|s| escape(s)).collect();
            let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
            html.push_str(&format!(
                "<section><h2><code>{method} {}</code></h2><p>{}</p><p>Answers: {}{}</p></section>",
                escape(path),
                escape(summary),
                statuses.join(", "),
                if secured {
                    " · needs a bearer token or the session cookie"
                } else {
                    ""
                }
            ));
        }
    }
    html.push_str("</main></body></html>");
    html
}
