//! Creating, listing and reading conversations. A conversation the caller is not a member
//! of does not exist for them: 404.

use serde_json::json;

use crate::support::{
    is_rfc3339_utc_millis, listed_ids, member_roles, spawn_app, wait_for_next_millisecond, Auth,
};

#[actix_rt::test]
async fn create_returns_201_with_the_caller_as_owner_and_member() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;

    let response = app
        .create_conversation(&alice, &json!({"title": "Plans"}))
        .await;

    response.assert_status(201);
    let conversation = response.json()["conversation"].clone();
    assert!(conversation["id"].is_i64(), "{conversation}");
    assert_eq!(conversation["title"], "Plans");
    assert_eq!(conversation["owner_id"], alice.id);
    assert!(
        is_rfc3339_utc_millis(&conversation["created_at"]),
        "{conversation}"
    );
    assert_eq!(
        member_roles(&conversation),
        [("alice".to_string(), "owner".to_string())]
    );
    let member = &conversation["members"][0]["user"];
    assert_eq!(
        *member,
        json!({"id": alice.id, "username": "alice", "display_name": "alice"})
    );
}

#[actix_rt::test]
async fn create_adds_the_named_members_by_username_in_any_case() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    app.signup("bob").await;
    app.signup("carol").await;

    let response = app
        .create_conversation(
            &alice,
            &json!({"title": "Plans", "members": ["BOB", "carol"]}),
        )
        .await;

    response.assert_status(201);
    let roles = member_roles(&response.json()["conversation"]);
    let expected = [("alice", "owner"), ("bob", "member"), ("carol", "member")];
    assert_eq!(roles, expected.map(|(n, r)| (n.to_string(), r.to_string())));
}

#[actix_rt::test]
async fn create_naming_the_caller_as_a_member_keeps_them_the_one_owner() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;

    let response = app
        .create_conversation(&alice, &json!({"title": "Notes", "members": ["alice"]}))
        .await;

    response.assert_status(201);
    assert_eq!(
        member_roles(&response.json()["conversation"]),
        [("alice".to_string(), "owner".to_string())]
    );
}

#[actix_rt::test]
async fn create_with_unknown_usernames_is_400_naming_them_and_creates_nothing() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    app.signup("bob").await;

    let response = app
        .create_conversation(
            &alice,
            &json!({"title": "Plans", "members": ["bob", "nobody", "ghost"]}),
        )
        .await;

    response.assert_error(400, "bad_request");
    let message = response.error_message();
    assert!(
        message.contains("nobody") && message.contains("ghost"),
        "{message}"
    );
    assert!(
        !message.contains("bob"),
        "only unknown names are named: {message}"
    );
    assert_eq!(
        listed_ids(&app.list_conversations(&alice).await),
        Vec::<i64>::new()
    );
}

#[actix_rt::test]
async fn create_with_a_member_name_holding_a_nul_character_is_400_naming_it() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    app.signup("bob").await;

    let response = app
        .create_conversation(&alice, &json!({"title": "Plans", "members": ["bob\u{0}"]}))
        .await;

    response.assert_bad_request_naming("bob");
}

#[actix_rt::test]
async fn create_without_a_title_is_400_naming_it() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    for body in [json!({}), json!({"title": "   "}), json!({"title": 7})] {
        let response = app.create_conversation(&alice, &body).await;

        response.assert_error(400, "bad_request");
        assert!(
            response.error_message().contains("title"),
            "{body}: {}",
            response.text()
        );
    }
}

#[actix_rt::test]
async fn create_with_a_title_of_201_characters_is_400_and_200_is_accepted() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;

    let over = app
        .create_conversation(&alice, &json!({"title": "t".repeat(201)}))
        .await;
    let at_limit = app
        .create_conversation(&alice, &json!({"title": "t".repeat(200)}))
        .await;

    over.assert_error(400, "bad_request");
    at_limit.assert_status(201);
}

#[actix_rt::test]
async fn a_title_with_a_nul_character_is_400_naming_title_and_creates_nothing() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;

    let response = app
        .create_conversation(&alice, &json!({"title": "plans\u{0}"}))
        .await;

    response.assert_bad_request_naming("title");
    assert!(listed_ids(&app.list_conversations(&alice).await).is_empty());
}

#[actix_rt::test]
async fn create_with_members_that_are_not_a_list_of_names_is_400_naming_members() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;

    let response = app
        .create_conversation(&alice, &json!({"title": "Plans", "members": "bob"}))
        .await;

    response.assert_bad_request_naming("members");
}

