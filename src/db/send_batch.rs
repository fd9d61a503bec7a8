//! Many sends in one transaction: the storage half of group commit. The writer in
//! `service/writer.rs` hands over every send waiting at that moment;
//! they are checked, numbered and inserted together and committed once, so a burst of
//! messages costs one commit (one fsync on PostgreSQL, or on SQLite with
//! `SQLITE_SYNCHRONOUS=full`) instead of one each.
//!
//! The transaction runs a fixed handful of statements whatever the batch holds:
//!
//! 1. the senders' memberships of the conversations named, and the messages already
//!    stored under the `client_msg_id`s named (two set queries);
//! 2. [`plan`], plain code, decides each send in arrival order: a repeat of a stored
//!    message, a repeat of an earlier send of the same batch, not a member, or the next
//!    new message of its conversation;
//! 3. one `UPDATE … SET last_seq = last_seq + n` per conversation, in conversation id
//!    order, which takes the numbers and locks the rows: two nodes batching at once lock
//!    in the same order and cannot deadlock;
//! 4. one multi-row `INSERT … RETURNING` of the new messages.
//!
//! A message is therefore numbered in arrival order within its conversation, with no gap,
//! and membership is read in the same transaction that stores it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use diesel::prelude::*;
use diesel_async::AsyncConnection;

use super::models::{now, Message};
use super::schema::{conversation_members, conversations, messages};
use super::{Db, DbError};
use crate::with_conn;

/// The most sends one transaction takes; the rest wait for the next. Bounds the statement
/// size (six bound values per row, far below SQLite's limit of 32,766).
pub const MAX_BATCH: usize = 256;

/// One send, checked already for its content and `client_msg_id` format.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// Where it goes.
    pub conversation_id: i64,
    /// The proven sender.
    pub sender_id: i64,
    /// The text.
    pub content: String,
    /// The sender's own id for it, which makes a retry harmless.
    pub client_msg_id: Option<String>,
}

/// What became of a send.
#[derive(Debug, Clone)]
pub enum Sent {
    /// Stored now.
    Created(Message),
    /// The sender already sent this `client_msg_id` (before, or earlier in the same
    /// batch): the first message, unchanged.
    Existing(Message),
    /// The sender is not a member of the conversation (or it does not exist).
    NotMember,
}

/// What [`plan`] decided for one send, before the numbers are known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// A new message: the `nth` (from 1) new one of its conversation in this batch.
    New { nth: i64 },
    /// The sender stored this `client_msg_id` before this batch.
    Stored,
    /// Repeats the send at this index of the same batch.
    RepeatOf(usize),
    /// The sender is not a member.
    NotMember,
}

/// Decides each send in arrival order. A repeated `client_msg_id` is answered with its
/// first message even when the sender has since left, so a retry after leaving still
/// learns what became of its message. Returns the steps and how many new messages each
/// conversation gets, in conversation id order (the order its rows are locked in).
fn plan(
    batch: &[Outgoing],
    is_member: impl Fn(i64, i64) -> bool,
    was_stored: impl Fn(i64, &str) -> bool,
) -> (Vec<Step>, BTreeMap<i64, i64>) {
    let mut new_per_conversation = BTreeMap::new();
    let mut first_in_batch: HashMap<(i64, &str), usize> = HashMap::new();
    let steps = batch
        .iter()
        .enumerate()
        .map(|(index, send)| {
            if let Some(cmid) = send.client_msg_id.as_deref() {
                if was_stored(send.sender_id, cmid) {
                    return Step::Stored;
                }
                if let Some(&first) = first_in_batch.get(&(send.sender_id, cmid)) {
                    return Step::RepeatOf(first);
                }
            }
            if !is_member(send.conversation_id, send.sender_id) {
                return Step::NotMember;
            }
            if let Some(cmid) = send.client_msg_id.as_deref() {
                first_in_batch.insert((send.sender_id, cmid), index);
            }
            let count = new_per_conversation
                .entry(send.conversation_id)
                .or_insert(0);
            *count += 1;
            Step::New { nth: *count }
        })
        .collect();
    (steps, new_per_conversation)
}

/// A message row to insert.
#[derive(Insertable)]
#[diesel(table_name = messages)]
struct NewMessageRow<'a> {
    conversation_id: i64,
    seq: i64,
    sender_id: i64,
    client_msg_id: Option<&'a str>,
    content: &'a str,
    created_at: chrono::NaiveDateTime,
}

