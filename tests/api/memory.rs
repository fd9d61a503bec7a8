//! Memory stays bounded whatever a client sends: the real binary, as a process of its
//! own, is fed a 64 MiB frame by a socket that never authenticated and a ping flood by
//! one that never reads, while its resident memory is read from `/proc/PID/status`; a
//! witness socket keeps chatting throughout.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::support::{bearer, upgrade_request, ChildServer, RawResponse};

/// How much the server's resident memory may grow under one hostile socket.
const GROWTH_BOUND_KIB: u64 = 32 * 1024;

/// The server's resident memory, in KiB.
fn resident_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc is readable");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .expect("VmRSS is reported")
}

/// A masked client frame header announcing `length` bytes.
fn header(first: u8, length: u64) -> Vec<u8> {
    let mut out = vec![first, 0x80 | 127];
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(&[1, 2, 3, 4]);
    out
}

/// A masked, final frame with `payload`.
fn frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0x80 | opcode, 0x80 | payload.len() as u8];
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(payload);
    out
}

/// An upgraded socket to the child server at `port`.
fn socket(port: u16, path: &str, extra: &str) -> TcpStream {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .expect("a read timeout");
    stream
        .write_all(upgrade_request(path, extra).as_bytes())
        .expect("the handshake");
    let response = RawResponse::read(&mut stream);
    assert_eq!(response.status, 101, "{response:?}");
    stream
}

/// A witness that signs up, connects and gets an answer to a `ping` frame.
async fn witness_chats(server: &ChildServer, port: u16, name: &str) {
    let token = server.signup(name).await;
    let mut witness = socket(port, "/ws", &bearer(&token));
    witness
        .write_all(&frame(0x1, br#"{"type":"ping","ref":"w"}"#))
        .expect("a ping frame");
    let mut seen = Vec::new();
    let mut chunk = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains(r#""type":"pong""#) {
        let n = witness.read(&mut chunk).expect("the witness reads");
        assert!(n > 0, "the witness socket stays open");
        seen.extend_from_slice(&chunk[..n]);
    }
}

fn port_of(server: &ChildServer) -> u16 {
    server
        .address
        .rsplit(':')
        .next()
        .and_then(|port| port.parse().ok())
        .expect("a port in the address")
}

#[actix_rt::test]
async fn a_64_mib_frame_streamed_before_authentication_does_not_grow_the_server() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let server = ChildServer::start(dir.path(), &[]).await;
    let port = port_of(&server);
    let before = resident_kib(server.pid());
    let mut hostile = socket(port, "/ws", "");

    hostile
        .write_all(&header(0x81, 64 * 1024 * 1024))
        .expect("the header");
    let chunk = vec![b'x'; 1024 * 1024];
    let mut peak = before;
    for _ in 0..64 {
        if hostile.write_all(&chunk).is_err() {
            break; // Closed by the server, as it should be.
        }
        peak = peak.max(resident_kib(server.pid()));
    }
    witness_chats(&server, port, "witness").await;

    let grown = peak.saturating_sub(before);
    assert!(grown < GROWTH_BOUND_KIB, "resident memory grew {grown} KiB");
}

#[actix_rt::test]
async fn a_ping_flood_from_a_socket_that_never_reads_does_not_grow_the_server() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let server = ChildServer::start(
        dir.path(),
        &[("RATE_LIMIT_PER_SEC", "20"), ("RATE_LIMIT_BURST", "40")],
    )
    .await;
    let port = port_of(&server);
    let token = server.signup("flooder").await;
    let before = resident_kib(server.pid());
    let mut flooder = socket(port, "/ws", &bearer(&token));

    let pings: Vec<u8> = (0..200_000).flat_map(|_| frame(0x9, b"flood")).collect();
    let _ = flooder.write_all(&pings);
    let peak = resident_kib(server.pid()).max(before);
    witness_chats(&server, port, "witness").await;

    let grown = peak.saturating_sub(before);
    assert!(grown < GROWTH_BOUND_KIB, "resident memory grew {grown} KiB");
}
