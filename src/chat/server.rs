//! The `ChatServer` actor: one per process. It routes events to sockets and never touches
//! the database or waits on I/O: sockets check membership (through the service layer)
//! before they join, committed changes arrive as [`Live`] events, and who is where is kept
//! in [`Rooms`].

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use bytestring::ByteString;

use super::close::Close;
use super::messages::*;
use super::ordering::{Offer, Sequencer, GAP_WAIT};
use super::protocol::{Presence, ServerFrame};
use super::rooms::{PresenceChange, Rooms};
use crate::db::models::MessageView;
use crate::live::{Live as LiveBus, LiveEvent, Origin};
use crate::metrics::Metrics;

/// How often sockets that died without a clean disconnect are swept.
const SWEEP_INTERVAL: Duration = Duration::from_secs(10);

/// How to reach one socket's actor.
struct Socket {
    push: Recipient<Push>,
    close: Recipient<CloseSocket>,
}

/// Routes messages, presence and membership changes between sockets.
pub struct ChatServer {
    sockets: HashMap<SocketId, Socket>,
    rooms: Rooms,
    /// Each room's delivery order.
    order: Sequencer<(MessageView, Option<Origin>)>,
    /// The rooms waiting for a gap to close, and the timer that stops the wait.
    gap_timers: HashMap<i64, SpawnHandle>,
    /// Where typing goes, so it reaches the other nodes too.
    live: LiveBus,
    messages_routed: u64,
    metrics: Arc<Metrics>,
}

impl ChatServer {
    /// A server with no sockets yet, publishing the events it originates on `live`.
    pub fn new(metrics: Arc<Metrics>, live: LiveBus) -> Self {
        ChatServer {
            sockets: HashMap::new(),
            rooms: Rooms::default(),
            order: Sequencer::default(),
            gap_timers: HashMap::new(),
            live,
            messages_routed: 0,
            metrics,
        }
    }

