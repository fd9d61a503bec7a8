//! The bundled page in a real browser: two people chatting live, signing out and in,
//! hostile content, a phone-sized screen, long histories and a server restart. They need
//! Debian's chromium and chromium-driver, so a plain `cargo test` reports them ignored;
//! `cargo test browser -- --include-ignored` runs them.

use serde_json::json;

use crate::support::{begin_shutdown, spawn_app, spawn_site, Auth, Browser, Driver};

const DESKTOP: (u32, u32) = (1280, 800);
const PHONE: (u32, u32) = (390, 844);

async fn browser(driver: &Driver, (width, height): (u32, u32)) -> Browser {
    driver.browser(width, height).await
}

#[actix_rt::test]
async fn every_asset_the_page_links_or_imports_is_served() {
    let app = spawn_app().await;
    let page = app.get("/", Auth::None).await.text();
    let mut assets: Vec<String> = page
        .split(['"', '\''])
        .filter(|part| part.starts_with("/static/"))
        .map(str::to_string)
        .collect();
    let mut index = 0;
    while index < assets.len() {
        let asset = assets[index].clone();
        let response = app.get(&asset, Auth::None).await;
        response.assert_status(200);
        if asset.ends_with(".js") {
            for import in response.text().split('"').filter(|p| p.starts_with("./")) {
                let path = format!("/static/{}", import.trim_start_matches("./"));
                if !assets.contains(&path) {
                    assets.push(path);
                }
            }
        }
        index += 1;
    }

    assert!(
        assets.iter().any(|a| a.ends_with("favicon.svg")),
        "{assets:?}"
    );
    assert!(
        assets.iter().any(|a| a.ends_with("timeline.js")),
        "{assets:?}"
    );
}

#[actix_rt::test]
#[ignore = "needs chromium and chromium-driver"]
async fn a_first_visit_shows_the_sign_in_form_without_asking_about_a_session() {
    let site = spawn_site(&[]).await;
    let driver = Driver::start().await;
    let page = browser(&driver, DESKTOP).await;

    page.open(&site.url("/")).await;

    page.wait_until(
        "the sign-in form",
        "!document.getElementById('auth').hidden",
    )
    .await;
    page.wait_until(
        "the favicon drawn",
        "document.querySelector('.brand img').naturalWidth > 0",
    )
    .await;
    let asked = page
        .eval(
            "return performance.getEntriesByType('resource')\
             .filter((e) => e.name.includes('/api/')).map((e) => e.name)",
        )
        .await;
    assert_eq!(asked, json!([]));
    page.close().await;
}

#[actix_rt::test]
#[ignore = "needs chromium and chromium-driver"]
async fn two_people_chat_both_ways_live_and_see_typing_edits_and_deletions() {
    let site = spawn_site(&[]).await;
    let driver = Driver::start().await;
    let alice = browser(&driver, DESKTOP).await;
    let bob = browser(&driver, DESKTOP).await;
    alice.sign_up(&site, "alice").await;
    bob.sign_up(&site, "bob").await;

    alice.create_conversation("Weekend plans", &["bob"]).await;
    bob.open_conversation("Weekend plans").await;
    alice.send_message("Hi Bob! Hiking on Saturday?").await;
    bob.wait_for_message("Hi Bob! Hiking on Saturday?").await;
    bob.send_message("Sounds great. Where do we meet?").await;
    alice
        .wait_for_message("Sounds great. Where do we meet?")
        .await;

    bob.keys("#content", "The station at").await;
    alice
        .wait_until(
            "bob typing",
            "document.getElementById('typing').textContent === 'bob is typing…'",
        )
        .await;
    alice
        .wait_until(
            "bob's read marker",
            "document.getElementById('seen').textContent === 'Seen by bob'",
        )
        .await;
    alice.screenshot("chat-desktop").await;

    alice.click("#messages li.own[data-id] .edit").await;
    alice.fill("#content", "Hi Bob! Hiking on Sunday?").await;
    alice
        .keys(
            "#content",
            &char::from(fantoccini::key::Key::Enter).to_string(),
        )
        .await;
    bob.wait_for_message("Hi Bob! Hiking on Sunday?").await;
    bob.wait_until(
        "the edited mark",
        "document.querySelector('#messages li[data-id]:not(.own) .edited')",
    )
    .await;

    alice.click("#messages li.own[data-id] .delete").await;
    alice.click("#messages li.own[data-id] .delete").await;
    bob.wait_until(
        "the message deleted",
        "document.querySelector('#messages li.deleted .body')?.textContent === 'message deleted'",
    )
    .await;

    assert_eq!(
        bob.message_texts().await,
        ["message deleted", "Sounds great. Where do we meet?"]
    );
    alice.close().await;
    bob.close().await;
}

