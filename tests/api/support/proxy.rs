//! A TCP proxy of the test's own in front of a database server: it forwards bytes both
//! ways until told to freeze, then holds every connection open and forwards nothing (as a
//! server stopped with SIGSTOP would), until it thaws. It runs on a thread and runtime of
//! its own, so it keeps forwarding whatever the test's runtime is doing.

use std::thread::JoinHandle;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};

/// A running proxy on 127.0.0.1; stops, cutting every connection, when dropped.
pub struct Proxy {
    /// The port clients dial instead of the server's.
    pub port: u16,
    frozen: watch::Sender<bool>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Proxy {
    /// Starts forwarding a free port of 127.0.0.1 to `upstream_port` of 127.0.0.1.
    pub fn start(upstream_port: u16) -> Proxy {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port for the proxy");
        listener
            .set_nonblocking(true)
            .expect("the proxy's listener is non-blocking");
        let port = listener.local_addr().expect("the proxy's address").port();
        let (frozen, frozen_rx) = watch::channel(false);
        let (stop, stopped) = oneshot::channel();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the proxy");
            runtime.block_on(async move {
                let listener = TcpListener::from_std(listener).expect("a tokio listener");
                tokio::select! {
                    _ = stopped => {}
                    _ = accept(listener, upstream_port, frozen_rx) => {}
                }
            });
        });
        Proxy {
            port,
            frozen,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Stops forwarding: connections stay open, new ones are accepted, nothing answers.
    pub fn freeze(&self) {
        self.frozen.send_replace(true);
    }

    /// Forwards again, the bytes held meanwhile first.
    pub fn thaw(&self) {
        self.frozen.send_replace(false);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Accepts clients for as long as the proxy runs, each relayed by a task of its own.
async fn accept(listener: TcpListener, upstream_port: u16, frozen: watch::Receiver<bool>) {
    while let Ok((client, _)) = listener.accept().await {
        tokio::spawn(relay(client, upstream_port, frozen.clone()));
    }
}

/// Connects `client` to the upstream server (once thawed) and copies both ways.
async fn relay(client: TcpStream, upstream_port: u16, mut frozen: watch::Receiver<bool>) {
    thawed(&mut frozen).await;
    let Ok(server) = TcpStream::connect(("127.0.0.1", upstream_port)).await else {
        return;
    };
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    tokio::join!(
        copy(client_read, server_write, frozen.clone()),
        copy(server_read, client_write, frozen),
    );
}

/// Copies `from` to `to` while thawed, holding what it read while frozen; closes the
/// writing side when `from` ends.
async fn copy(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    mut frozen: watch::Receiver<bool>,
) {
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        thawed(&mut frozen).await;
        let n = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        thawed(&mut frozen).await;
        if to.write_all(&buffer[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

/// Returns once the proxy is not frozen (at once if it is not).
async fn thawed(frozen: &mut watch::Receiver<bool>) {
    let _ = frozen.wait_for(|frozen| !*frozen).await;
}
