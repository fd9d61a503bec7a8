//! The `ChatServer` actor: one per process. It knows every socket, every room (a
//! conversation with at least one joined socket) and who is online where, and routes
//! events to sockets. It never touches the database and never waits on I/O: sockets check
//! membership before they join, and committed changes arrive as [`Live`] events.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use bytestring::ByteString;

use super::messages::*;
use super::protocol::{Presence, ServerFrame};
use crate::live::LiveEvent;
use crate::metrics::Metrics;

/// How often sockets that died without a clean disconnect are swept.
const SWEEP_INTERVAL: Duration = Duration::from_secs(10);

struct Socket {
    push: Recipient<Push>,
    close: Recipient<CloseSocket>,
    user_id: Option<i64>,
    login_session: Option<String>,
    bound: Option<i64>,
    rooms: HashSet<i64>,
}

/// Routes messages, presence and membership changes between sockets.
pub struct ChatServer {
    sockets: HashMap<SocketId, Socket>,
    rooms: HashMap<i64, HashSet<SocketId>>,
    by_user: HashMap<i64, HashSet<SocketId>>,
    messages_routed: u64,
    metrics: Arc<Metrics>,
}

impl ChatServer {
    pub fn new(metrics: Arc<Metrics>) -> Self {
        ChatServer {
            sockets: HashMap::new(),
            rooms: HashMap::new(),
            by_user: HashMap::new(),
            messages_routed: 0,
            metrics,
        }
    }

    fn push(&self, socket: SocketId, frame: &ByteString) {
        if let Some(s) = self.sockets.get(&socket) {
            s.push.do_send(Push(frame.clone()));
        }
    }

    /// Sends `frame` to every socket in the room but `except`.
    fn to_room(
        &self,
        conversation_id: i64,
        frame: &ServerFrame,
        except: Option<SocketId>,
    ) -> usize {
        let Some(room) = self.rooms.get(&conversation_id) else {
            return 0;
        };
        let bytes = frame.encode();
        let mut sent = 0;
        for &socket in room.iter().filter(|&&s| Some(s) != except) {
            self.push(socket, &bytes);
            sent += 1;
        }
        sent
    }

    /// Whether `user_id` has a socket in the room.
    fn online_in(&self, conversation_id: i64, user_id: i64) -> bool {
        self.rooms.get(&conversation_id).is_some_and(|room| {
            room.iter()
                .any(|s| self.sockets.get(s).and_then(|s| s.user_id) == Some(user_id))
        })
    }

    fn online_users(&self, conversation_id: i64) -> Vec<i64> {
        let mut users: Vec<i64> = self
            .rooms
            .get(&conversation_id)
            .into_iter()
            .flatten()
            .filter_map(|s| self.sockets.get(s).and_then(|s| s.user_id))
            .collect();
        users.sort_unstable();
        users.dedup();
        users
    }

    fn presence(
        &self,
        conversation_id: i64,
        user_id: i64,
        status: Presence,
        except: Option<SocketId>,
    ) {
        let frame = ServerFrame::Presence {
            conversation_id,
            user_id,
            status,
        };
        self.to_room(conversation_id, &frame, except);
    }

    /// Takes a socket out of a room, announcing `offline` if it was its user's last one there.
    fn leave_room(&mut self, socket: SocketId, conversation_id: i64) -> bool {
        let Some(user_id) = self.sockets.get_mut(&socket).and_then(|s| {
            s.rooms.remove(&conversation_id);
            s.user_id
        }) else {
            return false;
        };
        let removed = self
            .rooms
            .get_mut(&conversation_id)
            .is_some_and(|room| room.remove(&socket));
        if self
            .rooms
            .get(&conversation_id)
            .is_some_and(HashSet::is_empty)
        {
            self.rooms.remove(&conversation_id);
        }
        if removed && !self.online_in(conversation_id, user_id) {
            self.presence(conversation_id, user_id, Presence::Offline, None);
        }
        removed
    }

    fn remove_socket(&mut self, socket: SocketId) {
        let rooms: Vec<i64> = self
            .sockets
            .get(&socket)
            .map(|s| s.rooms.iter().copied().collect())
            .unwrap_or_default();
        for conversation_id in rooms {
            self.leave_room(socket, conversation_id);
        }
        if let Some(s) = self.sockets.remove(&socket) {
            if let Some(user_id) = s.user_id {
                if let Some(set) = self.by_user.get_mut(&user_id) {
                    set.remove(&socket);
                    if set.is_empty() {
                        self.by_user.remove(&user_id);
                    }
                }
            }
        }
    }