#[actix_rt::test]
#[ignore = "needs chromium and chromium-driver"]
async fn signing_out_and_at_once_in_as_someone_else_keeps_the_new_user_signed_in() {
    let site = spawn_site(&[]).await;
    site.app.signup("carol").await;
    let driver = Driver::start().await;
    let page = browser(&driver, DESKTOP).await;
    page.sign_up(&site, "alice").await;

    page.click("#logout").await;
    page.sign_in("carol").await;

    page.create_conversation("Carol's notes", &[]).await;
    page.send_message("still here").await;
    page.wait_for_message("still here").await;
    page.wait_until_connected().await;
    let shown = page
        .eval("return [document.getElementById('whoami').textContent, document.getElementById('auth').hidden]")
        .await;
    assert_eq!(shown, json!(["carol", true]));
    page.close().await;
}

#[actix_rt::test]
#[ignore = "needs chromium and chromium-driver"]
async fn a_message_that_looks_like_html_shows_as_text_and_a_url_becomes_a_safe_link() {
    let site = spawn_site(&[]).await;
    let driver = Driver::start().await;
    let page = browser(&driver, DESKTOP).await;
    page.sign_up(&site, "alice").await;
    page.create_conversation("Links", &[]).await;

    page.send_message("<img src=x onerror=alert(1)>").await;
    page.send_message("see https://example.com/path?q=1, then reply")
        .await;

    page.wait_for_message("<img src=x onerror=alert(1)>").await;
    page.wait_for_message("see https://example.com/path?q=1, then reply")
        .await;
    let images = page
        .eval("return document.querySelectorAll('#messages img').length")
        .await;
    assert_eq!(images, json!(0));
    let link = page
        .eval(
            "const a = document.querySelector('#messages a'); \
             return [a.getAttribute('href'), a.textContent, a.rel, a.target]",
        )
        .await;
    assert_eq!(
        link,
        json!([
            "https://example.com/path?q=1",
            "https://example.com/path?q=1",
            "noopener noreferrer",
            "_blank"
        ])
    );
    page.close().await;
}

#[actix_rt::test]
#[ignore = "needs chromium and chromium-driver"]
async fn on_a_phone_a_person_can_create_a_conversation_and_send_a_message() {
    let site = spawn_site(&[]).await;
    site.app.signup("bob").await;
    let driver = Driver::start().await;
    let page = browser(&driver, PHONE).await;
    page.sign_up(&site, "alice").await;

    page.create_conversation("Lunch", &["bob"]).await;
    page.send_message("Pizza at noon? https://example.com/menu")
        .await;

    page.wait_for_message("Pizza at noon? https://example.com/menu")
        .await;
    let layout = page
        .eval(
            "const shown = (s) => getComputedStyle(document.querySelector(s)).display !== 'none'; \
             return [innerWidth, shown('.sidebar'), shown('#room'), shown('#back'), \
                     document.documentElement.scrollWidth <= innerWidth]",
        )
        .await;
    assert_eq!(layout, json!([390, false, true, true, true]));
    page.screenshot("chat-phone").await;

    page.click("#back").await;
    page.wait_until(
        "the list again",
        "getComputedStyle(document.querySelector('.sidebar')).display !== 'none' \
         && getComputedStyle(document.getElementById('room')).display === 'none'",
    )
    .await;
    page.close().await;
}

