//! The server under test: [`spawn_app`] starts a real palaver on port 0 over a fresh
//! database (SQLite in a temporary directory, or a new PostgreSQL database when
//! `TEST_DATABASE_URL` is set) and returns a [`TestApp`], the handle every suite talks to.
//! The endpoint helpers live in `http`, the fixtures in `fixtures`.

use std::collections::HashMap;
use std::sync::{Arc, Once};
use std::time::Duration;

use actix_web::web::Data;
use palaver::config::Config;
use palaver::startup::{Application, ShutdownHandle};
use palaver::state::AppState;

use super::database::TestDatabase;
use super::fixtures::TestUser;

/// A running server and the means to talk to it.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    /// The port the server bound, for the clients that dial it themselves.
    pub port: u16,
    /// The port of the `METRICS_BIND` listener, when the server has one.
    pub metrics_port: Option<u16>,
    /// The server's shared state, for the few checks that look inside.
    pub state: Data<AppState>,
    /// The variables this server was configured with, so a second instance can share them.
    vars: HashMap<String, String>,
    /// The HTTP client every request of the `http` helpers goes through.
    pub(super) client: awc::Client,
    database: Arc<TestDatabase>,
}

/// Starts a server with the test defaults.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Starts a server with the test defaults, then `overrides`.
pub async fn spawn_app_with(overrides: &[(&str, &str)]) -> TestApp {
    let (vars, database) = test_vars(overrides).await;
    start(vars, database).await.0
}

/// Two servers started at the same moment on one fresh database, as two nodes of a
/// cluster booting together; each runs the migrations.
pub async fn two_nodes_started_at_once() -> (TestApp, TestApp) {
    let (vars, database) = test_vars(&[]).await;
    let (a, b) = futures_util::future::join(
        start(vars.clone(), Arc::clone(&database)),
        start(vars, database),
    )
    .await;
    (a.0, b.0)
}

/// The test defaults with `overrides`, over a fresh database.
async fn test_vars(overrides: &[(&str, &str)]) -> (HashMap<String, String>, Arc<TestDatabase>) {
    init_logging();
    let database = Arc::new(TestDatabase::create().await);
    let mut vars: HashMap<String, String> = [
        ("APP_ENV", "test".to_string()),
        ("BIND_ADDR", "127.0.0.1:0".to_string()),
        ("DATABASE_URL", database.url.clone()),
        ("JWT_SECRET", random_hex(32)),
        // Generous, so only the tests about limits meet them.
        ("RATE_LIMIT_PER_SEC", "1000".to_string()),
        ("RATE_LIMIT_BURST", "1000".to_string()),
        ("LOGIN_ATTEMPTS_PER_MIN", "1000".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    for (name, value) in overrides {
        vars.insert(name.to_string(), value.to_string());
    }
    (vars, database)
}

impl TestApp {
    /// A second server process over the same database and secrets, as after a restart.
    pub async fn another_instance(&self) -> TestApp {
        start(self.vars.clone(), Arc::clone(&self.database)).await.0
    }

    /// A second server over the same database and secrets, with the handle that stops it
    /// the way SIGTERM does, for the tests of a graceful shutdown.
    pub async fn stoppable_instance(&self) -> (TestApp, ShutdownHandle) {
        start(self.vars.clone(), Arc::clone(&self.database)).await
    }

    /// Makes the database unreachable under the running server: on PostgreSQL the database
    /// is dropped (its connections cut), on SQLite its directory is removed, so no new
    /// connection can open it.
    pub async fn take_database_away(&self) {
        self.database.take_away().await;
    }

    /// The variable `name` this server was configured with.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    /// The `JWT_SECRET` this server signs with.
    pub fn jwt_secret(&self) -> &str {
        &self.vars["JWT_SECRET"]
    }
}

/// Builds and starts a server from `vars` over `database`; the handle stops it.
async fn start(
    vars: HashMap<String, String>,
    database: Arc<TestDatabase>,
) -> (TestApp, ShutdownHandle) {
    let lookup = |name: &str| vars.get(name).cloned();
    let config =
        Config::load(&lookup, database.workdir.path()).expect("the test configuration is valid");
    let application = Application::build(config)
        .await
        .expect("the application starts");
    let port = application.port();
    let metrics_port = application.metrics_port();
    let state = application.state();
    let shutdown = application.shutdown_handle();
    actix_rt::spawn(application.run_until_stopped());
    let app = TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        metrics_port,
        state,
        vars,
        // Generous: a busy machine hashing passwords must not turn into a flaky timeout.
        client: awc::Client::builder()
            .timeout(Duration::from_secs(60))
            .finish(),
        database,
    };
    (app, shutdown)
}

/// `n` random bytes as hex, for secrets and database names no two tests share.
pub fn random_hex(n: usize) -> String {
    (0..n)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect()
}

/// Turns the server's log on for a run with `TEST_LOG` set, once per test binary.
fn init_logging() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            let _ = env_logger::builder().is_test(true).try_init();
        }
    });
}

