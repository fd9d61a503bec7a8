//! The middleware chain observed from outside (docs/architecture.md): each layer leaves a mark
//! a client can see, on successes and on errors alike.

use awc::cookie::Cookie;
use awc::http::Method;
use serde_json::json;

use crate::support::{
    assert_json_content_type, assert_security_headers, one_answer_of_each_kind, spawn_app,
    spawn_app_with, upgrade_request_spelled, Auth, PASSWORD, SECURITY_HEADERS, SESSION_COOKIE,
};

#[actix_rt::test]
async fn every_answer_carries_the_security_headers_errors_included() {
    let app = spawn_app().await;

    let responses = one_answer_of_each_kind(&app).await;

    let statuses: Vec<u16> = responses.iter().map(|r| r.status.as_u16()).collect();
    assert_eq!(statuses, [200, 200, 404, 405, 401, 400, 415, 413, 404]);
    for response in &responses {
        assert_security_headers(response);
    }
}

#[actix_rt::test]
async fn every_error_answer_is_a_json_body_never_html() {
    let app = spawn_app().await;

    let responses = one_answer_of_each_kind(&app).await;

    for response in responses.iter().filter(|r| r.status.as_u16() >= 400) {
        assert_json_content_type(response);
        let body = response.json();
        assert!(
            body["error"]["code"].is_string() && body["error"]["message"].is_string(),
            "{body}"
        );
        assert!(
            !response.text().to_ascii_lowercase().contains("<html"),
            "{}",
            response.text()
        );
    }
}

#[actix_rt::test]
async fn every_answer_carries_an_x_request_id_errors_included() {
    let app = spawn_app().await;

    let responses = one_answer_of_each_kind(&app).await;

    let ids: Vec<&str> = responses
        .iter()
        .map(|r| {
            r.header("x-request-id")
                .unwrap_or_else(|| panic!("x-request-id on a {}", r.status))
        })
        .collect();
    let mut unique = ids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(
        unique.len(),
        ids.len(),
        "each request gets its own id: {ids:?}"
    );
    assert!(ids.iter().all(|id| !id.is_empty()));
}

#[actix_rt::test]
async fn a_well_formed_request_id_from_the_caller_is_kept() {
    let app = spawn_app().await;

    let request = app
        .request(Method::GET, "/health", &Auth::None)
        .insert_header(("x-request-id", "trace-42-abc"));
    let response = app.send(request).await;

    assert_eq!(response.header("x-request-id"), Some("trace-42-abc"));
}

#[actix_rt::test]
async fn strict_transport_security_is_absent_when_the_public_url_is_http() {
    let app = spawn_app_with(&[("PUBLIC_URL", "http://chat.example")]).await;

    let response = app.get("/health", Auth::None).await;

    assert!(response.header("strict-transport-security").is_none());
}

#[actix_rt::test]
async fn strict_transport_security_is_sent_when_the_public_url_is_https() {
    let app = spawn_app_with(&[("PUBLIC_URL", "https://chat.example")]).await;

    let ok = app.get("/health", Auth::None).await;
    let not_found = app.get("/nowhere", Auth::None).await;

    for response in [ok, not_found] {
        let hsts = response
            .header("strict-transport-security")
            .unwrap_or_default();
        assert!(
            hsts.contains("max-age="),
            "on a {}: {hsts:?}",
            response.status
        );
    }
}

#[actix_rt::test]
async fn an_unknown_route_is_a_json_404_whatever_the_credentials() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    let credentials = [
        Auth::None,
        (&alice).into(),
        Auth::Bearer("not.a.jwt".into()),
        Auth::Cookie(Cookie::new(SESSION_COOKIE, "garbage")),
    ];
    for auth in credentials {
        for path in ["/api/nope", "/api/conversations/1/nope", "/nope"] {
            let response = app.get(path, auth.clone()).await;

            response.assert_error(404, "not_found");
            assert!(
                response.header("www-authenticate").is_none(),
                "{path} with {auth:?}"
            );
        }
    }
}

#[actix_rt::test]
async fn a_wrong_method_on_a_known_path_is_405_with_allow_whatever_the_credentials() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    let credentials = [
        Auth::None,
        (&alice).into(),
        Auth::Bearer("not.a.jwt".into()),
    ];
    let cases = [
        (Method::DELETE, "/api/auth/me", vec!["GET"]),
        (Method::GET, "/api/auth/logout", vec!["POST"]),
        (
            Method::PATCH,
            "/api/messages/1",
            vec!["GET", "PUT", "DELETE"],
        ),
        (Method::PUT, "/api/conversations", vec!["GET", "POST"]),
        (Method::POST, "/health", vec!["GET"]),
    ];
    for auth in credentials {
        for (method, path, allowed) in &cases {
            let response = app.send(app.request(method.clone(), path, &auth)).await;

            response.assert_error(405, "method_not_allowed");
            let allow = response
                .header("allow")
                .unwrap_or_else(|| panic!("Allow on {method} {path}"));
            for m in allowed {
                assert!(
                    allow.contains(m),
                    "{method} {path}: Allow {allow:?} lacks {m}"
                );
            }
        }
    }
}

