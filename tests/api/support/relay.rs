//! A TCP relay in front of a test server: the browser always dials the relay's port, so
//! the page keeps one origin while the server behind it stops and another starts on the
//! same database, on a port of its own.

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Arc;

use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpStream};

/// A listening relay and the port it forwards to (0: nothing behind it, every
/// connection is dropped as a stopped server's would be refused).
pub struct Relay {
    /// The port the browser dials.
    pub port: u16,
    target: Arc<AtomicU16>,
}

impl Relay {
    /// Listens on a free local port, forwarding nowhere yet.
    pub async fn start() -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free local port for the relay");
        let port = listener
            .local_addr()
            .expect("a bound listener has an address")
            .port();
        let target = Arc::new(AtomicU16::new(0));
        let forward_to = Arc::clone(&target);
        actix_rt::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                let port = forward_to.load(Ordering::SeqCst);
                actix_rt::spawn(forward(inbound, port));
            }
        });
        Relay { port, target }
    }

    /// `http://127.0.0.1:PORT`, the origin the page is served from.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Sends new connections to the server on `port`.
    pub fn point_at(&self, port: u16) {
        self.target.store(port, Ordering::SeqCst);
    }

    /// Drops every new connection, as if no server were listening.
    pub fn hold(&self) {
        self.point_at(0);
    }
}

async fn forward(mut inbound: TcpStream, port: u16) {
    if port == 0 {
        return;
    }
    let Ok(mut outbound) = TcpStream::connect(("127.0.0.1", port)).await else {
        return;
    };
    // Either side closing ends the pair; how it ended is the test's to observe.
    let _ = copy_bidirectional(&mut inbound, &mut outbound).await;
}
