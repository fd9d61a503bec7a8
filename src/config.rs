//! Configuration: every environment variable of the contract, parsed and validated once
//! into [`Config`] before anything binds a socket, so a bad value stops the server with one
//! line that names the variable.

use std::fmt;
use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use rand::RngCore;

/// Where the development secret is kept between runs, relative to the working directory.
pub const DEV_SECRETS_FILE: &str = ".palaver-dev-secrets";

/// The smallest accepted key length for `JWT_SECRET` and `SESSION_KEY`.
const MIN_SECRET_BYTES: usize = 32;

/// The deployment mode: it decides defaults and how strict start-up is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEnv {
    Development,
    Test,
    Staging,
    Production,
}

impl AppEnv {
    /// Staging and production never run on generated or weak secrets.
    pub fn is_strict(self) -> bool {
        matches!(self, AppEnv::Staging | AppEnv::Production)
    }
}

/// How a WebSocket may authenticate (PROTOCOL.md, Handshake).
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

/// Key material that must never reach a log line or a `Debug` print.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn new(bytes: Vec<u8>) -> Self {
        Secret(bytes)
    }
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// The whole configuration, typed. Built once by [`Config::load`].
#[derive(Debug, Clone)]
pub struct Config {
    pub app_env: AppEnv,
    pub bind_addr: SocketAddr,
    /// Where users reach the server; its origin is "same origin" for CORS and the socket check.
    pub public_url: url::Url,
    pub database_url: DatabaseUrl,
    pub database_pool_size: usize,
    pub jwt_secret: Secret,
    pub jwt_issuer: String,
    pub jwt_audience: String,
    pub jwt_ttl: Duration,
    pub session_key: Secret,
    /// Origins allowed besides the public URL's own.
    pub allowed_origins: Vec<String>,
    /// Development also trusts any `http://localhost:*` and `http://127.0.0.1:*` page.
    pub allow_local_origins: bool,
    pub ws_auth_mode: WsAuthMode,
    pub ws_query_token: bool,
    pub heartbeat_interval: Duration,
    pub client_timeout: Duration,
    pub first_message_timeout: Duration,
    pub max_frame_bytes: usize,
    pub max_body_bytes: usize,
    pub login_attempts_per_min: u32,
    pub max_content_chars: usize,
    pub rate_limit_per_sec: u32,
    pub rate_limit_burst: u32,
    pub outbound_queue_limit: usize,
    pub max_sockets_per_user: usize,
    pub max_connections: usize,
    pub redis_url: Option<String>,
    pub shutdown_timeout: Duration,
    /// Lines to log once the logger is up: settings that are allowed but worth a look.
    pub warnings: Vec<String>,
}

/// A refused configuration: which variable, and why.
#[derive(Debug, thiserror::Error)]
#[error("invalid {variable}: {reason}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub reason: String,
}

fn invalid(variable: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        reason: reason.into(),
    }
}

/// Reads variables through a lookup function, so tests can configure without touching
/// the process environment.
struct Vars<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
}

impl Vars<'_> {
    fn get(&self, name: &str) -> Option<String> {
        (self.lookup)(name).filter(|v| !v.trim().is_empty())
    }

    fn parse<T: std::str::FromStr>(&self, name: &'static str, default: T) -> Result<T, ConfigError>
    where
        T::Err: fmt::Display,
    {
        match self.get(name) {
            None => Ok(default),
            Some(raw) => raw
                .trim()
                .parse()
                .map_err(|e| invalid(name, format!("{raw:?}: {e}"))),
        }
    }

    fn positive(&self, name: &'static str, default: u64) -> Result<u64, ConfigError> {
        let value: u64 = self.parse(name, default)?;
        if value == 0 {
            return Err(invalid(name, "must be at least 1"));
        }
        Ok(value)
    }

    fn secs(&self, name: &'static str, default: u64) -> Result<Duration, ConfigError> {
        self.positive(name, default).map(Duration::from_secs)
    }

    fn flag(&self, name: &'static str, default: bool) -> Result<bool, ConfigError> {
        match self.get(name).map(|v| v.trim().to_ascii_lowercase()) {
            None => Ok(default),
            Some(v) if v == "true" || v == "1" => Ok(true),
            Some(v) if v == "false" || v == "0" => Ok(false),
            Some(v) => Err(invalid(name, format!("{v:?}: expected true or false"))),
        }
    }
}

