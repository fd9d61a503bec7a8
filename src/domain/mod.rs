//! Values parsed at the edge: a handler turns raw request fields into these types once,
//! and everything past it can rely on them being valid. Each parse error names its field.

mod content;
mod names;

pub use content::{Content, Title};
pub use names::{DisplayName, Password, Username};

/// A field that failed to parse, with the reason; becomes `400 bad_request`.
#[derive(Debug, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct InvalidField {
    pub field: &'static str,
    pub reason: String,
}

fn invalid(field: &'static str, reason: impl Into<String>) -> InvalidField {
    InvalidField {
        field,
        reason: reason.into(),
    }
}
