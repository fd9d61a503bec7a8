//! How long a socket lives (docs/protocol.md, Liveness): the heartbeat closes a silent client
//! with 4000, a token's expiry closes its socket with 4001 unless a `refresh` came first,
//! logout closes exactly the sockets of that login session with 4001, and an
//! unauthenticated socket has `FIRST_MESSAGE_TIMEOUT_SECS` to authenticate before 1008.

use awc::ws::Frame;
use serde_json::json;

use crate::support::{fast_heartbeat_app, handmade_token, spawn_app_with, Auth, WsAuth, WsClient};

// --- heartbeat ---

#[actix_rt::test]
async fn a_client_that_never_answers_pings_is_closed_4000() {
    let app = fast_heartbeat_app().await;
    let alice = app.signup("alice").await;
    let mut socket = WsClient::ready(&app, &alice).await;

    socket.stop_answering_pings();

    assert_eq!(socket.close_code().await, 4000);
    assert!(socket.pings >= 1, "the server pinged before it gave up");
}

#[actix_rt::test]
async fn the_room_gets_presence_offline_when_a_silent_socket_times_out() {
    let app = fast_heartbeat_app().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let id = app.new_conversation(&alice, &[&bob]).await;
    let mut watcher = WsClient::joined(&app, &alice, id).await;
    let mut silent = WsClient::joined(&app, &bob, id).await;
    silent.stop_answering_pings();

    let offline = loop {
        let presence = watcher.expect_type("presence").await;
        if presence["status"] != "online" {
            break presence;
        }
    };

    assert_eq!(
        offline,
        json!({"type": "presence", "conversation_id": id, "user_id": bob.id, "status": "offline"})
    );
}

#[actix_rt::test]
async fn a_client_that_answers_pings_outlives_the_client_timeout() {
    let app = fast_heartbeat_app().await;
    let alice = app.signup("alice").await;
    let mut socket = WsClient::ready(&app, &alice).await;

    while socket.pings < 4 {
        match socket.next_frame().await {
            Some(Frame::Close(reason)) => {
                panic!("closed with {reason:?} after {} pings", socket.pings)
            }
            None => panic!("the connection ended"),
            Some(_) => {}
        }
    }

    assert!(socket.round_trip().await.is_empty());
}

// --- token expiry ---

#[actix_rt::test]
async fn a_socket_is_closed_4001_when_its_token_expires() {
    let app = spawn_app_with(&[]).await;
    let alice = app.signup("alice").await;
    let exp = chrono::Utc::now().timestamp() + 2;
    let token = handmade_token(&app, &alice, &json!({"exp": exp}));
    let mut socket = WsClient::connect(&app, "/ws", WsAuth::Bearer(token)).await;
    socket.expect_type("ready").await;

    let code = socket.close_code().await;

    let closed_at = chrono::Utc::now().timestamp();
    assert_eq!(code, 4001);
    assert!(
        closed_at >= exp - 1,
        "not before the token's exp ({closed_at} < {exp})"
    );
    assert!(
        closed_at <= exp + 6,
        "within 5 s after exp ({closed_at} > {exp} + 5)"
    );
}

#[actix_rt::test]
async fn a_socket_authenticated_by_its_first_message_is_closed_4001_when_that_token_expires() {
    let app = spawn_app_with(&[]).await;
    let alice = app.signup("alice").await;
    let token = handmade_token(
        &app,
        &alice,
        &json!({"exp": chrono::Utc::now().timestamp() + 2}),
    );
    let mut socket = WsClient::connect(&app, "/ws", WsAuth::None).await;
    socket
        .send_json(&json!({"type": "auth", "token": token}))
        .await;
    socket.expect_type("ready").await;

    assert_eq!(socket.close_code().await, 4001);
}

