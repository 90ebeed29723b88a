//! A throwaway PostgreSQL 15 cluster for tests and benchmarks: initdb into a temporary directory
//! (as the OS user postgres), listening on 127.0.0.1 and a free port only,
//! synchronous_commit=on, stopped and removed when dropped.

use std::path::{Path, PathBuf};
use std::process::Command;

pub const PGBIN: &str = "/usr/lib/postgresql/15/bin";

/// A running cluster; stopped and removed when dropped.
pub struct Cluster {
    dir: tempfile::TempDir,
    pub port: u16,
}

/// Run a setup command; a failure here means the machine cannot host the cluster.
fn run(cmd: &mut Command) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?} does not run: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn as_postgres(bin: &str) -> Command {
    let mut c = Command::new("runuser");
    c.args(["-u", "postgres", "--", &format!("{PGBIN}/{bin}")]);
    c
}

impl Cluster {
    /// initdb and start (panics if this machine cannot: tests and benchmarks only).
    pub fn start() -> Cluster {
        let dir = tempfile::Builder::new()
            .prefix("kontingent-pg-")
            .tempdir()
            .unwrap();
        run(Command::new("chown").args(["postgres:", dir.path().to_str().unwrap()]));
        run(as_postgres("initdb").args([
            "-D",
            data(dir.path()).to_str().unwrap(),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C",
        ]));
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let c = Cluster { dir, port };
        c.pg_ctl_start();
        c
    }

    /// A libpq connection string for the cluster's superuser.
    pub fn url(&self) -> String {
        format!(
            "host=127.0.0.1 port={} user=postgres dbname=postgres",
            self.port
        )
    }

    fn pg_ctl_start(&self) {
        let opts = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=on -c synchronous_commit=on -c max_connections=300",
            self.port,
            self.dir.path().display()
        );
        run(as_postgres("pg_ctl").args([
            "-D",
            data(self.dir.path()).to_str().unwrap(),
            "-o",
            &opts,
            "-l",
            self.dir.path().join("log").to_str().unwrap(),
            "-w",
            "start",
        ]));
    }

    /// Restart after `stop_immediate` (crash recovery from the WAL).
    pub fn restart(&self) {
        self.pg_ctl_start();
    }

    /// The server as if the power went: no shutdown checkpoint, connections cut.
    pub fn stop_immediate(&self) {
        run(as_postgres("pg_ctl").args([
            "-D",
            data(self.dir.path()).to_str().unwrap(),
            "-m",
            "immediate",
            "-w",
            "stop",
        ]));
    }
}

fn data(dir: &Path) -> PathBuf {
    dir.join("data")
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = as_postgres("pg_ctl")
            .args([
                "-D",
                data(self.dir.path()).to_str().unwrap(),
                "-m",
                "fast",
                "-w",
                "stop",
            ])
            .output();
    }
}
