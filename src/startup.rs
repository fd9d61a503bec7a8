//! The one place the application is assembled: [`Application::build`] binds the
//! listeners first (port 0 in tests), so an address in use is reported before any database
//! is created or migrated; then it runs migrations, opens the pools and builds every
//! worker's `App` through [`build_app`], which is the only function that makes one. Before
//! it binds, it raises the open-file limit and shares it out ([`ConnectionBudget`]), so
//! that accepting never runs into `EMFILE`.
//!
//! `/metrics` is served on the main listener in development and test, on a listener of
//! its own when `METRICS_BIND` is set, and not at all otherwise (staging and production
//! keep it off the public address unless asked).

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServerHandle, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{web, App, HttpServer};
use anyhow::Context;
use socket2::{Domain, Protocol, Socket, Type};

use crate::auth::{SessionCache, Tokens};
use crate::chat::slots::ConnectionBudget;
use crate::chat::{Chat, ChatParts};
use crate::config::Config;
use crate::db::{self, Db};
use crate::limits::{LoginLimiter, SendLimiter};
use crate::live::Live;
use crate::metrics::Metrics;
use crate::middleware::{
    self, AuthContext, AuthGate, Chain, CorsLayer, ErrorNormaliser, RequestLog, SecurityHeaders,
};
use crate::routes;
use crate::service::Service;
use crate::state::AppState;

/// Opens the pools, loads the revoked sessions, starts the live side with
/// `max_connections` socket slots (the effective `MAX_CONNECTIONS`) and joins the cluster
/// bus; migrations must have run.
pub async fn build_state(config: Config, max_connections: usize) -> anyhow::Result<AppState> {
    let config = Arc::new(config);
    let db = Db::connect(&config, config.database_pool_size)?;
    let revoked = db::sessions::revoked_unexpired(&db, db::models::now())
        .await
        .context("cannot load revoked sessions")?;
    let sessions = SessionCache::with_revoked(revoked);
    let metrics = Arc::new(Metrics::default());
    let live = Live::new();
    let service = Arc::new(Service::new(
        db.clone(),
        live.clone(),
        Arc::clone(&metrics),
        config.max_content_chars,
    ));
    let tokens = Arc::new(Tokens::new(&config));
    let send_limiter = Arc::new(SendLimiter::new(
        config.rate_limit_per_sec,
        config.rate_limit_burst,
    ));
    let node = crate::cluster::node_name();
    let chat = Arc::new(Chat::start(
        ChatParts {
            config: Arc::clone(&config),
            service: Arc::clone(&service),
            tokens: Arc::clone(&tokens),
            sessions: sessions.clone(),
            send_limiter: Arc::clone(&send_limiter),
            metrics: Arc::clone(&metrics),
            node: node.clone(),
            max_connections,
        },
        &live,
    ));
    let bus = match &config.redis_url {
        None => None,
        Some(redis_url) => {
            let parts = crate::cluster::BusParts {
                live: live.clone(),
                sessions: sessions.clone(),
                db: db.clone(),
                metrics: metrics.bus.clone(),
                node,
            };
            let status = crate::cluster::join(&config, redis_url, parts)
                .await
                .context("cannot join the cluster bus (REDIS_URL)")?;
            Some(status)
        }
    };
    Ok(AppState {
        login_limiter: LoginLimiter::new(config.login_attempts_per_min),
        config,
        db,
        service,
        tokens,
        sessions,
        send_limiter,
        metrics,
        live,
        chat,
        bus,
        started: Instant::now(),
    })
}

/// The application: the middleware chain in its fixed order, then the routes.
pub fn build_app(
    state: web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let config = Arc::clone(&state.config);
    let metrics_here = config.metrics_on_main_listener();
    let endpoints: Vec<routes::Endpoint> = routes::endpoints()
        .into_iter()
        .filter(|e| metrics_here || e.path != routes::METRICS_PATH)
        .collect();
    let table = routes::route_table(&endpoints);
    Chain::new()
        .request_log(RequestLog)
        .security_headers(SecurityHeaders::new(config.is_https()))
        .error_normaliser(ErrorNormaliser)
        .cors(CorsLayer::new(Arc::clone(&config)))
        .session(middleware::session::session_layer(&config))
        .auth_context(AuthContext)
        .auth_gate(AuthGate(table))
        .into_app(state)
        .configure(|cfg| routes::mount(cfg, endpoints, config.max_body_bytes))
}

/// The `App` of the `METRICS_BIND` listener: `/metrics` and nothing else.
fn build_metrics_app(
    state: web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .app_data(state)
        .route(routes::METRICS_PATH, web::get().to(routes::health::metrics))
}

/// A bound, ready-to-run server.
pub struct Application {
    port: u16,
    server: Server,
    metrics: Option<(u16, Server)>,
    state: web::Data<AppState>,
}

/// Stops the server gracefully: new handshakes are refused, every socket gets 1001,
/// requests in flight finish, and the workers stop within `SHUTDOWN_TIMEOUT_SECS`.
#[derive(Clone)]
pub struct ShutdownHandle {
    server: ServerHandle,
    metrics: Option<ServerHandle>,
    state: web::Data<AppState>,
}

impl ShutdownHandle {
    /// Shuts down as SIGTERM does, and returns when the workers have stopped.
    pub async fn shutdown(&self) {
        log::info!("shutting down: closing sockets, finishing requests in flight");
        self.state.chat.shut_down();
        if let Some(metrics) = &self.metrics {
            metrics.stop(true).await;
        }
        self.server.stop(true).await;
    }
}

/// How many connections may wait to be accepted, as actix-web's own `bind` would queue:
/// std's `TcpListener::bind` queues only 128, and a burst of handshakes past that has its
/// connection attempts dropped and retried by the client a second later.
const BACKLOG: i32 = 1024;

