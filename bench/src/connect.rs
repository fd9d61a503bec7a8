//! `connect`: how fast the server accepts sockets and what an idle one costs it. Every
//! socket is bound to a conversation, as a real client's is, so the handshake includes
//! the token check and the membership lookup; the server's resident memory is read before
//! the first socket and again once all are open and have been idle for a moment.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use clap::Args;
use futures_util::StreamExt;
use serde::Serialize;
use tokio::sync::{mpsc, watch, Semaphore};
use tokio_tungstenite::tungstenite::Message;

use crate::api::{self, Target};
use crate::socket::{self, Ws};
use crate::stats::{self, Latency};
use crate::Common;

/// Flags of `connect`.
#[derive(Args, Debug, Clone)]
pub struct ConnectArgs {
    /// Sockets to open; socket j belongs to user j mod --users.
    #[arg(long, default_value_t = 10_000)]
    pub sockets: usize,
    /// Conversations; user u is a member of conversation u mod --conversations.
    #[arg(long, default_value_t = 1_000)]
    pub conversations: usize,
    /// Users to register (sockets per user must stay within the server's MAX_SOCKETS_PER_USER).
    #[arg(long, default_value_t = 1_000)]
    pub users: usize,
    /// Handshakes in flight at once.
    #[arg(long, default_value_t = 200)]
    pub concurrency: usize,
    /// The server's process id, for its VmRSS; without it the memory fields are null.
    #[arg(long)]
    pub pid: Option<u32>,
    /// How long all sockets stay open and idle before the second memory reading.
    #[arg(long, default_value_t = 2.0)]
    pub idle_secs: f64,
    /// With --pid, how long after setup the baseline is looked for (the lowest reading):
    /// the memory of registration's password hashing leaves the server late, if at all
    /// (see the README on MIMALLOC_PURGE_DELAY).
    #[arg(long, default_value_t = 12.0)]
    pub baseline_secs: f64,
    /// Longest wait for one socket's ready.
    #[arg(long, default_value_t = 30.0)]
    pub timeout_secs: f64,
    /// Read buffer per socket in bytes (tungstenite allocates it up front).
    #[arg(long, default_value_t = 4096)]
    pub read_buffer: usize,
}

/// The JSON line of `connect`.
#[derive(Serialize, Debug)]
pub struct ConnectReport {
    scenario: &'static str,
    sockets: usize,
    opened: usize,
    failed: usize,
    rate_per_sec: f64,
    handshake_p50_ms: f64,
    handshake_p99_ms: f64,
    handshake_max_ms: f64,
    server_rss_before_kb: Option<u64>,
    server_rss_after_kb: Option<u64>,
    bytes_per_socket: Option<i64>,
    server_threads_before: Option<u64>,
    server_threads_after: Option<u64>,
    dropped: usize,
    users: usize,
    conversations: usize,
    concurrency: usize,
}

