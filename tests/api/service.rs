//! The public service routes: health, metrics, the API description and the page.

use serde_json::json;

use crate::support::{spawn_app, Auth, PASSWORD};

#[actix_rt::test]
async fn health_and_ready_answer_ok_with_the_database_ok() {
    let app = spawn_app().await;
    for path in ["/health", "/health/ready"] {
        let response = app.get(path, Auth::None).await;

        response.assert_status(200);
        assert_eq!(
            response.json(),
            json!({"status": "ok", "database": "ok"}),
            "{path}"
        );
    }
}

#[actix_rt::test]
async fn live_answers_ok() {
    let app = spawn_app().await;

    let response = app.get("/health/live", Auth::None).await;

    response.assert_status(200);
    assert_eq!(response.json()["status"], "ok");
}

#[actix_rt::test]
async fn metrics_are_prometheus_text_counting_http_requests_by_status() {
    let app = spawn_app().await;
    app.get("/health", Auth::None).await.assert_status(200);
    app.get("/nowhere", Auth::None).await.assert_status(404);

    let response = app.get("/metrics", Auth::None).await;

    response.assert_status(200);
    assert!(response
        .header("content-type")
        .is_some_and(|t| t.starts_with("text/plain")));
    let text = response.text();
    assert!(
        text.contains("# TYPE palaver_http_requests_total counter"),
        "{text}"
    );
    assert!(
        text.contains("palaver_http_requests_total{status=\"200\"}"),
        "{text}"
    );
    assert!(
        text.contains("palaver_http_requests_total{status=\"404\"} 1"),
        "{text}"
    );
}

#[actix_rt::test]
async fn metrics_count_auth_rejections_by_reason() {
    let app = spawn_app().await;
    app.me(Auth::None).await.assert_status(401);
    app.me(Auth::Bearer("not.a.jwt".into()))
        .await
        .assert_status(401);

    let text = app.get("/metrics", Auth::None).await.text();

    assert!(
        text.contains("palaver_auth_rejections_total{reason=\"missing_credentials\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("palaver_auth_rejections_total{reason=\"invalid_token\"} 1"),
        "{text}"
    );
}

#[actix_rt::test]
async fn metrics_count_stored_messages_and_their_persist_latency() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    let id = app.new_conversation(&alice, &[]).await;
    app.send_message(&alice, id, "one").await;
    app.send_message(&alice, id, "two").await;

    let text = app.get("/metrics", Auth::None).await.text();

    assert!(text.contains("palaver_messages_in_total 2"), "{text}");
    assert!(
        text.contains("palaver_message_persist_seconds_count 2"),
        "{text}"
    );
    assert!(text.contains("palaver_connections "), "{text}");
    assert!(text.contains("palaver_messages_out_total "), "{text}");
}

#[actix_rt::test]
async fn openapi_json_describes_every_route_of_the_api() {
    let app = spawn_app().await;
    let routes = [
        ("get", "/"),
        ("get", "/health"),
        ("get", "/health/ready"),
        ("get", "/health/live"),
        ("get", "/metrics"),
        ("get", "/docs"),
        ("get", "/openapi.json"),
        ("post", "/api/auth/register"),
        ("post", "/api/auth/login"),
        ("post", "/api/auth/logout"),
        ("get", "/api/auth/me"),
        ("post", "/api/auth/token"),
        ("get", "/api/users"),
        ("post", "/api/conversations"),
        ("get", "/api/conversations"),
        ("get", "/api/conversations/{id}"),
        ("post", "/api/conversations/{id}/members"),
        ("delete", "/api/conversations/{id}/members/{user_id}"),
        ("post", "/api/conversations/{id}/read"),
        ("post", "/api/messages"),
        ("get", "/api/messages"),
        ("get", "/api/messages/{id}"),
        ("put", "/api/messages/{id}"),
        ("delete", "/api/messages/{id}"),
        ("get", "/api/search"),
    ];

    let response = app.get("/openapi.json", Auth::None).await;

    response.assert_status(200);
    let doc = response.json();
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with('3')),
        "OpenAPI 3: {}",
        doc["openapi"]
    );
    let missing: Vec<String> = routes
        .iter()
        .filter(|(method, path)| doc["paths"][path][method].is_null())
        .map(|(method, path)| format!("{} {path}", method.to_uppercase()))
        .collect();
    assert!(missing.is_empty(), "undocumented routes: {missing:?}");
}

#[actix_rt::test]
async fn docs_is_an_html_page_over_the_document_that_describes_the_api() {
    let app = spawn_app().await;

    let response = app.get("/docs", Auth::None).await;

    response.assert_status(200);
    assert!(response
        .header("content-type")
        .is_some_and(|t| t.starts_with("text/html")));
    assert!(response.text().to_ascii_lowercase().contains("<html"));
    let initializer = app.get("/docs/swagger-initializer.js", Auth::None).await;
    assert!(initializer.text().contains("/openapi.json"));
    let document = app.get("/openapi.json", Auth::None).await.text();
    assert!(document.contains("/api/messages"));
}

#[actix_rt::test]
async fn the_root_serves_the_chat_page_without_credentials() {
    let app = spawn_app().await;

    let response = app.get("/", Auth::None).await;

    response.assert_status(200);
    assert!(response
        .header("content-type")
        .is_some_and(|t| t.starts_with("text/html")));
    assert!(response.text().to_ascii_lowercase().contains("<html"));
}

#[actix_rt::test]
async fn the_pages_assets_are_served_without_credentials() {
    let app = spawn_app().await;
    for asset in ["/static/app.js", "/static/app.css"] {
        let response = app.get(asset, Auth::None).await;

        response.assert_status(200);
        assert!(!response.body.is_empty(), "{asset}");
    }
}

#[actix_rt::test]
async fn the_bundled_page_has_no_inline_script_for_the_content_security_policy() {
    let app = spawn_app().await;

    let page = app.get("/", Auth::None).await.text().to_ascii_lowercase();

    for (at, _) in page.match_indices("<script") {
        let tag_end = page[at..].find('>').map_or(page.len(), |end| at + end);
        assert!(
            page[at..tag_end].contains("src="),
            "an inline script: {}",
            &page[at..tag_end]
        );
    }
}

#[actix_rt::test]
async fn a_write_while_the_database_is_unreachable_is_503_never_500() {
    // Fresh server: no write has happened yet, so the write needs a new connection.
    let app = spawn_app().await;
    app.get("/health", Auth::None).await.assert_status(200);
    app.take_database_away().await;

    let response = app
        .register(&json!({"username": "alice", "password": PASSWORD}))
        .await;

    response.assert_error(503, "unavailable");
    assert!(
        !response.text().contains("SQLITE") && !response.text().contains("postgres"),
        "{}",
        response.text()
    );
}

#[actix_rt::test]
async fn live_stays_ok_while_the_database_is_unreachable() {
    let app = spawn_app().await;
    app.take_database_away().await;

    let response = app.get("/health/live", Auth::None).await;

    response.assert_status(200);
    assert_eq!(response.json()["status"], "ok");
}
