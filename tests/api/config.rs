//! Configuration (docs/configuration.md): defaults, modes, and every refusal naming its variable.
//! `Config::load` takes a lookup function, so no test touches the process environment.

use std::time::Duration;

use palaver::config::{AppEnv, DatabaseUrl, WsAuthMode, DEV_SECRETS_FILE};
use secrecy::ExposeSecret;

use crate::support::{
    assert_config_refused, load_config, load_config_in, strict_config, STRONG_A, STRONG_B,
};

#[test]
fn development_defaults_match_the_contract() {
    let config = load_config(&[]).expect("the defaults are valid");

    assert_eq!(config.app_env, AppEnv::Development);
    assert_eq!(config.bind_addr.to_string(), "127.0.0.1:8080");
    assert_eq!(config.public_url.as_str(), "http://127.0.0.1:8080/");
    assert_eq!(
        config.database_url,
        DatabaseUrl::Sqlite("palaver.db".into())
    );
    assert_eq!(config.database_pool_size, 10);
    assert_eq!(
        (config.jwt_issuer.as_str(), config.jwt_audience.as_str()),
        ("palaver", "palaver")
    );
    assert_eq!(config.jwt_ttl, Duration::from_secs(3600));
    assert!(config.allowed_origins.is_empty());
    assert_eq!(config.ws_auth_mode, WsAuthMode::HandshakeOrFirstMessage);
    assert!(config.ws_query_token);
    assert_eq!(config.heartbeat_interval, Duration::from_secs(30));
    assert_eq!(config.client_timeout, Duration::from_secs(60));
    assert_eq!(config.first_message_timeout, Duration::from_secs(10));
    assert_eq!(config.max_frame_bytes, 65536);
    assert_eq!(config.max_body_bytes, 65536);
    assert_eq!(config.login_attempts_per_min, 10);
    assert_eq!(config.max_content_chars, 4000);
    assert_eq!(
        (config.rate_limit_per_sec, config.rate_limit_burst),
        (20, 40)
    );
    assert_eq!(config.outbound_queue_limit, 1024);
    assert_eq!(config.max_sockets_per_user, 20);
    assert_eq!(config.max_connections, 100_000);
    assert_eq!(config.redis_url, None);
    assert_eq!(config.shutdown_timeout, Duration::from_secs(10));
}

#[test]
fn staging_and_production_default_to_handshake_auth_without_query_tokens() {
    for mode in ["staging", "production"] {
        let config = strict_config(mode, &[]).expect("a complete strict configuration is valid");

        assert_eq!(config.ws_auth_mode, WsAuthMode::Handshake, "{mode}");
        assert!(!config.ws_query_token, "{mode}");
    }
}

#[test]
fn test_mode_defaults_to_first_message_auth_and_query_tokens() {
    let config = load_config(&[("APP_ENV", "test")]).expect("valid");

    assert_eq!(config.app_env, AppEnv::Test);
    assert_eq!(config.ws_auth_mode, WsAuthMode::HandshakeOrFirstMessage);
    assert!(config.ws_query_token);
}

#[test]
fn the_public_url_defaults_to_http_and_the_bind_address() {
    let config =
        load_config(&[("APP_ENV", "test"), ("BIND_ADDR", "127.0.0.1:9123")]).expect("valid");

    assert_eq!(config.public_url.as_str(), "http://127.0.0.1:9123/");
    assert!(!config.is_https());
}

#[test]
fn a_postgres_database_url_selects_postgres() {
    for url in ["postgres://u@db/palaver", "postgresql://u@db/palaver"] {
        let config = load_config(&[("APP_ENV", "test"), ("DATABASE_URL", url)]).expect("valid");

        assert_eq!(config.database_url, DatabaseUrl::Postgres(url.into()));
    }
}

#[test]
fn development_keeps_its_generated_secret_in_a_0600_file_and_reuses_it() {
    let workdir = tempfile::tempdir().expect("a temporary directory");

    let first = load_config_in(workdir.path(), &[]).expect("valid");
    let second = load_config_in(workdir.path(), &[]).expect("valid");

    let file = workdir.path().join(DEV_SECRETS_FILE);
    let metadata = std::fs::metadata(&file).expect("the secrets file exists");
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&metadata.permissions()) & 0o777,
        0o600
    );
    assert!(first.jwt_secret.expose_secret().len() >= 32);
    assert_eq!(
        first.jwt_secret.expose_secret(),
        second.jwt_secret.expose_secret(),
        "the second start reuses the secret"
    );
    assert!(
        first.warnings.iter().any(|w| w.contains("JWT_SECRET")),
        "a warning: {:?}",
        first.warnings
    );
}