#[actix_rt::test]
#[ignore = "needs chromium and chromium-driver"]
async fn scrolling_to_the_top_of_300_messages_loads_them_all_in_order_once() {
    let site = spawn_site(&[]).await;
    let alice = site.app.signup("alice").await;
    let id = site.app.new_conversation(&alice, &[]).await;
    site.app.send_numbered_messages(&alice, id, 300).await;
    let driver = Driver::start().await;
    let page = browser(&driver, DESKTOP).await;
    page.open(&site.url("/")).await;
    page.sign_in("alice").await;
    page.open_conversation("a chat").await;
    page.wait_for_message("message 299").await;

    let mut loads = 0;
    loop {
        let shown = page
            .eval("return document.querySelectorAll('#messages li[data-id]').length")
            .await;
        let shown = shown.as_u64().expect("a count");
        if shown >= 300 || loads > 20 {
            break;
        }
        let top = page
            .eval(
                "const list = document.getElementById('messages'); list.scrollTop = 0; \
                 const first = list.querySelector('li[data-id]'); \
                 return [first.dataset.id, first.getBoundingClientRect().top]",
            )
            .await;
        page.wait_until_with(
            "an older page",
            "document.querySelectorAll('#messages li[data-id]').length > arguments[0]",
            vec![json!(shown)],
        )
        .await;
        let moved = page
            .eval_with(
                "const item = document.querySelector(`#messages li[data-id=\"${arguments[0]}\"]`); \
                 return Math.abs(item.getBoundingClientRect().top - arguments[1])",
                vec![top[0].clone(), top[1].clone()],
            )
            .await;
        assert!(moved.as_f64().expect("a distance") < 2.0, "moved {moved}");
        loads += 1;
    }

    let expected: Vec<String> = (0..300).map(|n| format!("message {n}")).collect();
    assert_eq!(page.message_texts().await, expected);
    page.wait_until(
        "the start of the conversation",
        "document.querySelector('#messages .history-edge')",
    )
    .await;
    page.close().await;
}

#[actix_rt::test]
#[ignore = "needs chromium and chromium-driver"]
async fn across_a_server_restart_nothing_is_lost_and_nothing_doubled() {
    let site = spawn_site(&[("SHUTDOWN_TIMEOUT_SECS", "2")]).await;
    let (server, shutdown) = site.app.stoppable_instance().await;
    site.relay.point_at(server.port);
    let bob = site.app.signup("bob").await;
    let driver = Driver::start().await;
    let page = browser(&driver, DESKTOP).await;
    page.sign_up(&site, "alice").await;
    page.create_conversation("Resilience", &["bob"]).await;
    page.send_message("before the restart").await;
    page.wait_for_message("before the restart").await;
    let id = site.app.list_conversations(&bob).await.json()["conversations"][0]["id"]
        .as_i64()
        .expect("bob's conversation");

    site.relay.hold();
    begin_shutdown(shutdown);
    page.wait_until(
        "the page offline",
        "document.getElementById('connection').dataset.state !== 'online'",
    )
    .await;
    page.send_message("typed while offline").await;
    page.wait_until(
        "the message pending",
        "document.querySelector('#messages li.pending .body')?.textContent === 'typed while offline'",
    )
    .await;
    for n in 1..=3 {
        site.app
            .send_message(&bob, id, &format!("while you were away {n}"))
            .await;
    }
    let again = site.app.another_instance().await;
    site.relay.point_at(again.port);

    page.wait_until_connected().await;
    page.wait_for_message("typed while offline").await;
    page.wait_for_message("while you were away 3").await;
    page.wait_until(
        "nothing pending",
        "!document.querySelector('#messages li.pending')",
    )
    .await;
    assert_eq!(
        page.message_texts().await,
        [
            "before the restart",
            "while you were away 1",
            "while you were away 2",
            "while you were away 3",
            "typed while offline",
        ]
    );
    let stored = again.all_messages(&bob, id).await;
    let contents: Vec<&str> = stored
        .iter()
        .filter_map(|m| m["content"].as_str())
        .collect();
    assert_eq!(
        contents,
        [
            "before the restart",
            "while you were away 1",
            "while you were away 2",
            "while you were away 3",
            "typed while offline",
        ]
    );
    page.close().await;
}

