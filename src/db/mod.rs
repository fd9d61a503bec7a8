//! Storage on either backend. [`Db`] holds the pool of whichever database `DATABASE_URL`
//! names; repository modules write each query once, inside [`with_conn!`], which runs it on
//! the live backend. SQLite keeps one writer connection (its single-writer model, without
//! busy-waiting) beside a pool of readers; PostgreSQL uses one pool for both.
//!
//! Every call is bounded by `DATABASE_TIMEOUT_MS`: the wait for a pooled connection (and
//! its creation or recycling) and the work done on it share one deadline, enforced here on
//! the client side, so a database that never answers (a frozen server, a hung disk) costs a
//! request at most that long. PostgreSQL connections also carry a server-side
//! `statement_timeout`. Past the deadline, or on any failure that says the database cannot
//! serve (a lost connection, a full disk, a read-only file), the answer is
//! [`DbError::Unavailable`], the connection is thrown away rather than pooled again, and the
//! next call opens a fresh one, so the server recovers by itself.

mod conn;
pub mod conversations;
pub mod messages;
mod migrations;
pub mod models;
pub mod schema;
pub mod search;
pub mod send_batch;
pub mod sessions;
pub mod users;

pub use migrations::run_migrations;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::{Connection, SqliteConnection};
use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::AsyncPgConnection;
use futures_util::FutureExt;
use tokio::time::Instant;

use crate::config::{Config, DatabaseUrl, SqliteSynchronous};
use crate::with_conn;

pub use conn::{within, Conn, Pooled};

/// The SQLite connection type as diesel-async runs it: every call on a blocking thread.
pub type SqliteConn = SyncConnectionWrapper<SqliteConnection>;

/// Set on the migration connection: WAL so readers never block the writer (the mode is
/// kept in the file), a busy timeout for the rare lock held by another process, and
/// enforced foreign keys.
const MIGRATION_PRAGMAS: &str =
    "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;";

/// Set on every pooled SQLite connection: as [`MIGRATION_PRAGMAS`], with the busy timeout
/// from `DATABASE_TIMEOUT_MS` and the durability from `SQLITE_SYNCHRONOUS`.
fn sqlite_pragmas(timeout: Duration, synchronous: SqliteSynchronous) -> String {
    let synchronous = match synchronous {
        SqliteSynchronous::Normal => "NORMAL",
        SqliteSynchronous::Full => "FULL",
    };
    format!(
        // The busy timeout first: setting the journal mode needs a lock another process may
        // hold for a moment (its migrations, say).
        "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; \
         PRAGMA synchronous = {synchronous}; PRAGMA foreign_keys = ON;",
        timeout.as_millis()
    )
}

/// On PostgreSQL, a write that changes nothing yet goes through the whole write path (a
/// new row version, a transaction id: refused by a read-only server), on a table every
/// migrated database has. Readiness runs it while writes are failing.
const PG_WRITE_PROBE: &str = "UPDATE __diesel_schema_migrations SET run_on = run_on \
    WHERE version = (SELECT MAX(version) FROM __diesel_schema_migrations)";

/// SQLite skips an update that leaves a row as it was, but always rewrites the header
/// when `user_version` is set: setting it to its own value writes a page and changes
/// nothing.
const SQLITE_READ_USER_VERSION: &str = "PRAGMA user_version";

/// The header field [`SQLITE_READ_USER_VERSION`] reads.
#[derive(diesel::QueryableByName)]
struct UserVersion {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    user_version: i32,
}

/// A storage failure, split by what the client should be told.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The database cannot serve now (unreachable, too slow, full, read-only): `503`.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A query failed for another reason: `500`.
    #[error(transparent)]
    Query(diesel::result::Error),
}

impl From<diesel::result::Error> for DbError {
    fn from(e: diesel::result::Error) -> Self {
        match unavailable_cause(&e) {
            Some(cause) => DbError::Unavailable(cause),
            None => DbError::Query(e),
        }
    }
}

impl From<diesel_async::pooled_connection::deadpool::PoolError> for DbError {
    fn from(e: diesel_async::pooled_connection::deadpool::PoolError) -> Self {
        DbError::Unavailable(format!("no connection: {e}"))
    }
}

/// What the database's own words say when it cannot serve rather than when a query is
/// wrong. Neither backend's error kinds name these (SQLite's `SQLITE_FULL`,
/// `SQLITE_READONLY`, `SQLITE_IOERR`, `SQLITE_BUSY`, `SQLITE_CANTOPEN`; PostgreSQL's
/// disk-full, statement-timeout and shutdown errors), so the messages are matched.
const UNAVAILABLE_MESSAGES: &[&str] = &[
    "database or disk is full",
    "attempt to write a readonly database",
    "disk i/o error",
    "database is locked",
    "unable to open database file",
    "no space left on device",
    "could not extend file",
    "could not write",
    "canceling statement due to statement timeout",
    "terminating connection",
    "the database system is",
    "connection closed",
];

