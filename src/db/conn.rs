//! A checked-out connection and the deadline its work must meet: [`with_conn!`] runs a
//! query on whichever backend the [`Conn`] holds, within that deadline, and
//! [`Conn::settle`] turns the outcome into what the caller sees, marking a connection that
//! timed out or failed as unavailable to be thrown away rather than pooled again.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::pooled_connection::deadpool::Object;
use diesel_async::AsyncPgConnection;
use tokio::time::{error::Elapsed, Instant};

use super::{unavailable_cause, SqliteConn};

/// The error a call past its deadline ends with, of the kind [`DbError`] turns into
/// [`DbError::Unavailable`].
fn timed_out(timeout: Duration, doing: &str) -> DieselError {
    DieselError::DatabaseError(
        DatabaseErrorKind::ClosedConnection,
        Box::new(format!(
            "no answer within {} ms while {doing}",
            timeout.as_millis()
        )),
    )
}

/// A pooled connection of either backend (boxed: the two differ a lot in size); reached
/// through [`Conn::pooled`] by [`with_conn!`].
pub enum Pooled {
    /// A PostgreSQL connection.
    Postgres(Box<Object<AsyncPgConnection>>),
    /// A SQLite connection.
    Sqlite(Box<Object<SqliteConn>>),
}

/// One checked-out connection of the live backend, with the deadline its work must meet;
/// one that failed as unavailable is thrown away when dropped instead of pooled again.
pub struct Conn {
    /// Always `Some` until the drop that may take it out of the pool.
    pooled: Option<Pooled>,
    /// When the call that checked this connection out runs out of time.
    deadline: Instant,
    /// `DATABASE_TIMEOUT_MS`, for the message of a call past its deadline.
    timeout: Duration,
    /// Set for a connection that writes: where a failed write is remembered.
    writes_failing: Option<Arc<AtomicBool>>,
    /// The connection timed out or failed as unavailable: never hand it out again.
    discard: bool,
}

impl Conn {
    /// A checked-out connection whose work must be done by `deadline`.
    pub(super) fn new(
        pooled: Pooled,
        deadline: Instant,
        timeout: Duration,
        writes_failing: Option<Arc<AtomicBool>>,
    ) -> Conn {
        Conn {
            pooled: Some(pooled),
            deadline,
            timeout,
            writes_failing,
            discard: false,
        }
    }

    /// The connection itself, for [`with_conn!`].
    pub fn pooled(&mut self) -> &mut Pooled {
        self.pooled
            .as_mut()
            .expect("a Conn holds its connection until it is dropped")
    }

    /// When the work on this connection must be done, for [`with_conn!`].
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Ends the work of [`with_conn!`]: past the deadline it becomes an unavailable error,
    /// and a connection that timed out or failed as unavailable is marked for discarding.
    /// A write's outcome also tells the [`Db`] whether writes work.
    pub fn settle<T>(
        &mut self,
        outcome: Result<Result<T, DieselError>, Elapsed>,
    ) -> Result<T, DieselError> {
        let result = outcome.unwrap_or_else(|_| Err(timed_out(self.timeout, "running a query")));
        let unavailable = matches!(&result, Err(e) if unavailable_cause(e).is_some());
        if unavailable {
            self.discard = true;
        }
        if let Some(flag) = &self.writes_failing {
            match &result {
                Ok(_) => clear(flag),
                Err(_) if unavailable => flag.store(true, Ordering::Relaxed),
                Err(_) => {}
            }
        }
        result
    }
}

/// Clears a failure flag, reading first so the common case writes no shared cache line.
fn clear(flag: &AtomicBool) {
    if flag.load(Ordering::Relaxed) {
        flag.store(false, Ordering::Relaxed);
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        if !self.discard {
            return;
        }
        // `Object::take` removes the connection from the pool; dropping it closes it.
        match self.pooled.take() {
            Some(Pooled::Postgres(object)) => drop(Object::take(*object)),
            Some(Pooled::Sqlite(object)) => drop(Object::take(*object)),
            None => {}
        }
    }
}

/// Runs the same query code on whichever backend `$conn` holds, within the connection's
/// deadline: `$c` is a `&mut` connection of the concrete type in each arm, and the body
/// evaluates to a `Result<_, diesel::result::Error>`. The second form gives each backend
/// its own body.
#[macro_export]
macro_rules! with_conn {
    ($conn:expr, |$c:ident| $body:expr) => {
        $crate::with_conn!($conn, postgres: |$c| $body, sqlite: |$c| $body)
    };
    ($conn:expr, postgres: |$pg:ident| $pg_body:expr, sqlite: |$lite:ident| $lite_body:expr) => {{
        let conn: &mut $crate::db::Conn = &mut $conn;
        let deadline = conn.deadline();
        let outcome = match conn.pooled() {
            $crate::db::Pooled::Postgres(object) => {
                let $pg: &mut diesel_async::AsyncPgConnection = &mut **object;
                $crate::db::within(deadline, async { $pg_body }).await
            }
            $crate::db::Pooled::Sqlite(object) => {
                let $lite: &mut $crate::db::SqliteConn = &mut **object;
                $crate::db::within(deadline, async { $lite_body }).await
            }
        };
        conn.settle(outcome)
    }};
}

/// Runs `work` until `deadline`, for [`with_conn!`].
pub async fn within<F: std::future::Future>(
    deadline: Instant,
    work: F,
) -> Result<F::Output, Elapsed> {
    tokio::time::timeout_at(deadline, work).await
}
