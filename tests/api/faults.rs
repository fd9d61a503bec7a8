//! Holding under failing parts, with real parts: a PostgreSQL of the test's own behind a
//! proxy that freezes, the built binary killed with SIGKILL mid-stream, and a SQLite file
//! that cannot be written. Every database call is bounded by `DATABASE_TIMEOUT_MS`, a
//! failing database is `503` (never a hang or a 500), and the server recovers by itself.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::*;

/// `DATABASE_TIMEOUT_MS` of the servers here.
const TIMEOUT_MS: u64 = 1000;

/// How long past `DATABASE_TIMEOUT_MS` an answer may take.
const SLACK: Duration = Duration::from_secs(1);

/// The longest an answer may take while the database does not answer.
fn bound() -> Duration {
    Duration::from_millis(TIMEOUT_MS) + SLACK
}

/// A server on a PostgreSQL of the test's own, reached through a proxy; alice owns a
/// conversation on it. The cluster and proxy must outlive the server's use of them.
async fn app_behind_a_proxy() -> (PostgresCluster, Proxy, TestApp, TestUser, i64) {
    let cluster = PostgresCluster::start();
    let proxy = Proxy::start(cluster.port);
    let url = cluster.url_via(proxy.port);
    let timeout = TIMEOUT_MS.to_string();
    let app = spawn_app_with(&[
        ("DATABASE_URL", url.as_str()),
        ("DATABASE_TIMEOUT_MS", timeout.as_str()),
    ])
    .await;
    let alice = app.signup("alice").await;
    let conversation = app.new_conversation(&alice, &[]).await;
    (cluster, proxy, app, alice, conversation)
}

/// Runs `request` and returns its status with how long it took.
async fn timed<F: std::future::Future<Output = u16>>(request: F) -> (u16, Duration) {
    let started = Instant::now();
    let status = request.await;
    (status, started.elapsed())
}

/// Polls `GET /health/ready` until it answers 200, for at most `within`; how long it took.
async fn ready_again(app: &TestApp, within: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let status = app.get("/health/ready", Auth::None).await.status.as_u16();
        if status == 200 {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < within,
            "readiness is still {status} after {within:?}"
        );
        actix_rt::time::sleep(Duration::from_millis(50)).await;
    }
}

fn message_body(conversation: i64, content: &str) -> Value {
    json!({"conversation_id": conversation, "content": content, "client_msg_id": content})
}

#[actix_rt::test]
#[ignore = "needs PostgreSQL binaries (initdb): run with --include-ignored"]
async fn a_frozen_database_is_503_within_the_timeout_while_live_stays_200() {
    let (_cluster, proxy, app, alice, conversation) = app_behind_a_proxy().await;

    proxy.freeze();
    let ready = timed(async { app.get("/health/ready", Auth::None).await.status.as_u16() }).await;
    let me = timed(async { app.me(&alice).await.status.as_u16() }).await;
    let send = timed(async {
        let body = message_body(conversation, "while frozen");
        app.post_message(&alice, &body).await.status.as_u16()
    })
    .await;
    let handshake = timed(async {
        let head = upgrade_request("/ws", &bearer(&alice.token));
        app.raw_request(&head).await.status
    })
    .await;
    let live = timed(async { app.get("/health/live", Auth::None).await.status.as_u16() }).await;

    eprintln!(
        "frozen database: ready {ready:?}, me {me:?}, send {send:?}, handshake {handshake:?}, live {live:?}"
    );
    for (what, (status, took)) in [
        ("ready", ready),
        ("me", me),
        ("send", send),
        ("/ws", handshake),
    ] {
        assert_eq!(
            status, 503,
            "{what} answers 503 while the database is frozen"
        );
        assert!(
            took < bound(),
            "{what} answered after {took:?}, past {:?}",
            bound()
        );
    }
    assert_eq!(live.0, 200, "/health/live stays 200");
    assert!(live.1 < SLACK, "/health/live answered after {:?}", live.1);
}

