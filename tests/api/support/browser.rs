//! A real browser for the tests of the bundled page: Debian's chromium, headless, driven
//! through a chromedriver the test starts on a free port. [`spawn_site`] puts the server
//! behind a [`Relay`] whose address is its `PUBLIC_URL`, so the page's origin is the one
//! the server trusts. Every wait polls the page against a deadline; none sleeps blindly.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};
use tempfile::TempDir;
use tokio::sync::{Semaphore, SemaphorePermit};

use super::app::{spawn_app_with, TestApp};
use super::fixtures::PASSWORD;
use super::relay::Relay;

/// Debian's chromium.
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// Debian's chromium-driver.
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// How long a page gets to show what a test waits for.
const PATIENCE: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(50);

/// One browser test at a time: the browsers are the heavy part, and a loaded machine
/// makes every deadline tighter.
static BROWSER_TESTS: Semaphore = Semaphore::const_new(1);

/// A server behind a relay whose address is the server's `PUBLIC_URL`.
pub struct Site {
    /// The server.
    pub app: TestApp,
    /// The relay the browsers dial.
    pub relay: Relay,
    _turn: SemaphorePermit<'static>,
}

impl Site {
    /// The page's address, with `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.relay.url())
    }
}

/// Waits for this test's turn, then starts a server behind a relay; `overrides` as for
/// `spawn_app_with`.
pub async fn spawn_site(overrides: &[(&str, &str)]) -> Site {
    let turn = BROWSER_TESTS
        .acquire()
        .await
        .expect("the browser tests' semaphore is never closed");
    let relay = Relay::start().await;
    let public_url = relay.url();
    let mut vars = vec![("PUBLIC_URL", public_url.as_str())];
    vars.extend_from_slice(overrides);
    let app = spawn_app_with(&vars).await;
    relay.point_at(app.port);
    Site {
        app,
        relay,
        _turn: turn,
    }
}

/// A running chromedriver, stopped when dropped.
pub struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    /// Starts chromedriver on a free port and waits until it answers.
    pub async fn start() -> Driver {
        let port = free_port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts (apt-get install chromium chromium-driver)");
        let driver = Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + PATIENCE;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver never listened");
            actix_rt::time::sleep(POLL).await;
        }
        driver
    }

    /// A fresh browser (its own profile) whose viewport is `width` × `height`.
    pub async fn browser(&self, width: u32, height: u32) -> Browser {
        let profile = tempfile::tempdir().expect("a temporary profile directory");
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--no-first-run",
                    "--lang=en-US",
                    format!("--window-size={width},{height}"),
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!("the capabilities are a JSON object")
        };
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .expect("chromedriver opens a browser session");
        let browser = Browser {
            client,
            _profile: profile,
        };
        browser.set_viewport(width, height).await;
        browser
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free local port")
        .port()
}

/// One browser session and the page actions the tests are written in.
pub struct Browser {
    /// The WebDriver client, for what the helpers do not cover.
    pub client: Client,
    _profile: TempDir,
}

impl Browser {
    /// Makes the page's viewport (not the window) `width` × `height`.
    pub async fn set_viewport(&self, width: u32, height: u32) {
        self.client
            .set_window_size(width, height)
            .await
            .expect("the window resizes");
        let inner = self
            .eval("return [window.innerWidth, window.innerHeight]")
            .await;
        let (w, h) = (
            inner[0].as_u64().unwrap_or(0),
            inner[1].as_u64().unwrap_or(0),
        );
        if (w, h) != (u64::from(width), u64::from(height)) {
            let grow = |want: u32, have: u64| (2 * u64::from(want)).saturating_sub(have) as u32;
            self.client
                .set_window_size(grow(width, w), grow(height, h))
                .await
                .expect("the window resizes");
        }
    }

    /// Opens `url`.
    pub async fn open(&self, url: &str) {
        self.client.goto(url).await.expect("the page opens");
    }

