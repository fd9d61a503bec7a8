//! The messages the actors exchange: sockets tell the [`ChatServer`](super::server::ChatServer)
//! what they do, and the server closes sockets (frames go straight to a socket's
//! [`Outbox`]).

use super::close::Close;
use super::outbox::Outbox;
use crate::live::LiveEvent;
use crate::service::membership::Position;
use actix::prelude::*;

/// A socket's id, unique within the process.
pub type SocketId = u64;

/// Close the socket with this code.
#[derive(Message, Clone)]
#[rtype(result = "()")]
pub struct CloseSocket {
    /// Why.
    pub code: Close,
    /// The close frame's description.
    pub reason: &'static str,
}

/// A socket opened; it is not in any room yet.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Connect {
    /// The new socket.
    pub socket: SocketId,
    /// Where its frames go.
    pub outbox: Outbox,
    /// How the server ends it.
    pub close: Recipient<CloseSocket>,
    /// The conversation a `/ws/conversations/{id}` socket is bound to.
    pub bound: Option<i64>,
}

/// The socket proved who it is, by the handshake or its first frame, or moved to another
/// login session by `refresh`.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Authenticated {
    /// The socket.
    pub socket: SocketId,
    /// Its proven user.
    pub user_id: i64,
    /// The login session whose logout closes it.
    pub login_session: String,
}

/// The socket went away.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Disconnect {
    /// The socket that ended.
    pub socket: SocketId,
}

/// Join a conversation's room; membership was checked in the database by the socket.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Join {
    /// The joining socket.
    pub socket: SocketId,
    /// The room.
    pub conversation_id: i64,
    /// Where the conversation stood when membership was checked.
    pub position: Position,
    /// The `ref` of the `join` frame.
    pub reference: Option<String>,
    /// A bound socket joins at `ready`, which stands for `joined`.
    pub silent: bool,
}

/// Leave a room.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Leave {
    /// The leaving socket.
    pub socket: SocketId,
    /// The room.
    pub conversation_id: i64,
    /// The `ref` of the `leave` frame.
    pub reference: Option<String>,
}

/// The user of this socket is typing in a conversation it has joined.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Typing {
    /// The typist's socket.
    pub socket: SocketId,
    /// The room.
    pub conversation_id: i64,
    /// The `ref` of the `typing` frame, for an `error`.
    pub reference: Option<String>,
}

/// A committed change, from the HTTP side or a socket.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Live(pub LiveEvent);

/// The process is stopping: close every socket with 1001.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Shutdown;

/// The routing counters for `/ws/stats`.
#[derive(Message)]
#[rtype(result = "Stats")]
pub struct GetStats;

/// What the `ChatServer` counts; socket counts come from the slots.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Stats {
    /// Conversations with at least one joined socket.
    pub rooms: usize,
    /// Messages routed since start.
    pub messages_routed: u64,
}
