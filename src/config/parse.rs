//! Reading raw environment values: one helper per kind of value (number, duration, flag,
//! choice), so every variable is validated the same way and a bad value always
//! becomes a [`ConfigError`] that names its variable.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use super::ConfigError;

/// A refusal of `variable`, for the one line start-up prints before exiting.
pub(super) fn invalid(variable: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        reason: reason.into(),
    }
}

/// Reads variables through a lookup function, so tests can configure without touching
/// the process environment.
pub(super) struct Vars<'a> {
    /// Where values come from: the process environment, or a test's table.
    pub(super) lookup: &'a dyn Fn(&str) -> Option<String>,
}

impl Vars<'_> {
    /// The value of `name`; a blank value counts as unset.
    pub(super) fn get(&self, name: &str) -> Option<String> {
        (self.lookup)(name).filter(|v| !v.trim().is_empty())
    }

    /// Any [`FromStr`] value, `default` when unset.
    pub(super) fn parse<T: FromStr>(&self, name: &'static str, default: T) -> Result<T, ConfigError>
    where
        T::Err: fmt::Display,
    {
        Ok(self.optional(name)?.unwrap_or(default))
    }

    /// A whole number of at least 1, `default` when unset.
    pub(super) fn positive(&self, name: &'static str, default: u64) -> Result<u64, ConfigError> {
        let value: u64 = self.parse(name, default)?;
        if value == 0 {
            return Err(invalid(name, "must be at least 1"));
        }
        Ok(value)
    }

    /// A positive number of seconds.
    pub(super) fn secs(&self, name: &'static str, default: u64) -> Result<Duration, ConfigError> {
        self.positive(name, default).map(Duration::from_secs)
    }

    /// A positive number of milliseconds.
    pub(super) fn millis(&self, name: &'static str, default: u64) -> Result<Duration, ConfigError> {
        self.positive(name, default).map(Duration::from_millis)
    }

    /// Any [`FromStr`] value, `None` when unset.
    pub(super) fn optional<T: FromStr>(&self, name: &'static str) -> Result<Option<T>, ConfigError>
    where
        T::Err: fmt::Display,
    {
        self.get(name)
            .map(|raw| {
                raw.trim()
                    .parse()
                    .map_err(|e| invalid(name, format!("{raw:?}: {e}")))
            })
            .transpose()
    }

    /// A URL whose scheme is one of `schemes`, kept as written; `None` when unset.
    pub(super) fn url(
        &self,
        name: &'static str,
        schemes: &[&str],
    ) -> Result<Option<String>, ConfigError> {
        let Some(raw) = self.get(name) else {
            return Ok(None);
        };
        if !schemes.iter().any(|s| raw.starts_with(&format!("{s}://"))) {
            let expected: Vec<String> = schemes.iter().map(|s| format!("{s}://")).collect();
            return Err(invalid(
                name,
                format!("must start with {}", expected.join(" or ")),
            ));
        }
        Ok(Some(raw))
    }

    /// `true`/`1` or `false`/`0`, in any case.
    pub(super) fn flag(&self, name: &'static str, default: bool) -> Result<bool, ConfigError> {
        match self.get(name).map(|v| v.trim().to_ascii_lowercase()) {
            None => Ok(default),
            Some(v) if v == "true" || v == "1" => Ok(true),
            Some(v) if v == "false" || v == "0" => Ok(false),
            Some(v) => Err(invalid(name, format!("{v:?}: expected true or false"))),
        }
    }

    /// One of the named `choices`, `default` when unset; a bad value is refused listing them.
    pub(super) fn choice<T: Copy>(
        &self,
        name: &'static str,
        default: T,
        choices: &[(&str, T)],
    ) -> Result<T, ConfigError> {
        let Some(raw) = self.get(name) else {
            return Ok(default);
        };
        let raw = raw.trim();
        match choices.iter().find(|(word, _)| *word == raw) {
            Some((_, value)) => Ok(*value),
            None => Err(invalid(
                name,
                format!("{raw:?}: expected {}", one_of(choices)),
            )),
        }
    }
}

/// "a, b or c" from the names of `choices`.
fn one_of<T>(choices: &[(&str, T)]) -> String {
    let names: Vec<&str> = choices.iter().map(|(word, _)| *word).collect();
    match names.split_last() {
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}
