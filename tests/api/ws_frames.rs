//! The request/reply frames of the protocol on an authenticated socket: `ready`,
//! `join`/`joined`, `leave`/`left`, `ping`/`pong`, `typing`, `read`, `refresh`, every reply
//! echoing `ref`; and malformed frames, which get `error` `bad_request` and leave the
//! socket open.

use serde_json::{json, Value};

use crate::support::{
    claims_of, is_rfc3339_utc_millis, malformed_frames, spawn_app, spawn_app_with_alice_and_bob,
    WsClient,
};

// --- ready ---

#[actix_rt::test]
async fn ready_carries_the_user_the_sockets_own_id_and_the_heartbeat_interval() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    let mut socket = WsClient::connect(&app, "/ws", &alice).await;

    let ready = socket.recv().await;

    assert_eq!(ready["type"], "ready");
    assert_eq!(ready["user"]["id"], alice.id);
    assert_eq!(ready["user"]["username"], "alice");
    assert!(ready["user"].get("display_name").is_some(), "{ready}");
    assert!(ready["user"].get("password_hash").is_none(), "{ready}");
    assert_eq!(ready["heartbeat_interval_ms"], 30_000);
    let session_id = ready["session_id"]
        .as_str()
        .expect("session_id is a string");
    assert!(!session_id.is_empty());
    assert_ne!(
        session_id,
        claims_of(&app, &alice.token)["sid"],
        "the socket's id, not the login session"
    );
    assert!(
        ready.get("conversation_id").is_none(),
        "an unbound socket: {ready}"
    );
}

#[actix_rt::test]
async fn two_sockets_of_one_login_get_different_session_ids() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    let mut first = WsClient::connect(&app, "/ws", &alice).await;
    let mut second = WsClient::connect(&app, "/ws", &alice).await;

    let (first, second) = (first.recv().await, second.recv().await);

    assert_ne!(first["session_id"], second["session_id"]);
}

// --- join, leave ---

#[actix_rt::test]
async fn join_answers_joined_with_the_online_users_the_last_message_id_and_the_ref() {
    let (app, alice, bob, id) = spawn_app_with_alice_and_bob().await;
    let _bob = WsClient::joined(&app, &bob, id).await;
    let last = app.send_message(&bob, id, "hello").await;
    let mut socket = WsClient::ready(&app, &alice).await;

    socket
        .send_json(&json!({"type": "join", "conversation_id": id, "ref": "j1"}))
        .await;

    let joined = socket.recv().await;
    assert_eq!(joined["type"], "joined", "{joined}");
    assert_eq!(joined["ref"], "j1");
    assert_eq!(joined["conversation_id"], id);
    let mut expected = vec![alice.id, bob.id];
    expected.sort_unstable();
    assert_eq!(joined["online"], json!(expected));
    assert_eq!(joined["last_message_id"], last["id"]);
}

#[actix_rt::test]
async fn joining_an_empty_conversation_gives_no_last_message_id() {
    let (app, alice, _, id) = spawn_app_with_alice_and_bob().await;
    let mut socket = WsClient::ready(&app, &alice).await;

    let joined = socket.join(id).await;

    assert!(joined["last_message_id"].is_null(), "{joined}");
    assert_eq!(joined["online"], json!([alice.id]));
}

#[actix_rt::test]
async fn joining_a_conversation_of_others_is_error_not_found_with_the_ref() {
    let (app, _, _, id) = spawn_app_with_alice_and_bob().await;
    let carol = app.signup("carol").await;
    let mut socket = WsClient::ready(&app, &carol).await;

    socket
        .send_json(&json!({"type": "join", "conversation_id": id, "ref": "j2"}))
        .await;

    let error = socket.recv().await;
    assert_eq!(error["type"], "error", "{error}");
    assert_eq!(error["code"], "not_found");
    assert_eq!(error["ref"], "j2");
}

#[actix_rt::test]
async fn joining_an_unknown_conversation_is_error_not_found() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    let mut socket = WsClient::ready(&app, &alice).await;

    let error = socket
        .request_reply(json!({"type": "join", "conversation_id": 424242}))
        .await;

    assert_eq!(error["type"], "error", "{error}");
    assert_eq!(error["code"], "not_found");
}

#[actix_rt::test]
async fn leave_answers_left_with_the_ref() {
    let (app, alice, _, id) = spawn_app_with_alice_and_bob().await;
    let mut socket = WsClient::joined(&app, &alice, id).await;

    socket
        .send_json(&json!({"type": "leave", "conversation_id": id, "ref": "l1"}))
        .await;

    let left = socket.recv().await;
    assert_eq!(left["type"], "left", "{left}");
    assert_eq!(left["conversation_id"], id);
    assert_eq!(left["ref"], "l1");
    assert!(
        left.get("reason").is_none(),
        "no reason for a leave: {left}"
    );
}

