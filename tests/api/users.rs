//! `GET /api/users?query=`: finding people by username prefix.

use crate::support::{spawn_app, usernames, Auth};

#[actix_rt::test]
async fn search_finds_users_by_username_prefix_only() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    app.signup("alina").await;
    app.signup("bob").await;
    app.signup("malik").await;

    let response = app.search_users(&alice, "ali").await;

    response.assert_status(200);
    let mut found = usernames(&response);
    found.sort();
    assert_eq!(found, ["alice", "alina"]);
}

#[actix_rt::test]
async fn search_answers_users_with_id_username_and_display_name_only() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;

    let response = app.search_users(&alice, "alice").await;

    response.assert_status(200);
    let users = response.json()["users"].clone();
    assert_eq!(
        users,
        serde_json::json!([{"id": alice.id, "username": "alice", "display_name": "alice"}])
    );
}

#[actix_rt::test]
async fn search_ignores_the_case_of_the_query() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;

    let response = app.search_users(&alice, "ALI").await;

    response.assert_status(200);
    assert_eq!(usernames(&response), ["alice"]);
}

#[actix_rt::test]
async fn search_answers_at_most_20_users() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    for i in 0..25 {
        app.insert_user(&format!("user{i:02}")).await;
    }

    let response = app.search_users(&alice, "user").await;

    response.assert_status(200);
    let found = usernames(&response);
    assert_eq!(found.len(), 20, "{found:?}");
    assert!(
        found.iter().all(|name| name.starts_with("user")),
        "{found:?}"
    );
}

#[actix_rt::test]
async fn search_treats_underscore_and_percent_in_the_query_literally() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    app.insert_user("a_b").await;
    app.insert_user("axb").await;

    let underscore = app.search_users(&alice, "a_").await;
    let percent = app.search_users(&alice, "%").await;

    assert_eq!(usernames(&underscore), ["a_b"]);
    assert!(usernames(&percent).is_empty(), "{}", percent.text());
}

#[actix_rt::test]
async fn a_search_query_with_a_nul_character_is_400_naming_query() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;

    let response = app.search_users(&alice, "ali\u{0}").await;

    response.assert_bad_request_naming("query");
}

#[actix_rt::test]
async fn search_with_no_match_answers_an_empty_list() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;

    let response = app.search_users(&alice, "zed").await;

    response.assert_status(200);
    assert!(usernames(&response).is_empty());
}

#[actix_rt::test]
async fn search_without_credentials_is_401() {
    let app = spawn_app().await;
    app.signup("alice").await;

    let response = app.search_users(Auth::None, "ali").await;

    response.assert_error(401, "unauthorized");
    assert_eq!(response.header("www-authenticate"), Some("Bearer"));
}
