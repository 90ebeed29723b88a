//! Linearizability across HTTP: the verification suite's clients (reserve,
//! confirm, release, double clicks, from 4–8 threads at once) talk to a real
//! server over real HTTP; each recorded history is checked by search and
//! against the journal the server wrote (`kontingent-verify`). 20 histories in
//! the test run; `KONTINGENT_HTTP_HISTORIES=N` for a long run.

mod common;

use common::target::{catalog, many_clients, Http};
use common::Server;
use kontingent_verify::harness::{self, Workload, AT};
use kontingent_verify::Recorder;

/// Run `w`'s clients against a fresh server and check the history; `wide`
/// histories (64 clients) stand on the journal's witness, the search bounded.
/// Returns the operations, the overlapping pairs, and whether the search decided.
fn check(w: &Workload, wide: bool) -> (usize, usize, bool) {
    let dir = tempfile::tempdir().unwrap();
    let (journal, cat) = (dir.path().join("h.journal"), dir.path().join("c.json"));
    std::fs::write(&cat, catalog(w).to_string()).unwrap();
    let server = Server::start(&journal, &cat, &format!("fixed:{AT}"));
    let recorder = Recorder::new();
    harness::run_clients(&Http::new(vec![&server]), w, &recorder);
    drop(server);
    let history = recorder.into_history();
    let log = harness::file_commands(&journal).unwrap();
    let checked = if wide {
        harness::verify_witnessed(&history, &log, &w.pools, 200_000)
    } else {
        harness::verify(&history, Some(&log), &w.pools)
    };
    match checked {
        Ok(c) => (c.ops, history.overlapping(), c.search_complete),
        Err(e) => panic!("seed {}: not linearizable over HTTP:\n{e}", w.seed),
    }
}

#[test]
fn histories_over_http_are_linearizable() {
    let n: u64 = std::env::var("KONTINGENT_HTTP_HISTORIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let (mut ops, mut overlapping) = (0, 0);
    for seed in 0..n {
        let (o, p, _) = check(&Workload::from_seed(7_000 + seed), false);
        (ops, overlapping) = (ops + o, overlapping + p);
    }
    println!("{n} histories over HTTP, {ops} operations, {overlapping} overlapping pairs: all linearizable");
    assert!(overlapping > 0, "the clients did run concurrently");
}

#[test]
fn histories_of_64_http_clients_are_linearizable() {
    let (mut ops, mut overlapping, mut searched) = (0, 0, 0);
    for seed in 0..3 {
        let (o, p, decided) = check(&many_clients(9_000 + seed), true);
        (ops, overlapping) = (ops + o, overlapping + p);
        searched += usize::from(decided);
    }
    println!("3 histories of 64 clients, {ops} operations, {overlapping} overlapping pairs: all linearizable (witness; search decided {searched} of 3)");
    assert!(overlapping > 64, "the clients did run concurrently");
}
