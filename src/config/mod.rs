//! Configuration: every environment variable of the contract, parsed and validated once
//! into [`Config`] before anything binds a socket, so a bad value stops the server with one
//! line that names the variable.
//!
//! The parts live apart: `parse` reads raw values, `origins` holds the origin policy,
//! `secrets` decides where each key comes from in each mode, and `dev_secrets` keeps
//! development's generated secret on disk. This file assembles them.

mod dev_secrets;
mod origins;
mod parse;
mod secrets;
#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use secrecy::SecretSlice;

pub use dev_secrets::DEV_SECRETS_FILE;

use origins::{parse_allowed_origins, parse_public_url};
use parse::{invalid, Vars};
use secrets::load_secrets;

/// The deployment mode: it decides defaults and how strict start-up is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEnv {
    /// A developer's machine: generated secrets kept on disk, local pages trusted.
    Development,
    /// Test runs: a random secret per process, nothing written.
    Test,
    /// A rehearsal of production, held to the same rules.
    Staging,
    /// The real thing: every secret given, nothing weakened.
    Production,
}

impl AppEnv {
    /// Staging and production never run on generated or weak secrets.
    pub fn is_strict(self) -> bool {
        matches!(self, AppEnv::Staging | AppEnv::Production)
    }
}

/// How a WebSocket may authenticate (docs/protocol.md, The handshake).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WsAuthMode {
    /// Credentials must come with the handshake.
    Handshake,
    /// A handshake without credentials is accepted and must authenticate by its first frame.
    HandshakeOrFirstMessage,
}

/// The two storage backends, told apart by the scheme of `DATABASE_URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// Embedded SQLite at this path, created on first start.
    Sqlite(String),
    /// A PostgreSQL server, the URL as given.
    Postgres(String),
}

impl DatabaseUrl {
    /// Parses `sqlite://PATH` or `postgres://…` (`postgresql://` too).
    pub fn parse(raw: &str) -> Result<Self, String> {
        if let Some(path) = raw.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err("sqlite:// needs a file path, e.g. sqlite://palaver.db".into());
            }
            Ok(DatabaseUrl::Sqlite(path.to_string()))
        } else if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            Ok(DatabaseUrl::Postgres(raw.to_string()))
        } else {
            Err("must start with sqlite:// or postgres://".into())
        }
    }
}

/// How hard SQLite works to keep a commit (`SQLITE_SYNCHRONOUS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqliteSynchronous {
    /// An acknowledged write survives a crash of the process.
    Normal,
    /// It survives a power loss too: SQLite fsyncs each commit.
    Full,
}

