//! Who is calling: token issue and check ([`jwt`]), password hashing ([`password`]), and the
//! proven identity that the middleware resolves and handlers extract ([`identity`]).

pub mod identity;
pub mod jwt;
pub mod password;
pub mod session_cache;

pub use identity::{AuthState, AuthUser, Identity};
pub use jwt::{TokenError, Tokens};
pub use session_cache::{SessionCache, SessionStatus};
