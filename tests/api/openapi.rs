//! The OpenAPI document is exact: parameters typed and required as the server reads them,
//! the limits of every field the server checks, and every answer the server can give,
//! including the ones of the layers (400, 413 and 415 for JSON bodies, 401 and 503 for
//! protected routes); and Swagger UI at `/docs` reads it under a policy of its own.

use serde_json::Value;

use crate::support::{spawn_app, Auth};

/// The document as the server serves it.
async fn document() -> Value {
    let app = spawn_app().await;
    let response = app.get("/openapi.json", Auth::None).await;
    response.assert_status(200);
    response.json()
}

/// Every operation of the document, as `(METHOD path, operation)`.
fn operations(doc: &Value) -> Vec<(String, Value)> {
    let mut all = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            all.push((
                format!("{} {path}", method.to_uppercase()),
                operation.clone(),
            ));
        }
    }
    all
}

/// The schema a `$ref` names, or the schema itself.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(reference) => {
            let name = reference.rsplit('/').next().expect("a schema name");
            &doc["components"]["schemas"][name]
        }
        None => schema,
    }
}

fn parameter<'a>(operation: &'a Value, name: &str) -> &'a Value {
    operation["parameters"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == name))
        .unwrap_or_else(|| panic!("no parameter {name} in {operation}"))
}

#[actix_rt::test]
async fn list_messages_takes_a_required_integer_conversation_id_and_optional_integer_pages() {
    let doc = document().await;
    let operation = &doc["paths"]["/api/messages"]["get"];

    let conversation = parameter(operation, "conversation_id");
    assert_eq!(conversation["in"], "query");
    assert_eq!(conversation["required"], true);
    assert_eq!(conversation["schema"]["type"], "integer", "{conversation}");
    assert_eq!(conversation["schema"]["minimum"], 1);
    for name in ["before", "after", "limit"] {
        let p = parameter(operation, name);
        assert_eq!(p["required"], false, "{name}: {p}");
        assert_eq!(p["schema"]["type"], "integer", "{name}: {p}");
        assert_eq!(p["schema"]["minimum"], 1, "{name}");
    }
    assert_eq!(parameter(operation, "limit")["schema"]["maximum"], 200);
}

#[actix_rt::test]
async fn every_path_id_is_an_integer_of_at_least_one() {
    let doc = document().await;

    for (name, operation) in operations(&doc) {
        if !name.contains(" /api/") {
            continue;
        }
        for p in operation["parameters"].as_array().into_iter().flatten() {
            if p["in"] == "path" {
                assert_eq!(p["required"], true, "{name}: {p}");
                assert_eq!(p["schema"]["type"], "integer", "{name}: {p}");
                assert_eq!(p["schema"]["minimum"], 1, "{name}: {p}");
            }
        }
    }
}

#[actix_rt::test]
async fn every_json_body_operation_documents_400_413_and_415() {
    let doc = document().await;
    let with_bodies: Vec<(String, Value)> = operations(&doc)
        .into_iter()
        .filter(|(_, op)| !op["requestBody"].is_null())
        .collect();

    assert!(with_bodies.len() >= 7, "{}", with_bodies.len());
    for (name, operation) in with_bodies {
        for status in ["400", "413", "415"] {
            assert!(
                !operation["responses"][status].is_null(),
                "{name} does not document {status}"
            );
        }
    }
}

#[actix_rt::test]
async fn every_protected_operation_documents_401_and_503_with_the_error_body() {
    let doc = document().await;

    for (name, operation) in operations(&doc) {
        if operation["security"].as_array().is_none_or(Vec::is_empty) {
            continue;
        }
        for status in ["401", "503"] {
            let answer = &operation["responses"][status];
            let schema = &answer["content"]["application/json"]["schema"];
            assert_eq!(
                schema["$ref"], "#/components/schemas/ErrorBody",
                "{name} {status}: {answer}"
            );
        }
        assert!(
            !operation["responses"]["401"]["headers"]["WWW-Authenticate"].is_null(),
            "{name}"
        );
    }
}

#[actix_rt::test]
async fn the_answers_of_each_handler_are_documented() {
    let doc = document().await;
    let documented = |path: &str, method: &str, status: &str| {
        !doc["paths"][path][method]["responses"][status].is_null()
    };

    for (path, method, statuses) in [
        ("/api/auth/register", "post", &["201", "409", "503"][..]),
        ("/api/auth/login", "post", &["200", "401", "429"]),
        ("/api/messages", "post", &["201", "200", "404", "429"]),
        ("/api/messages/{id}", "put", &["200", "403", "404"]),
        ("/api/messages/{id}", "delete", &["204", "403", "404"]),
        (
            "/api/conversations/{id}/members",
            "post",
            &["201", "200", "403", "404"],
        ),
        ("/api/users", "get", &["200", "400"]),
        ("/ws", "get", &["101", "400", "401", "403", "429", "503"]),
    ] {
        for status in statuses {
            assert!(
                documented(path, method, status),
                "{} {path} does not document {status}",
                method.to_uppercase()
            );
        }
    }
    assert!(
        !doc["paths"]["/api/auth/login"]["post"]["responses"]["429"]["headers"]["Retry-After"]
            .is_null()
    );
}

#[actix_rt::test]
async fn the_request_schemas_carry_the_limits_the_server_checks() {
    let doc = document().await;
    let property = |schema: &str, field: &str| {
        let schema = &doc["components"]["schemas"][schema];
        resolve(&doc, &schema["properties"][field]).clone()
    };

    let content = property("SendMessage", "content");
    assert_eq!(content["minLength"], 1);
    assert_eq!(content["maxLength"], 4000, "the default MAX_CONTENT_CHARS");
    assert!(content["description"]
        .as_str()
        .is_some_and(|d| d.contains("MAX_CONTENT_CHARS")));
    assert_eq!(property("EditMessage", "content")["maxLength"], 4000);
    let password = property("RegisterRequest", "password");
    assert_eq!(
        (password["minLength"].clone(), password["maxLength"].clone()),
        (8.into(), 128.into())
    );
    let username = property("RegisterRequest", "username");
    assert_eq!(
        (username["minLength"].clone(), username["maxLength"].clone()),
        (3.into(), 32.into())
    );
    assert!(username["pattern"].is_string());
    let title = property("CreateConversation", "title");
    assert_eq!(
        (title["minLength"].clone(), title["maxLength"].clone()),
        (1.into(), 200.into())
    );
    assert_eq!(property("SendMessage", "client_msg_id")["maxLength"], 128);
    let conversation_id = property("SendMessage", "conversation_id");
    assert_eq!(conversation_id["type"], "integer");
    assert_eq!(conversation_id["minimum"], 1);
    let required = &doc["components"]["schemas"]["SendMessage"]["required"];
    assert_eq!(*required, serde_json::json!(["conversation_id", "content"]));
}

#[actix_rt::test]
async fn the_document_points_to_the_socket_schema() {
    let doc = document().await;

    assert_eq!(doc["externalDocs"]["url"], "/ws/schema.json");
    assert!(doc["info"]["description"]
        .as_str()
        .is_some_and(|d| d.contains("/ws/schema.json")));
}
