//! Layer 3: every error response leaves with the JSON error body: actix's own 404,
//! 405, 413 and 400, errors raised by inner layers, and panics, which become a 500.
//!
//! The request cannot be kept aside while inner layers run (routing needs sole ownership
//! of it), so an error that comes back without a request travels on as an error whose
//! prepared response is the normalised one.
//!
//! What never reaches this layer: a request head actix-http refuses while parsing it (its
//! bare `431` and `400`, see `startup.rs`).

use std::panic::AssertUnwindSafe;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::InternalError;
use actix_web::http::header::{self, HeaderMap};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::HttpResponse;
use futures_util::FutureExt;

use crate::error::error_response;

/// Gives every error answer of the inner layers the JSON body, and turns a panic into a 500.
pub async fn normalise_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let method = req.method().clone();
    let path = req.path().to_string();
    match AssertUnwindSafe(next.call(req)).catch_unwind().await {
        Ok(Ok(response)) => {
            let (request, response) = response.map_into_boxed_body().into_parts();
            Ok(ServiceResponse::new(
                request,
                normalise(response, &method, &path),
            ))
        }
        Ok(Err(error)) => {
            let response = normalise(error.error_response(), &method, &path);
            Err(InternalError::from_response(error.to_string(), response).into())
        }
        Err(_) => {
            log::error!("handler panicked on {method} {path}");
            let response =
                error_response(StatusCode::INTERNAL_SERVER_ERROR, "internal server error");
            Err(InternalError::from_response("panic", response).into())
        }
    }
}

/// Gives an error response without a JSON body the JSON body, keeping its headers.
fn normalise(response: HttpResponse, method: &Method, path: &str) -> HttpResponse {
    let status = response.status();
    if status.as_u16() < 400 || is_json(response.headers()) {
        return response;
    }
    let mut replaced = error_response(status, default_message(status, method, path));
    for (name, value) in response.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            replaced.headers_mut().insert(name.clone(), value.clone());
        }
    }
    replaced
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

fn default_message(status: StatusCode, method: &Method, path: &str) -> String {
    match status {
        StatusCode::NOT_FOUND => format!("no route for {path}"),
        StatusCode::METHOD_NOT_ALLOWED => format!("{method} is not allowed on {path}"),
        StatusCode::PAYLOAD_TOO_LARGE => "request body too large".into(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "expected Content-Type: application/json".into(),
        s if s.is_server_error() => "internal server error".into(),
        s => s
            .canonical_reason()
            .unwrap_or("request failed")
            .to_lowercase(),
    }
}
