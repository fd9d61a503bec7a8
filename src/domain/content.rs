//! Message content, the client's own message ids, and conversation titles.

use super::{invalid, InvalidField};

/// `MAX_CONTENT_CHARS` when the configuration does not set it.
pub const DEFAULT_MAX_CONTENT_CHARS: usize = 4000;

/// Message content: not blank, at most `max_chars` characters (`MAX_CONTENT_CHARS`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content(String);

impl Content {
    /// Checks content as it came in from HTTP or a socket.
    pub fn parse(raw: &str, max_chars: usize) -> Result<Content, InvalidField> {
        if raw.trim().is_empty() {
            return Err(invalid("content", "must not be empty"));
        }
        if raw.chars().count() > max_chars {
            return Err(invalid(
                "content",
                format!("must be at most {max_chars} characters"),
            ));
        }
        // PostgreSQL text cannot hold NUL; refusing it keeps both backends alike.
        if raw.contains('\0') {
            return Err(invalid("content", "must not contain NUL characters"));
        }
        Ok(Content(raw.to_string()))
    }

    /// The content as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Longest accepted `client_msg_id`.
pub const MAX_CLIENT_MSG_ID: usize = 128;

/// A client's own id for a message (`client_msg_id`): 1–128 characters, none of them
/// control characters. A repeat from the same sender finds the first message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientMsgId(String);

impl ClientMsgId {
    /// Checks an optional `client_msg_id` as it came in.
    pub fn parse(raw: Option<&str>) -> Result<Option<ClientMsgId>, InvalidField> {
        match raw {
            None => Ok(None),
            Some(id)
                if id.is_empty()
                    || id.chars().count() > MAX_CLIENT_MSG_ID
                    || id.chars().any(char::is_control) =>
            {
                Err(invalid(
                    "client_msg_id",
                    format!(
                        "must be 1 to {MAX_CLIENT_MSG_ID} characters, none of them control characters"
                    ),
                ))
            }
            Some(id) => Ok(Some(ClientMsgId(id.to_string()))),
        }
    }

    /// The id as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The longest title, once trimmed.
pub const MAX_TITLE_CHARS: usize = 200;

/// A conversation title: 1–200 characters once trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title(String);

impl Title {
    /// Checks (and trims) a title as it came in.
    pub fn parse(raw: &str) -> Result<Title, InvalidField> {
        let title = raw.trim();
        let length = title.chars().count();
        if length == 0 || length > MAX_TITLE_CHARS {
            return Err(invalid("title", "must be 1 to 200 characters"));
        }
        if title.chars().any(char::is_control) {
            return Err(invalid("title", "must not contain control characters"));
        }
        Ok(Title(title.to_string()))
    }

    /// The title as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_must_be_non_blank_and_within_the_limit() {
        assert!(Content::parse("", 10).is_err());
        assert!(Content::parse("   ", 10).is_err());
        assert!(Content::parse("héllo", 5).is_ok());
        assert!(Content::parse("héllo!", 5).is_err());
    }
}
