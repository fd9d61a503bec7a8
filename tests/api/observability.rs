//! What an operator watches: HTTP series labelled by method, route template and status
//! with a latency histogram (never a raw path), `/metrics` on the address `METRICS_BIND`
//! gives it and kept off the public listener in staging and production, and
//! `LOG_FORMAT=json` writing one JSON object per line.

use serde_json::Value;

use crate::support::{random_hex, spawn_app, spawn_app_with, Auth, ServerProcess};

/// The variables a staging server needs besides the test defaults.
fn staging(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut vars = vec![
        ("APP_ENV", "staging"),
        ("PUBLIC_URL", "https://chat.example"),
        ("SESSION_KEY", "a-session-key-of-at-least-32-bytes!!"),
    ];
    vars.extend_from_slice(extra);
    vars
}

#[actix_rt::test]
async fn http_series_are_labelled_by_route_template_and_never_by_the_raw_path() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    app.get("/api/conversations/987654", &alice)
        .await
        .assert_status(404);
    app.get("/no/such/secret-place", Auth::None)
        .await
        .assert_status(404);

    let text = app.get("/metrics", Auth::None).await.text();

    for sample in [
        "palaver_http_responses_total{method=\"GET\",route=\"/api/conversations/{id}\",status=\"404\"} 1\n",
        "palaver_http_responses_total{method=\"GET\",route=\"unmatched\",status=\"404\"} 1\n",
        "palaver_http_responses_total{method=\"POST\",route=\"/api/auth/register\",status=\"201\"} 1\n",
        "palaver_http_request_duration_seconds_count{method=\"GET\",route=\"/api/conversations/{id}\"} 1\n",
        "# TYPE palaver_http_request_duration_seconds histogram\n",
    ] {
        assert!(text.contains(sample), "{sample} missing from\n{text}");
    }
    assert!(!text.contains("987654"), "a raw path in a label:\n{text}");
    assert!(
        !text.contains("secret-place"),
        "a raw path in a label:\n{text}"
    );
}

#[actix_rt::test]
async fn metrics_bind_serves_metrics_on_a_listener_of_their_own_and_not_on_the_main_one() {
    let app = spawn_app_with(&[("METRICS_BIND", "127.0.0.1:0")]).await;
    app.get("/health", Auth::None).await.assert_status(200);
    let port = app.metrics_port.expect("a metrics listener");

    let main = app.get("/metrics", Auth::None).await;
    let own = awc::Client::default()
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .await
        .expect("the metrics listener answers")
        .body()
        .await
        .expect("a body");

    main.assert_error(404, "not_found");
    let own = String::from_utf8_lossy(&own);
    assert!(
        own.contains(
            "palaver_http_responses_total{method=\"GET\",route=\"/health\",status=\"200\"} 1"
        ),
        "{own}"
    );
}

#[actix_rt::test]
async fn staging_keeps_metrics_off_the_public_listener() {
    let app = spawn_app_with(&staging(&[])).await;

    let response = app.get("/metrics", Auth::None).await;

    response.assert_error(404, "not_found");
    assert_eq!(app.metrics_port, None);
    app.get("/health", Auth::None).await.assert_status(200);
}

#[actix_rt::test]
async fn staging_serves_metrics_where_metrics_bind_says() {
    let app = spawn_app_with(&staging(&[("METRICS_BIND", "127.0.0.1:0")])).await;
    let port = app.metrics_port.expect("a metrics listener");

    let response = awc::Client::default()
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .await
        .expect("the metrics listener answers");

    assert_eq!(response.status().as_u16(), 200);
    app.get("/metrics", Auth::None)
        .await
        .assert_error(404, "not_found");
}

#[test]
fn json_logs_are_one_object_per_line() {
    let server = ServerProcess::start(&[("LOG_FORMAT", "json")]);
    let health = server.get("/health", "");
    assert_eq!(health.status, 200);
    let secret = random_hex(4);
    let _ = server.get(&format!("/nowhere?note={secret}"), "");

    let log = server.stop();

    let lines: Vec<Value> = log
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect();
    for line in &lines {
        for field in ["ts", "level", "target", "message"] {
            assert!(line[field].is_string(), "{field} missing: {line}");
        }
    }
    let messages: Vec<&str> = lines.iter().filter_map(|l| l["message"].as_str()).collect();
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("palaver listening on http://127.0.0.1:")),
        "{messages:?}"
    );
    assert!(
        messages.iter().any(|m| m.starts_with("GET /health 200 ")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with(&format!("GET /nowhere?note={secret} 404 "))),
        "{messages:?}"
    );
}
