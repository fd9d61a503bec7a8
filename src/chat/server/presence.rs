//! Presence on the cluster: what a user's first or last socket here means for the room,
//! here and on the other nodes, and what the other nodes' word means here.

use std::collections::HashSet;
use std::time::Instant;

use super::ChatServer;
use crate::chat::messages::SocketId;
use crate::chat::presence::Seat;
use crate::chat::protocol::{Presence, ServerFrame};
use crate::chat::rooms::PresenceChange;
use crate::live::LiveEvent;

impl ChatServer {
    /// A `presence` frame to the room here.
    pub(super) fn announce(
        &self,
        change: PresenceChange,
        status: Presence,
        except: Option<SocketId>,
    ) {
        let frame = ServerFrame::Presence {
            conversation_id: change.conversation_id,
            user_id: change.user_id,
            status,
        };
        self.to_room(change.conversation_id, &frame, except);
    }

    /// A user's presence changed on this node: the other nodes hear of it, and the room
    /// here too unless the user is online on another node (then nothing changed for it).
    pub(super) fn presence(
        &self,
        change: PresenceChange,
        status: Presence,
        except: Option<SocketId>,
    ) {
        self.live.publish(LiveEvent::Presence {
            conversation_id: change.conversation_id,
            user_id: change.user_id,
            online: status == Presence::Online,
            node: self.node.clone(),
        });
        if !self
            .remote
            .is_online(change.conversation_id, change.user_id)
        {
            self.announce(change, status, except);
        }
    }

    /// Applies another node's word about a seat, announcing it here when the user's
    /// presence on the cluster as a whole changed.
    pub(super) fn remote_presence(&mut self, node: &str, seat: Seat, online: bool) {
        let (conversation_id, user_id) = seat;
        let before = self.online_anywhere(conversation_id, user_id);
        self.remote.set(node, seat, online, Instant::now());
        self.announce_if_changed(seat, before);
    }

    pub(super) fn online_anywhere(&self, conversation_id: i64, user_id: i64) -> bool {
        self.rooms.online_in(conversation_id, user_id)
            || self.remote.is_online(conversation_id, user_id)
    }

    /// Announces `seat` if its cluster-wide presence is no longer `before`.
    pub(super) fn announce_if_changed(&self, (conversation_id, user_id): Seat, before: bool) {
        let now = self.online_anywhere(conversation_id, user_id);
        if now != before {
            let status = if now {
                Presence::Online
            } else {
                Presence::Offline
            };
            let change = PresenceChange {
                conversation_id,
                user_id,
            };
            self.announce(change, status, None);
        }
    }

    /// This node's whole list of online users, for the others.
    pub(super) fn publish_snapshot(&self) {
        self.live.publish(LiveEvent::PresenceSnapshot {
            node: self.node.clone(),
            online: self.rooms.seats(),
            sockets: self.slots.local_counts(),
        });
    }

    /// Another node's whole list replaces what it said before.
    pub(super) fn remote_snapshot(&mut self, node: &str, online: Vec<Seat>) {
        let seats: HashSet<Seat> = online.into_iter().collect();
        // Every seat the list can change: what the node held, and what it holds now.
        let touched: HashSet<Seat> = self
            .remote
            .seats_of(node)
            .into_iter()
            .chain(seats.iter().copied())
            .collect();
        let before: Vec<(Seat, bool)> = touched
            .into_iter()
            .map(|seat| (seat, self.online_anywhere(seat.0, seat.1)))
            .collect();
        self.remote.replace(node, seats, Instant::now());
        for (seat, was) in before {
            self.announce_if_changed(seat, was);
        }
    }

    /// Every [`SNAPSHOT_EVERY`]: tell the others who is here, and take the users of
    /// silent nodes offline.
    pub(super) fn presence_tick(&mut self) {
        self.publish_snapshot();
        let now = Instant::now();
        let before: Vec<(Seat, bool)> = self
            .remote
            .expiring(now)
            .into_iter()
            .map(|seat| (seat, self.online_anywhere(seat.0, seat.1)))
            .collect();
        for node in self.remote.expiring_nodes(now) {
            self.slots.forget_node(&node);
        }
        self.remote.expire(now);
        for (seat, was) in before {
            self.announce_if_changed(seat, was);
        }
    }
}
