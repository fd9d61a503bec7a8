//! `palaver-bench`: load for a palaver server on this machine, as palaver's own clients
//! would make it: sockets bound to conversations with bearer tokens, messages through
//! the chat protocol. It measures what the server's claims are about (how many sockets
//! it holds and at what memory, how fast one message reaches a thousand members, many
//! small rooms at once) and counts every delivery exactly, so a run that lost, repeated
//! or reordered a single message says so. One JSON line per run on stdout; progress on
//! stderr.

mod api;
mod connect;
mod content;
mod socket;
mod stats;
mod tally;
mod traffic;

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};

/// Load scenarios against a palaver server on loopback.
#[derive(Parser, Debug)]
#[command(name = "palaver-bench", version, about, long_about = None)]
struct Cli {
    #[command(flatten)]
    common: Common,
    #[command(subcommand)]
    scenario: Scenario,
}

/// Flags of every scenario.
#[derive(Args, Debug, Clone)]
pub struct Common {
    /// The server's root URL; the host must be 127.0.0.1, localhost or [::1].
    #[arg(long, global = true, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// Runtime threads: 1 runs everything on the calling thread, which is fastest when
    /// the client is pinned to one core.
    #[arg(long, global = true, default_value_t = 1)]
    pub threads: usize,
    /// Registrations (and conversation creations) in flight at once; each registration
    /// costs the server an argon2 hash.
    #[arg(long, global = true, default_value_t = 4)]
    pub register_concurrency: usize,
}

#[derive(Subcommand, Debug)]
enum Scenario {
    /// Open many idle sockets: handshake rate and latency, server memory per socket.
    Connect(connect::ConnectArgs),
    /// One conversation, many member sockets, a few senders: fan-out rate and latency.
    Broadcast(traffic::BroadcastArgs),
    /// Many small conversations, every member sending.
    Rooms(traffic::RoomsArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("palaver-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<String> {
    raise_open_files();
    let target = Arc::new(api::Target::parse(&cli.common.url)?);
    let runtime = if cli.common.threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(cli.common.threads)
            .enable_all()
            .build()
    }
    .context("starting the runtime")?;
    let common = cli.common;
    runtime.block_on(async move {
        let line = match cli.scenario {
            Scenario::Connect(args) => {
                serde_json::to_string(&connect::run(target, &common, args).await?)
            }
            Scenario::Broadcast(args) => {
                serde_json::to_string(&traffic::broadcast(target, &common, args).await?)
            }
            Scenario::Rooms(args) => {
                serde_json::to_string(&traffic::rooms(target, &common, args).await?)
            }
        };
        line.context("encoding the report")
    })
}

/// Raises the soft limit of open files to the hard one: ten thousand sockets do not fit
/// the usual soft limit of 1024. A failure is only reported; small runs still work.
fn raise_open_files() {
    #[cfg(unix)]
    {
        use rustix::process::{getrlimit, setrlimit, Resource};
        let mut limit = getrlimit(Resource::Nofile);
        if limit.current == limit.maximum {
            return;
        }
        limit.current = limit.maximum;
        if let Err(e) = setrlimit(Resource::Nofile, limit) {
            eprintln!("could not raise the open-files limit: {e}");
        }
    }
}
