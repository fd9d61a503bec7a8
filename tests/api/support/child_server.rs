//! The built `palaver` binary as a child process on a SQLite file, for the faults only a
//! real process shows: a SIGKILL in the middle of a write, a restart on the same file, a
//! file-size limit that makes every write fail. Killed when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use awc::http::StatusCode;
use serde_json::{json, Value};

use super::fixtures::PASSWORD;

/// What one request to a child server got: its status and JSON body, or why it got none.
pub type ChildAnswer = Result<(StatusCode, Value), String>;

/// A running `palaver serve` over `palaver.db` in a directory of the test's.
pub struct ChildServer {
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    child: Child,
    client: awc::Client,
}

/// The variables of every child server, with `dir/palaver.db` as the database.
fn child_vars(dir: &Path, port: u16, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut vars: Vec<(String, String)> = [
        ("APP_ENV", "test".to_string()),
        ("BIND_ADDR", format!("127.0.0.1:{port}")),
        (
            "DATABASE_URL",
            format!("sqlite://{}", dir.join("palaver.db").display()),
        ),
        // Fixed, so a restarted server accepts the tokens of the first one.
        ("JWT_SECRET", "f".repeat(64)),
        ("RATE_LIMIT_PER_SEC", "100000".to_string()),
        ("RATE_LIMIT_BURST", "100000".to_string()),
        ("LOGIN_ATTEMPTS_PER_MIN", "1000".to_string()),
        ("RUST_LOG", "error".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    vars
}

impl ChildServer {
    /// Registers `username` with the test password; their token.
    pub async fn signup(&self, username: &str) -> String {
        let (status, body) = self
            .post(
                "/api/auth/register",
                None,
                &json!({"username": username, "password": PASSWORD}),
            )
            .await
            .expect("registration answers");
        assert_eq!(status.as_u16(), 201, "{body}");
        body["token"].as_str().expect("token").to_string()
    }

    /// A conversation called `title`, owned by the holder of `token`; its id.
    pub async fn new_conversation(&self, token: &str, title: &str) -> i64 {
        let (status, body) = self
            .post("/api/conversations", Some(token), &json!({"title": title}))
            .await
            .expect("the conversation is created");
        assert_eq!(status.as_u16(), 201, "{body}");
        body["conversation"]["id"]
            .as_i64()
            .expect("conversation.id")
    }

    /// Starts the binary on `dir/palaver.db` with `extra` variables and waits until it
    /// serves. It ignores SIGXFSZ (through the shell that execs it), so a file-size limit
    /// makes its writes fail with an error instead of killing it.
    pub async fn start(dir: &Path, extra: &[(&str, &str)]) -> ChildServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let binary = PathBuf::from(env!("CARGO_BIN_EXE_palaver"));
        let child = Command::new("sh")
            .args(["-c", "trap '' XFSZ; exec \"$0\" serve"])
            .arg(&binary)
            .env_clear()
            .envs(child_vars(dir, port, extra))
            .current_dir(dir)
            .stdout(Stdio::null())
            .spawn()
            .expect("the binary starts");
        let server = ChildServer {
            address: format!("http://127.0.0.1:{port}"),
            child,
            client: awc::Client::builder()
                .timeout(Duration::from_secs(30))
                .finish(),
        };
        server.wait_until_serving().await;
        server
    }

    /// The process id, for signals and limits.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL, and waits until the process is gone.
    pub fn kill(&mut self) {
        self.child.kill().expect("the child is killed");
        self.child.wait().expect("the killed child is reaped");
    }

    /// `GET path` with an optional bearer token.
    pub async fn get(&self, path: &str, token: Option<&str>) -> ChildAnswer {
        let mut request = self.client.get(format!("{}{path}", self.address));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        answer(request.send().await).await
    }

    /// `POST path` with a JSON body and an optional bearer token.
    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> ChildAnswer {
        let mut request = self.client.post(format!("{}{path}", self.address));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        answer(request.send_json(body).await).await
    }

    /// Polls `GET path` until it answers `status`, for at most `within`; how long it took.
    pub async fn wait_for_status(&self, path: &str, status: u16, within: Duration) -> Duration {
        let started = Instant::now();
        let mut last = None;
        while started.elapsed() < within {
            match self.get(path, None).await {
                Ok((got, _)) if got.as_u16() == status => return started.elapsed(),
                other => last = Some(other),
            }
            actix_rt::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{path} did not answer {status} within {within:?}; last: {last:?}");
    }

    async fn wait_until_serving(&self) {
        self.wait_for_status("/health/live", 200, Duration::from_secs(30))
            .await;
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads a response into status and JSON (`null` for an empty body).
async fn answer<S>(
    sent: Result<awc::ClientResponse<S>, awc::error::SendRequestError>,
) -> ChildAnswer
where
    S: futures_util::Stream<Item = Result<actix_web::web::Bytes, awc::error::PayloadError>> + Unpin,
{
    let mut response = sent.map_err(|e| format!("no answer: {e}"))?;
    let body = response.body().await.map_err(|e| format!("no body: {e}"))?;
    let json = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body).map_err(|e| format!("not JSON ({e}): {body:?}"))?
    };
    Ok((response.status(), json))
}
