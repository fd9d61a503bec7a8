//! A graceful shutdown (PROTOCOL.md, Close codes; CONFIG.md, `SHUTDOWN_TIMEOUT_SECS`):
//! every open socket gets 1001 so its client reconnects elsewhere, and no new handshake is
//! accepted once the shutdown has begun.

use crate::helpers::{spawn_app_with, TestApp};
use crate::ws_client::{WsAuth, WsClient};

/// Starts stopping `server` the way SIGTERM does, without waiting for it to finish.
fn begin_shutdown(shutdown: palaver::startup::ShutdownHandle) {
    actix_rt::spawn(async move { shutdown.shutdown().await });
}

/// A server to stop, beside the one whose database and secrets it shares; sockets left
/// open are cut after two seconds rather than the default ten.
async fn stoppable() -> (TestApp, TestApp, palaver::startup::ShutdownHandle) {
    let first = spawn_app_with(&[("SHUTDOWN_TIMEOUT_SECS", "2")]).await;
    let (server, shutdown) = first.stoppable_instance().await;
    (first, server, shutdown)
}

#[actix_rt::test]
async fn an_open_socket_gets_1001_when_the_server_shuts_down() {
    let (_first, server, shutdown) = stoppable().await;
    let alice = server.signup("alice").await;
    let mut socket = WsClient::ready(&server, &alice).await;

    begin_shutdown(shutdown);

    assert_eq!(socket.close_code().await, 1001);
}

#[actix_rt::test]
async fn a_bound_socket_gets_1001_when_the_server_shuts_down() {
    let (_first, server, shutdown) = stoppable().await;
    let alice = server.signup("alice").await;
    let id = server.new_conversation(&alice, &[]).await;
    let mut socket = WsClient::connect(&server, &format!("/ws/conversations/{id}"), &alice).await;
    socket.expect_type("ready").await;

    begin_shutdown(shutdown);

    assert_eq!(socket.close_code().await, 1001);
}

#[actix_rt::test]
async fn an_unauthenticated_socket_gets_1001_when_the_server_shuts_down() {
    let (_first, server, shutdown) = stoppable().await;
    let mut socket = WsClient::connect(&server, "/ws", WsAuth::None).await;
    assert!(socket.round_trip().await.is_empty());

    begin_shutdown(shutdown);

    assert_eq!(socket.close_code().await, 1001);
}

#[actix_rt::test]
async fn an_echo_socket_gets_1001_when_the_server_shuts_down() {
    let (_first, server, shutdown) = stoppable().await;
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
    let (_first, server, shutdown) = stoppable().await;
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
