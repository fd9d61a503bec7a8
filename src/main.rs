//! `palaver`: parse the command line, load the configuration, run.

use clap::Parser;
use palaver::cli::{self, Cli, Command};
use palaver::config::Config;

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
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    for warning in &config.warnings {
        log::warn!("{warning}");
    }
    let command = cli.command.unwrap_or(Command::Serve);
    match actix_web::rt::System::new().block_on(cli::run(command, config)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            log::error!("{e:#}");
            eprintln!("palaver: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
