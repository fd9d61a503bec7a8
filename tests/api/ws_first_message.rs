//! First-message authentication and what a socket may do before and after it
//! authenticates (docs/protocol.md): before it only `auth`, `initial` and `ping` are
//! taken, a well-formed frame with a bad token closes 1008, `user_id` in `initial` is a
//! claim checked against the proven identity, an authenticated socket never
//! gets a second `ready`, and a bound socket of a non-member closes 4003.

use serde_json::json;

use crate::support::{spawn_app, spawn_app_with_alice_and_bob, WsAuth, WsClient};

// --- before authentication ---

#[actix_rt::test]
async fn before_authentication_a_join_gets_error_unauthenticated_with_the_ref() {
    let (app, _, _, id) = spawn_app_with_alice_and_bob().await;
    let mut socket = WsClient::connect(&app, "/ws", WsAuth::None).await;

    socket
        .send_json(&json!({"type": "join", "conversation_id": id, "ref": "u1"}))
        .await;

    let error = socket.recv().await;
    assert_eq!(error["type"], "error", "{error}");
    assert_eq!(error["code"], "unauthenticated");
    assert_eq!(error["ref"], "u1");
}

#[actix_rt::test]
async fn before_authentication_every_chat_frame_gets_error_unauthenticated() {
    let (app, _, _, id) = spawn_app_with_alice_and_bob().await;
    let mut socket = WsClient::connect(&app, "/ws", WsAuth::None).await;
    let frames = [
        json!({"type": "leave", "conversation_id": id}),
        json!({"type": "message", "conversation_id": id, "content": "hi"}),
        json!({"type": "typing", "conversation_id": id}),
        json!({"type": "read", "conversation_id": id, "message_id": 1}),
        json!({"type": "history", "conversation_id": id}),
        json!({"type": "refresh", "token": "whatever"}),
    ];
    for frame in frames {
        let error = socket.request_reply(frame.clone()).await;

        assert_eq!(error["code"], "unauthenticated", "{frame}: {error}");
    }
}

#[actix_rt::test]
async fn before_authentication_ping_gets_pong() {
    let app = spawn_app().await;
    let mut socket = WsClient::connect(&app, "/ws", WsAuth::None).await;

    socket
        .send_json(&json!({"type": "ping", "ref": "p0"}))
        .await;

    assert_eq!(socket.recv().await, json!({"type": "pong", "ref": "p0"}));
}

#[actix_rt::test]
async fn before_authentication_a_malformed_auth_gets_bad_request_and_the_socket_stays_open() {
    let app = spawn_app().await;
    let mut socket = WsClient::connect(&app, "/ws", WsAuth::None).await;

    socket
        .send_json(&json!({"type": "auth", "ref": "a0"}))
        .await;

    let error = socket.recv().await;
    assert_eq!(error["code"], "bad_request", "{error}");
    assert_eq!(error["ref"], "a0");
    assert!(socket.round_trip().await.is_empty());
}

#[actix_rt::test]
async fn before_authentication_a_malformed_initial_gets_bad_request() {
    let app = spawn_app().await;
    let mut socket = WsClient::connect(&app, "/ws", WsAuth::None).await;

    socket
        .send_json(&json!({"type": "initial", "user_id": "alice"}))
        .await;

    let error = socket.recv().await;
    assert_eq!(error["code"], "bad_request", "{error}");
    assert!(socket.round_trip().await.is_empty());
}

// --- first-message authentication ---

#[actix_rt::test]
async fn auth_with_a_valid_token_gets_ready_with_the_ref() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    let mut socket = WsClient::connect(&app, "/ws", WsAuth::None).await;

    socket
        .send_json(&json!({"type": "auth", "token": alice.token, "ref": "a1"}))
        .await;

    let ready = socket.recv().await;
    assert_eq!(ready["type"], "ready", "{ready}");
    assert_eq!(ready["user"]["id"], alice.id);
    assert_eq!(ready["ref"], "a1");
}

#[actix_rt::test]
async fn auth_with_an_invalid_token_closes_1008_without_ready() {
    let app = spawn_app().await;
    let mut socket = WsClient::connect(&app, "/ws", WsAuth::None).await;

    socket
        .send_json(&json!({"type": "auth", "token": "not.a.jwt"}))
        .await;

    let (code, before) = socket.close_code_after().await;
    assert_eq!(code, 1008);
    assert!(before.iter().all(|f| f["type"] != "ready"), "{before:?}");
}

#[actix_rt::test]
async fn initial_naming_another_user_than_its_token_closes_1008_without_ready() {
    let (app, alice, bob, id) = spawn_app_with_alice_and_bob().await;
    let mut socket = WsClient::connect(&app, "/ws", WsAuth::None).await;

    socket
        .send_json(&json!({"type": "initial", "user_id": bob.id, "conversation_id": id, "token": alice.token}))
        .await;

    let (code, before) = socket.close_code_after().await;
    assert_eq!(code, 1008);
    assert!(before.iter().all(|f| f["type"] != "ready"), "{before:?}");
}

#[actix_rt::test]
async fn initial_without_a_token_on_an_unauthenticated_socket_closes_1008() {
    let (app, alice, _, id) = spawn_app_with_alice_and_bob().await;
    let mut socket = WsClient::connect(&app, "/ws", WsAuth::None).await;

    socket
        .send_json(&json!({"type": "initial", "user_id": alice.id, "conversation_id": id}))
        .await;

    let (code, before) = socket.close_code_after().await;
    assert_eq!(code, 1008);
    assert!(before.iter().all(|f| f["type"] != "ready"), "{before:?}");
}

