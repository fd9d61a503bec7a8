//! `history` over a socket (docs/protocol.md): ascending by id, paged exactly as
//! `GET /api/messages`, refusals as `error` frames echoing `ref`.

use serde_json::json;

use crate::support::{ids_in, ids_of, spawn_app_with_alice_and_bob, WsClient};

// --- history ---

#[actix_rt::test]
async fn history_without_a_cursor_is_the_newest_page_ascending_with_has_more() {
    let (app, alice, _, id) = spawn_app_with_alice_and_bob().await;
    let sent = app.send_numbered_messages(&alice, id, 5).await;
    let mut socket = WsClient::ready(&app, &alice).await;

    socket
        .send_json(&json!({"type": "history", "conversation_id": id, "limit": 3, "ref": "h1"}))
        .await;

    let history = socket.recv().await;
    assert_eq!(history["type"], "history", "{history}");
    assert_eq!(history["ref"], "h1");
    assert_eq!(history["conversation_id"], id);
    assert_eq!(ids_in(&history["messages"]), ids_of(&sent[2..]));
    assert_eq!(history["has_more"], true);
}

#[actix_rt::test]
async fn history_after_an_id_returns_the_messages_after_it() {
    let (app, alice, _, id) = spawn_app_with_alice_and_bob().await;
    let sent = app.send_numbered_messages(&alice, id, 5).await;
    let mut socket = WsClient::ready(&app, &alice).await;

    let history = socket
        .request_reply(
            json!({"type": "history", "conversation_id": id, "after": sent[1]["id"], "limit": 2}),
        )
        .await;

    assert_eq!(
        ids_in(&history["messages"]),
        ids_of(&sent[2..4]),
        "{history}"
    );
    assert_eq!(history["has_more"], true);
}

#[actix_rt::test]
async fn history_before_an_id_returns_the_messages_right_before_it() {
    let (app, alice, _, id) = spawn_app_with_alice_and_bob().await;
    let sent = app.send_numbered_messages(&alice, id, 5).await;
    let mut socket = WsClient::ready(&app, &alice).await;

    let history = socket
        .request_reply(
            json!({"type": "history", "conversation_id": id, "before": sent[3]["id"], "limit": 2}),
        )
        .await;

    assert_eq!(
        ids_in(&history["messages"]),
        ids_of(&sent[1..3]),
        "{history}"
    );
    assert_eq!(history["has_more"], true);
}

#[actix_rt::test]
async fn history_pages_exactly_as_get_api_messages() {
    let (app, alice, _, id) = spawn_app_with_alice_and_bob().await;
    let sent = app.send_numbered_messages(&alice, id, 4).await;
    let mut socket = WsClient::ready(&app, &alice).await;
    let query = format!("conversation_id={id}&before={}&limit=2", sent[3]["id"]);

    let over_http = app.list_messages(&alice, &query).await.json();
    let history = socket
        .request_reply(
            json!({"type": "history", "conversation_id": id, "before": sent[3]["id"], "limit": 2}),
        )
        .await;

    assert_eq!(history["messages"], over_http["messages"]);
    assert_eq!(history["has_more"], over_http["has_more"]);
}

#[actix_rt::test]
async fn history_with_before_and_after_is_bad_request_with_the_ref() {
    let (app, alice, _, id) = spawn_app_with_alice_and_bob().await;
    let mut socket = WsClient::ready(&app, &alice).await;

    socket
        .send_json(&json!({"type": "history", "conversation_id": id, "before": 5, "after": 1, "ref": "h2"}))
        .await;

    let error = socket.recv().await;
    assert_eq!(error["type"], "error", "{error}");
    assert_eq!(error["code"], "bad_request");
    assert_eq!(error["ref"], "h2");
}

#[actix_rt::test]
async fn history_with_a_limit_out_of_range_is_bad_request() {
    let (app, alice, _, id) = spawn_app_with_alice_and_bob().await;
    let mut socket = WsClient::ready(&app, &alice).await;
    for limit in [0, 201, -1] {
        let reply = socket
            .request_reply(json!({"type": "history", "conversation_id": id, "limit": limit}))
            .await;

        assert_eq!(reply["code"], "bad_request", "limit {limit}: {reply}");
    }
}

#[actix_rt::test]
async fn history_of_a_conversation_of_others_is_not_found() {
    let (app, _, _, id) = spawn_app_with_alice_and_bob().await;
    let carol = app.signup("carol").await;
    let mut socket = WsClient::ready(&app, &carol).await;

    let reply = socket
        .request_reply(json!({"type": "history", "conversation_id": id}))
        .await;

    assert_eq!(reply["type"], "error", "{reply}");
    assert_eq!(reply["code"], "not_found");
}
