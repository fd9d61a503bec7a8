//! Delivery in `seq` order, whichever node committed a message.
//!
//! Within a conversation the database numbers messages 1, 2, 3… in commit order, and every
//! socket must see them in that order. One node publishes its own commits in order, but
//! with several nodes a message committed here can reach this node's `ChatServer` before
//! an earlier one committed elsewhere arrives over the bus. So each room keeps the `seq`
//! it delivered last: the next one is delivered at once, a later one is held until the
//! gap before it closes, and if the gap is still open after [`GAP_WAIT`] the held
//! messages are delivered in order anyway. The socket then sees `seq` jump, which the
//! protocol defines as a gap the client repairs with `history` `after` its last id; a
//! message that arrives after its successors were delivered is not delivered live, since
//! that would put it out of order (the client's repair fetches it). Nothing is ever
//! delivered out of order.
//!
//! A room's starting point is the conversation's `last_seq` as the first socket's `join`
//! read it, so the first message after it is not mistaken for a gap.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

/// How long a message waits for the ones before it.
pub const GAP_WAIT: Duration = Duration::from_millis(200);

/// What to do with an offered message.
#[derive(Debug, PartialEq, Eq)]
pub enum Offer<T> {
    /// Deliver these, in this order (the offered one and any it released).
    Deliver(Vec<T>),
    /// Held until the gap before it closes; wait [`GAP_WAIT`] at most.
    Held,
    /// Its successors were delivered already: delivering it now would break the order.
    Late(T),
}

#[derive(Debug)]
struct Room<T> {
    /// The conversation's last `seq` when the room started.
    floor: i64,
    /// The last `seq` delivered to the room.
    delivered: Option<i64>,
    held: BTreeMap<i64, T>,
}

/// The delivery order of every room.
#[derive(Debug)]
pub struct Sequencer<T> {
    rooms: HashMap<i64, Room<T>>,
}

impl<T> Default for Sequencer<T> {
    fn default() -> Self {
        Sequencer {
            rooms: HashMap::new(),
        }
    }
}

impl<T> Sequencer<T> {
    /// A socket joined the conversation, whose last `seq` was `last_seq` when it checked;
    /// the room starts there unless it is already counting.
    pub fn joined(&mut self, conversation_id: i64, last_seq: i64) {
        self.rooms.entry(conversation_id).or_insert(Room {
            floor: last_seq,
            delivered: None,
            held: BTreeMap::new(),
        });
    }

    /// The room has no socket left: forget its place.
    pub fn emptied(&mut self, conversation_id: i64) {
        self.rooms.remove(&conversation_id);
    }

    /// A message with `seq` for the conversation; a conversation with no room here has
    /// no order to keep.
    pub fn offer(&mut self, conversation_id: i64, seq: i64, item: T) -> Offer<T> {
        let Some(room) = self.rooms.get_mut(&conversation_id) else {
            return Offer::Deliver(vec![item]);
        };
        let expected = room.delivered.unwrap_or(room.floor) + 1;
        match room.delivered {
            Some(delivered) if seq <= delivered => return Offer::Late(item),
            // Committed before the room's first join read `last_seq`, published after:
            // nothing newer went out yet, so it is still in order.
            None if seq < expected => {
                room.delivered = Some(seq);
                return Offer::Deliver(vec![item]);
            }
            _ => {}
        }
        if seq > expected {
            room.held.insert(seq, item);
            return Offer::Held;
        }
        let mut out = vec![item];
        let mut last = seq;
        while let Some(next) = room.held.remove(&(last + 1)) {
            out.push(next);
            last += 1;
        }
        room.delivered = Some(last);
        Offer::Deliver(out)
    }

    /// The wait is over: everything held, in order, and the room moves past the gap.
    pub fn give_up(&mut self, conversation_id: i64) -> Vec<T> {
        let Some(room) = self.rooms.get_mut(&conversation_id) else {
            return Vec::new();
        };
        let held = std::mem::take(&mut room.held);
        if let Some(&last) = held.keys().next_back() {
            room.delivered = Some(last);
        }
        held.into_values().collect()
    }

    /// Whether the room holds messages waiting for a gap to close.
    pub fn is_waiting(&self, conversation_id: i64) -> bool {
        self.rooms
            .get(&conversation_id)
            .is_some_and(|room| !room.held.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_in_order_pass_at_once() {
        let mut order = Sequencer::default();
        order.joined(1, 4);

        assert_eq!(order.offer(1, 5, "5"), Offer::Deliver(vec!["5"]));
        assert_eq!(order.offer(1, 6, "6"), Offer::Deliver(vec!["6"]));
    }

    #[test]
    fn a_message_ahead_of_a_gap_waits_and_is_released_in_order_when_the_gap_closes() {
        let mut order = Sequencer::default();
        order.joined(1, 2);

        assert_eq!(order.offer(1, 5, "5"), Offer::Held);
        assert_eq!(order.offer(1, 4, "4"), Offer::Held);
        assert!(order.is_waiting(1));

        assert_eq!(order.offer(1, 3, "3"), Offer::Deliver(vec!["3", "4", "5"]));
        assert!(!order.is_waiting(1));
    }

    #[test]
    fn a_gap_that_stays_open_releases_what_is_held_and_a_late_message_is_not_delivered() {
        let mut order = Sequencer::default();
        order.joined(1, 0);
        order.offer(1, 1, "1");
        order.offer(1, 3, "3");
        order.offer(1, 4, "4");

        assert_eq!(order.give_up(1), vec!["3", "4"]);
        assert_eq!(order.offer(1, 2, "2"), Offer::Late("2"));
        assert_eq!(order.offer(1, 5, "5"), Offer::Deliver(vec!["5"]));
    }

    #[test]
    fn a_message_committed_before_the_first_join_but_published_after_still_passes() {
        let mut order = Sequencer::default();
        order.joined(1, 7);

        assert_eq!(order.offer(1, 7, "7"), Offer::Deliver(vec!["7"]));
        assert_eq!(order.offer(1, 8, "8"), Offer::Deliver(vec!["8"]));
    }

    #[test]
    fn a_conversation_without_a_room_here_keeps_no_order() {
        let mut order = Sequencer::default();

        assert_eq!(order.offer(9, 40, "40"), Offer::Deliver(vec!["40"]));
    }
}
