//! The live part. Every WebSocket is a [`session::WsSession`] actor that owns its socket,
//! its identity, its heartbeat, its rate limits and its [`outbox::Outbox`]; one
//! [`server::ChatServer`] actor knows every socket and room and routes events between
//! them. The handshake (`routes/ws.rs`) authenticates before a socket is accepted;
//! committed changes from HTTP and sockets alike reach the `ChatServer` through
//! [`Live`], in commit order.
//!
//! - [`close`]: the close codes.
//! - [`frame_guard`]: the bound in front of `actix-ws` that keeps each socket's input small.
//! - [`protocol`]: the frames, as types (and the JSON Schema made from them).
//! - [`messages`]: what the actors tell each other.
//! - [`ordering`]: delivery in `seq` order, whichever node committed a message.
//! - [`outbox`]: each socket's bounded queue of frames, which the `ChatServer` writes
//!   into directly.
//! - [`presence`]: who is online on the other nodes.
//! - [`rooms`]: who is where, as plain bookkeeping.
//! - [`server`]: the `ChatServer` actor, which routes.
//! - [`session`]: the `WsSession` actor, which turns frames into service calls.
//! - [`slots`]: per-user and total socket limits, taken before a socket is accepted, and
//!   the one count of open sockets.

pub mod close;
pub mod frame_guard;
pub mod messages;
pub mod ordering;
pub mod outbox;
pub mod presence;
pub mod protocol;
pub mod rooms;
pub mod server;
pub mod session;
pub mod slots;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use actix::{Actor, Addr};
use tokio::sync::broadcast::error::RecvError;

use crate::auth::{SessionCache, Tokens};
use crate::config::Config;
use crate::limits::SendLimiter;
use crate::live::Live;
use crate::metrics::Metrics;
use crate::service::Service;
use server::ChatServer;
use slots::Slots;

/// What the handshake and every socket share: the rules, the credentials check, the
/// limits, the `ChatServer`, and whether the process is shutting down. One `Arc` of it per
/// socket.
pub struct Chat {
    /// What the live side shares with the rest of the application.
    pub parts: ChatParts,
    /// The router of this process.
    pub server: Addr<ChatServer>,
    /// Socket limits, and the count of open sockets.
    pub slots: Slots,
    shutting_down: AtomicBool,
    next_socket: AtomicU64,
}

/// The parts a [`Chat`] is made of that the rest of the application shares with it.
pub struct ChatParts {
    /// The configuration, parsed once.
    pub config: Arc<Config>,
    /// The rules sockets share with HTTP.
    pub service: Arc<Service>,
    /// Checks the tokens of `auth`, `initial` and `refresh`.
    pub tokens: Arc<Tokens>,
    /// What is known of login sessions, checked with every token.
    pub sessions: SessionCache,
    /// Message sends per user, shared with `POST /api/messages`.
    pub send_limiter: Arc<SendLimiter>,
    /// Counters for `/metrics`.
    pub metrics: Arc<Metrics>,
    /// This process's name on the cluster bus.
    pub node: String,
    /// The effective `MAX_CONNECTIONS`, capped below the open-file limit at start-up.
    pub max_connections: usize,
}

impl Chat {
    /// Starts the `ChatServer` and feeds it every event published on `live`.
    pub fn start(parts: ChatParts, live: &Live) -> Chat {
        let slots = Slots::shared(
            parts.config.max_sockets_per_user,
            parts.max_connections,
            live.clone(),
            parts.node.clone(),
        );
        let server = ChatServer::new(
            Arc::clone(&parts.metrics),
            live.clone(),
            parts.node.clone(),
            slots.clone(),
        )
        .start();
        let mut events = live.subscribe();
        let forward_to = server.clone();
        actix::spawn(async move {
            loop {
                match events.recv().await {
                    Ok(published) => forward_to.do_send(messages::Live(published.event)),
                    Err(RecvError::Lagged(missed)) => {
                        log::error!("live events fell behind: {missed} dropped")
                    }
                    Err(RecvError::Closed) => break,
                }
            }
        });
        Chat {
            parts,
            server,
            slots,
            shutting_down: AtomicBool::new(false),
            next_socket: AtomicU64::new(1),
        }
    }

    /// A fresh socket id.
    pub fn socket_id(&self) -> messages::SocketId {
        self.next_socket.fetch_add(1, Ordering::Relaxed)
    }

    /// Whether new handshakes are refused because the process is stopping.
    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::Relaxed)
    }

    /// Refuses new handshakes from now on and closes every socket with 1001.
    pub fn shut_down(&self) {
        self.shutting_down.store(true, Ordering::Relaxed);
        self.server.do_send(messages::Shutdown);
    }
}