#[test]
fn a_short_secret_in_the_development_file_is_refused_naming_jwt_secret() {
    let workdir = tempfile::tempdir().expect("a temporary directory");
    let file = workdir.path().join(DEV_SECRETS_FILE);
    std::fs::write(&file, "too short\n").expect("write");
    std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .expect("chmod");

    assert_config_refused(load_config_in(workdir.path(), &[]), "JWT_SECRET");
}

#[test]
fn a_development_secret_file_that_others_can_read_is_refused_until_it_is_0600() {
    let workdir = tempfile::tempdir().expect("a temporary directory");
    let file = workdir.path().join(DEV_SECRETS_FILE);
    std::fs::write(&file, "a".repeat(64)).expect("write");
    std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o644))
        .expect("chmod");

    let refused = load_config_in(workdir.path(), &[]);

    assert_config_refused(refused, "JWT_SECRET");
    std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .expect("chmod");
    let accepted = load_config_in(workdir.path(), &[]).expect("a 0600 file is used");
    assert_eq!(
        accepted.jwt_secret.expose_secret(),
        "a".repeat(64).as_bytes()
    );
}

#[test]
fn test_mode_uses_a_random_secret_and_writes_nothing() {
    let workdir = tempfile::tempdir().expect("a temporary directory");

    let first = load_config_in(workdir.path(), &[("APP_ENV", "test")]).expect("valid");
    let second = load_config_in(workdir.path(), &[("APP_ENV", "test")]).expect("valid");

    assert!(first.jwt_secret.expose_secret().len() >= 32);
    assert_ne!(
        first.jwt_secret.expose_secret(),
        second.jwt_secret.expose_secret(),
        "not a fixed secret"
    );
    assert!(!workdir.path().join(DEV_SECRETS_FILE).exists());
}

#[test]
fn the_session_key_is_derived_from_the_jwt_secret_outside_strict_modes() {
    let config = load_config(&[("APP_ENV", "test"), ("JWT_SECRET", STRONG_A)]).expect("valid");

    let derived = actix_web::cookie::Key::derive_from(STRONG_A.as_bytes());
    assert_eq!(config.session_key.expose_secret(), derived.master());
    assert_ne!(
        config.session_key.expose_secret(),
        config.jwt_secret.expose_secret()
    );
}

#[test]
fn secrets_never_show_in_debug_output() {
    let config = strict_config("production", &[]).expect("valid");

    let printed = format!("{config:?}");

    assert!(
        !printed.contains(STRONG_A) && !printed.contains(STRONG_B),
        "{printed}"
    );
}

#[test]
fn a_complete_strict_configuration_with_32_byte_secrets_starts() {
    let jwt = "j".repeat(32);
    let key = "k".repeat(32);
    for mode in ["staging", "production"] {
        let vars = [
            ("APP_ENV", mode),
            ("PUBLIC_URL", "https://chat.example"),
            ("JWT_SECRET", &jwt),
            ("SESSION_KEY", &key),
        ];

        let config = load_config(&vars).unwrap_or_else(|e| panic!("{mode}: {e}"));

        assert!(config.app_env.is_strict());
    }
}

#[test]
fn staging_and_production_refuse_to_start_without_jwt_secret() {
    for mode in ["staging", "production"] {
        assert_config_refused(strict_config(mode, &[("JWT_SECRET", "")]), "JWT_SECRET");
    }
}

#[test]
fn staging_and_production_refuse_to_start_without_session_key() {
    for mode in ["staging", "production"] {
        assert_config_refused(strict_config(mode, &[("SESSION_KEY", "")]), "SESSION_KEY");
    }
}

#[test]
fn staging_and_production_refuse_a_jwt_secret_shorter_than_32_bytes() {
    for mode in ["staging", "production"] {
        assert_config_refused(
            strict_config(mode, &[("JWT_SECRET", "0123456789012345678901234567890")]),
            "JWT_SECRET",
        );
    }
}

#[test]
fn staging_and_production_refuse_a_session_key_shorter_than_32_bytes() {
    for mode in ["staging", "production"] {
        assert_config_refused(
            strict_config(mode, &[("SESSION_KEY", "0123456789012345678901234567890")]),
            "SESSION_KEY",
        );
    }
}

#[test]
fn staging_and_production_refuse_a_session_key_equal_to_the_jwt_secret() {
    for mode in ["staging", "production"] {
        assert_config_refused(
            strict_config(mode, &[("SESSION_KEY", STRONG_A)]),
            "SESSION_KEY",
        );
    }
}

#[test]
fn staging_and_production_refuse_to_start_without_a_public_url() {
    for mode in ["staging", "production"] {
        assert_config_refused(strict_config(mode, &[("PUBLIC_URL", "")]), "PUBLIC_URL");
    }
}

