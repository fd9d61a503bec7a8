//! A graceful shutdown (close code 1001, `SHUTDOWN_TIMEOUT_SECS`):
//! every open socket gets 1001 so its client reconnects elsewhere, and no new handshake is
//! accepted once the shutdown has begun.

use crate::support::{begin_shutdown, stoppable_app, WsAuth, WsClient};

#[actix_rt::test]
async fn an_open_socket_gets_1001_when_the_server_shuts_down() {
    let (_first, server, shutdown) = stoppable_app().await;
    let alice = server.signup("alice").await;
    let mut socket = WsClient::ready(&server, &alice).await;

    begin_shutdown(shutdown);

    assert_eq!(socket.close_code().await, 1001);
}

#[actix_rt::test]
async fn a_bound_socket_gets_1001_when_the_server_shuts_down() {
    let (_first, server, shutdown) = stoppable_app().await;
    let alice = server.signup("alice").await;
    let id = server.new_conversation(&alice, &[]).await;
    let mut socket = WsClient::connect(&server, &format!("/ws/conversations/{id}"), &alice).await;
    socket.expect_type("ready").await;

    begin_shutdown(shutdown);

    assert_eq!(socket.close_code().await, 1001);
}

#[actix_rt::test]
async fn an_unauthenticated_socket_gets_1001_when_the_server_shuts_down() {
    let (_first, server, shutdown) = stoppable_app().await;
    let mut socket = WsClient::connect(&server, "/ws", WsAuth::None).await;
    assert!(socket.round_trip().await.is_empty());

    begin_shutdown(shutdown);

    assert_eq!(socket.close_code().await, 1001);
}

#[actix_rt::test]
async fn an_echo_socket_gets_1001_when_the_server_shuts_down() {
    let (_first, server, shutdown) = stoppable_app().await;
    let mut socket = WsClient::connect(&server, "/ws/test", WsAuth::None).await;
    socket.send_text("still there?").await;
    assert!(matches!(
        socket.next_frame().await,
        Some(awc::ws::Frame::Text(_))
    ));

    begin_shutdown(shutdown);

    assert_eq!(socket.close_code().await, 1001);
}

#[actix_rt::test]
async fn once_the_shutdown_has_begun_a_new_handshake_is_refused() {
    let (_first, server, shutdown) = stoppable_app().await;
    let alice = server.signup("alice").await;
    let mut socket = WsClient::ready(&server, &alice).await;
    begin_shutdown(shutdown);
    assert_eq!(socket.close_code().await, 1001);

    let late = WsClient::open(WsClient::request(&server, "/ws", &WsAuth::from(&alice))).await;

    assert!(
        late.is_err(),
        "a handshake after the shutdown began was switched"
    );
}
