//! Who is in a room (docs/protocol.md): `presence` when a user's first socket joins a
//! conversation's room and when their last one leaves it, `member_added`/`member_removed`
//! for changes made over HTTP, and a removed user's sockets losing the room at once: a
//! `/ws` socket gets `left` with reason `removed`, a bound socket closes 4003.

use serde_json::json;

use crate::support::{frames_until_typing_from, presence, spawn_app_with_alice_and_bob, WsClient};

#[actix_rt::test]
async fn a_users_first_socket_joining_announces_online_to_the_room() {
    let (app, alice, bob, id) = spawn_app_with_alice_and_bob().await;
    let mut watcher = WsClient::joined(&app, &alice, id).await;

    let _bob = WsClient::joined(&app, &bob, id).await;

    assert_eq!(
        watcher.expect_type("presence").await,
        presence(id, &bob, "online")
    );
}

#[actix_rt::test]
async fn a_second_socket_of_a_user_already_online_announces_nothing() {
    let (app, alice, bob, id) = spawn_app_with_alice_and_bob().await;
    let mut watcher = WsClient::joined(&app, &alice, id).await;
    let mut first = WsClient::joined(&app, &bob, id).await;
    watcher.expect_type("presence").await;

    let _second = WsClient::joined(&app, &bob, id).await;

    let between = frames_until_typing_from(&mut watcher, &mut first, id).await;
    assert!(between.is_empty(), "{between:?}");
}

#[actix_rt::test]
async fn a_socket_leaving_while_its_user_has_another_in_the_room_announces_nothing() {
    let (app, alice, bob, id) = spawn_app_with_alice_and_bob().await;
    let mut watcher = WsClient::joined(&app, &alice, id).await;
    let mut first = WsClient::joined(&app, &bob, id).await;
    let mut second = WsClient::joined(&app, &bob, id).await;
    watcher.expect_type("presence").await;

    first
        .request_reply(json!({"type": "leave", "conversation_id": id}))
        .await;

    let between = frames_until_typing_from(&mut watcher, &mut second, id).await;
    assert!(between.is_empty(), "{between:?}");
}

#[actix_rt::test]
async fn a_users_last_socket_leaving_announces_offline() {
    let (app, alice, bob, id) = spawn_app_with_alice_and_bob().await;
    let mut watcher = WsClient::joined(&app, &alice, id).await;
    let mut socket = WsClient::joined(&app, &bob, id).await;
    watcher.expect_type("presence").await;

    socket
        .request_reply(json!({"type": "leave", "conversation_id": id}))
        .await;

    assert_eq!(
        watcher.expect_type("presence").await,
        presence(id, &bob, "offline")
    );
}

#[actix_rt::test]
async fn a_users_last_socket_closing_announces_offline() {
    let (app, alice, bob, id) = spawn_app_with_alice_and_bob().await;
    let mut watcher = WsClient::joined(&app, &alice, id).await;
    let mut socket = WsClient::joined(&app, &bob, id).await;
    watcher.expect_type("presence").await;

    socket.close(1000).await;

    assert_eq!(
        watcher.expect_type("presence").await,
        presence(id, &bob, "offline")
    );
}

#[actix_rt::test]
async fn a_bound_sockets_ready_joins_the_room_and_announces_online() {
    let (app, alice, bob, id) = spawn_app_with_alice_and_bob().await;
    let mut watcher = WsClient::joined(&app, &alice, id).await;

    let mut bound = WsClient::connect(&app, &format!("/ws/conversations/{id}"), &bob).await;
    bound.expect_type("ready").await;

    assert_eq!(
        watcher.expect_type("presence").await,
        presence(id, &bob, "online")
    );
    let message = app.send_message(&alice, id, "to the bound socket").await;
    assert_eq!(bound.expect_type("message").await["message"], message);
}

