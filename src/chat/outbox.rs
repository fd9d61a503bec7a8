//! A socket's outbox: the bounded queue between whoever writes to a socket (its own
//! actor, and the [`ChatServer`](super::server::ChatServer) routing a message) and the one
//! task that writes to the connection. The chat server pushes into it directly, so a
//! routed frame costs one queue push and no actor message; the bound keeps one slow
//! reader from growing the server's memory (a full outbox closes the socket 4002).

use actix_ws::CloseReason;
use bytes::Bytes;
use bytestring::ByteString;
use tokio::sync::mpsc;

/// What the writer task sends.
pub enum Outbound {
    /// A text frame (every chat frame, serialised once and shared).
    Text(ByteString),
    /// A binary frame (the echo socket only).
    Binary(Bytes),
    /// The answer to a ping; at most one waits at a time (RFC 6455 allows answering only
    /// the latest), so a ping flood cannot fill memory.
    Pong(Bytes),
    /// The close frame; the writer stops after it.
    Close(CloseReason),
}

/// What became of a push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pushed {
    /// Queued behind what was already waiting.
    Queued,
    /// The outbox is full: the reader is too slow to keep.
    Full,
    /// The socket's writer has ended.
    Gone,
}

/// The sending end of a socket's outbox; clones share the queue.
#[derive(Clone)]
pub struct Outbox(mpsc::Sender<Outbound>);

impl Outbox {
    /// An outbox of at most `capacity` frames, and the receiving end for the writer.
    pub fn new(capacity: usize) -> (Outbox, mpsc::Receiver<Outbound>) {
        let (sender, receiver) = mpsc::channel(capacity);
        (Outbox(sender), receiver)
    }

    /// Queues a frame without waiting.
    pub fn push(&self, out: Outbound) -> Result<(), (Pushed, Outbound)> {
        self.0.try_send(out).map_err(|refused| match refused {
            mpsc::error::TrySendError::Full(out) => (Pushed::Full, out),
            mpsc::error::TrySendError::Closed(out) => (Pushed::Gone, out),
        })
    }

    /// Queues a text frame without waiting; how it went.
    pub fn push_text(&self, frame: ByteString) -> Pushed {
        match self.push(Outbound::Text(frame)) {
            Ok(()) => Pushed::Queued,
            Err((pushed, _)) => pushed,
        }
    }
}
