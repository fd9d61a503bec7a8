//! Layer 7: protected HTTP routes answer `401` without a proven identity. The gate knows
//! the route table, so it only guards routes that exist: an unknown path falls through to
//! `404` and a wrong method to `405`, whatever the credentials. WebSocket endpoints are
//! public here because their handshake authenticates before it accepts.

use std::collections::HashMap;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::web::Data;
use actix_web::ResponseError;

use crate::auth::identity::{auth_state, AuthState};
use crate::error::AppError;
use crate::state::AppState;

/// Whether a route needs a proven identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No identity needed.
    Public,
    /// A proven identity needed, else 401.
    Protected,
}

/// Every route's pattern and method with its access, built from the route list itself.
#[derive(Debug, Default)]
pub struct RouteTable {
    routes: HashMap<(String, Method), Access>,
}

impl RouteTable {
    /// Records that `method` on `pattern` exists with this access.
    pub fn insert(&mut self, pattern: &str, method: Method, access: Access) {
        self.routes.insert((pattern.to_string(), method), access);
    }

    fn access(&self, pattern: &str, method: &Method) -> Option<Access> {
        self.routes
            .get(&(pattern.to_string(), method.clone()))
            .copied()
    }
}

/// The layer's function: 404 and 405 for routes that do not exist, 401 for protected ones without an identity.
pub async fn guard_routes(
    table: Data<RouteTable>,
    state: Data<AppState>,
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let protected = req
        .match_pattern()
        .is_some_and(|pattern| table.access(&pattern, req.method()) == Some(Access::Protected));
    if protected {
        let refusal = match auth_state(req.request()) {
            AuthState::Proven(_) => None,
            AuthState::Unavailable => {
                let response = AppError::Unavailable.error_response();
                return Ok(req.into_response(response).map_into_right_body());
            }
            AuthState::Anonymous => Some("missing_credentials"),
            AuthState::Invalid(reason) => Some(reason),
        };
        if let Some(reason) = refusal {
            state.metrics.auth_rejected(reason);
            let message = if reason == "missing_credentials" {
                "authentication required"
            } else {
                "invalid credentials"
            };
            let response = AppError::Unauthorized(message.into()).error_response();
            return Ok(req.into_response(response).map_into_right_body());
        }
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}
