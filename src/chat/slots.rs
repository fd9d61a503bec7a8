//! Connection slots: the handshake takes one before it accepts a socket, so the
//! `MAX_SOCKETS_PER_USER` and `MAX_CONNECTIONS` limits hold even when handshakes race.
//! A slot is given back when its guard drops with the socket. [`ConnectionBudget`] says
//! how many slots the process's open-file limit leaves room for.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::live::{Live, LiveEvent};

/// Why no slot was free.
#[derive(Debug, PartialEq, Eq)]
pub enum SlotRefused {
    /// The user holds `MAX_SOCKETS_PER_USER` sockets: 429 (1013 after first-message auth).
    UserFull,
    /// The server holds `MAX_CONNECTIONS` sockets: 503.
    ServerFull,
}

/// Descriptors never given to a connection, beyond the database pool: at least this many.
const RESERVED_MIN: u64 = 64;
/// Accepted connections kept for plain HTTP when every socket slot is taken: at least this many.
const HTTP_ROOM_MIN: usize = 16;

/// How the open-file limit is shared out, so that accepting never runs into `EMFILE` and
/// plain HTTP (`/health/live` among it) is still served when the sockets are full:
///
/// - `reserved = DATABASE_POOL_SIZE + max(64, limit / 10)` descriptors are never given to a
///   connection: the database pool (SQLite's journal files too), Redis, the runtime's own
///   descriptors, the files being served;
/// - `accepted = limit - reserved` connections are accepted at once, sockets and plain
///   HTTP together (`HttpServer::max_connections`, split over the workers);
/// - `sockets = min(MAX_CONNECTIONS, accepted - max(16, accepted / 10))` is the effective
///   `MAX_CONNECTIONS`: the handshake past it gets 503.
///
/// With a limit of 256 and a pool of 10: 74 reserved, 182 accepted, 164 sockets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionBudget {
    /// The open-file limit the budget was made for; `None` when there is none.
    pub open_files: Option<u64>,
    /// Connections accepted at once over all workers.
    pub accepted: usize,
    /// The effective `MAX_CONNECTIONS`: how many socket slots there are.
    pub sockets: usize,
}

impl ConnectionBudget {
    /// The budget for `open_files` (`None`: unlimited), a database pool of `pool_size` and
    /// the configured `max_connections`; `None` when the limit leaves no room for a socket.
    pub fn new(open_files: Option<u64>, pool_size: usize, max_connections: usize) -> Option<Self> {
        let Some(limit) = open_files else {
            return Some(ConnectionBudget {
                open_files,
                accepted: max_connections.saturating_add(http_room(max_connections)),
                sockets: max_connections,
            });
        };
        let reserved = (pool_size as u64).saturating_add(RESERVED_MIN.max(limit / 10));
        let accepted = usize::try_from(limit.saturating_sub(reserved)).unwrap_or(usize::MAX);
        let sockets = accepted
            .saturating_sub(http_room(accepted))
            .min(max_connections);
        (sockets > 0).then_some(ConnectionBudget {
            open_files,
            accepted,
            sockets,
        })
    }

    /// `HttpServer::max_connections`, which counts per worker: the accepted connections
    /// split evenly over `workers`.
    pub fn per_worker(&self, workers: usize) -> usize {
        (self.accepted / workers.max(1)).max(1)
    }
}

/// Connections kept for plain HTTP out of `accepted`.
fn http_room(accepted: usize) -> usize {
    HTTP_ROOM_MIN.max(accepted / 10)
}

#[derive(Default)]
struct Counts {
    total: usize,
    per_user: HashMap<i64, usize>,
}

/// The live socket counts. `MAX_SOCKETS_PER_USER` counts a user's sockets on every node:
/// each node publishes its count of a user's sockets whenever it changes (and all of them
/// with its presence snapshot), and the others add them to their own. So the limit holds
/// across the cluster within the bus's delay; two handshakes racing on two nodes within
/// it can both pass.
#[derive(Clone)]
pub struct Slots {
    per_user_limit: usize,
    total_limit: usize,
    counts: Arc<Mutex<Counts>>,
    /// Authenticated sockets per user on the other nodes, by node.
    remote: Arc<Mutex<HashMap<String, HashMap<i64, usize>>>>,
    /// Where this node's counts are published, and its name there.
    publish: Option<(Live, String)>,
}

impl Slots {
    /// Slots for at most `per_user_limit` sockets of one user and `total_limit` in all.
    pub fn new(per_user_limit: usize, total_limit: usize) -> Self {
        Slots {
            per_user_limit,
            total_limit,
            counts: Arc::default(),
            remote: Arc::default(),
            publish: None,
        }
    }

    /// The same, telling the other nodes (through `live`, as `node`) how many sockets each
    /// user holds here.
    pub fn shared(per_user_limit: usize, total_limit: usize, live: Live, node: String) -> Self {
        Slots {
            publish: Some((live, node)),
            ..Slots::new(per_user_limit, total_limit)
        }
    }

    /// Another node holds `count` sockets of `user_id` now.
    pub fn remote_count(&self, node: &str, user_id: i64, count: usize) {
        let mut remote = self.remote.lock().unwrap_or_else(|p| p.into_inner());
        let of_node = remote.entry(node.to_string()).or_default();
        if count == 0 {
            of_node.remove(&user_id);
        } else {
            of_node.insert(user_id, count);
        }
    }

    /// Another node's counts, all of them, replacing what it said before.
    pub fn remote_counts(&self, node: &str, counts: &[(i64, usize)]) {
        let mut remote = self.remote.lock().unwrap_or_else(|p| p.into_inner());
        remote.insert(node.to_string(), counts.iter().copied().collect());
    }

