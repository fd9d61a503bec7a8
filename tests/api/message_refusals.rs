//! `POST /api/messages` refused: unreadable bodies, limits and missing credentials. Each
//! refusal leaves the conversation as it was.

use serde_json::json;

use crate::support::{spawn_app_with, spawn_app_with_alice_and_bob, Auth};

#[actix_rt::test]
async fn fields_of_the_wrong_type_are_400_naming_the_field_and_nothing_is_stored() {
    let (app, alice, _, id) = spawn_app_with_alice_and_bob().await;
    let cases = [
        (
            "conversation_id",
            json!({"conversation_id": id.to_string(), "content": "hi"}),
        ),
        ("content", json!({"conversation_id": id, "content": 42})),
        ("content", json!({"conversation_id": id})),
        ("conversation_id", json!({"content": "hi"})),
        (
            "client_msg_id",
            json!({"conversation_id": id, "content": "hi", "client_msg_id": 7}),
        ),
    ];
    for (field, body) in cases {
        let response = app.post_message(&alice, &body).await;

        response.assert_error(400, "bad_request");
        assert!(
            response.error_message().contains(field),
            "{body}: {}",
            response.text()
        );
    }
    assert!(app.all_messages(&alice, id).await.is_empty());
}

#[actix_rt::test]
async fn a_body_that_is_not_json_is_415_and_nothing_is_stored() {
    let (app, alice, _, id) = spawn_app_with_alice_and_bob().await;
    let body = json!({"conversation_id": id, "content": "hi"}).to_string();
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        let request = app.request(awc::http::Method::POST, "/api/messages", &(&alice).into());

        let response = app.send_raw(request, content_type, body.clone()).await;

        response.assert_error(415, "unsupported_media_type");
    }
    assert!(app.all_messages(&alice, id).await.is_empty());
}

#[actix_rt::test]
async fn a_body_over_max_body_bytes_is_413_and_nothing_is_stored() {
    let app = spawn_app_with(&[("MAX_BODY_BYTES", "1024")]).await;
    let alice = app.signup("alice").await;
    let id = app.new_conversation(&alice, &[]).await;

    let response = app
        .post_message(
            &alice,
            &json!({"conversation_id": id, "content": "x".repeat(2000)}),
        )
        .await;

    response.assert_error(413, "payload_too_large");
    assert!(app.all_messages(&alice, id).await.is_empty());
}

#[actix_rt::test]
async fn a_body_over_64_kib_is_413_by_default() {
    let (app, alice, _, id) = spawn_app_with_alice_and_bob().await;
    let padding = "x".repeat(65536);

    let response = app
        .post_message(
            &alice,
            &json!({"conversation_id": id, "content": "hi", "padding": padding}),
        )
        .await;

    response.assert_error(413, "payload_too_large");
}

#[actix_rt::test]
async fn malformed_json_is_400_and_nothing_is_stored() {
    let (app, alice, _, id) = spawn_app_with_alice_and_bob().await;
    let request = app.request(awc::http::Method::POST, "/api/messages", &(&alice).into());

    let response = app
        .send_raw(
            request,
            Some("application/json"),
            format!("{{\"conversation_id\": {id}, \"content\": "),
        )
        .await;

    response.assert_error(400, "bad_request");
    assert!(app.all_messages(&alice, id).await.is_empty());
}

#[actix_rt::test]
async fn sends_past_the_burst_are_429_with_retry_after_and_not_stored() {
    let app = spawn_app_with(&[("RATE_LIMIT_PER_SEC", "1"), ("RATE_LIMIT_BURST", "2")]).await;
    let alice = app.signup("alice").await;
    let id = app.new_conversation(&alice, &[]).await;
    app.send_message(&alice, id, "one").await;
    app.send_message(&alice, id, "two").await;

    let response = app
        .post_message(&alice, &json!({"conversation_id": id, "content": "three"}))
        .await;

    response.assert_error(429, "rate_limited");
    let retry_after: u64 = response
        .header("retry-after")
        .expect("Retry-After is set")
        .parse()
        .expect("Retry-After is whole seconds");
    assert!(retry_after >= 1);
    assert_eq!(app.all_messages(&alice, id).await.len(), 2);
}

#[actix_rt::test]
async fn the_send_limit_is_per_user() {
    let app = spawn_app_with(&[("RATE_LIMIT_PER_SEC", "1"), ("RATE_LIMIT_BURST", "2")]).await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let id = app.new_conversation(&alice, &[&bob]).await;
    app.send_message(&alice, id, "one").await;
    app.send_message(&alice, id, "two").await;

    let response = app
        .post_message(&bob, &json!({"conversation_id": id, "content": "mine"}))
        .await;

    response.assert_status(201);
}

#[actix_rt::test]
async fn post_messages_without_credentials_is_401_not_a_route_404() {
    let (app, alice, _, id) = spawn_app_with_alice_and_bob().await;

    let response = app
        .post_message(Auth::None, &json!({"conversation_id": id, "content": "hi"}))
        .await;

    response.assert_error(401, "unauthorized");
    assert_eq!(response.header("www-authenticate"), Some("Bearer"));
    assert!(app.all_messages(&alice, id).await.is_empty());
}

#[actix_rt::test]
async fn get_messages_without_credentials_is_401_not_a_route_404() {
    let (app, _, _, id) = spawn_app_with_alice_and_bob().await;

    let response = app
        .list_messages(Auth::None, &format!("conversation_id={id}"))
        .await;

    response.assert_error(401, "unauthorized");
}
