//! The command line: `serve` (the default), `migrate`, `token --user NAME`,
//! `check-config` and `health`. Each command builds only what it needs: `token` opens the
//! database and the signing key, never the chat actors or the bus; `health` opens nothing
//! but a socket to the running server.

use clap::{Parser, Subcommand};

use crate::auth::Tokens;
use crate::config::Config;
use crate::db;
use crate::domain::Username;
use crate::middleware::session::SESSION_TTL_DAYS;
use crate::startup::Application;

/// The command line.
#[derive(Parser)]
#[command(
    name = "palaver",
    version,
    about = "A real-time chat server",
    after_help = "Configuration comes from environment variables (and a .env file in the working \
                  directory): docs/configuration.md describes every one, and \
                  `palaver check-config` prints the effective configuration."
)]
pub struct Cli {
    /// What to do; `serve` when none is given.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The commands.
#[derive(Subcommand)]
pub enum Command {
    /// Bind the address, run migrations, then serve (the default).
    Serve,
    /// Run migrations and exit.
    Migrate,
    /// Print a token for an existing user (for wscat, scripts, tests).
    Token {
        /// The user's username.
        #[arg(long)]
        user: String,
    },
    /// Print the effective configuration (secrets masked) and exit.
    CheckConfig,
    /// Exit 0 when the server at BIND_ADDR answers GET /health with 200, else 1.
    ///
    /// For container health checks: a plain socket, so the image needs no curl.
    Health {
        /// Where to ask instead of BIND_ADDR, as HOST:PORT.
        #[arg(long)]
        addr: Option<std::net::SocketAddr>,
    },
}

/// Runs the chosen command with an already validated configuration.
pub async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve => {
            let host = config.bind_addr.ip();
            let metrics_host = config.metrics_bind.map(|addr| addr.ip());
            let app = Application::build(config).await?;
            let address = std::net::SocketAddr::new(host, app.port());
            log::info!("palaver listening on http://{address}");
            if let (Some(host), Some(port)) = (metrics_host, app.metrics_port()) {
                let address = std::net::SocketAddr::new(host, port);
                log::info!("metrics on http://{address}/metrics");
            }
            app.run_until_signal().await?;
        }
        Command::Migrate => {
            db::run_migrations(&config.database_url).await?;
            log::info!("migrations are up to date");
        }
        Command::Token { user } => {
            db::run_migrations(&config.database_url).await?;
            // Only storage and the signing key: no chat actor, no cluster bus.
            let db = db::Db::connect(&config, 1)?;
            let tokens = Tokens::new(&config);
            let username = Username::parse(&user).map_err(|e| anyhow::anyhow!("{e}"))?;
            let user = db::users::find_by_username(&db, username.as_str())
                .await?
                .ok_or_else(|| anyhow::anyhow!("no user named {}", username.as_str()))?;
            let session =
                db::sessions::create(&db, user.id, chrono::TimeDelta::days(SESSION_TTL_DAYS))
                    .await?;
            let (token, _) = tokens.issue(user.id, &session.id, session.expires_at.and_utc())?;
            println!("{token}");
        }
        Command::CheckConfig => println!("{config:#?}"),
        Command::Health { addr } => {
            let addr = addr.unwrap_or_else(|| local_address(config.bind_addr));
            health::check(addr, std::time::Duration::from_secs(5))?;
        }
    }
    Ok(())
}

/// The address to reach a server listening on `bind` from the same host: a wildcard
/// address is asked on loopback.
fn local_address(bind: std::net::SocketAddr) -> std::net::SocketAddr {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    let ip = match bind.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    std::net::SocketAddr::new(ip, bind.port())
}

/// `palaver health`: one plain HTTP/1.1 request over a socket, so the image needs no
/// HTTP client of its own.
mod health {
    use std::io::{Read, Write};
    use std::net::{SocketAddr, TcpStream};
    use std::time::Duration;

    use anyhow::Context;

    /// `Ok` when `GET /health` at `addr` answers 200 within `timeout`.
    pub fn check(addr: SocketAddr, timeout: Duration) -> anyhow::Result<()> {
        let mut stream = TcpStream::connect_timeout(&addr, timeout)
            .with_context(|| format!("health: cannot connect to {addr}"))?;
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        write!(
            stream,
            "GET /health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )
        .with_context(|| format!("health: cannot send to {addr}"))?;
        // The status line is all that is needed; the body is small and read to the end.
        let mut answer = Vec::new();
        stream
            .take(64 * 1024)
            .read_to_end(&mut answer)
            .with_context(|| format!("health: no answer from {addr}"))?;
        let answer = String::from_utf8_lossy(&answer);
        let status_line = answer.lines().next().unwrap_or_default();
        let status = status_line.split_whitespace().nth(1).unwrap_or_default();
        if status == "200" {
            Ok(())
        } else {
            anyhow::bail!("health: {addr} answered {status_line:?}")
        }
    }
}
