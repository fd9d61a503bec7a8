//! The proven identity. The auth-context layer resolves it once per request from
//! `Authorization: Bearer` or the session cookie and stores an [`AuthState`] in the request
//! extensions; handlers take [`AuthUser`], and the WebSocket handshake reads the same state.

use std::future::{ready, Ready};

use actix_web::{dev::Payload, FromRequest, HttpMessage, HttpRequest};
use serde::{Deserialize, Serialize};

use super::jwt::{TokenError, Tokens};
use super::revocation::RevokedSessions;
use crate::domain::UserId;
use crate::error::AppError;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "palaver_session";
/// Key under which the cookie session keeps [`CookieLogin`].
pub const COOKIE_LOGIN_KEY: &str = "login";

/// Which credential proved the identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// A JWT: `Authorization: Bearer`, the `bearer.` subprotocol, `?token=`, or a frame.
    Bearer,
    /// The `palaver_session` cookie.
    Cookie,
}

/// A caller whose credential checked out: a live session of an existing user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Who.
    pub user_id: UserId,
    /// The `sessions` row the credential names; logout revokes it.
    pub session_id: String,
    /// Which credential it was: a cookie has no token expiry to close a socket at.
    pub credential: Credential,
    /// When the credential stops being valid, in Unix seconds.
    pub expires_at: i64,
}

/// What the auth context found on a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthState {
    /// No credential at all.
    Anonymous,
    /// A credential that checked out.
    Proven(Identity),
    /// A credential that is present but not valid; the reason is for logs and metrics.
    Invalid(&'static str),
}

/// What the encrypted session cookie holds: the login session and its end, so a request
/// with a cookie costs no query.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CookieLogin {
    /// The login session.
    pub sid: String,
    /// Its user.
    pub uid: i64,
    /// Its end, in Unix seconds.
    pub exp: i64,
}

/// Checks a bearer token: signature and claims, then that its session is not revoked.
pub fn from_token(
    tokens: &Tokens,
    revoked: &RevokedSessions,
    token: &str,
    credential: Credential,
) -> AuthState {
    match tokens.verify(token) {
        Ok(v) if revoked.contains(&v.session_id) => AuthState::Invalid("revoked_session"),
        Ok(v) => AuthState::Proven(Identity {
            user_id: v.user_id,
            session_id: v.session_id,
            credential,
            expires_at: v.expires_at,
        }),
        Err(e @ (TokenError::Expired | TokenError::Invalid)) => AuthState::Invalid(e.reason()),
    }
}

/// Checks what the session cookie carried: a cookie with no live login in it is invalid.
pub fn from_cookie(login: Option<CookieLogin>, revoked: &RevokedSessions, now: i64) -> AuthState {
    match login {
        None => AuthState::Invalid("invalid_cookie"),
        Some(l) if l.exp <= now => AuthState::Invalid("expired_session"),
        Some(l) if revoked.contains(&l.sid) => AuthState::Invalid("revoked_session"),
        Some(l) => match UserId::new(l.uid) {
            None => AuthState::Invalid("invalid_cookie"),
            Some(user_id) => AuthState::Proven(Identity {
                user_id,
                session_id: l.sid,
                credential: Credential::Cookie,
                expires_at: l.exp,
            }),
        },
    }
}

/// The auth state of a request, as the auth context left it.
pub fn auth_state(req: &HttpRequest) -> AuthState {
    req.extensions()
        .get::<AuthState>()
        .cloned()
        .unwrap_or(AuthState::Anonymous)
}

/// Extractor for handlers of protected routes: the caller's proven identity, or `401`.
pub struct AuthUser(pub Identity);

impl AuthUser {
    /// The caller.
    pub fn user_id(&self) -> UserId {
        self.0.user_id
    }
}

impl FromRequest for AuthUser {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(match auth_state(req) {
            AuthState::Proven(identity) => Ok(AuthUser(identity)),
            _ => Err(AppError::Unauthorized("authentication required".into())),
        })
    }
}
