//! `/api/auth/*`: register, login, logout, who am I, and a fresh token for a long-lived
//! socket. Every login opens a `sessions` row; its cookie and tokens all name it.

use actix_session::Session;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::JsonBody;
use crate::auth::identity::{CookieLogin, COOKIE_LOGIN_KEY};
use crate::auth::{password, AuthUser};
use crate::db::{self, models::UserView};
use crate::domain::{DisplayName, Password, Username, MAX_USERNAME_CHARS};
use crate::error::{AppError, DbContext};
use crate::middleware::session::SESSION_TTL_DAYS;
use crate::state::AppState;

/// Body of `POST /api/auth/register`.
#[derive(Deserialize, ToSchema)]
pub struct RegisterRequest {
    /// 3–32 of `a-z 0-9 _ . -`, case-insensitive.
    #[schema(schema_with = super::openapi::username_schema)]
    pub username: String,
    /// 8–128 characters.
    #[schema(schema_with = super::openapi::password_schema)]
    pub password: String,
    /// 1–64 characters; the username when absent.
    #[schema(schema_with = super::openapi::display_name_schema)]
    pub display_name: Option<String>,
}

/// Body of `POST /api/auth/login`.
#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    /// Case-insensitive.
    pub username: String,
    /// The password.
    pub password: String,
}

/// Answer of register and login.
#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    /// Who logged in.
    pub user: UserView,
    /// A bearer token for this login session.
    pub token: String,
    /// When the token expires.
    pub expires_at: String,
}

/// Answer of `POST /api/auth/token`.
#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    /// A fresh bearer token of the same login session.
    pub token: String,
    /// When it expires.
    pub expires_at: String,
}

/// Answer of `GET /api/auth/me`.
#[derive(Serialize, ToSchema)]
pub struct MeResponse {
    /// The caller.
    pub user: UserView,
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// `POST /api/auth/register`: a new account, logged in at once.
#[utoipa::path(post, path = "/api/auth/register", tag = "auth", request_body = RegisterRequest,
    responses((status = 201, body = LoginResponse, description = "registered and logged in; the session cookie is set"),
        (status = 409, description = "the username is taken"),
        (status = 503, description = "the database cannot be reached")))]
pub async fn register(
    state: web::Data<AppState>,
    session: Session,
    body: JsonBody<RegisterRequest>,
) -> Result<HttpResponse, AppError> {
    let body = body.0;
    let username = Username::parse(&body.username)?;
    let password = Password::parse(&body.password)?;
    let display_name = DisplayName::parse(body.display_name.as_deref(), &username)?;
    let taken = || AppError::Conflict(format!("username {} is taken", username.as_str()));
    if db::users::find_by_username(&state.db, username.as_str())
        .await
        .context("looking up the username")?
        .is_some()
    {
        return Err(taken());
    }
    let hash = web::block(move || password::hash(password.expose()))
        .await
        .map_err(|e| AppError::Internal(e.into()))??;
    let user = db::users::create(&state.db, username.as_str(), display_name.as_str(), &hash)
        .await
        .context("creating a user")?
        .ok_or_else(taken)?;
    let answer = start_session(&state, &session, user.into()).await?;
    Ok(HttpResponse::Created().json(answer))
}

/// `POST /api/auth/login`: 401 alike for an unknown user and a wrong password.
#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse, description = "logged in; the session cookie is set"),
        (status = 401, description = "unknown user or wrong password, alike"),
        (status = 429, description = "too many attempts for this address and username (LOGIN_ATTEMPTS_PER_MIN)"),
        (status = 503, description = "the database cannot be reached")))]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    body: JsonBody<LoginRequest>,
) -> Result<HttpResponse, AppError> {
    let LoginRequest { username, password } = body.0;
    let name = username.trim().to_lowercase();
    let invalid = || AppError::Unauthorized("invalid username or password".into());
    // No user can have a name past the username limit: refuse it before it costs the
    // limiter memory or argon2 time.
    if name.chars().count() > MAX_USERNAME_CHARS {
        state.metrics.auth_rejected("bad_password");
        return Err(invalid());
    }
    let addr = req
        .peer_addr()
        .map(|a| a.ip())
        .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
    state
        .login_limiter
        .attempt(addr, &name)
        .map_err(|retry_after_secs| AppError::RateLimited { retry_after_secs })?;
    let user = match Username::parse(&name) {
        Ok(username) => db::users::find_by_username(&state.db, username.as_str())
            .await
            .context("looking up the username")?,
        Err(_) => None,
    };
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    let valid = web::block(move || password::verify(&password, stored.as_deref()))
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    let user = match (valid, user) {
        (true, Some(user)) => user,
        _ => {
            state.metrics.auth_rejected("bad_password");
            return Err(invalid());
        }
    };
    let answer = start_session(&state, &session, user.into()).await?;
    Ok(HttpResponse::Ok().json(answer))
}

