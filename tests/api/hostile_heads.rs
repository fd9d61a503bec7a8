//! Request heads too big for the server. actix-http refuses a head over its 128 KiB buffer,
//! or with more than 96 headers, with a `431` of its own before any service sees the
//! request, and offers no hook to shape that answer: these tests pin what is answered
//! then (a bare 431, no JSON body, no security headers), that the server goes on serving,
//! and that a large head it can take still gets the JSON error and the security headers.

use std::io::Write;
use std::time::Duration;

use crate::support::{spawn_app, RawResponse, TestApp, SECURITY_HEADERS};

/// Sends `head` on a fresh connection from a thread of its own (the server may stop
/// reading, and close, long before the last byte) and reads the answer.
async fn send_hostile_head(app: &TestApp, head: String) -> RawResponse {
    let port = app.port;
    actix_rt::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("set a read timeout");
        let mut writer = stream.try_clone().expect("a second handle on the socket");
        let writing = std::thread::spawn(move || {
            // The server closes once it has refused the head: a broken pipe here is expected.
            let _ = writer.write_all(head.as_bytes());
        });
        let response = RawResponse::read(&mut stream);
        drop(stream);
        writing.join().expect("the writer finishes");
        response
    })
    .await
    .expect("the exchange finishes")
}

/// A `GET path` head with `headers` (name, value) pairs.
fn head_with(path: &str, headers: &[(String, String)]) -> String {
    let mut head = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    head
}

#[track_caller]
fn assert_bare_431(response: &RawResponse) {
    assert_eq!(response.status, 431, "{response:?}");
    assert_eq!(response.body, "", "actix-http's own 431 has no body");
    for (name, _) in SECURITY_HEADERS {
        assert!(
            response.header(name).is_none(),
            "actix-http's own 431 carries no {name}"
        );
    }
}

#[actix_rt::test]
async fn a_one_mebibyte_header_gets_actix_http_s_bare_431_and_the_server_goes_on() {
    // Arrange
    let app = spawn_app().await;
    let huge = vec![("X-Padding".to_string(), "a".repeat(1024 * 1024))];

    // Act
    let response = send_hostile_head(&app, head_with("/api/auth/me", &huge)).await;

    // Assert
    assert_bare_431(&response);
    let live = app.raw_request(&head_with("/health/live", &[])).await;
    assert_eq!(live.status, 200, "{live:?}");
}

#[actix_rt::test]
async fn two_hundred_headers_get_actix_http_s_bare_431() {
    // Arrange
    let app = spawn_app().await;
    let many: Vec<(String, String)> = (0..200)
        .map(|i| (format!("X-Header-{i}"), "v".to_string()))
        .collect();

    // Act
    let response = send_hostile_head(&app, head_with("/api/auth/me", &many)).await;

    // Assert
    assert_bare_431(&response);
}

#[actix_rt::test]
async fn a_large_head_the_server_takes_gets_the_json_error_and_the_security_headers() {
    // Arrange: 90 headers and one of 64 KiB, inside actix-http's bounds.
    let app = spawn_app().await;
    let mut headers: Vec<(String, String)> = (0..90)
        .map(|i| (format!("X-Header-{i}"), "v".to_string()))
        .collect();
    headers.push(("X-Padding".to_string(), "a".repeat(64 * 1024)));

    // Act
    let response = send_hostile_head(&app, head_with("/api/auth/me", &headers)).await;

    // Assert
    assert_eq!(response.status, 401, "{response:?}");
    assert!(
        response
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/json")),
        "{response:?}"
    );
    let body: serde_json::Value = serde_json::from_str(&response.body).expect("a JSON body");
    assert_eq!(body["error"]["code"], "unauthorized", "{body}");
    for (name, value) in SECURITY_HEADERS {
        assert_eq!(response.header(name), Some(value), "{name}");
    }
}
