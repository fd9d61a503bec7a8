//! The socket side's public HTTP and test endpoints (docs/protocol.md, Endpoints): `/ws/test`
//! echoes without authentication, `/ws/config` tells a client how to connect, `/ws/health`
//! and `/ws/stats` report counts, `/ws/schema.json` describes every frame.

use std::collections::BTreeSet;

use serde_json::json;

use crate::support::{spawn_app, spawn_app_with, strings_in, WsAuth, WsClient};

const CLIENT_FRAMES: [&str; 10] = [
    "auth", "initial", "join", "leave", "message", "typing", "read", "history", "refresh", "ping",
];
const SERVER_FRAMES: [&str; 16] = [
    "ready",
    "refreshed",
    "joined",
    "left",
    "ack",
    "message",
    "message_edited",
    "message_deleted",
    "typing",
    "read",
    "presence",
    "member_added",
    "member_removed",
    "history",
    "error",
    "pong",
];

#[actix_rt::test]
async fn ws_test_echoes_text_without_authentication() {
    let app = spawn_app().await;
    let mut socket = WsClient::connect(&app, "/ws/test", WsAuth::None).await;

    socket.send_text("hello, proxy").await;

    match socket.next_frame().await {
        Some(awc::ws::Frame::Text(text)) => assert_eq!(&text[..], b"hello, proxy"),
        other => panic!("an echo, got {other:?}"),
    }
}

#[actix_rt::test]
async fn ws_test_knows_no_chat_frames() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    let mut socket = WsClient::connect(&app, "/ws/test", &alice).await;
    let join = json!({"type": "join", "conversation_id": 1}).to_string();

    socket.send_text(join.clone()).await;

    match socket.next_frame().await {
        Some(awc::ws::Frame::Text(text)) => {
            assert_eq!(&text[..], join.as_bytes(), "an echo, no chat")
        }
        other => panic!("an echo, got {other:?}"),
    }
}

#[actix_rt::test]
async fn ws_config_has_every_field_of_the_protocol_with_the_defaults() {
    let app = spawn_app().await;

    let config = app.get_json("/ws/config").await;

    assert_eq!(
        config,
        json!({
            "heartbeat_interval_ms": 30_000,
            "client_timeout_ms": 60_000,
            "first_message_timeout_ms": 10_000,
            "max_frame_bytes": 65536,
            "max_content_chars": 4000,
            "auth_modes": ["bearer", "subprotocol", "query", "cookie", "first_message"],
            "protocol": "palaver.v1",
        })
    );
}

#[actix_rt::test]
async fn ws_config_follows_the_configuration() {
    let app = spawn_app_with(&[
        ("WS_AUTH_MODE", "handshake"),
        ("WS_QUERY_TOKEN", "false"),
        ("HEARTBEAT_INTERVAL_SECS", "7"),
        ("CLIENT_TIMEOUT_SECS", "21"),
        ("FIRST_MESSAGE_TIMEOUT_SECS", "3"),
        ("MAX_FRAME_BYTES", "2048"),
        ("MAX_CONTENT_CHARS", "500"),
    ])
    .await;

    let config = app.get_json("/ws/config").await;

    assert_eq!(
        config["auth_modes"],
        json!(["bearer", "subprotocol", "cookie"])
    );
    assert_eq!(config["heartbeat_interval_ms"], 7_000);
    assert_eq!(config["client_timeout_ms"], 21_000);
    assert_eq!(config["first_message_timeout_ms"], 3_000);
    assert_eq!(config["max_frame_bytes"], 2048);
    assert_eq!(config["max_content_chars"], 500);
}

#[actix_rt::test]
async fn ws_health_counts_the_open_sockets() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    let before = app.get_json("/ws/health").await;

    let _socket = WsClient::ready(&app, &alice).await;

    assert_eq!(before, json!({"status": "ok", "connections": 0}));
    assert_eq!(
        app.get_json("/ws/health").await,
        json!({"status": "ok", "connections": 1})
    );
}

#[actix_rt::test]
async fn ws_stats_counts_connections_authenticated_sockets_rooms_and_routed_messages() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    let id = app.new_conversation(&alice, &[]).await;
    let mut joined = WsClient::joined(&app, &alice, id).await;
    let mut anonymous = WsClient::connect(&app, "/ws", WsAuth::None).await;
    assert!(anonymous.round_trip().await.is_empty());

    joined.send_chat(id, "counted").await;

    let stats = app.get_json("/ws/stats").await;
    let keys: BTreeSet<&str> = stats
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "connections",
            "authenticated",
            "rooms",
            "messages_routed",
            "uptime_secs"
        ]),
        "aggregate counters only: {stats}"
    );
    assert_eq!(stats["connections"], 2, "{stats}");
    assert_eq!(stats["authenticated"], 1, "{stats}");
    assert_eq!(stats["rooms"], 1, "{stats}");
    assert_eq!(stats["messages_routed"], 1, "{stats}");
    assert!(stats["uptime_secs"].is_u64(), "{stats}");
}

#[actix_rt::test]
async fn ws_schema_names_every_client_and_server_frame_type() {
    let app = spawn_app().await;

    let schema = app.get_json("/ws/schema.json").await;

    let (mut client, mut server) = (BTreeSet::new(), BTreeSet::new());
    strings_in(&schema["client"], &mut client);
    strings_in(&schema["server"], &mut server);
    for kind in CLIENT_FRAMES {
        assert!(client.contains(kind), "client frame {kind} in the schema");
    }
    for kind in SERVER_FRAMES {
        assert!(server.contains(kind), "server frame {kind} in the schema");
    }
}
