//! Credentials at the WebSocket handshake (docs/protocol.md): every credential form
//! gets in, and every invalid or missing one is refused with an ordinary JSON answer before
//! the upgrade, the first present credential deciding: the handshake's failures that must
//! never happen, seen from outside.

use serde_json::json;

use crate::support::{
    assert_handshake_refused, bearer, handmade_token, handshake_mode_app, invalid_credentials,
    spawn_app, spawn_app_with, upgrade_request, WsAuth, WsClient, SECURITY_HEADERS, SESSION_COOKIE,
};

#[actix_rt::test]
async fn a_bearer_header_handshake_is_switched_and_gets_ready() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;

    let mut socket = WsClient::connect(&app, "/ws", &alice).await;

    let ready = socket.recv().await;
    assert_eq!(ready["type"], "ready", "{ready}");
    assert_eq!(ready["user"]["id"], alice.id);
}

#[actix_rt::test]
async fn a_session_cookie_handshake_is_switched_and_gets_ready() {
    let (app, alice) = handshake_mode_app().await;
    let cookie = app.login_cookie(&alice).await;

    let mut socket = WsClient::connect(&app, "/ws", WsAuth::Cookie(cookie)).await;

    let ready = socket.recv().await;
    assert_eq!(ready["type"], "ready", "{ready}");
    assert_eq!(ready["user"]["id"], alice.id);
}

#[actix_rt::test]
async fn a_subprotocol_token_is_answered_with_exactly_palaver_v1_and_never_the_token() {
    let (app, alice) = handshake_mode_app().await;

    let mut socket = WsClient::connect(&app, "/ws", WsAuth::Subprotocol(alice.token.clone())).await;

    let answered: Vec<&str> = socket
        .headers
        .get_all("sec-websocket-protocol")
        .map(|v| v.to_str().expect("a text header"))
        .collect();
    assert_eq!(answered, ["palaver.v1"]);
    let ready = socket.recv().await;
    assert_eq!(ready["type"], "ready", "{ready}");
    assert_eq!(ready["user"]["id"], alice.id);
}

#[actix_rt::test]
async fn a_query_token_is_accepted_when_ws_query_token_is_on() {
    let app = spawn_app_with(&[("WS_AUTH_MODE", "handshake"), ("WS_QUERY_TOKEN", "true")]).await;
    let alice = app.signup("alice").await;

    let mut socket = WsClient::connect(&app, "/ws", WsAuth::Query(alice.token.clone())).await;

    let ready = socket.recv().await;
    assert_eq!(ready["type"], "ready", "{ready}");
    assert_eq!(ready["user"]["id"], alice.id);
}

#[actix_rt::test]
async fn a_query_token_is_not_a_credential_when_ws_query_token_is_off() {
    let app = spawn_app_with(&[("WS_AUTH_MODE", "handshake"), ("WS_QUERY_TOKEN", "false")]).await;
    let alice = app.signup("alice").await;

    let response = app
        .raw_request(&upgrade_request(&format!("/ws?token={}", alice.token), ""))
        .await;

    assert_handshake_refused(&response, 401, "unauthorized");
}

#[actix_rt::test]
async fn mixed_case_upgrade_headers_are_switched() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    for (upgrade, connection) in [
        ("WebSocket", "keep-alive, Upgrade"),
        ("WEBSOCKET", "UPGRADE"),
    ] {
        let head = format!(
            "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: {upgrade}\r\nConnection: {connection}\r\n\
             Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{}\r\n",
            bearer(&alice.token)
        );

        let response = app.raw_request(&head).await;

        assert_eq!(
            response.status, 101,
            "{upgrade} / {connection}: {response:?}"
        );
    }
}

#[actix_rt::test]
async fn a_switched_handshake_carries_no_security_headers() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;

    let response = app
        .raw_request(&upgrade_request("/ws", &bearer(&alice.token)))
        .await;

    assert_eq!(response.status, 101, "{response:?}");
    for (name, _) in SECURITY_HEADERS {
        assert_eq!(response.header(name), None, "{name} on a 101");
    }
    assert_eq!(response.header("content-security-policy"), None);
}

#[actix_rt::test]
async fn a_refused_handshake_carries_the_security_headers() {
    let (app, _) = handshake_mode_app().await;

    let response = app.raw_request(&upgrade_request("/ws", "")).await;

    assert_handshake_refused(&response, 401, "unauthorized");
    assert!(response
        .header("content-security-policy")
        .is_some_and(|csp| csp.contains("default-src")));
}

