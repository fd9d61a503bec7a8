//! The messages the actors exchange: sockets tell the [`ChatServer`](super::server::ChatServer)
//! what they do, and the server pushes frames (already serialised) and closes to sockets.

use actix::prelude::*;
use bytestring::ByteString;

use crate::live::LiveEvent;

/// A socket's id, unique within the process.
pub type SocketId = u64;

/// Frames for one socket, serialised once and shared by every recipient.
#[derive(Message, Clone)]
#[rtype(result = "()")]
pub struct Push(pub ByteString);

/// Close the socket with this code.
#[derive(Message, Clone)]
#[rtype(result = "()")]
pub struct CloseSocket {
    pub code: u16,
    pub reason: &'static str,
}

/// A socket opened; it is not in any room yet.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Connect {
    pub socket: SocketId,
    pub push: Recipient<Push>,
    pub close: Recipient<CloseSocket>,
    /// The conversation a `/ws/conversations/{id}` socket is bound to.
    pub bound: Option<i64>,
}

/// The socket proved who it is, by the handshake or its first frame, or moved to another
/// login session by `refresh`.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Authenticated {
    pub socket: SocketId,
    pub user_id: i64,
    pub login_session: String,
}

/// The socket went away.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Disconnect {
    pub socket: SocketId,
}

/// Join a conversation's room; membership was checked in the database by the socket.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Join {
    pub socket: SocketId,
    pub conversation_id: i64,
    pub last_message_id: Option<i64>,
    pub reference: Option<String>,
    /// A bound socket joins at `ready`, which stands for `joined`.
    pub silent: bool,
}

/// Leave a room.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Leave {
    pub socket: SocketId,
    pub conversation_id: i64,
    pub reference: Option<String>,
}

/// The user of this socket is typing in a conversation it has joined.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Typing {
    pub socket: SocketId,
    pub conversation_id: i64,
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

/// Counters for `/ws/stats`.
#[derive(Message)]
#[rtype(result = "Stats")]
pub struct GetStats;

/// What `/ws/stats` reports.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Stats {
    pub connections: usize,
    pub authenticated: usize,
    pub rooms: usize,
    pub messages_routed: u64,
}
