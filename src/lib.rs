//! palaver: a real-time chat server. actix-web serves the HTTP API behind a middleware
//! chain whose order is fixed by construction; Diesel stores everything on SQLite
//! (embedded, the default) or PostgreSQL.
//!
//! # Layout
//!
//! - [`config`]: every environment variable, parsed once into [`config::Config`].
//! - [`startup`]: [`startup::Application`] and [`startup::build_app`], the one place the app is assembled.
//! - [`middleware`]: the seven layers and the [`middleware::Chain`] that orders them.
//! - [`error`]: [`error::AppError`], turned into the JSON error body in one place.
//! - [`auth`]: tokens, password hashing, the proven identity.
//! - [`domain`]: values parsed at the edge (usernames, content, titles).
//! - [`db`]: pools over both backends and the repository functions, each query written once.
//! - [`routes`]: one HTTP resource per file.
//! - [`chat`]: the live part: the `ChatServer` actor and one `WsSession` actor per socket.
//! - [`live`]: committed changes published for the sockets.
//! - [`cluster`]: the Redis bus that joins several processes into one chat.
//! - [`limits`], [`metrics`]: rate limits and counters.
//! - [`cli`]: `serve`, `migrate`, `token`.

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
