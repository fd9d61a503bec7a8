//! Registration, login, the session cookie and `/api/auth/me`.

use awc::cookie::{Cookie, SameSite};
use serde_json::json;

use crate::support::{
    is_rfc3339_utc_millis, spawn_app, spawn_app_with, Auth, PASSWORD, SESSION_COOKIE,
};

#[actix_rt::test]
async fn login_returns_200_with_the_user_and_a_working_token() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;

    let response = app.login("alice", PASSWORD).await;

    response.assert_status(200);
    let body = response.json();
    assert_eq!(body["user"]["id"], alice.id);
    assert_eq!(body["user"]["username"], "alice");
    assert!(is_rfc3339_utc_millis(&body["expires_at"]), "{body}");
    let token = body["token"].as_str().expect("token").to_string();
    app.me(Auth::Bearer(token)).await.assert_status(200);
}

#[actix_rt::test]
async fn login_sets_an_http_only_same_site_lax_session_cookie() {
    let app = spawn_app().await;
    app.signup("alice").await;

    let response = app.login("alice", PASSWORD).await;

    response.assert_status(200);
    let cookie = response
        .cookie(SESSION_COOKIE)
        .expect("palaver_session is set");
    assert!(!cookie.value().is_empty());
    assert_eq!(cookie.http_only(), Some(true));
    assert_eq!(cookie.same_site(), Some(SameSite::Lax));
    assert_eq!(cookie.path(), Some("/"));
}

#[actix_rt::test]
async fn the_session_cookie_is_not_secure_when_the_public_url_is_http() {
    let app = spawn_app_with(&[("PUBLIC_URL", "http://chat.example")]).await;
    app.signup("alice").await;

    let response = app.login("alice", PASSWORD).await;

    let cookie = response
        .cookie(SESSION_COOKIE)
        .expect("palaver_session is set");
    assert_ne!(cookie.secure(), Some(true));
}

#[actix_rt::test]
async fn the_session_cookie_is_secure_when_the_public_url_is_https() {
    let app = spawn_app_with(&[("PUBLIC_URL", "https://chat.example")]).await;
    app.signup("alice").await;

    let response = app.login("alice", PASSWORD).await;

    let cookie = response
        .cookie(SESSION_COOKIE)
        .expect("palaver_session is set");
    assert_eq!(cookie.secure(), Some(true));
}

#[actix_rt::test]
async fn login_with_a_wrong_password_is_401() {
    let app = spawn_app().await;
    app.signup("alice").await;

    let response = app.login("alice", "not the password").await;

    response.assert_error(401, "unauthorized");
    assert!(
        response.cookie(SESSION_COOKIE).is_none(),
        "no session for a failed login"
    );
}

#[actix_rt::test]
async fn login_of_an_unknown_user_and_with_a_wrong_password_answer_alike() {
    let app = spawn_app().await;
    app.signup("alice").await;

    let wrong_password = app.login("alice", "not the password").await;
    let unknown_user = app.login("nobody", "not the password").await;

    wrong_password.assert_error(401, "unauthorized");
    unknown_user.assert_error(401, "unauthorized");
    assert_eq!(wrong_password.json(), unknown_user.json());
    assert_eq!(
        wrong_password.header("www-authenticate"),
        unknown_user.header("www-authenticate")
    );
}

#[actix_rt::test]
async fn login_ignores_the_case_of_the_username() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;

    let response = app.login("ALICE", PASSWORD).await;

    response.assert_status(200);
    assert_eq!(response.json()["user"]["id"], alice.id);
}

#[actix_rt::test]
async fn login_sets_a_cookie_for_the_new_login_even_when_one_was_sent() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let alices_cookie = app.login_cookie(&alice).await;

    let request = app.request(
        awc::http::Method::POST,
        "/api/auth/login",
        &Auth::Cookie(alices_cookie),
    );
    let response = app
        .send_json(request, &json!({"username": "bob", "password": PASSWORD}))
        .await;

    response.assert_status(200);
    let me = app.me(Auth::Cookie(response.session_cookie())).await;
    assert_eq!(me.json()["user"]["id"], bob.id);
}

#[actix_rt::test]
async fn login_renews_the_session_so_ending_the_old_login_leaves_the_new_one() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    let old = app.login_cookie(&alice).await;
    let request = app.request(
        awc::http::Method::POST,
        "/api/auth/login",
        &Auth::Cookie(old.clone()),
    );
    let renewed = app
        .send_json(request, &json!({"username": "alice", "password": PASSWORD}))
        .await
        .session_cookie();

    app.logout(Auth::Cookie(old.clone()))
        .await
        .assert_status(204);

    app.me(Auth::Cookie(old)).await.assert_status(401);
    app.me(Auth::Cookie(renewed)).await.assert_status(200);
}

#[actix_rt::test]
async fn login_with_a_body_that_is_not_json_is_415() {
    let app = spawn_app().await;
    app.signup("alice").await;

    let request = app.request(awc::http::Method::POST, "/api/auth/login", &Auth::None);
    let response = app
        .send_raw(
            request,
            Some("application/x-www-form-urlencoded"),
            format!("username=alice&password={PASSWORD}"),
        )
        .await;

    response.assert_error(415, "unsupported_media_type");
}

#[actix_rt::test]
async fn login_with_a_missing_field_is_400() {
    let app = spawn_app().await;

    let response = app
        .post_json("/api/auth/login", Auth::None, &json!({"username": "alice"}))
        .await;

    response.assert_bad_request_naming("password");
}

