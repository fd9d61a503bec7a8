//! The order of refusals (docs/api.md, Errors): where several refusals apply, the first in this
//! order answers: route 404/405, credentials 401, unreadable body 413/415/400, not a
//! member 404, not allowed 403, invalid target 400. (The membership cases live in
//! `members.rs` and `message_changes.rs`.)

use awc::http::Method;
use serde_json::json;

use crate::support::{alice_and_mallory, spawn_app, spawn_app_with, Auth};

#[actix_rt::test]
async fn no_credentials_is_401_before_a_body_that_is_not_json() {
    let app = spawn_app().await;

    let request = app.request(Method::POST, "/api/messages", &Auth::None);
    let response = app.send_raw(request, Some("text/plain"), "hello").await;

    response.assert_error(401, "unauthorized");
}

#[actix_rt::test]
async fn no_credentials_is_401_before_a_body_that_is_too_large() {
    let app = spawn_app_with(&[("MAX_BODY_BYTES", "1024")]).await;

    let response = app
        .post_message(
            Auth::None,
            &json!({"conversation_id": 1, "content": "x".repeat(4000)}),
        )
        .await;

    response.assert_error(401, "unauthorized");
}

#[actix_rt::test]
async fn invalid_credentials_are_401_before_malformed_json() {
    let app = spawn_app().await;

    let request = app.request(
        Method::POST,
        "/api/conversations",
        &Auth::Bearer("not.a.jwt".into()),
    );
    let response = app.send_raw(request, Some("application/json"), "{").await;

    response.assert_error(401, "unauthorized");
}

#[actix_rt::test]
async fn a_wrong_method_is_405_before_missing_credentials() {
    let app = spawn_app().await;

    let response = app
        .send(app.request(Method::PUT, "/api/messages", &Auth::None))
        .await;

    response.assert_error(405, "method_not_allowed");
}

#[actix_rt::test]
async fn a_body_that_is_too_large_is_413_before_not_a_member() {
    let app = spawn_app_with(&[("MAX_BODY_BYTES", "1024")]).await;
    let (_, mallory, id) = alice_and_mallory(&app).await;

    let response = app
        .post_message(
            &mallory,
            &json!({"conversation_id": id, "content": "x".repeat(4000)}),
        )
        .await;

    response.assert_error(413, "payload_too_large");
}

#[actix_rt::test]
async fn a_body_that_is_not_json_is_415_before_not_a_member() {
    let app = spawn_app().await;
    let (_, mallory, id) = alice_and_mallory(&app).await;

    let request = app.request(
        Method::POST,
        &format!("/api/conversations/{id}/members"),
        &(&mallory).into(),
    );
    let response = app
        .send_raw(request, Some("text/plain"), "username=mallory")
        .await;

    response.assert_error(415, "unsupported_media_type");
}

#[actix_rt::test]
async fn malformed_json_is_400_before_not_a_member() {
    let app = spawn_app().await;
    let (_, mallory, id) = alice_and_mallory(&app).await;

    let request = app.request(
        Method::POST,
        &format!("/api/conversations/{id}/read"),
        &(&mallory).into(),
    );
    let response = app
        .send_raw(request, Some("application/json"), "{\"message_id\": ")
        .await;

    response.assert_error(400, "bad_request");
}

#[actix_rt::test]
async fn not_a_member_is_404_before_an_invalid_read_marker_target() {
    let app = spawn_app().await;
    let (_, mallory, id) = alice_and_mallory(&app).await;

    let response = app
        .mark_read(&mallory, id, &json!({"message_id": 999_999}))
        .await;

    response.assert_error(404, "not_found");
}

#[actix_rt::test]
async fn an_id_that_is_not_a_number_is_a_json_400_for_a_caller_and_401_for_a_stranger() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;

    let with_credentials = app.get("/api/conversations/abc", &alice).await;
    let without = app.get("/api/messages/abc", Auth::None).await;

    with_credentials.assert_error(400, "bad_request");
    without.assert_error(401, "unauthorized");
}
