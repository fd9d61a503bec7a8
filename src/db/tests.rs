//! The mapping of storage failures, on a real SQLite file: a database that cannot take a
//! write is unavailable (503), not a broken query (500).

use diesel::connection::SimpleConnection;
use diesel::{Connection, SqliteConnection};

use super::DbError;

/// A SQLite file whose connection may hold only a few pages, so a write soon fails with
/// `SQLITE_FULL` exactly as on a full disk.
fn nearly_full_database(dir: &tempfile::TempDir) -> SqliteConnection {
    let path = dir.path().join("full.db");
    let mut conn = SqliteConnection::establish(&path.display().to_string())
        .expect("a SQLite file in a temporary directory opens");
    conn.batch_execute("CREATE TABLE filler (data BLOB NOT NULL); PRAGMA max_page_count = 8;")
        .expect("the filler table is created");
    conn
}

#[test]
fn a_full_database_is_unavailable_not_an_internal_error() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut conn = nearly_full_database(&dir);

    let failure = (0..64)
        .find_map(|_| {
            conn.batch_execute("INSERT INTO filler (data) VALUES (zeroblob(4096))")
                .err()
        })
        .expect("a database of 8 pages fills up");

    assert!(
        failure.to_string().contains("database or disk is full"),
        "SQLITE_FULL: {failure}"
    );
    assert!(
        matches!(DbError::from(failure), DbError::Unavailable(_)),
        "a full database is unavailable"
    );
}

#[test]
fn a_read_only_database_is_unavailable_not_an_internal_error() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    drop(nearly_full_database(&dir));
    let mut conn = SqliteConnection::establish(&format!(
        "file:{}?mode=ro",
        dir.path().join("full.db").display()
    ))
    .expect("the file opens read-only");

    let failure = conn
        .batch_execute("INSERT INTO filler (data) VALUES (x'00')")
        .expect_err("a read-only database refuses a write");

    assert!(
        matches!(DbError::from(failure), DbError::Unavailable(_)),
        "a read-only database is unavailable"
    );
}

#[test]
fn a_broken_query_stays_an_internal_error() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut conn = nearly_full_database(&dir);

    let failure = conn
        .batch_execute("INSERT INTO no_such_table VALUES (1)")
        .expect_err("an unknown table is refused");

    assert!(matches!(DbError::from(failure), DbError::Query(_)));
}
