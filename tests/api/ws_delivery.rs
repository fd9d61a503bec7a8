//! Messages over sockets (docs/protocol.md, Delivery and resuming): `ack` to the sending socket
//! once stored, `message` to every other joined socket, a repeated `client_msg_id` answered
//! with the original and delivered nowhere, changes made over HTTP delivered alike, every
//! socket seeing a conversation in id and `seq` order, and `history` `after` resuming it.

use futures_util::future::join_all;
use serde_json::json;

use crate::support::{
    assert_in_order_without_gaps, is_rfc3339_utc_millis, spawn_app, spawn_app_with,
    spawn_app_with_alice_and_bob, WsClient,
};

#[actix_rt::test]
async fn a_message_is_acked_to_its_socket_with_its_client_msg_id_and_ref() {
    let (app, alice, _, id) = spawn_app_with_alice_and_bob().await;
    let mut socket = WsClient::joined(&app, &alice, id).await;

    socket
        .send_json(&json!({"type": "message", "conversation_id": id, "content": "hello", "client_msg_id": "c-1", "ref": "s1"}))
        .await;

    let ack = socket.recv().await;
    assert_eq!(ack["type"], "ack", "{ack}");
    assert_eq!(ack["ref"], "s1");
    assert_eq!(ack["client_msg_id"], "c-1");
    let message = &ack["message"];
    assert_eq!(message["conversation_id"], id);
    assert_eq!(message["seq"], 1);
    assert_eq!(message["sender_id"], alice.id);
    assert_eq!(message["content"], "hello");
    assert_eq!(message["client_msg_id"], "c-1");
    assert!(is_rfc3339_utc_millis(&message["created_at"]), "{message}");
    assert!(message["edited_at"].is_null());
    assert_eq!(message["deleted"], false);
}

#[actix_rt::test]
async fn an_acknowledged_message_is_stored() {
    let (app, alice, _, id) = spawn_app_with_alice_and_bob().await;
    let mut socket = WsClient::joined(&app, &alice, id).await;

    let acked = socket.send_chat(id, "kept").await;

    let stored = app
        .get_message(&alice, acked["id"].as_i64().expect("id"))
        .await;
    stored.assert_status(200);
    assert_eq!(stored.json()["message"], acked);
}

#[actix_rt::test]
async fn a_message_reaches_every_other_joined_socket_the_senders_other_socket_included() {
    let (app, alice, bob, id) = spawn_app_with_alice_and_bob().await;
    let mut sender = WsClient::joined(&app, &alice, id).await;
    let mut senders_other = WsClient::joined(&app, &alice, id).await;
    let mut member = WsClient::joined(&app, &bob, id).await;

    let acked = sender.send_chat(id, "to everyone").await;

    let expected = json!({"type": "message", "message": acked});
    assert_eq!(senders_other.expect_type("message").await, expected);
    assert_eq!(member.expect_type("message").await, expected);
}

#[actix_rt::test]
async fn the_sending_socket_gets_the_ack_and_no_copy_of_its_message() {
    let (app, alice, bob, id) = spawn_app_with_alice_and_bob().await;
    let mut sender = WsClient::joined(&app, &alice, id).await;
    let mut member = WsClient::joined(&app, &bob, id).await;
    sender.send_chat(id, "mine").await;
    member.expect_type("message").await;

    let reply = member.send_chat(id, "bob's").await;

    let (message, before) = sender.recv_until("message").await;
    assert_eq!(message["message"]["id"], reply["id"], "{message}");
    assert!(before.is_empty(), "a copy of its own message: {before:?}");
}

#[actix_rt::test]
async fn a_repeated_client_msg_id_is_acked_with_the_original_and_not_delivered_again() {
    let (app, alice, bob, id) = spawn_app_with_alice_and_bob().await;
    let mut sender = WsClient::joined(&app, &alice, id).await;
    let mut member = WsClient::joined(&app, &bob, id).await;
    let first = sender
        .request_reply(json!({"type": "message", "conversation_id": id, "content": "once", "client_msg_id": "dup"}))
        .await;
    member.expect_type("message").await;

    let again = sender
        .request_reply(json!({"type": "message", "conversation_id": id, "content": "twice?", "client_msg_id": "dup"}))
        .await;
    let next = sender.send_chat(id, "next").await;

    assert_eq!(again["type"], "ack", "{again}");
    assert_eq!(again["client_msg_id"], "dup");
    assert_eq!(again["message"], first["message"]);
    let (delivered, before) = member.recv_until("message").await;
    assert_eq!(delivered["message"]["id"], next["id"], "{delivered}");
    assert!(before.is_empty(), "{before:?}");
    assert_eq!(app.all_messages(&alice, id).await.len(), 2);
}