/// The rows of the new messages, numbered from each conversation's `last_seq` before the
/// batch (`bases`).
fn new_rows<'a>(
    batch: &'a [Outgoing],
    steps: &[Step],
    bases: &HashMap<i64, i64>,
) -> Vec<NewMessageRow<'a>> {
    let created_at = now();
    batch
        .iter()
        .zip(steps)
        .filter_map(|(send, step)| match step {
            Step::New { nth } => Some(NewMessageRow {
                conversation_id: send.conversation_id,
                seq: bases[&send.conversation_id] + nth,
                sender_id: send.sender_id,
                client_msg_id: send.client_msg_id.as_deref(),
                content: &send.content,
                created_at,
            }),
            _ => None,
        })
        .collect()
}

/// The ids once each, for an `IN (…)` list.
fn distinct(ids: impl Iterator<Item = i64>) -> Vec<i64> {
    let mut ids: Vec<i64> = ids.collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// What the transaction read and wrote, to be matched back to the sends.
struct Outcome {
    steps: Vec<Step>,
    stored: Vec<Message>,
    inserted: Vec<Message>,
    bases: HashMap<i64, i64>,
}

impl Outcome {
    /// One answer per send, in the batch's order.
    fn answers(self, batch: &[Outgoing]) -> Vec<Sent> {
        let stored: HashMap<(i64, &str), &Message> = self
            .stored
            .iter()
            .filter_map(|m| Some(((m.sender_id, m.client_msg_id.as_deref()?), m)))
            .collect();
        let inserted: HashMap<(i64, i64), &Message> = self
            .inserted
            .iter()
            .map(|m| ((m.conversation_id, m.seq), m))
            .collect();
        let mut answers: Vec<Sent> = Vec::with_capacity(batch.len());
        for (send, step) in batch.iter().zip(&self.steps) {
            let answer = match *step {
                Step::New { nth } => {
                    let seq = self.bases[&send.conversation_id] + nth;
                    match inserted.get(&(send.conversation_id, seq)) {
                        Some(message) => Sent::Created((*message).clone()),
                        None => Sent::NotMember,
                    }
                }
                Step::Stored => match send
                    .client_msg_id
                    .as_deref()
                    .and_then(|cmid| stored.get(&(send.sender_id, cmid)))
                {
                    Some(message) => Sent::Existing((*message).clone()),
                    None => Sent::NotMember,
                },
                Step::RepeatOf(first) => match &answers[first] {
                    Sent::Created(message) | Sent::Existing(message) => {
                        Sent::Existing(message.clone())
                    }
                    Sent::NotMember => Sent::NotMember,
                },
                Step::NotMember => Sent::NotMember,
            };
            answers.push(answer);
        }
        answers
    }
}

/// The statements of one batch on either backend's connection: the same code runs
/// through [`with_conn!`]-style dispatch, awaiting on PostgreSQL and inside one blocking
/// call on SQLite.
macro_rules! store_in_transaction {
    ($c:expr, $batch:expr, $run:ident) => {{
        let batch: &[Outgoing] = $batch;
        let conversation_ids = distinct(batch.iter().map(|s| s.conversation_id));
        let sender_ids = distinct(batch.iter().map(|s| s.sender_id));
        let pairs: Vec<(i64, i64)> = $run!(
            load,
            conversation_members::table
                .filter(conversation_members::conversation_id.eq_any(&conversation_ids))
                .filter(conversation_members::user_id.eq_any(&sender_ids))
                .select((
                    conversation_members::conversation_id,
                    conversation_members::user_id,
                )),
            $c
        )?;
        let members: HashSet<(i64, i64)> = pairs.into_iter().collect();
        let cmids: Vec<&str> = batch
            .iter()
            .filter_map(|s| s.client_msg_id.as_deref())
            .collect();
        let stored: Vec<Message> = if cmids.is_empty() {
            Vec::new()
        } else {
            $run!(
                load,
                messages::table
                    .filter(messages::sender_id.eq_any(&sender_ids))
                    .filter(messages::client_msg_id.eq_any(&cmids))
                    .select(Message::as_select()),
                $c
            )?
        };
        let known: HashSet<(i64, &str)> = stored
            .iter()
            .filter_map(|m| Some((m.sender_id, m.client_msg_id.as_deref()?)))
            .collect();
        let (steps, new_per_conversation) = plan(
            batch,
            |conversation, sender| members.contains(&(conversation, sender)),
            |sender, cmid| known.contains(&(sender, cmid)),
        );
        let mut bases = HashMap::with_capacity(new_per_conversation.len());
        for (conversation_id, count) in new_per_conversation {
            let last: i64 = $run!(
                get_result,
                diesel::update(conversations::table.find(conversation_id))
                    .set(conversations::last_seq.eq(conversations::last_seq + count))
                    .returning(conversations::last_seq),
                $c
            )?;
            bases.insert(conversation_id, last - count);
        }
        let rows = new_rows(batch, &steps, &bases);
        let inserted: Vec<Message> = if rows.is_empty() {
            Vec::new()
        } else {
            $run!(
                get_results,
                diesel::insert_into(messages::table)
                    .values(&rows)
                    .returning(Message::as_returning()),
                $c
            )?
        };
        Ok::<Outcome, diesel::result::Error>(Outcome {
            steps,
            stored,
            inserted,
            bases,
        })
    }};
}

/// Awaits an async diesel query.
macro_rules! awaited {
    ($method:ident, $query:expr, $c:expr) => {
        diesel_async::RunQueryDsl::$method($query, $c).await
    };
}

/// Runs a diesel query on a synchronous connection.
macro_rules! blocking {
    ($method:ident, $query:expr, $c:expr) => {
        diesel::RunQueryDsl::$method($query, $c)
    };
}

/// Stores the batch in one transaction and answers each send in the batch's order. Every
/// send of the batch fails together when the transaction does.
pub async fn store(db: &Db, batch: Arc<[Outgoing]>) -> Result<Vec<Sent>, DbError> {
    let mut conn = db.write().await?;
    let outcome = with_conn!(
        conn,
        postgres: |c| {
            c.transaction(async |c| store_in_transaction!(c, &batch, awaited))
                .await
        },
        // One trip to the blocking pool for the whole transaction, which takes the write
        // lock up front (BEGIN IMMEDIATE): SQLite's single writer is the bottleneck.
        sqlite: |c| {
            let batch = Arc::clone(&batch);
            c.spawn_blocking(move |c| {
                c.immediate_transaction(|c| store_in_transaction!(c, &batch, blocking))
            })
            .await
        }
    )?;
    Ok(outcome.answers(&batch))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn send(conversation_id: i64, sender_id: i64, cmid: Option<&str>) -> Outgoing {
        Outgoing {
            conversation_id,
            sender_id,
            content: "hello".into(),
            client_msg_id: cmid.map(str::to_string),
        }
    }

    #[test]
    fn new_messages_are_numbered_in_arrival_order_per_conversation() {
        let batch = [send(2, 1, None), send(1, 1, None), send(2, 3, None)];
        let (steps, counts) = plan(&batch, |_, _| true, |_, _| false);
        assert_eq!(
            steps,
            [
                Step::New { nth: 1 },
                Step::New { nth: 1 },
                Step::New { nth: 2 }
            ]
        );
        assert_eq!(counts.into_iter().collect::<Vec<_>>(), [(1, 1), (2, 2)]);
    }

    #[test]
    fn a_repeat_inside_the_batch_points_at_its_first_send() {
        let batch = [
            send(1, 7, Some("a")),
            send(1, 7, Some("a")),
            send(1, 8, Some("a")),
        ];
        let (steps, counts) = plan(&batch, |_, _| true, |_, _| false);
        assert_eq!(
            steps,
            [
                Step::New { nth: 1 },
                Step::RepeatOf(0),
                Step::New { nth: 2 }
            ]
        );
        assert_eq!(counts[&1], 2);
    }

    #[test]
    fn a_stored_client_msg_id_wins_even_after_the_sender_left() {
        let batch = [send(1, 7, Some("old")), send(1, 7, Some("new"))];
        let (steps, counts) = plan(&batch, |_, _| false, |_, cmid| cmid == "old");
        assert_eq!(steps, [Step::Stored, Step::NotMember]);
        assert!(counts.is_empty());
    }

    #[test]
    fn a_refused_send_does_not_make_its_repeat_a_repeat() {
        let batch = [send(1, 7, Some("a")), send(2, 7, Some("a"))];
        let (steps, _) = plan(&batch, |conversation, _| conversation == 2, |_, _| false);
        assert_eq!(steps, [Step::NotMember, Step::New { nth: 1 }]);
    }

    #[test]
    fn conversations_are_locked_in_id_order() {
        let batch = [send(9, 1, None), send(3, 1, None), send(5, 1, None)];
        let (_, counts) = plan(&batch, |_, _| true, |_, _| false);
        assert_eq!(counts.keys().copied().collect::<Vec<_>>(), [3, 5, 9]);
    }
}
