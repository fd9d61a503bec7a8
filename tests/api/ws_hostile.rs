//! Frames a hostile client sends to make the server hold memory or misread the stream:
//! a frame header announcing more than the limit is refused before its body arrives
//! (1009), fragments count together, frames RFC 6455 forbids close 1002, and a ping flood
//! from a socket that never reads is answered by at most one pong at a time and closed
//! 4029, while other sockets keep chatting.

use crate::support::{
    bearer, spawn_app, spawn_app_with, upgrade_request, RawSocket, TestApp, TestUser,
};

/// An authenticated raw socket, past its `ready`.
async fn ready_raw_socket(app: &TestApp, user: &TestUser) -> RawSocket {
    let head = upgrade_request("/ws", &bearer(&user.token));
    let mut socket = RawSocket::connect(app, &head, None).await;
    let ready = socket.read_frame().await;
    assert_eq!(ready.opcode, 0x1, "ready comes first");
    socket
}

#[actix_rt::test]
async fn a_header_announcing_a_huge_frame_before_authentication_closes_1009_without_its_body() {
    let app = spawn_app().await;
    let mut socket = RawSocket::connect(&app, &upgrade_request("/ws", ""), None).await;

    socket.send_header(0x81, i64::MAX as u64).await;

    let (code, before) = socket.close_code_after().await;
    assert_eq!(code, 1009, "frames before the close: {before:?}");
}

#[actix_rt::test]
async fn a_header_announcing_more_than_4_kib_on_the_echo_socket_closes_1009_without_its_body() {
    let app = spawn_app().await;
    let mut socket = RawSocket::connect(&app, &upgrade_request("/ws/test", ""), None).await;

    socket.send_header(0x82, 64 * 1024 * 1024).await;

    let (code, _) = socket.close_code_after().await;
    assert_eq!(code, 1009);
}

#[actix_rt::test]
async fn after_authentication_the_limit_is_max_frame_bytes_and_a_header_past_it_closes_1009() {
    let app = spawn_app_with(&[("MAX_FRAME_BYTES", "8192")]).await;
    let alice = app.signup("alice").await;
    let mut socket = ready_raw_socket(&app, &alice).await;
    let ping = format!(r#"{{"type":"ping","ref":"{}"}}"#, "x".repeat(6000));

    socket.send_frame(0x1, ping.as_bytes()).await;
    let pong = socket.read_frame().await;
    socket.send_header(0x81, 8193).await;

    assert_eq!(pong.opcode, 0x1, "a 6 KB frame passes once authenticated");
    let (code, _) = socket.close_code_after().await;
    assert_eq!(code, 1009);
}

#[actix_rt::test]
async fn fragments_that_add_up_to_more_than_max_frame_bytes_close_1009() {
    let app = spawn_app_with(&[("MAX_FRAME_BYTES", "1024")]).await;
    let alice = app.signup("alice").await;
    let mut socket = ready_raw_socket(&app, &alice).await;

    socket.send_frame_with(0x01, &[b' '; 600]).await;
    socket.send_frame_with(0x00, &[b' '; 600]).await;

    let (code, _) = socket.close_code_after().await;
    assert_eq!(code, 1009);
}

#[actix_rt::test]
async fn fragments_within_max_frame_bytes_make_one_message() {
    let app = spawn_app_with(&[("MAX_FRAME_BYTES", "1024")]).await;
    let alice = app.signup("alice").await;
    let mut socket = ready_raw_socket(&app, &alice).await;

    socket.send_frame_with(0x01, br#"{"type":"ping","#).await;
    socket.send_frame_with(0x80, br#""ref":"joined"}"#).await;

    let pong = socket.read_frame().await;
    let pong: serde_json::Value = serde_json::from_slice(&pong.payload).expect("JSON");
    assert_eq!(pong["type"], "pong");
    assert_eq!(pong["ref"], "joined");
}

#[actix_rt::test]
async fn frames_rfc_6455_forbids_close_1002() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    let cases: [(&str, u8, &[u8]); 5] = [
        ("a reserved bit set", 0xC1, br#"{"type":"ping"}"#),
        ("an unknown opcode", 0x83, b"x"),
        ("a continuation without a start", 0x80, b"x"),
        ("a fragmented ping", 0x09, b"x"),
        ("a ping over 125 bytes", 0x89, &[b'x'; 126]),
    ];
    for (what, first, payload) in cases {
        let mut socket = ready_raw_socket(&app, &alice).await;

        socket.send_frame_with(first, payload).await;

        let (code, before) = socket.close_code_after().await;
        assert_eq!(code, 1002, "{what}: frames before the close: {before:?}");
    }
}

#[actix_rt::test]
async fn a_ping_flood_from_a_socket_that_never_reads_gets_one_pong_at_a_time_and_closes_4029() {
    let app = spawn_app_with(&[("RATE_LIMIT_PER_SEC", "1"), ("RATE_LIMIT_BURST", "2")]).await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let mut flooder = ready_raw_socket(&app, &alice).await;
    let mut witness = ready_raw_socket(&app, &bob).await;

    for _ in 0..2000 {
        flooder.send_frame(0x9, b"flood").await;
    }
    let mut pongs = 0;
    let code = loop {
        let frame = flooder.read_frame().await;
        match frame.opcode {
            0xA => pongs += 1,
            0x8 => break frame.close_code(),
            _ => {}
        }
    };
    witness
        .send_frame(0x1, br#"{"type":"ping","ref":"still here"}"#)
        .await;
    let answer = witness.read_frame().await;

    assert_eq!(code, Some(4029));
    assert!(pongs <= 2, "{pongs} pongs for a bucket of 2");
    let answer: serde_json::Value = serde_json::from_slice(&answer.payload).expect("JSON");
    assert_eq!(answer["ref"], "still here");
}
