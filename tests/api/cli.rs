//! The built binary: it refuses a bad configuration with one line naming the variable
//! before binding anything, binds before it creates or migrates a database, reports every
//! start-up failure in one line, and runs its commands (`palaver migrate`,
//! `palaver token --user NAME`, `palaver health`).

use std::process::Command;

use crate::support::{
    assert_refused_in_one_line, run_binary, run_binary_in, run_command, run_palaver, spawn_app,
    Auth, ServerProcess,
};

#[actix_rt::test]
async fn palaver_token_prints_a_token_the_server_accepts() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;

    let output = run_palaver(&app, &["token", "--user", "Alice"]);

    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let token = String::from_utf8(output.stdout)
        .expect("UTF-8")
        .trim()
        .to_string();
    let me = app.me(Auth::Bearer(token)).await;
    me.assert_status(200);
    assert_eq!(me.json()["user"]["id"], alice.id);
}

#[actix_rt::test]
async fn palaver_token_for_an_unknown_user_fails_naming_them() {
    let app = spawn_app().await;

    let output = run_palaver(&app, &["token", "--user", "nobody"]);

    assert!(!output.status.success());
    assert!(output.stdout.is_empty(), "no token printed");
    assert!(String::from_utf8_lossy(&output.stderr).contains("nobody"));
}

#[actix_rt::test]
async fn palaver_migrate_on_a_migrated_database_succeeds_and_keeps_the_data() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;

    let output = run_palaver(&app, &["migrate"]);

    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    app.me(&alice).await.assert_status(200);
}

#[test]
fn palaver_migrate_creates_a_new_sqlite_database() {
    let workdir = tempfile::tempdir().expect("a temporary directory");

    let output = Command::new(env!("CARGO_BIN_EXE_palaver"))
        .arg("migrate")
        .env_clear()
        .env("APP_ENV", "test")
        .env("DATABASE_URL", "sqlite://fresh.db")
        .current_dir(workdir.path())
        .output()
        .expect("the binary runs");

    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(workdir.path().join("fresh.db").is_file());
}

#[test]
fn the_server_binary_exits_with_one_line_naming_an_invalid_variable() {
    let output = run_binary(&[("APP_ENV", "test"), ("MAX_BODY_BYTES", "0")]);

    assert_refused_in_one_line(&output, "MAX_BODY_BYTES");
}

#[test]
fn the_server_binary_refuses_production_without_a_jwt_secret() {
    let output = run_binary(&[
        ("APP_ENV", "production"),
        ("PUBLIC_URL", "https://chat.example"),
        ("SESSION_KEY", "a-session-key-of-at-least-32-bytes!!"),
    ]);

    assert_refused_in_one_line(&output, "JWT_SECRET");
}

#[test]
fn the_server_binary_refuses_before_binding_its_address() {
    // A listener already holds the port: were the server to bind before validating, it
    // would fail on the address instead of naming the bad variable.
    let (_taken, addr) = taken_address();

    let output = run_binary(&[
        ("APP_ENV", "test"),
        ("BIND_ADDR", &addr),
        ("WS_AUTH_MODE", "none"),
    ]);

    assert_refused_in_one_line(&output, "WS_AUTH_MODE");
}

#[test]
fn the_server_binary_reads_a_dot_env_file_in_its_working_directory() {
    let workdir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(
        workdir.path().join(".env"),
        "APP_ENV=test\nRATE_LIMIT_BURST=zero\n",
    )
    .expect("write .env");

    let output = run_binary_in(workdir.path(), &[]);

    assert_refused_in_one_line(&output, "RATE_LIMIT_BURST");
}

#[test]
fn check_config_prints_the_effective_configuration_with_its_secrets_masked() {
    let secret = "a-secret-that-must-never-be-printed-0123456789";

    let workdir = tempfile::tempdir().expect("a temporary directory");

    let printed = std::process::Command::new(env!("CARGO_BIN_EXE_palaver"))
        .arg("check-config")
        .env_clear()
        .env("APP_ENV", "test")
        .env("JWT_SECRET", secret)
        .env("MAX_FRAME_BYTES", "12345")
        .current_dir(workdir.path())
        .output()
        .expect("the binary runs");

    assert!(printed.status.success(), "{printed:?}");
    let stdout = String::from_utf8_lossy(&printed.stdout);
    assert!(stdout.contains("max_frame_bytes: 12345"), "{stdout}");
    assert!(!stdout.contains(secret), "the secret is masked: {stdout}");
}

#[test]
fn a_port_in_use_is_one_line_naming_bind_addr_before_any_database_is_created() {
    let (_taken, addr) = taken_address();
    let workdir = tempfile::tempdir().expect("a temporary directory");

    let output = run_binary_in(
        workdir.path(),
        &[
            ("APP_ENV", "test"),
            ("BIND_ADDR", &addr),
            ("DATABASE_URL", "sqlite://palaver.db"),
        ],
    );

    assert_refused_in_one_line(&output, "BIND_ADDR");
    assert!(String::from_utf8_lossy(&output.stderr).contains(&addr));
    assert!(
        !workdir.path().join("palaver.db").exists(),
        "the database was created before the address was found taken"
    );
}

#[test]
fn a_metrics_address_in_use_is_one_line_naming_metrics_bind() {
    let (_taken, addr) = taken_address();
    let workdir = tempfile::tempdir().expect("a temporary directory");

    let output = run_binary_in(
        workdir.path(),
        &[
            ("APP_ENV", "test"),
            ("BIND_ADDR", "127.0.0.1:0"),
            ("METRICS_BIND", &addr),
            ("DATABASE_URL", "sqlite://palaver.db"),
        ],
    );

    assert_refused_in_one_line(&output, "METRICS_BIND");
    assert!(!workdir.path().join("palaver.db").exists());
}

#[test]
fn a_start_up_failure_in_a_json_log_is_one_json_line() {
    let (_taken, addr) = taken_address();

    let output = run_binary(&[
        ("APP_ENV", "test"),
        ("BIND_ADDR", &addr),
        ("LOG_FORMAT", "json"),
    ]);

    assert_refused_in_one_line(&output, "BIND_ADDR");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let line: serde_json::Value = serde_json::from_str(stderr.trim()).expect("a JSON line");
    assert_eq!(line["level"], "ERROR", "{line}");
}

#[test]
fn palaver_health_exits_0_for_a_ready_server() {
    let server = ServerProcess::start(&[]);
    let addr = format!("127.0.0.1:{}", server.port);

    let output = run_command(
        &["health"],
        &[
            ("APP_ENV", "test"),
            ("BIND_ADDR", &addr),
            ("RUST_LOG", "error"),
        ],
    );

    assert!(output.status.success(), "{output:?}");
}

#[test]
fn palaver_health_exits_1_in_one_line_when_nothing_answers() {
    // A port that was free a moment ago and is closed now.
    let addr = taken_address().1;

    let output = run_command(
        &["health", "--addr", &addr],
        &[("APP_ENV", "test"), ("RUST_LOG", "error")],
    );

    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert_refused_in_one_line(&output, &addr);
}

/// A loopback address held by a listener of the test's: the listener, and the address.
/// Dropping the listener frees the address again.
fn taken_address() -> (std::net::TcpListener, String) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address").to_string();
    (listener, addr)
}