#[actix_rt::test]
async fn after_leave_the_socket_gets_no_more_messages_of_that_conversation() {
    let (app, alice, bob, id) = spawn_app_with_alice_and_bob().await;
    let other = app.new_conversation(&alice, &[&bob]).await;
    let mut socket = WsClient::joined(&app, &bob, id).await;
    socket.join(other).await;
    socket
        .request_reply(json!({"type": "leave", "conversation_id": id}))
        .await;

    app.send_message(&alice, id, "not for a socket that left")
        .await;
    let sentinel = app.send_message(&alice, other, "still joined here").await;

    let (message, before) = socket.recv_until("message").await;
    assert_eq!(message["message"]["id"], sentinel["id"], "{message}");
    assert!(
        before.is_empty(),
        "nothing from the left conversation: {before:?}"
    );
}

// --- ping ---

#[actix_rt::test]
async fn ping_answers_pong_with_the_ref() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    let mut socket = WsClient::ready(&app, &alice).await;

    socket
        .send_json(&json!({"type": "ping", "ref": "p1"}))
        .await;

    assert_eq!(socket.recv().await, json!({"type": "pong", "ref": "p1"}));
}

// --- malformed frames ---

#[actix_rt::test]
async fn a_malformed_frame_gets_error_bad_request_and_the_socket_stays_open() {
    let (app, alice, _, id) = spawn_app_with_alice_and_bob().await;
    let mut socket = WsClient::joined(&app, &alice, id).await;
    for (what, frame) in malformed_frames(id) {
        socket.send_text(frame).await;

        let error = socket.recv().await;

        assert_eq!(error["type"], "error", "{what}: {error}");
        assert_eq!(error["code"], "bad_request", "{what}: {error}");
        assert!(
            error["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{what}: {error}"
        );
        assert!(
            socket.round_trip().await.is_empty(),
            "{what}: open, nothing else"
        );
    }
}

#[actix_rt::test]
async fn a_malformed_frame_with_a_readable_ref_echoes_it() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    let mut socket = WsClient::ready(&app, &alice).await;

    socket
        .send_json(&json!({"type": "join", "conversation_id": -1, "ref": "m1"}))
        .await;

    let error = socket.recv().await;
    assert_eq!(error["code"], "bad_request", "{error}");
    assert_eq!(error["ref"], "m1");
}

// --- typing ---

#[actix_rt::test]
async fn typing_reaches_the_other_members_and_none_of_the_typists_sockets() {
    let (app, alice, bob, id) = spawn_app_with_alice_and_bob().await;
    let mut typist = WsClient::joined(&app, &alice, id).await;
    let mut typists_other = WsClient::joined(&app, &alice, id).await;
    let mut member = WsClient::joined(&app, &bob, id).await;

    typist
        .send_json(&json!({"type": "typing", "conversation_id": id}))
        .await;

    let (typing, _) = member.recv_until("typing").await;
    assert_eq!(
        typing,
        json!({"type": "typing", "conversation_id": id, "user_id": alice.id})
    );
    // Bob typing after Alice's typing was routed: her sockets must see his and never hers.
    member
        .send_json(&json!({"type": "typing", "conversation_id": id}))
        .await;
    for socket in [&mut typist, &mut typists_other] {
        let (typing, _) = socket.recv_until("typing").await;
        assert_eq!(
            typing["user_id"], bob.id,
            "the typist's own typing came back: {typing}"
        );
    }
}

#[actix_rt::test]
async fn typing_in_a_conversation_not_joined_is_an_error() {
    let (app, alice, _, id) = spawn_app_with_alice_and_bob().await;
    let mut socket = WsClient::ready(&app, &alice).await;

    let reply = socket
        .request_reply(json!({"type": "typing", "conversation_id": id}))
        .await;

    assert_eq!(reply["type"], "error", "{reply}");
}

// --- read ---

#[actix_rt::test]
async fn read_reaches_every_joined_socket_but_the_senders_the_readers_other_socket_included() {
    let (app, alice, bob, id) = spawn_app_with_alice_and_bob().await;
    let message = app.send_message(&alice, id, "read me").await;
    let mut reader = WsClient::joined(&app, &bob, id).await;
    let mut readers_other = WsClient::joined(&app, &bob, id).await;
    let mut author = WsClient::joined(&app, &alice, id).await;

    reader
        .send_json(&json!({"type": "read", "conversation_id": id, "message_id": message["id"]}))
        .await;

    let expected = json!({"type": "read", "conversation_id": id, "user_id": bob.id, "message_id": message["id"]});
    assert_eq!(author.expect_type("read").await, expected);
    assert_eq!(readers_other.expect_type("read").await, expected);
    // Alice typing after the read was routed: the reader sees her typing and no read before it.
    author
        .send_json(&json!({"type": "typing", "conversation_id": id}))
        .await;
    let (_, before) = reader.recv_until("typing").await;
    assert!(
        before.iter().all(|f| f["type"] != "read"),
        "the reading socket got its own read: {before:?}"
    );
}