    /// The `/ws` (unbound) sockets of a user.
    fn unbound_sockets_of(&self, user_id: i64) -> Vec<SocketId> {
        self.by_user
            .get(&user_id)
            .into_iter()
            .flatten()
            .copied()
            .filter(|s| self.sockets.get(s).is_some_and(|s| s.bound.is_none()))
            .collect()
    }

    /// `member_added`/`member_removed`: to the room and to every `/ws` socket of the user.
    fn membership_event(&self, conversation_id: i64, user_id: i64, frame: &ServerFrame) {
        let bytes = frame.encode();
        let mut targets: HashSet<SocketId> = self
            .rooms
            .get(&conversation_id)
            .cloned()
            .unwrap_or_default();
        targets.extend(self.unbound_sockets_of(user_id));
        for socket in targets {
            self.push(socket, &bytes);
        }
    }

    fn member_removed(&mut self, conversation_id: i64, user_id: i64) {
        let in_room: Vec<SocketId> = self
            .rooms
            .get(&conversation_id)
            .into_iter()
            .flatten()
            .copied()
            .filter(|s| self.sockets.get(s).and_then(|s| s.user_id) == Some(user_id))
            .collect();
        for socket in in_room {
            self.leave_room(socket, conversation_id);
            let Some(s) = self.sockets.get(&socket) else {
                continue;
            };
            if s.bound.is_some() {
                s.close.do_send(CloseSocket {
                    code: 4003,
                    reason: "no longer a member",
                });
            } else {
                let frame = ServerFrame::Left {
                    conversation_id,
                    reason: Some("removed".into()),
                    reference: None,
                };
                self.push(socket, &frame.encode());
            }
        }
        self.membership_event(
            conversation_id,
            user_id,
            &ServerFrame::MemberRemoved {
                conversation_id,
                user_id,
            },
        );
    }

    fn route(&mut self, event: LiveEvent) {
        match event {
            LiveEvent::MessageCreated { message, origin } => {
                let conversation_id = message.conversation_id;
                let origin_socket = origin.as_ref().map(|o| o.socket);
                if let Some(origin) = origin {
                    let ack = ServerFrame::Ack {
                        client_msg_id: message.client_msg_id.clone(),
                        message: message.clone(),
                        reference: origin.reference,
                    };
                    self.push(origin.socket, &ack.encode());
                }
                let sent = self.to_room(
                    conversation_id,
                    &ServerFrame::Message { message },
                    origin_socket,
                );
                self.messages_routed += 1;
                self.metrics
                    .messages_out
                    .fetch_add(sent as u64, Ordering::Relaxed);
            }
            LiveEvent::MessageEdited(message) => {
                self.to_room(
                    message.conversation_id,
                    &ServerFrame::MessageEdited { message },
                    None,
                );
            }
            LiveEvent::MessageDeleted(message) => {
                self.to_room(
                    message.conversation_id,
                    &ServerFrame::MessageDeleted { message },
                    None,
                );
            }
            LiveEvent::Read {
                conversation_id,
                user_id,
                message_id,
                origin,
            } => {
                let frame = ServerFrame::Read {
                    conversation_id,
                    user_id,
                    message_id,
                };
                self.to_room(conversation_id, &frame, origin);
            }
            LiveEvent::MemberAdded {
                conversation_id,
                user_id,
            } => self.membership_event(
                conversation_id,
                user_id,
                &ServerFrame::MemberAdded {
                    conversation_id,
                    user_id,
                },
            ),
            LiveEvent::MemberRemoved {
                conversation_id,
                user_id,
            } => self.member_removed(conversation_id, user_id),
            LiveEvent::SessionRevoked(login_session) => {
                for s in self.sockets.values() {
                    if s.login_session.as_deref() == Some(login_session.as_str()) {
                        s.close.do_send(CloseSocket {
                            code: 4001,
                            reason: "logged out",
                        });
                    }
                }
            }
        }
    }
}

impl Actor for ChatServer {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(usize::MAX);
        ctx.run_interval(SWEEP_INTERVAL, |act, _| {
            let dead: Vec<SocketId> = act
                .sockets
                .iter()
                .filter(|(_, s)| !s.push.connected())
                .map(|(id, _)| *id)
                .collect();
            for socket in dead {
                act.remove_socket(socket);
            }
        });
    }
}

impl Handler<Connect> for ChatServer {
    type Result = ();

    /// Registers a socket, not yet in any room.
    fn handle(&mut self, msg: Connect, _: &mut Context<Self>) {
        self.metrics.connections.fetch_add(1, Ordering::Relaxed);
        self.sockets.insert(
            msg.socket,
            Socket {
                push: msg.push,
                close: msg.close,
                user_id: None,
                login_session: None,
                bound: msg.bound,
                rooms: HashSet::new(),
            },
        );
    }
}