#[test]
fn a_blank_secret_counts_as_missing() {
    assert_config_refused(
        strict_config("production", &[("JWT_SECRET", "   ")]),
        "JWT_SECRET",
    );
}

#[test]
fn a_short_jwt_secret_is_refused_in_every_mode() {
    for mode in ["development", "test"] {
        assert_config_refused(
            load_config(&[("APP_ENV", mode), ("JWT_SECRET", "short")]),
            "JWT_SECRET",
        );
    }
}

#[test]
fn query_tokens_may_be_turned_on_in_production_with_a_warning() {
    let config = strict_config("production", &[("WS_QUERY_TOKEN", "true")]).expect("allowed");

    assert!(config.ws_query_token);
    assert!(
        config.warnings.iter().any(|w| w.contains("WS_QUERY_TOKEN")),
        "{:?}",
        config.warnings
    );
}

#[test]
fn first_message_auth_may_be_chosen_explicitly_in_production() {
    let config = strict_config(
        "production",
        &[("WS_AUTH_MODE", "handshake_or_first_message")],
    )
    .expect("allowed");

    assert_eq!(config.ws_auth_mode, WsAuthMode::HandshakeOrFirstMessage);
}

#[test]
fn every_invalid_value_is_refused_naming_its_variable() {
    let numeric = [
        "DATABASE_POOL_SIZE",
        "JWT_TTL_SECS",
        "HEARTBEAT_INTERVAL_SECS",
        "CLIENT_TIMEOUT_SECS",
        "FIRST_MESSAGE_TIMEOUT_SECS",
        "MAX_FRAME_BYTES",
        "MAX_BODY_BYTES",
        "LOGIN_ATTEMPTS_PER_MIN",
        "MAX_CONTENT_CHARS",
        "RATE_LIMIT_PER_SEC",
        "RATE_LIMIT_BURST",
        "OUTBOUND_QUEUE_LIMIT",
        "MAX_SOCKETS_PER_USER",
        "MAX_CONNECTIONS",
        "SHUTDOWN_TIMEOUT_SECS",
    ];
    let mut cases: Vec<(&str, &str)> = vec![
        ("APP_ENV", "nope"),
        ("BIND_ADDR", "x"),
        ("BIND_ADDR", "127.0.0.1"),
        ("DATABASE_URL", "mysql://localhost/palaver"),
        ("DATABASE_URL", "sqlite://"),
        ("PUBLIC_URL", "not a url"),
        ("PUBLIC_URL", "ftp://chat.example"),
        ("WS_QUERY_TOKEN", "maybe"),
        ("WS_AUTH_MODE", "none"),
        ("WS_AUTH_MODE", "off"),
        ("ALLOWED_ORIGINS", "*"),
        ("ALLOWED_ORIGINS", "http://ok.example, *"),
        ("ALLOWED_ORIGINS", "not an origin"),
        ("REDIS_URL", "http://cache"),
        ("SESSION_KEY", "short"),
    ];
    for name in numeric {
        cases.extend([(name, "0"), (name, "abc"), (name, "-1"), (name, "1.5")]);
    }
    for (name, value) in cases {
        let result = load_config(&[
            ("APP_ENV", if name == "APP_ENV" { value } else { "test" }),
            (name, value),
        ]);

        match result {
            Ok(_) => panic!("{name}={value:?} was accepted"),
            Err(e) => assert_eq!(e.variable, name, "{name}={value:?} refused as {e}"),
        }
    }
}

#[test]
fn allowed_origins_are_read_as_origins() {
    let config = load_config(&[
        ("APP_ENV", "test"),
        (
            "ALLOWED_ORIGINS",
            "http://app.example/, https://other.example:8443",
        ),
    ])
    .expect("valid");

    assert_eq!(
        config.allowed_origins,
        ["http://app.example", "https://other.example:8443"]
    );
    assert!(config.origin_allowed("http://app.example"));
    assert!(config.origin_allowed("https://other.example:8443"));
    assert!(!config.origin_allowed("http://evil.example"));
}

#[test]
fn only_development_trusts_local_pages() {
    let development = load_config(&[]).expect("valid");
    let test = load_config(&[("APP_ENV", "test")]).expect("valid");
    let production = strict_config("production", &[]).expect("valid");

    assert!(development.origin_allowed("http://localhost:5173"));
    assert!(development.origin_allowed("http://127.0.0.1:3000"));
    assert!(!development.origin_allowed("http://localhost.evil.example"));
    assert!(!test.origin_allowed("http://localhost:5173"));
    assert!(!production.origin_allowed("http://localhost:5173"));
    assert!(production.origin_allowed("https://chat.example"));
}