#[actix_rt::test]
async fn no_credential_in_handshake_mode_is_401_and_never_101() {
    let (app, _) = handshake_mode_app().await;
    for path in ["/ws", "/ws/conversations/1"] {
        let response = app.raw_request(&upgrade_request(path, "")).await;

        assert_handshake_refused(&response, 401, "unauthorized");
    }
}

#[actix_rt::test]
async fn an_invalid_credential_in_handshake_mode_is_401_and_never_101() {
    let (app, alice) = handshake_mode_app().await;
    for (what, header) in invalid_credentials(&app, &alice).await {
        let response = app.raw_request(&upgrade_request("/ws", &header)).await;

        assert_eq!(response.status, 401, "{what}: {response:?}");
        assert_handshake_refused(&response, 401, "unauthorized");
    }
}

#[actix_rt::test]
async fn an_invalid_credential_in_first_message_mode_is_401_not_an_unauthenticated_socket() {
    let app = spawn_app_with(&[("WS_AUTH_MODE", "handshake_or_first_message")]).await;
    let alice = app.signup("alice").await;
    for (what, header) in invalid_credentials(&app, &alice).await {
        let response = app.raw_request(&upgrade_request("/ws", &header)).await;

        assert_eq!(response.status, 401, "{what}: {response:?}");
        assert_handshake_refused(&response, 401, "unauthorized");
    }
}

#[actix_rt::test]
async fn an_invalid_query_token_is_401() {
    let app = spawn_app_with(&[("WS_QUERY_TOKEN", "true")]).await;

    let response = app
        .raw_request(&upgrade_request("/ws?token=not.a.jwt", ""))
        .await;

    assert_handshake_refused(&response, 401, "unauthorized");
}

#[actix_rt::test]
async fn the_first_present_credential_decides_a_bad_bearer_with_a_good_cookie_is_401() {
    let (app, alice) = handshake_mode_app().await;
    let cookie = app.login_cookie(&alice).await;

    let response = app
        .raw_request(&upgrade_request(
            "/ws",
            &format!(
                "{}Cookie: {SESSION_COOKIE}={}\r\n",
                bearer("not.a.jwt"),
                cookie.value()
            ),
        ))
        .await;

    assert_handshake_refused(&response, 401, "unauthorized");
}

#[actix_rt::test]
async fn a_bad_subprotocol_token_with_a_good_cookie_is_401() {
    let (app, alice) = handshake_mode_app().await;
    let cookie = app.login_cookie(&alice).await;

    let response = app
        .raw_request(&upgrade_request(
            "/ws",
            &format!(
                "Sec-WebSocket-Protocol: palaver.v1, bearer.not.a.jwt\r\nCookie: {SESSION_COOKIE}={}\r\n",
                cookie.value()
            ),
        ))
        .await;

    assert_handshake_refused(&response, 401, "unauthorized");
}

#[actix_rt::test]
async fn a_valid_token_and_a_valid_cookie_each_get_101() {
    let (app, alice) = handshake_mode_app().await;
    let cookie = app.login_cookie(&alice).await;

    let by_token = app
        .raw_request(&upgrade_request("/ws", &bearer(&alice.token)))
        .await;
    let by_cookie = app
        .raw_request(&upgrade_request(
            "/ws",
            &format!("Cookie: {SESSION_COOKIE}={}\r\n", cookie.value()),
        ))
        .await;

    assert_eq!(by_token.status, 101, "{by_token:?}");
    assert_eq!(by_cookie.status, 101, "{by_cookie:?}");
}

#[actix_rt::test]
async fn a_bearer_subprotocol_without_palaver_v1_is_400() {
    let (app, alice) = handshake_mode_app().await;

    let response = app
        .raw_request(&upgrade_request(
            "/ws",
            &format!("Sec-WebSocket-Protocol: bearer.{}\r\n", alice.token),
        ))
        .await;

    assert_handshake_refused(&response, 400, "bad_request");
}

#[actix_rt::test]
async fn an_upgrade_without_credentials_in_first_message_mode_is_switched() {
    let app = spawn_app_with(&[("WS_AUTH_MODE", "handshake_or_first_message")]).await;

    let response = app.raw_request(&upgrade_request("/ws", "")).await;

    assert_eq!(response.status, 101, "{response:?}");
}

#[actix_rt::test]
async fn a_token_expired_past_the_5_s_leeway_is_401() {
    let (app, alice) = handshake_mode_app().await;
    let now = chrono::Utc::now().timestamp();
    let token = handmade_token(&app, &alice, &json!({"iat": now - 60, "exp": now - 7}));

    let response = app
        .raw_request(&upgrade_request("/ws", &bearer(&token)))
        .await;

    assert_handshake_refused(&response, 401, "unauthorized");
}