/// How log lines are written (`LOG_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Plain lines for a terminal.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// The whole configuration, typed. Built once by [`Config::load`].
#[derive(Debug, Clone)]
pub struct Config {
    /// `APP_ENV`: decides the defaults and how strict start-up is.
    pub app_env: AppEnv,
    /// `BIND_ADDR`: where the server listens.
    pub bind_addr: SocketAddr,
    /// Where users reach the server; its origin is "same origin" for CORS and the socket check.
    pub public_url: url::Url,
    /// `DATABASE_URL`: which backend, and where.
    pub database_url: DatabaseUrl,
    /// `DATABASE_POOL_SIZE`: connections kept open to the database.
    pub database_pool_size: usize,
    /// `DATABASE_TIMEOUT_MS`: the longest any database call may take before the answer is `503`.
    pub database_timeout: Duration,
    /// `SQLITE_SYNCHRONOUS`: whether a commit must survive a power loss or only a crash.
    pub sqlite_synchronous: SqliteSynchronous,
    /// `JWT_SECRET`: the HS256 key tokens are signed and checked with; redacted in `Debug`.
    pub jwt_secret: SecretSlice<u8>,
    /// `JWT_ISSUER`: the `iss` issued and required.
    pub jwt_issuer: String,
    /// `JWT_AUDIENCE`: the `aud` issued and required.
    pub jwt_audience: String,
    /// `JWT_TTL_SECS`: how long an issued token lives.
    pub jwt_ttl: Duration,
    /// `SESSION_KEY`: the master key that signs and encrypts the session cookie; redacted in `Debug`.
    pub session_key: SecretSlice<u8>,
    /// Origins allowed besides the public URL's own.
    pub allowed_origins: Vec<String>,
    /// Development also trusts any `http://localhost:*` and `http://127.0.0.1:*` page.
    pub allow_local_origins: bool,
    /// `WS_AUTH_MODE`: whether a socket may authenticate after the handshake.
    pub ws_auth_mode: WsAuthMode,
    /// `WS_QUERY_TOKEN`: whether `?token=` is accepted at the handshake.
    pub ws_query_token: bool,
    /// `HEARTBEAT_INTERVAL_SECS`: how often the server pings a socket.
    pub heartbeat_interval: Duration,
    /// `CLIENT_TIMEOUT_SECS`: silence after which a socket is closed.
    pub client_timeout: Duration,
    /// `FIRST_MESSAGE_TIMEOUT_SECS`: how long an unauthenticated socket may wait.
    pub first_message_timeout: Duration,
    /// `MAX_FRAME_BYTES`: the largest client frame accepted.
    pub max_frame_bytes: usize,
    /// `MAX_BODY_BYTES`: the largest HTTP body accepted; past it `413`.
    pub max_body_bytes: usize,
    /// `LOGIN_ATTEMPTS_PER_MIN`: per client address and username; past it `429`.
    pub login_attempts_per_min: u32,
    /// `MAX_CONTENT_CHARS`: the longest message content.
    pub max_content_chars: usize,
    /// `RATE_LIMIT_PER_SEC`: refill rate of the per-user send bucket.
    pub rate_limit_per_sec: u32,
    /// `RATE_LIMIT_BURST`: capacity of the per-user send bucket.
    pub rate_limit_burst: u32,
    /// `OUTBOUND_QUEUE_LIMIT`: frames queued for one socket before it is closed 4002.
    pub outbound_queue_limit: usize,
    /// `MAX_SOCKETS_PER_USER`: handshakes past it get `429`.
    pub max_sockets_per_user: usize,
    /// `MAX_CONNECTIONS`: handshakes past it get `503`.
    pub max_connections: usize,
    /// `REDIS_URL`: when set, the cluster bus joins this process to others.
    pub redis_url: Option<String>,
    /// `REDIS_REQUIRED`: refuse to start while Redis is unreachable, rather than run degraded.
    pub redis_required: bool,
    /// `LOG_FORMAT`: text for people, JSON for collectors.
    pub log_format: LogFormat,
    /// `METRICS_BIND`: an address of its own for `/metrics`; unset, the mode decides.
    pub metrics_bind: Option<SocketAddr>,
    /// `SHUTDOWN_TIMEOUT_SECS`: how long a graceful shutdown may take.
    pub shutdown_timeout: Duration,
    /// Lines to log once the logger is up: settings that are allowed but worth a look.
    pub warnings: Vec<String>,
}

/// A refused configuration: which variable, and why.
#[derive(Debug, thiserror::Error)]
#[error("invalid {variable}: {reason}")]
pub struct ConfigError {
    /// The variable at fault, so the message and tests can name it.
    pub variable: &'static str,
    /// What is wrong with its value.
    pub reason: String,
}

impl Config {
    /// Whether `/metrics` is served on `BIND_ADDR`: in development and test, when
    /// `METRICS_BIND` does not give it an address of its own.
    pub fn metrics_on_main_listener(&self) -> bool {
        self.metrics_bind.is_none() && !self.app_env.is_strict()
    }

    /// Reads the process environment (and `.env`), keeping development secrets in the
    /// working directory.
    pub fn from_env() -> Result<Config, ConfigError> {
        let _ = dotenvy::dotenv();
        Config::load(&|name| std::env::var(name).ok(), Path::new("."))
    }