    /// The value of `script` (a function body that `return`s) in the page.
    pub async fn eval(&self, script: &str) -> Value {
        self.client
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("the script runs: {script}: {e}"))
    }

    /// The value of `script` with `args` (as `arguments[0]`…).
    pub async fn eval_with(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("the script runs: {script}: {e}"))
    }

    /// Waits until `expression` is truthy in the page; panics with `what` after the deadline.
    pub async fn wait_until(&self, what: &str, expression: &str) {
        self.wait_until_with(what, expression, vec![]).await;
    }

    /// As [`Browser::wait_until`], with `args` as `arguments[0]`….
    pub async fn wait_until_with(&self, what: &str, expression: &str, args: Vec<Value>) {
        let script = format!("return Boolean({expression});");
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Ok(Value::Bool(true)) = self.client.execute(&script, args.clone()).await {
                return;
            }
            if Instant::now() > deadline {
                let state = self
                    .eval("return document.body.innerText.slice(0, 2000)")
                    .await;
                panic!("waited in vain for {what} ({expression}); the page shows: {state}");
            }
            actix_rt::time::sleep(POLL).await;
        }
    }

    /// Types `text` into the element `css` (after clearing it).
    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.expect("the field clears");
        field.send_keys(text).await.expect("the field takes keys");
    }

    /// Types `keys` at the end of the element `css`.
    pub async fn keys(&self, css: &str, keys: &str) {
        self.find(css)
            .await
            .send_keys(keys)
            .await
            .expect("the field takes keys");
    }

    /// Clicks the element `css`.
    pub async fn click(&self, css: &str) {
        self.find(css)
            .await
            .click()
            .await
            .expect("the element clicks");
    }

    /// The element `css`, once it is on the page.
    pub async fn find(&self, css: &str) -> fantoccini::elements::Element {
        self.wait_until_with(
            &format!("an element {css}"),
            "document.querySelector(arguments[0])",
            vec![json!(css)],
        )
        .await;
        self.client
            .find(Locator::Css(css))
            .await
            .expect("the element is there")
    }

    /// Registers `username` through the page and waits until it is connected.
    pub async fn sign_up(&self, site: &Site, username: &str) {
        self.open(&site.url("/")).await;
        self.wait_until(
            "the sign-in form",
            "!document.getElementById('auth').hidden",
        )
        .await;
        self.click("#auth-switch").await;
        self.fill("#username", username).await;
        self.fill("#password", PASSWORD).await;
        self.click("#auth-submit").await;
        self.wait_until_connected().await;
    }

    /// Signs `username` in through the form already on the page; waits until connected.
    pub async fn sign_in(&self, username: &str) {
        self.wait_until(
            "the sign-in form",
            "!document.getElementById('auth').hidden",
        )
        .await;
        self.fill("#username", username).await;
        self.fill("#password", PASSWORD).await;
        self.click("#auth-submit").await;
        self.wait_until_connected().await;
    }

    /// Waits until the chat is shown and its socket is ready.
    pub async fn wait_until_connected(&self) {
        self.wait_until(
            "a connected chat",
            "!document.getElementById('chat').hidden \
             && document.getElementById('connection').dataset.state === 'online'",
        )
        .await;
    }

    /// Creates a conversation with `members` from the sidebar form; it opens.
    pub async fn create_conversation(&self, title: &str, members: &[&str]) {
        self.fill("#new-title", title).await;
        self.fill("#new-members", &members.join(", ")).await;
        self.click("#new-conversation button[type=submit]").await;
        self.wait_until_with(
            "the new conversation open",
            "document.getElementById('room-title').textContent === arguments[0] \
             && !document.getElementById('send').hidden",
            vec![json!(title)],
        )
        .await;
    }

    /// Opens the conversation titled `title` from the list.
    pub async fn open_conversation(&self, title: &str) {
        self.wait_until_with(
            &format!("{title} in the list"),
            "[...document.querySelectorAll('#conversations .title')]\
             .some((t) => t.textContent === arguments[0])",
            vec![json!(title)],
        )
        .await;
        self.eval_with(
            "[...document.querySelectorAll('#conversations button')]\
             .find((b) => b.querySelector('.title').textContent === arguments[0]).click()",
            vec![json!(title)],
        )
        .await;
        self.wait_until_with(
            "the conversation open",
            "document.getElementById('room-title').textContent === arguments[0]",
            vec![json!(title)],
        )
        .await;
    }

    /// Types `text` in the message box and presses Enter.
    pub async fn send_message(&self, text: &str) {
        self.fill("#content", text).await;
        self.keys(
            "#content",
            &char::from(fantoccini::key::Key::Enter).to_string(),
        )
        .await;
    }

    /// Waits until a sent message (not a pending one) reads `text`.
    pub async fn wait_for_message(&self, text: &str) {
        self.wait_until_with(
            &format!("the message {text:?}"),
            "[...document.querySelectorAll('#messages li[data-id] .body')]\
             .some((b) => b.textContent === arguments[0])",
            vec![json!(text)],
        )
        .await;
    }

    /// The texts of the sent messages shown, top to bottom.
    pub async fn message_texts(&self) -> Vec<String> {
        let texts = self
            .eval(
                "return [...document.querySelectorAll('#messages li[data-id] .body')]\
                 .map((b) => b.textContent)",
            )
            .await;
        serde_json::from_value(texts).expect("a list of strings")
    }

    /// Saves a PNG of the viewport as `target/screenshots/{name}.png`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("a screenshot");
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).expect("target/screenshots can be made");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("the screenshot is written");
        path
    }

    /// Ends the browser session.
    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}
