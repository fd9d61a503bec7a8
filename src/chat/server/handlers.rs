//! What the `ChatServer` does with each message the sockets send it.

use std::cell::Cell;

use actix::prelude::*;

use super::{ChatServer, Socket};
use crate::chat::close::Close;
use crate::chat::messages::*;
use crate::chat::protocol::{Presence, ServerFrame};
use crate::live::LiveEvent;

impl Handler<Connect> for ChatServer {
    type Result = ();

    /// Registers a socket, not yet in any room.
    fn handle(&mut self, msg: Connect, _: &mut Context<Self>) {
        self.sockets.insert(
            msg.socket,
            Socket {
                outbox: msg.outbox,
                close: msg.close,
                overflowed: Cell::new(false),
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
                online: self.online_users(msg.conversation_id),
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
