//! `GET /api/search`: full-text search over what the caller may read now, newest first,
//! paged by `before`; and `around` on `GET /api/messages` and the socket's `history`,
//! which open a conversation at a hit with its neighbours.

use std::collections::BTreeSet;

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use serde_json::{json, Value};

use crate::support::{
    alice_bob_and_carol, conversation_with, ids_in, ids_of, spawn_app_with_alice_and_bob, TestApp,
    TestResponse, TestUser, WsClient,
};

/// The ids of the hits of a `200` search, in the order given.
fn hit_ids(response: &TestResponse) -> Vec<i64> {
    response.assert_status(200);
    response.json()["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["message"]["id"].as_i64().expect("message.id"))
        .collect()
}

/// The matched stretches of each hit's content, as text.
fn matched_texts(response: &TestResponse) -> Vec<Vec<String>> {
    response.assert_status(200);
    response.json()["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            let content: Vec<char> = r["message"]["content"]
                .as_str()
                .expect("content")
                .chars()
                .collect();
            r["matches"]
                .as_array()
                .expect("matches")
                .iter()
                .map(|m| {
                    let start = m["start"].as_u64().expect("start") as usize;
                    let end = m["end"].as_u64().expect("end") as usize;
                    content[start..end].iter().collect()
                })
                .collect()
        })
        .collect()
}

/// Sends each text from `sender` and returns the ids, oldest first.
async fn sent_ids(app: &TestApp, sender: &TestUser, conversation: i64, texts: &[&str]) -> Vec<i64> {
    ids_of(&app.send_messages(sender, conversation, texts).await)
}

// --- finding ---

#[actix_rt::test]
async fn a_word_finds_the_messages_holding_it_newest_first_with_their_conversation() {
    let (app, alice, bob, id) = spawn_app_with_alice_and_bob().await;
    let ids = sent_ids(
        &app,
        &bob,
        id,
        &["we deploy on friday", "lunch?", "Deploy went fine"],
    )
    .await;

    let response = app.search(&alice, "deploy", "").await;

    assert_eq!(hit_ids(&response), [ids[2], ids[0]]);
    let body = response.json();
    let first = &body["results"][0];
    assert_eq!(first["conversation_id"], id);
    assert_eq!(first["conversation_title"], "a chat");
    assert_eq!(body["has_more"], false);
    let listed = app.all_messages(&alice, id).await;
    assert_eq!(
        first["message"], listed[2],
        "the same message object as GET /api/messages"
    );
    assert_eq!(matched_texts(&response), [vec!["Deploy"], vec!["deploy"]]);
}

#[actix_rt::test]
async fn a_prefix_finds_the_whole_word_and_highlights_it() {
    let (app, alice, _, id) = spawn_app_with_alice_and_bob().await;
    let ids = sent_ids(&app, &alice, id, &["Deployment done", "depot", "nothing"]).await;

    let response = app.search(&alice, "deplo", "").await;

    assert_eq!(hit_ids(&response), [ids[0]]);
    assert_eq!(matched_texts(&response), [vec!["Deployment"]]);
}

#[actix_rt::test]
async fn a_short_prefix_finds_the_words_it_begins() {
    let (app, alice, _, id) = spawn_app_with_alice_and_bob().await;
    let ids = sent_ids(&app, &alice, id, &["Deployment done", "a depot", "nothing"]).await;

    let two = app.search(&alice, "de", "").await;
    let one = app.search(&alice, "d", "").await;

    assert_eq!(hit_ids(&two), [ids[1], ids[0]]);
    assert_eq!(matched_texts(&two), [vec!["depot"], vec!["Deployment"]]);
    assert_eq!(hit_ids(&one), [ids[1], ids[0]]);
}

#[actix_rt::test]
async fn a_prefix_of_many_words_finds_every_one_of_them() {
    let (app, alice, _, id) = spawn_app_with_alice_and_bob().await;
    let words: Vec<String> = (0..70).map(|n| format!("zulu{n}")).collect();
    let ids = sent_ids(
        &app,
        &alice,
        id,
        &[&words[..35].join(" "), "unrelated", &words[35..].join(" ")],
    )
    .await;

    let response = app.search(&alice, "zulu", "").await;
    let narrower = app.search(&alice, "zulu6", "").await;

    assert_eq!(hit_ids(&response), [ids[2], ids[0]]);
    assert_eq!(matched_texts(&response)[0].len(), 35);
    assert_eq!(hit_ids(&narrower), [ids[2], ids[0]]);
    let narrower = matched_texts(&narrower);
    assert_eq!(narrower[0].len(), 10, "zulu60 to zulu69");
    assert_eq!(narrower[1], ["zulu6"]);
}

