//! `POST /api/auth/register`: who may register, with what, and what comes back.

use serde_json::json;

use crate::support::{is_rfc3339_utc_millis, spawn_app, PASSWORD};

#[actix_rt::test]
async fn register_returns_201_with_the_user_a_token_and_its_expiry() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app
        .register(&json!({"username": "alice", "password": PASSWORD, "display_name": "Alice A."}))
        .await;

    // Assert
    response.assert_status(201);
    let body = response.json();
    assert!(body["user"]["id"].is_i64(), "{body}");
    assert_eq!(body["user"]["username"], "alice");
    assert_eq!(body["user"]["display_name"], "Alice A.");
    assert_eq!(
        body["user"].as_object().map(|u| u.len()),
        Some(3),
        "user is exactly id, username, display_name"
    );
    assert!(
        body["token"]
            .as_str()
            .is_some_and(|t| t.split('.').count() == 3),
        "{body}"
    );
    assert!(is_rfc3339_utc_millis(&body["expires_at"]), "{body}");
}

#[actix_rt::test]
async fn register_without_a_display_name_uses_the_username() {
    let app = spawn_app().await;

    let response = app
        .register(&json!({"username": "bob", "password": PASSWORD}))
        .await;

    response.assert_status(201);
    assert_eq!(response.json()["user"]["display_name"], "bob");
}

#[actix_rt::test]
async fn register_refuses_a_blank_over_long_or_control_character_display_name() {
    let app = spawn_app().await;
    for bad in ["   ", &"d".repeat(65), "bell\u{7}"] {
        let response = app
            .register(&json!({"username": "bob", "password": PASSWORD, "display_name": bad}))
            .await;

        response.assert_error(400, "bad_request");
        assert!(
            response.error_message().contains("display_name"),
            "{bad:?}: {}",
            response.text()
        );
    }
}

#[actix_rt::test]
async fn register_stores_the_username_lower_cased() {
    let app = spawn_app().await;

    let response = app
        .register(&json!({"username": "Alice", "password": PASSWORD}))
        .await;

    response.assert_status(201);
    assert_eq!(response.json()["user"]["username"], "alice");
}

#[actix_rt::test]
async fn register_a_taken_username_is_409() {
    let app = spawn_app().await;
    app.signup("alice").await;

    let response = app
        .register(&json!({"username": "alice", "password": PASSWORD}))
        .await;

    response.assert_error(409, "conflict");
}

#[actix_rt::test]
async fn register_a_username_taken_in_another_case_is_409() {
    let app = spawn_app().await;
    app.register(&json!({"username": "Alice", "password": PASSWORD}))
        .await
        .assert_status(201);

    let response = app
        .register(&json!({"username": "alice", "password": PASSWORD}))
        .await;

    response.assert_error(409, "conflict");
}

#[actix_rt::test]
async fn register_refuses_invalid_usernames_naming_the_field() {
    let app = spawn_app().await;
    let long = "a".repeat(33);
    for bad in ["ab", "al ice", "ali$", "élodie", long.as_str(), ""] {
        let response = app
            .register(&json!({"username": bad, "password": PASSWORD}))
            .await;

        response.assert_error(400, "bad_request");
        assert!(
            response.error_message().contains("username"),
            "{bad:?}: {}",
            response.text()
        );
    }
}

#[actix_rt::test]
async fn register_accepts_usernames_of_3_and_32_allowed_characters() {
    let app = spawn_app().await;
    for good in ["a.b", "z_9-.", "a".repeat(32).as_str()] {
        let response = app
            .register(&json!({"username": good, "password": PASSWORD}))
            .await;

        response.assert_status(201);
    }
}

#[actix_rt::test]
async fn register_refuses_a_password_shorter_than_8_or_longer_than_128_characters() {
    let app = spawn_app().await;
    for (name, bad) in [("bob", "1234567".to_string()), ("carol", "x".repeat(129))] {
        let response = app
            .register(&json!({"username": name, "password": bad}))
            .await;

        response.assert_bad_request_naming("password");
    }
}

#[actix_rt::test]
async fn register_accepts_passwords_of_8_and_128_characters() {
    let app = spawn_app().await;
    for (name, good) in [("bob", "x".repeat(8)), ("carol", "x".repeat(128))] {
        let response = app
            .register(&json!({"username": name, "password": good}))
            .await;

        response.assert_status(201);
    }
}

#[actix_rt::test]
async fn register_without_a_password_is_400_naming_it() {
    let app = spawn_app().await;

    let response = app.register(&json!({"username": "bob"})).await;

    response.assert_bad_request_naming("password");
}

#[actix_rt::test]
async fn register_with_a_number_for_username_is_400_naming_it() {
    let app = spawn_app().await;

    let response = app
        .register(&json!({"username": 42, "password": PASSWORD}))
        .await;

    response.assert_bad_request_naming("username");
}

#[actix_rt::test]
async fn a_refused_registration_creates_no_user() {
    let app = spawn_app().await;
    app.register(&json!({"username": "bob", "password": "short"}))
        .await
        .assert_status(400);

    let response = app.login("bob", "short").await;

    response.assert_status(401);
}