impl Config {
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

        let app_env = match vars.get("APP_ENV").as_deref().map(str::trim) {
            None | Some("development") => AppEnv::Development,
            Some("test") => AppEnv::Test,
            Some("staging") => AppEnv::Staging,
            Some("production") => AppEnv::Production,
            Some(other) => {
                return Err(invalid(
                    "APP_ENV",
                    format!("{other:?}: expected development, test, staging or production"),
                ))
            }
        };
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
        let database_pool_size = vars.positive("DATABASE_POOL_SIZE", 10)? as usize;

        let jwt_secret = match vars.get("JWT_SECRET") {
            Some(raw) => strong_secret("JWT_SECRET", raw)?,
            None if strict => {
                return Err(invalid(
                    "JWT_SECRET",
                    "required in staging and production (at least 32 bytes)",
                ))
            }
            None if app_env == AppEnv::Test => random_secret(),
            None => {
                warnings.push(format!(
                    "JWT_SECRET is not set: using the development secret kept in {DEV_SECRETS_FILE}"
                ));
                dev_secret(&workdir.join(DEV_SECRETS_FILE)).map_err(|e| invalid("JWT_SECRET", e))?
            }
        };

        let session_key = match vars.get("SESSION_KEY") {
            Some(raw) => strong_secret("SESSION_KEY", raw)?,
            None if strict => {
                return Err(invalid(
                    "SESSION_KEY",
                    "required in staging and production (at least 32 bytes)",
                ))
            }
            None => Secret(
                actix_web::cookie::Key::derive_from(jwt_secret.expose())
                    .master()
                    .to_vec(),
            ),
        };
        if session_key == jwt_secret {
            return Err(invalid("SESSION_KEY", "must differ from JWT_SECRET"));
        }

        let jwt_ttl = vars.secs("JWT_TTL_SECS", 3600)?;

        let allowed_origins = match vars.get("ALLOWED_ORIGINS") {
            None => Vec::new(),
            Some(raw) => raw
                .split(',')
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(parse_origin)
                .collect::<Result<Vec<_>, _>>()?,
        };

        let ws_auth_mode = match vars.get("WS_AUTH_MODE").as_deref().map(str::trim) {
            None if strict => WsAuthMode::Handshake,
            None => WsAuthMode::HandshakeOrFirstMessage,
            Some("handshake") => WsAuthMode::Handshake,
            Some("handshake_or_first_message") => WsAuthMode::HandshakeOrFirstMessage,
            Some(other) => {
                return Err(invalid(
                    "WS_AUTH_MODE",
                    format!("{other:?}: expected handshake or handshake_or_first_message"),
                ))
            }
        };

        let ws_query_token = vars.flag("WS_QUERY_TOKEN", !strict)?;
        if strict && ws_query_token {
            warnings.push("WS_QUERY_TOKEN=true: tokens in URLs can end up in proxy logs".into());
        }

        let heartbeat_interval = vars.secs("HEARTBEAT_INTERVAL_SECS", 30)?;
        let client_timeout = vars.secs("CLIENT_TIMEOUT_SECS", 60)?;
        if client_timeout <= heartbeat_interval {
            warnings.push("CLIENT_TIMEOUT_SECS is not above HEARTBEAT_INTERVAL_SECS: idle sockets may be closed between pings".into());
        }

        let redis_url = match vars.get("REDIS_URL") {
            Some(raw) if !(raw.starts_with("redis://") || raw.starts_with("rediss://")) => {
                return Err(invalid(
                    "REDIS_URL",
                    "must start with redis:// or rediss://",
                ))
            }
            other => other,
        };