impl Handler<Authenticated> for ChatServer {
    type Result = ();

    /// Records (or, after `refresh`, moves) the socket's identity and login session.
    fn handle(&mut self, msg: Authenticated, _: &mut Context<Self>) {
        if let Some(s) = self.sockets.get_mut(&msg.socket) {
            s.user_id = Some(msg.user_id);
            s.login_session = Some(msg.login_session);
            self.by_user
                .entry(msg.user_id)
                .or_default()
                .insert(msg.socket);
        }
    }
}

impl Handler<Disconnect> for ChatServer {
    type Result = ();

    /// Forgets the socket; its users go offline where it was their last.
    fn handle(&mut self, msg: Disconnect, _: &mut Context<Self>) {
        if self.sockets.contains_key(&msg.socket) {
            self.metrics.connections.fetch_sub(1, Ordering::Relaxed);
        }
        self.remove_socket(msg.socket);
    }
}

impl Handler<Join> for ChatServer {
    type Result = ();

    /// Adds the socket to the room, answers `joined`, and announces `online` if it is the
    /// user's first socket there.
    fn handle(&mut self, msg: Join, _: &mut Context<Self>) {
        let Some(user_id) = self.sockets.get(&msg.socket).and_then(|s| s.user_id) else {
            return;
        };
        let was_online = self.online_in(msg.conversation_id, user_id);
        let newly = self
            .rooms
            .entry(msg.conversation_id)
            .or_default()
            .insert(msg.socket);
        if let Some(s) = self.sockets.get_mut(&msg.socket) {
            s.rooms.insert(msg.conversation_id);
        }
        let joined = ServerFrame::Joined {
            conversation_id: msg.conversation_id,
            online: self.online_users(msg.conversation_id),
            last_message_id: msg.last_message_id,
            reference: msg.reference,
        };
        if !msg.silent {
            self.push(msg.socket, &joined.encode());
        }
        if newly && !was_online {
            self.presence(
                msg.conversation_id,
                user_id,
                Presence::Online,
                Some(msg.socket),
            );
        }
    }
}

impl Handler<Leave> for ChatServer {
    type Result = ();

    /// Takes the socket out of the room and answers `left`.
    fn handle(&mut self, msg: Leave, _: &mut Context<Self>) {
        self.leave_room(msg.socket, msg.conversation_id);
        let left = ServerFrame::Left {
            conversation_id: msg.conversation_id,
            reason: None,
            reference: msg.reference,
        };
        self.push(msg.socket, &left.encode());
    }
}

impl Handler<Typing> for ChatServer {
    type Result = ();

    /// `typing` to the other members' sockets in the room; the socket must have joined it.
    fn handle(&mut self, msg: Typing, _: &mut Context<Self>) {
        let Some(s) = self.sockets.get(&msg.socket) else {
            return;
        };
        let Some(user_id) = s.user_id else { return };
        if !s.rooms.contains(&msg.conversation_id) {
            let error = ServerFrame::error(
                "not_found",
                format!(
                    "join conversation {} before typing in it",
                    msg.conversation_id
                ),
                msg.reference,
            );
            self.push(msg.socket, &error.encode());
            return;
        }
        let frame = ServerFrame::Typing {
            conversation_id: msg.conversation_id,
            user_id,
        }
        .encode();
        for &socket in self.rooms.get(&msg.conversation_id).into_iter().flatten() {
            if self.sockets.get(&socket).and_then(|s| s.user_id) != Some(user_id) {
                self.push(socket, &frame);
            }
        }
    }
}

impl Handler<Live> for ChatServer {
    type Result = ();

    /// Delivers a committed change.
    fn handle(&mut self, msg: Live, _: &mut Context<Self>) {
        self.route(msg.0);
    }
}

impl Handler<Shutdown> for ChatServer {
    type Result = ();

    /// Closes every socket with 1001 so clients reconnect elsewhere.
    fn handle(&mut self, _: Shutdown, _: &mut Context<Self>) {
        for s in self.sockets.values() {
            s.close.do_send(CloseSocket {
                code: 1001,
                reason: "server shutting down",
            });
        }
    }
}

impl Handler<GetStats> for ChatServer {
    type Result = MessageResult<GetStats>;

    /// The aggregate counters of `/ws/stats`.
    fn handle(&mut self, _: GetStats, _: &mut Context<Self>) -> Self::Result {
        MessageResult(Stats {
            connections: self.sockets.len(),
            authenticated: self
                .sockets
                .values()
                .filter(|s| s.user_id.is_some())
                .count(),
            rooms: self.rooms.len(),
            messages_routed: self.messages_routed,
        })
    }
}
