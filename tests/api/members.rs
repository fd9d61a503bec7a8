//! Adding and removing members, and the order of refusals (docs/api.md): not a member
//! 404, then not allowed 403, then an invalid target 400 or a target not a member 404.

use crate::support::{alice_bob_and_carol, has_member, Auth};

#[actix_rt::test]
async fn the_owner_adding_a_user_gets_201_and_the_user_becomes_a_member() {
    let (app, alice, _, carol, id) = alice_bob_and_carol().await;

    let response = app.add_member(&alice, id, "carol").await;

    response.assert_status(201);
    assert!(has_member(&response, "carol"), "{}", response.text());
    app.get_conversation(&carol, id).await.assert_status(200);
}

#[actix_rt::test]
async fn adding_takes_the_username_in_any_case() {
    let (app, alice, _, _, id) = alice_bob_and_carol().await;

    let response = app.add_member(&alice, id, "Carol").await;

    response.assert_status(201);
    assert!(has_member(&response, "carol"));
}

#[actix_rt::test]
async fn adding_an_existing_member_is_200() {
    let (app, alice, _, _, id) = alice_bob_and_carol().await;

    let response = app.add_member(&alice, id, "bob").await;

    response.assert_status(200);
    let bobs = response.json()["conversation"]["members"]
        .as_array()
        .expect("members")
        .iter()
        .filter(|m| m["user"]["username"] == "bob")
        .count();
    assert_eq!(bobs, 1);
}

#[actix_rt::test]
async fn a_member_who_is_not_the_owner_adding_someone_is_403() {
    let (app, _, bob, carol, id) = alice_bob_and_carol().await;

    let response = app.add_member(&bob, id, "carol").await;

    response.assert_error(403, "forbidden");
    app.get_conversation(&carol, id).await.assert_status(404);
}

#[actix_rt::test]
async fn the_owner_adding_an_unknown_username_is_400_naming_it() {
    let (app, alice, _, _, id) = alice_bob_and_carol().await;

    let response = app.add_member(&alice, id, "nobody").await;

    response.assert_bad_request_naming("nobody");
}

#[actix_rt::test]
async fn a_non_member_adding_someone_is_404() {
    let (app, _, _, carol, id) = alice_bob_and_carol().await;

    let response = app.add_member(&carol, id, "carol").await;

    response.assert_error(404, "not_found");
    app.get_conversation(&carol, id).await.assert_status(404);
}

#[actix_rt::test]
async fn a_non_owner_adding_an_unknown_username_is_403_before_400() {
    let (app, _, bob, _, id) = alice_bob_and_carol().await;

    let response = app.add_member(&bob, id, "nobody").await;

    response.assert_error(403, "forbidden");
}

#[actix_rt::test]
async fn a_non_member_adding_an_unknown_username_is_404_before_anything_else() {
    let (app, _, _, carol, id) = alice_bob_and_carol().await;

    let response = app.add_member(&carol, id, "nobody").await;

    response.assert_error(404, "not_found");
}

#[actix_rt::test]
async fn adding_to_an_unknown_conversation_is_404() {
    let (app, alice, _, _, id) = alice_bob_and_carol().await;

    let response = app.add_member(&alice, id + 1000, "carol").await;

    response.assert_error(404, "not_found");
}

#[actix_rt::test]
async fn adding_without_a_username_is_400_naming_it() {
    let (app, alice, _, _, id) = alice_bob_and_carol().await;

    let response = app
        .post_json(
            &format!("/api/conversations/{id}/members"),
            &alice,
            &serde_json::json!({}),
        )
        .await;

    response.assert_bad_request_naming("username");
}

#[actix_rt::test]
async fn adding_without_credentials_is_401() {
    let (app, _, _, _, id) = alice_bob_and_carol().await;

    let response = app.add_member(Auth::None, id, "carol").await;

    response.assert_error(401, "unauthorized");
}

#[actix_rt::test]
async fn the_owner_removing_a_member_gets_204_and_the_member_loses_access() {
    let (app, alice, bob, _, id) = alice_bob_and_carol().await;

    let response = app.remove_member(&alice, id, bob.id).await;

    response.assert_status(204);
    assert!(response.body.is_empty());
    app.get_conversation(&bob, id)
        .await
        .assert_error(404, "not_found");
}

#[actix_rt::test]
async fn the_owner_removing_themself_is_403() {
    let (app, alice, _, _, id) = alice_bob_and_carol().await;

    let response = app.remove_member(&alice, id, alice.id).await;

    response.assert_error(403, "forbidden");
    app.get_conversation(&alice, id).await.assert_status(200);
}

#[actix_rt::test]
async fn a_member_leaving_gets_204_and_loses_access() {
    let (app, _, bob, _, id) = alice_bob_and_carol().await;

    let response = app.remove_member(&bob, id, bob.id).await;

    response.assert_status(204);
    app.get_conversation(&bob, id)
        .await
        .assert_error(404, "not_found");
}

#[actix_rt::test]
async fn a_member_removing_another_member_is_403() {
    let (app, alice, bob, carol, id) = alice_bob_and_carol().await;
    app.add_member(&alice, id, "carol").await.assert_status(201);

    let response = app.remove_member(&bob, id, carol.id).await;

    response.assert_error(403, "forbidden");
    app.get_conversation(&carol, id).await.assert_status(200);
}

#[actix_rt::test]
async fn a_member_removing_the_owner_is_403() {
    let (app, alice, bob, _, id) = alice_bob_and_carol().await;

    let response = app.remove_member(&bob, id, alice.id).await;

    response.assert_error(403, "forbidden");
}

#[actix_rt::test]
async fn the_owner_removing_a_user_who_is_not_a_member_is_404() {
    let (app, alice, _, carol, id) = alice_bob_and_carol().await;

    let response = app.remove_member(&alice, id, carol.id).await;

    response.assert_error(404, "not_found");
}

#[actix_rt::test]
async fn the_owner_removing_an_unknown_user_id_is_404() {
    let (app, alice, _, _, id) = alice_bob_and_carol().await;

    let response = app.remove_member(&alice, id, 987_654).await;

    response.assert_error(404, "not_found");
}

#[actix_rt::test]
async fn a_non_member_removing_anyone_is_404() {
    let (app, _, bob, carol, id) = alice_bob_and_carol().await;

    let response = app.remove_member(&carol, id, bob.id).await;

    response.assert_error(404, "not_found");
    app.get_conversation(&bob, id).await.assert_status(200);
}

#[actix_rt::test]
async fn a_non_owner_member_removing_a_non_member_is_403_before_404() {
    let (app, _, bob, carol, id) = alice_bob_and_carol().await;

    let response = app.remove_member(&bob, id, carol.id).await;

    response.assert_error(403, "forbidden");
}

#[actix_rt::test]
async fn removing_without_credentials_is_401() {
    let (app, _, bob, _, id) = alice_bob_and_carol().await;

    let response = app.remove_member(Auth::None, id, bob.id).await;

    response.assert_error(401, "unauthorized");
}

#[actix_rt::test]
async fn a_removed_member_can_no_longer_send_or_read_messages() {
    let (app, alice, bob, _, id) = alice_bob_and_carol().await;
    app.remove_member(&alice, id, bob.id)
        .await
        .assert_status(204);

    let send = app
        .post_message(
            &bob,
            &serde_json::json!({"conversation_id": id, "content": "still here?"}),
        )
        .await;
    let read = app
        .list_messages(&bob, &format!("conversation_id={id}"))
        .await;

    send.assert_error(404, "not_found");
    read.assert_error(404, "not_found");
}
