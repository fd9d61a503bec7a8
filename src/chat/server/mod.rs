//! The `ChatServer` actor: one per process. It routes events to sockets and never touches
//! the database or waits on I/O: sockets check membership (through the service layer)
//! before they join, committed changes arrive as [`Live`] events, and who is where is kept
//! in [`Rooms`].

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use bytestring::ByteString;

mod delivery;
mod handlers;
mod presence;

use super::close::Close;
use super::messages::*;
use super::ordering::Sequencer;
use super::outbox::{Outbox, Pushed};
use super::presence::{RemotePresence, SNAPSHOT_EVERY};
use super::protocol::{Presence, ServerFrame};
use super::rooms::Rooms;
use super::slots::Slots;
use crate::db::models::MessageView;
use crate::live::{Live as LiveBus, LiveEvent, Origin};
use crate::metrics::Metrics;

/// How often sockets that died without a clean disconnect are swept.
const SWEEP_INTERVAL: Duration = Duration::from_secs(10);

/// How to reach one socket's actor.
struct Socket {
    /// Where its frames go.
    outbox: Outbox,
    /// How it is ended.
    close: Recipient<CloseSocket>,
    /// Its outbox overflowed and it was told to close: push nothing more.
    overflowed: Cell<bool>,
}

/// Routes messages, presence and membership changes between sockets.
pub struct ChatServer {
    sockets: HashMap<SocketId, Socket>,
    rooms: Rooms,
    /// Each room's delivery order.
    order: Sequencer<(MessageView, Option<Origin>)>,
    /// The rooms waiting for a gap to close, and the timer that stops the wait.
    gap_timers: HashMap<i64, SpawnHandle>,
    /// Where typing and presence go, so they reach the other nodes too.
    live: LiveBus,
    /// This node's name on the bus.
    node: String,
    /// Who is online on the other nodes.
    remote: RemotePresence,
    /// The socket counts, which learn the other nodes' counts from here.
    slots: Slots,
    messages_routed: u64,
    metrics: Arc<Metrics>,
}

impl ChatServer {
    /// A server with no sockets yet, publishing the events it originates on `live` as
    /// `node`.
    pub fn new(metrics: Arc<Metrics>, live: LiveBus, node: String, slots: Slots) -> Self {
        ChatServer {
            sockets: HashMap::new(),
            rooms: Rooms::default(),
            order: Sequencer::default(),
            gap_timers: HashMap::new(),
            live,
            node,
            remote: RemotePresence::default(),
            slots,
            messages_routed: 0,
            metrics,
        }
    }

    /// Queues `frame` in the socket's outbox; a full outbox (a reader too slow to keep)
    /// closes the socket 4002, once.
    fn push(&self, socket: SocketId, frame: &ByteString) {
        let Some(s) = self.sockets.get(&socket) else {
            return;
        };
        if s.overflowed.get() {
            return;
        }
        if s.outbox.push_text(frame.clone()) == Pushed::Full {
            s.overflowed.set(true);
            s.close.do_send(CloseSocket {
                code: Close::SlowConsumer,
                reason: "outbound queue full",
            });
        }
    }

    fn close(&self, socket: SocketId, code: Close, reason: &'static str) {
        if let Some(s) = self.sockets.get(&socket) {
            s.close.do_send(CloseSocket { code, reason });
        }
    }

    /// Sends `frame` to every socket in the room but `except`; how many got it.
    fn to_room(
        &self,
        conversation_id: i64,
        frame: &ServerFrame,
        except: Option<SocketId>,
    ) -> usize {
        let bytes = frame.encode();
        let mut sent = 0;
        for socket in self.rooms.room(conversation_id) {
            if Some(socket) != except {
                self.push(socket, &bytes);
                sent += 1;
            }
        }
        sent
    }

    /// The users online in the conversation, here or on any other node.
    fn online_users(&self, conversation_id: i64) -> Vec<i64> {
        let mut users = self.rooms.online_users(conversation_id);
        users.extend(self.remote.users_in(conversation_id));
        users.sort_unstable();
        users.dedup();
        users
    }

    fn disconnect(&mut self, socket: SocketId) {
        let rooms = self.rooms.rooms_of(socket);
        for change in self.rooms.disconnect(socket) {
            self.presence(change, Presence::Offline, None);
        }
        self.sockets.remove(&socket);
        for conversation_id in rooms {
            self.forget_if_empty(conversation_id);
        }
    }

    /// A room with no socket left keeps no delivery order.
    fn forget_if_empty(&mut self, conversation_id: i64) {
        if self.rooms.room(conversation_id).next().is_none() {
            self.order.emptied(conversation_id);
            self.gap_timers.remove(&conversation_id);
        }
    }

    /// A new message, in `seq` order: delivered now, or held until the ones before it
    /// `member_added`/`member_removed`: to the room and to every `/ws` socket of the user.
    fn membership_event(&self, conversation_id: i64, user_id: i64, frame: &ServerFrame) {
        let bytes = frame.encode();
        for socket in self.rooms.membership_audience(conversation_id, user_id) {
            self.push(socket, &bytes);
        }
    }

    fn member_removed(&mut self, conversation_id: i64, user_id: i64) {
        for socket in self.rooms.sockets_of_user_in(conversation_id, user_id) {
            if let Some(change) = self.rooms.leave(socket, conversation_id) {
                self.presence(change, Presence::Offline, None);
            }
            if self.rooms.is_bound(socket) {
                self.close(socket, Close::NotAMember, "no longer a member");
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

    fn route(&mut self, event: LiveEvent, ctx: &mut Context<Self>) {
        match event {
            LiveEvent::MessageCreated { message, origin } => {
                self.message_created(message, origin, ctx)
            }
            LiveEvent::Typing {
                conversation_id,
                user_id,
            } => {
                let frame = ServerFrame::Typing {
                    conversation_id,
                    user_id,
                }
                .encode();
                for socket in self.rooms.room(conversation_id) {
                    if self.rooms.user_of(socket) != Some(user_id) {
                        self.push(socket, &frame);
                    }
                }
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
            LiveEvent::Presence {
                conversation_id,
                user_id,
                online,
                node,
            } => {
                if node != self.node {
                    self.remote_presence(&node, (conversation_id, user_id), online);
                }
            }
            LiveEvent::PresenceSnapshot {
                node,
                online,
                sockets,
            } => {
                if node != self.node {
                    self.slots.remote_counts(&node, &sockets);
                    self.remote_snapshot(&node, online);
                }
            }
            LiveEvent::SocketCount {
                node,
                user_id,
                count,
            } => {
                if node != self.node {
                    self.slots.remote_count(&node, user_id, count);
                }
            }
            // Answered by every node, this one too: a node that just (re)joined the bus
            // has its own list to share as well.
            LiveEvent::PresenceRequest { .. } => self.publish_snapshot(),
            LiveEvent::SessionRevoked(login_session) => {
                for socket in self.rooms.sockets_of_session(&login_session) {
                    self.close(socket, Close::CredentialEnded, "logged out");
                }
            }
        }
    }
}

impl Actor for ChatServer {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(usize::MAX);
        ctx.run_interval(SNAPSHOT_EVERY, |act, _| act.presence_tick());
        ctx.run_interval(SWEEP_INTERVAL, |act, _| {
            let dead: Vec<SocketId> = act
                .sockets
                .iter()
                .filter(|(_, s)| !s.close.connected())
                .map(|(id, _)| *id)
                .collect();
            for socket in dead {
                act.disconnect(socket);
            }
        });
    }
}
