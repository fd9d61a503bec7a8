//! No secret reaches the log: the real binary runs with `RUST_LOG=trace`, every credential
//! is used the ways a client may use it, and the whole of stderr is searched for each
//! token, password and cookie value afterwards.

use serde_json::json;

use crate::support::{
    bearer, json_body, set_cookie_value, upgrade_request, ServerProcess, SESSION_COOKIE,
};

const PASSWORD: &str = "correct-horse-battery-staple";
const WRONG_PASSWORD: &str = "wrong-horse-battery-staple";

#[test]
fn no_token_password_or_cookie_reaches_a_trace_log() {
    // Arrange
    let server = ServerProcess::start(&[("RUST_LOG", "trace"), ("WS_QUERY_TOKEN", "true")]);
    let mut secrets = vec![
        PASSWORD.to_string(),
        WRONG_PASSWORD.to_string(),
        server.jwt_secret.clone(),
    ];

    // Act: register, log in (once wrongly), use the tokens and the cookie, log out.
    let registered = server.post_json(
        "/api/auth/register",
        "",
        &json!({"username": "alice", "password": PASSWORD}),
    );
    assert_eq!(registered.status, 201, "{registered:?}");
    let first_token = json_body(&registered)["token"]
        .as_str()
        .expect("token")
        .to_string();
    secrets.extend(set_cookie_value(&registered, SESSION_COOKIE));

    let refused = server.post_json(
        "/api/auth/login",
        "",
        &json!({"username": "alice", "password": WRONG_PASSWORD}),
    );
    assert_eq!(refused.status, 401, "{refused:?}");

    let login = server.post_json(
        "/api/auth/login",
        "",
        &json!({"username": "alice", "password": PASSWORD}),
    );
    assert_eq!(login.status, 200, "{login:?}");
    let token = json_body(&login)["token"]
        .as_str()
        .expect("token")
        .to_string();
    let cookie = set_cookie_value(&login, SESSION_COOKIE).expect("the login sets the cookie");
    secrets.extend([first_token.clone(), token.clone(), cookie.clone()]);

    let me = server.get("/api/auth/me", &bearer(&first_token));
    assert_eq!(me.status, 200, "{me:?}");

    let refreshed = server.post_json("/api/auth/token", &bearer(&token), &json!({}));
    assert_eq!(refreshed.status, 200, "{refreshed:?}");
    let fresh_token = json_body(&refreshed)["token"]
        .as_str()
        .expect("token")
        .to_string();
    secrets.push(fresh_token.clone());

    // Spellings the server decodes as `token`, and ones a proxy might.
    let accepted = [
        format!("/ws?token={token}"),
        format!("/ws?%74oken={token}"),
        format!("/ws?tok%65n={fresh_token}"),
        format!("/ws?x=1&token={first_token}"),
    ];
    for path in &accepted {
        let (_socket, answer) = server.exchange(&upgrade_request(path, ""));
        assert_eq!(answer.status, 101, "{path} authenticates: {answer:?}");
    }
    let passed_over = [
        format!("/ws?x=1;token={token}"),
        format!("/ws?TOKEN={token}"),
    ];
    for path in &passed_over {
        let (_socket, answer) = server.exchange(&upgrade_request(path, ""));
        assert_eq!(answer.status, 101, "{path} opens a socket: {answer:?}");
    }
    let (_socket, by_header) = server.exchange(&upgrade_request("/ws", &bearer(&token)));
    assert_eq!(by_header.status, 101, "{by_header:?}");
    let cookie_line = format!("Cookie: {SESSION_COOKIE}={cookie}\r\n");
    let (_socket, by_cookie) = server.exchange(&upgrade_request("/ws", &cookie_line));
    assert_eq!(by_cookie.status, 101, "{by_cookie:?}");

    let me = server.get("/api/auth/me", &cookie_line);
    assert_eq!(me.status, 200, "{me:?}");
    let logout = server.post_json("/api/auth/logout", &cookie_line, &json!({}));
    assert_eq!(logout.status, 204, "{logout:?}");
    secrets.extend(set_cookie_value(&logout, SESSION_COOKIE).filter(|v| !v.is_empty()));
    let after = server.get("/api/auth/me", &cookie_line);
    assert_eq!(after.status, 401, "{after:?}");
    let log = server.stop();

    // Assert: no secret is in the log, whole or its signature, and the run was logged
    // at trace, so the search had something to search.
    for secret in &secrets {
        assert!(
            !log.contains(secret.as_str()),
            "{secret} is in the log:\n{log}"
        );
        if let Some((_, signature)) = secret.rsplit_once('.') {
            assert!(
                signature.len() < 16 || !log.contains(signature),
                "the signature of {secret} is in the log:\n{log}"
            );
        }
    }
    assert!(
        log.contains("POST /api/auth/login 200") && log.contains("/ws?%74oken=[redacted]"),
        "the requests were logged:\n{log}"
    );
    assert!(log.contains("TRACE"), "trace logging was on:\n{log}");
}