#[actix_rt::test]
async fn read_of_a_message_of_another_conversation_is_bad_request() {
    let (app, alice, bob, id) = spawn_app_with_alice_and_bob().await;
    let other = app.new_conversation(&alice, &[&bob]).await;
    let elsewhere = app.send_message(&alice, other, "elsewhere").await;
    let mut socket = WsClient::joined(&app, &bob, id).await;

    let reply = socket
        .request_reply(
            json!({"type": "read", "conversation_id": id, "message_id": elsewhere["id"]}),
        )
        .await;

    assert_eq!(reply["type"], "error", "{reply}");
    assert_eq!(reply["code"], "bad_request");
}

#[actix_rt::test]
async fn read_of_a_message_that_does_not_exist_is_bad_request() {
    let (app, _, bob, id) = spawn_app_with_alice_and_bob().await;
    let mut socket = WsClient::joined(&app, &bob, id).await;

    let reply = socket
        .request_reply(json!({"type": "read", "conversation_id": id, "message_id": 999_999}))
        .await;

    assert_eq!(reply["type"], "error", "{reply}");
    assert_eq!(reply["code"], "bad_request");
}

#[actix_rt::test]
async fn read_over_the_socket_moves_the_read_marker() {
    let (app, alice, bob, id) = spawn_app_with_alice_and_bob().await;
    let sent = app.send_numbered_messages(&alice, id, 3).await;
    let mut reader = WsClient::joined(&app, &bob, id).await;
    let mut author = WsClient::joined(&app, &alice, id).await;

    reader
        .send_json(&json!({"type": "read", "conversation_id": id, "message_id": sent[1]["id"]}))
        .await;
    author.expect_type("read").await;

    assert_eq!(app.unread_count(&bob, id).await, 1);
}

// --- refresh ---

#[actix_rt::test]
async fn refresh_with_a_new_token_answers_refreshed_with_its_expiry_and_the_ref() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    let mut socket = WsClient::ready(&app, &alice).await;
    let fresh = app.refresh_token(&alice).await.json();

    socket
        .send_json(&json!({"type": "refresh", "token": fresh["token"], "ref": "f1"}))
        .await;

    let refreshed = socket.recv().await;
    assert_eq!(refreshed["type"], "refreshed", "{refreshed}");
    assert_eq!(refreshed["ref"], "f1");
    assert!(
        is_rfc3339_utc_millis(&refreshed["expires_at"]),
        "{refreshed}"
    );
    let at = |v: &Value| {
        chrono::DateTime::parse_from_rfc3339(v.as_str().expect("a time"))
            .expect("RFC 3339")
            .timestamp()
    };
    assert_eq!(at(&refreshed["expires_at"]), at(&fresh["expires_at"]));
}

#[actix_rt::test]
async fn refresh_with_an_invalid_token_is_error_unauthorized_and_the_socket_stays_open() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    let mut socket = WsClient::ready(&app, &alice).await;

    let reply = socket
        .request_reply(json!({"type": "refresh", "token": "not.a.jwt"}))
        .await;

    assert_eq!(reply["type"], "error", "{reply}");
    assert_eq!(reply["code"], "unauthorized");
    assert!(socket.round_trip().await.is_empty());
}

#[actix_rt::test]
async fn refresh_with_another_users_token_is_error_forbidden_and_the_socket_stays_open() {
    let (app, alice, bob, _) = spawn_app_with_alice_and_bob().await;
    let mut socket = WsClient::ready(&app, &alice).await;

    let reply = socket
        .request_reply(json!({"type": "refresh", "token": bob.token}))
        .await;

    assert_eq!(reply["type"], "error", "{reply}");
    assert_eq!(reply["code"], "forbidden");
    assert!(socket.round_trip().await.is_empty());
}

#[actix_rt::test]
async fn after_a_refused_refresh_the_socket_is_still_alice() {
    let (app, alice, bob, id) = spawn_app_with_alice_and_bob().await;
    let mut socket = WsClient::joined(&app, &alice, id).await;
    socket
        .request_reply(json!({"type": "refresh", "token": bob.token}))
        .await;

    let message = socket.send_chat(id, "still me").await;

    assert_eq!(message["sender_id"], alice.id);
}

#[actix_rt::test]
async fn a_read_marked_over_http_reaches_every_joined_socket() {
    let (app, alice, bob, id) = spawn_app_with_alice_and_bob().await;
    let message = app.send_message(&alice, id, "read me over http").await;
    let mut author = WsClient::joined(&app, &alice, id).await;
    let mut reader = WsClient::joined(&app, &bob, id).await;

    app.mark_read(&bob, id, &json!({"message_id": message["id"]}))
        .await
        .assert_status(204);

    let expected = json!({"type": "read", "conversation_id": id, "user_id": bob.id, "message_id": message["id"]});
    assert_eq!(author.expect_type("read").await, expected);
    assert_eq!(reader.expect_type("read").await, expected);
}
