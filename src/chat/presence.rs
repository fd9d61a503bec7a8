//! Who is online on the other nodes. Each node tells the others when one of its users
//! comes online in a conversation or leaves it, and every [`SNAPSHOT_EVERY`] sends its
//! whole list; a node not heard from for [`NODE_TIMEOUT`] is taken for dead and its users
//! go offline everywhere. So a node that crashes without a clean shutdown takes its
//! users' presence with it within [`NODE_TIMEOUT`], and a node that (re)joins the bus asks
//! for the lists and is whole again at once. Plain bookkeeping, no I/O: the `ChatServer`
//! decides what to announce.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

/// How often a node sends its whole list.
pub const SNAPSHOT_EVERY: Duration = Duration::from_secs(5);
/// How long a silent node's users stay online.
pub const NODE_TIMEOUT: Duration = Duration::from_secs(15);

/// A user online in a conversation.
pub type Seat = (i64, i64);

#[derive(Debug)]
struct Node {
    heard: Instant,
    online: HashSet<Seat>,
}

/// The other nodes' online users.
#[derive(Debug, Default)]
pub struct RemotePresence {
    nodes: HashMap<String, Node>,
}

impl RemotePresence {
    /// Whether `user_id` is online in the conversation on some other node.
    pub fn is_online(&self, conversation_id: i64, user_id: i64) -> bool {
        self.nodes
            .values()
            .any(|n| n.online.contains(&(conversation_id, user_id)))
    }

    /// The users online in the conversation on other nodes.
    pub fn users_in(&self, conversation_id: i64) -> Vec<i64> {
        self.nodes
            .values()
            .flat_map(|n| n.online.iter())
            .filter(|(c, _)| *c == conversation_id)
            .map(|(_, u)| *u)
            .collect()
    }

    /// `node` says its user came online (or went offline) in a conversation.
    pub fn set(&mut self, node: &str, seat: Seat, online: bool, now: Instant) {
        let entry = self.node(node, now);
        if online {
            entry.online.insert(seat);
        } else {
            entry.online.remove(&seat);
        }
    }

    /// `node`'s whole list, replacing what it said before.
    pub fn replace(&mut self, node: &str, seats: HashSet<Seat>, now: Instant) {
        self.node(node, now).online = seats;
    }

    /// What `node` said is online there.
    pub fn seats_of(&self, node: &str) -> Vec<Seat> {
        self.nodes
            .get(node)
            .map(|n| n.online.iter().copied().collect())
            .unwrap_or_default()
    }

    /// The seats of the nodes silent for longer than [`NODE_TIMEOUT`] at `now`.
    pub fn expiring(&self, now: Instant) -> Vec<Seat> {
        self.nodes
            .values()
            .filter(|n| now.duration_since(n.heard) > NODE_TIMEOUT)
            .flat_map(|n| n.online.iter().copied())
            .collect()
    }

    /// The nodes silent for longer than [`NODE_TIMEOUT`] at `now`.
    pub fn expiring_nodes(&self, now: Instant) -> Vec<String> {
        self.nodes
            .iter()
            .filter(|(_, n)| now.duration_since(n.heard) > NODE_TIMEOUT)
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// Forgets the nodes silent for longer than [`NODE_TIMEOUT`].
    pub fn expire(&mut self, now: Instant) {
        self.nodes
            .retain(|_, n| now.duration_since(n.heard) <= NODE_TIMEOUT);
    }

    fn node(&mut self, node: &str, now: Instant) -> &mut Node {
        let entry = self.nodes.entry(node.to_string()).or_insert(Node {
            heard: now,
            online: HashSet::new(),
        });
        entry.heard = now;
        entry
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_is_online_while_some_node_says_so() {
        let mut remote = RemotePresence::default();
        let now = Instant::now();

        remote.set("a", (7, 1), true, now);
        remote.set("b", (7, 1), true, now);
        remote.set("a", (7, 1), false, now);

        assert!(remote.is_online(7, 1));
        assert_eq!(remote.users_in(7), vec![1]);
    }

    #[test]
    fn a_snapshot_replaces_what_the_node_said_before() {
        let mut remote = RemotePresence::default();
        let now = Instant::now();
        remote.set("a", (7, 1), true, now);

        remote.replace("a", HashSet::from([(7, 2)]), now);

        assert!(!remote.is_online(7, 1));
        assert_eq!(remote.seats_of("a"), vec![(7, 2)]);
    }

    #[test]
    fn a_silent_node_takes_its_users_offline_after_the_timeout() {
        let mut remote = RemotePresence::default();
        let start = Instant::now();
        remote.set("crashed", (7, 1), true, start);
        remote.set("alive", (8, 2), true, start + NODE_TIMEOUT);

        let later = start + NODE_TIMEOUT + Duration::from_secs(1);
        let gone = remote.expiring(later);
        remote.expire(later);

        assert_eq!(gone, vec![(7, 1)]);
        assert!(!remote.is_online(7, 1));
        assert!(remote.is_online(8, 2));
    }
}
