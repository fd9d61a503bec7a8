//! `broadcast` and `rooms`: messages at a paced rate, every delivery counted. Both are one
//! engine over a plan of rooms (a conversation and its sockets, some of which send): one
//! conversation with many members for `broadcast`, many small conversations for `rooms`.
//! Each socket is one task that reads all the time (so pings are answered and the
//! server's outbound queues drain) and, if it is a sender, writes on its own interval.
//! Senders are staggered over the period, so the total rate is even, not in bursts.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Args;
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use tokio::sync::{mpsc, watch, Semaphore};
use tokio::time::{Interval, MissedTickBehavior};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

use crate::api::{self, Target};
use crate::content::{self, Tag};
use crate::socket::{self, Incoming, Ws};
use crate::stats::Latency;
use crate::tally::{Seen, Stream};
use crate::Common;

/// The server's default `MAX_CONTENT_CHARS`.
const MAX_CONTENT_CHARS: usize = 4000;

/// Longest wait for one socket's `send` before the socket counts as disconnected.
const SEND_TIMEOUT: Duration = Duration::from_secs(5);

/// Flags both scenarios share.
#[derive(Args, Debug, Clone)]
pub struct TrafficArgs {
    /// Length of the sending window in seconds.
    #[arg(long, default_value_t = 10.0)]
    pub secs: f64,
    /// After the window, the longest wait for outstanding acks and deliveries.
    #[arg(long, default_value_t = 5.0)]
    pub drain_secs: f64,
    /// Pause between the last socket's ready and the first message, so the joins'
    /// presence frames are over before anything is timed.
    #[arg(long, default_value_t = 1.0)]
    pub settle_secs: f64,
    /// Handshakes in flight at once while opening.
    #[arg(long, default_value_t = 100)]
    pub concurrency: usize,
    /// Extra `x` characters appended to every message's content.
    #[arg(long, default_value_t = 0)]
    pub padding: usize,
    /// Longest wait for one socket's ready.
    #[arg(long, default_value_t = 30.0)]
    pub timeout_secs: f64,
    /// Read buffer per socket in bytes (tungstenite allocates it up front).
    #[arg(long, default_value_t = 16384)]
    pub read_buffer: usize,
}

/// Flags of `broadcast`.
#[derive(Args, Debug, Clone)]
pub struct BroadcastArgs {
    /// Sockets in the one conversation; socket j belongs to user j mod --users.
    #[arg(long, default_value_t = 1000)]
    pub members: usize,
    /// How many of those sockets send (sockets 0.., each of another user while
    /// --senders <= --users).
    #[arg(long, default_value_t = 10)]
    pub senders: usize,
    /// Messages per second, all senders together.
    #[arg(long, default_value_t = 1000.0)]
    pub rate: f64,
    /// Users to register; all are members of the conversation.
    #[arg(long, default_value_t = 100)]
    pub users: usize,
    #[command(flatten)]
    pub traffic: TrafficArgs,
}

/// Flags of `rooms`.
#[derive(Args, Debug, Clone)]
pub struct RoomsArgs {
    /// Conversations.
    #[arg(long, default_value_t = 500)]
    pub rooms: usize,
    /// Sockets per conversation, each of another user; every one of them sends.
    #[arg(long, default_value_t = 10)]
    pub members: usize,
    /// Messages per second of every socket.
    #[arg(long, default_value_t = 1.0)]
    pub rate: f64,
    /// Users to register, reused across rooms: socket k (room k / members) belongs to
    /// user k mod --users, so each user has rooms × members / users sockets.
    #[arg(long, default_value_t = 500)]
    pub users: usize,
    #[command(flatten)]
    pub traffic: TrafficArgs,
}