/// Runs the scenario.
pub async fn run(target: Arc<Target>, common: &Common, args: ConnectArgs) -> Result<ConnectReport> {
    if args.users == 0 || args.conversations == 0 || args.sockets == 0 {
        bail!("--sockets, --users and --conversations must be positive");
    }
    if args.conversations > args.users {
        bail!("--conversations must not exceed --users: each conversation is owned by one of them");
    }
    let per_user = args.sockets.div_ceil(args.users);
    eprintln!(
        "connect: {} sockets, {} users ({per_user} sockets each at most), {} conversations",
        args.sockets, args.users, args.conversations
    );
    target.check_live().await?;

    let prefix = api::run_prefix('c');
    let users =
        api::register_users(&target, &prefix, args.users, common.register_concurrency).await?;
    // Conversation c: owned by user c, with every user u ≡ c (mod conversations).
    let rooms: Vec<Vec<usize>> = (0..args.conversations)
        .map(|c| (c..args.users).step_by(args.conversations).collect())
        .collect();
    let conversations =
        api::create_conversations(&target, &users, &rooms, common.register_concurrency).await?;

    // The server hashes passwords on tokio's blocking threads (argon2 takes 19 MiB per
    // hash), and that memory goes back to the system late: at once only with
    // MIMALLOC_PURGE_DELAY=0, otherwise at the thread's next allocation or its exit.
    // Memory only falls while the server is idle, so the lowest reading is the baseline.
    let before = match args.pid {
        Some(pid) => {
            eprintln!(
                "waiting {} s for the server's memory to settle",
                args.baseline_secs
            );
            let until = Instant::now() + Duration::from_secs_f64(args.baseline_secs);
            let mut lowest = stats::process_status(pid)?;
            while Instant::now() < until {
                tokio::time::sleep(Duration::from_millis(250)).await;
                let now = stats::process_status(pid)?;
                if now.rss_kb < lowest.rss_kb {
                    lowest = now;
                }
            }
            Some(lowest)
        }
        None => None,
    };
    let (stop_tx, stop_rx) = watch::channel(false);
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Result<Duration, String>>();
    let gate = Arc::new(Semaphore::new(args.concurrency.max(1)));
    let timeout = Duration::from_secs_f64(args.timeout_secs);
    let config = socket::config(args.read_buffer);
    let started = Instant::now();
    let mut holders = Vec::with_capacity(args.sockets);
    for j in 0..args.sockets {
        let user = j % args.users;
        let conversation = conversations[user % args.conversations];
        let token = users[user].token.clone();
        let target = target.clone();
        let gate = gate.clone();
        let done = done_tx.clone();
        let stop = stop_rx.clone();
        holders.push(tokio::spawn(async move {
            let Ok(permit) = gate.acquire_owned().await else {
                return false;
            };
            let began = Instant::now();
            let opened = socket::open(&target, conversation, &token, config, timeout).await;
            drop(permit);
            match opened {
                Ok(ws) => {
                    let _ = done.send(Ok(began.elapsed()));
                    drop(done);
                    hold(ws, stop).await
                }
                Err(e) => {
                    let _ = done.send(Err(format!("{e:#}")));
                    false
                }
            }
        }));
    }
    drop(done_tx);

    let handshakes = Latency::new();
    let (mut opened, mut failed) = (0usize, 0usize);
    let mut last_ready = started;
    let step = (args.sockets / 10).max(1);
    // Every task sends exactly one result; the open ones keep their sender alive while
    // they hold their socket, so the channel never closes by itself.
    for _ in 0..args.sockets {
        let Some(result) = done_rx.recv().await else {
            break;
        };
        match result {
            Ok(took) => {
                opened += 1;
                handshakes.record(took);
                last_ready = Instant::now();
            }
            Err(e) => {
                failed += 1;
                if failed <= 5 {
                    eprintln!("socket failed: {e}");
                }
            }
        }
        if (opened + failed).is_multiple_of(step) {
            eprintln!(
                "{}/{} sockets attempted, {failed} failed",
                opened + failed,
                args.sockets
            );
        }
    }
    let opening = last_ready.duration_since(started).as_secs_f64();
    eprintln!(
        "{opened} open in {opening:.2} s; idle for {} s",
        args.idle_secs
    );
    tokio::time::sleep(Duration::from_secs_f64(args.idle_secs)).await;
    let after = args.pid.map(stats::process_status).transpose()?;

    let _ = stop_tx.send(true);
    let mut dropped = 0;
    for holder in holders {
        if let Ok(true) = holder.await {
            dropped += 1;
        }
    }

    let summary = handshakes.summary();
    let bytes_per_socket = match (before, after) {
        (Some(before), Some(after)) if opened > 0 => {
            Some((after.rss_kb as i64 - before.rss_kb as i64) * 1024 / opened as i64)
        }
        _ => None,
    };
    Ok(ConnectReport {
        scenario: "connect",
        sockets: args.sockets,
        opened,
        failed,
        rate_per_sec: if opening > 0.0 {
            (opened as f64 / opening * 10.0).round() / 10.0
        } else {
            0.0
        },
        handshake_p50_ms: summary.p50_ms,
        handshake_p99_ms: summary.p99_ms,
        handshake_max_ms: summary.max_ms,
        server_rss_before_kb: before.map(|s| s.rss_kb),
        server_rss_after_kb: after.map(|s| s.rss_kb),
        bytes_per_socket,
        server_threads_before: before.map(|s| s.threads),
        server_threads_after: after.map(|s| s.threads),
        dropped,
        users: args.users,
        conversations: args.conversations,
        concurrency: args.concurrency,
    })
}

/// Keeps a socket open and read (so the server's pings are answered) until `stop`;
/// `true` when the server closed it first.
async fn hold(mut ws: Ws, mut stop: watch::Receiver<bool>) -> bool {
    loop {
        tokio::select! {
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    let _ = tokio::time::timeout(Duration::from_secs(1), ws.close(None)).await;
                    return false;
                }
            }
            frame = ws.next() => match frame {
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return true,
                Some(Ok(_)) => {}
            },
        }
    }
}
