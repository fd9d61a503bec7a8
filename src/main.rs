//! `palaver`: parse the command line, load the configuration, start the log, run.

use clap::Parser;
use palaver::cli::{self, Cli, Command};
use palaver::config::{Config, LogFormat};

/// Many small allocations on several threads (request parsing, JSON, rows): mimalloc keeps
/// them from contending the way glibc's allocator does under load.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("palaver: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    init_logging(config.log_format);
    for warning in &config.warnings {
        log::warn!("{warning}");
    }
    let command = cli.command.unwrap_or(Command::Serve);
    match actix_web::rt::System::new().block_on(cli::run(command, config)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // One line, once: through the log when it is on (so a JSON log stays JSON),
            // else straight to stderr.
            if log::log_enabled!(log::Level::Error) {
                log::error!("{e:#}");
            } else {
                eprintln!("palaver: {e:#}");
            }
            std::process::ExitCode::FAILURE
        }
    }
}

/// env_logger on stderr, `RUST_LOG` filtering (`info` by default), each record as a line
/// of text or as one JSON object (`LOG_FORMAT=json`).
fn init_logging(format: LogFormat) {
    let mut builder =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"));
    if format == LogFormat::Json {
        builder.format(|out, record| {
            use std::io::Write;
            let line = serde_json::json!({
                "ts": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                "level": record.level().as_str(),
                "target": record.target(),
                "message": record.args().to_string(),
            });
            writeln!(out, "{line}")
        });
    }
    builder.init();
}
