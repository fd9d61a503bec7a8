//! Close codes for frames the server will not take (docs/protocol.md): 1000 answers
//! a client's close, 1003 a binary frame, 1007 text that is not UTF-8, 1009 a frame over
//! `MAX_FRAME_BYTES`, or over 4 KiB before authentication and on `/ws/test`.

use awc::ws::Message;

use crate::support::{
    bearer, ping_of_length, spawn_app, spawn_app_with, upgrade_request, RawSocket, TestUser,
    WsAuth, WsClient,
};

#[actix_rt::test]
async fn a_client_close_is_answered_with_close_1000() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    let mut socket = WsClient::ready(&app, &alice).await;

    socket.close(1000).await;

    assert_eq!(socket.close_code().await, 1000);
}

#[actix_rt::test]
async fn a_binary_frame_closes_1003() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    let mut socket = WsClient::ready(&app, &alice).await;

    socket
        .send(Message::Binary(actix_web::web::Bytes::from_static(
            b"{\"type\":\"ping\"}",
        )))
        .await;

    assert_eq!(socket.close_code().await, 1003);
}

#[actix_rt::test]
async fn a_text_frame_that_is_not_utf8_closes_1007() {
    let app = spawn_app().await;
    let alice: TestUser = app.signup("alice").await;
    let head = upgrade_request("/ws", &bearer(&alice.token));
    let mut socket = RawSocket::connect(&app, &head, None).await;
    let ready = socket.read_frame().await;
    assert_eq!(ready.opcode, 0x1, "ready comes first");

    socket
        .send_frame(0x1, b"{\"type\":\"ping\",\"ref\":\"\xff\xfe\"}")
        .await;

    let (code, before) = socket.close_code_after().await;
    assert_eq!(code, 1007, "frames before the close: {before:?}");
}

#[actix_rt::test]
async fn a_fragmented_text_message_that_is_not_utf8_closes_1007() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    let mut socket = WsClient::ready(&app, &alice).await;

    socket
        .send_fragmented_text(b"{\"type\":\"ping\",\"ref\":\"\xc3", b"\x28\"}")
        .await;

    assert_eq!(socket.close_code().await, 1007);
}

#[actix_rt::test]
async fn a_frame_over_max_frame_bytes_closes_1009() {
    let app = spawn_app_with(&[("MAX_FRAME_BYTES", "1024")]).await;
    let alice = app.signup("alice").await;
    let mut socket = WsClient::ready(&app, &alice).await;

    socket.send_text(ping_of_length(1025)).await;

    assert_eq!(socket.close_code().await, 1009);
}

#[actix_rt::test]
async fn a_frame_of_exactly_max_frame_bytes_is_read() {
    let app = spawn_app_with(&[("MAX_FRAME_BYTES", "1024")]).await;
    let alice = app.signup("alice").await;
    let mut socket = WsClient::ready(&app, &alice).await;

    socket.send_text(ping_of_length(1024)).await;

    assert_eq!(socket.recv().await["type"], "pong");
}

#[actix_rt::test]
async fn before_authentication_a_frame_over_4_kib_closes_1009() {
    let app = spawn_app().await;
    let mut socket = WsClient::connect(&app, "/ws", WsAuth::None).await;

    socket.send_text(ping_of_length(4097)).await;

    assert_eq!(socket.close_code().await, 1009);
}

#[actix_rt::test]
async fn before_authentication_a_frame_of_4_kib_is_read() {
    let app = spawn_app().await;
    let mut socket = WsClient::connect(&app, "/ws", WsAuth::None).await;

    socket.send_text(ping_of_length(4096)).await;

    assert_eq!(socket.recv().await["type"], "pong");
}

#[actix_rt::test]
async fn after_authentication_a_frame_over_4_kib_is_read() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    let mut socket = WsClient::ready(&app, &alice).await;

    socket.send_text(ping_of_length(8000)).await;

    assert_eq!(socket.recv().await["type"], "pong");
}

#[actix_rt::test]
async fn on_ws_test_a_frame_over_4_kib_closes_1009() {
    let app = spawn_app().await;
    let mut socket = WsClient::connect(&app, "/ws/test", WsAuth::None).await;

    socket.send_text("e".repeat(4097)).await;

    assert_eq!(socket.close_code().await, 1009);
}
