//! Loading a [`Config`] the way the server does, from a map of variables instead of the
//! process environment, so the configuration suite runs its cases side by side.

use std::path::Path;

use palaver::config::{Config, ConfigError};

/// A strong secret for `JWT_SECRET` in a strict configuration.
pub const STRONG_A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
/// Another strong secret, for `SESSION_KEY`, different from [`STRONG_A`].
pub const STRONG_B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

/// `Config::load` over only `vars`, with `workdir` as the working directory.
pub fn load_config_in(workdir: &Path, vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let lookup = move |name: &str| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    Config::load(&lookup, workdir)
}

/// `Config::load` over only `vars`, from an empty temporary directory.
pub fn load_config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let workdir = tempfile::tempdir().expect("a temporary directory");
    load_config_in(workdir.path(), vars)
}

/// A complete staging or production configuration, with `changes` applied (an empty
/// value removes the variable).
pub fn strict_config(
    mode: &str,
    changes: &[(&'static str, &'static str)],
) -> Result<Config, ConfigError> {
    let mut vars = vec![
        ("APP_ENV", mode),
        ("PUBLIC_URL", "https://chat.example"),
        ("JWT_SECRET", STRONG_A),
        ("SESSION_KEY", STRONG_B),
    ];
    for (name, value) in changes {
        vars.retain(|(n, _)| n != name);
        if !value.is_empty() {
            vars.push((name, value));
        }
    }
    load_config(&vars)
}

/// Asserts the configuration was refused, naming `variable` in the error and its message.
#[track_caller]
pub fn assert_config_refused(result: Result<Config, ConfigError>, variable: &str) {
    match result {
        Ok(_) => panic!("a configuration with a bad {variable} was accepted"),
        Err(e) => {
            assert_eq!(e.variable, variable, "{e}");
            assert!(
                e.to_string().contains(variable),
                "the message names {variable}: {e}"
            );
        }
    }
}
