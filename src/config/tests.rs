//! Unit tests of the assembled configuration that need no running server: what `Debug`
//! shows of it, and the variables parsed here that the integration suite does not drive.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use secrecy::ExposeSecret;

use super::{Config, ConfigError, LogFormat, SqliteSynchronous};

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

#[track_caller]
fn assert_refused(vars: &[(&str, &str)], variable: &str) {
    match load(vars) {
        Ok(_) => panic!("{vars:?} was accepted"),
        Err(e) => {
            assert_eq!(e.variable, variable, "{e}");
            assert!(e.to_string().contains(variable), "the line names it: {e}");
        }
    }
}

#[test]
fn the_storage_logging_and_metrics_variables_default_as_the_contract_says() {
    let config = load(&[]).expect("valid");

    assert_eq!(config.database_timeout, Duration::from_millis(3000));
    assert_eq!(config.sqlite_synchronous, SqliteSynchronous::Normal);
    assert!(!config.redis_required);
    assert_eq!(config.log_format, LogFormat::Text);
    assert_eq!(config.metrics_bind, None);
}

#[test]
fn the_storage_logging_and_metrics_variables_are_read_when_set() {
    let config = load(&[
        ("DATABASE_TIMEOUT_MS", "250"),
        ("SQLITE_SYNCHRONOUS", "full"),
        ("REDIS_REQUIRED", "true"),
        ("LOG_FORMAT", "json"),
        ("METRICS_BIND", "127.0.0.1:9100"),
    ])
    .expect("valid");

    assert_eq!(config.database_timeout, Duration::from_millis(250));
    assert_eq!(config.sqlite_synchronous, SqliteSynchronous::Full);
    assert!(config.redis_required);
    assert_eq!(config.log_format, LogFormat::Json);
    assert_eq!(
        config.metrics_bind,
        Some(SocketAddr::from(([127, 0, 0, 1], 9100)))
    );
}

#[test]
fn a_bad_storage_logging_or_metrics_value_is_refused_naming_its_variable() {
    let cases = [
        ("DATABASE_TIMEOUT_MS", "0"),
        ("DATABASE_TIMEOUT_MS", "-5"),
        ("DATABASE_TIMEOUT_MS", "1.5"),
        ("DATABASE_TIMEOUT_MS", "3s"),
        ("SQLITE_SYNCHRONOUS", "off"),
        ("SQLITE_SYNCHRONOUS", "extra"),
        ("REDIS_REQUIRED", "yes please"),
        ("LOG_FORMAT", "xml"),
        ("METRICS_BIND", "localhost"),
        ("METRICS_BIND", "127.0.0.1"),
    ];
    for (name, value) in cases {
        assert_refused(&[(name, value)], name);
    }
}

#[test]
fn the_published_development_keys_are_refused_in_strict_modes_only() {
    let published = "dev-only-jwt-secret-do-not-use-in-production-001";
    for mode in ["staging", "production"] {
        let refused = load(&[
            ("APP_ENV", mode),
            ("PUBLIC_URL", "https://chat.example"),
            ("JWT_SECRET", published),
        ])
        .expect_err("refused");
        assert_eq!(refused.variable, "JWT_SECRET", "{mode}");
        let refused = load(&[
            ("APP_ENV", mode),
            ("PUBLIC_URL", "https://chat.example"),
            (
                "SESSION_KEY",
                "dev-only-session-key-do-not-use-in-production-02",
            ),
        ])
        .expect_err("refused");
        assert_eq!(refused.variable, "SESSION_KEY", "{mode}");
    }
    for mode in ["development", "test"] {
        assert!(
            load(&[("APP_ENV", mode), ("JWT_SECRET", published)]).is_ok(),
            "{mode}"
        );
    }
}