#[actix_rt::test]
async fn a_refresh_before_expiry_keeps_the_socket_open_past_the_old_expiry() {
    let app = spawn_app_with(&[
        ("HEARTBEAT_INTERVAL_SECS", "1"),
        ("CLIENT_TIMEOUT_SECS", "10"),
    ])
    .await;
    let alice = app.signup("alice").await;
    let exp = chrono::Utc::now().timestamp() + 2;
    let short = handmade_token(&app, &alice, &json!({"exp": exp}));
    let mut socket = WsClient::connect(&app, "/ws", WsAuth::Bearer(short)).await;
    socket.expect_type("ready").await;

    let refreshed = socket
        .request_reply(json!({"type": "refresh", "token": alice.token}))
        .await;

    assert_eq!(refreshed["type"], "refreshed", "{refreshed}");
    socket.stay_connected_until(exp + 6).await;
    assert!(socket.round_trip().await.is_empty());
}

#[actix_rt::test]
async fn a_refused_refresh_keeps_the_old_expiry() {
    let app = spawn_app_with(&[]).await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let short = handmade_token(
        &app,
        &alice,
        &json!({"exp": chrono::Utc::now().timestamp() + 2}),
    );
    let mut socket = WsClient::connect(&app, "/ws", WsAuth::Bearer(short)).await;
    socket.expect_type("ready").await;

    let refused = socket
        .request_reply(json!({"type": "refresh", "token": bob.token}))
        .await;

    assert_eq!(refused["code"], "forbidden", "{refused}");
    assert_eq!(socket.close_code().await, 4001);
}

// --- logout ---

#[actix_rt::test]
async fn logout_closes_that_logins_sockets_4001_and_spares_another_login_of_the_same_user() {
    let app = spawn_app_with(&[]).await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let id = app.new_conversation(&alice, &[&bob]).await;
    let (_, phone) = app.another_login(&alice.username).await;
    let (_, laptop) = app.another_login(&alice.username).await;
    let mut on_phone = WsClient::connect(&app, "/ws", WsAuth::Bearer(phone.clone())).await;
    on_phone.expect_type("ready").await;
    let mut on_laptop = WsClient::connect(&app, "/ws", WsAuth::Bearer(laptop)).await;
    on_laptop.expect_type("ready").await;
    on_laptop.join(id).await;

    app.logout(Auth::Bearer(phone)).await.assert_status(204);

    assert_eq!(on_phone.close_code().await, 4001);
    let sent = app.send_message(&bob, id, "after the logout").await;
    assert_eq!(on_laptop.expect_type("message").await["message"], sent);
}

#[actix_rt::test]
async fn logout_with_the_cookie_closes_the_socket_of_that_logins_token() {
    let app = spawn_app_with(&[]).await;
    let alice = app.signup("alice").await;
    let (cookie, token) = app.another_login(&alice.username).await;
    let mut socket = WsClient::connect(&app, "/ws", WsAuth::Bearer(token)).await;
    socket.expect_type("ready").await;

    app.logout(Auth::Cookie(cookie)).await.assert_status(204);

    assert_eq!(socket.close_code().await, 4001);
}

#[actix_rt::test]
async fn logout_with_the_cookie_closes_the_cookie_socket_4001() {
    let app = spawn_app_with(&[]).await;
    let alice = app.signup("alice").await;
    let (cookie, _) = app.another_login(&alice.username).await;
    let mut socket = WsClient::connect(&app, "/ws", WsAuth::Cookie(cookie.clone())).await;
    socket.expect_type("ready").await;

    app.logout(Auth::Cookie(cookie)).await.assert_status(204);

    assert_eq!(socket.close_code().await, 4001);
}