#[actix_rt::test]
#[ignore = "needs PostgreSQL binaries (initdb): run with --include-ignored"]
async fn after_a_thaw_everything_works_again_without_a_restart() {
    let (_cluster, proxy, app, alice, conversation) = app_behind_a_proxy().await;
    proxy.freeze();
    app.get("/health/ready", Auth::None)
        .await
        .assert_status(503);
    app.post_message(&alice, &message_body(conversation, "lost in the freeze"))
        .await
        .assert_error(503, "unavailable");

    proxy.thaw();
    let recovered = ready_again(&app, Duration::from_secs(15)).await;

    eprintln!("ready again {recovered:?} after the thaw");
    app.me(&alice).await.assert_status(200);
    app.post_message(&alice, &message_body(conversation, "after the thaw"))
        .await
        .assert_status(201);
    let head = upgrade_request("/ws", &bearer(&alice.token));
    assert_eq!(
        app.raw_request(&head).await.status,
        101,
        "the handshake switches"
    );
}

/// What one sender saw: the messages acknowledged, by `client_msg_id`, and the one it was
/// sending when the server died, if any.
#[derive(Default)]
struct SenderLog {
    acked: HashMap<String, i64>,
    unacked: Vec<String>,
}

/// A child server on SQLite killed with SIGKILL while sixteen senders stream numbered
/// messages, then started again on the same file; the senders' logs, alice's token and the
/// conversation.
async fn killed_mid_stream(dir: &std::path::Path) -> (ChildServer, Vec<SenderLog>, String, i64) {
    const SENDERS: usize = 16;
    const ACKS_BEFORE_THE_KILL: usize = 60;
    let mut server = ChildServer::start(dir, &[]).await;
    let token = server.signup("alice").await;
    let conversation = server.new_conversation(&token, "stream").await;

    let acks = Arc::new(tokio::sync::Semaphore::new(0));
    let address = server.address.clone();
    let senders: Vec<_> = (0..SENDERS)
        .map(|sender| {
            let (address, token, acks) = (address.clone(), token.clone(), Arc::clone(&acks));
            actix_rt::spawn(async move {
                let client = awc::Client::builder()
                    .timeout(Duration::from_secs(10))
                    .finish();
                let mut log = SenderLog::default();
                for n in 1.. {
                    let cmid = format!("s{sender}-{n}");
                    let sent = client
                        .post(format!("{address}/api/messages"))
                        .bearer_auth(&token)
                        .send_json(&message_body(conversation, &cmid))
                        .await;
                    let id = match sent {
                        Ok(mut response) if response.status().as_u16() == 201 => response
                            .json::<Value>()
                            .await
                            .ok()
                            .and_then(|body| body["message"]["id"].as_i64()),
                        _ => None,
                    };
                    match id {
                        Some(id) => {
                            log.acked.insert(cmid, id);
                            acks.add_permits(1);
                        }
                        None => {
                            log.unacked.push(cmid);
                            break;
                        }
                    }
                }
                log
            })
        })
        .collect();

    let enough = acks.acquire_many(ACKS_BEFORE_THE_KILL as u32);
    actix_rt::time::timeout(Duration::from_secs(60), enough)
        .await
        .expect("the senders get acknowledgements before the kill")
        .expect("the semaphore stays open")
        .forget();
    server.kill();
    let mut logs = Vec::new();
    for sender in senders {
        logs.push(sender.await.expect("a sender ends once the server is gone"));
    }
    let server = ChildServer::start(dir, &[]).await;
    (server, logs, token, conversation)
}

/// Every message of the conversation, ascending by id, paged through `after`.
async fn all_messages(server: &ChildServer, token: &str, conversation: i64) -> Vec<Value> {
    let mut messages: Vec<Value> = Vec::new();
    loop {
        let after = messages
            .last()
            .map_or(String::new(), |m| format!("&after={}", m["id"]));
        let path = format!("/api/messages?conversation_id={conversation}&limit=200{after}");
        let (status, body) = server
            .get(&path, Some(token))
            .await
            .expect("history answers");
        assert_eq!(status.as_u16(), 200, "{body}");
        let page = body["messages"].as_array().expect("messages").clone();
        let has_more = body["has_more"].as_bool().expect("has_more");
        messages.extend(page);
        if !has_more {
            return messages;
        }
    }
}

/// How many stored messages carry each `client_msg_id`, after asserting `seq` runs
/// 1, 2, 3, … in id order with no gap.
fn count_by_client_id(messages: &[Value]) -> HashMap<String, usize> {
    let seqs: Vec<i64> = messages
        .iter()
        .map(|m| m["seq"].as_i64().expect("seq"))
        .collect();
    let expected: Vec<i64> = (1..=messages.len() as i64).collect();
    assert_eq!(seqs, expected, "seq is contiguous from 1");
    let mut counts = HashMap::new();
    for message in messages {
        let cmid = message["client_msg_id"].as_str().expect("client_msg_id");
        *counts.entry(cmid.to_string()).or_insert(0) += 1;
    }
    counts
}