#[actix_rt::test]
async fn a_quoted_phrase_finds_only_those_words_in_that_order() {
    let (app, alice, _, id) = spawn_app_with_alice_and_bob().await;
    let ids = sent_ids(
        &app,
        &alice,
        id,
        &["ship it today", "it ship", "ship, it!", "shipit"],
    )
    .await;

    let response = app.search(&alice, "\"ship it\"", "").await;

    assert_eq!(hit_ids(&response), [ids[2], ids[0]]);
    assert_eq!(
        matched_texts(&response),
        [vec!["ship, it"], vec!["ship it"]]
    );
}

#[actix_rt::test]
async fn every_term_must_match() {
    let (app, alice, _, id) = spawn_app_with_alice_and_bob().await;
    let ids = sent_ids(&app, &alice, id, &["red apple", "green apple", "red car"]).await;

    let response = app.search(&alice, "apple red", "").await;

    assert_eq!(hit_ids(&response), [ids[0]]);
}

#[actix_rt::test]
async fn from_keeps_only_that_senders_messages() {
    let (app, alice, bob, id) = spawn_app_with_alice_and_bob().await;
    let from_alice = sent_ids(&app, &alice, id, &["release notes"]).await;
    sent_ids(&app, &bob, id, &["release party"]).await;

    let response = app.search(&bob, "from:Alice release", "").await;
    let nobody = app.search(&bob, "from:nosuchuser release", "").await;
    let malformed = app.search(&bob, "from:a! release", "").await;

    assert_eq!(hit_ids(&response), from_alice);
    assert!(hit_ids(&nobody).is_empty());
    assert!(hit_ids(&malformed).is_empty());
}

#[actix_rt::test]
async fn conversation_id_keeps_the_search_in_that_conversation() {
    let (app, alice, bob, first) = spawn_app_with_alice_and_bob().await;
    let second = app.new_conversation(&alice, &[&bob]).await;
    sent_ids(&app, &alice, first, &["budget draft"]).await;
    let in_second = sent_ids(&app, &alice, second, &["budget final"]).await;

    let response = app
        .search(&bob, "budget", &format!("conversation_id={second}"))
        .await;

    assert_eq!(hit_ids(&response), in_second);
}

// --- who sees what ---

#[actix_rt::test]
async fn a_non_member_never_sees_a_hit() {
    let (app, alice, _, carol, id) = alice_bob_and_carol().await;
    sent_ids(&app, &alice, id, &["secret plans"]).await;

    let response = app.search(&carol, "secret", "").await;
    let scoped = app
        .search(&carol, "secret", &format!("conversation_id={id}"))
        .await;

    assert!(hit_ids(&response).is_empty());
    scoped.assert_error(404, "not_found");
}

#[actix_rt::test]
async fn a_former_member_finds_nothing_from_a_conversation_they_left() {
    let (app, alice, bob, id) = spawn_app_with_alice_and_bob().await;
    let ids = sent_ids(&app, &alice, id, &["quarterly numbers"]).await;
    assert_eq!(hit_ids(&app.search(&bob, "quarterly", "").await), ids);

    app.remove_member(&bob, id, bob.id).await.assert_status(204);
    let response = app.search(&bob, "quarterly", "").await;

    assert!(hit_ids(&response).is_empty());
}

#[actix_rt::test]
async fn a_user_added_later_finds_the_earlier_messages() {
    let (app, alice, _, carol, id) = alice_bob_and_carol().await;
    let ids = sent_ids(&app, &alice, id, &["onboarding checklist"]).await;

    app.add_member(&alice, id, "carol").await.assert_status(201);
    let response = app.search(&carol, "onboarding", "").await;

    assert_eq!(hit_ids(&response), ids);
}

// --- edits and deletes ---

#[actix_rt::test]
async fn an_edit_changes_what_is_found_at_once() {
    let (app, alice, _, id) = spawn_app_with_alice_and_bob().await;
    let ids = sent_ids(&app, &alice, id, &["meet at the apple stand"]).await;

    app.edit_message(
        &alice,
        ids[0],
        &json!({"content": "meet at the banana stand"}),
    )
    .await
    .assert_status(200);

    assert!(hit_ids(&app.search(&alice, "apple", "").await).is_empty());
    let found = app.search(&alice, "banana", "").await;
    assert_eq!(hit_ids(&found), ids);
    assert_eq!(matched_texts(&found), [vec!["banana"]]);
}

