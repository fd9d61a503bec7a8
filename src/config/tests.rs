//! Unit tests of the assembled configuration that need no running server: what `Debug`
//! shows of it, and the variables parsed here that the integration suite does not drive.

use std::path::Path;

use secrecy::ExposeSecret;

use super::{Config, ConfigError};

const JWT_SECRET: &str = "jjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjj";
const SESSION_KEY: &str = "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk";

/// Loads `vars` in test mode (nothing is written), with both secrets given.
fn load(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let mut all: Vec<(String, String)> = vec![
        ("APP_ENV".into(), "test".into()),
        ("JWT_SECRET".into(), JWT_SECRET.into()),
        ("SESSION_KEY".into(), SESSION_KEY.into()),
    ];
    for (name, value) in vars {
        all.retain(|(n, _)| n != name);
        all.push((name.to_string(), value.to_string()));
    }
    let lookup = move |name: &str| all.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    Config::load(&lookup, Path::new("/nonexistent"))
}

#[test]
fn debug_output_shows_neither_secret() {
    let config = load(&[]).expect("valid");

    let printed = format!("{config:?}");

    assert_eq!(config.jwt_secret.expose_secret(), JWT_SECRET.as_bytes());
    assert_eq!(config.session_key.expose_secret(), SESSION_KEY.as_bytes());
    assert!(!printed.contains(JWT_SECRET), "{printed}");
    assert!(!printed.contains(SESSION_KEY), "{printed}");
    assert!(
        !printed.contains("106, 106, 106"),
        "no bytes either: {printed}"
    );
    assert!(printed.contains("jwt_secret"), "{printed}");
}

#[test]
fn a_derived_session_key_does_not_show_in_debug_output_either() {
    let config = load(&[("SESSION_KEY", "")]).expect("valid");
    let derived = config.session_key.expose_secret().to_vec();

    let printed = format!("{config:?}");

    assert!(!printed.contains(&format!("{derived:?}")), "{printed}");
    assert!(!printed.contains(&hex::encode(&derived)), "{printed}");
}