#[actix_rt::test]
#[ignore = "needs chromium and chromium-driver"]
async fn the_owner_adds_and_removes_a_member_who_sees_both_live() {
    let site = spawn_site(&[]).await;
    let driver = Driver::start().await;
    let alice = browser(&driver, DESKTOP).await;
    let carol = browser(&driver, DESKTOP).await;
    alice.sign_up(&site, "alice").await;
    carol.sign_up(&site, "carol").await;
    alice.create_conversation("Book club", &[]).await;

    alice.click("#members-toggle").await;
    alice.fill("#add-username", "carol").await;
    alice.click("#add-member button[type=submit]").await;
    carol.open_conversation("Book club").await;
    alice
        .wait_until(
            "carol online among the members",
            "[...document.querySelectorAll('#members li')]\
             .some((li) => li.textContent.includes('carol') && li.querySelector('.dot.online'))",
        )
        .await;
    alice.send_message("Welcome, Carol").await;
    carol.wait_for_message("Welcome, Carol").await;

    alice.click("#members .remove").await;

    carol
        .wait_until(
            "the conversation gone",
            "![...document.querySelectorAll('#conversations .title')]\
             .some((t) => t.textContent === 'Book club') \
             && document.getElementById('room-title').textContent === 'Pick a conversation'",
        )
        .await;
    alice
        .wait_until(
            "one member left",
            "document.querySelectorAll('#members li').length === 1",
        )
        .await;
    alice.close().await;
    carol.close().await;
}

#[actix_rt::test]
#[ignore = "needs chromium and chromium-driver"]
async fn unsent_messages_survive_a_reload_and_are_stored_once() {
    let site = spawn_site(&[]).await;
    let alice = site.app.signup("alice").await;
    let id = site.app.new_conversation(&alice, &[]).await;
    // Stored already, its ack lost: the page still holds it as unsent.
    site.app
        .post_message(
            &alice,
            &json!({"conversation_id": id, "content": "stored, ack lost", "client_msg_id": "kept-1"}),
        )
        .await
        .assert_status(201);
    let driver = Driver::start().await;
    let page = browser(&driver, DESKTOP).await;
    page.open(&site.url("/")).await;
    page.sign_in("alice").await;
    let unsent = json!([
        {"client_msg_id": "kept-1", "conversation_id": id, "content": "stored, ack lost",
         "user_id": alice.id, "created_at": "2024-01-01T00:00:00.000Z"},
        {"client_msg_id": "kept-2", "conversation_id": id, "content": "never sent",
         "user_id": alice.id, "created_at": "2024-01-01T00:00:01.000Z"},
    ]);
    page.eval_with(
        "sessionStorage.setItem('palaver.outbox', JSON.stringify(arguments[0]))",
        vec![unsent],
    )
    .await;

    page.client.refresh().await.expect("the page reloads");
    page.wait_until_connected().await;
    page.open_conversation("a chat").await;

    page.wait_for_message("never sent").await;
    page.wait_until(
        "nothing pending",
        "!document.querySelector('#messages li.pending') \
         && !sessionStorage.getItem('palaver.outbox')",
    )
    .await;
    assert_eq!(
        page.message_texts().await,
        ["stored, ack lost", "never sent"]
    );
    let stored = site.app.all_messages(&alice, id).await;
    assert_eq!(stored.len(), 2, "{stored:?}");
    page.close().await;
}

