//! Latency histograms and the server's resident memory and threads. Latencies are kept in µs in one
//! HDR histogram per measure (shared by every socket: one per socket would cost hundreds
//! of KiB each), so percentiles are exact to three significant digits whatever the count.

use std::sync::Mutex;
use std::time::Duration;

use anyhow::{Context, Result};
use hdrhistogram::Histogram;

/// Up to a minute in µs, three significant digits.
const HIGHEST_US: u64 = 60_000_000;

/// A latency histogram that any task may record into.
pub struct Latency {
    histogram: Mutex<Histogram<u64>>,
}

/// Percentiles of a [`Latency`], in ms.
#[derive(Debug, Clone, Copy, Default)]
pub struct Summary {
    /// Median.
    pub p50_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Largest value.
    pub max_ms: f64,
}

impl Latency {
    /// An empty histogram.
    pub fn new() -> Latency {
        let histogram = Histogram::new_with_bounds(1, HIGHEST_US, 3)
            .expect("constant bounds are valid for an HDR histogram");
        Latency {
            histogram: Mutex::new(histogram),
        }
    }

    /// Records one value in µs; values past the range count as the highest.
    pub fn record_us(&self, micros: u64) {
        let mut histogram = self
            .histogram
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        histogram.saturating_record(micros.max(1));
    }

    /// Records one duration.
    pub fn record(&self, elapsed: Duration) {
        self.record_us(u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX));
    }

    /// How many values were recorded.
    #[cfg(test)]
    pub fn count(&self) -> u64 {
        self.histogram
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .len()
    }

    /// The percentiles so far.
    pub fn summary(&self) -> Summary {
        let histogram = self
            .histogram
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if histogram.is_empty() {
            return Summary::default();
        }
        let ms = |us: u64| round3(us as f64 / 1000.0);
        Summary {
            p50_ms: ms(histogram.value_at_quantile(0.50)),
            p99_ms: ms(histogram.value_at_quantile(0.99)),
            max_ms: ms(histogram.max()),
        }
    }
}

/// Three decimals are all a report needs; fewer digits keep the JSON line readable.
pub fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

/// What `/proc/PID/status` says about a process's memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessStatus {
    /// `VmRSS` in kB.
    pub rss_kb: u64,
    /// `Threads`: a server whose blocking threads are still alive holds their memory too.
    pub threads: u64,
}

/// Reads `/proc/PID/status`.
pub fn process_status(pid: u32) -> Result<ProcessStatus> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    parse_status(&status).with_context(|| format!("no VmRSS or Threads line in {path}"))
}

fn parse_status(status: &str) -> Option<ProcessStatus> {
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .map(|rest| rest.trim().trim_end_matches("kB").trim())
            .and_then(|number| number.parse().ok())
    };
    Some(ProcessStatus {
        rss_kb: field("VmRSS:")?,
        threads: field("Threads:")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_come_out_in_milliseconds() {
        let latency = Latency::new();
        for us in 1..=1000 {
            latency.record_us(us * 10);
        }
        let summary = latency.summary();
        assert_eq!(latency.count(), 1000);
        assert!((summary.p50_ms - 5.0).abs() < 0.01, "{summary:?}");
        assert!((summary.p99_ms - 9.9).abs() < 0.01, "{summary:?}");
        assert!((summary.max_ms - 10.0).abs() < 0.01, "{summary:?}");
        assert_eq!(Latency::new().summary().max_ms, 0.0);
    }

    #[test]
    fn vm_rss_is_read_from_a_status_file() {
        let status = "Name:\tpalaver\nVmPeak:\t  200 kB\nVmRSS:\t   12345 kB\nThreads:\t4\n";
        assert_eq!(
            parse_status(status),
            Some(ProcessStatus {
                rss_kb: 12345,
                threads: 4
            })
        );
        assert_eq!(parse_status("Name:\tx\nVmRSS:\t1 kB\n"), None);
        assert!(process_status(std::process::id()).is_ok_and(|s| s.rss_kb > 0 && s.threads > 0));
    }
}
