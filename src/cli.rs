//! The command line: `serve` (the default), `migrate`, `token --user NAME` and
//! `check-config`. Each command builds only what it needs: `token` opens the database and
//! the signing key, never the chat actors or the bus.

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
                  directory): see the Configuration section of the README, or run \
                  `palaver check-config` to print the effective configuration."
)]
pub struct Cli {
    /// What to do; `serve` when none is given.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The commands.
#[derive(Subcommand)]
pub enum Command {
    /// Run migrations, then serve (the default).
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
}

/// Runs the chosen command with an already validated configuration.
pub async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve => {
            let host = config.bind_addr.ip();
            let app = Application::build(config).await?;
            let address = std::net::SocketAddr::new(host, app.port());
            log::info!("palaver listening on http://{address}");
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
    }
    Ok(())
}
