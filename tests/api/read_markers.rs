//! `POST /api/conversations/{id}/read`: the caller's read marker moves forward, never
//! back, and only ever points at a message of its own conversation. Observed through
//! `unread_count`.

use serde_json::json;

use crate::support::{three_unread, Auth};

#[actix_rt::test]
async fn marking_a_message_read_is_204_and_lowers_the_unread_count() {
    let (app, alice, _, id, ids) = three_unread().await;
    assert_eq!(app.unread_count(&alice, id).await, 3);

    let response = app
        .mark_read(&alice, id, &json!({"message_id": ids[1]}))
        .await;

    response.assert_status(204);
    assert!(response.body.is_empty());
    assert_eq!(app.unread_count(&alice, id).await, 1);
}

#[actix_rt::test]
async fn the_read_marker_never_moves_back() {
    let (app, alice, _, id, ids) = three_unread().await;
    app.mark_read(&alice, id, &json!({"message_id": ids[2]}))
        .await
        .assert_status(204);

    let response = app
        .mark_read(&alice, id, &json!({"message_id": ids[0]}))
        .await;

    response.assert_status(204);
    assert_eq!(app.unread_count(&alice, id).await, 0);
}

#[actix_rt::test]
async fn the_read_marker_of_one_member_leaves_the_others_alone() {
    let (app, alice, bob, id, ids) = three_unread().await;
    app.send_message(&alice, id, "for bob").await;

    app.mark_read(&alice, id, &json!({"message_id": ids[2]}))
        .await
        .assert_status(204);

    assert_eq!(app.unread_count(&bob, id).await, 1);
}

#[actix_rt::test]
async fn a_message_of_another_conversation_is_400_naming_message_id() {
    let (app, alice, bob, id, _) = three_unread().await;
    let other = app.new_conversation(&bob, &[&alice]).await;
    let foreign = app.send_message(&bob, other, "elsewhere").await["id"]
        .as_i64()
        .expect("id");

    let response = app
        .mark_read(&alice, id, &json!({"message_id": foreign}))
        .await;

    response.assert_bad_request_naming("message_id");
    assert_eq!(app.unread_count(&alice, id).await, 3);
}

#[actix_rt::test]
async fn a_message_id_that_does_not_exist_is_400_naming_message_id() {
    let (app, alice, _, id, ids) = three_unread().await;

    let response = app
        .mark_read(&alice, id, &json!({"message_id": ids[2] + 1000}))
        .await;

    response.assert_bad_request_naming("message_id");
}

#[actix_rt::test]
async fn a_missing_or_mistyped_message_id_is_400_naming_it() {
    let (app, alice, _, id, _) = three_unread().await;
    for body in [json!({}), json!({"message_id": "one"})] {
        let response = app.mark_read(&alice, id, &body).await;

        response.assert_error(400, "bad_request");
        assert!(
            response.error_message().contains("message_id"),
            "{body}: {}",
            response.text()
        );
    }
}

#[actix_rt::test]
async fn a_non_member_marking_read_is_404() {
    let (app, _, _, id, ids) = three_unread().await;
    let carol = app.signup("carol").await;

    let response = app
        .mark_read(&carol, id, &json!({"message_id": ids[0]}))
        .await;

    response.assert_error(404, "not_found");
}

#[actix_rt::test]
async fn marking_read_without_credentials_is_401() {
    let (app, _, _, id, ids) = three_unread().await;

    let response = app
        .mark_read(Auth::None, id, &json!({"message_id": ids[0]}))
        .await;

    response.assert_error(401, "unauthorized");
}
