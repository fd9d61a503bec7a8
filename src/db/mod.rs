//! Storage on either backend. [`Db`] holds the pool of whichever database `DATABASE_URL`
//! names; repository modules write each query once, inside [`with_conn!`], which runs it on
//! the live backend. SQLite keeps one writer connection (its single-writer model, without
//! busy-waiting) beside a pool of readers; PostgreSQL uses one pool for both.

pub mod conversations;
pub mod messages;
pub mod models;
pub mod schema;
pub mod sessions;
pub mod users;

use diesel::connection::SimpleConnection;
use diesel::{Connection, SqliteConnection};
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use futures_util::FutureExt;

use crate::config::DatabaseUrl;

/// The SQLite connection type as diesel-async runs it: every call on a blocking thread.
pub type SqliteConn = SyncConnectionWrapper<SqliteConnection>;

const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// Set on every SQLite connection: WAL so readers never block the writer, a busy timeout
/// for the rare lock held by another process, and enforced foreign keys.
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
    PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;";

/// A storage failure, split by what the client should be told.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The database cannot be reached: `503`.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A query failed for another reason: `500`.
    #[error(transparent)]
    Query(diesel::result::Error),
}

impl From<diesel::result::Error> for DbError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                DbError::Unavailable(info.message().to_string())
            }
            other => DbError::Query(other),
        }
    }
}

impl From<diesel_async::pooled_connection::deadpool::PoolError> for DbError {
    fn from(e: diesel_async::pooled_connection::deadpool::PoolError) -> Self {
        DbError::Unavailable(e.to_string())
    }
}

/// One checked-out connection of the live backend (boxed: the two differ a lot in size).
pub enum Conn {
    Postgres(Box<Object<AsyncPgConnection>>),
    Sqlite(Box<Object<SqliteConn>>),
}

/// Runs the same query code on whichever backend `$conn` holds: `$c` is a
/// `&mut` connection of the concrete type in each arm.
#[macro_export]
macro_rules! with_conn {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::Conn::Postgres(ref mut object) => {
                let $c: &mut diesel_async::AsyncPgConnection = &mut **object;
                $body
            }
            $crate::db::Conn::Sqlite(ref mut object) => {
                let $c: &mut $crate::db::SqliteConn = &mut **object;
                $body
            }
        }
    };
}

/// The pools of the live backend.
#[derive(Clone)]
pub enum Db {
    Postgres(Pool<AsyncPgConnection>),
    Sqlite {
        /// Exactly one connection: SQLite has one writer at a time, and waiting for this
        /// pool is cheaper and fairer than spinning on `SQLITE_BUSY`.
        writer: Pool<SqliteConn>,
        readers: Pool<SqliteConn>,
    },
}

impl Db {
    /// Builds the pools; no connection is opened until first use.
    pub fn connect(url: &DatabaseUrl, pool_size: usize) -> anyhow::Result<Db> {
        match url {
            DatabaseUrl::Postgres(url) => {
                let mut config = ManagerConfig::default();
                config.recycling_method = RecyclingMethod::Fast;
                let manager =
                    AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(url, config);
                Ok(Db::Postgres(
                    Pool::builder(manager).max_size(pool_size).build()?,
                ))
            }
            DatabaseUrl::Sqlite(path) => {
                let pool = |size: usize| -> anyhow::Result<Pool<SqliteConn>> {
                    let mut config = ManagerConfig::<SqliteConn>::default();
                    config.recycling_method = RecyclingMethod::Fast;
                    config.custom_setup = Box::new(|path| {
                        let path = path.to_string();
                        async move {
                            let mut conn = SqliteConnection::establish(&path)?;
                            conn.batch_execute(SQLITE_PRAGMAS)
                                .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                            Ok(SyncConnectionWrapper::new(conn))
                        }
                        .boxed()
                    });
                    let manager = AsyncDieselConnectionManager::<SqliteConn>::new_with_config(
                        path.clone(),
                        config,
                    );
                    Ok(Pool::builder(manager).max_size(size).build()?)
                };
                Ok(Db::Sqlite {
                    writer: pool(1)?,
                    readers: pool(pool_size)?,
                })
            }
        }
    }

    /// A connection for queries that only read.
    pub async fn read(&self) -> Result<Conn, DbError> {
        Ok(match self {
            Db::Postgres(pool) => Conn::Postgres(Box::new(pool.get().await?)),
            Db::Sqlite { readers, .. } => Conn::Sqlite(Box::new(readers.get().await?)),
        })
    }

    /// A connection for statements that write.
    pub async fn write(&self) -> Result<Conn, DbError> {
        Ok(match self {
            Db::Postgres(pool) => Conn::Postgres(Box::new(pool.get().await?)),
            Db::Sqlite { writer, .. } => Conn::Sqlite(Box::new(writer.get().await?)),
        })
    }

    /// Answers whether the database serves queries now (`/health/ready`).
    pub async fn ping(&self) -> Result<(), DbError> {
        let mut conn = self.read().await?;
        with_conn!(conn, |c| diesel::sql_query("SELECT 1").execute(c).await)?;
        Ok(())
    }
}

/// Applies pending migrations on a blocking thread of its own (diesel's migration
/// harness is synchronous), creating the SQLite file on first start.
pub async fn run_migrations(url: &DatabaseUrl) -> anyhow::Result<()> {
    let url = url.clone();
    let task = std::thread::spawn(move || -> anyhow::Result<usize> {
        let applied = match &url {
            DatabaseUrl::Postgres(url) => {
                let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::establish(url)?;
                conn.run_pending_migrations(PG_MIGRATIONS)
                    .map_err(|e| anyhow::anyhow!("migrations failed: {e}"))?
                    .len()
            }
            DatabaseUrl::Sqlite(path) => {
                let mut conn = SqliteConnection::establish(path)?;
                conn.batch_execute(SQLITE_PRAGMAS)?;
                conn.run_pending_migrations(SQLITE_MIGRATIONS)
                    .map_err(|e| anyhow::anyhow!("migrations failed: {e}"))?
                    .len()
            }
        };
        Ok(applied)
    });
    let applied = actix_web::rt::task::spawn_blocking(move || task.join())
        .await
        .map_err(|e| anyhow::anyhow!("migration task failed: {e}"))?
        .map_err(|_| anyhow::anyhow!("migration thread panicked"))??;
    if applied > 0 {
        log::info!("applied {applied} migration(s)");
    }
    Ok(())
}