/// Binds `addr` for `variable` with a listen queue of [`BACKLOG`], naming both when it
/// cannot.
fn listen(addr: std::net::SocketAddr, variable: &str) -> anyhow::Result<TcpListener> {
    let bind = || -> std::io::Result<TcpListener> {
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        socket.set_reuse_address(true)?;
        socket.bind(&addr.into())?;
        socket.listen(BACKLOG)?;
        Ok(socket.into())
    };
    bind().with_context(|| format!("cannot listen on {addr} ({variable})"))
}

impl Application {
    /// Binds `BIND_ADDR` (and `METRICS_BIND`), then migrates and connects.
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        let budget = connection_budget(&config)?;
        let listener = listen(config.bind_addr, "BIND_ADDR")?;
        let metrics_listener = config
            .metrics_bind
            .map(|addr| listen(addr, "METRICS_BIND"))
            .transpose()?;
        db::run_migrations(&config.database_url).await?;
        let workers = worker_count();
        log::info!(
            "effective MAX_CONNECTIONS={} (configured {}; open-file limit {}, database pool {}: \
             {} connections accepted at once, {} per worker on {workers} workers)",
            budget.sockets,
            config.max_connections,
            budget
                .open_files
                .map_or_else(|| "unlimited".to_string(), |n| n.to_string()),
            config.database_pool_size,
            budget.accepted,
            budget.per_worker(workers),
        );
        let port = listener.local_addr()?.port();
        let shutdown_secs = config.shutdown_timeout.as_secs();
        let state = web::Data::new(build_state(config, budget.sockets).await?);
        let app_state = state.clone();
        // actix-http answers a request head it cannot take (over 128 KiB, or more than 96
        // headers) with a bare `431` of its own, and one it cannot parse with a bare `400`,
        // before any service sees the request: neither `HttpServer` nor actix-http 3 has a
        // setting or hook to shape that answer, so it carries neither the JSON error body
        // nor the security headers (tests/api/hostile_heads.rs pins what is answered).
        let server = HttpServer::new(move || build_app(app_state.clone()))
            .workers(workers)
            // Counted per worker; past it a worker takes no new connection and the rest
            // wait in the listen backlog, so accepting never meets `EMFILE`.
            .max_connections(budget.per_worker(workers))
            // Chat frames are small and each one matters now: without this, a frame
            // written while the previous one is unacknowledged waits for the peer's
            // delayed ACK (40 ms on Linux).
            .tcp_nodelay(true)
            .listen(listener)?
            .shutdown_timeout(shutdown_secs)
            .disable_signals()
            .run();
        let metrics = match metrics_listener {
            None => None,
            Some(listener) => {
                let metrics_port = listener.local_addr()?.port();
                let metrics_state = state.clone();
                let server = HttpServer::new(move || build_metrics_app(metrics_state.clone()))
                    .workers(1)
                    .listen(listener)?
                    .shutdown_timeout(shutdown_secs)
                    .disable_signals()
                    .run();
                Some((metrics_port, server))
            }
        };
        Ok(Application {
            port,
            server,
            metrics,
            state,
        })
    }

    /// The port of the `METRICS_BIND` listener, when there is one.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(port, _)| *port)
    }

    /// The bound port (the real one when `BIND_ADDR` asked for port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The shared state, for tests that inspect what the server holds.
    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// What stops this server the way SIGTERM does.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle {
            server: self.server.handle(),
            metrics: self.metrics.as_ref().map(|(_, server)| server.handle()),
            state: self.state.clone(),
        }
    }

    /// Serves until stopped through a [`ShutdownHandle`].
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        match self.metrics {
            None => self.server.await,
            Some((_, metrics)) => futures_util::future::try_join(self.server, metrics)
                .await
                .map(|_| ()),
        }
    }

    /// Serves until SIGTERM or Ctrl-C, then shuts down gracefully.
    pub async fn run_until_signal(self) -> std::io::Result<()> {
        let handle = self.shutdown_handle();
        actix_web::rt::spawn(async move {
            wait_for_signal().await;
            handle.shutdown().await;
        });
        self.run_until_stopped().await
    }
}

/// The open-file limit, raised to its hard value, shared out between sockets, plain HTTP
/// and the descriptors the process needs for itself.
fn connection_budget(config: &Config) -> anyhow::Result<ConnectionBudget> {
    let open_files = raise_open_file_limit();
    ConnectionBudget::new(
        open_files,
        config.database_pool_size,
        config.max_connections,
    )
    .with_context(|| {
        format!(
            "the open-file limit ({}) leaves no room for connections beside a database pool \
             of {}: raise it (ulimit -n)",
            open_files.unwrap_or_default(),
            config.database_pool_size
        )
    })
}

/// The worker count `HttpServer` would choose, set explicitly so the per-worker connection
/// bound is computed over the same number.
fn worker_count() -> usize {
    std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
}

/// Raises the soft `RLIMIT_NOFILE` to the hard one and returns the soft limit in force
/// afterwards (`None`: unlimited). A refusal to raise it keeps the old one, with a warning.
#[cfg(unix)]
fn raise_open_file_limit() -> Option<u64> {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        let raised = Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        if let Err(e) = setrlimit(Resource::Nofile, raised) {
            log::warn!(
                "cannot raise the open-file limit from {:?} to {:?}: {e}",
                limit.current,
                limit.maximum
            );
        }
    }
    getrlimit(Resource::Nofile).current
}

/// No `RLIMIT_NOFILE` to read: the configured cap stands.
#[cfg(not(unix))]
fn raise_open_file_limit() -> Option<u64> {
    None
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = terminate.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