/// Why `e` means the database cannot serve now, or `None` for an error of the query itself.
fn unavailable_cause(e: &DieselError) -> Option<String> {
    let DieselError::DatabaseError(kind, info) = e else {
        return None;
    };
    let message = info.message();
    let lower = message.to_lowercase();
    let unavailable = matches!(
        kind,
        DatabaseErrorKind::ClosedConnection
            | DatabaseErrorKind::UnableToSendCommand
            | DatabaseErrorKind::ReadOnlyTransaction
    ) || UNAVAILABLE_MESSAGES.iter().any(|m| lower.contains(m));
    unavailable.then(|| message.to_string())
}

/// The pools of the live backend.
#[derive(Clone)]
enum Pools {
    Postgres(Pool<AsyncPgConnection>),
    Sqlite {
        /// Exactly one connection: SQLite has one writer at a time, and waiting for this
        /// pool is cheaper and fairer than spinning on `SQLITE_BUSY`.
        writer: Pool<SqliteConn>,
        readers: Pool<SqliteConn>,
    },
}

/// The database: the pools of the live backend, the bound on every call, and whether
/// writes are failing now.
#[derive(Clone)]
pub struct Db {
    pools: Pools,
    /// `DATABASE_TIMEOUT_MS`.
    timeout: Duration,
    /// Set while the last write failed as unavailable (a full disk, a read-only file):
    /// readiness then probes a write itself.
    writes_failing: Arc<AtomicBool>,
}

impl Db {
    /// Builds the pools for `config`'s database, with at most `pool_size` connections;
    /// no connection is opened until first use.
    pub fn connect(config: &Config, pool_size: usize) -> anyhow::Result<Db> {
        let timeout = config.database_timeout;
        let pools = match &config.database_url {
            DatabaseUrl::Postgres(url) => Pools::Postgres(bounded_pool(
                postgres_manager(url, timeout),
                pool_size,
                timeout,
            )?),
            DatabaseUrl::Sqlite(path) => {
                let pragmas = sqlite_pragmas(timeout, config.sqlite_synchronous);
                Pools::Sqlite {
                    writer: bounded_pool(sqlite_manager(path, &pragmas), 1, timeout)?,
                    readers: bounded_pool(sqlite_manager(path, &pragmas), pool_size, timeout)?,
                }
            }
        };
        Ok(Db {
            pools,
            timeout,
            writes_failing: Arc::new(AtomicBool::new(false)),
        })
    }

    /// A connection for queries that only read.
    pub async fn read(&self) -> Result<Conn, DbError> {
        match &self.pools {
            Pools::Postgres(pool) => self.checkout(pool, Pooled::Postgres, None).await,
            Pools::Sqlite { readers, .. } => self.checkout(readers, Pooled::Sqlite, None).await,
        }
    }

    /// How many transactions that write can usefully run at once: one on SQLite (its
    /// single writer), a few on PostgreSQL, so one batch's commit (its fsync) overlaps
    /// the next batch's statements. Half the pool at most, so readers keep the rest.
    pub fn concurrent_writers(&self) -> usize {
        match &self.pools {
            Pools::Postgres(pool) => (pool.status().max_size / 2).clamp(1, 4),
            Pools::Sqlite { .. } => 1,
        }
    }

    /// A connection for statements that write.
    pub async fn write(&self) -> Result<Conn, DbError> {
        let flag = Some(Arc::clone(&self.writes_failing));
        match &self.pools {
            Pools::Postgres(pool) => self.checkout(pool, Pooled::Postgres, flag).await,
            Pools::Sqlite { writer, .. } => self.checkout(writer, Pooled::Sqlite, flag).await,
        }
    }

    /// A connection from `pool`, wrapped as the backend's [`Pooled`], within the deadline.
    async fn checkout<M>(
        &self,
        pool: &deadpool::managed::Pool<M>,
        pooled: fn(Box<deadpool::managed::Object<M>>) -> Pooled,
        writes_failing: Option<Arc<AtomicBool>>,
    ) -> Result<Conn, DbError>
    where
        M: deadpool::managed::Manager<Error = diesel_async::pooled_connection::PoolError>,
    {
        let deadline = Instant::now() + self.timeout;
        let object = self
            .bounded_get(deadline, pool.get(), &writes_failing)
            .await?;
        Ok(self.conn(pooled(Box::new(object)), deadline, writes_failing))
    }

