//! Group commit: many sends waiting at once are stored in one transaction. Seen from
//! outside nothing may change: each message is stored once, numbered without gap in its
//! conversation, acknowledged only once stored, and a repeated `client_msg_id` — even two
//! copies waiting in the same batch — is answered with the first message.
//! (A SIGKILL in the middle of a batch is in `faults.rs`.) Runs on whichever backend the
//! suite runs on.

use std::collections::HashMap;

use futures_util::future::join_all;
use serde_json::{json, Value};

use crate::support::{sorted_seqs, spawn_app_with, TestApp, TestUser, WsClient};

const CONVERSATIONS: usize = 5;
const SENDERS_PER_CONVERSATION: usize = 10;
const MESSAGES_PER_SENDER: usize = 3;

/// Five conversations of ten members each; the members' names are unique per test app.
async fn five_conversations(app: &TestApp) -> Vec<(Vec<TestUser>, i64)> {
    let mut conversations = Vec::new();
    for c in 0..CONVERSATIONS {
        let users = join_all(
            (0..SENDERS_PER_CONVERSATION)
                .map(|i| async move { app.signup(&format!("c{c}u{i}")).await }),
        )
        .await;
        let others: Vec<&TestUser> = users[1..].iter().collect();
        let id = app.new_conversation(&users[0], &others).await;
        conversations.push((users, id));
    }
    conversations
}

/// The acknowledged message of one send: over HTTP (201 with `message`) for even senders,
/// over a joined socket (`ack`) for odd ones.
async fn send_each(
    app: &TestApp,
    user: &TestUser,
    sender: usize,
    conversation_id: i64,
) -> Vec<(String, Value)> {
    let mut acked = Vec::new();
    let mut socket = if sender % 2 == 1 {
        Some(WsClient::joined(app, user, conversation_id).await)
    } else {
        None
    };
    for n in 0..MESSAGES_PER_SENDER {
        let cmid = format!("{}-{n}", user.username);
        let content = format!("{} says {n}", user.username);
        let message = match socket.as_mut() {
            Some(socket) => {
                let reply = socket
                    .request_reply(json!({
                        "type": "message",
                        "conversation_id": conversation_id,
                        "content": content,
                        "client_msg_id": cmid,
                    }))
                    .await;
                assert_eq!(reply["type"], "ack", "{reply}");
                reply["message"].clone()
            }
            None => {
                let response = app
                    .post_message(
                        user,
                        &json!({"conversation_id": conversation_id, "content": content, "client_msg_id": cmid}),
                    )
                    .await;
                response.assert_status(201);
                response.json()["message"].clone()
            }
        };
        acked.push((cmid, message));
    }
    acked
}

#[actix_rt::test]
async fn fifty_senders_over_http_and_sockets_into_five_conversations_store_each_message_once_in_order(
) {
    let app = spawn_app_with(&[("RATE_LIMIT_BURST", "1000")]).await;
    let conversations = five_conversations(&app).await;

    let app = &app;
    let sends = conversations.iter().flat_map(|(users, id)| {
        users
            .iter()
            .enumerate()
            .map(move |(sender, user)| send_each(app, user, sender, *id))
    });
    let acked: Vec<(String, Value)> = join_all(sends).await.into_iter().flatten().collect();

    assert_eq!(
        acked.len(),
        CONVERSATIONS * SENDERS_PER_CONVERSATION * MESSAGES_PER_SENDER
    );
    let per_conversation = SENDERS_PER_CONVERSATION * MESSAGES_PER_SENDER;
    for (users, id) in &conversations {
        let stored = app.all_messages(&users[0], *id).await;
        assert_eq!(
            sorted_seqs(&stored),
            (1..=per_conversation as i64).collect::<Vec<_>>(),
            "conversation {id} numbers its messages 1..{per_conversation} without gap"
        );
        let mut by_id: Vec<&Value> = stored.iter().collect();
        by_id.sort_by_key(|m| m["id"].as_i64());
        let seqs_in_id_order: Vec<i64> = by_id.iter().filter_map(|m| m["seq"].as_i64()).collect();
        assert_eq!(
            seqs_in_id_order,
            (1..=per_conversation as i64).collect::<Vec<_>>(),
            "ids and seqs rise together in conversation {id}"
        );
    }
    let mut stored_by_cmid: HashMap<String, Vec<Value>> = HashMap::new();
    for (users, id) in &conversations {
        for message in app.all_messages(&users[0], *id).await {
            let cmid = message["client_msg_id"]
                .as_str()
                .expect("client_msg_id")
                .to_string();
            stored_by_cmid.entry(cmid).or_default().push(message);
        }
    }
    for (cmid, message) in &acked {
        let stored = &stored_by_cmid[cmid];
        assert_eq!(stored.len(), 1, "{cmid} is stored exactly once");
        assert_eq!(
            stored[0]["id"], message["id"],
            "{cmid} was acked with its stored id"
        );
        assert_eq!(stored[0]["content"], message["content"]);
    }
}