#[actix_rt::test]
async fn after_a_refresh_the_socket_belongs_to_the_new_tokens_session() {
    let app = spawn_app_with(&[]).await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let id = app.new_conversation(&alice, &[&bob]).await;
    let (_, first) = app.another_login(&alice.username).await;
    let (_, second) = app.another_login(&alice.username).await;
    let mut socket = WsClient::connect(&app, "/ws", WsAuth::Bearer(first.clone())).await;
    socket.expect_type("ready").await;
    socket.join(id).await;
    let refreshed = socket
        .request_reply(json!({"type": "refresh", "token": second}))
        .await;
    assert_eq!(refreshed["type"], "refreshed", "{refreshed}");

    app.logout(Auth::Bearer(first)).await.assert_status(204);
    let sent = app.send_message(&bob, id, "the old session is gone").await;
    assert_eq!(socket.expect_type("message").await["message"], sent);
    app.logout(Auth::Bearer(second)).await.assert_status(204);

    assert_eq!(socket.close_code().await, 4001);
}

// --- first-message deadline ---

#[actix_rt::test]
async fn an_unauthenticated_socket_is_closed_1008_at_the_first_message_deadline() {
    let app = spawn_app_with(&[("FIRST_MESSAGE_TIMEOUT_SECS", "1")]).await;
    let mut socket = WsClient::connect(&app, "/ws", WsAuth::None).await;

    let (code, before) = socket.close_code_after().await;

    assert_eq!(code, 1008);
    assert!(before.is_empty(), "{before:?}");
}

#[actix_rt::test]
async fn a_malformed_auth_does_not_stop_the_first_message_deadline() {
    let app = spawn_app_with(&[("FIRST_MESSAGE_TIMEOUT_SECS", "1")]).await;
    let mut socket = WsClient::connect(&app, "/ws", WsAuth::None).await;

    socket.send_json(&json!({"type": "auth"})).await;

    let (code, before) = socket.close_code_after().await;
    assert_eq!(code, 1008);
    assert_eq!(before.len(), 1, "{before:?}");
    assert_eq!(before[0]["code"], "bad_request");
}

#[actix_rt::test]
async fn a_socket_authenticated_in_time_outlives_the_first_message_deadline() {
    let app = spawn_app_with(&[
        ("FIRST_MESSAGE_TIMEOUT_SECS", "1"),
        ("HEARTBEAT_INTERVAL_SECS", "1"),
        ("CLIENT_TIMEOUT_SECS", "10"),
    ])
    .await;
    let alice = app.signup("alice").await;
    let mut socket = WsClient::connect(&app, "/ws", WsAuth::None).await;
    let opened = chrono::Utc::now().timestamp();

    socket
        .send_json(&json!({"type": "auth", "token": alice.token}))
        .await;

    socket.expect_type("ready").await;
    socket.stay_connected_until(opened + 2).await;
    assert!(socket.round_trip().await.is_empty());
}

#[actix_rt::test]
async fn a_silent_echo_socket_is_closed_4000() {
    let app = fast_heartbeat_app().await;
    let mut socket = WsClient::connect(&app, "/ws/test", WsAuth::None).await;
    socket.stop_answering_pings();
    // Silent for CLIENT_TIMEOUT_SECS (2), noticed at the next heartbeat (1): 3 s, and slack.
    socket.set_read_timeout(std::time::Duration::from_secs(8));

    assert_eq!(socket.close_code().await, 4000);
}

#[actix_rt::test]
async fn a_token_past_its_exp_within_the_leeway_is_accepted_and_closed_4001_at_once() {
    let app = spawn_app_with(&[]).await;
    let alice = app.signup("alice").await;
    let exp = chrono::Utc::now().timestamp() - 2;
    let token = handmade_token(&app, &alice, &json!({"iat": exp - 60, "exp": exp}));
    let mut socket = WsClient::connect(&app, "/ws", WsAuth::Bearer(token)).await;

    let (code, before) = socket.close_code_after().await;

    assert_eq!(code, 4001);
    assert_eq!(before.len(), 1, "{before:?}");
    assert_eq!(before[0]["type"], "ready");
    assert!(
        chrono::Utc::now().timestamp() <= exp + 6,
        "within 5 s after exp"
    );
}