#[actix_rt::test]
async fn initial_with_its_own_user_and_a_conversation_gets_ready_then_joined() {
    let (app, alice, _, id) = spawn_app_with_alice_and_bob().await;
    let mut socket = WsClient::connect(&app, "/ws", WsAuth::None).await;

    socket
        .send_json(&json!({"type": "initial", "user_id": alice.id, "conversation_id": id, "token": alice.token, "ref": "i1"}))
        .await;

    let ready = socket.recv().await;
    assert_eq!(ready["type"], "ready", "{ready}");
    assert_eq!(ready["user"]["id"], alice.id);
    let joined = socket.recv().await;
    assert_eq!(joined["type"], "joined", "{joined}");
    assert_eq!(joined["conversation_id"], id);
    assert_eq!(joined["ref"], "i1");
}

#[actix_rt::test]
async fn initial_for_a_conversation_of_others_gets_ready_then_error_not_found() {
    let (app, _, _, id) = spawn_app_with_alice_and_bob().await;
    let carol = app.signup("carol").await;
    let mut socket = WsClient::connect(&app, "/ws", WsAuth::None).await;

    socket
        .send_json(&json!({"type": "initial", "user_id": carol.id, "conversation_id": id, "token": carol.token}))
        .await;

    assert_eq!(socket.recv().await["type"], "ready");
    let error = socket.recv().await;
    assert_eq!(error["type"], "error", "{error}");
    assert_eq!(error["code"], "not_found");
}

// --- auth and initial on an authenticated socket ---

#[actix_rt::test]
async fn initial_with_the_same_identity_and_a_conversation_joins_without_a_second_ready() {
    let (app, alice, _, id) = spawn_app_with_alice_and_bob().await;
    let mut socket = WsClient::ready(&app, &alice).await;

    let reply = socket
        .request_reply(json!({"type": "initial", "user_id": alice.id, "conversation_id": id}))
        .await;

    assert_eq!(reply["type"], "joined", "{reply}");
    assert_eq!(reply["conversation_id"], id);
}

#[actix_rt::test]
async fn initial_with_the_same_identity_and_no_conversation_is_bad_request() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    let mut socket = WsClient::ready(&app, &alice).await;

    let reply = socket
        .request_reply(json!({"type": "initial", "user_id": alice.id}))
        .await;

    assert_eq!(reply["type"], "error", "{reply}");
    assert_eq!(reply["code"], "bad_request");
}

#[actix_rt::test]
async fn auth_with_the_same_identity_gets_no_second_ready() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    let mut socket = WsClient::ready(&app, &alice).await;

    let reply = socket
        .request_reply(json!({"type": "auth", "token": alice.token}))
        .await;

    assert_eq!(reply["type"], "error", "{reply}");
    assert_eq!(reply["code"], "bad_request");
}

#[actix_rt::test]
async fn initial_naming_another_user_on_a_handshake_authenticated_socket_closes_1008() {
    let (app, alice, bob, id) = spawn_app_with_alice_and_bob().await;
    let mut socket = WsClient::ready(&app, &alice).await;

    socket
        .send_json(&json!({"type": "initial", "user_id": bob.id, "conversation_id": id}))
        .await;

    let (code, before) = socket.close_code_after().await;
    assert_eq!(code, 1008);
    assert!(before.iter().all(|f| f["type"] != "joined"), "{before:?}");
}

#[actix_rt::test]
async fn auth_with_another_users_token_on_an_authenticated_socket_closes_1008() {
    let (app, alice, bob, _) = spawn_app_with_alice_and_bob().await;
    let mut socket = WsClient::ready(&app, &alice).await;

    socket
        .send_json(&json!({"type": "auth", "token": bob.token}))
        .await;

    let (code, before) = socket.close_code_after().await;
    assert_eq!(code, 1008);
    assert!(before.iter().all(|f| f["type"] != "ready"), "{before:?}");
}

#[actix_rt::test]
async fn initial_with_its_own_token_and_a_conversation_on_an_authenticated_socket_joins() {
    let (app, alice, _, id) = spawn_app_with_alice_and_bob().await;
    let mut socket = WsClient::ready(&app, &alice).await;

    let reply = socket
        .request_reply(json!({"type": "initial", "user_id": alice.id, "conversation_id": id, "token": alice.token}))
        .await;

    assert_eq!(reply["type"], "joined", "{reply}");
    assert_eq!(reply["conversation_id"], id);
}

// --- bound sockets and first-message authentication ---

#[actix_rt::test]
async fn first_message_auth_on_a_bound_socket_as_a_member_gets_ready_with_its_conversation() {
    let (app, _, bob, id) = spawn_app_with_alice_and_bob().await;
    let mut socket =
        WsClient::connect(&app, &format!("/ws/conversations/{id}"), WsAuth::None).await;

    socket
        .send_json(&json!({"type": "auth", "token": bob.token}))
        .await;

    let ready = socket.recv().await;
    assert_eq!(ready["type"], "ready", "{ready}");
    assert_eq!(ready["conversation_id"], id);
}

#[actix_rt::test]
async fn first_message_auth_on_a_bound_socket_as_a_non_member_closes_4003_without_ready() {
    let (app, _, _, id) = spawn_app_with_alice_and_bob().await;
    let carol = app.signup("carol").await;
    let mut socket =
        WsClient::connect(&app, &format!("/ws/conversations/{id}"), WsAuth::None).await;

    socket
        .send_json(&json!({"type": "auth", "token": carol.token}))
        .await;

    let (code, before) = socket.close_code_after().await;
    assert_eq!(code, 4003);
    assert!(before.iter().all(|f| f["type"] != "ready"), "{before:?}");
}
