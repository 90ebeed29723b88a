//! Several processes on one journal file, as gunicorn workers would share it.
//!
//! The test binary re-runs itself as children (`--exact child`, with an
//! environment variable naming the journal). Each child drives its own clients
//! against its own handle on the file, records its history on the system-wide
//! `CLOCK_MONOTONIC` (so the children's times compare) and writes it as JSON
//! lines; the parent merges the histories and checks them against the spec and
//! against the journal's order. All children wait for a common start time, so
//! their operations really overlap.
//!
//! 6 rounds of 3 processes by default; with `KONTINGENT_HISTORIES=N`, N / 10.

use kontingent::Durability;
use kontingent_verify::harness::{self, Workload};
use kontingent_verify::history::system_monotonic_ns;
use kontingent_verify::quota::{QuotaOp, QuotaRet};
use kontingent_verify::{History, Recorder};
use std::path::Path;
use std::process::{Command as Process, Stdio};
use std::time::{Duration, Instant};

const JOURNAL: &str = "KONTINGENT_VERIFY_JOURNAL";
const ROUND: &str = "KONTINGENT_VERIFY_ROUND";
const INDEX: &str = "KONTINGENT_VERIFY_INDEX";
const OUT: &str = "KONTINGENT_VERIFY_OUT";
const START: &str = "KONTINGENT_VERIFY_START_NS";
const PROCESSES: u64 = 3;

fn env_u64(name: &str) -> u64 {
    std::env::var(name).unwrap().parse().unwrap()
}

/// The catalog (from the round's seed) and one process's clients (from its own).
fn workload(round: u64, index: u64) -> Workload {
    let mut w = Workload::from_seed(round.wrapping_mul(7919).wrapping_add(index + 1));
    w.clients = w.clients.min(5);
    w.pools = Workload::from_seed(round).pools;
    w.tag = format!("p{index}");
    w.first_client = index * 1_000;
    w
}

/// The child side; does nothing in a normal test run.
#[test]
fn child() {
    let Ok(journal) = std::env::var(JOURNAL) else {
        return;
    };
    let w = workload(env_u64(ROUND), env_u64(INDEX));
    let ledger = kontingent::open(&journal, Durability::Full).unwrap();
    let recorder = Recorder::with_system_clock().unwrap();
    let start = env_u64(START);
    while system_monotonic_ns().unwrap() < start {
        std::thread::sleep(Duration::from_micros(200));
    }
    harness::run_clients(&ledger, &w, &recorder);
    let out = std::fs::File::create(std::env::var(OUT).unwrap()).unwrap();
    recorder
        .into_history()
        .write_json_lines(std::io::BufWriter::new(out))
        .unwrap();
}

fn spawn(journal: &Path, round: u64, index: u64, out: &Path, start: u64) -> std::process::Child {
    Process::new(std::env::current_exe().unwrap())
        .args(["--exact", "child", "--nocapture", "--test-threads=1"])
        .env(JOURNAL, journal)
        .env(ROUND, round.to_string())
        .env(INDEX, index.to_string())
        .env(OUT, out)
        .env(START, start.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

#[test]
fn several_processes_on_one_journal_are_linearizable() {
    let rounds = std::env::var("KONTINGENT_HISTORIES")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(6, |n| (n / 10).max(1));
    let started = Instant::now();
    let (mut ops, mut overlapping, mut cross) = (0, 0, 0);
    for round in 0..rounds {
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("shared.journal");
        let pools = Workload::from_seed(round).pools;
        {
            let ledger = kontingent::open(&journal, Durability::Full).unwrap();
            harness::setup(&ledger, &workload(round, 0)).unwrap();
        }
        // Far enough ahead for every child to be up and waiting.
        let start = system_monotonic_ns().unwrap() + 300_000_000;
        let children: Vec<_> = (0..PROCESSES)
            .map(|i| {
                let out = dir.path().join(format!("history-{i}.jsonl"));
                (spawn(&journal, round, i, &out, start), out)
            })
            .collect();
        let mut parts = Vec::new();
        for (mut child, out) in children {
            assert!(child.wait().unwrap().success(), "a child failed");
            let file = std::io::BufReader::new(std::fs::File::open(out).unwrap());
            parts.push(History::<QuotaOp, QuotaRet>::read_json_lines(file).unwrap());
        }
        let history = History::merge(parts);
        let log = harness::file_commands(&journal).unwrap();
        if let Err(e) = harness::verify(&history, Some(&log), &pools) {
            panic!(
                "round {round}: not linearizable:\n{e}\nhistory:\n{}",
                history.to_json_lines()
            );
        }
        ops += history.len();
        overlapping += history.overlapping();
        cross += cross_process_overlaps(&history);
    }
    println!(
        "processes: {rounds} histories of {PROCESSES} processes checked ({ops} operations, \
         {overlapping} concurrent with another, {cross} pairs across processes), \
         0 violations, in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(cross > 0, "the processes never ran at the same time");
}

/// Pairs of operations of different processes whose intervals overlap: the
/// test only means something if there are some.
fn cross_process_overlaps(h: &History<QuotaOp, QuotaRet>) -> usize {
    let mut n = 0;
    for (i, a) in h.ops.iter().enumerate() {
        for b in &h.ops[i + 1..] {
            let (Some(ra), Some(rb)) = (a.return_ns, b.return_ns) else {
                continue;
            };
            if a.client / 1_000 != b.client / 1_000 && a.call_ns < rb && b.call_ns < ra {
                n += 1;
            }
        }
    }
    n
}
