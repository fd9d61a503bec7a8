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

/// Opens the pools, loads the revoked sessions, starts the live side and joins the
/// cluster bus; migrations must have run.
pub async fn build_state(config: Config) -> anyhow::Result<AppState> {
    let config = Arc::new(config);
    let db = Db::connect(&config, config.database_pool_size)?;
    let revoked = db::sessions::revoked_unexpired(&db, db::models::now())
        .await
        .context("cannot load revoked sessions")?;
    let revoked = RevokedSessions::from_ids(revoked);
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
    let chat = Arc::new(Chat::start(
        ChatParts {
            config: Arc::clone(&config),
            service: Arc::clone(&service),
            tokens: Arc::clone(&tokens),
            revoked: revoked.clone(),
            send_limiter: Arc::clone(&send_limiter),
            metrics: Arc::clone(&metrics),
        },
        &live,
    ));
    if let Some(redis_url) = &config.redis_url {
        crate::cluster::join(&config, redis_url, &live, &revoked)
            .await
            .context("cannot join the cluster bus (REDIS_URL)")?;
    }
    Ok(AppState {
        login_limiter: LoginLimiter::new(config.login_attempts_per_min),
        config,
        db,
        service,
        tokens,
        revoked,
        send_limiter,
        metrics,
        live,
        chat,
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
    /// Shuts down as SIGTERM does, and returns when the workers have stopped.
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
        let state = web::Data::new(build_state(config).await?);
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
