//! `POST /api/messages`: storing, numbering, idempotent retries, and every refusal, each
//! of which leaves the conversation as it was.

use serde_json::json;

use crate::support::{is_rfc3339_utc_millis, spawn_app_with, spawn_app_with_alice_and_bob};

#[actix_rt::test]
async fn sending_returns_201_with_the_stored_message() {
    let (app, alice, _, id) = spawn_app_with_alice_and_bob().await;

    let response = app
        .post_message(
            &alice,
            &json!({"conversation_id": id, "content": "hello", "client_msg_id": "c-1"}),
        )
        .await;

    response.assert_status(201);
    let message = response.json()["message"].clone();
    assert!(message["id"].is_i64(), "{message}");
    assert_eq!(message["conversation_id"], id);
    assert_eq!(message["seq"], 1);
    assert_eq!(message["sender_id"], alice.id);
    assert_eq!(message["content"], "hello");
    assert_eq!(message["client_msg_id"], "c-1");
    assert!(is_rfc3339_utc_millis(&message["created_at"]), "{message}");
    assert!(message["edited_at"].is_null());
    assert_eq!(message["deleted"], false);
    let fields: Vec<&String> = message.as_object().expect("object").keys().collect();
    assert_eq!(fields.len(), 9, "the nine fields of a message: {fields:?}");
}

#[actix_rt::test]
async fn seq_counts_each_conversation_from_1_without_gaps() {
    let (app, alice, bob, id) = spawn_app_with_alice_and_bob().await;
    let other = app.new_conversation(&bob, &[]).await;

    let seqs: Vec<i64> = [
        app.send_message(&alice, id, "a").await,
        app.send_message(&bob, id, "b").await,
        app.send_message(&bob, other, "elsewhere").await,
        app.send_message(&alice, id, "c").await,
    ]
    .iter()
    .map(|m| m["seq"].as_i64().expect("seq"))
    .collect();

    assert_eq!(seqs, [1, 2, 1, 3]);
}

#[actix_rt::test]
async fn the_same_client_msg_id_again_is_200_with_the_first_message_and_no_duplicate() {
    let (app, alice, _, id) = spawn_app_with_alice_and_bob().await;
    let body = json!({"conversation_id": id, "content": "once", "client_msg_id": "retry-me"});
    let first = app.post_message(&alice, &body).await;
    first.assert_status(201);

    let again = app
        .post_message(
            &alice,
            &json!({"conversation_id": id, "content": "changed", "client_msg_id": "retry-me"}),
        )
        .await;

    again.assert_status(200);
    assert_eq!(again.json()["message"], first.json()["message"]);
    assert_eq!(app.all_messages(&alice, id).await.len(), 1);
}

#[actix_rt::test]
async fn a_retry_does_not_use_up_a_seq() {
    let (app, alice, _, id) = spawn_app_with_alice_and_bob().await;
    let body = json!({"conversation_id": id, "content": "once", "client_msg_id": "k"});
    app.post_message(&alice, &body).await.assert_status(201);
    app.post_message(&alice, &body).await.assert_status(200);

    let next = app.send_message(&alice, id, "next").await;

    assert_eq!(next["seq"], 2);
}

#[actix_rt::test]
async fn the_same_client_msg_id_from_two_senders_makes_two_messages() {
    let (app, alice, bob, id) = spawn_app_with_alice_and_bob().await;

    let from_alice = app
        .post_message(
            &alice,
            &json!({"conversation_id": id, "content": "a", "client_msg_id": "same"}),
        )
        .await;
    let from_bob = app
        .post_message(
            &bob,
            &json!({"conversation_id": id, "content": "b", "client_msg_id": "same"}),
        )
        .await;

    from_alice.assert_status(201);
    from_bob.assert_status(201);
    assert_eq!(app.all_messages(&alice, id).await.len(), 2);
}

#[actix_rt::test]
async fn a_non_member_sending_is_404_and_nothing_is_stored() {
    let (app, alice, _, id) = spawn_app_with_alice_and_bob().await;
    let carol = app.signup("carol").await;

    let response = app
        .post_message(
            &carol,
            &json!({"conversation_id": id, "content": "let me in"}),
        )
        .await;

    response.assert_error(404, "not_found");
    assert!(app.all_messages(&alice, id).await.is_empty());
}

#[actix_rt::test]
async fn sending_to_an_unknown_conversation_is_404() {
    let (app, alice, _, id) = spawn_app_with_alice_and_bob().await;

    let response = app
        .post_message(
            &alice,
            &json!({"conversation_id": id + 1000, "content": "hello?"}),
        )
        .await;

    response.assert_error(404, "not_found");
}

