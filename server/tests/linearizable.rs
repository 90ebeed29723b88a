//! Linearizability across HTTP: the verification suite's clients (reserve,
//! confirm, release, double clicks, from 4–8 threads at once) talk to a real
//! server over real HTTP; each recorded history is checked by search and
//! against the journal the server wrote (`kontingent-verify`). 20 histories in
//! the test run; `KONTINGENT_HTTP_HISTORIES=N` for a long run.

mod common;

use common::Server;
use kontingent::{Action, Outcome};
use kontingent_verify::harness::{self, Answer, Target, Workload, AT};
use kontingent_verify::quota::offer_for;
use kontingent_verify::Recorder;
use serde_json::{json, Value};

/// The server as the harness's ledger: each action one HTTP call.
struct Http<'a>(&'a Server);

impl Target for Http<'_> {
    fn submit(&self, action: Action) -> Answer {
        let (path, body) = match action {
            Action::Reserve(r) => ("reserve", serde_json::to_value(&r).unwrap()),
            Action::Confirm { reservation } => ("confirm", json!({ "reservation": reservation.0 })),
            Action::Release { reservation } => ("release", json!({ "reservation": reservation.0 })),
            other => panic!("the harness sent {other:?}"),
        };
        let (status, answer) = self.0.post(
            &format!("/v1/ledgers/emstek/{path}"),
            Some(common::CLIENT),
            &body.to_string(),
        );
        match status {
            200 => Answer::Outcome(serde_json::from_value::<Outcome>(answer).expect("an outcome")),
            400..=499 => Answer::Rejected(answer["code"].as_str().unwrap_or("?").to_owned()),
            _ => Answer::Unknown,
        }
    }
}

fn catalog(w: &Workload) -> Value {
    json!({
        "pools": w.pools.iter().map(|(p, c)| json!({"name": p, "capacity": c})).collect::<Vec<_>>(),
        "offers": w.pools.iter().map(|(p, _)| json!({"name": offer_for(p), "draws": {p.as_str(): 1}})).collect::<Vec<_>>(),
    })
}

#[test]
fn histories_over_http_are_linearizable() {
    let n: u64 = std::env::var("KONTINGENT_HTTP_HISTORIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let (mut ops, mut overlapping) = (0, 0);
    for seed in 0..n {
        let w = Workload::from_seed(7_000 + seed);
        let dir = tempfile::tempdir().unwrap();
        let (journal, cat) = (dir.path().join("h.journal"), dir.path().join("c.json"));
        std::fs::write(&cat, catalog(&w).to_string()).unwrap();
        let server = Server::start(&journal, &cat, &format!("fixed:{AT}"));
        let recorder = Recorder::new();
        harness::run_clients(&Http(&server), &w, &recorder);
        drop(server);
        let history = recorder.into_history();
        let log = harness::file_commands(&journal).unwrap();
        match harness::verify(&history, Some(&log), &w.pools) {
            Ok(c) => ops += c.ops,
            Err(e) => panic!("seed {}: not linearizable over HTTP:\n{e}", w.seed),
        }
        overlapping += history.overlapping();
    }
    println!("{n} histories over HTTP, {ops} operations, {overlapping} overlapping pairs: all linearizable");
    assert!(overlapping > 0, "the clients did run concurrently");
}
