//! Who is where: the sockets of this process, the rooms they joined, and which users are
//! online in which conversation. Plain bookkeeping with no actors and no I/O, so every rule
//! of presence can be tested on its own; the `ChatServer` asks it whom to tell and does
//! the telling.

use std::collections::{HashMap, HashSet};

use super::messages::SocketId;

/// What is known of one socket.
#[derive(Debug, Default)]
struct Entry {
    user_id: Option<i64>,
    login_session: Option<String>,
    bound: Option<i64>,
    rooms: HashSet<i64>,
}

/// The sockets, rooms and users of this process.
#[derive(Debug, Default)]
pub struct Rooms {
    sockets: HashMap<SocketId, Entry>,
    rooms: HashMap<i64, HashSet<SocketId>>,
    by_user: HashMap<i64, HashSet<SocketId>>,
}

/// A user whose presence in a conversation changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PresenceChange {
    /// Where.
    pub conversation_id: i64,
    /// Who.
    pub user_id: i64,
}

impl Rooms {
    /// A socket opened; `bound` is the conversation of a `/ws/conversations/{id}` socket.
    pub fn connect(&mut self, socket: SocketId, bound: Option<i64>) {
        self.sockets.insert(
            socket,
            Entry {
                bound,
                ..Entry::default()
            },
        );
    }

    /// The socket proved who it is (or moved to another login session by `refresh`).
    pub fn authenticate(&mut self, socket: SocketId, user_id: i64, login_session: String) {
        if let Some(entry) = self.sockets.get_mut(&socket) {
            entry.user_id = Some(user_id);
            entry.login_session = Some(login_session);
            self.by_user.entry(user_id).or_default().insert(socket);
        }
    }

    /// The socket's user, once authenticated.
    pub fn user_of(&self, socket: SocketId) -> Option<i64> {
        self.sockets.get(&socket).and_then(|e| e.user_id)
    }

    /// The rooms the socket is in.
    pub fn rooms_of(&self, socket: SocketId) -> Vec<i64> {
        self.sockets
            .get(&socket)
            .map(|e| e.rooms.iter().copied().collect())
            .unwrap_or_default()
    }

    /// Whether the socket has joined the room.
    pub fn has_joined(&self, socket: SocketId, conversation_id: i64) -> bool {
        self.sockets
            .get(&socket)
            .is_some_and(|e| e.rooms.contains(&conversation_id))
    }

    /// Whether the socket is bound to one conversation.
    pub fn is_bound(&self, socket: SocketId) -> bool {
        self.sockets.get(&socket).is_some_and(|e| e.bound.is_some())
    }

    /// Adds an authenticated socket to a room; `Some` when its user was not online there
    /// before (announce `online`), `None` when nothing changed for the others.
    pub fn join(&mut self, socket: SocketId, conversation_id: i64) -> Option<PresenceChange> {
        let user_id = self.user_of(socket)?;
        let was_online = self.online_in(conversation_id, user_id);
        let newly = self
            .rooms
            .entry(conversation_id)
            .or_default()
            .insert(socket);
        if let Some(entry) = self.sockets.get_mut(&socket) {
            entry.rooms.insert(conversation_id);
        }
        (newly && !was_online).then_some(PresenceChange {
            conversation_id,
            user_id,
        })
    }

    /// Takes a socket out of a room; `Some` when that was its user's last socket there
    /// (announce `offline`).
    pub fn leave(&mut self, socket: SocketId, conversation_id: i64) -> Option<PresenceChange> {
        let user_id = self.sockets.get_mut(&socket).and_then(|e| {
            e.rooms.remove(&conversation_id);
            e.user_id
        })?;
        let room = self.rooms.get_mut(&conversation_id)?;
        let removed = room.remove(&socket);
        if room.is_empty() {
            self.rooms.remove(&conversation_id);
        }
        (removed && !self.online_in(conversation_id, user_id)).then_some(PresenceChange {
            conversation_id,
            user_id,
        })
    }

    /// Forgets a socket; the presence changes of every room it was in.
    pub fn disconnect(&mut self, socket: SocketId) -> Vec<PresenceChange> {
        let rooms: Vec<i64> = self
            .sockets
            .get(&socket)
            .map(|e| e.rooms.iter().copied().collect())
            .unwrap_or_default();
        let changes = rooms
            .into_iter()
            .filter_map(|conversation_id| self.leave(socket, conversation_id))
            .collect();
        if let Some(user_id) = self.sockets.remove(&socket).and_then(|e| e.user_id) {
            if let Some(set) = self.by_user.get_mut(&user_id) {
                set.remove(&socket);
                if set.is_empty() {
                    self.by_user.remove(&user_id);
                }
            }
        }
        changes
    }

