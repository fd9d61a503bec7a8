//! The OpenAPI document, generated from the handlers' own annotations (utoipa) and served
//! at `/openapi.json`. It is meant to be exact: a client generated from it sends what the
//! server accepts and expects every answer the server can give.
//!
//! Each handler's annotation lists the answers its own logic gives (`403`, `404`, `409`,
//! `429`…) and each request type carries its limits (`minLength`, `maxLength`, `pattern`,
//! `minimum`). The answers that come from the layers every request crosses are added here,
//! by [`LayerAnswers`], from the shape of the operation, so that a new route gets them by
//! being annotated like its neighbours:
//!
//! - a JSON body: `400` (malformed or a field out of its limits), `413` (past
//!   `MAX_BODY_BYTES`) and `415` (not `application/json`), from the body extractor;
//! - parameters: `400`, from the path and query extractors;
//! - a bearer security requirement: `401` from the auth gate and `503` when the database
//!   that proves the login session cannot be reached;
//! - a WebSocket handshake (an operation answering `101`): `400` for a request that is
//!   not one;
//! - every error answer without a body of its own gets the JSON error body, `401` with its
//!   `WWW-Authenticate` header and `429` with its `Retry-After`.

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, PathItem, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use super::{
    auth, conversations, docs, health, messages, page, search, users, ws, ws_echo, ws_info,
};
use crate::domain::{
    DEFAULT_MAX_CONTENT_CHARS, MAX_CLIENT_MSG_ID, MAX_DISPLAY_NAME_CHARS, MAX_PASSWORD_CHARS,
    MAX_TITLE_CHARS, MAX_USERNAME_CHARS, MIN_PASSWORD_CHARS, MIN_USERNAME_CHARS,
};
use crate::error::ErrorBody;

/// Anywhere in a value, a character that is neither a control character nor whitespace as
/// the server trims it (`char::is_control`, `char::is_whitespace`).
macro_rules! visible_char {
    () => {
        r"[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]"
    };
}
/// Any character but a control character (`char::is_control`).
macro_rules! not_control {
    () => {
        r"[^\u0000-\u001F\u007F-\u009F]"
    };
}

/// A title or display name: no control character, and something left once trimmed.
pub const VISIBLE_TEXT_PATTERN: &str = concat!(
    "^",
    not_control!(),
    "*",
    visible_char!(),
    not_control!(),
    "*$"
);
/// Message content: no NUL, and something left once trimmed (other control characters are
/// the sender's business).
pub const CONTENT_PATTERN: &str = concat!(
    r"^[^\u0000]*",
    r"[^\u0000\t\n\u000B\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]",
    r"[^\u0000]*$"
);
/// A `client_msg_id`: no control character.
pub const CLIENT_MSG_ID_PATTERN: &str = concat!("^", not_control!(), "+$");

/// A string schema with its limits; `nullable` for a field that may be `null` or absent.
fn text(description: &str, min: usize, max: usize, pattern: &str, nullable: bool) -> RefOr<Schema> {
    let kind = if nullable {
        utoipa::openapi::schema::SchemaType::from_iter([Type::String, Type::Null])
    } else {
        utoipa::openapi::schema::SchemaType::new(Type::String)
    };
    ObjectBuilder::new()
        .schema_type(kind)
        .description(Some(description))
        .min_length(Some(min))
        .max_length(Some(max))
        .pattern(Some(pattern))
        .into()
}

/// A new username: 3–32 of `a-z 0-9 _ . -`, in any case, since it is stored lower-cased.
pub fn username_schema() -> RefOr<Schema> {
    text(
        "3–32 of a-z 0-9 _ . -; stored lower-cased, so `Alice` and `alice` are one user",
        MIN_USERNAME_CHARS,
        MAX_USERNAME_CHARS,
        &format!("^[A-Za-z0-9_.-]{{{MIN_USERNAME_CHARS},{MAX_USERNAME_CHARS}}}$"),
        false,
    )
}

/// Usernames to add to a new conversation, each of a registered user.
pub fn members_schema() -> RefOr<Schema> {
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(username_schema())
        .description(Some(
            "usernames to add besides the caller, who becomes the owner; each must be registered",
        ))
        .into()
}

/// A new password: 8–128 characters of any kind.
pub fn password_schema() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some("8–128 characters"))
        .min_length(Some(MIN_PASSWORD_CHARS))
        .max_length(Some(MAX_PASSWORD_CHARS))
        .into()
}

