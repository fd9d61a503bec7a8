//! The test harness: [`spawn_app`] starts a real server on port 0 over a fresh database
//! (SQLite in a temporary directory, or a new PostgreSQL database when `TEST_DATABASE_URL`
//! is set) and returns a [`TestApp`] with one helper per endpoint. Every helper sends a
//! real HTTP request and returns the whole answer as a [`TestResponse`].

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Once};
use std::time::Duration;

use actix_web::web::{Bytes, Data};
use awc::cookie::Cookie;
use awc::http::header::{AUTHORIZATION, CONTENT_TYPE};
use awc::http::Method;
use palaver::config::Config;
use palaver::startup::{Application, ShutdownHandle};
use palaver::state::AppState;
use serde_json::{json, Value};

pub use crate::raw_http::RawResponse;
use crate::test_database::TestDatabase;
pub use crate::test_response::{
    assert_json_content_type, assert_security_headers, is_rfc3339_utc_millis, TestResponse,
    SECURITY_HEADERS,
};

/// The session cookie's name (API.md).
pub const SESSION_COOKIE: &str = "palaver_session";
/// The password every helper-made user has.
pub const PASSWORD: &str = "correct horse battery";

/// A running server and the means to talk to it.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    pub port: u16,
    /// The server's shared state, for the few checks that look inside.
    pub state: Data<AppState>,
    /// The variables this server was configured with, so a second instance can share them.
    vars: HashMap<String, String>,
    client: awc::Client,
    database: Arc<TestDatabase>,
}

/// A user made through the API, with the token of their registration.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: i64,
    pub username: String,
    pub token: String,
}

