//! Values parsed at the edge: a handler or the socket turns raw request fields into these
//! types once, and everything past it can rely on them being valid. Each parse error names
//! its field and becomes `400 bad_request` (an `error` frame on a socket).

mod content;
mod ids;
mod names;
mod role;
mod search_query;

pub use content::{
    ClientMsgId, Content, Title, DEFAULT_MAX_CONTENT_CHARS, MAX_CLIENT_MSG_ID, MAX_TITLE_CHARS,
};
pub use ids::{ConversationId, MessageId, UserId, NOT_AN_ID};
pub use names::{
    DisplayName, Password, Username, MAX_DISPLAY_NAME_CHARS, MAX_PASSWORD_CHARS,
    MAX_USERNAME_CHARS, MIN_PASSWORD_CHARS, MIN_USERNAME_CHARS,
};
pub use role::Role;
pub use search_query::{SearchQuery, Sender, Term, MAX_QUERY_CHARS};

/// A field that failed to parse, with the reason; becomes `400 bad_request`.
#[derive(Debug, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct InvalidField {
    /// The request field, as the client spelled it.
    pub field: &'static str,
    /// What is wrong with it, for the error message.
    pub reason: String,
}

fn invalid(field: &'static str, reason: impl Into<String>) -> InvalidField {
    InvalidField {
        field,
        reason: reason.into(),
    }
}