/// The JSON line of `broadcast` and `rooms`.
#[derive(Serialize, Debug)]
pub struct TrafficReport {
    scenario: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    rooms: Option<usize>,
    members: usize,
    senders: usize,
    rate: f64,
    secs: f64,
    sent: u64,
    acked: u64,
    expected_deliveries: u64,
    delivered: u64,
    deliveries_per_sec: f64,
    latency_p50_ms: f64,
    latency_p99_ms: f64,
    latency_max_ms: f64,
    lost: u64,
    duplicates: u64,
    out_of_order: u64,
    ack_p50_ms: f64,
    ack_p99_ms: f64,
    send_lag_p99_ms: f64,
    send_lag_max_ms: f64,
    errors: u64,
    disconnects: u64,
    foreign: u64,
    drain_ms: u64,
    users: usize,
}

/// One conversation of a plan.
struct Room {
    conversation: i64,
    /// Indices into the plan's sockets.
    sockets: Vec<usize>,
}

/// One socket of a plan.
struct Seat {
    user: usize,
    room: usize,
    /// Its run-wide sender index, if it sends.
    sender: Option<u32>,
}

/// Everything a run needs once users and conversations exist.
struct Plan {
    rooms: Vec<Room>,
    seats: Vec<Seat>,
    senders: u32,
    /// Messages per second of each sender.
    rate_per_sender: f64,
}

/// Runs `broadcast`.
pub async fn broadcast(
    target: Arc<Target>,
    common: &Common,
    args: BroadcastArgs,
) -> Result<TrafficReport> {
    if args.members < 2 || args.users == 0 || args.users > args.members {
        bail!("--members must be at least 2 and --users between 1 and --members");
    }
    if args.senders == 0 || args.senders > args.members {
        bail!("--senders must be between 1 and --members");
    }
    if !args.rate.is_finite() || args.rate <= 0.0 {
        bail!("--rate must be positive");
    }
    eprintln!(
        "broadcast: {} sockets of {} users in one conversation, {} senders at {} msg/s in all",
        args.members, args.users, args.senders, args.rate
    );
    target.check_live().await?;
    let users = api::register_users(
        &target,
        &api::run_prefix('b'),
        args.users,
        common.register_concurrency,
    )
    .await?;
    let members: Vec<usize> = (0..args.users).collect();
    let conversations =
        api::create_conversations(&target, &users, &[members], common.register_concurrency).await?;
    let seats = (0..args.members)
        .map(|j| Seat {
            user: j % args.users,
            room: 0,
            sender: (j < args.senders).then_some(j as u32),
        })
        .collect();
    let plan = Plan {
        rooms: vec![Room {
            conversation: conversations[0],
            sockets: (0..args.members).collect(),
        }],
        seats,
        senders: args.senders as u32,
        rate_per_sender: args.rate / args.senders as f64,
    };
    let mut report = run(target, &users, plan, &args.traffic).await?;
    report.scenario = "broadcast";
    report.members = args.members;
    report.rate = args.rate;
    report.users = args.users;
    Ok(report)
}

/// Runs `rooms`.
pub async fn rooms(target: Arc<Target>, common: &Common, args: RoomsArgs) -> Result<TrafficReport> {
    if args.rooms == 0 || args.members < 2 {
        bail!("--rooms must be positive and --members at least 2");
    }
    if args.users < args.members {
        bail!(
            "--users must be at least --members: the sockets of a room belong to different users"
        );
    }
    if !args.rate.is_finite() || args.rate <= 0.0 {
        bail!("--rate must be positive");
    }
    let sockets = args.rooms * args.members;
    eprintln!(
        "rooms: {} conversations × {} sockets, {} users ({} sockets each at most), {} msg/s per socket",
        args.rooms,
        args.members,
        args.users,
        sockets.div_ceil(args.users),
        args.rate
    );
    target.check_live().await?;
    let users = api::register_users(
        &target,
        &api::run_prefix('r'),
        args.users,
        common.register_concurrency,
    )
    .await?;
    let members: Vec<Vec<usize>> = (0..args.rooms)
        .map(|r| {
            (0..args.members)
                .map(|m| (r * args.members + m) % args.users)
                .collect()
        })
        .collect();
    let conversations =
        api::create_conversations(&target, &users, &members, common.register_concurrency).await?;
    let seats = (0..sockets)
        .map(|k| Seat {
            user: k % args.users,
            room: k / args.members,
            sender: Some(k as u32),
        })
        .collect();
    let plan = Plan {
        rooms: conversations
            .iter()
            .enumerate()
            .map(|(r, &conversation)| Room {
                conversation,
                sockets: (r * args.members..(r + 1) * args.members).collect(),
            })
            .collect(),
        seats,
        senders: sockets as u32,
        rate_per_sender: args.rate,
    };
    let mut report = run(target, &users, plan, &args.traffic).await?;
    report.scenario = "rooms";
    report.rooms = Some(args.rooms);
    report.members = args.members;
    report.rate = args.rate;
    report.users = args.users;
    Ok(report)
}