#[actix_rt::test]
async fn create_without_credentials_is_401() {
    let app = spawn_app().await;

    let response = app
        .create_conversation(Auth::None, &json!({"title": "Plans"}))
        .await;

    response.assert_error(401, "unauthorized");
}

#[actix_rt::test]
async fn list_shows_only_the_callers_conversations() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let carol = app.signup("carol").await;
    let shared = app.new_conversation(&alice, &[&bob]).await;
    app.new_conversation(&carol, &[]).await;

    let response = app.list_conversations(&bob).await;

    response.assert_status(200);
    assert_eq!(listed_ids(&response), [shared]);
}

#[actix_rt::test]
async fn list_puts_the_newest_activity_first() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    let first = app.new_conversation(&alice, &[]).await;
    wait_for_next_millisecond();
    let second = app.new_conversation(&alice, &[]).await;
    wait_for_next_millisecond();
    let third = app.new_conversation(&alice, &[]).await;
    wait_for_next_millisecond();

    app.send_message(&alice, first, "bump").await;

    assert_eq!(
        listed_ids(&app.list_conversations(&alice).await),
        [first, third, second]
    );
}

#[actix_rt::test]
async fn list_carries_the_last_message_and_the_unread_count() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let id = app.new_conversation(&alice, &[&bob]).await;
    app.send_message(&bob, id, "one").await;
    app.send_message(&bob, id, "two").await;
    app.send_message(&alice, id, "mine do not count").await;
    let newest = app.send_message(&bob, id, "three").await;

    let response = app.list_conversations(&alice).await;

    response.assert_status(200);
    let entry = response.json()["conversations"][0].clone();
    assert_eq!(entry["id"], id);
    assert_eq!(entry["title"], "a chat");
    assert_eq!(entry["last_message"], newest);
    assert_eq!(
        entry["unread_count"], 3,
        "bob's three messages; alice's own do not count"
    );
}

#[actix_rt::test]
async fn list_shows_no_last_message_and_nothing_unread_for_a_new_conversation() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    app.new_conversation(&alice, &[]).await;

    let response = app.list_conversations(&alice).await;

    let entry = response.json()["conversations"][0].clone();
    assert!(entry["last_message"].is_null(), "{entry}");
    assert_eq!(entry["unread_count"], 0);
}

#[actix_rt::test]
async fn list_without_credentials_is_401() {
    let app = spawn_app().await;

    let response = app.list_conversations(Auth::None).await;

    response.assert_error(401, "unauthorized");
}

#[actix_rt::test]
async fn get_answers_a_member_with_the_conversation_and_its_members() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let id = app.new_conversation(&alice, &[&bob]).await;

    let response = app.get_conversation(&bob, id).await;

    response.assert_status(200);
    let conversation = response.json()["conversation"].clone();
    assert_eq!(conversation["id"], id);
    assert_eq!(conversation["owner_id"], alice.id);
    let expected = [("alice", "owner"), ("bob", "member")];
    assert_eq!(
        member_roles(&conversation),
        expected.map(|(n, r)| (n.to_string(), r.to_string()))
    );
}

#[actix_rt::test]
async fn get_by_a_non_member_is_404() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    let mallory = app.signup("mallory").await;
    let id = app.new_conversation(&alice, &[]).await;

    let response = app.get_conversation(&mallory, id).await;

    response.assert_error(404, "not_found");
}

#[actix_rt::test]
async fn get_of_an_unknown_id_is_404_like_a_conversation_of_others() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    let mallory = app.signup("mallory").await;
    let id = app.new_conversation(&alice, &[]).await;

    let unknown = app.get_conversation(&mallory, id + 1000).await;
    let of_others = app.get_conversation(&mallory, id).await;

    unknown.assert_error(404, "not_found");
    of_others.assert_error(404, "not_found");
    let shape = |m: String| {
        m.replace(&(id + 1000).to_string(), "N")
            .replace(&id.to_string(), "N")
    };
    assert_eq!(
        shape(unknown.error_message()),
        shape(of_others.error_message()),
        "indistinguishable"
    );
}

#[actix_rt::test]
async fn get_without_credentials_is_401() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    let id = app.new_conversation(&alice, &[]).await;

    let response = app.get_conversation(Auth::None, id).await;

    response.assert_error(401, "unauthorized");
}