#[actix_rt::test]
async fn a_deleted_message_is_found_no_more() {
    let (app, alice, _, id) = spawn_app_with_alice_and_bob().await;
    let ids = sent_ids(&app, &alice, id, &["typo message", "typo again"]).await;

    app.delete_message(&alice, ids[1]).await.assert_status(204);

    assert_eq!(hit_ids(&app.search(&alice, "typo", "").await), [ids[0]]);
}

// --- paging ---

#[actix_rt::test]
async fn paging_with_before_returns_each_hit_once() {
    let (app, alice, bob, id) = spawn_app_with_alice_and_bob().await;
    let texts: Vec<String> = (0..23)
        .map(|n| {
            if n % 4 == 3 {
                format!("noise {n}")
            } else {
                format!("standup {n}")
            }
        })
        .collect();
    let sent = app.send_messages(&bob, id, &texts).await;
    let mut expected: Vec<i64> = sent
        .iter()
        .filter(|m| m["content"].as_str().is_some_and(|c| c.contains("standup")))
        .map(|m| m["id"].as_i64().expect("id"))
        .collect();
    expected.reverse();

    let mut seen: Vec<i64> = Vec::new();
    let mut before = String::new();
    loop {
        let response = app
            .search(&alice, "standup", &format!("limit=5{before}"))
            .await;
        let page = hit_ids(&response);
        seen.extend(&page);
        if response.json()["has_more"] != true {
            break;
        }
        before = format!("&before={}", page.last().expect("a full page"));
    }

    assert_eq!(seen, expected, "every hit once, newest first");
    assert_eq!(seen.iter().collect::<BTreeSet<_>>().len(), seen.len());
}

#[actix_rt::test]
async fn limit_defaults_to_20() {
    let (app, alice, _, id) = spawn_app_with_alice_and_bob().await;
    app.send_messages(&alice, id, (0..21).map(|n| format!("ping {n}")))
        .await;

    let response = app.search(&alice, "ping", "").await;

    assert_eq!(hit_ids(&response).len(), 20);
    assert_eq!(response.json()["has_more"], true);
}

// --- refusals ---

#[actix_rt::test]
async fn an_empty_missing_too_long_or_operator_only_q_is_refused_naming_q() {
    let (app, alice, _, _) = spawn_app_with_alice_and_bob().await;
    let too_long = "a".repeat(201);

    for q in [
        "",
        "   ",
        too_long.as_str(),
        "AND OR NOT NEAR",
        "\"\" * - ( ) : ^",
        "from:alice",
    ] {
        app.search(&alice, q, "")
            .await
            .assert_bad_request_naming("q");
    }
    app.get("/api/search", &alice)
        .await
        .assert_bad_request_naming("q");
    app.search(&alice, &"a".repeat(200), "")
        .await
        .assert_status(200);
}

#[actix_rt::test]
async fn limit_and_cursor_out_of_range_are_refused_naming_them() {
    let (app, alice, _, _) = spawn_app_with_alice_and_bob().await;

    for limit in ["0", "51", "x"] {
        app.search(&alice, "hi", &format!("limit={limit}"))
            .await
            .assert_bad_request_naming("limit");
    }
    app.search(&alice, "hi", "before=0")
        .await
        .assert_bad_request_naming("before");
    app.search(&alice, "hi", "conversation_id=abc")
        .await
        .assert_bad_request_naming("conversation_id");
    app.search(&alice, "hi", "limit=50")
        .await
        .assert_status(200);
}

#[actix_rt::test]
async fn a_conversation_of_someone_else_is_404_before_a_bad_q() {
    let (app, _, _, carol, id) = alice_bob_and_carol().await;

    let response = app
        .search(&carol, "", &format!("conversation_id={id}"))
        .await;

    response.assert_error(404, "not_found");
}

#[actix_rt::test]
async fn search_needs_a_credential() {
    let (app, _, _, _) = spawn_app_with_alice_and_bob().await;

    let response = app
        .get("/api/search?q=hi", crate::support::Auth::None)
        .await;

    response.assert_error(401, "unauthorized");
}

