//! A server started under a low open-file limit caps its sockets below it: the handshake
//! past the cap is refused with 503 while plain HTTP, `/health/live` among it, is still
//! accepted and answered.

use std::time::{Duration, Instant};

use crate::support::{assert_handshake_refused, json_body, upgrade_request, ServerProcess};

/// The open-file limit the server is started under.
const OPEN_FILES: u64 = 256;
/// What `ConnectionBudget` leaves for sockets under [`OPEN_FILES`] with a pool of 10:
/// 256 - (10 + 64) = 182 accepted at once, less 18 kept for plain HTTP.
const EXPECTED_CAP: usize = 164;

#[test]
fn sockets_past_the_open_file_cap_get_503_while_http_is_still_served() {
    // Arrange
    let server = ServerProcess::start_with_open_files(
        &[
            ("DATABASE_POOL_SIZE", "10"),
            ("FIRST_MESSAGE_TIMEOUT_SECS", "600"),
            ("HEARTBEAT_INTERVAL_SECS", "300"),
            ("CLIENT_TIMEOUT_SECS", "600"),
        ],
        OPEN_FILES,
    );
    let logged_cap = server
        .log()
        .lines()
        .find_map(|line| {
            line.split("effective MAX_CONNECTIONS=")
                .nth(1)?
                .split_whitespace()
                .next()?
                .parse::<usize>()
                .ok()
        })
        .unwrap_or_else(|| panic!("the effective cap is logged:\n{}", server.log()));
    assert_eq!(logged_cap, EXPECTED_CAP, "{}", server.log());
    assert!(
        server
            .log()
            .contains(&format!("open-file limit {OPEN_FILES}")),
        "the log names the limit:\n{}",
        server.log()
    );

    // Act: open sockets until a handshake is refused.
    let mut sockets = Vec::new();
    let refusal = loop {
        let (stream, answer) = server.exchange(&upgrade_request("/ws", ""));
        if answer.status != 101 {
            break answer;
        }
        sockets.push(stream);
        assert!(
            sockets.len() <= EXPECTED_CAP,
            "more sockets than the cap were accepted"
        );
    };

    // Assert
    assert_eq!(sockets.len(), EXPECTED_CAP);
    assert_handshake_refused(&refusal, 503, "unavailable");
    let live = server.get("/health/live", "");
    assert_eq!(live.status, 200, "{live:?}");
    let health = server.get("/ws/health", "");
    assert_eq!(health.status, 200, "{health:?}");
    assert_eq!(
        json_body(&health)["connections"].as_u64(),
        Some(EXPECTED_CAP as u64)
    );
    let log = server.stop();
    assert!(
        !log.contains("Too many open files"),
        "accepting never ran into EMFILE:\n{log}"
    );
}

#[test]
fn a_socket_slot_comes_back_when_a_socket_closes_at_the_cap() {
    // Arrange: a server whose configured cap is already below the open-file one.
    let server = ServerProcess::start_with_open_files(
        &[
            ("MAX_CONNECTIONS", "3"),
            ("FIRST_MESSAGE_TIMEOUT_SECS", "600"),
        ],
        OPEN_FILES,
    );
    assert!(
        server.log().contains("effective MAX_CONNECTIONS=3 "),
        "{}",
        server.log()
    );
    let mut sockets: Vec<_> = (0..3)
        .map(|_| {
            let (stream, answer) = server.exchange(&upgrade_request("/ws", ""));
            assert_eq!(answer.status, 101, "{answer:?}");
            stream
        })
        .collect();
    let (_, refused) = server.exchange(&upgrade_request("/ws", ""));
    assert_handshake_refused(&refused, 503, "unavailable");

    // Act
    drop(sockets.pop());

    // Assert: the server sees the close in its own time; poll until the slot is free.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (stream, answer) = server.exchange(&upgrade_request("/ws", ""));
        if answer.status == 101 {
            sockets.push(stream);
            break;
        }
        assert_eq!(answer.status, 503, "{answer:?}");
        assert!(Instant::now() < deadline, "the slot came back within 15 s");
        std::thread::sleep(Duration::from_millis(10));
    }
}
