//! The database of one test: a SQLite file in a temporary directory, or, when
//! `TEST_DATABASE_URL` names a PostgreSQL server, a fresh database on it named
//! `palaver_test_<random hex>`, dropped when the test ends.

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use tempfile::TempDir;

use super::app::random_hex;

/// A database of this test's own, removed when the last server using it is dropped.
pub struct TestDatabase {
    /// `DATABASE_URL` for the server.
    pub url: String,
    /// Where the SQLite file lives, and the working directory handed to `Config::load`.
    pub workdir: TempDir,
    /// `(server URL, database name)` when on PostgreSQL.
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    /// A new, empty database: on the PostgreSQL server of `TEST_DATABASE_URL`, else SQLite.
    pub async fn create() -> TestDatabase {
        let workdir = tempfile::tempdir().expect("a temporary directory");
        match std::env::var("TEST_DATABASE_URL") {
            Ok(server_url) if !server_url.trim().is_empty() => {
                let name = format!("palaver_test_{}", random_hex(8));
                let mut conn = AsyncPgConnection::establish(&server_url)
                    .await
                    .expect("TEST_DATABASE_URL is reachable");
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await
                    .expect("the test database is created");
                let mut url = url::Url::parse(&server_url).expect("TEST_DATABASE_URL is a URL");
                url.set_path(&format!("/{name}"));
                TestDatabase {
                    url: url.to_string(),
                    workdir,
                    postgres: Some((server_url, name)),
                }
            }
            _ => TestDatabase {
                url: format!("sqlite://{}/palaver.db", workdir.path().display()),
                workdir,
                postgres: None,
            },
        }
    }
}

impl TestDatabase {
    /// Makes the database unreachable under a running server: on PostgreSQL the database
    /// is dropped (its connections cut), on SQLite its directory is removed, so no new
    /// connection can open it.
    pub async fn take_away(&self) {
        match &self.postgres {
            Some((server_url, name)) => {
                let mut conn = AsyncPgConnection::establish(server_url)
                    .await
                    .expect("TEST_DATABASE_URL is reachable");
                diesel::sql_query(format!("DROP DATABASE {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await
                    .expect("the test database is dropped");
            }
            None => std::fs::remove_dir_all(self.workdir.path())
                .expect("the database directory is removed"),
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((server_url, name)) = self.postgres.take() else {
            return;
        };
        // Drop runs inside the test's runtime, so the cleanup gets a runtime of its own.
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let mut conn = AsyncPgConnection::establish(&server_url).await.ok()?;
                diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await
                    .ok()
            })
        });
        let _ = cleanup.join();
    }
}
