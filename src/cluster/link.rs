//! The node's link to Redis: one task that publishes this node's events, delivers the
//! others', and, when Redis goes away, marks the bus degraded, reconnects with capped
//! exponential backoff and jitter, resubscribes and catches up.

use std::time::Duration;

use futures_util::StreamExt;
use rand::Rng;
use redis::aio::{MultiplexedConnection, PubSubStream};
use redis::AsyncCommands;
use tokio::sync::broadcast::error::RecvError;

use super::{BusParts, BusStatus, Envelope};
use crate::db;
use crate::live::LiveEvent;

/// The first wait before reconnecting; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// The longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How long one connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Revocations are re-read from a little before the outage was noticed, for the events
/// that were in flight when it began.
const CATCH_UP_MARGIN: chrono::TimeDelta = chrono::TimeDelta::seconds(5);

/// A connected link: where to publish and what to read.
pub(super) struct Connected {
    publisher: MultiplexedConnection,
    incoming: PubSubStream,
}

/// Everything the link task owns.
pub(super) struct Link {
    pub(super) client: redis::Client,
    pub(super) channel: String,
    pub(super) node: String,
    pub(super) status: BusStatus,
    pub(super) parts: BusParts,
}

impl Link {
    /// Opens the publishing connection and the subscription, within [`CONNECT_TIMEOUT`].
    pub(super) async fn connect(&self) -> redis::RedisResult<Connected> {
        let attempt = async {
            let publisher = self.client.get_multiplexed_async_connection().await?;
            let mut pubsub = self.client.get_async_pubsub().await?;
            pubsub.subscribe(&self.channel).await?;
            Ok(Connected {
                publisher,
                incoming: pubsub.into_on_message(),
            })
        };
        match tokio::time::timeout(CONNECT_TIMEOUT, attempt).await {
            Ok(connected) => connected,
            Err(_) => Err(redis::RedisError::from((
                redis::ErrorKind::IoError,
                "connecting to Redis timed out",
            ))),
        }
    }

    /// Relays while connected, reconnects while not, for the life of the process.
    pub(super) async fn run(self, mut connected: Option<Connected>) {
        let mut outgoing = self.parts.live.subscribe();
        let mut down_since = None;
        let mut backoff = FIRST_BACKOFF;
        loop {
            let link = match connected.take() {
                Some(link) => link,
                None => {
                    if down_since.is_none() {
                        down_since = Some(self.went_down());
                    }
                    match self.connect().await {
                        Ok(link) => link,
                        Err(e) => {
                            log::debug!("cluster bus: reconnecting failed: {e}");
                            tokio::time::sleep(with_jitter(backoff)).await;
                            backoff = (backoff * 2).min(MAX_BACKOFF);
                            continue;
                        }
                    }
                }
            };
            if let Some(since) = down_since.take() {
                // Events queued while down are old news to the others: start afresh.
                outgoing = outgoing.resubscribe();
                self.parts.metrics.reconnects.inc();
                self.catch_up(since).await;
                log::info!("cluster bus: Redis is back; the cluster is whole again");
            }
            self.status.set(true);
            self.parts.metrics.connected.set(1);
            // Whoever is online elsewhere, say so now (the first time, and after an outage).
            self.parts.live.publish(LiveEvent::PresenceRequest {
                node: self.node.clone(),
            });
            backoff = FIRST_BACKOFF;
            match self.relay(link, &mut outgoing).await {
                Relay::Stopped => return,
                Relay::Broken(why) => {
                    log::error!("cluster bus: {why}; serving alone, reconnecting")
                }
            }
        }
    }

    /// Marks the bus degraded and the session cache doubtful; when it happened.
    fn went_down(&self) -> chrono::NaiveDateTime {
        self.status.set(false);
        self.parts.metrics.connected.set(0);
        self.parts.sessions.distrust();
        crate::db::models::now() - CATCH_UP_MARGIN
    }

    /// Re-reads the revocations made since `since`; the cache is trusted again once it has
    /// them all (and stays doubtful if the database cannot say).
    async fn catch_up(&self, since: chrono::NaiveDateTime) {
        match db::sessions::revoked_since(&self.parts.db, since).await {
            Ok(revoked) => {
                for session_id in revoked {
                    self.parts.live.publish_remote(LiveEvent::SessionRevoked(session_id.clone()));
                    self.parts.sessions.revoke(session_id);
                }
                self.parts.sessions.trust();
            }
            Err(e) => log::warn!(
                "cluster bus: cannot re-read revocations ({e}); sessions are checked in the database"
            ),
        }
    }

    /// Publishes local events and delivers remote ones until either side breaks.
    async fn relay(
        &self,
        link: Connected,
        outgoing: &mut tokio::sync::broadcast::Receiver<crate::live::Published>,
    ) -> Relay {
        let Connected {
            mut publisher,
            mut incoming,
        } = link;
        loop {
            tokio::select! {
                published = outgoing.recv() => {
                    let published = match published {
                        Ok(published) => published,
                        Err(RecvError::Lagged(missed)) => {
                            log::error!("cluster bus fell behind: {missed} events not shared");
                            continue;
                        }
                        Err(RecvError::Closed) => return Relay::Stopped,
                    };
                    if !published.local {
                        continue;
                    }
                    let envelope = Envelope { node: self.node.clone(), event: published.event };
                    let Ok(payload) = serde_json::to_string(&envelope) else { continue };
                    if let Err(e) = publisher.publish::<_, _, ()>(&self.channel, payload).await {
                        self.parts.metrics.publish_failures.inc();
                        return Relay::Broken(format!("publishing failed: {e}"));
                    }
                    self.parts.metrics.relayed_out.inc();
                }
                message = incoming.next() => {
                    let Some(message) = message else {
                        return Relay::Broken("the subscription ended".into());
                    };
                    self.deliver(message.get_payload_bytes());
                }
            }
        }
    }

    /// An event from the channel, unless it is this node's own.
    fn deliver(&self, payload: &[u8]) {
        let envelope: Envelope = match serde_json::from_slice(payload) {
            Ok(envelope) => envelope,
            Err(e) => {
                log::warn!("cluster bus: unreadable event: {e}");
                return;
            }
        };
        if envelope.node == self.node {
            return;
        }
        if let LiveEvent::SessionRevoked(session_id) = &envelope.event {
            self.parts.sessions.revoke(session_id.clone());
        }
        self.parts.metrics.relayed_in.inc();
        self.parts
            .live
            .publish_remote(envelope.event.without_origin());
    }
}

/// Why relaying stopped.
enum Relay {
    /// The process is stopping.
    Stopped,
    /// Redis went away.
    Broken(String),
}

/// `base` plus up to half of it again, so nodes do not reconnect in step.
fn with_jitter(base: Duration) -> Duration {
    let extra = rand::rng().random_range(0..=base.as_millis() as u64 / 2);
    base + Duration::from_millis(extra)
}
