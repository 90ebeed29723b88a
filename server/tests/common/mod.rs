//! A real `kontingent-server` process for the tests: started on 127.0.0.1 with a
//! port the system chooses, killed when dropped.
#![allow(dead_code)] // each test file uses its own part

pub mod target;

use serde_json::{json, Value};
use std::io::{self, BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const CLIENT: &str = "client-key-0123456789";
pub const OPERATOR: &str = "operator-key-0123456789";

pub struct Server {
    pub child: Child,
    pub base: String,
    pub agent: ureq::Agent,
}

impl Server {
    /// A server with one ledger, `emstek`, on `journal`, loading `catalog`.
    pub fn start(journal: &Path, catalog: &Path, clock: &str) -> Server {
        Server::start_flags(journal, catalog, clock, &[])
    }

    /// The same, with more flags (`--max-body` among them replaces the tests' 16 KiB).
    pub fn start_flags(journal: &Path, catalog: &Path, clock: &str, flags: &[&str]) -> Server {
        let body = if flags.contains(&"--max-body") {
            &[][..]
        } else {
            &["--max-body", "16384"][..]
        };
        Server::launch(clock, |cmd| {
            cmd.arg("--journal")
                .arg(format!("emstek={}", journal.display()))
                .arg("--catalog")
                .arg(format!("emstek={}", catalog.display()))
                .args(body)
                .args(flags);
        })
    }

    /// As [`Server::start`], with the command adjusted first (environment, stderr).
    pub fn start_with(
        journal: &Path,
        catalog: &Path,
        clock: &str,
        adjust: impl FnOnce(&mut Command),
    ) -> Server {
        Server::launch(clock, |cmd| {
            cmd.arg("--journal")
                .arg(format!("emstek={}", journal.display()))
                .arg("--catalog")
                .arg(format!("emstek={}", catalog.display()))
                .args(["--max-body", "16384"]);
            adjust(cmd);
        })
    }

    /// A server of ledger `emstek` on the PostgreSQL log at `url`, loading `catalog`.
    pub fn on_postgres(url: &str, catalog: &Path, clock: &str) -> Server {
        Server::launch(clock, |cmd| {
            cmd.args(["--postgres", url, "--ledger", "emstek"])
                .args(["--pg-hold-limit-ms", "1000", "--max-body", "16384"])
                .arg("--catalog")
                .arg(format!("emstek={}", catalog.display()));
        })
    }

    /// A server with the test keys on a port the system chooses, its ledgers and
    /// other flags given by `adjust`.
    pub fn launch(clock: &str, adjust: impl FnOnce(&mut Command)) -> Server {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kontingent-server"));
        cmd.args(["--listen", "127.0.0.1:0", "--clock", clock])
            .env("KONTINGENT_CLIENT_KEY", CLIENT)
            .env("KONTINGENT_OPERATOR_KEY", OPERATOR)
            // Quiet unless a test asks for more (it sets the variable again).
            .env("KONTINGENT_LOG", "error")
            .stdout(Stdio::piped());
        adjust(&mut cmd);
        let mut child = cmd.spawn().expect("the server starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let base = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("first line {line:?}"))
            .to_owned();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        Server { child, base, agent }
    }

    /// Send SIGTERM: the server's clean stop.
    pub fn terminate(&self) {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success(), "SIGTERM sent");
    }

    /// The address it listens on, for raw connections.
    pub fn addr(&self) -> SocketAddr {
        self.base
            .strip_prefix("http://")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("an address in {}", self.base))
    }

    pub fn post(&self, path: &str, key: Option<&str>, body: &str) -> (u16, Value) {
        let mut req = self.agent.post(format!("{}{path}", self.base));
        if let Some(k) = key {
            req = req.header("Authorization", format!("Bearer {k}"));
        }
        let mut resp = req
            .header("Content-Type", "application/json")
            .send(body)
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.body_mut().read_json().unwrap_or(Value::Null))
    }

    pub fn get(&self, path: &str, key: Option<&str>) -> (u16, Value) {
        let mut req = self.agent.get(format!("{}{path}", self.base));
        if let Some(k) = key {
            req = req.header("Authorization", format!("Bearer {k}"));
        }
        let mut resp = req.call().unwrap();
        let status = resp.status().as_u16();
        (status, resp.body_mut().read_json().unwrap_or(Value::Null))
    }

    /// A GET whose answer is text (CSV, metrics): its status and body.
    pub fn get_text(&self, path: &str, key: &str) -> (u16, String) {
        let mut resp = self
            .agent
            .get(format!("{}{path}", self.base))
            .header("Authorization", format!("Bearer {key}"))
            .call()
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.body_mut().read_to_string().unwrap())
    }

    pub fn reserve(&self, id: &str, customer: &str, offer: &str) -> (u16, Value) {
        let body = json!({"request_id": id, "customer": customer, "lines": [{"offer": offer, "quantity": 1}]});
        self.post(
            "/v1/ledgers/emstek/reserve",
            Some(CLIENT),
            &body.to_string(),
        )
    }

    pub fn set_clock(&self, at: u64) {
        let (s, _) = self.post(
            "/v1/clock",
            Some(OPERATOR),
            &json!({ "at": at }).to_string(),
        );
        assert_eq!(s, 200);
    }
}

/// A server started with `flags` (a journal it never reaches, no keys from the
/// environment) that must refuse to start: its exit code and what it said.
pub fn refused_start(flags: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kontingent-server"))
        .args([
            "--journal",
            "x=/nonexistent/x.journal",
            "--listen",
            "127.0.0.1:0",
        ])
        .args(flags)
        .env_remove("KONTINGENT_OPERATOR_KEY")
        .env_remove("KONTINGENT_CLIENT_KEY")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code(), stderr)
}

/// One answer with a Content-Length body, read from `stream`: its status and
/// its body as JSON (`Null` when empty or not JSON).
pub fn read_answer(stream: &mut TcpStream) -> io::Result<(u16, Value)> {
    let (status, body) = read_raw(stream)?;
    Ok((status, serde_json::from_slice(&body).unwrap_or(Value::Null)))
}

/// One answer with a Content-Length body, read from `stream`: its status and body.
pub fn read_raw(stream: &mut TcpStream) -> io::Result<(u16, Vec<u8>)> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte)? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("closed after {:?}", String::from_utf8_lossy(&head)),
            ));
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).to_lowercase();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("a status line in {head:?}"));
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map_or(0, |n| n.trim().parse().unwrap());
    let mut body = vec![0; length];
    stream.read_exact(&mut body)?;
    Ok((status, body))
}

/// A plain connection to `addr` whose reads give up after `timeout`.
pub fn connect(addr: SocketAddr, timeout: Duration) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("the server takes a connection");
    stream.set_read_timeout(Some(timeout)).unwrap();
    stream.set_write_timeout(Some(timeout)).unwrap();
    stream
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