#[actix_rt::test]
async fn a_repeated_client_msg_id_after_a_reconnect_gets_the_original() {
    let (app, alice, _, id) = spawn_app_with_alice_and_bob().await;
    let mut before_reconnect = WsClient::joined(&app, &alice, id).await;
    let frame = json!({"type": "message", "conversation_id": id, "content": "sent once", "client_msg_id": "retry-1"});
    let first = before_reconnect.request_reply(frame.clone()).await;
    before_reconnect.close(1000).await;
    drop(before_reconnect);
    let mut after_reconnect = WsClient::joined(&app, &alice, id).await;

    let again = after_reconnect.request_reply(frame).await;

    assert_eq!(again["type"], "ack", "{again}");
    assert_eq!(again["message"], first["message"]);
    assert_eq!(app.all_messages(&alice, id).await.len(), 1);
}

#[actix_rt::test]
async fn a_sender_id_in_a_message_frame_is_ignored() {
    let (app, alice, bob, id) = spawn_app_with_alice_and_bob().await;
    let mut sender = WsClient::joined(&app, &alice, id).await;
    let mut member = WsClient::joined(&app, &bob, id).await;

    let ack = sender
        .request_reply(json!({"type": "message", "conversation_id": id, "content": "from whom?", "sender_id": bob.id}))
        .await;

    assert_eq!(ack["message"]["sender_id"], alice.id, "{ack}");
    let delivered = member.expect_type("message").await;
    assert_eq!(delivered["message"]["sender_id"], alice.id);
}

#[actix_rt::test]
async fn empty_content_is_error_bad_request_and_nothing_is_stored() {
    let (app, alice, _, id) = spawn_app_with_alice_and_bob().await;
    let mut socket = WsClient::joined(&app, &alice, id).await;

    let reply = socket
        .request_reply(json!({"type": "message", "conversation_id": id, "content": ""}))
        .await;

    assert_eq!(reply["type"], "error", "{reply}");
    assert_eq!(reply["code"], "bad_request");
    assert!(app.all_messages(&alice, id).await.is_empty());
}

#[actix_rt::test]
async fn content_with_a_nul_character_is_error_bad_request_and_nothing_is_stored() {
    let (app, alice, _, id) = spawn_app_with_alice_and_bob().await;
    let mut socket = WsClient::joined(&app, &alice, id).await;

    let reply = socket
        .request_reply(
            json!({"type": "message", "conversation_id": id, "content": "before\u{0}after"}),
        )
        .await;

    assert_eq!(reply["type"], "error", "{reply}");
    assert_eq!(reply["code"], "bad_request");
    assert!(app.all_messages(&alice, id).await.is_empty());
}

#[actix_rt::test]
async fn a_client_msg_id_with_a_nul_character_is_error_bad_request_and_nothing_is_stored() {
    let (app, alice, _, id) = spawn_app_with_alice_and_bob().await;
    let mut socket = WsClient::joined(&app, &alice, id).await;

    let reply = socket
        .request_reply(json!({
            "type": "message",
            "conversation_id": id,
            "content": "hi",
            "client_msg_id": "k\u{0}",
        }))
        .await;

    assert_eq!(reply["type"], "error", "{reply}");
    assert_eq!(reply["code"], "bad_request");
    assert!(app.all_messages(&alice, id).await.is_empty());
}

#[actix_rt::test]
async fn content_over_max_content_chars_is_error_bad_request() {
    let app = spawn_app_with(&[("MAX_CONTENT_CHARS", "10")]).await;
    let alice = app.signup("alice").await;
    let id = app.new_conversation(&alice, &[]).await;
    let mut socket = WsClient::joined(&app, &alice, id).await;

    let at_limit = socket
        .request_reply(json!({"type": "message", "conversation_id": id, "content": "é".repeat(10)}))
        .await;
    let over = socket
        .request_reply(json!({"type": "message", "conversation_id": id, "content": "é".repeat(11)}))
        .await;

    assert_eq!(at_limit["type"], "ack", "{at_limit}");
    assert_eq!(over["type"], "error", "{over}");
    assert_eq!(over["code"], "bad_request");
}

#[actix_rt::test]
async fn a_message_to_a_conversation_of_others_is_not_found_and_not_stored() {
    let (app, alice, _, id) = spawn_app_with_alice_and_bob().await;
    let carol = app.signup("carol").await;
    let mut socket = WsClient::ready(&app, &carol).await;

    let reply = socket
        .request_reply(json!({"type": "message", "conversation_id": id, "content": "let me in"}))
        .await;

    assert_eq!(reply["type"], "error", "{reply}");
    assert_eq!(reply["code"], "not_found");
    assert!(app.all_messages(&alice, id).await.is_empty());
}

