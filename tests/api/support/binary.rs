//! Running the built `palaver` binary as an operator would: a command against a test
//! server's database, or the server itself with nothing but the variables a test gives it.

use std::path::Path;
use std::process::{Command, Output};

use super::app::TestApp;

/// Runs `palaver args…` against `app`'s database and secret, from an empty directory.
pub fn run_palaver(app: &TestApp, args: &[&str]) -> Output {
    let workdir = tempfile::tempdir().expect("a temporary directory");
    Command::new(env!("CARGO_BIN_EXE_palaver"))
        .args(args)
        .env_clear()
        .env("APP_ENV", "test")
        .env(
            "DATABASE_URL",
            app.var("DATABASE_URL").expect("DATABASE_URL"),
        )
        .env("JWT_SECRET", app.jwt_secret())
        .env("RUST_LOG", "error")
        .current_dir(workdir.path())
        .output()
        .expect("the binary runs")
}

/// Runs the built server binary in an empty directory with only `vars` set.
pub fn run_binary(vars: &[(&str, &str)]) -> std::process::Output {
    let workdir = tempfile::tempdir().expect("a temporary directory");
    run_binary_in(workdir.path(), vars)
}

/// Runs the built server binary in `workdir` with only `vars` set.
pub fn run_binary_in(workdir: &Path, vars: &[(&str, &str)]) -> std::process::Output {
    run_command_in(workdir, &[], vars)
}

/// Runs `palaver args…` in an empty directory with only `vars` set.
pub fn run_command(args: &[&str], vars: &[(&str, &str)]) -> std::process::Output {
    let workdir = tempfile::tempdir().expect("a temporary directory");
    run_command_in(workdir.path(), args, vars)
}

fn run_command_in(workdir: &Path, args: &[&str], vars: &[(&str, &str)]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_palaver"))
        .args(args)
        .env_clear()
        .envs(vars.iter().copied())
        .current_dir(workdir)
        .output()
        .expect("the binary runs")
}

/// Asserts the binary failed with exactly one line on stderr, and that it names `variable`.
#[track_caller]
pub fn assert_refused_in_one_line(output: &std::process::Output, variable: &str) {
    assert!(!output.status.success(), "exit status {:?}", output.status);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line on stderr: {stderr:?}");
    assert!(
        lines[0].contains(variable),
        "the line names {variable}: {stderr:?}"
    );
}
