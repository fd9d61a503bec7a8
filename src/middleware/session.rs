//! Layer 5: the `palaver_session` cookie, signed and encrypted by actix-session. It holds
//! only the login session's id and end ([`CookieLogin`](crate::auth::identity::CookieLogin)).

use actix_session::config::{CookieContentSecurity, PersistentSession};
use actix_session::storage::CookieSessionStore;
use actix_session::SessionMiddleware;
use actix_web::cookie::{time, Key, SameSite};
use secrecy::ExposeSecret;

use crate::auth::identity::SESSION_COOKIE;
use crate::config::Config;

/// How long a login lasts, for its cookie and its `sessions` row alike.
pub const SESSION_TTL_DAYS: i64 = 30;

/// Builds the session layer: HttpOnly, SameSite=Lax, `Secure` under `https://`.
pub fn session_layer(config: &Config) -> SessionMiddleware<CookieSessionStore> {
    SessionMiddleware::builder(
        CookieSessionStore::default(),
        Key::derive_from(config.session_key.expose_secret()),
    )
    .cookie_name(SESSION_COOKIE.to_string())
    .cookie_http_only(true)
    .cookie_same_site(SameSite::Lax)
    .cookie_secure(config.is_https())
    .cookie_path("/".to_string())
    .cookie_content_security(CookieContentSecurity::Private)
    .session_lifecycle(
        PersistentSession::default().session_ttl(time::Duration::days(SESSION_TTL_DAYS)),
    )
    .build()
}
