//! The cluster bus: two server processes on one database and one Redis behave as one
//! chat, and a Redis outage heals by itself. Most of these tests need a Redis server
//! (`TEST_REDIS_URL`, or `redis-server` on PATH for the ones that stop their own), so they
//! are ignored by a plain `cargo test`; `.ci/run` runs them with `--include-ignored`, and
//! there a missing Redis fails them.

use serde_json::json;

use crate::support::{two_nodes, two_nodes_on, RedisServer, WsClient};

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

#[actix_rt::test]
#[ignore = "needs Redis: set TEST_REDIS_URL"]
async fn typing_on_one_node_reaches_a_member_joined_on_the_other() {
    let (node_a, node_b, alice, bob, id) = two_nodes().await;
    let mut on_a = WsClient::joined(&node_a, &alice, id).await;
    let mut on_b = WsClient::joined(&node_b, &bob, id).await;

    on_b.send_json(&json!({"type": "typing", "conversation_id": id}))
        .await;

    let (typing, _) = on_a.recv_until("typing").await;
    assert_eq!(typing["user_id"], bob.id);
    assert_eq!(typing["conversation_id"], id);
}

#[actix_rt::test]
#[ignore = "needs Redis: set TEST_REDIS_URL"]
async fn three_senders_on_each_node_are_delivered_to_every_socket_in_seq_order_without_gaps() {
    const SENDERS_PER_NODE: usize = 3;
    const MESSAGES_EACH: usize = 34;
    let (node_a, node_b, alice, bob, id) = two_nodes().await;
    let mut observer_a = WsClient::joined(&node_a, &alice, id).await;
    let mut observer_b = WsClient::joined(&node_b, &bob, id).await;
    let mut senders = Vec::new();
    for (node, user) in [(&node_a, &alice), (&node_b, &bob)] {
        for _ in 0..SENDERS_PER_NODE {
            senders.push(WsClient::ready(node, user).await);
        }
    }

    let tasks: Vec<_> = senders
        .into_iter()
        .enumerate()
        .map(|(sender, mut socket)| {
            actix_rt::spawn(async move {
                for n in 0..MESSAGES_EACH {
                    socket
                        .send_json(&json!({
                            "type": "message",
                            "conversation_id": id,
                            "content": format!("{sender}-{n}"),
                        }))
                        .await;
                    socket.recv_until("ack").await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("a sender finishes");
    }

    let total = 2 * SENDERS_PER_NODE * MESSAGES_EACH;
    for observer in [&mut observer_a, &mut observer_b] {
        let mut seqs = Vec::new();
        while seqs.len() < total {
            let (message, _) = observer.recv_until("message").await;
            seqs.push(message["message"]["seq"].as_i64().expect("seq"));
        }
        let expected: Vec<i64> = (1..=total as i64).collect();
        assert_eq!(seqs, expected, "every message once, in seq order");
    }
}

#[actix_rt::test]
async fn a_node_starts_while_redis_is_down_and_reports_the_bus_degraded() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let url = format!("redis://127.0.0.1:{closed}");

    let app = crate::support::spawn_app_with(&[("REDIS_URL", url.as_str())]).await;

    let health = app.get_json("/health").await;
    assert_eq!(health["status"], "ok");
    assert_eq!(health["bus"], "degraded");
}

#[actix_rt::test]
async fn with_redis_required_a_node_refuses_to_start_while_redis_is_down() {
    let workdir = tempfile::tempdir().expect("a temporary directory");
    let database = format!("sqlite://{}/palaver.db", workdir.path().display());
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let redis = format!("redis://127.0.0.1:{closed}");

    let output = crate::support::run_binary_in(
        workdir.path(),
        &[
            ("APP_ENV", "test"),
            ("BIND_ADDR", "127.0.0.1:0"),
            ("DATABASE_URL", database.as_str()),
            ("REDIS_URL", redis.as_str()),
            ("REDIS_REQUIRED", "true"),
            ("RUST_LOG", "off"),
        ],
    );

    assert!(!output.status.success(), "exit status {:?}", output.status);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("REDIS_REQUIRED"), "{stderr}");
}

/// Polls `/health` on `node` until its bus reads `want`, for at most 15 s.
async fn wait_for_bus(node: &crate::support::TestApp, want: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let health = node.get_json("/health").await;
        if health["bus"] == want {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the bus never became {want}: {health}"
        );
        actix_rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[actix_rt::test]
#[ignore = "needs redis-server on PATH (the cluster suite)"]
async fn a_redis_restart_heals_by_itself_and_a_logout_made_meanwhile_holds_on_every_node() {
    let mut redis = RedisServer::start();
    let (node_a, node_b, alice, bob, id) = two_nodes_on(&redis.url(), &[]).await;
    wait_for_bus(&node_a, "ok").await;
    wait_for_bus(&node_b, "ok").await;
    let mut on_a = WsClient::joined(&node_a, &bob, id).await;
    node_b.me(&alice).await.assert_status(200);

    redis.stop();
    wait_for_bus(&node_a, "degraded").await;
    wait_for_bus(&node_b, "degraded").await;
    node_a.logout(&alice).await;
    let meanwhile = node_b.me(&alice).await;
    redis.resume();
    wait_for_bus(&node_a, "ok").await;
    wait_for_bus(&node_b, "ok").await;
    node_b
        .post_message(
            &bob,
            &json!({"conversation_id": id, "content": "after the outage"}),
        )
        .await
        .assert_status(201);

    meanwhile.assert_status(401);
    node_b.me(&alice).await.assert_status(401);
    let (delivered, _) = on_a.recv_until("message").await;
    assert_eq!(delivered["message"]["content"], "after the outage");
}

#[actix_rt::test]
#[ignore = "needs Redis: set TEST_REDIS_URL"]
async fn a_user_joined_only_on_the_other_node_is_online_in_joined_and_their_presence_crosses() {
    let (node_a, node_b, alice, bob, id) = two_nodes().await;
    let mut bob_on_b = WsClient::joined(&node_b, &bob, id).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);

    // The bus may take a moment to tell node A; wait for the event, not a fixed time.
    let joined = loop {
        let mut alice_on_a = WsClient::ready(&node_a, &alice).await;
        alice_on_a
            .send_json(&json!({"type": "join", "conversation_id": id}))
            .await;
        let (joined, _) = alice_on_a.recv_until("joined").await;
        let online = joined["online"].as_array().cloned().unwrap_or_default();
        if online.contains(&json!(bob.id)) || std::time::Instant::now() > deadline {
            break (joined, alice_on_a);
        }
        actix_rt::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let (joined, mut alice_on_a) = joined;
    bob_on_b.close(1000).await;
    let (presence, _) = alice_on_a.recv_until("presence").await;

    assert!(
        joined["online"]
            .as_array()
            .expect("online")
            .contains(&json!(bob.id)),
        "{joined}"
    );
    assert_eq!(presence["user_id"], bob.id);
    assert_eq!(presence["status"], "offline");
}

#[actix_rt::test]
#[ignore = "needs Redis: set TEST_REDIS_URL"]
async fn a_user_who_comes_online_on_one_node_is_announced_on_the_other() {
    let (node_a, node_b, alice, bob, id) = two_nodes().await;
    let mut alice_on_a = WsClient::joined(&node_a, &alice, id).await;

    let _bob_on_b = WsClient::joined(&node_b, &bob, id).await;

    let (presence, _) = alice_on_a.recv_until("presence").await;
    assert_eq!(presence["user_id"], bob.id);
    assert_eq!(presence["status"], "online");
}

#[actix_rt::test]
#[ignore = "needs Redis: set TEST_REDIS_URL"]
async fn the_users_of_a_node_that_stopped_without_a_word_go_offline_within_the_node_timeout() {
    let redis_url = std::env::var("TEST_REDIS_URL").expect("TEST_REDIS_URL");
    let (node_a, _node_b, alice, bob, id) = two_nodes().await;
    let mut alice_on_a = WsClient::joined(&node_a, &alice, id).await;
    let channel = palaver::cluster::channel_for(&node_a.state.config.database_url);
    let crashed = json!({
        "node": "a-node-that-will-crash",
        "event": {"Presence": {
            "conversation_id": id, "user_id": bob.id, "online": true,
            "node": "a-node-that-will-crash",
        }},
    });

    let client = redis::Client::open(redis_url.as_str()).expect("a Redis URL");
    let mut publisher = client
        .get_multiplexed_async_connection()
        .await
        .expect("Redis answers");
    redis::AsyncCommands::publish::<_, _, ()>(&mut publisher, &channel, crashed.to_string())
        .await
        .expect("published");
    let (online, _) = alice_on_a.recv_until("presence").await;
    let started = std::time::Instant::now();
    let bound = palaver::chat::presence::NODE_TIMEOUT + palaver::chat::presence::SNAPSHOT_EVERY * 2;
    alice_on_a.set_read_timeout(bound);
    let (offline, _) = alice_on_a.recv_until("presence").await;

    assert_eq!(
        (online["user_id"].clone(), online["status"].clone()),
        (json!(bob.id), json!("online"))
    );
    assert_eq!(
        (offline["user_id"].clone(), offline["status"].clone()),
        (json!(bob.id), json!("offline"))
    );
    assert!(
        started.elapsed() <= bound,
        "offline after {:?}",
        started.elapsed()
    );
}

#[actix_rt::test]
async fn two_nodes_started_at_the_same_moment_on_a_fresh_database_both_come_up() {
    let (node_a, node_b) = crate::support::two_nodes_started_at_once().await;

    let alice = node_a.signup("alice").await;

    node_b.me(&alice).await.assert_status(200);
    assert_eq!(node_a.get_json("/health").await["database"], "ok");
    assert_eq!(node_b.get_json("/health").await["database"], "ok");
}

#[actix_rt::test]
#[ignore = "needs Redis: set TEST_REDIS_URL"]
async fn read_markers_and_member_changes_made_on_one_node_reach_the_other() {
    let (node_a, node_b, alice, bob, id) = two_nodes().await;
    let carol = node_a.signup("carol").await;
    let mut bob_on_b = WsClient::joined(&node_b, &bob, id).await;
    let message = node_a
        .post_message(
            &alice,
            &json!({"conversation_id": id, "content": "read me"}),
        )
        .await
        .json()["message"]["id"]
        .clone();

    node_a
        .mark_read(&alice, id, &json!({"message_id": message}))
        .await
        .assert_status(204);
    let (read, _) = bob_on_b.recv_until("read").await;
    node_a
        .add_member(&alice, id, "carol")
        .await
        .assert_status(201);
    let (added, _) = bob_on_b.recv_until("member_added").await;

    assert_eq!(read["user_id"], alice.id);
    assert_eq!(read["message_id"], message);
    assert_eq!(added["user_id"], carol.id);
}

#[actix_rt::test]
#[ignore = "needs Redis: set TEST_REDIS_URL"]
async fn max_sockets_per_user_counts_the_sockets_on_every_node() {
    let redis = std::env::var("TEST_REDIS_URL").expect("TEST_REDIS_URL");
    let (node_a, node_b, alice, _, _) =
        two_nodes_on(&redis, &[("MAX_SOCKETS_PER_USER", "2")]).await;
    let _first = WsClient::ready(&node_a, &alice).await;
    let _second = WsClient::ready(&node_a, &alice).await;

    // Node B learns of node A's sockets over the bus: wait for it, then knock.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while node_b.get_json("/ws/stats").await["cluster"]["authenticated"] != 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "node B never counted node A's sockets"
        );
        actix_rt::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let third = node_b
        .raw_request(&crate::support::upgrade_request(
            "/ws",
            &crate::support::bearer(&alice.token),
        ))
        .await;

    crate::support::assert_handshake_refused(&third, 429, "rate_limited");
}
