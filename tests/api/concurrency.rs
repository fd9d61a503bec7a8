//! Concurrent senders: `seq` is assigned in the insert's own transaction, so messages sent
//! at once still number 1, 2, 3 … with no gap and no duplicate.

use futures_util::future::join_all;
use serde_json::json;

use crate::support::{a_crowded_conversation, sorted_seqs, spawn_app_with, PASSWORD};

const SENDERS: usize = 20;

#[actix_rt::test]
async fn twenty_members_sending_at_once_get_seq_1_to_20_without_gap_or_duplicate() {
    let app = spawn_app_with(&[]).await;
    let (users, id) = a_crowded_conversation(&app, SENDERS).await;

    let responses = join_all(users.iter().enumerate().map(|(i, user)| {
        let body = json!({"conversation_id": id, "content": format!("from {i}")});
        let app = &app;
        async move { app.post_message(user, &body).await }
    }))
    .await;

    for response in &responses {
        response.assert_status(201);
    }
    let answered: Vec<serde_json::Value> = responses
        .iter()
        .map(|r| r.json()["message"].clone())
        .collect();
    let expected: Vec<i64> = (1..=SENDERS as i64).collect();
    assert_eq!(sorted_seqs(&answered), expected);
    let stored = app.all_messages(&users[0], id).await;
    assert_eq!(sorted_seqs(&stored), expected);
}

#[actix_rt::test]
async fn one_member_sending_twenty_at_once_gets_seq_1_to_20_without_gap_or_duplicate() {
    let app = spawn_app_with(&[("RATE_LIMIT_BURST", "100")]).await;
    let alice = app.signup("alice").await;
    let id = app.new_conversation(&alice, &[]).await;

    let responses = join_all((0..SENDERS).map(|i| {
        let body = json!({"conversation_id": id, "content": format!("burst {i}")});
        let (app, alice) = (&app, &alice);
        async move { app.post_message(alice, &body).await }
    }))
    .await;

    for response in &responses {
        response.assert_status(201);
    }
    let stored = app.all_messages(&alice, id).await;
    assert_eq!(
        sorted_seqs(&stored),
        (1..=SENDERS as i64).collect::<Vec<_>>()
    );
}

#[actix_rt::test]
async fn ids_and_seqs_rise_together_when_sent_at_once() {
    let app = spawn_app_with(&[]).await;
    let (users, id) = a_crowded_conversation(&app, SENDERS).await;
    join_all(users.iter().map(|user| {
        let app = &app;
        async move {
            app.post_message(user, &json!({"conversation_id": id, "content": "hi"}))
                .await
        }
    }))
    .await;

    let stored = app.all_messages(&users[0], id).await;

    let seqs: Vec<i64> = stored
        .iter()
        .map(|m| m["seq"].as_i64().expect("seq"))
        .collect();
    assert_eq!(
        seqs,
        (1..=SENDERS as i64).collect::<Vec<_>>(),
        "ascending by id is ascending by seq"
    );
}

#[actix_rt::test]
async fn the_same_client_msg_id_sent_ten_times_at_once_is_stored_once() {
    let app = spawn_app_with(&[]).await;
    let alice = app.signup("alice").await;
    let id = app.new_conversation(&alice, &[]).await;
    let body = json!({"conversation_id": id, "content": "only once", "client_msg_id": "race"});

    let responses = join_all((0..10).map(|_| app.post_message(&alice, &body))).await;

    let created = responses
        .iter()
        .filter(|r| r.status.as_u16() == 201)
        .count();
    let repeated = responses
        .iter()
        .filter(|r| r.status.as_u16() == 200)
        .count();
    assert_eq!(
        (created, repeated),
        (1, 9),
        "statuses: {:?}",
        responses.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    let first = responses[0].json()["message"].clone();
    assert!(
        responses.iter().all(|r| r.json()["message"] == first),
        "every answer is the one message"
    );
    assert_eq!(app.all_messages(&alice, id).await.len(), 1);
    assert_eq!(
        app.send_message(&alice, id, "next").await["seq"],
        2,
        "the race used up no seq"
    );
}

#[actix_rt::test]
async fn one_username_registered_five_times_at_once_is_created_once() {
    let app = spawn_app_with(&[]).await;
    let body = json!({"username": "alice", "password": PASSWORD});

    let responses = join_all((0..5).map(|_| app.register(&body))).await;

    let mut statuses: Vec<u16> = responses.iter().map(|r| r.status.as_u16()).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409, 409, 409, 409]);
    for refused in responses.iter().filter(|r| r.status.as_u16() == 409) {
        refused.assert_error(409, "conflict");
    }
}

#[actix_rt::test]
async fn one_user_added_five_times_at_once_is_a_member_once() {
    let app = spawn_app_with(&[]).await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let id = app.new_conversation(&alice, &[]).await;

    let responses = join_all((0..5).map(|_| app.add_member(&alice, id, "bob"))).await;

    let mut statuses: Vec<u16> = responses.iter().map(|r| r.status.as_u16()).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 200, 200, 200, 201]);
    let members = app.get_conversation(&bob, id).await.json()["conversation"]["members"].clone();
    assert_eq!(members.as_array().map(Vec::len), Some(2), "{members}");
}
