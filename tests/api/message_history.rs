//! `GET /api/messages`: pages of history, always ascending by id.

use crate::support::{conversation_with, page};

#[actix_rt::test]
async fn without_a_cursor_the_newest_50_come_ascending_with_has_more() {
    let (app, alice, id, ids) = conversation_with(55).await;

    let response = app
        .list_messages(&alice, &format!("conversation_id={id}"))
        .await;

    let (got, has_more) = page(&response);
    assert_eq!(got, ids[5..]);
    assert!(has_more, "older messages exist");
}

#[actix_rt::test]
async fn a_short_history_comes_whole_without_has_more() {
    let (app, alice, id, ids) = conversation_with(3).await;

    let response = app
        .list_messages(&alice, &format!("conversation_id={id}"))
        .await;

    let (got, has_more) = page(&response);
    assert_eq!(got, ids);
    assert!(!has_more);
    let body = response.json();
    let contents: Vec<&str> = body["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["content"].as_str().expect("content"))
        .collect();
    assert_eq!(contents, ["m1", "m2", "m3"]);
}

#[actix_rt::test]
async fn limit_picks_the_newest_that_many() {
    let (app, alice, id, ids) = conversation_with(5).await;

    let response = app
        .list_messages(&alice, &format!("conversation_id={id}&limit=2"))
        .await;

    assert_eq!(page(&response), (ids[3..].to_vec(), true));
}

#[actix_rt::test]
async fn limit_equal_to_the_history_has_no_more() {
    let (app, alice, id, ids) = conversation_with(3).await;

    let response = app
        .list_messages(&alice, &format!("conversation_id={id}&limit=3"))
        .await;

    assert_eq!(page(&response), (ids, false));
}

#[actix_rt::test]
async fn before_gives_the_messages_right_before_ascending() {
    let (app, alice, id, ids) = conversation_with(6).await;

    let response = app
        .list_messages(
            &alice,
            &format!("conversation_id={id}&before={}&limit=2", ids[4]),
        )
        .await;

    assert_eq!(page(&response), (vec![ids[2], ids[3]], true));
}

#[actix_rt::test]
async fn before_reaching_the_first_message_has_no_more() {
    let (app, alice, id, ids) = conversation_with(6).await;

    let response = app
        .list_messages(
            &alice,
            &format!("conversation_id={id}&before={}&limit=2", ids[2]),
        )
        .await;

    assert_eq!(page(&response), (vec![ids[0], ids[1]], false));
}

#[actix_rt::test]
async fn after_gives_the_messages_right_after_ascending_with_has_more_if_newer_exist() {
    let (app, alice, id, ids) = conversation_with(6).await;

    let response = app
        .list_messages(
            &alice,
            &format!("conversation_id={id}&after={}&limit=2", ids[1]),
        )
        .await;

    assert_eq!(page(&response), (vec![ids[2], ids[3]], true));
}

#[actix_rt::test]
async fn after_reaching_the_newest_message_has_no_more() {
    let (app, alice, id, ids) = conversation_with(6).await;

    let response = app
        .list_messages(
            &alice,
            &format!("conversation_id={id}&after={}&limit=2", ids[3]),
        )
        .await;

    assert_eq!(page(&response), (vec![ids[4], ids[5]], false));
}

#[actix_rt::test]
async fn paging_back_with_before_walks_the_whole_history_once() {
    let (app, alice, id, ids) = conversation_with(7).await;
    let mut seen: Vec<i64> = Vec::new();
    let mut query = format!("conversation_id={id}&limit=3");

    loop {
        let (got, has_more) = page(&app.list_messages(&alice, &query).await);
        seen.splice(0..0, got.iter().copied());
        if !has_more {
            break;
        }
        query = format!("conversation_id={id}&limit=3&before={}", got[0]);
    }

    assert_eq!(seen, ids);
}

#[actix_rt::test]
async fn messages_of_other_conversations_never_appear() {
    let (app, alice, id, ids) = conversation_with(2).await;
    let other = app.new_conversation(&alice, &[]).await;
    app.send_message(&alice, other, "elsewhere").await;

    let response = app
        .list_messages(&alice, &format!("conversation_id={id}"))
        .await;

    assert_eq!(page(&response), (ids, false));
}

#[actix_rt::test]
async fn a_limit_of_1_and_of_200_are_accepted() {
    let (app, alice, id, ids) = conversation_with(2).await;

    let one = app
        .list_messages(&alice, &format!("conversation_id={id}&limit=1"))
        .await;
    let most = app
        .list_messages(&alice, &format!("conversation_id={id}&limit=200"))
        .await;

    assert_eq!(page(&one), (vec![ids[1]], true));
    assert_eq!(page(&most), (ids, false));
}

#[actix_rt::test]
async fn a_limit_outside_1_to_200_or_not_a_number_is_400_naming_limit() {
    let (app, alice, id, _) = conversation_with(1).await;
    for limit in ["0", "201", "abc", "-1", ""] {
        let response = app
            .list_messages(&alice, &format!("conversation_id={id}&limit={limit}"))
            .await;

        response.assert_error(400, "bad_request");
        assert!(
            response.error_message().contains("limit"),
            "limit={limit}: {}",
            response.text()
        );
    }
}

#[actix_rt::test]
async fn before_and_after_together_are_400() {
    let (app, alice, id, ids) = conversation_with(3).await;

    let response = app
        .list_messages(
            &alice,
            &format!("conversation_id={id}&before={}&after={}", ids[2], ids[0]),
        )
        .await;

    response.assert_error(400, "bad_request");
}

#[actix_rt::test]
async fn a_cursor_that_is_not_an_id_is_400_naming_it() {
    let (app, alice, id, _) = conversation_with(1).await;
    for cursor in ["before", "after"] {
        let response = app
            .list_messages(&alice, &format!("conversation_id={id}&{cursor}=xyz"))
            .await;

        response.assert_error(400, "bad_request");
        assert!(
            response.error_message().contains(cursor),
            "{}",
            response.text()
        );
    }
}

#[actix_rt::test]
async fn a_missing_or_invalid_conversation_id_is_400_naming_it() {
    let (app, alice, _, _) = conversation_with(1).await;
    for query in ["", "limit=5", "conversation_id=abc"] {
        let response = app.list_messages(&alice, query).await;

        response.assert_error(400, "bad_request");
        assert!(
            response.error_message().contains("conversation_id"),
            "{query}: {}",
            response.text()
        );
    }
}

#[actix_rt::test]
async fn a_non_member_listing_is_404() {
    let (app, _, id, _) = conversation_with(1).await;
    let mallory = app.signup("mallory").await;

    let response = app
        .list_messages(&mallory, &format!("conversation_id={id}"))
        .await;

    response.assert_error(404, "not_found");
}

#[actix_rt::test]
async fn listing_an_unknown_conversation_is_404() {
    let (app, alice, id, _) = conversation_with(1).await;

    let response = app
        .list_messages(&alice, &format!("conversation_id={}", id + 1000))
        .await;

    response.assert_error(404, "not_found");
}
