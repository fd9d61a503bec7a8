//! The cluster bus (ARCHITECTURE.md): two server processes on one database and one Redis
//! behave as one chat. These tests run when `TEST_REDIS_URL` names a Redis server, as
//! `.ci/run` does; without one there is no bus to test.

use serde_json::json;

use crate::support::{spawn_app_with, TestApp, TestUser, WsClient};

/// Two servers on one database and one Redis, where alice owns a conversation with bob;
/// `None` when no Redis is configured for the tests.
async fn two_nodes() -> Option<(TestApp, TestApp, TestUser, TestUser, i64)> {
    let redis = std::env::var("TEST_REDIS_URL")
        .ok()
        .filter(|url| !url.is_empty())?;
    let node_a = spawn_app_with(&[("REDIS_URL", redis.as_str())]).await;
    let node_b = node_a.another_instance().await;
    let alice = node_a.signup("alice").await;
    let bob = node_a.signup("bob").await;
    let id = node_a.new_conversation(&alice, &[&bob]).await;
    Some((node_a, node_b, alice, bob, id))
}

#[actix_rt::test]
async fn a_message_sent_on_one_node_reaches_a_socket_on_the_other() {
    let Some((node_a, node_b, alice, bob, id)) = two_nodes().await else {
        return;
    };
    let mut on_a = WsClient::joined(&node_a, &alice, id).await;
    let mut on_b = WsClient::joined(&node_b, &bob, id).await;

    on_b.send_json(&json!({"type": "message", "conversation_id": id, "content": "across nodes"}))
        .await;

    let (delivered, _) = on_a.recv_until("message").await;
    assert_eq!(delivered["message"]["content"], "across nodes");
    assert_eq!(delivered["message"]["sender_id"], bob.id);
}

#[actix_rt::test]
async fn a_message_posted_over_http_on_one_node_reaches_the_other() {
    let Some((node_a, node_b, alice, bob, id)) = two_nodes().await else {
        return;
    };
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
async fn a_logout_on_one_node_closes_that_logins_sockets_on_the_other_and_revokes_its_token() {
    let Some((node_a, node_b, alice, _, _)) = two_nodes().await else {
        return;
    };
    let mut on_b = WsClient::ready(&node_b, &alice).await;

    node_a.logout(&alice).await;

    assert_eq!(on_b.close_code().await, 4001);
    node_b.me(&alice).await.assert_status(401);
}
