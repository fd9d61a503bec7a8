//! Limits on a socket (docs/protocol.md, Close codes): single rate-limit excesses
//! get `error` `rate_limited`, repeated ones close only the offending socket with 4029; a
//! reader too slow for its outbound queue is closed with 4002; first-message
//! authentication past `MAX_SOCKETS_PER_USER` closes 1013.

use serde_json::json;

use crate::support::{
    bearer, spawn_app_with, tight_rate_app, upgrade_request, RawSocket, WsAuth, WsClient,
};

#[actix_rt::test]
async fn a_frame_over_the_rate_gets_error_rate_limited_with_its_ref() {
    let app = tight_rate_app().await;
    let alice = app.signup("alice").await;
    let mut socket = WsClient::ready(&app, &alice).await;

    for reference in ["q1", "q2", "q3"] {
        socket
            .send_json(&json!({"type": "ping", "ref": reference}))
            .await;
    }

    assert_eq!(socket.recv().await["type"], "pong");
    assert_eq!(socket.recv().await["type"], "pong");
    let error = socket.recv().await;
    assert_eq!(error["type"], "error", "{error}");
    assert_eq!(error["code"], "rate_limited");
    assert_eq!(error["ref"], "q3");
}

#[actix_rt::test]
async fn repeated_excess_closes_only_that_socket_with_4029() {
    let app = tight_rate_app().await;
    let alice = app.signup("alice").await;
    let id = app.new_conversation(&alice, &[]).await;
    let mut flooding = WsClient::joined(&app, &alice, id).await;
    let mut calm = WsClient::ready(&app, &alice).await;

    for n in 0..20 {
        flooding
            .send_json(
                &json!({"type": "message", "conversation_id": id, "content": format!("flood {n}")}),
            )
            .await;
    }

    let (code, before) = flooding.close_code_after().await;
    assert_eq!(code, 4029);
    assert!(
        before.iter().any(|f| f["code"] == "rate_limited"),
        "single excesses were answered first: {before:?}"
    );
    assert!(
        calm.round_trip().await.is_empty(),
        "the user's other socket stays open"
    );
}

#[actix_rt::test]
async fn socket_and_http_message_sends_share_the_users_bucket() {
    let app = tight_rate_app().await;
    let alice = app.signup("alice").await;
    let id = app.new_conversation(&alice, &[]).await;
    let mut socket = WsClient::joined(&app, &alice, id).await;
    socket.send_chat(id, "one").await;
    socket.send_chat(id, "two").await;

    let response = app
        .post_message(&alice, &json!({"conversation_id": id, "content": "three"}))
        .await;

    response.assert_error(429, "rate_limited");
}

#[actix_rt::test]
async fn repeated_excess_on_ws_test_closes_4029() {
    let app = tight_rate_app().await;
    let mut socket = WsClient::connect(&app, "/ws/test", WsAuth::None).await;

    for n in 0..20 {
        socket.send_text(format!("echo {n}")).await;
    }

    let (code, before) = socket.close_code_after().await;
    assert_eq!(code, 4029);
    assert!(
        before.iter().any(|f| f["code"] == "rate_limited"),
        "single excesses were answered first: {before:?}"
    );
}

#[actix_rt::test]
async fn first_message_auth_as_a_user_holding_max_sockets_closes_1013() {
    let app = spawn_app_with(&[("MAX_SOCKETS_PER_USER", "1")]).await;
    let alice = app.signup("alice").await;
    let _held = WsClient::ready(&app, &alice).await;
    let mut socket = WsClient::connect(&app, "/ws", WsAuth::None).await;

    socket
        .send_json(&json!({"type": "auth", "token": alice.token}))
        .await;

    let (code, before) = socket.close_code_after().await;
    assert_eq!(code, 1013);
    assert!(before.iter().all(|f| f["type"] != "ready"), "{before:?}");
}

/// Content of `MESSAGE_CHARS` characters fills the socket's buffers in few messages.
const MESSAGE_CHARS: usize = 60_000;
/// More than enough to fill kernel buffers, the transport's queue and the outbound queue.
const MAX_FLOOD: usize = 400;

#[actix_rt::test]
async fn a_reader_that_stops_reading_is_closed_4002_once_its_queue_passes_the_limit() {
    let app = spawn_app_with(&[
        ("OUTBOUND_QUEUE_LIMIT", "4"),
        ("MAX_CONTENT_CHARS", "60000"),
        ("MAX_BODY_BYTES", "262144"),
    ])
    .await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let id = app.new_conversation(&alice, &[&bob]).await;
    let head = upgrade_request("/ws", &bearer(&bob.token));
    let mut reader = RawSocket::connect(&app, &head, Some(4096)).await;
    reader
        .send_frame(
            0x1,
            json!({"type": "join", "conversation_id": id})
                .to_string()
                .as_bytes(),
        )
        .await;
    loop {
        let frame = reader.read_frame().await;
        if String::from_utf8_lossy(&frame.payload).contains("\"joined\"") {
            break;
        }
    }
    let content = "z".repeat(MESSAGE_CHARS);

    // Bob reads nothing from here on; wait for his socket to be let go, sending until then.
    let mut sent = 0;
    while sent < MAX_FLOOD && app.open_sockets().await > 0 {
        app.send_message(&alice, id, &content).await;
        sent += 1;
    }

    assert!(
        sent < MAX_FLOOD,
        "the socket was still open after {MAX_FLOOD} messages of {MESSAGE_CHARS} characters"
    );
    let (code, _) = reader.close_code_after().await;
    assert_eq!(code, 4002);
}