#[actix_rt::test]
async fn a_non_member_sending_empty_content_is_404_before_400() {
    let (app, _, _, id) = spawn_app_with_alice_and_bob().await;
    let carol = app.signup("carol").await;

    let response = app
        .post_message(&carol, &json!({"conversation_id": id, "content": ""}))
        .await;

    response.assert_error(404, "not_found");
}

#[actix_rt::test]
async fn empty_or_blank_content_is_400_naming_content_and_nothing_is_stored() {
    let (app, alice, _, id) = spawn_app_with_alice_and_bob().await;
    for content in ["", "   ", "\n\t "] {
        let response = app
            .post_message(&alice, &json!({"conversation_id": id, "content": content}))
            .await;

        response.assert_error(400, "bad_request");
        assert!(
            response.error_message().contains("content"),
            "{content:?}: {}",
            response.text()
        );
    }
    assert!(app.all_messages(&alice, id).await.is_empty());
}

#[actix_rt::test]
async fn content_over_4000_characters_is_400_and_nothing_is_stored() {
    let (app, alice, _, id) = spawn_app_with_alice_and_bob().await;

    let response = app
        .post_message(
            &alice,
            &json!({"conversation_id": id, "content": "x".repeat(4001)}),
        )
        .await;

    response.assert_bad_request_naming("content");
    assert!(app.all_messages(&alice, id).await.is_empty());
}

#[actix_rt::test]
async fn content_of_exactly_4000_characters_is_stored_whatever_their_bytes() {
    let (app, alice, _, id) = spawn_app_with_alice_and_bob().await;

    let ascii = app
        .post_message(
            &alice,
            &json!({"conversation_id": id, "content": "x".repeat(4000)}),
        )
        .await;
    let accented = app
        .post_message(
            &alice,
            &json!({"conversation_id": id, "content": "é".repeat(4000)}),
        )
        .await;

    ascii.assert_status(201);
    accented.assert_status(201);
    assert_eq!(accented.json()["message"]["content"], "é".repeat(4000));
}

#[actix_rt::test]
async fn the_content_limit_follows_max_content_chars() {
    let app = spawn_app_with(&[("MAX_CONTENT_CHARS", "10")]).await;
    let alice = app.signup("alice").await;
    let id = app.new_conversation(&alice, &[]).await;

    let at_limit = app
        .post_message(
            &alice,
            &json!({"conversation_id": id, "content": "0123456789"}),
        )
        .await;
    let over = app
        .post_message(
            &alice,
            &json!({"conversation_id": id, "content": "0123456789a"}),
        )
        .await;

    at_limit.assert_status(201);
    over.assert_error(400, "bad_request");
    assert_eq!(app.all_messages(&alice, id).await.len(), 1);
}

#[actix_rt::test]
async fn content_in_any_script_and_emoji_comes_back_exactly_as_sent() {
    let (app, alice, _, id) = spawn_app_with_alice_and_bob().await;
    let content = "héllo 👋🏽 世界 — «ça va?»\nzweite Zeile\ttab";

    let sent = app.send_message(&alice, id, content).await;

    assert_eq!(sent["content"], content);
    assert_eq!(app.all_messages(&alice, id).await[0]["content"], content);
}

#[actix_rt::test]
async fn content_with_a_nul_character_is_400_naming_content_and_nothing_is_stored() {
    let (app, alice, _, id) = spawn_app_with_alice_and_bob().await;

    let response = app
        .post_message(
            &alice,
            &json!({"conversation_id": id, "content": "before\u{0}after"}),
        )
        .await;

    response.assert_bad_request_naming("content");
    assert!(app.all_messages(&alice, id).await.is_empty());
}

#[actix_rt::test]
async fn a_client_msg_id_with_a_nul_character_is_400_naming_it_and_nothing_is_stored() {
    let (app, alice, _, id) = spawn_app_with_alice_and_bob().await;

    let response = app
        .post_message(
            &alice,
            &json!({"conversation_id": id, "content": "hi", "client_msg_id": "k\u{0}"}),
        )
        .await;

    response.assert_bad_request_naming("client_msg_id");
    assert!(app.all_messages(&alice, id).await.is_empty());
}

#[actix_rt::test]
async fn post_and_get_messages_answer_201_and_200_for_a_member() {
    // The messages API exists and works end to end.
    let (app, alice, bob, id) = spawn_app_with_alice_and_bob().await;

    let sent = app
        .post_message(&alice, &json!({"conversation_id": id, "content": "hi bob"}))
        .await;
    let read = app
        .list_messages(&bob, &format!("conversation_id={id}"))
        .await;

    sent.assert_status(201);
    read.assert_status(200);
    assert_eq!(read.json()["messages"][0], sent.json()["message"]);
}
