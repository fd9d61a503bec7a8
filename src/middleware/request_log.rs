//! Layer 1: one log line per request (method, path, status, duration, request id) and the
//! HTTP series of `/metrics`, labelled with the route template the request matched
//! (`/api/messages/{id}`, never the path itself; `unmatched` when none did). The value of every query parameter that names a token is
//! redacted, however it is spelled, and no header value (`Authorization`, `Cookie`,
//! `Set-Cookie` or any other) is ever written, so a credential cannot reach the log.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web::Data;
use rand::RngCore;

use crate::state::AppState;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Logs `req` and its answer, counts the answer, and hands back its request id.
pub async fn log_request(
    state: Data<AppState>,
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let request_id = request_id(&req);
    let method = req.method().clone();
    let target = redacted_target(req.path(), req.query_string());
    // The resource map knows the template before routing has run.
    let route = req
        .match_pattern()
        .unwrap_or_else(|| crate::metrics::UNMATCHED_ROUTE.to_string());
    let result = next.call(req).await;
    let status = match &result {
        Ok(response) => response.status(),
        Err(error) => error.as_response_error().status_code(),
    };
    state.metrics.http_response(status.as_u16());
    state
        .metrics
        .http_route_response(&method, &route, status.as_u16(), started.elapsed());
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

/// The path and query with the value of every parameter that names a token replaced.
///
/// Names are compared percent-decoded and without regard to case (`%74oken`, `tok%65n`,
/// `TOKEN`, `access_token` all count), and pairs are split at `;` as well as `&`, so no
/// spelling that the server or a proxy in front of it might read as `token` is logged. A
/// `&`-separated pair any of whose `;`-pieces names a token is redacted whole.
pub fn redacted_target(path: &str, query: &str) -> String {
    if query.is_empty() {
        return path.to_string();
    }
    let query: Vec<String> = query.split('&').map(redacted_pair).collect();
    format!("{path}?{}", query.join("&"))
}

fn redacted_pair(pair: &str) -> String {
    if !pair.split(';').any(names_a_token) {
        return pair.to_string();
    }
    let name = pair.split(['=', ';']).next().unwrap_or_default();
    format!("{name}=[redacted]")
}

/// Whether the percent-decoded name of `piece` (`name=value` or a bare `name`) mentions a token.
fn names_a_token(piece: &str) -> bool {
    url::form_urlencoded::parse(piece.as_bytes())
        .next()
        .is_some_and(|(name, _)| name.to_ascii_lowercase().contains("token"))
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

    #[test]
    fn percent_encoded_names_are_redacted() {
        assert_eq!(
            redacted_target("/ws", "%74oken=abc"),
            "/ws?%74oken=[redacted]"
        );
        assert_eq!(
            redacted_target("/ws", "tok%65n=abc&x=1"),
            "/ws?tok%65n=[redacted]&x=1"
        );
        assert_eq!(
            redacted_target("/ws", "T%4Fken=abc"),
            "/ws?T%4Fken=[redacted]"
        );
    }

    #[test]
    fn tokens_after_either_separator_are_redacted() {
        assert_eq!(
            redacted_target("/ws", "x=1&token=abc"),
            "/ws?x=1&token=[redacted]"
        );
        assert_eq!(redacted_target("/ws", "x=1;token=abc"), "/ws?x=[redacted]");
        assert_eq!(
            redacted_target("/ws", "token=abc;def"),
            "/ws?token=[redacted]"
        );
        assert_eq!(
            redacted_target("/ws", "access_token=abc"),
            "/ws?access_token=[redacted]"
        );
    }

    #[test]
    fn other_parameters_are_kept() {
        assert_eq!(
            redacted_target("/api/messages", "conversation_id=3&limit=20"),
            "/api/messages?conversation_id=3&limit=20"
        );
    }
}
