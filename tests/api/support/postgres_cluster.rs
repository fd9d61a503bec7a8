//! A PostgreSQL server of the test's own: `initdb` in a temporary directory and a
//! `postgres` on a free port, so a fault test can freeze or cut it without touching any
//! server the machine runs for others. Run as the `postgres` OS user when the tests run as
//! root (PostgreSQL refuses to run as root); stopped and removed when dropped.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

/// Where Debian and Ubuntu put the PostgreSQL 15 programs.
const BIN_DIR: &str = "/usr/lib/postgresql/15/bin";

/// The OS user the server runs as when the tests run as root.
const SERVER_USER: &str = "postgres";

/// A running PostgreSQL server in a temporary directory.
pub struct PostgresCluster {
    /// The port it listens on, on 127.0.0.1.
    pub port: u16,
    data: PathBuf,
    /// Whether the server programs run through `runuser` as [`SERVER_USER`].
    as_root: bool,
    /// Holds the data directory and the socket; removed after the server stops.
    _dir: TempDir,
}

impl PostgresCluster {
    /// Creates a cluster with `initdb` (trust authentication, superuser `postgres`) and
    /// starts it on a free port, waiting until it accepts connections.
    pub fn start() -> PostgresCluster {
        let dir = tempfile::tempdir().expect("a temporary directory for the cluster");
        let as_root = run(Command::new("id").arg("-u")).stdout.starts_with(b"0");
        if as_root {
            let owner = format!("{SERVER_USER}:{SERVER_USER}");
            checked(
                Command::new("chown").arg(&owner).arg(dir.path()),
                "chown the cluster directory",
            );
        }
        let data = dir.path().join("data");
        checked(
            server_command(as_root, "initdb")
                .args(["--auth=trust", "--username=postgres", "--no-sync", "-D"])
                .arg(&data),
            "initdb",
        );
        let port = free_port();
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            dir.path().display()
        );
        checked(
            server_command(as_root, "pg_ctl")
                .args(["start", "-w", "-t", "60", "-l"])
                .arg(dir.path().join("server.log"))
                .arg("-D")
                .arg(&data)
                .arg("-o")
                .arg(options),
            "pg_ctl start",
        );
        PostgresCluster {
            port,
            data,
            as_root,
            _dir: dir,
        }
    }

    /// `postgres://postgres@127.0.0.1:PORT/postgres`, or the same through another `port`
    /// (a proxy in front of this server).
    pub fn url_via(&self, port: u16) -> String {
        format!("postgres://postgres@127.0.0.1:{port}/postgres")
    }
}

impl Drop for PostgresCluster {
    fn drop(&mut self) {
        // Immediate: the test is over, nothing of this cluster is worth a clean shutdown.
        let _ = server_command(self.as_root, "pg_ctl")
            .args(["stop", "-m", "immediate", "-D"])
            .arg(&self.data)
            .output();
    }
}

/// `program` of the PostgreSQL binaries, as [`SERVER_USER`] when running as root.
fn server_command(as_root: bool, program: &str) -> Command {
    let program = Path::new(BIN_DIR).join(program);
    if as_root {
        let mut command = Command::new("runuser");
        command.args(["-u", SERVER_USER, "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

/// A port nobody listens on now, from the kernel.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

fn run(command: &mut Command) -> Output {
    command
        .output()
        .unwrap_or_else(|e| panic!("{command:?} could not run: {e}"))
}

/// Runs `command` and panics with its output unless it succeeds.
fn checked(command: &mut Command, what: &str) {
    let output = run(command);
    assert!(
        output.status.success(),
        "{what} failed ({}): {}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
