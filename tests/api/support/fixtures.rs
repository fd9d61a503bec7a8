//! What a test sets up before it acts: users made through the API, conversations between
//! them, messages in those conversations, and the few small scenes several suites start
//! from. Every fixture goes through the public API and panics unless it succeeds, so a
//! test's Arrange never passes silently over a refusal.

use awc::cookie::Cookie;
use futures_util::future::join_all;
use serde_json::{json, Value};

use super::app::{spawn_app, TestApp};
use super::bodies::ids_of;

/// The password every helper-made user has.
pub const PASSWORD: &str = "correct horse battery";

/// A user made through the API, with the token of their registration.
#[derive(Debug, Clone)]
pub struct TestUser {
    /// The user's id.
    pub id: i64,
    /// The name they registered with.
    pub username: String,
    /// The token the registration issued.
    pub token: String,
}

impl TestApp {
    /// Registers `username` with [`PASSWORD`]; panics unless it is created.
    pub async fn signup(&self, username: &str) -> TestUser {
        let response = self
            .register(&json!({"username": username, "password": PASSWORD}))
            .await;
        response.assert_status(201);
        let body = response.json();
        TestUser {
            id: body["user"]["id"].as_i64().expect("user.id"),
            username: body["user"]["username"]
                .as_str()
                .expect("user.username")
                .to_string(),
            token: body["token"].as_str().expect("token").to_string(),
        }
    }

    /// Logs `username` in once more; that login's session cookie and token.
    pub async fn another_login(&self, username: &str) -> (Cookie<'static>, String) {
        let response = self.login(username, PASSWORD).await;
        response.assert_status(200);
        let token = response.json()["token"]
            .as_str()
            .expect("token")
            .to_string();
        (response.session_cookie(), token)
    }

    /// Logs `user` in and returns the session cookie of that login.
    pub async fn login_cookie(&self, user: &TestUser) -> Cookie<'static> {
        self.another_login(&user.username).await.0
    }

    /// Stores a user straight through the repository, for tests that need many users
    /// and none of them able to log in. Returns the id.
    pub async fn insert_user(&self, username: &str) -> i64 {
        palaver::db::users::create(&self.state.db, username, username, "not a password hash")
            .await
            .expect("the database answers")
            .expect("the username is free")
            .id
    }

    /// Creates a conversation owned by `owner` with `members`; returns its id.
    pub async fn new_conversation(&self, owner: &TestUser, members: &[&TestUser]) -> i64 {
        let names: Vec<&str> = members.iter().map(|m| m.username.as_str()).collect();
        let response = self
            .create_conversation(owner, &json!({"title": "a chat", "members": names}))
            .await;
        response.assert_status(201);
        response.json()["conversation"]["id"]
            .as_i64()
            .expect("conversation.id")
    }

    /// `unread_count` of conversation `id` in `user`'s list.
    pub async fn unread_count(&self, user: &TestUser, id: i64) -> i64 {
        let response = self.list_conversations(user).await;
        response.assert_status(200);
        let list = response.json();
        let entry = list["conversations"]
            .as_array()
            .expect("conversations")
            .iter()
            .find(|c| c["id"] == id)
            .cloned()
            .expect("the conversation is listed");
        entry["unread_count"].as_i64().expect("unread_count")
    }

    /// Sends `content` from `sender`; panics unless it is stored. Returns the message.
    pub async fn send_message(
        &self,
        sender: &TestUser,
        conversation_id: i64,
        content: &str,
    ) -> Value {
        let response = self
            .post_message(
                sender,
                &json!({"conversation_id": conversation_id, "content": content}),
            )
            .await;
        response.assert_status(201);
        response.json()["message"].clone()
    }

    /// Sends each of `contents` from `sender` over HTTP, in order; returns the messages.
    pub async fn send_messages<S: AsRef<str>>(
        &self,
        sender: &TestUser,
        conversation_id: i64,
        contents: impl IntoIterator<Item = S>,
    ) -> Vec<Value> {
        let mut sent = Vec::new();
        for content in contents {
            sent.push(
                self.send_message(sender, conversation_id, content.as_ref())
                    .await,
            );
        }
        sent
    }

    /// Sends `count` messages "message 0".. from `sender` over HTTP; returns them oldest first.
    pub async fn send_numbered_messages(
        &self,
        sender: &TestUser,
        conversation_id: i64,
        count: usize,
    ) -> Vec<Value> {
        self.send_messages(
            sender,
            conversation_id,
            (0..count).map(|n| format!("message {n}")),
        )
        .await
    }

    /// Every message of the conversation, as `user` sees it.
    pub async fn all_messages(&self, user: &TestUser, conversation_id: i64) -> Vec<Value> {
        let response = self
            .list_messages(
                user,
                &format!("conversation_id={conversation_id}&limit=200"),
            )
            .await;
        response.assert_status(200);
        response.json()["messages"]
            .as_array()
            .expect("messages")
            .clone()
    }
}