/// Where a run is; every socket task watches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Sockets are being opened; they read and ignore.
    Opening,
    /// The run's clock started at this instant; senders start their intervals.
    Go(Instant),
    /// Reading is over.
    Stop,
}

/// Counters every socket adds to, for the drain's "is everything in?" and the progress
/// lines; the report itself is computed from the sockets' own counts.
#[derive(Default)]
struct Progress {
    sent: AtomicU64,
    acked: AtomicU64,
    expected: AtomicU64,
    delivered: AtomicU64,
    errors: AtomicU64,
}

/// What a socket task needs besides its seat.
struct Shared {
    target: Arc<Target>,
    config: WebSocketConfig,
    timeout: Duration,
    secs: Duration,
    period: Duration,
    /// Messages of one sender per window: `secs × rate_per_sender`.
    per_sender: f64,
    senders: u32,
    padding: usize,
    latency: Latency,
    ack_latency: Latency,
    /// How late each send left after its tick was due: the client's own lag.
    send_lag: Latency,
    progress: Progress,
}

/// One socket's job.
struct Job {
    conversation: i64,
    token: String,
    sender: Option<u32>,
    /// Sockets that receive each of this socket's messages.
    receivers: u64,
}

/// What one socket counted.
#[derive(Default)]
struct Outcome {
    /// Per sender index: the numbers that arrived here.
    streams: HashMap<u32, Stream>,
    /// This socket's own acknowledgements, if it sent.
    acks: Stream,
    sent: u64,
    /// First arrivals (duplicates excluded).
    delivered: u64,
    /// First arrivals inside the sending window.
    in_window: u64,
    /// Frames that were not this run's messages to this conversation.
    foreign: u64,
    errors: u64,
    disconnected: bool,
}