#[actix_rt::test]
async fn adding_a_member_over_http_tells_the_room_and_the_new_members_ws_sockets() {
    let (app, alice, _, id) = spawn_app_with_alice_and_bob().await;
    let carol = app.signup("carol").await;
    let mut room = WsClient::joined(&app, &alice, id).await;
    let mut newcomer = WsClient::ready(&app, &carol).await;

    app.add_member(&alice, id, "carol").await.assert_status(201);

    let expected = json!({"type": "member_added", "conversation_id": id, "user_id": carol.id});
    assert_eq!(room.expect_type("member_added").await, expected);
    assert_eq!(newcomer.expect_type("member_added").await, expected);
    newcomer.join(id).await;
}

#[actix_rt::test]
async fn removing_a_member_over_http_tells_the_room_and_the_removed_users_ws_sockets() {
    let (app, alice, bob, id) = spawn_app_with_alice_and_bob().await;
    let mut room = WsClient::joined(&app, &alice, id).await;
    let mut removed = WsClient::joined(&app, &bob, id).await;
    room.expect_type("presence").await;

    app.remove_member(&alice, id, bob.id)
        .await
        .assert_status(204);

    let expected = json!({"type": "member_removed", "conversation_id": id, "user_id": bob.id});
    let (event, before) = room.recv_until("member_removed").await;
    assert_eq!(event, expected);
    assert!(
        before.contains(&presence(id, &bob, "offline")),
        "{before:?}"
    );
    assert_eq!(
        removed.expect_type("left").await,
        json!({"type": "left", "conversation_id": id, "reason": "removed"})
    );
    assert_eq!(removed.expect_type("member_removed").await, expected);
}

#[actix_rt::test]
async fn a_removed_users_ws_socket_receives_nothing_more_from_that_conversation() {
    let (app, alice, bob, id) = spawn_app_with_alice_and_bob().await;
    let other = app.new_conversation(&alice, &[&bob]).await;
    let mut alice_socket = WsClient::joined(&app, &alice, id).await;
    let mut removed = WsClient::joined(&app, &bob, id).await;
    removed.join(other).await;
    app.remove_member(&alice, id, bob.id)
        .await
        .assert_status(204);
    removed.expect_type("member_removed").await;

    app.send_message(&alice, id, "bob is gone").await;
    alice_socket
        .send_json(&json!({"type": "typing", "conversation_id": id}))
        .await;
    let sentinel = app.send_message(&alice, other, "but still here").await;

    let (message, before) = removed.recv_until("message").await;
    assert_eq!(message["message"]["id"], sentinel["id"], "{message}");
    assert!(before.is_empty(), "{before:?}");
}

#[actix_rt::test]
async fn a_removed_users_message_to_that_conversation_is_refused_and_not_stored() {
    let (app, alice, bob, id) = spawn_app_with_alice_and_bob().await;
    let mut removed = WsClient::joined(&app, &bob, id).await;
    app.remove_member(&alice, id, bob.id)
        .await
        .assert_status(204);
    removed.expect_type("left").await;

    let reply = removed
        .request_reply(json!({"type": "message", "conversation_id": id, "content": "still here?"}))
        .await;

    assert_eq!(reply["type"], "error", "{reply}");
    assert_eq!(reply["code"], "not_found");
    assert!(app.all_messages(&alice, id).await.is_empty());
}

#[actix_rt::test]
async fn a_bound_socket_whose_user_is_removed_closes_4003() {
    let (app, alice, bob, id) = spawn_app_with_alice_and_bob().await;
    let mut bound = WsClient::connect(&app, &format!("/ws/conversations/{id}"), &bob).await;
    bound.expect_type("ready").await;

    app.remove_member(&alice, id, bob.id)
        .await
        .assert_status(204);

    assert_eq!(bound.close_code().await, 4003);
}

#[actix_rt::test]
async fn a_bound_socket_whose_user_leaves_over_http_closes_4003() {
    let (app, _, bob, id) = spawn_app_with_alice_and_bob().await;
    let mut bound = WsClient::connect(&app, &format!("/ws/conversations/{id}"), &bob).await;
    bound.expect_type("ready").await;

    app.remove_member(&bob, id, bob.id).await.assert_status(204);

    assert_eq!(bound.close_code().await, 4003);
}
