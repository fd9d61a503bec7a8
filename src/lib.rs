#![warn(missing_docs)]
//! palaver: a real-time chat server. actix-web serves the HTTP API behind a middleware
//! chain whose order is fixed by construction; one actor per WebSocket and one
//! `ChatServer` actor run the live part; Diesel stores everything on SQLite (embedded, the
//! default) or PostgreSQL; a Redis bus joins several processes into one chat.
//!
//! # Layout
//!
//! Dependencies run one way, top to bottom: `startup` assembles `middleware`, `routes`
//! and `state`; `routes` and `chat` call `service`, which calls `db` and publishes on
//! `live`; nothing below imports what is above it.
//!
//! - [`cli`]: `serve`, `migrate`, `token`; a command builds only what it needs.
//! - [`startup`]: [`startup::Application`], the one place the app is assembled and run.
//! - [`state`]: [`state::AppState`], the handles every request may need.
//! - [`middleware`]: the seven layers and the [`middleware::Chain`] that orders them.
//! - [`routes`]: thin HTTP handlers, one resource per file; `routes/ws.rs` is the handshake.
//! - [`chat`]: the live part: the `ChatServer` actor, one `WsSession` actor per socket,
//!   the close codes, the frame guard, the room bookkeeping.
//! - [`cluster`]: the Redis bus that joins several processes into one chat.
//! - [`service`]: the rules HTTP and sockets share: membership, sending (group commit:
//!   one transaction for every send waiting), editing, deleting, read markers, history
//!   paging, search, the order of refusals.
//! - [`live`]: committed changes published for the sockets.
//! - [`auth`]: tokens, password hashing, the proven identity, the cache of sessions and users.
//! - [`limits`], [`metrics`]: rate limits (on `governor`) and counters (on `prometheus-client`).
//! - [`error`]: [`error::AppError`], turned into the JSON error body in one place.
//! - [`db`]: pools over both backends and the queries, each written once.
//! - [`domain`]: values parsed at the edge: ids, usernames, content, titles, roles.
//! - [`config`]: every environment variable, parsed once into [`config::Config`].

pub mod auth;
pub mod chat;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod limits;
pub mod live;
pub mod metrics;
pub mod middleware;
pub mod routes;
pub mod service;
pub mod startup;
pub mod state;
