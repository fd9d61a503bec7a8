//! Layer 3: every error response leaves with the JSON body of API.md: actix's own 404,
//! 405, 413 and 400, errors raised by inner layers, and panics, which become a 500.

use std::panic::AssertUnwindSafe;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use futures_util::FutureExt;

use crate::error::error_response;

pub async fn normalise_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let request = req.request().clone();
    let response = match AssertUnwindSafe(next.call(req)).catch_unwind().await {
        Ok(Ok(response)) => response.map_into_boxed_body(),
        Ok(Err(error)) => ServiceResponse::new(request, error.error_response()),
        Err(_) => {
            log::error!("handler panicked on {} {}", request.method(), request.path());
            ServiceResponse::new(request, error_response(StatusCode::INTERNAL_SERVER_ERROR, "internal server error"))
        }
    };
    if response.status().as_u16() < 400 || is_json(response.headers()) {
        return Ok(response);
    }
    let (request, original) = response.into_parts();
    let status = original.status();
    let message = default_message(status, &request);
    let mut replaced = error_response(status, message);
    for (name, value) in original.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            replaced.headers_mut().insert(name.clone(), value.clone());
        }
    }
    Ok(ServiceResponse::new(request, replaced))
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

fn default_message(status: StatusCode, req: &actix_web::HttpRequest) -> String {
    match status {
        StatusCode::NOT_FOUND => format!("no route for {}", req.path()),
        StatusCode::METHOD_NOT_ALLOWED => format!("{} is not allowed on {}", req.method(), req.path()),
        StatusCode::PAYLOAD_TOO_LARGE => "request body too large".into(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "expected Content-Type: application/json".into(),
        s if s.is_server_error() => "internal server error".into(),
        s => s.canonical_reason().unwrap_or("request failed").to_lowercase(),
    }
}
