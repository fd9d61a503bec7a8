//! Layer 6: resolves who is calling, from `Authorization: Bearer` first, then the session
//! cookie, and stores the [`AuthState`] in the request extensions. It never rejects and
//! never falls back: a credential that is present and bad is `Invalid`, not anonymous.

use actix_session::SessionExt;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderValue, AUTHORIZATION};
use actix_web::middleware::Next;
use actix_web::web::Data;
use actix_web::HttpMessage;

use crate::auth::identity::{
    self, AuthState, CookieLogin, Credential, COOKIE_LOGIN_KEY, SESSION_COOKIE,
};
use crate::state::AppState;

/// The layer's function: resolves the credential and never rejects.
pub async fn resolve_identity(
    state: Data<AppState>,
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let auth = if let Some(value) = req.headers().get(AUTHORIZATION) {
        match bearer_token(value) {
            Some(token) => {
                identity::from_token(
                    &state.tokens,
                    &state.sessions,
                    &state.db,
                    token,
                    Credential::Bearer,
                )
                .await
            }
            None => AuthState::Invalid("malformed_authorization"),
        }
    } else if req.cookie(SESSION_COOKIE).is_some() {
        let login = req
            .get_session()
            .get::<CookieLogin>(COOKIE_LOGIN_KEY)
            .ok()
            .flatten();
        identity::from_cookie(
            login,
            &state.sessions,
            &state.db,
            chrono::Utc::now().timestamp(),
        )
        .await
    } else {
        AuthState::Anonymous
    };
    req.extensions_mut().insert(auth);
    next.call(req).await
}

/// The token of an `Authorization: Bearer <token>` value (scheme case-insensitive).
pub fn bearer_token(value: &HeaderValue) -> Option<&str> {
    let value = value.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}