        Ok(Config {
            app_env,
            bind_addr,
            public_url,
            database_url,
            database_pool_size,
            jwt_secret,
            jwt_issuer: vars.get("JWT_ISSUER").unwrap_or_else(|| "palaver".into()),
            jwt_audience: vars.get("JWT_AUDIENCE").unwrap_or_else(|| "palaver".into()),
            jwt_ttl,
            session_key,
            allowed_origins,
            allow_local_origins: app_env == AppEnv::Development,
            ws_auth_mode,
            ws_query_token,
            heartbeat_interval,
            client_timeout,
            first_message_timeout: vars.secs("FIRST_MESSAGE_TIMEOUT_SECS", 10)?,
            max_frame_bytes: vars.positive("MAX_FRAME_BYTES", 65536)? as usize,
            max_body_bytes: vars.positive("MAX_BODY_BYTES", 65536)? as usize,
            login_attempts_per_min: vars.positive("LOGIN_ATTEMPTS_PER_MIN", 10)? as u32,
            max_content_chars: vars.positive("MAX_CONTENT_CHARS", 4000)? as usize,
            rate_limit_per_sec: vars.positive("RATE_LIMIT_PER_SEC", 20)? as u32,
            rate_limit_burst: vars.positive("RATE_LIMIT_BURST", 40)? as u32,
            outbound_queue_limit: vars.positive("OUTBOUND_QUEUE_LIMIT", 1024)? as usize,
            max_sockets_per_user: vars.positive("MAX_SOCKETS_PER_USER", 20)? as usize,
            max_connections: vars.positive("MAX_CONNECTIONS", 100_000)? as usize,
            redis_url,
            shutdown_timeout: vars.secs("SHUTDOWN_TIMEOUT_SECS", 10)?,
            warnings,
        })
    }

    /// The origin (`scheme://host[:port]`) of `PUBLIC_URL`.
    pub fn public_origin(&self) -> String {
        self.public_url.origin().ascii_serialization()
    }

    /// Whether the server is reached over TLS: HSTS and `Secure` cookies follow from it.
    pub fn is_https(&self) -> bool {
        self.public_url.scheme() == "https"
    }

    /// Whether a browser page at `origin` may talk to this server (CORS and socket `Origin`).
    pub fn origin_allowed(&self, origin: &str) -> bool {
        if origin == self.public_origin() || self.allowed_origins.iter().any(|o| o == origin) {
            return true;
        }
        self.allow_local_origins && is_local_http_origin(origin)
    }
}

fn is_local_http_origin(origin: &str) -> bool {
    ["http://localhost", "http://127.0.0.1"].iter().any(|base| {
        origin.strip_prefix(base).is_some_and(|rest| {
            rest.is_empty()
                || rest
                    .strip_prefix(':')
                    .is_some_and(|p| p.parse::<u16>().is_ok())
        })
    })
}

fn parse_public_url(raw: &str) -> Result<url::Url, ConfigError> {
    let url =
        url::Url::parse(raw.trim()).map_err(|e| invalid("PUBLIC_URL", format!("{raw:?}: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(invalid(
            "PUBLIC_URL",
            format!("{raw:?}: expected http:// or https:// with a host"),
        ));
    }
    Ok(url)
}

fn parse_origin(raw: &str) -> Result<String, ConfigError> {
    if raw == "*" {
        return Err(invalid(
            "ALLOWED_ORIGINS",
            "\"*\" is not allowed: credentials are sent cross-origin, list the origins",
        ));
    }
    let url =
        url::Url::parse(raw).map_err(|e| invalid("ALLOWED_ORIGINS", format!("{raw:?}: {e}")))?;
    let origin = url.origin();
    if !origin.is_tuple() || !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(
            "ALLOWED_ORIGINS",
            format!("{raw:?}: expected an http(s) origin"),
        ));
    }
    Ok(origin.ascii_serialization())
}

fn strong_secret(variable: &'static str, raw: String) -> Result<Secret, ConfigError> {
    if raw.len() < MIN_SECRET_BYTES {
        return Err(invalid(
            variable,
            format!("must be at least {MIN_SECRET_BYTES} bytes"),
        ));
    }
    Ok(Secret(raw.into_bytes()))
}

fn random_secret() -> Secret {
    let mut bytes = vec![0u8; 64];
    rand::rng().fill_bytes(&mut bytes);
    Secret(hex::encode(bytes).into_bytes())
}

/// Reads the development secret, creating it (mode 0600) on first start.
fn dev_secret(path: &Path) -> Result<Secret, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let secret = text.trim().to_string();
            if secret.len() < MIN_SECRET_BYTES {
                return Err(format!(
                    "{} holds a secret shorter than 32 bytes: delete it",
                    path.display()
                ));
            }
            Ok(Secret(secret.into_bytes()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let secret = random_secret();
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options
                .open(path)
                .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
            file.write_all(secret.expose())
                .and_then(|_| file.write_all(b"\n"))
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            Ok(secret)
        }
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}