/// A server where alice owns a conversation with bob: the app, alice, bob, its id.
pub async fn spawn_app_with_alice_and_bob() -> (TestApp, TestUser, TestUser, i64) {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let id = app.new_conversation(&alice, &[&bob]).await;
    (app, alice, bob, id)
}

/// alice owns a conversation with bob; carol is registered but outside it.
pub async fn alice_bob_and_carol() -> (TestApp, TestUser, TestUser, TestUser, i64) {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let carol = app.signup("carol").await;
    let id = app.new_conversation(&alice, &[&bob]).await;
    (app, alice, bob, carol, id)
}

/// alice owns a conversation; mallory is registered but outside it.
pub async fn alice_and_mallory(app: &TestApp) -> (TestUser, TestUser, i64) {
    let alice = app.signup("alice").await;
    let mallory = app.signup("mallory").await;
    let id = app.new_conversation(&alice, &[]).await;
    (alice, mallory, id)
}

/// alice and bob share a conversation in which bob sent three messages; their ids.
pub async fn three_unread() -> (TestApp, TestUser, TestUser, i64, Vec<i64>) {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let id = app.new_conversation(&alice, &[&bob]).await;
    let ids = ids_of(&app.send_messages(&bob, id, ["one", "two", "three"]).await);
    (app, alice, bob, id, ids)
}

/// alice alone in a conversation holding `n` messages "m1".."mN"; their ids in order.
pub async fn conversation_with(n: usize) -> (TestApp, TestUser, i64, Vec<i64>) {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    let id = app.new_conversation(&alice, &[]).await;
    let ids = ids_of(
        &app.send_messages(&alice, id, (1..=n).map(|i| format!("m{i}")))
            .await,
    );
    (app, alice, id, ids)
}

/// `senders` users, all members of one conversation owned by the first.
pub async fn a_crowded_conversation(app: &TestApp, senders: usize) -> (Vec<TestUser>, i64) {
    let users =
        join_all((0..senders).map(|i| async move { app.signup(&format!("user{i:02}")).await }))
            .await;
    let others: Vec<&TestUser> = users[1..].iter().collect();
    let id = app.new_conversation(&users[0], &others).await;
    (users, id)
}

/// alice owns a conversation with bob and carol, in which bob sent one message;
/// mallory is registered but outside it.
pub struct MessageScene {
    /// The server.
    pub app: TestApp,
    /// The conversation's owner.
    pub alice: TestUser,
    /// A member, the sender of `message`.
    pub bob: TestUser,
    /// A member who sent nothing.
    pub carol: TestUser,
    /// Registered, not a member.
    pub mallory: TestUser,
    /// The conversation's id.
    pub conversation: i64,
    /// The id of bob's message, "original".
    pub message: i64,
}

/// Sets up a [`MessageScene`], for the tests of reading, editing and deleting one message.
pub async fn message_scene() -> MessageScene {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let carol = app.signup("carol").await;
    let mallory = app.signup("mallory").await;
    let conversation = app.new_conversation(&alice, &[&bob, &carol]).await;
    let message = app.send_message(&bob, conversation, "original").await["id"]
        .as_i64()
        .expect("id");
    MessageScene {
        app,
        alice,
        bob,
        carol,
        mallory,
        conversation,
        message,
    }
}

/// Returns once the wall clock has moved to the next millisecond, so the next row written
/// carries a later timestamp than every row written before (times are stored in ms).
pub fn wait_for_next_millisecond() {
    let start = chrono::Utc::now().timestamp_millis();
    while chrono::Utc::now().timestamp_millis() == start {
        std::hint::spin_loop();
    }
}