async fn run(
    target: Arc<Target>,
    users: &[api::User],
    plan: Plan,
    args: &TrafficArgs,
) -> Result<TrafficReport> {
    if !args.secs.is_finite() || args.secs <= 0.0 {
        bail!("--secs must be positive");
    }
    let longest = content::encode(
        Tag {
            sender: plan.senders,
            counter: u64::MAX,
            sent_us: u64::MAX,
        },
        args.padding,
    );
    if longest.len() > MAX_CONTENT_CHARS {
        bail!(
            "--padding {} makes content longer than {MAX_CONTENT_CHARS} characters",
            args.padding
        );
    }
    let shared = Arc::new(Shared {
        target,
        config: socket::config(args.read_buffer),
        timeout: Duration::from_secs_f64(args.timeout_secs),
        secs: Duration::from_secs_f64(args.secs),
        period: Duration::from_secs_f64(1.0 / plan.rate_per_sender),
        per_sender: args.secs * plan.rate_per_sender,
        senders: plan.senders,
        padding: args.padding,
        latency: Latency::new(),
        ack_latency: Latency::new(),
        send_lag: Latency::new(),
        progress: Progress::default(),
    });
    let (phase_tx, phase_rx) = watch::channel(Phase::Opening);
    let (ready_tx, mut ready_rx) = mpsc::unbounded_channel::<Result<(), String>>();
    let gate = Arc::new(Semaphore::new(args.concurrency.max(1)));
    let count = plan.seats.len();
    eprintln!("opening {count} sockets");
    let opening = Instant::now();
    let mut tasks = Vec::with_capacity(count);
    for seat in &plan.seats {
        let room = &plan.rooms[seat.room];
        let job = Job {
            conversation: room.conversation,
            token: users[seat.user].token.clone(),
            sender: seat.sender,
            receivers: room.sockets.len() as u64 - 1,
        };
        tasks.push(tokio::spawn(socket_task(
            shared.clone(),
            job,
            gate.clone(),
            ready_tx.clone(),
            phase_rx.clone(),
        )));
    }
    drop(ready_tx);
    let mut ready = 0usize;
    let step = (count / 10).max(1);
    while let Some(result) = ready_rx.recv().await {
        if let Err(e) = result {
            let _ = phase_tx.send(Phase::Stop);
            bail!("opening socket {} of {count}: {e}", ready + 1);
        }
        ready += 1;
        if ready.is_multiple_of(step) {
            eprintln!("{ready}/{count} sockets ready");
        }
    }
    if ready < count {
        bail!("only {ready} of {count} sockets opened");
    }
    eprintln!(
        "{count} sockets ready in {:.2} s; settling {} s",
        opening.elapsed().as_secs_f64(),
        args.settle_secs
    );
    tokio::time::sleep(Duration::from_secs_f64(args.settle_secs)).await;

    let start = Instant::now() + Duration::from_millis(10);
    let window_end = start + shared.secs;
    let _ = phase_tx.send(Phase::Go(start));
    let progress = &shared.progress;
    let mut next_line = start + Duration::from_secs(1);
    while next_line < window_end {
        tokio::time::sleep_until(next_line.into()).await;
        eprintln!(
            "{:.0} s: sent {}, acked {}, delivered {}/{}",
            next_line.duration_since(start).as_secs_f64(),
            progress.sent.load(Ordering::Relaxed),
            progress.acked.load(Ordering::Relaxed),
            progress.delivered.load(Ordering::Relaxed),
            progress.expected.load(Ordering::Relaxed),
        );
        next_line += Duration::from_secs(1);
    }
    tokio::time::sleep_until(window_end.into()).await;
    // Sends scheduled before the window's end may still be going out: give the tasks a
    // moment to notice the end before the drain compares counts.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let drain_deadline = Instant::now() + Duration::from_secs_f64(args.drain_secs);
    loop {
        let sent = progress.sent.load(Ordering::Relaxed);
        let acked = progress.acked.load(Ordering::Relaxed);
        let expected = progress.expected.load(Ordering::Relaxed);
        let delivered = progress.delivered.load(Ordering::Relaxed);
        if acked >= sent && delivered >= expected {
            break;
        }
        if Instant::now() >= drain_deadline {
            eprintln!("drain ended with acked {acked}/{sent}, delivered {delivered}/{expected}");
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let drain_ms = Instant::now()
        .saturating_duration_since(window_end)
        .as_millis() as u64;
    let _ = phase_tx.send(Phase::Stop);

    let mut outcomes = Vec::with_capacity(count);
    for task in tasks {
        outcomes.push(task.await.context("a socket task failed")?);
    }
    Ok(report(&plan, &shared, &outcomes, args.secs, drain_ms))
}

/// Counts the run from every socket's outcome: expected deliveries from the acks, loss
/// from each (receiver, sender) stream against that sender's acks.
fn report(
    plan: &Plan,
    shared: &Shared,
    outcomes: &[Outcome],
    secs: f64,
    drain_ms: u64,
) -> TrafficReport {
    let mut acks: Vec<&Stream> = vec![&EMPTY; plan.senders as usize];
    let mut sent = 0;
    let mut acked = 0;
    let mut expected = 0;
    for (seat, outcome) in plan.seats.iter().zip(outcomes) {
        sent += outcome.sent;
        if let Some(sender) = seat.sender {
            acks[sender as usize] = &outcome.acks;
            let distinct = outcome.acks.distinct();
            acked += distinct;
            expected += distinct * (plan.rooms[seat.room].sockets.len() as u64 - 1);
        }
    }
    let (mut lost, mut duplicates, mut out_of_order, mut foreign) = (0, 0, 0, 0);
    let (mut delivered, mut in_window, mut errors, mut disconnects) = (0, 0, 0, 0);
    for (seat, outcome) in plan.seats.iter().zip(outcomes) {
        delivered += outcome.delivered;
        in_window += outcome.in_window;
        errors += outcome.errors;
        foreign += outcome.foreign;
        disconnects += u64::from(outcome.disconnected);
        for &other in &plan.rooms[seat.room].sockets {
            let Some(sender) = plan.seats[other].sender else {
                continue;
            };
            if Some(sender) == seat.sender {
                continue;
            }
            let stream = outcome.streams.get(&sender).unwrap_or(&EMPTY);
            lost += stream.lost_against(acks[sender as usize]);
            duplicates += stream.duplicates();
            out_of_order += stream.out_of_order();
        }
    }
    let latency = shared.latency.summary();
    let ack = shared.ack_latency.summary();
    let lag = shared.send_lag.summary();
    TrafficReport {
        scenario: "",
        rooms: None,
        members: 0,
        senders: plan.senders as usize,
        rate: 0.0,
        secs,
        sent,
        acked,
        expected_deliveries: expected,
        delivered,
        deliveries_per_sec: (in_window as f64 / secs * 10.0).round() / 10.0,
        latency_p50_ms: latency.p50_ms,
        latency_p99_ms: latency.p99_ms,
        latency_max_ms: latency.max_ms,
        lost,
        duplicates,
        out_of_order,
        ack_p50_ms: ack.p50_ms,
        ack_p99_ms: ack.p99_ms,
        send_lag_p99_ms: lag.p99_ms,
        send_lag_max_ms: lag.max_ms,
        errors,
        disconnects,
        foreign,
        drain_ms,
        users: 0,
    }
}

/// The stream of a sender that nothing arrived from.
static EMPTY: Stream = Stream::new();

/// How many ticks of a sender fall inside the window when it starts `fraction` of a
/// period late and the window holds `per_sender` periods: ⌈per_sender − fraction⌉, less
/// a hair so a float product that should be whole does not round up.
fn ticks_in_window(per_sender: f64, fraction: f64) -> u64 {
    (per_sender - fraction - 1e-9).ceil().max(0.0) as u64
}

/// The next tick of `ticker`, or never when there is none.
async fn tick(ticker: &mut Option<Interval>) -> Instant {
    match ticker {
        Some(ticker) => ticker.tick().await.into_std(),
        None => std::future::pending().await,
    }
}

/// Opens one socket, reports it ready, then reads until the run stops while a writer
/// task of its own sends, if it is a sender. Reading and writing are apart so that a send
/// waiting on a full TCP buffer never stops this socket from reading: otherwise a slow
/// moment could leave the client blocked on the server and the server on the client.
async fn socket_task(
    shared: Arc<Shared>,
    job: Job,
    gate: Arc<Semaphore>,
    ready: mpsc::UnboundedSender<Result<(), String>>,
    mut phase: watch::Receiver<Phase>,
) -> Outcome {
    let mut outcome = Outcome::default();
    let Ok(permit) = gate.acquire_owned().await else {
        return outcome;
    };
    let opened = socket::open(
        &shared.target,
        job.conversation,
        &job.token,
        shared.config,
        shared.timeout,
    )
    .await;
    drop(permit);
    let ws = match opened {
        Ok(ws) => ws,
        Err(e) => {
            let _ = ready.send(Err(format!("{e:#}")));
            outcome.disconnected = true;
            return outcome;
        }
    };
    let _ = ready.send(Ok(()));
    drop(ready);

    let (sink, mut frames) = ws.split();
    let writer = tokio::spawn(write(
        sink,
        shared.clone(),
        job.conversation,
        job.sender,
        phase.clone(),
    ));
    let mut start: Option<Instant> = None;
    loop {
        tokio::select! {
            biased;
            changed = phase.changed() => {
                if changed.is_err() {
                    break;
                }
                let now = *phase.borrow_and_update();
                match now {
                    Phase::Opening => {}
                    Phase::Go(at) => start = Some(at),
                    Phase::Stop => break,
                }
            }
            frame = frames.next() => {
                let keep_reading = match frame {
                    Some(Ok(Message::Text(text))) => {
                        receive(&text, &shared, &job, start, &mut outcome);
                        true
                    }
                    Some(Ok(Message::Close(_))) | None => false,
                    Some(Ok(_)) => true,
                    Some(Err(e)) => {
                        eprintln!("socket of conversation {}: {e}", job.conversation);
                        false
                    }
                };
                if !keep_reading {
                    outcome.disconnected = true;
                    break;
                }
            }
        }
    }
    // The writer ends at Stop (or at its first failed send), keeping its count of sends.
    match writer.await {
        Ok(written) => {
            outcome.sent = written.sent;
            outcome.disconnected |= written.failed;
        }
        Err(_) => outcome.disconnected = true,
    }
    outcome
}

/// What a writer did.
struct Written {
    sent: u64,
    /// A send failed or timed out.
    failed: bool,
}

/// Sends a sender's messages on its interval until the window ends, then waits for Stop
/// and closes the socket; a socket that does not send only waits and closes.
async fn write(
    mut sink: SplitSink<Ws, Message>,
    shared: Arc<Shared>,
    conversation: i64,
    sender: Option<u32>,
    mut phase: watch::Receiver<Phase>,
) -> Written {
    let mut written = Written {
        sent: 0,
        failed: false,
    };
    let mut start: Option<Instant> = None;
    let mut ticker: Option<Interval> = None;
    let mut quota = 0;
    loop {
        tokio::select! {
            biased;
            changed = phase.changed() => {
                if changed.is_err() {
                    break;
                }
                let now = *phase.borrow_and_update();
                match now {
                    Phase::Opening => {}
                    Phase::Go(at) => {
                        start = Some(at);
                        if let Some(sender) = sender {
                            // Sender i starts i/senders of a period late: the senders
                            // together send evenly, not all on the same instant.
                            let fraction = f64::from(sender) / f64::from(shared.senders.max(1));
                            let offset = shared.period.mul_f64(fraction);
                            // The ticks before the window's end, counted exactly: a period
                            // rounded to whole ns must not add one more at the very end.
                            quota = ticks_in_window(shared.per_sender, fraction);
                            let mut interval = tokio::time::interval_at((at + offset).into(), shared.period);
                            // A late tick is sent at once (Burst), so a client stall does not
                            // lower the offered load; the timestamp is the real send time.
                            interval.set_missed_tick_behavior(MissedTickBehavior::Burst);
                            ticker = Some(interval);
                        }
                    }
                    Phase::Stop => break,
                }
            }
            scheduled = tick(&mut ticker) => {
                let (Some(sender), Some(at)) = (sender, start) else {
                    ticker = None;
                    continue;
                };
                if written.sent >= quota || scheduled >= at + shared.secs {
                    ticker = None;
                    continue;
                }
                shared.send_lag.record(Instant::now().saturating_duration_since(scheduled));
                if send(&mut sink, &shared, conversation, sender, at, written.sent).await.is_err() {
                    written.failed = true;
                    return written;
                }
                written.sent += 1;
            }
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(1), sink.close()).await;
    written
}

/// Sends message number `counter` of `sender`, stamped with the time it leaves.
async fn send(
    sink: &mut SplitSink<Ws, Message>,
    shared: &Shared,
    conversation: i64,
    sender: u32,
    start: Instant,
    counter: u64,
) -> Result<()> {
    let tag = Tag {
        sender,
        counter,
        sent_us: micros_since(start),
    };
    let text = socket::message_frame(
        conversation,
        &content::encode(tag, shared.padding),
        &content::client_msg_id(sender, counter),
    );
    tokio::time::timeout(SEND_TIMEOUT, sink.send(Message::text(text)))
        .await
        .context("send timed out")?
        .context("send failed")?;
    shared.progress.sent.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

/// Counts one text frame.
fn receive(text: &str, shared: &Shared, job: &Job, start: Option<Instant>, outcome: &mut Outcome) {
    let frame = match socket::parse(text) {
        Ok(frame) => frame,
        Err(_) => {
            outcome.foreign += 1;
            return;
        }
    };
    match frame {
        Incoming::Message {
            conversation_id,
            content,
        } => {
            let tag = content::decode(&content);
            let (Some(tag), Some(start)) = (tag, start) else {
                outcome.foreign += 1;
                return;
            };
            if conversation_id != job.conversation || Some(tag.sender) == job.sender {
                outcome.foreign += 1;
                return;
            }
            let seen = outcome
                .streams
                .entry(tag.sender)
                .or_default()
                .observe(tag.counter);
            if seen == Seen::Duplicate {
                return;
            }
            let now_us = micros_since(start);
            shared.latency.record_us(now_us.saturating_sub(tag.sent_us));
            outcome.delivered += 1;
            if Duration::from_micros(now_us) < shared.secs {
                outcome.in_window += 1;
            }
            shared.progress.delivered.fetch_add(1, Ordering::Relaxed);
        }
        Incoming::Ack {
            conversation_id,
            content,
        } => {
            let tag = content::decode(&content);
            let (Some(tag), Some(start)) = (tag, start) else {
                outcome.foreign += 1;
                return;
            };
            if conversation_id != job.conversation || Some(tag.sender) != job.sender {
                outcome.foreign += 1;
                return;
            }
            if outcome.acks.observe(tag.counter) == Seen::Duplicate {
                return;
            }
            shared
                .ack_latency
                .record_us(micros_since(start).saturating_sub(tag.sent_us));
            shared.progress.acked.fetch_add(1, Ordering::Relaxed);
            shared
                .progress
                .expected
                .fetch_add(job.receivers, Ordering::Relaxed);
        }
        Incoming::Error { code, message } => {
            outcome.errors += 1;
            let seen = shared.progress.errors.fetch_add(1, Ordering::Relaxed);
            if seen < 5 {
                eprintln!(
                    "error frame in conversation {}: {code}: {message}",
                    job.conversation
                );
            }
        }
        Incoming::Ready { .. } | Incoming::Other => {}
    }
}

fn micros_since(start: Instant) -> u64 {
    u64::try_from(Instant::now().saturating_duration_since(start).as_micros()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_of(rooms: &[&[Option<u32>]]) -> Plan {
        let mut seats = Vec::new();
        let mut list = Vec::new();
        let mut senders = 0;
        for (r, room) in rooms.iter().enumerate() {
            let mut sockets = Vec::new();
            for &sender in room.iter() {
                sockets.push(seats.len());
                seats.push(Seat {
                    user: seats.len(),
                    room: r,
                    sender,
                });
                senders += u32::from(sender.is_some());
            }
            list.push(Room {
                conversation: r as i64 + 1,
                sockets,
            });
        }
        Plan {
            rooms: list,
            seats,
            senders,
            rate_per_sender: 1.0,
        }
    }

    fn shared() -> Shared {
        Shared {
            target: Arc::new(Target::parse("http://127.0.0.1:1").unwrap()),
            config: socket::config(4096),
            timeout: Duration::from_secs(1),
            secs: Duration::from_secs(1),
            period: Duration::from_secs(1),
            per_sender: 1.0,
            senders: 1,
            padding: 0,
            latency: Latency::new(),
            ack_latency: Latency::new(),
            send_lag: Latency::new(),
            progress: Progress::default(),
        }
    }

    fn outcome(sent: u64, acks: &[u64], from: &[(u32, &[u64])]) -> Outcome {
        let mut outcome = Outcome {
            sent,
            ..Outcome::default()
        };
        for &n in acks {
            outcome.acks.observe(n);
        }
        for &(sender, numbers) in from {
            let stream = outcome.streams.entry(sender).or_default();
            for &n in numbers {
                if stream.observe(n) != Seen::Duplicate {
                    outcome.delivered += 1;
                }
            }
        }
        outcome
    }

    #[test]
    fn the_report_counts_every_receiver_against_every_sender() {
        // One room: sockets 0 and 1 send, socket 2 only reads.
        let plan = plan_of(&[&[Some(0), Some(1), None]]);
        let outcomes = [
            outcome(3, &[0, 1, 2], &[(1, &[0, 1])]),
            outcome(2, &[0, 1], &[(0, &[0, 2, 1])]),
            outcome(0, &[], &[(0, &[0, 1, 2, 2]), (1, &[1])]),
        ];
        let report = report(&plan, &shared(), &outcomes, 1.0, 0);
        assert_eq!(report.sent, 5);
        assert_eq!(report.acked, 5);
        assert_eq!(report.expected_deliveries, 3 * 2 + 2 * 2);
        assert_eq!(report.delivered, 2 + 3 + 4);
        // Socket 1 missed nothing of 0; socket 2 missed 0 of sender 1.
        assert_eq!(report.lost, 1);
        assert_eq!(report.duplicates, 1);
        assert_eq!(report.out_of_order, 1);
    }

    #[test]
    fn the_senders_together_send_rate_times_secs() {
        for (rate, senders, secs, total) in [
            (300.0, 10u32, 10.0, 3000),
            (1000.0, 10, 10.0, 10_000),
            (100.0, 5, 5.0, 500),
            (7.0, 3, 1.0, 7),
        ] {
            let per_sender = secs * rate / f64::from(senders);
            let sent: u64 = (0..senders)
                .map(|i| ticks_in_window(per_sender, f64::from(i) / f64::from(senders)))
                .sum();
            assert_eq!(sent, total, "{rate} msg/s, {senders} senders, {secs} s");
        }
        // rooms: every socket at its own rate.
        let sent: u64 = (0..5000u32)
            .map(|i| ticks_in_window(10.0, f64::from(i) / 5000.0))
            .sum();
        assert_eq!(sent, 50_000);
    }

    #[test]
    fn rooms_are_counted_apart() {
        let plan = plan_of(&[&[Some(0), Some(1)], &[Some(2), Some(3)]]);
        let outcomes = [
            outcome(2, &[0, 1], &[(1, &[0, 1])]),
            outcome(2, &[0, 1], &[(0, &[0, 1])]),
            outcome(1, &[0], &[]),
            outcome(1, &[0], &[(2, &[0])]),
        ];
        let report = report(&plan, &shared(), &outcomes, 1.0, 0);
        assert_eq!(report.expected_deliveries, 6);
        assert_eq!(report.delivered, 5);
        assert_eq!(report.lost, 1);
    }

    #[test]
    fn receive_tallies_deliveries_and_acks_and_ignores_the_rest() {
        let shared = shared();
        let job = Job {
            conversation: 7,
            token: String::new(),
            sender: Some(4),
            receivers: 9,
        };
        let start = Some(Instant::now());
        let mut outcome = Outcome::default();
        let message = |conversation: i64, content: &str| {
            format!(
                r#"{{"type":"message","message":{{"conversation_id":{conversation},"content":"{content}"}}}}"#
            )
        };
        receive(&message(7, "b|1|0|0"), &shared, &job, start, &mut outcome);
        receive(&message(7, "b|1|0|0"), &shared, &job, start, &mut outcome);
        receive(&message(8, "b|1|1|0"), &shared, &job, start, &mut outcome);
        receive(&message(7, "hello"), &shared, &job, start, &mut outcome);
        receive(&message(7, "b|4|0|0"), &shared, &job, start, &mut outcome);
        let ack = r#"{"type":"ack","client_msg_id":"s4-0","message":{"conversation_id":7,"content":"b|4|0|0"}}"#;
        receive(ack, &shared, &job, start, &mut outcome);
        receive(
            r#"{"type":"presence","status":"online"}"#,
            &shared,
            &job,
            start,
            &mut outcome,
        );
        receive(
            r#"{"type":"error","code":"rate_limited","message":"x"}"#,
            &shared,
            &job,
            start,
            &mut outcome,
        );
        assert_eq!(outcome.delivered, 1);
        assert_eq!(outcome.streams[&1].duplicates(), 1);
        assert_eq!(outcome.foreign, 3);
        assert_eq!(outcome.acks.distinct(), 1);
        assert_eq!(outcome.errors, 1);
        assert_eq!(shared.progress.expected.load(Ordering::Relaxed), 9);
        assert_eq!(shared.latency.count(), 1);
    }
}
