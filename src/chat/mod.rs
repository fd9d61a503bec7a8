//! The live part. Every WebSocket is a [`session::WsSession`] actor that owns its socket,
//! its identity, its heartbeat, its rate limits and its outbound queue; one
//! [`server::ChatServer`] actor knows every socket and room and routes events between
//! them. The handshake (`routes/ws.rs`) authenticates before a socket is accepted;
//! committed changes from HTTP and sockets alike reach the `ChatServer` through
//! [`Live`](crate::live::Live), in commit order.
//!
//! - [`protocol`]: the frames, as types (and the JSON Schema made from them).
//! - [`messages`]: what the actors tell each other.
//! - [`slots`]: per-user and total socket limits, taken before a socket is accepted.

pub mod messages;
pub mod protocol;
pub mod server;
pub mod session;
pub mod slots;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use actix::{Actor, Addr};
use tokio::sync::broadcast::error::RecvError;

use crate::config::Config;
use crate::live::Live;
use crate::metrics::Metrics;
use server::ChatServer;
use slots::Slots;

/// What the handshake and the sessions share: the `ChatServer`, the socket slots, and
/// whether the process is shutting down.
pub struct Chat {
    pub server: Addr<ChatServer>,
    pub slots: Slots,
    shutting_down: Arc<AtomicBool>,
    /// Tells sockets outside the `ChatServer` (the echo socket) that the process is stopping.
    shutdown_signal: tokio::sync::watch::Sender<bool>,
    next_socket: AtomicU64,
}

impl Chat {
    /// Starts the `ChatServer` and feeds it every event published on `live`.
    pub fn start(config: &Config, live: &Live, metrics: Arc<Metrics>) -> Chat {
        let server = ChatServer::new(metrics).start();
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
            server,
            slots: Slots::new(config.max_sockets_per_user, config.max_connections),
            shutting_down: Arc::new(AtomicBool::new(false)),
            shutdown_signal: tokio::sync::watch::Sender::new(false),
            next_socket: AtomicU64::new(1),
        }
    }

    /// A fresh socket id.
    pub fn socket_id(&self) -> messages::SocketId {
        self.next_socket.fetch_add(1, Ordering::Relaxed)
    }

    /// Changes to `true` when the process starts shutting down.
    pub fn shutdown_signal(&self) -> tokio::sync::watch::Receiver<bool> {
        self.shutdown_signal.subscribe()
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::Relaxed)
    }

    /// Refuses new handshakes from now on and closes every socket with 1001.
    pub fn shut_down(&self) {
        self.shutting_down.store(true, Ordering::Relaxed);
        self.shutdown_signal.send_replace(true);
        self.server.do_send(messages::Shutdown);
    }
}