#[actix_rt::test]
async fn copies_of_one_client_msg_id_sent_at_once_are_answered_with_the_first_message() {
    let app = spawn_app_with(&[("RATE_LIMIT_BURST", "100")]).await;
    let alice = app.signup("alice").await;
    let id = app.new_conversation(&alice, &[]).await;
    let body = json!({"conversation_id": id, "content": "only once", "client_msg_id": "dup-1"});

    let responses = join_all((0..12).map(|_| app.post_message(&alice, &body))).await;

    let created: Vec<_> = responses
        .iter()
        .filter(|r| r.status.as_u16() == 201)
        .collect();
    assert_eq!(created.len(), 1, "one copy creates the message");
    let first = created[0].json()["message"].clone();
    for response in &responses {
        assert!(
            matches!(response.status.as_u16(), 200 | 201),
            "every copy is answered: {}",
            response.status
        );
        assert_eq!(response.json()["message"]["id"], first["id"]);
    }
    let stored = app.all_messages(&alice, id).await;
    assert_eq!(stored.len(), 1, "the message is stored once");
    assert_eq!(stored[0]["seq"], 1, "a repeat takes no number");
}

#[actix_rt::test]
async fn copies_of_one_client_msg_id_on_a_socket_get_one_ack_each_and_one_delivery() {
    let app = spawn_app_with(&[("RATE_LIMIT_BURST", "100")]).await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let id = app.new_conversation(&alice, &[&bob]).await;
    let mut sender = WsClient::joined(&app, &alice, id).await;
    let mut watcher = WsClient::joined(&app, &bob, id).await;

    for _ in 0..5 {
        sender
            .send_json(&json!({"type": "message", "conversation_id": id, "content": "once", "client_msg_id": "same"}))
            .await;
    }
    sender
        .send_json(&json!({"type": "message", "conversation_id": id, "content": "after", "client_msg_id": "next"}))
        .await;

    let acks = sender.read_chat_messages(6).await;
    let first_id = acks[0]["id"].clone();
    for ack in &acks[..5] {
        assert_eq!(
            ack["id"], first_id,
            "every copy is acked with the first message"
        );
    }
    assert_eq!(acks[5]["seq"], 2, "the next message takes seq 2");
    let delivered = watcher.read_chat_messages(2).await;
    assert_eq!(delivered[0]["id"], first_id);
    assert_eq!(
        delivered[1]["content"], "after",
        "the copies were not delivered again"
    );
}

#[actix_rt::test]
async fn a_send_from_a_removed_member_waiting_with_others_is_refused_alone() {
    let app = spawn_app_with(&[("RATE_LIMIT_BURST", "100")]).await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let id = app.new_conversation(&alice, &[&bob]).await;
    app.remove_member(&bob, id, bob.id).await.assert_status(204);

    let (app, alice_ref, bob_ref) = (&app, &alice, &bob);
    let alices = (0..8).map(|n| async move {
        let body = json!({"conversation_id": id, "content": format!("a{n}")});
        app.post_message(alice_ref, &body).await
    });
    let bobs = (0..8).map(|n| async move {
        let body = json!({"conversation_id": id, "content": format!("b{n}")});
        app.post_message(bob_ref, &body).await
    });
    let (alices, bobs) = futures_util::join!(join_all(alices), join_all(bobs));

    for response in &alices {
        response.assert_status(201);
    }
    for response in &bobs {
        response.assert_status(404);
    }
    let stored = app.all_messages(&alice, id).await;
    assert_eq!(sorted_seqs(&stored), (1..=8).collect::<Vec<_>>());
}

#[actix_rt::test]
async fn two_servers_on_one_database_batching_into_the_same_conversations_number_every_message_once(
) {
    let first = spawn_app_with(&[("RATE_LIMIT_BURST", "1000")]).await;
    let second = first.another_instance().await;
    let alice = first.signup("alice").await;
    let bob = first.signup("bob").await;
    let one = first.new_conversation(&alice, &[&bob]).await;
    let two = first.new_conversation(&bob, &[&alice]).await;

    // Each server gets sends to both conversations at once, in opposite orders, so both
    // write paths lock both conversations in the same transactions.
    let sends = (0..40).map(|n| {
        let (server, user, conversation) = match n % 4 {
            0 => (&first, &alice, one),
            1 => (&first, &bob, two),
            2 => (&second, &bob, two),
            _ => (&second, &alice, one),
        };
        async move {
            let body = json!({"conversation_id": conversation, "content": format!("n{n}")});
            server.post_message(user, &body).await
        }
    });
    let responses = join_all(sends).await;

    for response in &responses {
        response.assert_status(201);
    }
    for conversation in [one, two] {
        let stored = first.all_messages(&alice, conversation).await;
        assert_eq!(
            sorted_seqs(&stored),
            (1..=20).collect::<Vec<_>>(),
            "conversation {conversation} numbers its 20 messages without gap or repeat"
        );
    }
}
