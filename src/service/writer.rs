//! Group commit: one task stores every message. Whoever sends (an HTTP request or a
//! socket) queues its checked send and waits; the task takes everything waiting at that
//! moment, stores it in one transaction ([`db::send_batch`]), and only after the commit
//! publishes the new messages and answers each sender, in commit order. Under load the
//! batches grow by themselves, so the cost of a commit is shared by every message that
//! arrived while the previous one ran; a lone message is stored at once.
//!
//! On SQLite one task writes (SQLite has one writer). On PostgreSQL a few tasks take
//! batches from the same queue, so one batch's commit (its fsync) overlaps the next
//! batch's statements; two batches touching one conversation serialise on its row lock,
//! and the chat server delivers each conversation in `seq` order whichever publishes
//! first (`chat::ordering`).

use std::sync::Arc;
use std::time::Instant;

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use tokio::sync::{mpsc, oneshot, Mutex};

use crate::db::send_batch::{self, Outgoing, Sent, MAX_BATCH};
use crate::db::{Db, DbError};
use crate::live::{Live, LiveEvent, Origin};
use crate::metrics::Metrics;

/// How many sends may wait for the writer; a sender past that waits for room, which
/// slows the senders instead of growing memory.
const QUEUE: usize = 4 * MAX_BATCH;

/// What a send waits for: the stored outcome, or why nothing is known of it.
pub(super) type Answer = Result<Sent, DbError>;

/// One send waiting for the writer.
struct Job {
    send: Outgoing,
    waiter: Waiter,
}

/// Who waits for a send, and what publishing it needs besides the row.
struct Waiter {
    /// Where a socket's message came from, for the ack and the echo rules.
    origin: Option<Origin>,
    /// When it was queued, for the persist-latency histogram.
    queued: Instant,
    /// Where the answer goes; closed when the sender gave up waiting.
    reply: oneshot::Sender<Answer>,
}

/// The handle senders queue on; the task ends when the last handle is dropped.
pub(super) struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer tasks ([`Db::concurrent_writers`]) on the current tokio runtime.
    pub(super) fn start(db: Db, live: Live, metrics: Arc<Metrics>) -> Writer {
        let (jobs, queue) = mpsc::channel(QUEUE);
        let queue = Arc::new(Mutex::new(queue));
        for _ in 0..db.concurrent_writers() {
            tokio::spawn(run(
                db.clone(),
                live.clone(),
                Arc::clone(&metrics),
                Arc::clone(&queue),
            ));
        }
        Writer { jobs }
    }

    /// Queues `send` and waits for its outcome. A send that is not answered within
    /// `DATABASE_TIMEOUT_MS` is reported unavailable: it may still be committed, which a
    /// retry with the same `client_msg_id` finds out harmlessly.
    pub(super) async fn send(&self, db: &Db, send: Outgoing, origin: Option<Origin>) -> Answer {
        let unavailable = || DbError::Unavailable("the message writer has stopped".into());
        let (reply, answer) = oneshot::channel();
        let job = Job {
            send,
            waiter: Waiter {
                origin,
                queued: Instant::now(),
                reply,
            },
        };
        let waited = tokio::time::timeout(db.timeout(), async {
            self.jobs.send(job).await.map_err(|_| unavailable())?;
            answer.await.map_err(|_| unavailable())?
        })
        .await;
        waited.unwrap_or_else(|_| {
            Err(DbError::Unavailable(format!(
                "no answer within {} ms while storing a message",
                db.timeout().as_millis()
            )))
        })
    }
}

/// A writer task: a batch of whatever waits, stored, published and answered, again. The
/// queue is held only while taking a batch, so another writer can take the next one.
async fn run(db: Db, live: Live, metrics: Arc<Metrics>, queue: Arc<Mutex<mpsc::Receiver<Job>>>) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    loop {
        let taken = queue.lock().await.recv_many(&mut jobs, MAX_BATCH).await;
        if taken == 0 {
            return;
        }
        // A sender that gave up was told the database is unavailable: leave its message
        // unstored rather than store what it believes failed.
        jobs.retain(|job| !job.waiter.reply.is_closed());
        if !jobs.is_empty() {
            commit(&db, &live, &metrics, std::mem::take(&mut jobs)).await;
        }
    }
}

/// How many times a lone send is tried when a concurrent transaction keeps committing the
/// same `client_msg_id` first; the second try normally finds the committed copy.
const RACE_RETRIES: usize = 3;

/// Stores one batch and answers it. When the batch fails for a reason other than an
/// unavailable database, each send is tried alone: a `client_msg_id` that a concurrent
/// transaction (another writer, another node) committed first is then found as a repeat,
/// and one send that cannot be stored fails without the others.
async fn commit(db: &Db, live: &Live, metrics: &Metrics, jobs: Vec<Job>) {
    let (sends, waiters): (Vec<Outgoing>, Vec<Waiter>) =
        jobs.into_iter().map(|job| (job.send, job.waiter)).unzip();
    let sends: Arc<[Outgoing]> = sends.into();
    match send_batch::store(db, Arc::clone(&sends)).await {
        Ok(answers) => {
            for (waiter, answer) in waiters.into_iter().zip(answers) {
                finish(live, metrics, waiter, Ok(answer));
            }
        }
        Err(DbError::Unavailable(cause)) => {
            for waiter in waiters {
                let _ = waiter.reply.send(Err(DbError::Unavailable(cause.clone())));
            }
        }
        Err(DbError::Query(cause)) => {
            log::debug!(
                "a batch of {} messages failed ({cause}); storing each alone",
                sends.len()
            );
            for (send, waiter) in sends.iter().zip(waiters) {
                let answer = store_alone(db, send).await;
                finish(live, metrics, waiter, answer);
            }
        }
    }
}

/// One send in a transaction of its own, tried again while a concurrent transaction's
/// copy of its `client_msg_id` wins the unique constraint.
async fn store_alone(db: &Db, send: &Outgoing) -> Answer {
    let mut tries = 0;
    loop {
        tries += 1;
        let stored = send_batch::store(db, Arc::from([send.clone()]))
            .await
            .map(|answers| answers.into_iter().next().unwrap_or(Sent::NotMember));
        match stored {
            Err(DbError::Query(DieselError::DatabaseError(
                DatabaseErrorKind::UniqueViolation,
                _,
            ))) if tries < RACE_RETRIES => {}
            answer => return answer,
        }
    }
}

/// Publishes a new message, then answers its sender: a socket's ack never overtakes the
/// broadcast of the message it acknowledges.
fn finish(live: &Live, metrics: &Metrics, waiter: Waiter, answer: Answer) {
    if let Ok(Sent::Created(message)) = &answer {
        metrics.message_persisted(waiter.queued.elapsed());
        live.publish(LiveEvent::MessageCreated {
            message: message.clone().into(),
            origin: waiter.origin,
        });
    }
    // The sender may have stopped waiting; what is stored stays stored.
    let _ = waiter.reply.send(answer);
}