#[actix_rt::test]
async fn login_attempts_past_the_limit_are_429_with_retry_after() {
    let app = spawn_app_with(&[("LOGIN_ATTEMPTS_PER_MIN", "3")]).await;
    app.signup("alice").await;
    for _ in 0..3 {
        app.login("alice", "not the password")
            .await
            .assert_status(401);
    }

    // Even the right password is refused once the limit is reached.
    let response = app.login("alice", PASSWORD).await;

    response.assert_error(429, "rate_limited");
    let retry_after: u64 = response
        .header("retry-after")
        .expect("Retry-After is set")
        .parse()
        .expect("Retry-After is whole seconds");
    assert!((1..=60).contains(&retry_after), "Retry-After {retry_after}");
}

#[actix_rt::test]
async fn the_login_limit_counts_a_username_in_any_case() {
    let app = spawn_app_with(&[("LOGIN_ATTEMPTS_PER_MIN", "3")]).await;
    app.signup("alice").await;
    for name in ["alice", "Alice", "ALICE"] {
        app.login(name, "not the password").await.assert_status(401);
    }

    let response = app.login("aLiCe", PASSWORD).await;

    response.assert_error(429, "rate_limited");
}

#[actix_rt::test]
async fn the_login_limit_of_one_username_leaves_others_alone() {
    let app = spawn_app_with(&[("LOGIN_ATTEMPTS_PER_MIN", "3")]).await;
    app.signup("alice").await;
    app.signup("bob").await;
    for _ in 0..3 {
        app.login("alice", "not the password")
            .await
            .assert_status(401);
    }

    let response = app.login("bob", PASSWORD).await;

    response.assert_status(200);
}

#[actix_rt::test]
async fn me_answers_the_caller_with_a_bearer_token() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;

    let response = app.me(&alice).await;

    response.assert_status(200);
    assert_eq!(
        response.json(),
        json!({"user": {"id": alice.id, "username": "alice", "display_name": "alice"}})
    );
}

#[actix_rt::test]
async fn me_answers_the_caller_with_the_session_cookie_alone() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    let cookie = app.login_cookie(&alice).await;

    let response = app.me(Auth::Cookie(cookie)).await;

    response.assert_status(200);
    assert_eq!(response.json()["user"]["id"], alice.id);
}

#[actix_rt::test]
async fn me_without_credentials_is_401_with_www_authenticate_bearer() {
    let app = spawn_app().await;

    let response = app.me(Auth::None).await;

    response.assert_error(401, "unauthorized");
    assert_eq!(response.header("www-authenticate"), Some("Bearer"));
}

#[actix_rt::test]
async fn me_with_a_malformed_authorization_header_is_401() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    for value in [
        "Bearer",
        "Basic YWxpY2U6cHc=",
        alice.token.clone().as_str(),
        "Bearer not.a.jwt",
    ] {
        let response = app.me(Auth::Header(value.to_string())).await;

        response.assert_error(401, "unauthorized");
        assert_eq!(response.header("www-authenticate"), Some("Bearer"));
    }
}

#[actix_rt::test]
async fn a_garbage_session_cookie_is_401_not_anonymous() {
    let app = spawn_app().await;

    let response = app
        .me(Auth::Cookie(Cookie::new(SESSION_COOKIE, "garbage")))
        .await;

    response.assert_error(401, "unauthorized");
}

#[actix_rt::test]
async fn a_session_cookie_of_another_server_is_401() {
    // Another instance with its own secret, hence its own cookie key.
    let other = spawn_app().await;
    let stranger = other.signup("alice").await;
    let foreign_cookie = other.login_cookie(&stranger).await;
    let app = spawn_app().await;
    app.signup("alice").await;

    let response = app.me(Auth::Cookie(foreign_cookie)).await;

    response.assert_error(401, "unauthorized");
}

#[actix_rt::test]
async fn an_invalid_bearer_token_is_refused_even_beside_a_valid_cookie() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    let cookie = app.login_cookie(&alice).await;

    let request = app
        .request(
            awc::http::Method::GET,
            "/api/auth/me",
            &Auth::Cookie(cookie),
        )
        .bearer_auth("not.a.jwt");
    let response = app.send(request).await;

    response.assert_error(401, "unauthorized");
}

#[actix_rt::test]
async fn no_auth_answer_carries_the_password_or_its_hash() {
    let app = spawn_app().await;
    let registered = app
        .register(&json!({"username": "alice", "password": PASSWORD}))
        .await;
    let logged_in = app.login("alice", PASSWORD).await;
    let token = logged_in.json()["token"]
        .as_str()
        .expect("token")
        .to_string();
    let me = app.me(Auth::Bearer(token)).await;

    for response in [&registered, &logged_in, &me] {
        let text = response.text();
        assert!(!text.contains(PASSWORD), "{text}");
        assert!(!text.contains("argon2"), "{text}");
        assert!(!text.contains("password"), "{text}");
    }
}

#[actix_rt::test]
async fn a_username_past_the_limit_is_401_without_reaching_the_login_limiter() {
    let app = spawn_app_with(&[("LOGIN_ATTEMPTS_PER_MIN", "1")]).await;
    let huge = "a".repeat(60_000);

    let answers = [
        app.login(&huge, "whatever password").await,
        app.login(&huge, "whatever password").await,
        app.login(&huge, "whatever password").await,
    ];

    for answer in answers {
        answer.assert_error(401, "unauthorized");
    }
}