#[actix_rt::test]
async fn every_acknowledged_message_survives_a_kill_9_once_with_contiguous_seq() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (server, logs, token, conversation) = killed_mid_stream(dir.path()).await;

    let stored = all_messages(&server, &token, conversation).await;

    let counts = count_by_client_id(&stored);
    let acked: HashMap<&String, &i64> = logs.iter().flat_map(|log| &log.acked).collect();
    eprintln!(
        "kill -9: {} acknowledged, {} stored",
        acked.len(),
        stored.len()
    );
    for (cmid, id) in &acked {
        assert_eq!(counts.get(*cmid), Some(&1), "{cmid} is stored exactly once");
        let message = stored
            .iter()
            .find(|m| m["client_msg_id"] == cmid.as_str())
            .expect("the acknowledged message is stored");
        assert_eq!(
            message["id"], **id,
            "{cmid} keeps the id it was acknowledged with"
        );
    }
}

#[actix_rt::test]
async fn resending_the_unacknowledged_after_a_kill_9_creates_nothing_twice() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (server, logs, token, conversation) = killed_mid_stream(dir.path()).await;
    let unacked: Vec<&String> = logs.iter().flat_map(|log| &log.unacked).collect();
    assert!(!unacked.is_empty(), "the kill left sends unacknowledged");

    for cmid in &unacked {
        for _ in 0..2 {
            let (status, body) = server
                .post(
                    "/api/messages",
                    Some(&token),
                    &message_body(conversation, cmid),
                )
                .await
                .expect("the restarted server answers");
            assert!(
                matches!(status.as_u16(), 200 | 201),
                "a resend of {cmid} is stored or found: {status} {body}"
            );
        }
    }
    let stored = all_messages(&server, &token, conversation).await;

    let counts = count_by_client_id(&stored);
    let acked: usize = logs.iter().map(|log| log.acked.len()).sum();
    assert_eq!(
        stored.len(),
        acked + unacked.len(),
        "acknowledged plus resent"
    );
    assert!(counts.values().all(|&n| n == 1), "no client_msg_id twice");
}

/// Sets the soft file-size limit of process `pid` (`unlimited` or bytes), the hard one
/// staying unlimited: past it every write of that process to a file fails.
fn limit_file_size(pid: u32, soft: &str) {
    let output = std::process::Command::new("prlimit")
        .arg(format!("--pid={pid}"))
        .arg(format!("--fsize={soft}:unlimited"))
        .output()
        .expect("prlimit runs");
    assert!(
        output.status.success(),
        "prlimit failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[actix_rt::test]
async fn a_write_the_disk_refuses_is_503_and_readiness_follows_it_back() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let timeout = TIMEOUT_MS.to_string();
    let server = ChildServer::start(dir.path(), &[("DATABASE_TIMEOUT_MS", timeout.as_str())]).await;
    let token = server.signup("alice").await;
    let conversation = server.new_conversation(&token, "disk").await;

    // One byte: no write of the server to any file succeeds, as on a full disk.
    limit_file_size(server.pid(), "1");
    let (send_status, send_body) = server
        .post(
            "/api/messages",
            Some(&token),
            &message_body(conversation, "refused"),
        )
        .await
        .expect("the server answers");
    let (ready_status, ready_body) = server
        .get("/health/ready", None)
        .await
        .expect("ready answers");
    let (live_status, _) = server
        .get("/health/live", None)
        .await
        .expect("live answers");

    assert_eq!(send_status.as_u16(), 503, "{send_body}");
    assert_eq!(send_body["error"]["code"], "unavailable");
    assert_eq!(ready_status.as_u16(), 503, "{ready_body}");
    assert_eq!(ready_body["database"], "unavailable");
    assert_eq!(live_status.as_u16(), 200);

    limit_file_size(server.pid(), "unlimited");
    let recovered = server
        .wait_for_status("/health/ready", 200, Duration::from_secs(15))
        .await;
    eprintln!("writable again: ready {recovered:?} after the limit was lifted");
    let (status, body) = server
        .post(
            "/api/messages",
            Some(&token),
            &message_body(conversation, "accepted"),
        )
        .await
        .expect("the server answers");
    assert_eq!(status.as_u16(), 201, "{body}");
}
