//! Rate limits shared by HTTP and the sockets, on `governor`'s GCRA limiters: login
//! attempts per client address and username, message sends per user, and frames per socket.
//! Keyed limiters sweep out the keys that are back to a full bucket every so many checks,
//! so a client inventing keys holds memory only for as long as its keys are limited.
//! A refusal carries the whole seconds until the next attempt can pass, for `Retry-After`.

use std::collections::VecDeque;
use std::hash::{BuildHasher, Hash, RandomState};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DashMapStateStore;
use governor::{DefaultDirectRateLimiter, NotUntil, Quota, RateLimiter};

/// Checks of a keyed limiter between two sweeps of the keys it no longer needs.
const SWEEP_EVERY: u32 = 1024;

/// A quota of `rate_per_sec` a second with `burst` saved up; zero counts as one.
fn per_second(rate_per_sec: u32, burst: u32) -> Quota {
    Quota::per_second(at_least_one(rate_per_sec)).allow_burst(at_least_one(burst))
}

fn at_least_one(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

/// Whole seconds until `refusal` lifts, at least one so a client never retries at once.
fn retry_after<C: Clock>(refusal: &NotUntil<C::Instant>, clock: &C) -> u64 {
    let wait = refusal.wait_time_from(clock.now());
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

/// A keyed limiter that sweeps its idle keys now and then; the clock is a parameter
/// so that tests can move time on.
struct Keyed<K: Hash + Eq + Clone, C: Clock = DefaultClock> {
    limiter: RateLimiter<K, DashMapStateStore<K>, C, NoOpMiddleware<C::Instant>>,
    checks: AtomicU32,
}

impl<K: Hash + Eq + Clone> Keyed<K> {
    fn new(quota: Quota) -> Self {
        Keyed::with_clock(quota, DefaultClock::default())
    }
}

impl<K: Hash + Eq + Clone, C: Clock> Keyed<K, C> {
    fn with_clock(quota: Quota, clock: C) -> Self {
        Keyed {
            limiter: RateLimiter::dashmap_with_clock(quota, clock),
            checks: AtomicU32::new(0),
        }
    }

    fn check(&self, key: &K) -> Result<(), u64> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.limiter.retain_recent();
        }
        self.limiter
            .check_key(key)
            .map_err(|refusal| retry_after(&refusal, self.limiter.clock()))
    }
}

/// Login attempts per (client address, username) a minute, so that guessing one
/// account's password from one address is slow while other accounts and addresses
/// are unaffected.
pub struct LoginLimiter {
    attempts: Keyed<(IpAddr, u64)>,
    /// Random per process, so that no one can choose usernames that share a key.
    usernames: RandomState,
}

impl LoginLimiter {
    /// A limiter allowing `per_minute` attempts at once, refilled over a minute.
    pub fn new(per_minute: u32) -> Self {
        LoginLimiter {
            attempts: Keyed::new(Quota::per_minute(at_least_one(per_minute))),
            usernames: RandomState::new(),
        }
    }

    /// Records an attempt; past the limit, the seconds until one is allowed again.
    /// The username is keyed by a digest of its trimmed, lower-cased form, so a long
    /// username costs no more memory than a short one.
    pub fn attempt(&self, addr: IpAddr, username: &str) -> Result<(), u64> {
        let digest = self.usernames.hash_one(username.trim().to_lowercase());
        self.attempts.check(&(addr, digest))
    }
}

/// Token buckets keyed by `K`: `rate_per_sec` tokens a second, at most `burst` saved up.
pub struct Buckets<K: Hash + Eq + Clone> {
    keyed: Keyed<K>,
}

impl<K: Hash + Eq + Clone> Buckets<K> {
    /// Buckets that each start full.
    pub fn new(rate_per_sec: u32, burst: u32) -> Self {
        Buckets {
            keyed: Keyed::new(per_second(rate_per_sec, burst)),
        }
    }

    /// Takes one token for `key`; when empty, the seconds until one is available.
    pub fn take(&self, key: K) -> Result<(), u64> {
        self.keyed.check(&key)
    }
}

/// Message sends per user, shared by `POST /api/messages` and the sockets.
pub type SendLimiter = Buckets<i64>;

/// The token bucket of one socket, for the frames that are not message sends; one
/// atomic word rather than a map, since the socket is its only key.
pub struct SocketBucket {
    limiter: DefaultDirectRateLimiter,
}