/// An optional display name: 1–64 characters once trimmed, no control character.
pub fn display_name_schema() -> RefOr<Schema> {
    text(
        "1–64 characters once trimmed, no control character; the username when absent",
        1,
        MAX_DISPLAY_NAME_CHARS,
        VISIBLE_TEXT_PATTERN,
        true,
    )
}

/// A conversation title: 1–200 characters once trimmed, no control character.
pub fn title_schema() -> RefOr<Schema> {
    text(
        "1–200 characters once trimmed, no control character",
        1,
        MAX_TITLE_CHARS,
        VISIBLE_TEXT_PATTERN,
        false,
    )
}

/// Message content: 1 to `MAX_CONTENT_CHARS` characters, not all whitespace, no NUL.
pub fn content_schema() -> RefOr<Schema> {
    text(
        &format!(
            "1 to MAX_CONTENT_CHARS characters (a setting, {DEFAULT_MAX_CONTENT_CHARS} by \
             default: GET /ws/config tells the value in force), not all whitespace, no NUL"
        ),
        1,
        DEFAULT_MAX_CONTENT_CHARS,
        CONTENT_PATTERN,
        false,
    )
}

/// A client's own message id: 1–128 characters, no control character.
pub fn client_msg_id_schema() -> RefOr<Schema> {
    text(
        "the client's own id for the message, 1–128 characters, no control character; \
         a repeat from the same sender answers with the first message",
        1,
        MAX_CLIENT_MSG_ID,
        CLIENT_MSG_ID_PATTERN,
        true,
    )
}

/// The OpenAPI document of every HTTP route.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "palaver",
        description = "A real-time chat server. This is its HTTP API; the WebSocket protocol \
            (`/ws`, `/ws/conversations/{id}`) is described frame by frame in the JSON Schema at \
            [/ws/schema.json](/ws/schema.json).\n\n\
            Authenticate with `Authorization: Bearer <token>` (from register, login or \
            `POST /api/auth/token`) or with the session cookie that register and login set. \
            Every error has the body `{\"error\":{\"code\",\"message\"}}`; a `400` names the \
            field at fault. Limits that depend on the configuration are shown with their \
            default value."
    ),
    external_docs(url = "/ws/schema.json", description = "The WebSocket frames, as JSON Schema"),
    paths(
        page::index, health::health, health::ready_doc, health::live, health::metrics,
        openapi_json, docs::docs_page,
        auth::register, auth::login, auth::logout, auth::me, auth::refresh_token,
        users::search_users,
        conversations::create_conversation, conversations::list_conversations, conversations::get_conversation,
        conversations::add_member, conversations::remove_member, conversations::mark_read,
        messages::send_message, messages::list_messages, messages::get_message, messages::edit_message, messages::delete_message,
        search::search_messages,
        ws::connect, ws::connect_bound, ws_echo::echo, ws_info::ws_config, ws_info::ws_health, ws_info::ws_stats, ws_info::ws_schema,
    ),
    components(schemas(ErrorBody)),
    modifiers(&BearerAuth, &LayerAnswers)
)]
pub struct ApiDoc;

/// `GET /openapi.json`: this document.
#[utoipa::path(get, path = "/openapi.json", tag = "service",
    responses((status = 200, description = "this document", content_type = "application/json")))]
pub async fn openapi_json() -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok().json(ApiDoc::openapi())
}

/// The `bearer` security scheme the protected operations name.
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

/// The answers of the layers every request crosses, added to each operation by its shape.
struct LayerAnswers;

impl Modify for LayerAnswers {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            for operation in operations_mut(item) {
                operation.summary = operation.summary.as_deref().and_then(plain_summary);
                add_layer_answers(operation);
                give_errors_their_body(operation);
            }
        }
    }
}

fn operations_mut(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.options,
        &mut item.head,
        &mut item.patch,
        &mut item.trace,
    ]
    .into_iter()
    .filter_map(Option::as_mut)
}

