//! The series `GET /metrics` serves, kept in a `prometheus-client` registry: HTTP
//! responses by status, and by method, route template and status with their latency,
//! auth rejections by reason, messages in and out, live connections, and how long storing
//! a message takes. Labels only ever hold values of fixed sets (methods, the route
//! templates of the route table, statuses), never a raw path or anything a client wrote. The exposition is Prometheus text format 0.0.4,
//! which every scraper reads.

use std::collections::HashSet;
use std::fmt::Write;
use std::time::Duration;

use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Upper bounds, in seconds, of the persist-latency histogram buckets.
const LATENCY_BUCKETS: [f64; 10] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabel {
    status: u16,
}

/// Upper bounds, in seconds, of the HTTP latency histogram buckets.
const HTTP_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// The route label of a request no route matched.
pub const UNMATCHED_ROUTE: &str = "unmatched";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteStatusLabels {
    method: &'static str,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: String,
}

/// The latency histogram of one method and route.
type LatencyFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

fn http_histogram() -> Histogram {
    Histogram::new(HTTP_BUCKETS)
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: &'static str,
}

/// Every series, shared by the workers and the actors; the handles below are clones of
/// what the registry encodes.
pub struct Metrics {
    registry: Registry,
    http_responses: Family<StatusLabel, Counter>,
    route_responses: Family<RouteStatusLabels, Counter>,
    route_latency: LatencyFamily,
    auth_rejections: Family<ReasonLabel, Counter>,
    messages_in: Counter,
    messages_out: Counter,
    connections: Gauge,
    persist_seconds: Histogram,
    reorder_waits: Counter,
    /// The cluster bus's series; all zero without `REDIS_URL`.
    pub bus: BusMetrics,
}

/// The cluster bus: whether it is connected, how often it reconnected, and what crossed it.
#[derive(Clone, Default)]
pub struct BusMetrics {
    /// 1 while subscribed to Redis, 0 while degraded.
    pub connected: Gauge,
    /// Reconnections after an outage.
    pub reconnects: Counter,
    /// Events that could not be published.
    pub publish_failures: Counter,
    /// Events from other nodes delivered here.
    pub relayed_in: Counter,
    /// Events of this node published for the others.
    pub relayed_out: Counter,
}

impl Default for Metrics {
    /// Every series registered, at zero.
    fn default() -> Self {
        let http_responses = Family::<StatusLabel, Counter>::default();
        let route_responses = Family::<RouteStatusLabels, Counter>::default();
        let route_latency: LatencyFamily = Family::new_with_constructor(http_histogram);
        let auth_rejections = Family::<ReasonLabel, Counter>::default();
        let messages_in = Counter::default();
        let messages_out = Counter::default();
        let connections = Gauge::default();
        let persist_seconds = Histogram::new(LATENCY_BUCKETS);
        let reorder_waits = Counter::default();
        let bus = BusMetrics::default();
        let mut registry = Registry::default();
        registry.register(
            "palaver_reorder_waits",
            "Messages held until an earlier one arrived",
            reorder_waits.clone(),
        );
        registry.register(
            "palaver_bus_connected",
            "Whether the cluster bus is connected",
            bus.connected.clone(),
        );
        registry.register(
            "palaver_bus_reconnects",
            "Cluster bus reconnections after an outage",
            bus.reconnects.clone(),
        );
        registry.register(
            "palaver_bus_publish_failures",
            "Events the cluster bus could not publish",
            bus.publish_failures.clone(),
        );
        registry.register(
            "palaver_bus_relayed_in",
            "Events from other nodes delivered here",
            bus.relayed_in.clone(),
        );
        registry.register(
            "palaver_bus_relayed_out",
            "Events of this node published for the others",
            bus.relayed_out.clone(),
        );
        registry.register(
            "palaver_http_requests",
            "HTTP responses by status",
            http_responses.clone(),
        );
        registry.register(
            "palaver_http_responses",
            "HTTP responses by method, route template and status",
            route_responses.clone(),
        );
        registry.register(
            "palaver_http_request_duration_seconds",
            "Time from a request's arrival to its answer, by method and route template",
            route_latency.clone(),
        );
        registry.register(
            "palaver_auth_rejections",
            "Refused credentials by reason",
            auth_rejections.clone(),
        );
        registry.register(
            "palaver_connections",
            "Open WebSocket connections",
            connections.clone(),
        );
        registry.register(
            "palaver_messages_in",
            "Messages stored",
            messages_in.clone(),
        );
        registry.register(
            "palaver_messages_out",
            "Message frames delivered to sockets",
            messages_out.clone(),
        );
        registry.register(
            "palaver_message_persist_seconds",
            "Time to store a message",
            persist_seconds.clone(),
        );
        Metrics {
            registry,
            http_responses,
            route_responses,
            route_latency,
            auth_rejections,
            messages_in,
            messages_out,
            connections,
            persist_seconds,
            reorder_waits,
            bus,
        }
    }
}