impl SocketBucket {
    /// A full bucket: `rate_per_sec` tokens a second, at most `burst` saved up.
    pub fn new(rate_per_sec: u32, burst: u32) -> Self {
        SocketBucket {
            limiter: DefaultDirectRateLimiter::direct(per_second(rate_per_sec, burst)),
        }
    }

    /// Takes one token; when empty, the seconds until one is available.
    pub fn take(&self) -> Result<(), u64> {
        self.limiter
            .check()
            .map_err(|refusal| retry_after(&refusal, self.limiter.clock()))
    }
}

/// Counts rate-limit excesses of one socket: this many within the window mean a client
/// that keeps sending regardless, and its socket is closed 4029.
pub struct Excesses {
    times: VecDeque<Instant>,
}

/// Excesses within [`EXCESS_WINDOW`] that close a socket.
pub const EXCESS_LIMIT: usize = 10;
/// How far back excesses count towards [`EXCESS_LIMIT`].
pub const EXCESS_WINDOW: Duration = Duration::from_secs(10);

impl Excesses {
    /// A socket that has not exceeded its limits yet.
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

#[cfg(test)]
mod tests {
    use super::*;
    use governor::clock::FakeRelativeClock;
    use std::net::Ipv4Addr;

    const HOME: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    const AWAY: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7));

    fn exhausted_for_alice_at_home(per_minute: u32) -> LoginLimiter {
        let limiter = LoginLimiter::new(per_minute);
        for _ in 0..per_minute {
            limiter
                .attempt(HOME, "alice")
                .expect("attempts within the limit pass");
        }
        limiter
    }

    #[test]
    fn the_attempt_past_the_limit_within_a_minute_is_refused_with_a_positive_wait() {
        let limiter = exhausted_for_alice_at_home(3);

        let refused = limiter.attempt(HOME, "alice");

        let wait = refused.expect_err("the fourth attempt is refused");
        assert!((1..=60).contains(&wait), "wait {wait}");
    }

    #[test]
    fn another_username_from_the_same_address_is_unaffected() {
        let limiter = exhausted_for_alice_at_home(3);

        assert_eq!(limiter.attempt(HOME, "bob"), Ok(()));
    }

    #[test]
    fn the_same_username_from_another_address_is_unaffected() {
        let limiter = exhausted_for_alice_at_home(3);

        assert_eq!(limiter.attempt(AWAY, "alice"), Ok(()));
    }

    #[test]
    fn usernames_differing_only_in_case_and_spaces_share_a_limit() {
        let limiter = exhausted_for_alice_at_home(3);

        assert!(limiter.attempt(HOME, " ALICE ").is_err());
        assert!(limiter.attempt(HOME, "Alice").is_err());
    }

    #[test]
    fn a_bucket_refuses_past_its_burst_with_a_positive_wait_and_only_for_its_key() {
        let buckets = SendLimiter::new(1, 2);
        buckets.take(7).expect("the first token is there");
        buckets.take(7).expect("the second token is there");

        let refused = buckets.take(7);

        assert_eq!(refused, Err(1));
        assert_eq!(buckets.take(8), Ok(()));
    }

    #[test]
    fn a_socket_bucket_refuses_past_its_burst_with_a_positive_wait() {
        let bucket = SocketBucket::new(1, 2);
        bucket.take().expect("the first token is there");
        bucket.take().expect("the second token is there");

        let refused = bucket.take();

        assert_eq!(refused, Err(1));
    }

    #[test]
    fn a_refused_login_is_allowed_again_once_its_wait_has_passed() {
        let clock = FakeRelativeClock::default();
        let attempts = Keyed::with_clock(Quota::per_minute(at_least_one(3)), clock.clone());
        for _ in 0..3 {
            attempts
                .check(&"alice")
                .expect("attempts within the limit pass");
        }
        let wait = attempts.check(&"alice").expect_err("the fourth is refused");

        clock.advance(Duration::from_secs(wait));

        assert_eq!(attempts.check(&"alice"), Ok(()));
    }

    #[test]
    fn sweeping_forgets_keys_whose_buckets_are_full_again() {
        let clock = FakeRelativeClock::default();
        let buckets = Keyed::with_clock(per_second(1, 1), clock.clone());
        for key in 0..SWEEP_EVERY - 1 {
            buckets.check(&key).expect("every key starts with a token");
        }
        clock.advance(Duration::from_secs(2));

        buckets
            .check(&SWEEP_EVERY)
            .expect("a new key starts with a token");

        assert_eq!(buckets.limiter.len(), 1);
    }
}
