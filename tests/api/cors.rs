//! Layer 4, CORS (a layer built and then never installed must not happen again): preflights
//! and cross-origin requests from allowed origins get their headers, others do not.

use awc::http::Method;

use crate::support::{assert_security_headers, spawn_app_with, Auth};

#[actix_rt::test]
async fn a_cors_preflight_from_an_allowed_origin_gets_its_headers_without_credentials() {
    let app = spawn_app_with(&[("ALLOWED_ORIGINS", "http://app.example")]).await;

    let request = app
        .request(Method::OPTIONS, "/api/messages", &Auth::None)
        .insert_header(("origin", "http://app.example"))
        .insert_header(("access-control-request-method", "POST"))
        .insert_header((
            "access-control-request-headers",
            "authorization, content-type",
        ));
    let response = app.send(request).await;

    assert!(
        response.status.is_success(),
        "{}: {}",
        response.status,
        response.text()
    );
    assert_eq!(
        response.header("access-control-allow-origin"),
        Some("http://app.example")
    );
    assert_eq!(
        response.header("access-control-allow-credentials"),
        Some("true")
    );
    let methods = response
        .header("access-control-allow-methods")
        .unwrap_or_default();
    assert!(methods.contains("POST"), "{methods:?}");
    let headers = response
        .header("access-control-allow-headers")
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(
        headers.contains("authorization") && headers.contains("content-type"),
        "{headers:?}"
    );
    assert_security_headers(&response);
}

#[actix_rt::test]
async fn a_cors_preflight_from_a_foreign_origin_gets_no_allow_origin() {
    let app = spawn_app_with(&[("ALLOWED_ORIGINS", "http://app.example")]).await;

    let request = app
        .request(Method::OPTIONS, "/api/messages", &Auth::None)
        .insert_header(("origin", "http://evil.example"))
        .insert_header(("access-control-request-method", "POST"));
    let response = app.send(request).await;

    assert!(
        response.header("access-control-allow-origin").is_none(),
        "{:?}",
        response.headers
    );
    assert!(response
        .header("access-control-allow-credentials")
        .is_none());
}

#[actix_rt::test]
async fn a_cross_origin_request_from_an_allowed_origin_gets_allow_origin_and_credentials() {
    let app = spawn_app_with(&[("ALLOWED_ORIGINS", "http://app.example")]).await;
    let alice = app.signup("alice").await;

    let request = app
        .request(Method::GET, "/api/auth/me", &(&alice).into())
        .insert_header(("origin", "http://app.example"));
    let response = app.send(request).await;

    response.assert_status(200);
    assert_eq!(
        response.header("access-control-allow-origin"),
        Some("http://app.example")
    );
    assert_eq!(
        response.header("access-control-allow-credentials"),
        Some("true")
    );
}

#[actix_rt::test]
async fn a_cross_origin_request_from_a_foreign_origin_gets_no_allow_origin() {
    let app = spawn_app_with(&[("ALLOWED_ORIGINS", "http://app.example")]).await;

    let request = app
        .request(Method::GET, "/health", &Auth::None)
        .insert_header(("origin", "http://evil.example"));
    let response = app.send(request).await;

    assert!(
        response.header("access-control-allow-origin").is_none(),
        "{:?}",
        response.headers
    );
}

#[actix_rt::test]
async fn the_public_urls_own_origin_is_allowed_for_cors() {
    let app = spawn_app_with(&[("PUBLIC_URL", "https://chat.example")]).await;

    let request = app
        .request(Method::OPTIONS, "/api/auth/me", &Auth::None)
        .insert_header(("origin", "https://chat.example"))
        .insert_header(("access-control-request-method", "GET"));
    let response = app.send(request).await;

    assert_eq!(
        response.header("access-control-allow-origin"),
        Some("https://chat.example")
    );
}