#[actix_rt::test]
async fn engine_syntax_typed_as_text_is_harmless() {
    let (app, alice, _, id) = spawn_app_with_alice_and_bob().await;
    let ids = sent_ids(&app, &alice, id, &["NEAR the (old) mill: a-b*c"]).await;

    for q in [
        "NEAR(old mill)",
        "old OR",
        "\"old\" AND mill",
        "mill:*",
        "-old",
        "a-b*c",
        "(old",
        "mill' OR 1=1 --",
        "old\\",
        "^old",
    ] {
        let response = app.search(&alice, q, "").await;
        response.assert_status(200);
        let expected: &[i64] = if q.contains('1') { &[] } else { &ids };
        assert_eq!(hit_ids(&response), expected, "{q}");
    }
}

#[actix_rt::test]
async fn any_text_as_q_is_answered_with_200_or_400_never_a_server_error() {
    let (app, alice, _, id) = spawn_app_with_alice_and_bob().await;
    sent_ids(
        &app,
        &alice,
        id,
        &["some \"quoted\" NEAR text: (a*b) -c ^d"],
    )
    .await;
    let strategy = proptest::prop_oneof![
        proptest::string::string_regex(".{0,220}").expect("a valid pattern"),
        proptest::string::string_regex(r#"[ "*():^+\-/'\\a-dNEARORTD0-9]{0,40}"#)
            .expect("a valid pattern"),
    ];
    let mut runner = TestRunner::deterministic();

    for _ in 0..64 {
        let q = strategy.new_tree(&mut runner).expect("a value").current();
        let response = app.search(&alice, &q, "").await;
        let status = response.status.as_u16();
        assert!(
            matches!(status, 200 | 400),
            "q {q:?}: {status} {}",
            response.text()
        );
        if status == 400 {
            response.assert_bad_request_naming("q");
        }
    }
}

// --- the migration ---

/// Takes the search index away (its migration's `down.sql`), stores `insert` as if before
/// it existed, and applies the migration again, as an upgraded server would.
fn store_before_the_search_index(database_url: &str, insert: String) {
    use diesel::connection::SimpleConnection;
    use diesel::Connection;
    use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
    const PG: EmbeddedMigrations = embed_migrations!("migrations/postgres");
    const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

    fn redo<C: MigrationHarness<B> + SimpleConnection, B: diesel::backend::Backend>(
        conn: &mut C,
        migrations: EmbeddedMigrations,
        insert: &str,
    ) {
        let all = diesel::migration::MigrationSource::<B>::migrations(&migrations)
            .expect("the embedded migrations");
        let search = all
            .iter()
            .find(|m| m.name().to_string().ends_with("_message_search"))
            .expect("the search migration");
        conn.revert_migration(search.as_ref())
            .expect("the search index is taken away");
        conn.batch_execute(insert).expect("the old row is stored");
        conn.run_migration(search.as_ref())
            .expect("the search migration runs again");
    }

    let url = database_url.to_string();
    std::thread::spawn(move || match url.strip_prefix("sqlite://") {
        Some(path) => {
            let mut conn =
                diesel::SqliteConnection::establish(path).expect("the SQLite file opens");
            redo(&mut conn, SQLITE, &insert);
        }
        None => {
            let mut conn = diesel_async::async_connection_wrapper::AsyncConnectionWrapper::<
                diesel_async::AsyncPgConnection,
            >::establish(&url)
            .expect("the PostgreSQL database opens");
            redo(&mut conn, PG, &insert);
        }
    })
    .join()
    .expect("the migration thread ends");
}

#[actix_rt::test]
async fn messages_stored_before_the_index_existed_are_found() {
    let (app, alice, _, id) = spawn_app_with_alice_and_bob().await;
    let insert = format!(
        "INSERT INTO messages (conversation_id, seq, sender_id, content, created_at) \
         VALUES ({id}, 1, {}, 'an archived artefact', '2026-01-01 00:00:00')",
        alice.id
    );
    let url = app.var("DATABASE_URL").expect("DATABASE_URL").to_string();

    actix_web::rt::task::spawn_blocking(move || store_before_the_search_index(&url, insert))
        .await
        .expect("the blocking task ends");
    let response = app.search(&alice, "artefact", "").await;

    assert_eq!(hit_ids(&response).len(), 1, "{}", response.text());
    assert_eq!(matched_texts(&response), [vec!["artefact"]]);
}

// --- around ---

#[actix_rt::test]
async fn around_returns_the_message_with_its_neighbours_on_both_sides() {
    let (app, alice, id, ids) = conversation_with(9).await;

    let response = app
        .list_messages(
            &alice,
            &format!("conversation_id={id}&around={}&limit=4", ids[4]),
        )
        .await;

    response.assert_status(200);
    let body = response.json();
    assert_eq!(
        ids_in(&body["messages"]),
        ids[3..7],
        "two up to it, two after"
    );
    assert_eq!(body["has_more_before"], true);
    assert_eq!(body["has_more_after"], true);
    assert_eq!(body["has_more"], true);
}

#[actix_rt::test]
async fn around_near_an_end_says_which_side_has_more() {
    let (app, alice, id, ids) = conversation_with(5).await;

    let response = app
        .list_messages(
            &alice,
            &format!("conversation_id={id}&around={}&limit=4", ids[4]),
        )
        .await;

    let body = response.json();
    assert_eq!(ids_in(&body["messages"]), ids[3..5]);
    assert_eq!(body["has_more_before"], true);
    assert_eq!(body["has_more_after"], false);
}

#[actix_rt::test]
async fn around_with_before_or_after_is_refused_naming_around() {
    let (app, alice, id, ids) = conversation_with(3).await;

    for cursor in ["before", "after"] {
        app.list_messages(
            &alice,
            &format!("conversation_id={id}&around={}&{cursor}={}", ids[1], ids[0]),
        )
        .await
        .assert_bad_request_naming("around");
    }
    app.list_messages(&alice, &format!("conversation_id={id}&around=0"))
        .await
        .assert_bad_request_naming("around");
}

#[actix_rt::test]
async fn a_page_without_around_keeps_its_shape() {
    let (app, alice, id, _) = conversation_with(3).await;

    let body = app
        .list_messages(&alice, &format!("conversation_id={id}"))
        .await
        .json();

    assert!(body.get("has_more_before").is_none(), "{body}");
    assert!(body.get("has_more_after").is_none(), "{body}");
}

#[actix_rt::test]
async fn history_around_over_a_socket_returns_the_neighbours() {
    let (app, alice, _, id) = spawn_app_with_alice_and_bob().await;
    let sent = app.send_numbered_messages(&alice, id, 7).await;
    let mut socket = WsClient::ready(&app, &alice).await;

    let history: Value = socket
        .request_reply(
            json!({"type": "history", "conversation_id": id, "around": sent[3]["id"], "limit": 3}),
        )
        .await;

    assert_eq!(history["type"], "history", "{history}");
    assert_eq!(ids_in(&history["messages"]), ids_of(&sent[2..5]));
    assert_eq!(history["has_more_before"], true);
    assert_eq!(history["has_more_after"], true);
}

#[actix_rt::test]
async fn the_socket_schema_documents_around_and_the_sides_of_a_page() {
    let (app, _, _, _) = spawn_app_with_alice_and_bob().await;

    let schema = app.get_json("/ws/schema.json").await.to_string();

    for field in ["around", "has_more_before", "has_more_after"] {
        assert!(schema.contains(&format!("\"{field}\"")), "{field}");
    }
}

#[actix_rt::test]
async fn the_openapi_document_gives_the_search_limits() {
    let (app, _, _, _) = spawn_app_with_alice_and_bob().await;

    let doc = app.get_json("/openapi.json").await;

    let params = doc["paths"]["/api/search"]["get"]["parameters"]
        .as_array()
        .expect("parameters")
        .clone();
    let param = |name: &str| -> Value {
        params
            .iter()
            .find(|p| p["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("parameter {name}"))
    };
    assert_eq!(param("q")["required"], true);
    assert_eq!(param("q")["schema"]["minLength"], 1);
    assert_eq!(param("q")["schema"]["maxLength"], 200);
    assert_eq!(param("limit")["schema"]["minimum"], 1);
    assert_eq!(param("limit")["schema"]["maximum"], 50);
    let statuses = doc["paths"]["/api/search"]["get"]["responses"]
        .as_object()
        .expect("responses");
    for status in ["200", "400", "401", "404"] {
        assert!(statuses.contains_key(status), "{status}");
    }
    let around = doc["paths"]["/api/messages"]["get"]["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .any(|p| p["name"] == "around");
    assert!(around, "around is documented on GET /api/messages");
}
