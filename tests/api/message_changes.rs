//! `GET`, `PUT` and `DELETE /api/messages/{id}`: reading one message, editing by its
//! sender, soft deletion by its sender or the conversation's owner.

use serde_json::json;

use crate::support::{is_rfc3339_utc_millis, message_scene, Auth};

#[actix_rt::test]
async fn a_member_gets_a_message_by_id() {
    let s = message_scene().await;

    let response = s.app.get_message(&s.carol, s.message).await;

    response.assert_status(200);
    let message = response.json()["message"].clone();
    assert_eq!(message["id"], s.message);
    assert_eq!(message["content"], "original");
    assert_eq!(message["sender_id"], s.bob.id);
}

#[actix_rt::test]
async fn a_non_member_getting_a_message_is_404() {
    let s = message_scene().await;

    let response = s.app.get_message(&s.mallory, s.message).await;

    response.assert_error(404, "not_found");
}

#[actix_rt::test]
async fn getting_an_unknown_message_is_404() {
    let s = message_scene().await;

    let response = s.app.get_message(&s.alice, s.message + 1000).await;

    response.assert_error(404, "not_found");
}

#[actix_rt::test]
async fn getting_a_message_without_credentials_is_401() {
    let s = message_scene().await;

    let response = s.app.get_message(Auth::None, s.message).await;

    response.assert_error(401, "unauthorized");
}

#[actix_rt::test]
async fn the_sender_editing_gets_200_with_the_new_content_and_edited_at() {
    let s = message_scene().await;

    let response = s
        .app
        .edit_message(&s.bob, s.message, &json!({"content": "fixed"}))
        .await;

    response.assert_status(200);
    let message = response.json()["message"].clone();
    assert_eq!(message["content"], "fixed");
    assert_eq!(message["seq"], 1, "an edit keeps the message's place");
    assert!(is_rfc3339_utc_millis(&message["edited_at"]), "{message}");
    let edited_at = message["edited_at"].as_str().expect("edited_at is set");
    let created_at = message["created_at"].as_str().expect("created_at");
    let parse = |t: &str| chrono::DateTime::parse_from_rfc3339(t).expect("RFC 3339");
    assert!(parse(edited_at) >= parse(created_at));
    assert_eq!(
        s.app.get_message(&s.alice, s.message).await.json()["message"],
        message
    );
}

#[actix_rt::test]
async fn another_member_editing_is_403_and_the_message_is_unchanged() {
    let s = message_scene().await;

    let response = s
        .app
        .edit_message(&s.carol, s.message, &json!({"content": "hijacked"}))
        .await;

    response.assert_error(403, "forbidden");
    let message = s.app.get_message(&s.bob, s.message).await.json()["message"].clone();
    assert_eq!(message["content"], "original");
    assert!(message["edited_at"].is_null());
}

#[actix_rt::test]
async fn the_owner_editing_someone_elses_message_is_403() {
    let s = message_scene().await;

    let response = s
        .app
        .edit_message(&s.alice, s.message, &json!({"content": "moderated"}))
        .await;

    response.assert_error(403, "forbidden");
}

#[actix_rt::test]
async fn a_non_member_editing_is_404() {
    let s = message_scene().await;

    let response = s
        .app
        .edit_message(&s.mallory, s.message, &json!({"content": "x"}))
        .await;

    response.assert_error(404, "not_found");
}

#[actix_rt::test]
async fn editing_to_empty_or_over_long_content_is_400_and_the_message_is_unchanged() {
    let s = message_scene().await;
    for content in [String::new(), "  ".to_string(), "x".repeat(4001)] {
        let response = s
            .app
            .edit_message(&s.bob, s.message, &json!({"content": content}))
            .await;

        response.assert_bad_request_naming("content");
    }
    assert_eq!(
        s.app.get_message(&s.bob, s.message).await.json()["message"]["content"],
        "original"
    );
}

