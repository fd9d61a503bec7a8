//! The cluster bus (ARCHITECTURE.md): two server processes on one database and one Redis
//! behave as one chat. These tests need a Redis server named by `TEST_REDIS_URL`, so they
//! are ignored by a plain `cargo test`; `.ci/run` sets it and runs them with
//! `--include-ignored`, and there a missing variable fails them.

use serde_json::json;

use crate::support::{two_nodes, WsClient};

#[actix_rt::test]
#[ignore = "needs Redis: set TEST_REDIS_URL"]
async fn a_message_sent_on_one_node_reaches_a_socket_on_the_other() {
    let (node_a, node_b, alice, bob, id) = two_nodes().await;
    let mut on_a = WsClient::joined(&node_a, &alice, id).await;
    let mut on_b = WsClient::joined(&node_b, &bob, id).await;

    on_b.send_json(&json!({"type": "message", "conversation_id": id, "content": "across nodes"}))
        .await;

    let (delivered, _) = on_a.recv_until("message").await;
    assert_eq!(delivered["message"]["content"], "across nodes");
    assert_eq!(delivered["message"]["sender_id"], bob.id);
}

#[actix_rt::test]
#[ignore = "needs Redis: set TEST_REDIS_URL"]
async fn a_message_posted_over_http_on_one_node_reaches_the_other() {
    let (node_a, node_b, alice, bob, id) = two_nodes().await;
    let mut on_a = WsClient::joined(&node_a, &alice, id).await;

    node_b
        .post_message(
            &bob,
            &json!({"conversation_id": id, "content": "posted on b"}),
        )
        .await;

    let (delivered, _) = on_a.recv_until("message").await;
    assert_eq!(delivered["message"]["content"], "posted on b");
}

#[actix_rt::test]
#[ignore = "needs Redis: set TEST_REDIS_URL"]
async fn a_logout_on_one_node_closes_that_logins_sockets_on_the_other_and_revokes_its_token() {
    let (node_a, node_b, alice, _, _) = two_nodes().await;
    let mut on_b = WsClient::ready(&node_b, &alice).await;

    node_a.logout(&alice).await;

    assert_eq!(on_b.close_code().await, 4001);
    node_b.me(&alice).await.assert_status(401);
}