/// The summary a reader of the reference wants from a handler's doc line: without the
/// leading `` `METHOD /path` `` (the reference shows it beside), without code marks and
/// intra-doc links, on one line.
fn plain_summary(doc: &str) -> Option<String> {
    let mut rest = doc.trim();
    // "`GET /a` and `GET /b`: text" and "`GET /a`: text" lose their routes.
    while let Some(after) = rest.strip_prefix('`') {
        let Some((_, tail)) = after.split_once('`') else {
            break;
        };
        rest = tail.trim_start();
        rest = rest.strip_prefix("and ").unwrap_or(rest);
    }
    let rest = rest.trim_start_matches([':', ',', '.', ' ']);
    let text = rest
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace("[`", "")
        .replace("`]", "")
        .replace('`', "");
    let mut chars = text.chars();
    let first = chars.next()?;
    Some(first.to_uppercase().chain(chars).collect())
}

fn add_layer_answers(operation: &mut Operation) {
    if operation.request_body.is_some() {
        add_answer(
            operation,
            400,
            "malformed JSON, or a field missing or out of its limits (the message names it)",
        );
        add_answer(operation, 413, "the body is larger than MAX_BODY_BYTES");
        add_answer(operation, 415, "the body is not sent as application/json");
    }
    if operation.parameters.as_ref().is_some_and(|p| !p.is_empty()) {
        add_answer(
            operation,
            400,
            "a parameter missing or out of its type or limits (the message names it)",
        );
    }
    if operation.responses.responses.contains_key("101") {
        add_answer(
            operation,
            400,
            "not a WebSocket handshake (Upgrade, Connection, Sec-WebSocket-Key or -Version missing or wrong)",
        );
    }
    if operation.security.as_ref().is_some_and(|s| !s.is_empty()) {
        add_answer(
            operation,
            401,
            "no credentials, or invalid, expired or revoked ones",
        );
        add_answer(operation, 503, "the database cannot be reached");
    }
}

/// Adds `status` with `description` unless the handler's annotation already lists it.
fn add_answer(operation: &mut Operation, status: u16, description: &str) {
    operation
        .responses
        .responses
        .entry(status.to_string())
        .or_insert_with(|| ResponseBuilder::new().description(description).into());
}

/// Every answer has a description, and every error answer the annotations left without a
/// body has the JSON error body.
fn give_errors_their_body(operation: &mut Operation) {
    for (status, response) in operation.responses.responses.iter_mut() {
        let RefOr::T(response) = response else {
            continue;
        };
        let status: u16 = status.parse().unwrap_or(0);
        if response.description.is_empty() {
            response.description = default_description(status).to_string();
        }
        if status < 400 {
            continue;
        }
        if response.content.is_empty() {
            response.content.insert(
                "application/json".to_string(),
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            );
        }
        let header = match status {
            401 => Some(("WWW-Authenticate", "always `Bearer`")),
            429 => Some(("Retry-After", "seconds to wait before trying again")),
            _ => None,
        };
        if let Some((name, description)) = header {
            response.headers.entry(name.to_string()).or_insert_with(|| {
                HeaderBuilder::new()
                    .schema(
                        utoipa::openapi::ObjectBuilder::new().schema_type(if status == 429 {
                            utoipa::openapi::Type::Integer
                        } else {
                            utoipa::openapi::Type::String
                        }),
                    )
                    .description(Some(description))
                    .build()
            });
        }
    }
}

fn default_description(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "created",
        204 => "done; no body",
        400 => "invalid input (the message names the field)",
        401 => "no valid credentials",
        403 => "not allowed to do this",
        404 => "no such resource, or not the caller's to see",
        409 => "conflict",
        413 => "the body is too large",
        415 => "not application/json",
        426 => "not a WebSocket handshake",
        429 => "too many requests",
        503 => "the database cannot be reached",
        _ => "error",
    }
}

#[cfg(test)]
mod tests {
    use super::plain_summary;

    #[test]
    fn summaries_lose_their_routes_and_code_marks() {
        assert_eq!(
            plain_summary("`GET /api/conversations`: the caller's, newest activity first.")
                .as_deref(),
            Some("The caller's, newest activity first.")
        );
        assert_eq!(
            plain_summary("`GET /health` and `GET /health/ready`: readiness, 200 or 503.")
                .as_deref(),
            Some("Readiness, 200 or 503.")
        );
        assert_eq!(
            plain_summary("`POST /api/messages`: 201 stored, 200 the same `client_msg_id`\nagain.")
                .as_deref(),
            Some("201 stored, 200 the same client_msg_id again.")
        );
        assert_eq!(
            plain_summary("served by [`health`].").as_deref(),
            Some("Served by health.")
        );
        assert_eq!(plain_summary("`GET /x`."), None);
    }
}
