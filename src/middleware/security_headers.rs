//! Layer 2: security headers on every HTTP response, including errors, but never on a
//! `101 Switching Protocols`. One Content Security Policy fits the bundled page and every
//! other route; Swagger UI under `/docs` gets one of its own.

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

/// Whether `path` is Swagger UI's (`/docs` and its files), which has a policy of its own.
fn is_docs(path: &str) -> bool {
    path == "/docs" || path.starts_with("/docs/")
}

/// Fit for the bundled page: its scripts and styles are files of its own, never inline.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'";

/// Fit for Swagger UI at `/docs`: its scripts and style sheets are its own files, it fetches
/// `/openapi.json` and the requests tried from it on this origin, its icons are `data:` SVG,
/// React sets `style` attributes on the elements it draws (which `style-src-attr` allows
/// without allowing any inline style sheet or script), and its bundle inserts one fixed
/// style sheet, allowed by its hash alone.
const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self' 'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='; \
    style-src-attr 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
    frame-ancestors 'none'; base-uri 'self'; form-action 'none'; object-src 'none'";

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

    fn apply(&self, headers: &mut HeaderMap, docs: bool) {
        for (name, value) in &self.headers {
            headers.insert(name.clone(), value.clone());
        }
        if docs {
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(DOCS_CSP),
            );
        }
    }
}

/// Adds the header set to every answer but a `101`, error answers included.
pub async fn add_security_headers(
    policy: Data<SecurityHeaders>,
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let docs = is_docs(req.path());
    match next.call(req).await {
        Ok(mut response) => {
            if response.status() != StatusCode::SWITCHING_PROTOCOLS {
                policy.apply(response.headers_mut(), docs);
            }
            Ok(response)
        }
        // An error that reached this far still becomes an HTTP response: give it the headers.
        Err(error) => {
            let mut response = error.error_response();
            policy.apply(response.headers_mut(), docs);
            Err(InternalError::from_response(error.to_string(), response).into())
        }
    }
}