/// A server that refuses a socket without credentials at the handshake, and alice on it.
pub async fn handshake_mode_app() -> (TestApp, TestUser) {
    let app = spawn_app_with(&[("WS_AUTH_MODE", "handshake")]).await;
    let alice = app.signup("alice").await;
    (app, alice)
}

/// A server that pings every second and drops a client silent for two.
pub async fn fast_heartbeat_app() -> TestApp {
    spawn_app_with(&[
        ("HEARTBEAT_INTERVAL_SECS", "1"),
        ("CLIENT_TIMEOUT_SECS", "2"),
    ])
    .await
}

/// A server whose rate limit allows one frame a second, two saved up.
pub async fn tight_rate_app() -> TestApp {
    spawn_app_with(&[("RATE_LIMIT_PER_SEC", "1"), ("RATE_LIMIT_BURST", "2")]).await
}

/// Two servers on one database and one Redis, where alice owns a conversation with bob;
/// panics when `TEST_REDIS_URL` names no Redis server, so a cluster test never passes
/// without having run.
pub async fn two_nodes() -> (TestApp, TestApp, TestUser, TestUser, i64) {
    let redis = std::env::var("TEST_REDIS_URL")
        .ok()
        .filter(|url| !url.trim().is_empty())
        .unwrap_or_else(|| {
            panic!(
                "TEST_REDIS_URL is not set: the cluster tests need a Redis server, \
                 e.g. TEST_REDIS_URL=redis://127.0.0.1:6379"
            )
        });
    two_nodes_on(&redis, &[]).await
}

/// Two servers on one database and the Redis at `redis_url`, configured with `overrides`
/// as well, where alice owns a conversation with bob.
pub async fn two_nodes_on(
    redis_url: &str,
    overrides: &[(&str, &str)],
) -> (TestApp, TestApp, TestUser, TestUser, i64) {
    let mut vars = vec![("REDIS_URL", redis_url)];
    vars.extend_from_slice(overrides);
    let node_a = spawn_app_with(&vars).await;
    let node_b = node_a.another_instance().await;
    let alice = node_a.signup("alice").await;
    let bob = node_a.signup("bob").await;
    let id = node_a.new_conversation(&alice, &[&bob]).await;
    (node_a, node_b, alice, bob, id)
}

/// A server to stop, beside the one whose database and secrets it shares; sockets left
/// open are cut after two seconds rather than the default ten.
pub async fn stoppable_app() -> (TestApp, TestApp, ShutdownHandle) {
    let first = spawn_app_with(&[("SHUTDOWN_TIMEOUT_SECS", "2")]).await;
    let (server, shutdown) = first.stoppable_instance().await;
    (first, server, shutdown)
}

/// Starts stopping `server` the way SIGTERM does, without waiting for it to finish.
pub fn begin_shutdown(shutdown: ShutdownHandle) {
    actix_rt::spawn(async move { shutdown.shutdown().await });
}