    fn push(&self, socket: SocketId, frame: &ByteString) {
        if let Some(s) = self.sockets.get(&socket) {
            s.push.do_send(Push(frame.clone()));
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

    fn presence(&self, change: PresenceChange, status: Presence, except: Option<SocketId>) {
        let frame = ServerFrame::Presence {
            conversation_id: change.conversation_id,
            user_id: change.user_id,
            status,
        };
        self.to_room(change.conversation_id, &frame, except);
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
    /// arrive (see `ordering`).
    fn message_created(
        &mut self,
        message: MessageView,
        origin: Option<Origin>,
        ctx: &mut Context<Self>,
    ) {
        let conversation_id = message.conversation_id;
        match self
            .order
            .offer(conversation_id, message.seq, (message, origin))
        {
            Offer::Deliver(ready) => {
                for (message, origin) in ready {
                    self.deliver_message(message, origin);
                }
                if !self.order.is_waiting(conversation_id) {
                    if let Some(timer) = self.gap_timers.remove(&conversation_id) {
                        ctx.cancel_future(timer);
                    }
                }
            }
            Offer::Held => {
                self.metrics.reorder_wait();
                self.gap_timers.entry(conversation_id).or_insert_with(|| {
                    ctx.run_later(GAP_WAIT, move |act, _| {
                        act.gap_timers.remove(&conversation_id);
                        for (message, origin) in act.order.give_up(conversation_id) {
                            act.deliver_message(message, origin);
                        }
                    })
                });
            }
            Offer::Late((message, origin)) => {
                // The room moved past it; its sender still needs the acknowledgement.
                log::debug!(
                    "message {} of conversation {conversation_id} arrived after its successors",
                    message.id
                );
                if let Some(origin) = origin {
                    self.ack(&message, origin);
                }
            }
        }
    }

    fn ack(&self, message: &MessageView, origin: Origin) {
        let ack = ServerFrame::Ack {
            client_msg_id: message.client_msg_id.clone(),
            message: message.clone(),
            reference: origin.reference,
        };
        self.push(origin.socket, &ack.encode());
    }

    /// `ack` to the socket it came from, `message` to every other socket in the room.
    fn deliver_message(&mut self, message: MessageView, origin: Option<Origin>) {
        let origin_socket = origin.as_ref().map(|o| o.socket);
        if let Some(origin) = origin {
            self.ack(&message, origin);
        }
        let conversation_id = message.conversation_id;
        let sent = self.to_room(
            conversation_id,
            &ServerFrame::Message { message },
            origin_socket,
        );
        self.messages_routed += 1;
        self.metrics.messages_delivered(sent);
    }

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
        ctx.run_interval(SWEEP_INTERVAL, |act, _| {
            let dead: Vec<SocketId> = act
                .sockets
                .iter()
                .filter(|(_, s)| !s.push.connected())
                .map(|(id, _)| *id)
                .collect();
            for socket in dead {
                act.disconnect(socket);
            }
        });
    }
}

impl Handler<Connect> for ChatServer {
    type Result = ();

    /// Registers a socket, not yet in any room.
    fn handle(&mut self, msg: Connect, _: &mut Context<Self>) {
        self.sockets.insert(
            msg.socket,
            Socket {
                push: msg.push,
                close: msg.close,
            },
        );
        self.rooms.connect(msg.socket, msg.bound);
    }
}

impl Handler<Authenticated> for ChatServer {
    type Result = ();

    /// Records (or, after `refresh`, moves) the socket's identity and login session.
    fn handle(&mut self, msg: Authenticated, _: &mut Context<Self>) {
        self.rooms
            .authenticate(msg.socket, msg.user_id, msg.login_session);
    }
}

impl Handler<Disconnect> for ChatServer {
    type Result = ();

    /// Forgets the socket; its users go offline where it was their last.
    fn handle(&mut self, msg: Disconnect, _: &mut Context<Self>) {
        self.disconnect(msg.socket);
    }
}

impl Handler<Join> for ChatServer {
    type Result = ();

    /// Adds the socket to the room, answers `joined`, and announces `online` if it is the
    /// user's first socket there.
    fn handle(&mut self, msg: Join, _: &mut Context<Self>) {
        let Some(user_id) = self.rooms.user_of(msg.socket) else {
            return;
        };
        let came_online = self.rooms.join(msg.socket, msg.conversation_id);
        self.order
            .joined(msg.conversation_id, msg.position.last_seq);
        if !msg.silent {
            let joined = ServerFrame::Joined {
                conversation_id: msg.conversation_id,
                online: self.rooms.online_users(msg.conversation_id),
                last_message_id: msg.position.last_message_id,
                reference: msg.reference,
            };
            self.push(msg.socket, &joined.encode());
        }
        if let Some(change) = came_online {
            debug_assert_eq!(change.user_id, user_id);
            self.presence(change, Presence::Online, Some(msg.socket));
        }
    }
}

impl Handler<Leave> for ChatServer {
    type Result = ();

    /// Takes the socket out of the room and answers `left`.
    fn handle(&mut self, msg: Leave, _: &mut Context<Self>) {
        if let Some(change) = self.rooms.leave(msg.socket, msg.conversation_id) {
            self.presence(change, Presence::Offline, None);
        }
        self.forget_if_empty(msg.conversation_id);
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

    /// `typing` to the other members' sockets in the room, on every node; the socket must
    /// have joined it.
    fn handle(&mut self, msg: Typing, _: &mut Context<Self>) {
        let Some(user_id) = self.rooms.user_of(msg.socket) else {
            return;
        };
        if !self.rooms.has_joined(msg.socket, msg.conversation_id) {
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
        // Routed back here as a live event like everything else, and shared with the
        // other nodes on the way.
        self.live.publish(LiveEvent::Typing {
            conversation_id: msg.conversation_id,
            user_id,
        });
    }
}

impl Handler<Live> for ChatServer {
    type Result = ();

    /// Delivers a committed change.
    fn handle(&mut self, msg: Live, ctx: &mut Context<Self>) {
        self.route(msg.0, ctx);
    }
}

impl Handler<Shutdown> for ChatServer {
    type Result = ();

    /// Closes every socket with 1001 so clients reconnect elsewhere.
    fn handle(&mut self, _: Shutdown, _: &mut Context<Self>) {
        for socket in self.sockets.keys() {
            self.close(*socket, Close::GoingAway, "server shutting down");
        }
    }
}

impl Handler<GetStats> for ChatServer {
    type Result = MessageResult<GetStats>;

    /// The routing counters of `/ws/stats`.
    fn handle(&mut self, _: GetStats, _: &mut Context<Self>) -> Self::Result {
        MessageResult(Stats {
            rooms: self.rooms.room_count(),
            messages_routed: self.messages_routed,
        })
    }
}