    /// Builds the configuration from `lookup`; `workdir` is where development keeps its
    /// generated secret.
    pub fn load(
        lookup: &dyn Fn(&str) -> Option<String>,
        workdir: &Path,
    ) -> Result<Config, ConfigError> {
        let vars = Vars { lookup };
        let mut warnings = Vec::new();

        let app_env = vars.choice(
            "APP_ENV",
            AppEnv::Development,
            &[
                ("development", AppEnv::Development),
                ("test", AppEnv::Test),
                ("staging", AppEnv::Staging),
                ("production", AppEnv::Production),
            ],
        )?;
        let strict = app_env.is_strict();

        let bind_addr: SocketAddr =
            vars.parse("BIND_ADDR", SocketAddr::from(([127, 0, 0, 1], 8080)))?;

        let public_url = match vars.get("PUBLIC_URL") {
            Some(raw) => parse_public_url(&raw)?,
            None if strict => {
                return Err(invalid("PUBLIC_URL", "required in staging and production"))
            }
            None => parse_public_url(&format!("http://{bind_addr}"))?,
        };

        let database_url = DatabaseUrl::parse(
            &vars
                .get("DATABASE_URL")
                .unwrap_or_else(|| "sqlite://palaver.db".into()),
        )
        .map_err(|e| invalid("DATABASE_URL", e))?;

        let (jwt_secret, session_key) = load_secrets(&vars, app_env, workdir, &mut warnings)?;

        let ws_auth_mode = vars.choice(
            "WS_AUTH_MODE",
            if strict {
                WsAuthMode::Handshake
            } else {
                WsAuthMode::HandshakeOrFirstMessage
            },
            &[
                ("handshake", WsAuthMode::Handshake),
                (
                    "handshake_or_first_message",
                    WsAuthMode::HandshakeOrFirstMessage,
                ),
            ],
        )?;

        let ws_query_token = vars.flag("WS_QUERY_TOKEN", !strict)?;
        if strict && ws_query_token {
            warnings.push("WS_QUERY_TOKEN=true: tokens in URLs can end up in proxy logs".into());
        }

        let heartbeat_interval = vars.secs("HEARTBEAT_INTERVAL_SECS", 30)?;
        let client_timeout = vars.secs("CLIENT_TIMEOUT_SECS", 60)?;
        if client_timeout <= heartbeat_interval {
            warnings.push("CLIENT_TIMEOUT_SECS is not above HEARTBEAT_INTERVAL_SECS: idle sockets may be closed between pings".into());
        }

        Ok(Config {
            app_env,
            bind_addr,
            public_url,
            database_url,
            database_pool_size: vars.positive("DATABASE_POOL_SIZE", 10)? as usize,
            database_timeout: vars.millis("DATABASE_TIMEOUT_MS", 3000)?,
            sqlite_synchronous: vars.choice(
                "SQLITE_SYNCHRONOUS",
                SqliteSynchronous::Normal,
                &[
                    ("normal", SqliteSynchronous::Normal),
                    ("full", SqliteSynchronous::Full),
                ],
            )?,
            jwt_secret,
            jwt_issuer: vars.get("JWT_ISSUER").unwrap_or_else(|| "palaver".into()),
            jwt_audience: vars.get("JWT_AUDIENCE").unwrap_or_else(|| "palaver".into()),
            jwt_ttl: vars.secs("JWT_TTL_SECS", 3600)?,
            session_key,
            allowed_origins: parse_allowed_origins(vars.get("ALLOWED_ORIGINS"))?,
            allow_local_origins: app_env == AppEnv::Development,
            ws_auth_mode,
            ws_query_token,
            heartbeat_interval,
            client_timeout,
            first_message_timeout: vars.secs("FIRST_MESSAGE_TIMEOUT_SECS", 10)?,
            max_frame_bytes: vars.positive("MAX_FRAME_BYTES", 65536)? as usize,
            max_body_bytes: vars.positive("MAX_BODY_BYTES", 65536)? as usize,
            login_attempts_per_min: vars.positive("LOGIN_ATTEMPTS_PER_MIN", 10)? as u32,
            max_content_chars: vars.positive(
                "MAX_CONTENT_CHARS",
                crate::domain::DEFAULT_MAX_CONTENT_CHARS as u64,
            )? as usize,
            rate_limit_per_sec: vars.positive("RATE_LIMIT_PER_SEC", 20)? as u32,
            rate_limit_burst: vars.positive("RATE_LIMIT_BURST", 40)? as u32,
            outbound_queue_limit: vars.positive("OUTBOUND_QUEUE_LIMIT", 1024)? as usize,
            max_sockets_per_user: vars.positive("MAX_SOCKETS_PER_USER", 20)? as usize,
            max_connections: vars.positive("MAX_CONNECTIONS", 100_000)? as usize,
            redis_url: vars.url("REDIS_URL", &["redis", "rediss"])?,
            redis_required: vars.flag("REDIS_REQUIRED", false)?,
            log_format: vars.choice(
                "LOG_FORMAT",
                LogFormat::Text,
                &[("text", LogFormat::Text), ("json", LogFormat::Json)],
            )?,
            metrics_bind: vars.optional("METRICS_BIND")?,
            shutdown_timeout: vars.secs("SHUTDOWN_TIMEOUT_SECS", 10)?,
            warnings,
        })
    }
}
