//! Migrations, embedded in the binary and run at start-up (or by `palaver migrate`). Nodes
//! starting together take turns: on PostgreSQL under an advisory lock, on SQLite under a
//! lock file beside the database.

use anyhow::Context;
use diesel::connection::SimpleConnection;
use diesel::{Connection, SqliteConnection};
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::AsyncPgConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use super::MIGRATION_PRAGMAS;
use crate::config::DatabaseUrl;

const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// The PostgreSQL advisory lock the migrations run under ("palaver" in ASCII).
const MIGRATION_LOCK: i64 = 0x0070_616c_6176_6572;

/// Applies pending migrations on a blocking thread of its own (diesel's migration
/// harness is synchronous), creating the SQLite file on first start; on PostgreSQL under
/// an advisory lock, so any number of nodes may start at once on a fresh database.
pub async fn run_migrations(url: &DatabaseUrl) -> anyhow::Result<()> {
    let url = url.clone();
    let task = std::thread::spawn(move || -> anyhow::Result<usize> {
        let applied = match &url {
            DatabaseUrl::Postgres(url) => {
                let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::establish(url)?;
                // Nodes starting together take turns: the second finds nothing left to do,
                // instead of racing the first to create the same types and tables.
                conn.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))?;
                let applied = conn
                    .run_pending_migrations(PG_MIGRATIONS)
                    .map_err(|e| anyhow::anyhow!("migrations failed: {e}"))
                    .map(|done| done.len());
                conn.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))?;
                applied?
            }
            DatabaseUrl::Sqlite(path) => {
                // The same turn-taking for processes sharing one SQLite file: a lock file
                // beside it, held while the migrations run.
                let lock = std::fs::OpenOptions::new()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(format!("{path}.migrations-lock"))
                    .with_context(|| format!("cannot open the migration lock beside {path}"))?;
                lock.lock()
                    .with_context(|| format!("cannot take the migration lock beside {path}"))?;
                let mut conn = SqliteConnection::establish(path)?;
                conn.batch_execute(MIGRATION_PRAGMAS)?;
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
