//! The server as a process of its own: [`ServerProcess`] runs the built binary over a
//! fresh SQLite database with nothing but the variables a test gives it (and, when asked,
//! a low open-file limit), reads its port off its log, and keeps every line it writes to
//! stderr, so a test can read the log of a real run. It is spoken to over plain sockets.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

use super::app::random_hex;
use super::raw::RawResponse;

/// How long the process may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long one read off a socket to the process may wait.
const SOCKET_TIMEOUT: Duration = Duration::from_secs(30);

/// A running `palaver` process, killed when dropped.
pub struct ServerProcess {
    child: Child,
    /// The port it listens on, read off its log.
    pub port: u16,
    /// Its `JWT_SECRET`, so a test can check the secret never reaches the log either.
    pub jwt_secret: String,
    log: Arc<Mutex<String>>,
    reader: Option<JoinHandle<()>>,
    _workdir: TempDir,
}

impl ServerProcess {
    /// Starts the binary with the test defaults, then `vars`.
    pub fn start(vars: &[(&str, &str)]) -> ServerProcess {
        ServerProcess::spawn(vars, None)
    }

    /// Starts the binary with both open-file limits (soft and hard) set to `limit`.
    pub fn start_with_open_files(vars: &[(&str, &str)], limit: u64) -> ServerProcess {
        ServerProcess::spawn(vars, Some(limit))
    }

    fn spawn(vars: &[(&str, &str)], open_files: Option<u64>) -> ServerProcess {
        let workdir = tempfile::tempdir().expect("a temporary directory");
        let jwt_secret = random_hex(32);
        let database = format!("sqlite://{}/palaver.db", workdir.path().display());
        let mut command = Command::new(env!("CARGO_BIN_EXE_palaver"));
        command
            .env_clear()
            .env("APP_ENV", "test")
            .env("BIND_ADDR", "127.0.0.1:0")
            .env("DATABASE_URL", database)
            .env("JWT_SECRET", &jwt_secret)
            .env("RATE_LIMIT_PER_SEC", "1000")
            .env("RATE_LIMIT_BURST", "1000")
            .env("LOGIN_ATTEMPTS_PER_MIN", "1000")
            .envs(vars.iter().copied())
            .current_dir(workdir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(limit) = open_files {
            limit_open_files(&mut command, limit);
        }
        let mut child = command.spawn().expect("the binary starts");
        let stderr = child.stderr.take().expect("stderr is piped");
        let log = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&log);
        let (lines, new_lines) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                let mut log = sink.lock().unwrap_or_else(|p| p.into_inner());
                log.push_str(&line);
                log.push('\n');
                drop(log);
                // Nobody waits for lines once the port is known.
                let _ = lines.send(line);
            }
        });
        let mut process = ServerProcess {
            child,
            port: 0,
            jwt_secret,
            log,
            reader: Some(reader),
            _workdir: workdir,
        };
        process.port = process.wait_for_port(&new_lines);
        process
    }

    /// Reads log lines as they come until one names the port the process listens on.
    fn wait_for_port(&mut self, new_lines: &Receiver<String>) -> u16 {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            match new_lines.recv_timeout(remaining) {
                Ok(line) => {
                    // The address ends where a text line or a JSON string does.
                    let port = line
                        .split("palaver listening on http://")
                        .nth(1)
                        .and_then(|rest| rest.split(['"', ' ']).next())
                        .and_then(|address| address.trim().rsplit(':').next())
                        .and_then(|port| port.parse().ok());
                    if let Some(port) = port {
                        return port;
                    }
                }
                Err(RecvTimeoutError::Timeout) => panic!(
                    "the server did not listen within {START_TIMEOUT:?}:\n{}",
                    self.log()
                ),
                Err(RecvTimeoutError::Disconnected) => panic!(
                    "the server exited ({:?}) before listening:\n{}",
                    self.child.wait(),
                    self.log()
                ),
            }
        }
    }

    /// Everything the process has written to stderr so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Kills the process and returns its whole log, read to the end.
    pub fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(reader) = self.reader.take() {
            reader.join().expect("the log reader finishes");
        }
        self.log()
    }

    /// A plain socket to the process, whose reads give up after a while.
    pub fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to the server");
        stream
            .set_read_timeout(Some(SOCKET_TIMEOUT))
            .expect("set a read timeout");
        stream
    }

    /// Sends the hand-written request `head` on a fresh connection and reads the answer;
    /// the connection stays open, as a WebSocket's must, until the stream is dropped.
    pub fn exchange(&self, head: &str) -> (TcpStream, RawResponse) {
        let mut stream = self.connect();
        stream
            .write_all(head.as_bytes())
            .expect("write the request");
        let response = RawResponse::read(&mut stream);
        (stream, response)
    }

    /// `GET path` with `extra` header lines (each ending `\r\n`).
    pub fn get(&self, path: &str, extra: &str) -> RawResponse {
        self.exchange(&format!(
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}\r\n"
        ))
        .1
    }

    /// `POST path` with `extra` header lines and `body` as JSON.
    pub fn post_json(&self, path: &str, extra: &str, body: &Value) -> RawResponse {
        let body = body.to_string();
        self.exchange(&format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n{extra}\r\n{body}",
            body.len()
        ))
        .1
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Makes `command`'s process start with `limit` open files, soft and hard.
fn limit_open_files(command: &mut Command, limit: u64) {
    use std::os::unix::process::CommandExt;

    use rustix::process::{setrlimit, Resource, Rlimit};
    let limit = Rlimit {
        current: Some(limit),
        maximum: Some(limit),
    };
    // SAFETY: the closure runs in the forked child before exec and only calls setrlimit,
    // which is async-signal-safe; it allocates nothing and takes no lock.
    unsafe {
        command.pre_exec(move || setrlimit(Resource::Nofile, limit).map_err(Into::into));
    }
}

/// The value of the `name` cookie that `response` sets.
pub fn set_cookie_value(response: &RawResponse, name: &str) -> Option<String> {
    response
        .headers
        .iter()
        .filter(|(header, _)| header == "set-cookie")
        .find_map(|(_, value)| {
            let (cookie, _) = value.split_once(';').unwrap_or((value, ""));
            let (cookie_name, cookie_value) = cookie.split_once('=')?;
            (cookie_name.trim() == name).then(|| cookie_value.trim().to_string())
        })
}

/// The JSON body of `response`.
pub fn json_body(response: &RawResponse) -> Value {
    serde_json::from_str(&response.body)
        .unwrap_or_else(|e| panic!("a JSON body ({e}): {}", response.body))
}
