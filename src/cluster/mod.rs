//! The cluster bus: with `REDIS_URL` set, changes committed by this process are published
//! on a Redis channel and changes committed by the others are delivered to this process's
//! sockets, so several palaver processes behind one load balancer behave as one chat.
//! Revoked login sessions and `typing` travel the same way; messages are delivered in
//! `seq` order whichever node committed them (`chat::ordering`).
//!
//! The channel is named after the database: processes that share a database share a chat.
//!
//! A Redis outage never splits the cluster silently ([`link`]): the node keeps serving its
//! own sockets, reports the bus as degraded, stops trusting its session cache (every
//! credential is checked against the database), reconnects with backoff and jitter, and
//! on reconnecting re-reads the revocations made meanwhile before it trusts the cache
//! again. Messages other nodes committed during the outage show as a `seq` jump to the
//! sockets here, which the protocol has them repair with `history` `after` their last id.

mod link;

use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::auth::SessionCache;
use crate::config::{Config, DatabaseUrl};
use crate::db::Db;
use crate::live::{Live, LiveEvent};
use crate::metrics::BusMetrics;

/// What travels on the channel: the event and the process it came from.
#[derive(Serialize, Deserialize)]
struct Envelope {
    node: String,
    event: LiveEvent,
}

/// Whether the bus is up, for `/health` (cheap to clone).
#[derive(Clone, Debug, Default)]
pub struct BusStatus(Arc<AtomicBool>);

impl BusStatus {
    /// `true` while subscribed to Redis.
    pub fn is_up(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    fn set(&self, up: bool) {
        self.0.store(up, Ordering::Relaxed);
    }
}

/// The Redis channel of the chat that uses this database.
pub fn channel_for(database: &DatabaseUrl) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    match database {
        DatabaseUrl::Sqlite(path) => std::fs::canonicalize(path)
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| path.clone())
            .hash(&mut hasher),
        DatabaseUrl::Postgres(url) => url.hash(&mut hasher),
    }
    format!("palaver:live:{:016x}", hasher.finish())
}

/// What the bus works with.
pub struct BusParts {
    /// Where this node's events come from and remote ones go.
    pub live: Live,
    /// The cache whose trust follows the bus, and where remote logouts land.
    pub sessions: SessionCache,
    /// Where revocations missed during an outage are re-read.
    pub db: Db,
    /// The bus's series on `/metrics`.
    pub metrics: BusMetrics,
    /// This process's name on the bus, as [`node_name`] made it.
    pub node: String,
}

/// A fresh random name for this process on the bus.
pub fn node_name() -> String {
    let mut node = [0u8; 8];
    rand::rng().fill_bytes(&mut node);
    hex::encode(node)
}

/// Starts relaying in both directions and returns the bus's status. With
/// `REDIS_REQUIRED=true` a Redis that cannot be reached now fails start-up; otherwise the
/// node starts degraded and keeps reconnecting.
pub async fn join(config: &Config, redis_url: &str, parts: BusParts) -> anyhow::Result<BusStatus> {
    let client = redis::Client::open(redis_url)?;
    let channel = channel_for(&config.database_url);
    let status = BusStatus::default();
    let link = link::Link {
        client,
        channel: channel.clone(),
        node: parts.node.clone(),
        status: status.clone(),
        parts,
    };
    let first = link.connect().await;
    let first = match first {
        Ok(connected) => Some(connected),
        Err(e) if config.redis_required => {
            return Err(
                anyhow::Error::new(e).context("REDIS_REQUIRED is set and Redis cannot be reached")
            )
        }
        Err(e) => {
            log::warn!("cluster bus: Redis cannot be reached ({e}); serving alone until it can");
            None
        }
    };
    actix_web::rt::spawn(link.run(first));
    log::info!("cluster bus on channel {channel}");
    Ok(status)
}
