//! Talking HTTP to a [`TestApp`]: [`Auth`] says how a request proves who is calling, and
//! there is one helper per endpoint of the API. Every helper sends a real request and
//! returns the whole answer as a [`TestResponse`], so a test asserts on what a client sees.

use actix_web::web::Bytes;
use awc::cookie::Cookie;
use awc::http::header::{AUTHORIZATION, CONTENT_TYPE};
use awc::http::Method;
use serde_json::{json, Value};

use super::app::TestApp;
use super::fixtures::TestUser;
use super::response::TestResponse;

/// How a request proves who is calling.
#[derive(Debug, Clone)]
pub enum Auth {
    /// No credential at all.
    None,
    /// `Authorization: Bearer <jwt>`.
    Bearer(String),
    /// A session cookie, as a browser sends it.
    Cookie(Cookie<'static>),
    /// A raw `Authorization` header value, for malformed credentials.
    Header(String),
}

impl From<&TestUser> for Auth {
    fn from(user: &TestUser) -> Self {
        Auth::Bearer(user.token.clone())
    }
}

impl TestApp {
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

    /// `GET path`.
    pub async fn get(&self, path: &str, auth: impl Into<Auth>) -> TestResponse {
        self.send(self.request(Method::GET, path, &auth.into()))
            .await
    }

    /// `POST path` with a JSON body.
    pub async fn post_json(&self, path: &str, auth: impl Into<Auth>, body: &Value) -> TestResponse {
        self.send_json(self.request(Method::POST, path, &auth.into()), body)
            .await
    }

    /// `GET path`, asserting `200`; the JSON body.
    pub async fn get_json(&self, path: &str) -> Value {
        let response = self.get(path, Auth::None).await;
        response.assert_status(200);
        response.json()
    }

    /// `POST /api/auth/register` with `body`.
    pub async fn register(&self, body: &Value) -> TestResponse {
        self.post_json("/api/auth/register", Auth::None, body).await
    }

    /// `POST /api/auth/login` with `username` and `password`.
    pub async fn login(&self, username: &str, password: &str) -> TestResponse {
        self.post_json(
            "/api/auth/login",
            Auth::None,
            &json!({"username": username, "password": password}),
        )
        .await
    }

    /// `POST /api/auth/logout`.
    pub async fn logout(&self, auth: impl Into<Auth>) -> TestResponse {
        self.send(self.request(Method::POST, "/api/auth/logout", &auth.into()))
            .await
    }

    /// `GET /api/auth/me`.
    pub async fn me(&self, auth: impl Into<Auth>) -> TestResponse {
        self.get("/api/auth/me", auth).await
    }

    /// `POST /api/auth/token`.
    pub async fn refresh_token(&self, auth: impl Into<Auth>) -> TestResponse {
        self.send(self.request(Method::POST, "/api/auth/token", &auth.into()))
            .await
    }

    /// `GET /api/users?query=`.
    pub async fn search_users(&self, auth: impl Into<Auth>, query: &str) -> TestResponse {
        self.get(&format!("/api/users?query={}", encode(query)), auth)
            .await
    }

    /// `POST /api/conversations` with `body`.
    pub async fn create_conversation(&self, auth: impl Into<Auth>, body: &Value) -> TestResponse {
        self.post_json("/api/conversations", auth, body).await
    }

    /// `GET /api/conversations`.
    pub async fn list_conversations(&self, auth: impl Into<Auth>) -> TestResponse {
        self.get("/api/conversations", auth).await
    }

    /// `GET /api/conversations/{id}`.
    pub async fn get_conversation(&self, auth: impl Into<Auth>, id: i64) -> TestResponse {
        self.get(&format!("/api/conversations/{id}"), auth).await
    }

    /// `POST /api/conversations/{id}/members` naming `username`.
    pub async fn add_member(&self, auth: impl Into<Auth>, id: i64, username: &str) -> TestResponse {
        self.post_json(
            &format!("/api/conversations/{id}/members"),
            auth,
            &json!({"username": username}),
        )
        .await
    }

    /// `DELETE /api/conversations/{id}/members/{user_id}`.
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

    /// `POST /api/conversations/{id}/read` with `body`.
    pub async fn mark_read(&self, auth: impl Into<Auth>, id: i64, body: &Value) -> TestResponse {
        self.post_json(&format!("/api/conversations/{id}/read"), auth, body)
            .await
    }

    /// `POST /api/messages` with `body`.
    pub async fn post_message(&self, auth: impl Into<Auth>, body: &Value) -> TestResponse {
        self.post_json("/api/messages", auth, body).await
    }

    /// `GET /api/messages?{query}`.
    pub async fn list_messages(&self, auth: impl Into<Auth>, query: &str) -> TestResponse {
        self.get(&format!("/api/messages?{query}"), auth).await
    }

    /// `GET /api/messages/{id}`.
    pub async fn get_message(&self, auth: impl Into<Auth>, id: i64) -> TestResponse {
        self.get(&format!("/api/messages/{id}"), auth).await
    }

    /// `PUT /api/messages/{id}` with `body`.
    pub async fn edit_message(&self, auth: impl Into<Auth>, id: i64, body: &Value) -> TestResponse {
        self.send_json(
            self.request(Method::PUT, &format!("/api/messages/{id}"), &auth.into()),
            body,
        )
        .await
    }

    /// `DELETE /api/messages/{id}`.
    pub async fn delete_message(&self, auth: impl Into<Auth>, id: i64) -> TestResponse {
        self.send(self.request(Method::DELETE, &format!("/api/messages/{id}"), &auth.into()))
            .await
    }

    /// `GET /api/search?q={q}` (encoded here) and `&{rest}` when `rest` is not empty.
    pub async fn search(&self, auth: impl Into<Auth>, q: &str, rest: &str) -> TestResponse {
        let mut path = format!("/api/search?q={}", encode(q));
        if !rest.is_empty() {
            path.push('&');
            path.push_str(rest);
        }
        self.get(&path, auth).await
    }

    /// `connections` of `/ws/health`: how many sockets the server holds open.
    pub async fn open_sockets(&self) -> i64 {
        let health = self.get("/ws/health", Auth::None).await;
        health.assert_status(200);
        health.json()["connections"].as_i64().expect("connections")
    }
}

/// One answer of each kind the chain produces: success, and each error status.
pub async fn one_answer_of_each_kind(app: &TestApp) -> Vec<TestResponse> {
    let alice = app.signup("alice").await;
    let id = app.new_conversation(&alice, &[]).await;
    let big = json!({"conversation_id": id, "content": "x".repeat(70_000)});
    let post = |auth: &Auth| app.request(Method::POST, "/api/messages", auth);
    vec![
        app.get("/health", Auth::None).await,
        app.me(&alice).await,
        app.get("/no/such/route", Auth::None).await,
        app.send(app.request(Method::DELETE, "/api/auth/me", &Auth::None))
            .await,
        app.me(Auth::None).await,
        app.send_raw(
            post(&(&alice).into()),
            Some("application/json"),
            "{not json",
        )
        .await,
        app.send_raw(post(&(&alice).into()), Some("text/plain"), "hello")
            .await,
        app.post_message(&alice, &big).await,
        app.get_conversation(&alice, id + 1000).await,
    ]
}

/// Reads the whole of `response` into a [`TestResponse`].
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

/// Percent-encodes a query value, for queries built from user input.
pub fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