    /// The sockets in a room.
    pub fn room(&self, conversation_id: i64) -> impl Iterator<Item = SocketId> + '_ {
        self.rooms
            .get(&conversation_id)
            .into_iter()
            .flatten()
            .copied()
    }

    /// Whether `user_id` has a socket in the room.
    pub fn online_in(&self, conversation_id: i64, user_id: i64) -> bool {
        self.room(conversation_id)
            .any(|s| self.user_of(s) == Some(user_id))
    }

    /// The users with a socket in the room, ascending.
    pub fn online_users(&self, conversation_id: i64) -> Vec<i64> {
        let mut users: Vec<i64> = self
            .room(conversation_id)
            .filter_map(|s| self.user_of(s))
            .collect();
        users.sort_unstable();
        users.dedup();
        users
    }

    /// The user's sockets in the room.
    pub fn sockets_of_user_in(&self, conversation_id: i64, user_id: i64) -> Vec<SocketId> {
        self.room(conversation_id)
            .filter(|&s| self.user_of(s) == Some(user_id))
            .collect()
    }

    /// Who hears of a membership change: the room, and every `/ws` socket of the user.
    pub fn membership_audience(&self, conversation_id: i64, user_id: i64) -> HashSet<SocketId> {
        let mut targets: HashSet<SocketId> = self.room(conversation_id).collect();
        targets.extend(
            self.by_user
                .get(&user_id)
                .into_iter()
                .flatten()
                .copied()
                .filter(|&s| !self.is_bound(s)),
        );
        targets
    }

    /// The sockets whose current credential belongs to this login session.
    pub fn sockets_of_session<'a>(
        &'a self,
        login_session: &'a str,
    ) -> impl Iterator<Item = SocketId> + 'a {
        self.sockets
            .iter()
            .filter(move |(_, e)| e.login_session.as_deref() == Some(login_session))
            .map(|(&id, _)| id)
    }

    /// Every `(conversation, user)` with a socket here.
    pub fn seats(&self) -> Vec<(i64, i64)> {
        let mut seats: Vec<(i64, i64)> = self
            .rooms
            .iter()
            .flat_map(|(&c, sockets)| {
                sockets
                    .iter()
                    .filter_map(move |&s| self.user_of(s).map(|u| (c, u)))
            })
            .collect();
        seats.sort_unstable();
        seats.dedup();
        seats
    }

    /// How many rooms have at least one socket.
    pub fn room_count(&self) -> usize {
        self.rooms.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(conversation_id: i64, user_id: i64) -> Option<PresenceChange> {
        Some(PresenceChange {
            conversation_id,
            user_id,
        })
    }

    fn rooms_with(sockets: &[(SocketId, i64)]) -> Rooms {
        let mut rooms = Rooms::default();
        for &(socket, user) in sockets {
            rooms.connect(socket, None);
            rooms.authenticate(socket, user, format!("session-{user}"));
        }
        rooms
    }

    #[test]
    fn a_users_first_socket_in_a_room_brings_them_online_and_the_second_does_not() {
        let mut rooms = rooms_with(&[(1, 10), (2, 10)]);

        assert_eq!(rooms.join(1, 7), change(7, 10));
        assert_eq!(rooms.join(2, 7), None);
        assert_eq!(rooms.online_users(7), vec![10]);
    }

    #[test]
    fn a_user_goes_offline_only_when_their_last_socket_leaves() {
        let mut rooms = rooms_with(&[(1, 10), (2, 10)]);
        rooms.join(1, 7);
        rooms.join(2, 7);

        assert_eq!(rooms.leave(1, 7), None);
        assert_eq!(rooms.leave(2, 7), change(7, 10));
        assert_eq!(rooms.room_count(), 0);
    }

    #[test]
    fn a_disconnect_takes_the_user_offline_in_every_room_it_was_in() {
        let mut rooms = rooms_with(&[(1, 10), (2, 11)]);
        rooms.join(1, 7);
        rooms.join(1, 8);
        rooms.join(2, 7);

        let mut changes = rooms.disconnect(1);
        changes.sort_by_key(|c| c.conversation_id);

        assert_eq!(
            changes,
            vec![change(7, 10).unwrap(), change(8, 10).unwrap()]
        );
        assert_eq!(rooms.online_users(7), vec![11]);
        assert!(rooms.user_of(1).is_none());
    }

    #[test]
    fn an_unauthenticated_socket_cannot_join() {
        let mut rooms = Rooms::default();
        rooms.connect(1, None);

        assert_eq!(rooms.join(1, 7), None);
        assert!(!rooms.has_joined(1, 7));
    }

    #[test]
    fn a_membership_change_reaches_the_room_and_the_users_unbound_sockets() {
        let mut rooms = rooms_with(&[(1, 10), (2, 11)]);
        rooms.connect(3, Some(9));
        rooms.authenticate(3, 11, "session-11".into());
        rooms.join(1, 7);

        let audience = rooms.membership_audience(7, 11);

        assert_eq!(audience, HashSet::from([1, 2]));
    }

    #[test]
    fn a_sessions_sockets_follow_a_refresh_to_another_session() {
        let mut rooms = rooms_with(&[(1, 10), (2, 10)]);
        rooms.authenticate(2, 10, "other".into());

        assert_eq!(
            rooms.sockets_of_session("session-10").collect::<Vec<_>>(),
            vec![1]
        );
        assert_eq!(
            rooms.sockets_of_session("other").collect::<Vec<_>>(),
            vec![2]
        );
    }
}