#[actix_rt::test]
async fn malformed_json_on_a_public_route_is_a_json_400() {
    let app = spawn_app().await;

    let request = app.request(Method::POST, "/api/auth/register", &Auth::None);
    let response = app
        .send_raw(request, Some("application/json"), "{\"username\": ")
        .await;

    response.assert_error(400, "bad_request");
}

#[actix_rt::test]
async fn a_missing_static_asset_is_a_json_404() {
    let app = spawn_app().await;

    for path in ["/static/no-such-file.js", "/static/"] {
        let response = app.get(path, Auth::None).await;

        response.assert_error(404, "not_found");
        assert_security_headers(&response);
    }
}

#[actix_rt::test]
async fn a_cookie_authenticated_request_reaches_the_handler_as_that_user() {
    // The auth context reads the session the session layer opened.
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    let cookie = app.login_cookie(&alice).await;
    let id = app.new_conversation(&alice, &[]).await;

    let response = app
        .post_message(
            Auth::Cookie(cookie),
            &json!({"conversation_id": id, "content": "via cookie"}),
        )
        .await;

    response.assert_status(201);
    assert_eq!(response.json()["message"]["sender_id"], alice.id);
}

#[actix_rt::test]
async fn a_garbage_session_cookie_on_a_protected_route_is_401() {
    let app = spawn_app().await;
    let garbage = Auth::Cookie(Cookie::new(SESSION_COOKIE, "bm90IGEgcmVhbCBjb29raWU="));

    for response in [
        app.list_conversations(garbage.clone()).await,
        app.refresh_token(garbage).await,
    ] {
        response.assert_error(401, "unauthorized");
        assert_eq!(response.header("www-authenticate"), Some("Bearer"));
    }
}

#[actix_rt::test]
async fn public_routes_serve_a_caller_whose_credential_is_invalid() {
    let app = spawn_app().await;
    let bad = Auth::Bearer("not.a.jwt".into());

    let register = app
        .post_json(
            "/api/auth/register",
            bad.clone(),
            &json!({"username": "alice", "password": PASSWORD}),
        )
        .await;
    let login = app
        .post_json(
            "/api/auth/login",
            bad.clone(),
            &json!({"username": "alice", "password": PASSWORD}),
        )
        .await;
    let health = app.get("/health", bad.clone()).await;
    let docs = app.get("/openapi.json", bad).await;

    register.assert_status(201);
    login.assert_status(200);
    health.assert_status(200);
    docs.assert_status(200);
}

#[actix_rt::test]
async fn a_garbage_session_cookie_on_a_public_route_is_served() {
    let app = spawn_app().await;

    let response = app
        .get(
            "/health",
            Auth::Cookie(Cookie::new(SESSION_COOKIE, "garbage")),
        )
        .await;

    response.assert_status(200);
}

#[actix_rt::test]
async fn an_upgrade_request_to_a_path_without_a_socket_is_a_normal_json_404_with_security_headers()
{
    let app = spawn_app().await;
    for (upgrade, connection) in [
        ("WebSocket", "keep-alive, Upgrade"),
        ("websocket", "upgrade"),
        ("WEBSOCKET", "UPGRADE"),
    ] {
        let response = app
            .raw_request(&upgrade_request_spelled(
                "/no/socket/here",
                upgrade,
                connection,
                "",
            ))
            .await;

        assert_eq!(
            response.status, 404,
            "{upgrade}/{connection}: {}",
            response.body
        );
        assert!(response
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/json")));
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&response.body).expect("JSON")["error"]
                ["code"],
            "not_found"
        );
        for (name, value) in SECURITY_HEADERS {
            assert_eq!(
                response.header(name),
                Some(value),
                "{name} for {upgrade}/{connection}"
            );
        }
        assert!(response.header("content-security-policy").is_some());
    }
}

#[actix_rt::test]
async fn an_upgrade_request_to_a_protected_http_route_still_meets_the_auth_gate() {
    let app = spawn_app().await;

    let response = app
        .raw_request(&upgrade_request_spelled(
            "/api/auth/me",
            "WebSocket",
            "keep-alive, Upgrade",
            "",
        ))
        .await;

    assert_eq!(response.status, 401, "{}", response.body);
    assert_eq!(response.header("www-authenticate"), Some("Bearer"));
    assert_eq!(response.header("x-frame-options"), Some("DENY"));
}
