//! Rate limits shared by HTTP and the sockets: a sliding window for login attempts and a
//! token bucket per user for message sends.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Login attempts per (client address, username) in the last minute.
pub struct LoginLimiter {
    per_minute: usize,
    attempts: Mutex<HashMap<(IpAddr, String), VecDeque<Instant>>>,
}

const WINDOW: Duration = Duration::from_secs(60);

impl LoginLimiter {
    pub fn new(per_minute: u32) -> Self {
        LoginLimiter {
            per_minute: per_minute as usize,
            attempts: Mutex::new(HashMap::new()),
        }
    }

    /// Records an attempt; past the limit, the seconds until one is allowed again.
    pub fn attempt(&self, addr: IpAddr, username: &str) -> Result<(), u64> {
        let now = Instant::now();
        let mut attempts = self.attempts.lock().unwrap_or_else(|p| p.into_inner());
        if attempts.len() > 10_000 {
            attempts.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|t| now.duration_since(*t) < WINDOW)
            });
        }
        let times = attempts.entry((addr, username.to_string())).or_default();
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= WINDOW)
        {
            times.pop_front();
        }
        if times.len() >= self.per_minute {
            let oldest = times.front().copied().unwrap_or(now);
            let wait = WINDOW.saturating_sub(now.duration_since(oldest));
            return Err(wait.as_secs().max(1));
        }
        times.push_back(now);
        Ok(())
    }
}

/// A token bucket: `rate` tokens a second, at most `burst` saved up.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Token buckets keyed by `K` (a user id for sends, a socket for other frames).
pub struct Buckets<K> {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<K, Bucket>>,
}

impl<K: Hash + Eq + Copy> Buckets<K> {
    pub fn new(rate_per_sec: u32, burst: u32) -> Self {
        Buckets {
            rate: f64::from(rate_per_sec),
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `key`; when empty, the seconds until one is available.
    pub fn take(&self, key: K) -> Result<(), u64> {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() > 100_000 {
            let (rate, burst) = (self.rate, self.burst);
            buckets.retain(|_, b| {
                b.tokens + now.duration_since(b.updated).as_secs_f64() * rate < burst
            });
        }
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: self.burst,
            updated: now,
        });
        let refill = now.duration_since(bucket.updated).as_secs_f64() * self.rate;
        bucket.tokens = (bucket.tokens + refill).min(self.burst);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - bucket.tokens) / self.rate).ceil().max(1.0) as u64)
        }
    }
}

/// Message sends per user, shared by `POST /api/messages` and the sockets.
pub type SendLimiter = Buckets<i64>;

/// Counts rate-limit excesses of one socket: this many within the window mean a client
/// that keeps sending regardless, and its socket is closed 4029.
pub struct Excesses {
    times: VecDeque<Instant>,
}

/// Excesses within [`EXCESS_WINDOW`] that close a socket.
pub const EXCESS_LIMIT: usize = 10;
pub const EXCESS_WINDOW: Duration = Duration::from_secs(10);

impl Excesses {
    pub fn new() -> Self {
        Excesses {
            times: VecDeque::new(),
        }
    }

    /// Records one excess; `true` when the socket has now exceeded too often.
    pub fn record(&mut self) -> bool {
        let now = Instant::now();
        self.times.push_back(now);
        while self
            .times
            .front()
            .is_some_and(|t| now.duration_since(*t) > EXCESS_WINDOW)
        {
            self.times.pop_front();
        }
        self.times.len() >= EXCESS_LIMIT
    }
}

impl Default for Excesses {
    fn default() -> Self {
        Excesses::new()
    }
}
