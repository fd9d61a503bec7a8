//! Usernames, display names and passwords.

use super::{invalid, InvalidField};

/// The shortest username.
pub const MIN_USERNAME_CHARS: usize = 3;
/// The longest username.
pub const MAX_USERNAME_CHARS: usize = 32;
/// The longest display name, once trimmed.
pub const MAX_DISPLAY_NAME_CHARS: usize = 64;
/// The shortest new password.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// The longest new password.
pub const MAX_PASSWORD_CHARS: usize = 128;

/// A username: 3–32 of `a-z 0-9 _ . -`, compared case-insensitively by being stored
/// lower-cased (`Alice` registers, logs in and is found as `alice`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    /// Checks and lower-cases a username as it came in.
    pub fn parse(raw: &str) -> Result<Username, InvalidField> {
        let name = raw.trim().to_lowercase();
        let length = name.chars().count();
        if !(MIN_USERNAME_CHARS..=MAX_USERNAME_CHARS).contains(&length) {
            return Err(invalid("username", "must be 3 to 32 characters"));
        }
        if !name.chars().all(|ch| {
            ch.is_ascii_lowercase() || ch.is_ascii_digit() || matches!(ch, '_' | '.' | '-')
        }) {
            return Err(invalid(
                "username",
                "may contain only a-z, 0-9, '_', '.' and '-'",
            ));
        }
        Ok(Username(name))
    }

    /// The stored, lower-cased name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A display name: 1–64 characters once trimmed; the username when none is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    /// Checks a display name, or takes the username when none is given.
    pub fn parse(raw: Option<&str>, username: &Username) -> Result<DisplayName, InvalidField> {
        let Some(raw) = raw.map(str::trim) else {
            return Ok(DisplayName(username.as_str().to_string()));
        };
        let length = raw.chars().count();
        if length == 0 || length > MAX_DISPLAY_NAME_CHARS {
            return Err(invalid("display_name", "must be 1 to 64 characters"));
        }
        if raw.chars().any(char::is_control) {
            return Err(invalid(
                "display_name",
                "must not contain control characters",
            ));
        }
        Ok(DisplayName(raw.to_string()))
    }

    /// The name as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password: 8–128 characters. Never logged, never echoed.
pub struct Password(String);

impl Password {
    /// Checks a new password's length; its content is the user's business.
    pub fn parse(raw: &str) -> Result<Password, InvalidField> {
        let length = raw.chars().count();
        if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&length) {
            return Err(invalid("password", "must be 8 to 128 characters"));
        }
        Ok(Password(raw.to_string()))
    }

    /// The password, only for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_lower_cased_and_checked() {
        assert_eq!(Username::parse("Alice").unwrap().as_str(), "alice");
        assert!(Username::parse("al").is_err());
        assert!(Username::parse("al ice").is_err());
        assert!(Username::parse(&"a".repeat(33)).is_err());
        assert!(Username::parse("a.b-c_1").is_ok());
    }

    #[test]
    fn passwords_must_be_8_to_128_characters() {
        assert!(Password::parse("1234567").is_err());
        assert!(Password::parse("12345678").is_ok());
        assert!(Password::parse(&"x".repeat(129)).is_err());
    }
}
