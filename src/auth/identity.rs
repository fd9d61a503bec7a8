//! The proven identity. The auth-context layer resolves it once per request from
//! `Authorization: Bearer` or the session cookie and stores an [`AuthState`] in the request
//! extensions; handlers take [`AuthUser`], and the WebSocket handshake reads the same state.

use std::future::{ready, Ready};

use actix_web::{dev::Payload, FromRequest, HttpMessage, HttpRequest};
use serde::{Deserialize, Serialize};

use super::jwt::{TokenError, Tokens};
use super::session_cache::{SessionCache, SessionStatus};
use crate::db::Db;
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
    /// A credential that could not be checked because the database did not answer: 503.
    Unavailable,
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

/// Checks a bearer token: signature and claims, then that it names a live session of its
/// own user. A database that cannot be asked is [`AuthState::Unavailable`], never a pass.
pub async fn from_token(
    tokens: &Tokens,
    sessions: &SessionCache,
    db: &Db,
    token: &str,
    credential: Credential,
) -> AuthState {
    let verified = match tokens.verify(token) {
        Ok(verified) => verified,
        Err(e @ (TokenError::Expired | TokenError::Invalid)) => {
            return AuthState::Invalid(e.reason())
        }
    };
    match live_session(sessions, db, &verified.session_id, verified.user_id).await {
        Ok(()) => AuthState::Proven(Identity {
            user_id: verified.user_id,
            session_id: verified.session_id,
            credential,
            expires_at: verified.expires_at,
        }),
        Err(refused) => refused,
    }
}

/// Checks what the session cookie carried: a cookie with no live login in it is invalid.
pub async fn from_cookie(
    login: Option<CookieLogin>,
    sessions: &SessionCache,
    db: &Db,
    now: i64,
) -> AuthState {
    let Some(login) = login else {
        return AuthState::Invalid("invalid_cookie");
    };
    if login.exp <= now {
        return AuthState::Invalid("expired_session");
    }
    let Some(user_id) = UserId::new(login.uid) else {
        return AuthState::Invalid("invalid_cookie");
    };
    match live_session(sessions, db, &login.sid, user_id).await {
        Ok(()) => AuthState::Proven(Identity {
            user_id,
            session_id: login.sid,
            credential: Credential::Cookie,
            expires_at: login.exp,
        }),
        Err(refused) => refused,
    }
}

/// `Ok` when the session is live and belongs to `user_id`; otherwise the refusal.
async fn live_session(
    sessions: &SessionCache,
    db: &Db,
    session_id: &str,
    user_id: UserId,
) -> Result<(), AuthState> {
    match sessions.status(db, session_id).await {
        Ok(SessionStatus::Live {
            user_id: owner,
            expires_at,
        }) if owner == user_id && expires_at > chrono::Utc::now().timestamp() => Ok(()),
        Ok(SessionStatus::Live { .. }) => Err(AuthState::Invalid("expired_session")),
        Ok(SessionStatus::Revoked) => Err(AuthState::Invalid("revoked_session")),
        Ok(SessionStatus::Unknown) => Err(AuthState::Invalid("unknown_session")),
        Err(e) => {
            log::warn!("cannot check a login session: {e}");
            Err(AuthState::Unavailable)
        }
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
            AuthState::Unavailable => Err(AppError::Unavailable),
            _ => Err(AppError::Unauthorized("authentication required".into())),
        })
    }
}