    /// A node is gone: its sockets no longer count.
    pub fn forget_node(&self, node: &str) {
        let mut remote = self.remote.lock().unwrap_or_else(|p| p.into_inner());
        remote.remove(node);
    }

    /// This node's count of each user's authenticated sockets, for its snapshot.
    pub fn local_counts(&self) -> Vec<(i64, usize)> {
        let counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        counts.per_user.iter().map(|(&u, &n)| (u, n)).collect()
    }

    /// Authenticated sockets on every node, this one included.
    pub fn cluster_authenticated(&self) -> usize {
        let remote: usize = self
            .remote
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .flat_map(|of_node| of_node.values())
            .sum();
        self.counts().1 + remote
    }

    fn remote_of(&self, user_id: i64) -> usize {
        self.remote
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .filter_map(|of_node| of_node.get(&user_id))
            .sum()
    }

    fn announce(&self, user_id: i64, count: usize) {
        if let Some((live, node)) = &self.publish {
            live.publish(LiveEvent::SocketCount {
                node: node.clone(),
                user_id,
                count,
            });
        }
    }

    /// A slot for a socket not yet authenticated (first-message mode).
    pub fn acquire_anonymous(&self) -> Result<SlotGuard, SlotRefused> {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        if counts.total >= self.total_limit {
            return Err(SlotRefused::ServerFull);
        }
        counts.total += 1;
        Ok(SlotGuard {
            slots: self.clone(),
            user_id: None,
        })
    }

    /// A slot for `user_id`'s socket.
    pub fn acquire(&self, user_id: i64) -> Result<SlotGuard, SlotRefused> {
        let mut guard = self.acquire_anonymous()?;
        guard.assign(user_id)?;
        Ok(guard)
    }

    /// Open sockets, and how many of them are authenticated.
    pub fn counts(&self) -> (usize, usize) {
        let counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        (counts.total, counts.per_user.values().sum())
    }
}

/// One held slot; dropping it frees it.
pub struct SlotGuard {
    slots: Slots,
    user_id: Option<i64>,
}

impl SlotGuard {
    /// Charges this (anonymous) slot to `user_id` once the socket has authenticated.
    pub fn assign(&mut self, user_id: i64) -> Result<(), SlotRefused> {
        if self.user_id.is_some() {
            return Ok(());
        }
        let elsewhere = self.slots.remote_of(user_id);
        let mut counts = self.slots.counts.lock().unwrap_or_else(|p| p.into_inner());
        let held = counts.per_user.entry(user_id).or_default();
        if *held + elsewhere >= self.slots.per_user_limit {
            return Err(SlotRefused::UserFull);
        }
        *held += 1;
        let now = *held;
        drop(counts);
        self.user_id = Some(user_id);
        self.slots.announce(user_id, now);
        Ok(())
    }
}

impl Drop for SlotGuard {
    fn drop(&mut self) {
        let mut counts = self.slots.counts.lock().unwrap_or_else(|p| p.into_inner());
        counts.total = counts.total.saturating_sub(1);
        let Some(user_id) = self.user_id else {
            return;
        };
        let mut now = 0;
        if let Some(held) = counts.per_user.get_mut(&user_id) {
            *held -= 1;
            now = *held;
            if *held == 0 {
                counts.per_user.remove(&user_id);
            }
        }
        drop(counts);
        self.slots.announce(user_id, now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sockets_on_other_nodes_count_against_a_users_limit() {
        let slots = Slots::new(2, 10);
        slots.remote_count("b", 7, 1);
        let _here = slots.acquire(7).unwrap();

        assert_eq!(slots.acquire(7).err(), Some(SlotRefused::UserFull));
        assert_eq!(slots.cluster_authenticated(), 2);
        slots.forget_node("b");
        assert!(slots.acquire(7).is_ok());
    }

    #[test]
    fn limits_hold_and_slots_come_back() {
        let slots = Slots::new(1, 2);
        let a = slots.acquire(7).unwrap();
        assert_eq!(slots.acquire(7).err(), Some(SlotRefused::UserFull));
        let _b = slots.acquire(8).unwrap();
        assert_eq!(slots.acquire(9).err(), Some(SlotRefused::ServerFull));
        drop(a);
        assert!(slots.acquire(7).is_ok());
    }

    #[test]
    fn a_low_open_file_limit_caps_the_sockets_with_room_for_http_and_the_pool() {
        let budget = ConnectionBudget::new(Some(256), 10, 100_000).unwrap();
        assert_eq!(budget.accepted, 182);
        assert_eq!(budget.sockets, 164);
        assert_eq!(budget.per_worker(2), 91);
    }

    #[test]
    fn a_high_open_file_limit_keeps_the_configured_cap() {
        let budget = ConnectionBudget::new(Some(1_048_576), 10, 100_000).unwrap();
        assert_eq!(budget.accepted, 1_048_576 - 10 - 104_857);
        assert_eq!(budget.sockets, 100_000);
    }

    #[test]
    fn a_tenth_of_the_limit_is_reserved_once_it_passes_the_fixed_margin() {
        let budget = ConnectionBudget::new(Some(20_000), 10, 100_000).unwrap();
        assert_eq!(budget.accepted, 20_000 - 10 - 2_000);
        assert_eq!(budget.sockets, 17_990 - 1_799);
    }

    #[test]
    fn no_limit_keeps_the_configured_cap_and_room_for_http() {
        let budget = ConnectionBudget::new(None, 10, 1_000).unwrap();
        assert_eq!(budget.sockets, 1_000);
        assert_eq!(budget.accepted, 1_100);
    }

    #[test]
    fn a_limit_that_leaves_no_room_for_a_socket_is_refused() {
        assert_eq!(ConnectionBudget::new(Some(80), 10, 100_000), None);
        assert!(ConnectionBudget::new(Some(100), 10, 100_000).is_some());
    }
}