/// Opens a login session: its row, a token naming it, and a renewed cookie holding it.
async fn start_session(
    state: &AppState,
    session: &Session,
    user: UserView,
) -> Result<LoginResponse, AppError> {
    let row = db::sessions::create(
        &state.db,
        user.id,
        chrono::TimeDelta::days(SESSION_TTL_DAYS),
    )
    .await
    .context("opening a login session")?;
    let session_end = row.expires_at.and_utc();
    if let Some(user_id) = crate::domain::UserId::new(user.id) {
        state
            .sessions
            .opened(row.id.clone(), user_id, session_end.timestamp());
    }
    let (token, expires) = state.tokens.issue(user.id, &row.id, session_end)?;
    session.renew();
    session
        .insert(
            COOKIE_LOGIN_KEY,
            CookieLogin {
                sid: row.id,
                uid: user.id,
                exp: session_end.timestamp(),
            },
        )
        .map_err(|e| AppError::Internal(anyhow::anyhow!("cannot write the session cookie: {e}")))?;
    Ok(LoginResponse {
        user,
        token,
        expires_at: rfc3339(expires),
    })
}

/// `POST /api/auth/logout`: ends the caller's login session.
///
/// The session is revoked server-side, so the cookie, any copy of it and every token of
/// that login stop working.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth", responses((status = 204, description = "the login session is revoked")), security(("bearer" = [])))]
pub async fn logout(
    state: web::Data<AppState>,
    session: Session,
    caller: AuthUser,
) -> Result<HttpResponse, AppError> {
    let session_id = caller.0.session_id;
    db::sessions::revoke(&state.db, &session_id)
        .await
        .context("revoking a login session")?;
    state.sessions.revoke(session_id.clone());
    state.live.session_revoked(session_id);
    session.purge();
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /api/auth/me`: who the credentials belong to.
#[utoipa::path(get, path = "/api/auth/me", tag = "auth", responses((status = 200, body = MeResponse)), security(("bearer" = [])))]
pub async fn me(state: web::Data<AppState>, caller: AuthUser) -> Result<HttpResponse, AppError> {
    let user = db::users::find(&state.db, caller.0.user_id.get())
        .await
        .context("reading the caller")?
        .ok_or_else(|| AppError::Unauthorized("the account no longer exists".into()))?;
    Ok(HttpResponse::Ok().json(MeResponse { user: user.into() }))
}

/// `POST /api/auth/token`: a fresh token for the caller's login session.
#[utoipa::path(post, path = "/api/auth/token", tag = "auth", responses((status = 200, body = TokenResponse)), security(("bearer" = [])))]
pub async fn refresh_token(
    state: web::Data<AppState>,
    caller: AuthUser,
) -> Result<HttpResponse, AppError> {
    let identity = caller.0;
    let row = db::sessions::find(&state.db, &identity.session_id)
        .await
        .context("reading the login session")?
        .filter(|s| s.revoked_at.is_none() && s.expires_at.and_utc() > Utc::now())
        .ok_or_else(|| AppError::Unauthorized("the login session has ended".into()))?;
    let (token, expires) =
        state
            .tokens
            .issue(identity.user_id.get(), &row.id, row.expires_at.and_utc())?;
    Ok(HttpResponse::Ok().json(TokenResponse {
        token,
        expires_at: rfc3339(expires),
    }))
}
