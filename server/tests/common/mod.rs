//! A real `kontingent-server` process for the tests: started on 127.0.0.1 with a
//! port the system chooses, killed when dropped.
#![allow(dead_code)] // each test file uses its own part

pub mod target;

use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

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
        Server::start_with(journal, catalog, clock, |_| {})
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
                .arg(format!("emstek={}", catalog.display()));
            adjust(cmd);
        })
    }

    /// A server of ledger `emstek` on the PostgreSQL log at `url`, loading `catalog`.
    pub fn on_postgres(url: &str, catalog: &Path, clock: &str) -> Server {
        Server::launch(clock, |cmd| {
            cmd.args([
                "--postgres",
                url,
                "--ledger",
                "emstek",
                "--pg-hold-limit-ms",
                "1000",
            ])
            .arg("--catalog")
            .arg(format!("emstek={}", catalog.display()));
        })
    }

    /// A server with the test keys and limits, its ledgers given by `adjust`.
    pub fn launch(clock: &str, adjust: impl FnOnce(&mut Command)) -> Server {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kontingent-server"));
        cmd.args([
            "--listen",
            "127.0.0.1:0",
            "--clock",
            clock,
            "--max-body",
            "16384",
        ])
        .env("KONTINGENT_CLIENT_KEY", CLIENT)
        .env("KONTINGENT_OPERATOR_KEY", OPERATOR)
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

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