impl Metrics {
    /// Counts one HTTP response with `status`.
    pub fn http_response(&self, status: u16) {
        self.http_responses
            .get_or_create(&StatusLabel { status })
            .inc();
    }

    /// Counts one answer of `route` (a route template, or [`UNMATCHED_ROUTE`]) to `method`
    /// with `status`, which took `elapsed`.
    pub fn http_route_response(
        &self,
        method: &actix_web::http::Method,
        route: &str,
        status: u16,
        elapsed: Duration,
    ) {
        let method = method_label(method);
        self.route_responses
            .get_or_create(&RouteStatusLabels {
                method,
                route: route.to_string(),
                status,
            })
            .inc();
        self.route_latency
            .get_or_create(&RouteLabels {
                method,
                route: route.to_string(),
            })
            .observe(elapsed.as_secs_f64());
    }

    /// Counts one refused credential; `reason` is one of a fixed set, never client input.
    pub fn auth_rejected(&self, reason: &'static str) {
        self.auth_rejections
            .get_or_create(&ReasonLabel { reason })
            .inc();
    }

    /// Records one message stored in `elapsed`.
    pub fn message_persisted(&self, elapsed: Duration) {
        self.messages_in.inc();
        self.persist_seconds.observe(elapsed.as_secs_f64());
    }

    /// Counts message frames handed to `sockets` sockets.
    pub fn messages_delivered(&self, sockets: usize) {
        self.messages_out
            .inc_by(u64::try_from(sockets).unwrap_or(u64::MAX));
    }

    /// Counts a message held back until the ones before it arrived.
    pub fn reorder_wait(&self) {
        self.reorder_waits.inc();
    }

    /// Every series in Prometheus text format 0.0.4; `open_sockets` is the live count,
    /// which the socket slots keep (sockets are counted in that one place).
    pub fn render(&self, open_sockets: usize) -> String {
        self.connections
            .set(i64::try_from(open_sockets).unwrap_or(i64::MAX));
        let mut openmetrics = String::new();
        encode(&mut openmetrics, &self.registry).expect("encoding into a String cannot fail");
        to_prometheus_text(&openmetrics)
    }
}

/// A method's label: the standard ones by name, any other as `OTHER`, so a client
/// inventing methods cannot grow the label set.
fn method_label(method: &actix_web::http::Method) -> &'static str {
    use actix_web::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "OTHER",
    }
}