#[actix_rt::test]
async fn editing_to_content_with_a_nul_character_is_400_naming_content_and_keeps_the_original() {
    let s = message_scene().await;

    let response = s
        .app
        .edit_message(&s.bob, s.message, &json!({"content": "fixed\u{0}"}))
        .await;

    response.assert_bad_request_naming("content");
    let stored = s.app.get_message(&s.bob, s.message).await;
    assert_eq!(stored.json()["message"]["content"], "original");
}

#[actix_rt::test]
async fn a_non_member_editing_with_bad_content_is_404_before_400() {
    let s = message_scene().await;

    let response = s
        .app
        .edit_message(&s.mallory, s.message, &json!({"content": ""}))
        .await;

    response.assert_error(404, "not_found");
}

#[actix_rt::test]
async fn another_member_editing_with_bad_content_is_403_before_400() {
    let s = message_scene().await;

    let response = s
        .app
        .edit_message(&s.carol, s.message, &json!({"content": ""}))
        .await;

    response.assert_error(403, "forbidden");
}

#[actix_rt::test]
async fn editing_without_credentials_is_401() {
    let s = message_scene().await;

    let response = s
        .app
        .edit_message(Auth::None, s.message, &json!({"content": "x"}))
        .await;

    response.assert_error(401, "unauthorized");
}

#[actix_rt::test]
async fn the_sender_deleting_gets_204() {
    let s = message_scene().await;

    let response = s.app.delete_message(&s.bob, s.message).await;

    response.assert_status(204);
    assert!(response.body.is_empty());
}

#[actix_rt::test]
async fn the_conversation_owner_deleting_someone_elses_message_gets_204() {
    let s = message_scene().await;

    let response = s.app.delete_message(&s.alice, s.message).await;

    response.assert_status(204);
    assert_eq!(
        s.app.get_message(&s.bob, s.message).await.json()["message"]["deleted"],
        true
    );
}

#[actix_rt::test]
async fn another_member_deleting_is_403_and_the_message_stays() {
    let s = message_scene().await;

    let response = s.app.delete_message(&s.carol, s.message).await;

    response.assert_error(403, "forbidden");
    let message = s.app.get_message(&s.bob, s.message).await.json()["message"].clone();
    assert_eq!(message["deleted"], false);
    assert_eq!(message["content"], "original");
}

#[actix_rt::test]
async fn a_non_member_deleting_is_404_and_the_message_stays() {
    let s = message_scene().await;

    let response = s.app.delete_message(&s.mallory, s.message).await;

    response.assert_error(404, "not_found");
    assert_eq!(
        s.app.get_message(&s.bob, s.message).await.json()["message"]["deleted"],
        false
    );
}

#[actix_rt::test]
async fn deleting_without_credentials_is_401() {
    let s = message_scene().await;

    let response = s.app.delete_message(Auth::None, s.message).await;

    response.assert_error(401, "unauthorized");
}

#[actix_rt::test]
async fn a_deleted_message_reads_as_deleted_with_empty_content_everywhere() {
    let s = message_scene().await;
    s.app
        .delete_message(&s.bob, s.message)
        .await
        .assert_status(204);

    let single = s.app.get_message(&s.carol, s.message).await.json()["message"].clone();
    let listed = s.app.all_messages(&s.carol, s.conversation).await;

    assert_eq!(single["deleted"], true);
    assert_eq!(single["content"], "");
    assert_eq!(single["seq"], 1, "the row keeps its place");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0], single);
}

#[actix_rt::test]
async fn a_deleted_message_keeps_its_seq_so_numbering_has_no_gap() {
    let s = message_scene().await;
    s.app
        .delete_message(&s.bob, s.message)
        .await
        .assert_status(204);

    let next = s.app.send_message(&s.carol, s.conversation, "after").await;

    assert_eq!(next["seq"], 2);
}

#[actix_rt::test]
async fn a_deleted_message_no_longer_counts_as_unread() {
    let s = message_scene().await;
    assert_eq!(s.app.unread_count(&s.carol, s.conversation).await, 1);

    s.app
        .delete_message(&s.bob, s.message)
        .await
        .assert_status(204);

    assert_eq!(s.app.unread_count(&s.carol, s.conversation).await, 0);
}
