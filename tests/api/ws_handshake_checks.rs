//! The handshake's other checks (docs/protocol.md): Origin (403), the socket limits
//! (429, 503) and membership of a bound socket's conversation (404), in that order after
//! credentials; and actix's own answers to handshakes that are not valid WebSocket
//! handshakes (400, 405, 426), all with the JSON error body.

use crate::support::{
    assert_handshake_refused, bearer, spawn_app, spawn_app_with, spawn_app_with_alice_and_bob,
    upgrade_request, Auth, WsAuth, WsClient,
};

#[actix_rt::test]
async fn a_foreign_origin_is_403_on_every_socket_endpoint() {
    let (app, alice, _, id) = spawn_app_with_alice_and_bob().await;
    let origin = "Origin: https://evil.example\r\n";
    for path in [
        "/ws".to_string(),
        format!("/ws/conversations/{id}"),
        "/ws/test".to_string(),
    ] {
        let response = app
            .raw_request(&upgrade_request(
                &path,
                &format!("{origin}{}", bearer(&alice.token)),
            ))
            .await;

        assert_eq!(response.status, 403, "{path}: {response:?}");
        assert_handshake_refused(&response, 403, "forbidden");
    }
}

#[actix_rt::test]
async fn the_public_url_origin_and_the_allowed_origins_pass() {
    let app = spawn_app_with(&[
        ("PUBLIC_URL", "http://chat.example.com"),
        ("ALLOWED_ORIGINS", "https://app.example.org"),
    ])
    .await;
    let alice = app.signup("alice").await;
    for origin in ["http://chat.example.com", "https://app.example.org"] {
        for path in ["/ws", "/ws/test"] {
            let request = WsClient::request(&app, path, &WsAuth::from(&alice)).origin(origin);

            let socket = WsClient::open(request).await;

            assert!(socket.is_ok(), "{origin} on {path}: {:?}", socket.err());
        }
    }
}

#[actix_rt::test]
async fn a_user_holding_max_sockets_per_user_gets_429_and_others_still_connect() {
    let app = spawn_app_with(&[("MAX_SOCKETS_PER_USER", "1")]).await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let _first = WsClient::ready(&app, &alice).await;

    let second = app
        .raw_request(&upgrade_request("/ws", &bearer(&alice.token)))
        .await;
    let other_user = WsClient::open(WsClient::request(&app, "/ws", &WsAuth::from(&bob))).await;

    assert_handshake_refused(&second, 429, "rate_limited");
    assert!(other_user.is_ok(), "bob connects: {:?}", other_user.err());
}

#[actix_rt::test]
async fn a_server_at_max_connections_gets_503() {
    let app = spawn_app_with(&[("MAX_CONNECTIONS", "1")]).await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let _first = WsClient::ready(&app, &alice).await;

    let response = app
        .raw_request(&upgrade_request("/ws", &bearer(&bob.token)))
        .await;

    assert_handshake_refused(&response, 503, "unavailable");
}

#[actix_rt::test]
async fn a_bound_handshake_by_a_non_member_is_404() {
    let (app, _, _, id) = spawn_app_with_alice_and_bob().await;
    let carol = app.signup("carol").await;

    let response = app
        .raw_request(&upgrade_request(
            &format!("/ws/conversations/{id}"),
            &bearer(&carol.token),
        ))
        .await;

    assert_handshake_refused(&response, 404, "not_found");
}

#[actix_rt::test]
async fn a_bound_handshake_to_an_unknown_conversation_is_404() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;

    let response = app
        .raw_request(&upgrade_request(
            "/ws/conversations/987654",
            &bearer(&alice.token),
        ))
        .await;

    assert_handshake_refused(&response, 404, "not_found");
}

#[actix_rt::test]
async fn a_bound_handshake_by_a_member_gets_ready_with_its_conversation() {
    let (app, _, bob, id) = spawn_app_with_alice_and_bob().await;

    let mut socket = WsClient::connect(&app, &format!("/ws/conversations/{id}"), &bob).await;

    let ready = socket.recv().await;
    assert_eq!(ready["type"], "ready", "{ready}");
    assert_eq!(ready["conversation_id"], id);
    assert_eq!(ready["user"]["id"], bob.id);
}

#[actix_rt::test]
async fn websocket_version_8_is_426_with_sec_websocket_version_13() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    let head = format!(
        "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Version: 8\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{}\r\n",
        bearer(&alice.token)
    );

    let response = app.raw_request(&head).await;

    assert_handshake_refused(&response, 426, "upgrade_required");
    assert_eq!(response.header("sec-websocket-version"), Some("13"));
}

#[actix_rt::test]
async fn post_to_ws_is_405() {
    let app = spawn_app().await;

    let response = app
        .send(app.request(awc::http::Method::POST, "/ws", &Auth::None))
        .await;

    response.assert_error(405, "method_not_allowed");
    assert!(
        response.header("allow").is_some_and(|a| a.contains("GET")),
        "Allow: {:?}",
        response.header("allow")
    );
}

#[actix_rt::test]
async fn a_plain_get_of_ws_is_400_with_a_json_body() {
    let app = spawn_app().await;

    let response = app.get("/ws", Auth::None).await;

    response.assert_error(400, "bad_request");
}

#[actix_rt::test]
async fn a_handshake_without_a_key_is_400_with_a_json_body() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    let head = format!(
        "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Version: 13\r\n{}\r\n",
        bearer(&alice.token)
    );

    let response = app.raw_request(&head).await;

    assert_handshake_refused(&response, 400, "bad_request");
}

#[actix_rt::test]
async fn origin_is_checked_before_credentials() {
    let app = spawn_app_with(&[("WS_AUTH_MODE", "handshake")]).await;

    let response = app
        .raw_request(&upgrade_request(
            "/ws",
            &format!("Origin: https://evil.example\r\n{}", bearer("not.a.jwt")),
        ))
        .await;

    assert_handshake_refused(&response, 403, "forbidden");
}

#[actix_rt::test]
async fn credentials_are_checked_before_the_connection_limit() {
    let app = spawn_app_with(&[("MAX_CONNECTIONS", "1")]).await;
    let alice = app.signup("alice").await;
    let _first = WsClient::ready(&app, &alice).await;

    let response = app
        .raw_request(&upgrade_request("/ws", &bearer("not.a.jwt")))
        .await;

    assert_handshake_refused(&response, 401, "unauthorized");
}

#[actix_rt::test]
async fn the_socket_limit_is_checked_before_membership() {
    let app = spawn_app_with(&[("MAX_SOCKETS_PER_USER", "1")]).await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let id = app.new_conversation(&bob, &[]).await;
    let _first = WsClient::ready(&app, &alice).await;

    let response = app
        .raw_request(&upgrade_request(
            &format!("/ws/conversations/{id}"),
            &bearer(&alice.token),
        ))
        .await;

    assert_handshake_refused(&response, 429, "rate_limited");
}