/// The classic text format from the OpenMetrics one the encoder writes: there a counter's
/// `HELP` and `TYPE` lines name the family without the `_total` of its samples, which a
/// classic parser would then take for untyped, and the exposition ends with `# EOF`.
fn to_prometheus_text(openmetrics: &str) -> String {
    let counters: HashSet<&str> = openmetrics
        .lines()
        .filter_map(|line| line.strip_prefix("# TYPE ")?.strip_suffix(" counter"))
        .collect();
    let mut text = String::with_capacity(openmetrics.len() + 8 * counters.len());
    for line in openmetrics.lines() {
        let counter_descriptor = ["# HELP ", "# TYPE "].into_iter().find_map(|kind| {
            let (name, rest) = line.strip_prefix(kind)?.split_once(' ')?;
            counters.contains(name).then_some((kind, name, rest))
        });
        match counter_descriptor {
            Some((kind, name, rest)) => {
                let _ = writeln!(text, "{kind}{name}_total {rest}");
            }
            None if line == "# EOF" => {}
            None => {
                text.push_str(line);
                text.push('\n');
            }
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_event_of_each_kind() -> Metrics {
        let metrics = Metrics::default();
        metrics.http_response(404);
        metrics.auth_rejected("invalid_token");
        metrics.message_persisted(Duration::from_millis(3));
        metrics.messages_delivered(2);
        metrics
    }

    #[test]
    fn render_shows_every_series_after_one_event_of_each_kind() {
        let metrics = one_event_of_each_kind();

        let text = metrics.render(1);

        for sample in [
            "palaver_http_requests_total{status=\"404\"} 1\n",
            "palaver_auth_rejections_total{reason=\"invalid_token\"} 1\n",
            "palaver_connections 1\n",
            "palaver_messages_in_total 1\n",
            "palaver_messages_out_total 2\n",
            "palaver_message_persist_seconds_bucket{le=\"0.005\"} 1\n",
            "palaver_message_persist_seconds_bucket{le=\"0.0025\"} 0\n",
            "palaver_message_persist_seconds_count 1\n",
        ] {
            assert!(text.contains(sample), "{sample} missing from\n{text}");
        }
    }

    #[test]
    fn counters_are_typed_under_the_name_of_their_samples() {
        let metrics = one_event_of_each_kind();

        let text = metrics.render(1);

        for line in [
            "# TYPE palaver_http_requests_total counter\n",
            "# HELP palaver_auth_rejections_total Refused credentials by reason.\n",
            "# TYPE palaver_messages_in_total counter\n",
            "# TYPE palaver_connections gauge\n",
            "# TYPE palaver_message_persist_seconds histogram\n",
        ] {
            assert!(text.contains(line), "{line} missing from\n{text}");
        }
        assert!(!text.contains("# EOF"), "{text}");
    }

    #[test]
    fn http_answers_are_counted_by_method_route_and_status_with_their_latency() {
        let metrics = Metrics::default();
        let get = actix_web::http::Method::GET;
        let odd = actix_web::http::Method::from_bytes(b"BREW").expect("a method");

        metrics.http_route_response(&get, "/api/messages/{id}", 404, Duration::from_millis(2));
        metrics.http_route_response(&odd, UNMATCHED_ROUTE, 405, Duration::from_millis(1));
        let text = metrics.render(0);

        for sample in [
            "palaver_http_responses_total{method=\"GET\",route=\"/api/messages/{id}\",status=\"404\"} 1\n",
            "palaver_http_responses_total{method=\"OTHER\",route=\"unmatched\",status=\"405\"} 1\n",
            "palaver_http_request_duration_seconds_bucket{le=\"0.0025\",method=\"GET\",route=\"/api/messages/{id}\"} 1\n",
            "palaver_http_request_duration_seconds_count{method=\"GET\",route=\"/api/messages/{id}\"} 1\n",
            "# TYPE palaver_http_request_duration_seconds histogram\n",
        ] {
            assert!(text.contains(sample), "{sample} missing from\n{text}");
        }
    }

    #[test]
    fn the_connection_gauge_shows_the_count_it_is_given() {
        let metrics = one_event_of_each_kind();

        assert!(metrics.render(0).contains("palaver_connections 0\n"));
        assert!(metrics.render(7).contains("palaver_connections 7\n"));
    }
}