    /// Waits for a pooled connection until `deadline`; the pool's own timeouts bound each
    /// step, this bounds their sum. A writer that cannot be had counts as a failed write.
    async fn bounded_get<T>(
        &self,
        deadline: Instant,
        get: impl std::future::Future<
            Output = Result<T, diesel_async::pooled_connection::deadpool::PoolError>,
        >,
        writes_failing: &Option<Arc<AtomicBool>>,
    ) -> Result<T, DbError> {
        let got = match within(deadline, get).await {
            Ok(got) => got.map_err(DbError::from),
            Err(_) => Err(DbError::Unavailable(format!(
                "no connection within {} ms",
                self.timeout.as_millis()
            ))),
        };
        if let (Err(_), Some(flag)) = (&got, writes_failing) {
            flag.store(true, Ordering::Relaxed);
        }
        got
    }

    fn conn(
        &self,
        pooled: Pooled,
        deadline: Instant,
        writes_failing: Option<Arc<AtomicBool>>,
    ) -> Conn {
        Conn::new(pooled, deadline, self.timeout, writes_failing)
    }

    /// `DATABASE_TIMEOUT_MS`: the longest any call on the database may take.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Whether the last write failed as unavailable (and none has worked since).
    pub fn writes_are_failing(&self) -> bool {
        self.writes_failing.load(Ordering::Relaxed)
    }

    /// Answers whether the database serves now (`/health/ready`): a read always, and a
    /// write too while the last write failed as unavailable, so readiness follows a full
    /// disk or a read-only file and comes back by itself once writes work again.
    pub async fn ping(&self) -> Result<(), DbError> {
        use diesel_async::RunQueryDsl;
        let mut conn = self.read().await?;
        with_conn!(conn, |c| diesel::sql_query("SELECT 1").execute(c).await)?;
        drop(conn);
        if self.writes_are_failing() {
            let mut conn = self.write().await?;
            with_conn!(
                conn,
                postgres: |c| diesel::sql_query(PG_WRITE_PROBE).execute(c).await,
                sqlite: |c| {
                    use diesel_async::SimpleAsyncConnection;
                    let version: UserVersion = diesel::sql_query(SQLITE_READ_USER_VERSION)
                        .get_result(c)
                        .await?;
                    let rewrite = format!("PRAGMA user_version = {}", version.user_version);
                    c.batch_execute(&rewrite).await.map(|_| 0)
                }
            )?;
        }
        Ok(())
    }
}

/// A pool of at most `size` connections whose wait, create and recycle steps are each
/// bounded by `timeout` (the bounds need a runtime to measure them).
fn bounded_pool<C>(
    manager: AsyncDieselConnectionManager<C>,
    size: usize,
    timeout: Duration,
) -> anyhow::Result<Pool<C>>
where
    C: diesel_async::pooled_connection::PoolableConnection + Send + 'static,
    AsyncDieselConnectionManager<C>: deadpool::managed::Manager<Type = C>,
{
    Ok(Pool::builder(manager)
        .max_size(size)
        .runtime(deadpool::Runtime::Tokio1)
        .wait_timeout(Some(timeout))
        .create_timeout(Some(timeout))
        .recycle_timeout(Some(timeout))
        .build()?)
}

/// PostgreSQL connections that carry `statement_timeout` = `timeout`, so the server itself
/// gives up on a statement the client would no longer wait for.
fn postgres_manager(
    url: &str,
    timeout: Duration,
) -> AsyncDieselConnectionManager<AsyncPgConnection> {
    let setup = format!("SET statement_timeout = {}", timeout.as_millis());
    let mut config = ManagerConfig::<AsyncPgConnection>::default();
    config.recycling_method = RecyclingMethod::Fast;
    config.custom_setup = Box::new(move |url| {
        let url = url.to_string();
        let setup = setup.clone();
        async move {
            use diesel_async::{AsyncConnection, SimpleAsyncConnection};
            let mut conn = AsyncPgConnection::establish(&url).await?;
            conn.batch_execute(&setup)
                .await
                .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
            Ok(conn)
        }
        .boxed()
    });
    AsyncDieselConnectionManager::new_with_config(url, config)
}

/// SQLite connections to `path`, each set up with `pragmas`.
fn sqlite_manager(path: &str, pragmas: &str) -> AsyncDieselConnectionManager<SqliteConn> {
    let pragmas = pragmas.to_string();
    let mut config = ManagerConfig::<SqliteConn>::default();
    config.recycling_method = RecyclingMethod::Fast;
    config.custom_setup = Box::new(move |path| {
        let path = path.to_string();
        let pragmas = pragmas.clone();
        // Opening a file blocks: off the async threads, so the create timeout can fire.
        async move {
            let opened = tokio::task::spawn_blocking(move || {
                let mut conn = SqliteConnection::establish(&path)?;
                conn.batch_execute(&pragmas)
                    .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                Ok(SyncConnectionWrapper::new(conn))
            })
            .await;
            opened.unwrap_or_else(|e| {
                Err(diesel::ConnectionError::BadConnection(format!(
                    "opening the SQLite file failed: {e}"
                )))
            })
        }
        .boxed()
    });
    AsyncDieselConnectionManager::new_with_config(path, config)
}

#[cfg(test)]
mod tests;
