//! Layer 2: security headers on every HTTP response, including errors, but never on a
//! `101 Switching Protocols` (seed 000, finding 3).

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::InternalError;
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::web::Data;

/// The header set, fixed at start-up from `PUBLIC_URL`.
pub struct SecurityHeaders {
    headers: Vec<(HeaderName, HeaderValue)>,
}

/// Fit for the bundled page: its scripts and styles are files of its own, never inline.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'";

impl SecurityHeaders {
    /// The header set; `https` adds `Strict-Transport-Security`.
    pub fn new(https: bool) -> Self {
        let mut headers = vec![
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CSP),
            ),
        ];
        if https {
            headers.push((
                header::STRICT_TRANSPORT_SECURITY,
                HeaderValue::from_static("max-age=31536000; includeSubDomains"),
            ));
        }
        SecurityHeaders { headers }
    }

    fn apply(&self, headers: &mut HeaderMap) {
        for (name, value) in &self.headers {
            headers.insert(name.clone(), value.clone());
        }
    }
}

/// Adds the header set to every answer but a `101`, error answers included.
pub async fn add_security_headers(
    policy: Data<SecurityHeaders>,
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    match next.call(req).await {
        Ok(mut response) => {
            if response.status() != StatusCode::SWITCHING_PROTOCOLS {
                policy.apply(response.headers_mut());
            }
            Ok(response)
        }
        // An error that reached this far still becomes an HTTP response: give it the headers.
        Err(error) => {
            let mut response = error.error_response();
            policy.apply(response.headers_mut());
            Err(InternalError::from_response(error.to_string(), response).into())
        }
    }
}
