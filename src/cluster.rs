//! The cluster bus: with `REDIS_URL` set, changes committed by this process are published
//! on a Redis channel and changes committed by the others are delivered to this process's
//! sockets, so several palaver processes behind one load balancer behave as one chat.
//! Revoked login sessions travel the same way, so a logout on one node holds on all.
//!
//! The channel is named after the database: processes that share a database share a chat.

use std::hash::{Hash, Hasher};

use futures_util::StreamExt;
use rand::RngCore;
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast::error::RecvError;

use crate::auth::SessionCache;
use crate::config::{Config, DatabaseUrl};
use crate::live::{Live, LiveEvent};

/// What travels on the channel: the event and the process it came from.
#[derive(Serialize, Deserialize)]
struct Envelope {
    node: String,
    event: LiveEvent,
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

/// Connects to Redis and starts relaying in both directions; fails if Redis cannot be
/// reached, so a misconfigured node does not silently run alone.
pub async fn join(
    config: &Config,
    redis_url: &str,
    live: &Live,
    sessions: &SessionCache,
) -> anyhow::Result<()> {
    let client = redis::Client::open(redis_url)?;
    let channel = channel_for(&config.database_url);
    let mut node = [0u8; 8];
    rand::rng().fill_bytes(&mut node);
    let node = hex::encode(node);

    let mut publisher = client.get_multiplexed_async_connection().await?;
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.subscribe(&channel).await?;

    let mut outgoing = live.subscribe();
    let (out_channel, out_node) = (channel.clone(), node.clone());
    actix_web::rt::spawn(async move {
        loop {
            let published = match outgoing.recv().await {
                Ok(published) => published,
                Err(RecvError::Lagged(missed)) => {
                    log::error!("cluster bus fell behind: {missed} events not shared");
                    continue;
                }
                Err(RecvError::Closed) => break,
            };
            if !published.local {
                continue;
            }
            let envelope = Envelope {
                node: out_node.clone(),
                event: published.event,
            };
            let Ok(payload) = serde_json::to_string(&envelope) else {
                continue;
            };
            if let Err(e) = publisher.publish::<_, _, ()>(&out_channel, payload).await {
                log::error!("cluster bus publish failed: {e}");
            }
        }
    });

    let live = live.clone();
    let sessions = sessions.clone();
    actix_web::rt::spawn(async move {
        let mut incoming = pubsub.into_on_message();
        while let Some(message) = incoming.next().await {
            let envelope: Envelope = match serde_json::from_slice(message.get_payload_bytes()) {
                Ok(envelope) => envelope,
                Err(e) => {
                    log::warn!("cluster bus: unreadable event: {e}");
                    continue;
                }
            };
            if envelope.node == node {
                continue;
            }
            if let LiveEvent::SessionRevoked(session_id) = &envelope.event {
                sessions.revoke(session_id.clone());
            }
            live.publish_remote(envelope.event.without_origin());
        }
        log::error!("cluster bus: the Redis subscription ended");
    });
    log::info!("joined the cluster bus on {channel}");
    Ok(())
}
