//! The one place the application is assembled: [`Application::build`] runs migrations,
//! opens the pools, binds the listener (port 0 in tests) and builds every worker's `App`
//! through [`build_app`], which is the only function that makes one.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServerHandle, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{web, App, HttpServer};
use anyhow::Context;

use crate::auth::{RevokedSessions, Tokens};
use crate::chat::Chat;
use crate::config::Config;
use crate::db::{self, Db};
use crate::limits::{LoginLimiter, SendLimiter};
use crate::live::{ConversationLocks, Live};
use crate::metrics::Metrics;
use crate::middleware::{
    self, AuthContext, AuthGate, Chain, CorsLayer, ErrorNormaliser, RequestLog, SecurityHeaders,
};
use crate::routes;

/// Everything a request may need, shared by all workers.
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub tokens: Tokens,
    pub revoked: RevokedSessions,
    pub login_limiter: LoginLimiter,
    pub send_limiter: SendLimiter,
    pub metrics: Arc<Metrics>,
    /// Committed changes for the live side.
    pub live: Live,
    /// Keeps each conversation's inserts and publishes in commit order.
    pub conversation_locks: ConversationLocks,
    /// The `ChatServer` and the socket slots.
    pub chat: Chat,
    pub started: Instant,
}

impl AppState {
    /// Opens the pools and loads the revoked sessions; migrations must have run.
    pub async fn new(config: Config) -> anyhow::Result<AppState> {
        let db = Db::connect(&config.database_url, config.database_pool_size)?;
        let revoked = db::sessions::revoked_unexpired(&db, db::models::now())
            .await
            .context("cannot load revoked sessions")?;
        let metrics = Arc::new(Metrics::default());
        let live = Live::new();
        let chat = Chat::start(&config, &live, Arc::clone(&metrics));
        let revoked = RevokedSessions::from_ids(revoked);
        if let Some(redis_url) = &config.redis_url {
            crate::cluster::join(&config, redis_url, &live, &revoked)
                .await
                .context("cannot join the cluster bus (REDIS_URL)")?;
        }
        Ok(AppState {
            tokens: Tokens::new(&config),
            revoked,
            login_limiter: LoginLimiter::new(config.login_attempts_per_min),
            send_limiter: SendLimiter::new(config.rate_limit_per_sec, config.rate_limit_burst),
            metrics,
            live,
            conversation_locks: ConversationLocks::default(),
            chat,
            started: Instant::now(),
            config: Arc::new(config),
            db,
        })
    }
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
    let endpoints = routes::endpoints();
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

/// A bound, ready-to-run server.
pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
}

/// Stops the server gracefully: new handshakes are refused, every socket gets 1001,
/// requests in flight finish, and the workers stop within `SHUTDOWN_TIMEOUT_SECS`.
#[derive(Clone)]
pub struct ShutdownHandle {
    server: ServerHandle,
    state: web::Data<AppState>,
}

impl ShutdownHandle {
    pub async fn shutdown(&self) {
        log::info!("shutting down: closing sockets, finishing requests in flight");
        self.state.chat.shut_down();
        self.server.stop(true).await;
    }
}

impl Application {
    /// Migrates, connects and binds `config.bind_addr`.
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        db::run_migrations(&config.database_url).await?;
        let listener = TcpListener::bind(config.bind_addr)
            .with_context(|| format!("cannot listen on {}", config.bind_addr))?;
        let port = listener.local_addr()?.port();
        let shutdown_secs = config.shutdown_timeout.as_secs();
        let state = web::Data::new(AppState::new(config).await?);
        let app_state = state.clone();
        let server = HttpServer::new(move || build_app(app_state.clone()))
            .listen(listener)?
            .shutdown_timeout(shutdown_secs)
            .disable_signals()
            .run();
        Ok(Application {
            port,
            server,
            state,
        })
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
            state: self.state.clone(),
        }
    }

    /// Serves until stopped through a [`ShutdownHandle`].
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }

    /// Serves until SIGTERM or Ctrl-C, then shuts down gracefully.
    pub async fn run_until_signal(self) -> std::io::Result<()> {
        let handle = self.shutdown_handle();
        actix_web::rt::spawn(async move {
            wait_for_signal().await;
            handle.shutdown().await;
        });
        self.server.await
    }
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
