//! Counters for `GET /metrics`, in Prometheus text format: HTTP responses by status, auth
//! rejections by reason, messages in and out, live connections, and how long storing a
//! message takes.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds, in seconds, of the persist-latency histogram buckets.
const LATENCY_BUCKETS: [f64; 10] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
];

/// All counters; shared by every worker and the actors.
#[derive(Default)]
pub struct Metrics {
    http_responses: Mutex<BTreeMap<u16, u64>>,
    auth_rejections: Mutex<BTreeMap<&'static str, u64>>,
    pub messages_in: AtomicU64,
    pub messages_out: AtomicU64,
    pub connections: AtomicI64,
    persist_buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    persist_count: AtomicU64,
    persist_micros: AtomicU64,
}

impl Metrics {
    pub fn http_response(&self, status: u16) {
        *self
            .http_responses
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(status)
            .or_default() += 1;
    }

    pub fn auth_rejected(&self, reason: &'static str) {
        *self
            .auth_rejections
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(reason)
            .or_default() += 1;
    }

    /// Counts message frames delivered to sockets.
    pub fn messages_delivered(&self, frames: u64) {
        self.messages_out.fetch_add(frames, Ordering::Relaxed);
    }

    /// Records one message stored in `elapsed`.
    pub fn message_persisted(&self, elapsed: Duration) {
        self.messages_in.fetch_add(1, Ordering::Relaxed);
        let secs = elapsed.as_secs_f64();
        for (bound, bucket) in LATENCY_BUCKETS.iter().zip(&self.persist_buckets) {
            if secs <= *bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.persist_count.fetch_add(1, Ordering::Relaxed);
        self.persist_micros
            .fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
    }

    /// The Prometheus text exposition of every counter.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP palaver_http_requests_total HTTP responses by status.\n");
        out.push_str("# TYPE palaver_http_requests_total counter\n");
        for (status, n) in self
            .http_responses
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "palaver_http_requests_total{{status=\"{status}\"}} {n}"
            );
        }
        out.push_str("# HELP palaver_auth_rejections_total Refused credentials by reason.\n");
        out.push_str("# TYPE palaver_auth_rejections_total counter\n");
        for (reason, n) in self
            .auth_rejections
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "palaver_auth_rejections_total{{reason=\"{reason}\"}} {n}"
            );
        }
        let gauges = [
            (
                "palaver_connections",
                "gauge",
                "Open WebSocket connections.",
                self.connections.load(Ordering::Relaxed),
            ),
            (
                "palaver_messages_in_total",
                "counter",
                "Messages stored.",
                self.messages_in.load(Ordering::Relaxed) as i64,
            ),
            (
                "palaver_messages_out_total",
                "counter",
                "Message frames delivered to sockets.",
                self.messages_out.load(Ordering::Relaxed) as i64,
            ),
        ];
        for (name, kind, help, value) in gauges {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        }
        out.push_str("# HELP palaver_message_persist_seconds Time to store a message.\n");
        out.push_str("# TYPE palaver_message_persist_seconds histogram\n");
        for (bound, bucket) in LATENCY_BUCKETS.iter().zip(&self.persist_buckets) {
            let _ = writeln!(
                out,
                "palaver_message_persist_seconds_bucket{{le=\"{bound}\"}} {}",
                bucket.load(Ordering::Relaxed)
            );
        }
        let count = self.persist_count.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "palaver_message_persist_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let sum = self.persist_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "palaver_message_persist_seconds_sum {sum}");
        let _ = writeln!(out, "palaver_message_persist_seconds_count {count}");
        out
    }
}
