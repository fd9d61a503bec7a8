//! Layer 1: one log line per request (method, path, status, duration, request id) and the
//! HTTP counters of `/metrics`. The query's `token` value is redacted and no header value
//! is ever written, so a credential cannot reach the log.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web::Data;
use rand::RngCore;

use crate::state::AppState;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub async fn log_request(
    state: Data<AppState>,
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let request_id = request_id(&req);
    let method = req.method().clone();
    let target = redacted_target(req.path(), req.query_string());
    let result = next.call(req).await;
    let status = match &result {
        Ok(response) => response.status(),
        Err(error) => error.as_response_error().status_code(),
    };
    state.metrics.http_response(status.as_u16());
    log::info!(
        "{method} {target} {} {:.1}ms id={request_id}",
        status.as_u16(),
        started.elapsed().as_secs_f64() * 1000.0
    );
    let mut response = result?;
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    Ok(response)
}

/// The caller's `X-Request-Id` when it is short and printable, else a fresh one.
fn request_id(req: &ServiceRequest) -> String {
    req.headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        .map(str::to_string)
        .unwrap_or_else(|| {
            let mut bytes = [0u8; 8];
            rand::rng().fill_bytes(&mut bytes);
            hex::encode(bytes)
        })
}

/// The path and query with the value of every `token` parameter replaced.
pub fn redacted_target(path: &str, query: &str) -> String {
    if query.is_empty() {
        return path.to_string();
    }
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if key.eq_ignore_ascii_case("token") => format!("{key}=[redacted]"),
            _ => pair.to_string(),
        })
        .collect();
    format!("{path}?{}", query.join("&"))
}

#[cfg(test)]
mod tests {
    use super::redacted_target;

    #[test]
    fn token_values_never_reach_the_log() {
        assert_eq!(
            redacted_target("/ws", "token=abc.def&x=1"),
            "/ws?token=[redacted]&x=1"
        );
        assert_eq!(redacted_target("/ws", "TOKEN=abc"), "/ws?TOKEN=[redacted]");
        assert_eq!(redacted_target("/a", ""), "/a");
    }
}