#[actix_rt::test]
#[ignore = "needs chromium and chromium-driver"]
async fn a_search_hit_opens_its_conversation_at_the_message_and_pages_both_ways() {
    let site = spawn_site(&[]).await;
    let alice = site.app.signup("alice").await;
    let bob = site.app.signup("bob").await;
    let id = site.app.new_conversation(&alice, &[&bob]).await;
    let texts: Vec<String> = (0..150)
        .map(|n| match n {
            60 => "the <b>deployment</b> checklist is ready".to_string(),
            n => format!("message {n}"),
        })
        .collect();
    site.app.send_messages(&bob, id, &texts).await;
    let secret = site.app.new_conversation(&bob, &[]).await;
    site.app
        .send_message(&bob, secret, "deployment notes only bob may read")
        .await;
    let driver = Driver::start().await;
    let page = browser(&driver, DESKTOP).await;
    page.open(&site.url("/")).await;
    page.sign_in("alice").await;

    page.eval("document.dispatchEvent(new KeyboardEvent('keydown', {key: '/', bubbles: true}))")
        .await;
    page.wait_until(
        "the search box focused by the shortcut",
        "document.activeElement === document.getElementById('search-input')",
    )
    .await;
    page.keys("#search-input", "deploym").await;
    page.wait_until(
        "one result",
        "document.querySelectorAll('#search-list li').length === 1 \
         && document.getElementById('search-status').textContent === '1 message'",
    )
    .await;
    let result = page
        .eval(
            "const hit = document.querySelector('#search-list li'); \
             return [hit.querySelector('.title').textContent, \
                     [...hit.querySelectorAll('mark')].map((m) => m.textContent), \
                     hit.querySelector('.body').textContent, \
                     hit.querySelectorAll('b').length]",
        )
        .await;
    assert_eq!(
        result,
        json!([
            "a chat",
            ["deployment"],
            "the <b>deployment</b> checklist is ready",
            0
        ])
    );
    page.wait_until(
        "the sender named",
        "document.querySelector('#search-list li .sender').textContent === 'bob'",
    )
    .await;
    page.screenshot("search-results").await;

    page.click("#search-list li button").await;
    page.wait_until(
        "the hit shown, marked, with its neighbours",
        "document.getElementById('room-title').textContent === 'a chat' \
         && document.querySelector('#messages li.found .body')?.textContent \
            === 'the <b>deployment</b> checklist is ready' \
         && document.querySelector('#messages li.found').previousElementSibling\
            ?.querySelector('.body').textContent === 'message 59' \
         && document.querySelector('#messages li.found').nextElementSibling\
            ?.querySelector('.body').textContent === 'message 61'",
    )
    .await;
    let visible = page
        .eval(
            "const list = document.getElementById('messages').getBoundingClientRect(); \
             const hit = document.querySelector('#messages li.found').getBoundingClientRect(); \
             return hit.top >= list.top && hit.bottom <= list.bottom",
        )
        .await;
    assert_eq!(visible, json!(true), "the hit is on screen");
    assert!(
        !page
            .message_texts()
            .await
            .contains(&"message 149".to_string()),
        "opened at the hit, not at the newest page"
    );
    page.screenshot("search-opened-at-hit").await;

    page.eval("document.getElementById('messages').scrollTop = 0")
        .await;
    page.wait_for_message("message 0").await;
    page.wait_until(
        "the start of the conversation",
        "document.querySelector('#messages .history-edge')",
    )
    .await;
    for _ in 0..10 {
        if page
            .message_texts()
            .await
            .contains(&"message 149".to_string())
        {
            break;
        }
        let shown = page
            .eval("return document.querySelectorAll('#messages li[data-id]').length")
            .await;
        page.eval(
            "const list = document.getElementById('messages'); list.scrollTop = list.scrollHeight",
        )
        .await;
        page.wait_until_with(
            "a newer page",
            "document.querySelectorAll('#messages li[data-id]').length > arguments[0]",
            vec![shown],
        )
        .await;
    }

    assert_eq!(
        page.message_texts().await,
        texts,
        "every message once, in order"
    );
    page.close().await;
}

#[actix_rt::test]
#[ignore = "needs chromium and chromium-driver"]
async fn on_a_phone_search_results_fit_the_screen_and_a_hit_opens_the_conversation() {
    let site = spawn_site(&[]).await;
    let alice = site.app.signup("alice").await;
    let id = site.app.new_conversation(&alice, &[]).await;
    site.app
        .send_messages(&alice, id, ["before", "the quarterly report", "after"])
        .await;
    let driver = Driver::start().await;
    let page = browser(&driver, PHONE).await;
    page.open(&site.url("/")).await;
    page.sign_in("alice").await;

    page.fill("#search-input", "quarter").await;
    page.wait_until(
        "one result",
        "document.querySelectorAll('#search-list li').length === 1",
    )
    .await;
    let inside = page
        .eval(
            "const r = document.getElementById('search-results').getBoundingClientRect(); \
             return r.left >= 0 && r.right <= window.innerWidth",
        )
        .await;
    assert_eq!(inside, json!(true), "the results fit the phone's width");
    page.screenshot("search-phone").await;
    page.click("#search-list li button").await;

    page.wait_until(
        "the room open at the hit",
        "document.getElementById('chat').classList.contains('in-room') \
         && document.querySelector('#messages li.found .body')?.textContent === 'the quarterly report'",
    )
    .await;
    assert_eq!(
        page.message_texts().await,
        ["before", "the quarterly report", "after"]
    );
    page.close().await;
}
