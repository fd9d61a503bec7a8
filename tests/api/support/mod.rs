//! The test harness, a small library of its own: every suite starts a real server with
//! [`spawn_app`], arranges its scene with the fixtures, acts through a client, and asserts
//! on what came back. Each helper is defined once here, so the suites hold only tests.
//!
//! # Layout
//!
//! - `app`: [`TestApp`], [`spawn_app`] and the servers configured for one area.
//! - `database`: a fresh SQLite or PostgreSQL database for each test.
//! - `http`: [`Auth`] and one helper per HTTP endpoint.
//! - `response`: [`TestResponse`] and the assertions about HTTP answers.
//! - `bodies`: the lists a test reads out of JSON bodies and frames.
//! - `fixtures`: users, conversations, messages and the scenes built from them.
//! - `tokens`: reading and signing tokens of the tests' own making.
//! - `ws`: [`WsClient`], a WebSocket client whose every read has a deadline.
//! - `frames`: the JSON frames of the protocol a test sends or expects.
//! - `raw`: hand-written HTTP requests, handshakes and frames over a plain socket.
//! - `config`: loading a configuration from a map of variables.
//! - `binary`: running the built `palaver` binary.
//! - `redis_server`: a Redis of the test's own, to stop and start.
//! - `process`: [`ServerProcess`], the built server as a process of its own, and its log.
//! - `child_server`: the built binary as a child process, to kill and restart.
//! - `postgres_cluster`: a PostgreSQL server of the test's own, on a free port.
//! - `proxy`: a TCP proxy that freezes and thaws the connections through it.
//! - `browser`: a headless chromium through chromedriver, and the page actions of its tests.
//! - `relay`: a TCP relay that keeps the page's origin while servers come and go.

mod app;
mod binary;
mod bodies;
mod browser;
mod child_server;
mod config;
mod database;
mod fixtures;
mod frames;
mod http;
mod postgres_cluster;
mod process;
mod proxy;
mod raw;
mod redis_server;
mod relay;
mod response;
mod tokens;
mod ws;

pub use app::*;
pub use binary::*;
pub use bodies::*;
pub use browser::*;
pub use child_server::*;
pub use config::*;
pub use fixtures::*;
pub use frames::*;
pub use http::*;
pub use postgres_cluster::*;
pub use process::*;
pub use proxy::*;
pub use raw::*;
pub use redis_server::*;
pub use response::*;
pub use tokens::*;
pub use ws::*;