#[actix_rt::test]
async fn a_message_created_over_http_reaches_every_joined_socket() {
    let (app, alice, bob, id) = spawn_app_with_alice_and_bob().await;
    let mut author = WsClient::joined(&app, &alice, id).await;
    let mut member = WsClient::joined(&app, &bob, id).await;

    let sent = app.send_message(&alice, id, "over http").await;

    let expected = json!({"type": "message", "message": sent});
    assert_eq!(member.expect_type("message").await, expected);
    assert_eq!(author.expect_type("message").await, expected);
}

#[actix_rt::test]
async fn an_edit_over_http_reaches_joined_sockets_as_message_edited() {
    let (app, alice, bob, id) = spawn_app_with_alice_and_bob().await;
    let sent = app.send_message(&alice, id, "typo").await;
    let mut member = WsClient::joined(&app, &bob, id).await;
    let message_id = sent["id"].as_i64().expect("id");

    let edited = app
        .edit_message(&alice, message_id, &json!({"content": "fixed"}))
        .await;

    edited.assert_status(200);
    let event = member.expect_type("message_edited").await;
    assert_eq!(
        event,
        json!({"type": "message_edited", "message": edited.json()["message"]})
    );
    assert_eq!(event["message"]["content"], "fixed");
    assert!(
        is_rfc3339_utc_millis(&event["message"]["edited_at"]),
        "{event}"
    );
}

#[actix_rt::test]
async fn a_delete_over_http_reaches_joined_sockets_as_message_deleted() {
    let (app, alice, bob, id) = spawn_app_with_alice_and_bob().await;
    let sent = app.send_message(&alice, id, "regret").await;
    let mut member = WsClient::joined(&app, &bob, id).await;
    let message_id = sent["id"].as_i64().expect("id");

    app.delete_message(&alice, message_id)
        .await
        .assert_status(204);

    let event = member.expect_type("message_deleted").await;
    assert_eq!(event["message"]["id"], message_id, "{event}");
    assert_eq!(event["message"]["deleted"], true);
    assert_eq!(event["message"]["content"], "");
}

const SENDERS: usize = 3;
const MESSAGES_EACH: usize = 10;

#[actix_rt::test]
async fn concurrent_senders_reach_every_socket_in_id_and_seq_order_without_gaps() {
    let app = spawn_app().await;
    let users = [
        app.signup("alice").await,
        app.signup("bob").await,
        app.signup("carol").await,
    ];
    let id = app
        .new_conversation(&users[0], &[&users[1], &users[2]])
        .await;
    let mut sockets = Vec::new();
    for user in &users {
        sockets.push(WsClient::joined(&app, user, id).await);
    }
    let mut observer = WsClient::joined(&app, &users[0], id).await;
    let total = SENDERS * MESSAGES_EACH;

    let senders = join_all(sockets.iter_mut().enumerate().map(|(i, socket)| async move {
        for n in 0..MESSAGES_EACH {
            socket
                .send_json(&json!({"type": "message", "conversation_id": id, "content": format!("{i}:{n}")}))
                .await;
        }
        socket.read_chat_messages(total).await
    }));
    let (seen_by_senders, seen_by_observer) =
        futures_util::join!(senders, observer.read_chat_messages(total));

    for (i, seen) in seen_by_senders.iter().enumerate() {
        assert_in_order_without_gaps(&format!("sender {i}"), seen);
    }
    assert_in_order_without_gaps("the observer", &seen_by_observer);
    assert_eq!(app.all_messages(&users[0], id).await.len(), total);
}

#[actix_rt::test]
async fn history_after_the_last_seen_id_returns_exactly_what_a_reconnecting_client_missed() {
    let (app, alice, bob, id) = spawn_app_with_alice_and_bob().await;
    let mut socket = WsClient::joined(&app, &alice, id).await;
    for n in 0..3 {
        app.send_message(&bob, id, &format!("seen {n}")).await;
    }
    let seen = socket.read_chat_messages(3).await;
    let last_seen = seen[2]["id"].clone();
    socket.close(1000).await;
    drop(socket);
    let missed = [
        app.send_message(&bob, id, "missed 1").await,
        app.send_message(&bob, id, "missed 2").await,
    ];
    let mut reconnected = WsClient::joined(&app, &alice, id).await;

    let history = reconnected
        .request_reply(json!({"type": "history", "conversation_id": id, "after": last_seen}))
        .await;

    assert_eq!(history["type"], "history", "{history}");
    assert_eq!(history["messages"], json!(missed));
    assert_eq!(history["has_more"], false);
}