/// How a request proves who is calling.
#[derive(Debug, Clone)]
pub enum Auth {
    None,
    Bearer(String),
    Cookie(Cookie<'static>),
    /// A raw `Authorization` header value, for malformed credentials.
    Header(String),
}

impl From<&TestUser> for Auth {
    fn from(user: &TestUser) -> Self {
        Auth::Bearer(user.token.clone())
    }
}

/// Starts a server with the test defaults.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Starts a server with the test defaults, then `overrides`.
pub async fn spawn_app_with(overrides: &[(&str, &str)]) -> TestApp {
    init_logging();
    let database = Arc::new(TestDatabase::create().await);
    let mut vars: HashMap<String, String> = [
        ("APP_ENV", "test".to_string()),
        ("BIND_ADDR", "127.0.0.1:0".to_string()),
        ("DATABASE_URL", database.url.clone()),
        ("JWT_SECRET", random_hex(32)),
        // Generous, so only the tests about limits meet them.
        ("RATE_LIMIT_PER_SEC", "1000".to_string()),
        ("RATE_LIMIT_BURST", "1000".to_string()),
        ("LOGIN_ATTEMPTS_PER_MIN", "1000".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    for (name, value) in overrides {
        vars.insert(name.to_string(), value.to_string());
    }
    start(vars, database).await
}

/// A server where alice owns a conversation with bob: the app, alice, bob, its id.
pub async fn spawn_app_with_alice_and_bob() -> (TestApp, TestUser, TestUser, i64) {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let id = app.new_conversation(&alice, &[&bob]).await;
    (app, alice, bob, id)
}

impl TestApp {
    /// A second server process over the same database and secrets, as after a restart.
    pub async fn another_instance(&self) -> TestApp {
        start(self.vars.clone(), Arc::clone(&self.database)).await
    }

    /// Makes the database unreachable under the running server: on PostgreSQL the database
    /// is dropped (its connections cut), on SQLite its directory is removed, so no new
    /// connection can open it.
    pub async fn take_database_away(&self) {
        self.database.take_away().await;
    }

    /// The variable `name` this server was configured with.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    /// The `JWT_SECRET` this server signs with.
    pub fn jwt_secret(&self) -> &str {
        &self.vars["JWT_SECRET"]
    }

    /// A request to `path` with `auth` applied.
    pub fn request(&self, method: Method, path: &str, auth: &Auth) -> awc::ClientRequest {
        let request = self
            .client
            .request(method, format!("{}{path}", self.address));
        match auth {
            Auth::None => request,
            Auth::Bearer(token) => request.bearer_auth(token),
            Auth::Cookie(cookie) => request.cookie(cookie.clone()),
            Auth::Header(value) => request.insert_header((AUTHORIZATION, value.as_str())),
        }
    }

    /// Sends `request` without a body and reads the whole answer.
    pub async fn send(&self, request: awc::ClientRequest) -> TestResponse {
        read(request.send().await.expect("the server answers")).await
    }

    /// Sends `request` with a JSON body.
    pub async fn send_json(&self, request: awc::ClientRequest, body: &Value) -> TestResponse {
        read(request.send_json(body).await.expect("the server answers")).await
    }

    /// Sends `request` with a raw body and content type.
    pub async fn send_raw(
        &self,
        request: awc::ClientRequest,
        content_type: Option<&str>,
        body: impl Into<Bytes>,
    ) -> TestResponse {
        let request = match content_type {
            Some(value) => request.insert_header((CONTENT_TYPE, value)),
            None => request,
        };
        read(
            request
                .send_body(body.into())
                .await
                .expect("the server answers"),
        )
        .await
    }

    pub async fn get(&self, path: &str, auth: impl Into<Auth>) -> TestResponse {
        self.send(self.request(Method::GET, path, &auth.into()))
            .await
    }

    pub async fn post_json(&self, path: &str, auth: impl Into<Auth>, body: &Value) -> TestResponse {
        self.send_json(self.request(Method::POST, path, &auth.into()), body)
            .await
    }

    // --- auth ---

    pub async fn register(&self, body: &Value) -> TestResponse {
        self.post_json("/api/auth/register", Auth::None, body).await
    }

    pub async fn login(&self, username: &str, password: &str) -> TestResponse {
        self.post_json(
            "/api/auth/login",
            Auth::None,
            &json!({"username": username, "password": password}),
        )
        .await
    }

    pub async fn logout(&self, auth: impl Into<Auth>) -> TestResponse {
        self.send(self.request(Method::POST, "/api/auth/logout", &auth.into()))
            .await
    }

    pub async fn me(&self, auth: impl Into<Auth>) -> TestResponse {
        self.get("/api/auth/me", auth).await
    }

    pub async fn refresh_token(&self, auth: impl Into<Auth>) -> TestResponse {
        self.send(self.request(Method::POST, "/api/auth/token", &auth.into()))
            .await
    }

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

    /// Logs `user` in and returns the session cookie of that login.
    pub async fn login_cookie(&self, user: &TestUser) -> Cookie<'static> {
        let response = self.login(&user.username, PASSWORD).await;
        response.assert_status(200);
        response.session_cookie()
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

    // --- users ---

    pub async fn search_users(&self, auth: impl Into<Auth>, query: &str) -> TestResponse {
        self.get(&format!("/api/users?query={}", encode(query)), auth)
            .await
    }

    // --- conversations ---

    pub async fn create_conversation(&self, auth: impl Into<Auth>, body: &Value) -> TestResponse {
        self.post_json("/api/conversations", auth, body).await
    }

    pub async fn list_conversations(&self, auth: impl Into<Auth>) -> TestResponse {
        self.get("/api/conversations", auth).await
    }

    pub async fn get_conversation(&self, auth: impl Into<Auth>, id: i64) -> TestResponse {
        self.get(&format!("/api/conversations/{id}"), auth).await
    }

    pub async fn add_member(&self, auth: impl Into<Auth>, id: i64, username: &str) -> TestResponse {
        self.post_json(
            &format!("/api/conversations/{id}/members"),
            auth,
            &json!({"username": username}),
        )
        .await
    }

    pub async fn remove_member(
        &self,
        auth: impl Into<Auth>,
        id: i64,
        user_id: i64,
    ) -> TestResponse {
        let path = format!("/api/conversations/{id}/members/{user_id}");
        self.send(self.request(Method::DELETE, &path, &auth.into()))
            .await
    }

    pub async fn mark_read(&self, auth: impl Into<Auth>, id: i64, body: &Value) -> TestResponse {
        self.post_json(&format!("/api/conversations/{id}/read"), auth, body)
            .await
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

    // --- messages ---

    pub async fn post_message(&self, auth: impl Into<Auth>, body: &Value) -> TestResponse {
        self.post_json("/api/messages", auth, body).await
    }

    /// `GET /api/messages?{query}`.
    pub async fn list_messages(&self, auth: impl Into<Auth>, query: &str) -> TestResponse {
        self.get(&format!("/api/messages?{query}"), auth).await
    }

    pub async fn get_message(&self, auth: impl Into<Auth>, id: i64) -> TestResponse {
        self.get(&format!("/api/messages/{id}"), auth).await
    }

    pub async fn edit_message(&self, auth: impl Into<Auth>, id: i64, body: &Value) -> TestResponse {
        self.send_json(
            self.request(Method::PUT, &format!("/api/messages/{id}"), &auth.into()),
            body,
        )
        .await
    }

    pub async fn delete_message(&self, auth: impl Into<Auth>, id: i64) -> TestResponse {
        self.send(self.request(Method::DELETE, &format!("/api/messages/{id}"), &auth.into()))
            .await
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

    /// Sends a hand-written HTTP/1.1 request over a plain socket, for headers the client
    /// library would rewrite (`Connection`).
    pub async fn raw_request(&self, head: &str) -> RawResponse {
        let (port, head) = (self.port, head.to_string());
        // On a thread of its own: the runtime must keep serving while this one blocks.
        actix_rt::task::spawn_blocking(move || {
            let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
            stream
                .set_read_timeout(Some(Duration::from_secs(30)))
                .expect("set timeout");
            stream.write_all(head.as_bytes()).expect("write request");
            RawResponse::read(&mut stream)
        })
        .await
        .expect("the raw request finishes")
    }
}

impl TestApp {
    /// A second server over the same database and secrets, with the handle that stops it
    /// the way SIGTERM does, for the tests of a graceful shutdown.
    pub async fn stoppable_instance(&self) -> (TestApp, ShutdownHandle) {
        let vars = self.vars.clone();
        let lookup = |name: &str| vars.get(name).cloned();
        let config = Config::load(&lookup, self.database.workdir.path())
            .expect("the test configuration is valid");
        let application = Application::build(config)
            .await
            .expect("the application starts");
        let port = application.port();
        let state = application.state();
        let shutdown = application.shutdown_handle();
        actix_rt::spawn(application.run_until_stopped());
        let app = TestApp {
            address: format!("http://127.0.0.1:{port}"),
            port,
            state,
            vars,
            client: awc::Client::builder()
                .timeout(Duration::from_secs(60))
                .finish(),
            database: Arc::clone(&self.database),
        };
        (app, shutdown)
    }
}

async fn start(vars: HashMap<String, String>, database: Arc<TestDatabase>) -> TestApp {
    let lookup = |name: &str| vars.get(name).cloned();
    let config =
        Config::load(&lookup, database.workdir.path()).expect("the test configuration is valid");
    let application = Application::build(config)
        .await
        .expect("the application starts");
    let port = application.port();
    let state = application.state();
    actix_rt::spawn(application.run_until_stopped());
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        state,
        vars,
        // Generous: a busy machine hashing passwords must not turn into a flaky timeout.
        client: awc::Client::builder()
            .timeout(Duration::from_secs(60))
            .finish(),
        database,
    }
}

async fn read(mut response: awc::ClientResponse) -> TestResponse {
    let body = response
        .body()
        .limit(16 * 1024 * 1024)
        .await
        .expect("the body arrives");
    let cookies = response.cookies().map(|c| c.clone()).unwrap_or_default();
    TestResponse {
        status: response.status(),
        headers: response.headers().clone(),
        cookies,
        body,
    }
}

/// `n` random bytes as hex.
pub fn random_hex(n: usize) -> String {
    (0..n)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect()
}

/// Percent-encodes a query value.
pub fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// Returns once the wall clock has moved to the next millisecond, so the next row written
/// carries a later timestamp than every row written before (times are stored in ms).
pub fn wait_for_next_millisecond() {
    let start = chrono::Utc::now().timestamp_millis();
    while chrono::Utc::now().timestamp_millis() == start {
        std::hint::spin_loop();
    }
}

fn init_logging() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            let _ = env_logger::builder().is_test(true).try_init();
        }
    });
}
