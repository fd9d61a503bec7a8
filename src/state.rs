//! What every request may need, shared by all workers. This module only names the
//! handles; `startup.rs` builds them. Nothing here imports the HTTP layers
//! (`routes`, `middleware`, `startup`), so everyone can import it without a cycle.

use std::sync::Arc;
use std::time::Instant;

use crate::auth::{SessionCache, Tokens};
use crate::chat::Chat;
use crate::cluster::BusStatus;
use crate::config::Config;
use crate::db::Db;
use crate::limits::{LoginLimiter, SendLimiter};
use crate::live::Live;
use crate::metrics::Metrics;
use crate::service::Service;

/// The application's shared state, one per process.
pub struct AppState {
    /// The configuration, parsed once.
    pub config: Arc<Config>,
    /// Storage, for the handlers whose queries are theirs alone (accounts, user search).
    pub db: Db,
    /// The rules HTTP shares with the sockets.
    pub service: Arc<Service>,
    /// Issues and checks tokens.
    pub tokens: Arc<Tokens>,
    /// What is known of login sessions, checked with every credential.
    pub sessions: SessionCache,
    /// Login attempts per address and username.
    pub login_limiter: LoginLimiter,
    /// Message sends per user, shared with the sockets.
    pub send_limiter: Arc<SendLimiter>,
    /// Counters for `/metrics`.
    pub metrics: Arc<Metrics>,
    /// Committed changes for the live side.
    pub live: Live,
    /// The live side: the `ChatServer`, the socket slots, shutdown.
    pub chat: Arc<Chat>,
    /// Whether the cluster bus is up; `None` without `REDIS_URL`.
    pub bus: Option<BusStatus>,
    /// When the process started, for `/ws/stats`.
    pub started: Instant,
}
