//! Recorded histories of real ledgers, all checked: by search, reservation ids,
//! and against the ledger's own log.
//!
//! Each source checks a few hundred small histories by default (4–8 threads x
//! 8–12 operations each). `KONTINGENT_HISTORIES=N` checks N per source instead,
//! for the long run (`cargo test --release -p kontingent-verify --test histories
//! -- --nocapture`); each test prints how many it checked.

use kontingent::storage::MemoryStorage;
use kontingent::{Action, Durability, DurableLedger};
use kontingent_verify::harness::{self, Answer, Run, Target, Workload};
use kontingent_verify::quota::QuotaRet;
use kontingent_verify::Recorder;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

fn count(default: usize) -> usize {
    std::env::var("KONTINGENT_HISTORIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Run `n` seeded workloads through `record` and check each; panics with the
/// seed of the first failure, so it can be replayed.
fn check_many(source: &str, seed_base: u64, n: usize, mut record: impl FnMut(&Workload) -> Run) {
    let started = Instant::now();
    let (mut ops, mut witnessed, mut states, mut overlapping) = (0, 0, 0, 0);
    for k in 0..n as u64 {
        let w = Workload::from_seed(seed_base + k);
        let run = record(&w);
        match harness::verify(&run.history, Some(&run.log), &w.pools) {
            Ok(c) => {
                ops += c.ops;
                witnessed += c.witnessed;
                states += c.search.states;
                overlapping += run.history.overlapping();
            }
            Err(e) => panic!(
                "{source}: history of seed {} is not linearizable:\n{e}\nhistory:\n{}",
                w.seed,
                run.history.to_json_lines()
            ),
        }
    }
    println!(
        "{source}: {n} histories checked ({ops} operations, {overlapping} of them \
         concurrent with another, {witnessed} log records matched, {states} search states), \
         0 violations, in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn locked_ledger_histories_are_linearizable() {
    check_many("locked", 1_000_000, count(200), |w| {
        harness::run_locked(w).unwrap()
    });
}

#[test]
fn in_memory_durable_ledger_histories_are_linearizable() {
    check_many("memory", 2_000_000, count(200), |w| {
        harness::run_memory(w).unwrap()
    });
}

#[test]
fn file_journal_histories_are_linearizable() {
    let dir = tempfile::tempdir().unwrap();
    let mut k = 0;
    check_many("file", 3_000_000, count(100), |w| {
        k += 1;
        let path = dir.path().join(format!("j{k}.journal"));
        let run = harness::run_file(w, &path).unwrap();
        std::fs::remove_file(&path).unwrap();
        run
    });
}

/// A durable ledger whose disk starts failing its syncs after `fail_at`
/// commands: the batch being synced and everything after it get no answer
/// (the ledger is poisoned), so they are recorded as unknown.
struct FailingDisk {
    ledger: DurableLedger<MemoryStorage>,
    storage: MemoryStorage,
    sent: AtomicUsize,
    fail_at: usize,
}

impl Target for FailingDisk {
    fn submit(&self, action: Action) -> Answer {
        if self.sent.fetch_add(1, Ordering::SeqCst) == self.fail_at {
            self.storage.fail_syncs(true);
        }
        Target::submit(&self.ledger, action)
    }
}

#[test]
fn a_failing_disk_leaves_unknown_answers_and_a_linearizable_history() {
    let n = count(100);
    let started = Instant::now();
    let (mut unknown, mut logged_unknown) = (0, 0);
    for k in 0..n as u64 {
        let w = Workload::from_seed(4_000_000 + k);
        let storage = MemoryStorage::new();
        let (ledger, _) = DurableLedger::open_storage(storage.clone(), Durability::Full).unwrap();
        harness::setup(&ledger, &w).unwrap();
        let target = FailingDisk {
            ledger,
            storage: storage.clone(),
            sent: AtomicUsize::new(0),
            fail_at: (k as usize * 7) % (w.clients * w.ops_per_client),
        };
        let recorder = Recorder::new();
        harness::run_clients(&target, &w, &recorder);
        assert!(target.ledger.is_poisoned());
        drop(target);
        // Half the time the power goes too: what was not synced is lost. Nothing
        // acknowledged may be among it.
        if k % 2 == 0 {
            storage.lose_unsynced();
        }
        let history = recorder.into_history();
        let log = harness::journal_commands(storage).unwrap();
        if let Err(e) = harness::verify(&history, Some(&log), &w.pools) {
            panic!(
                "seed {}: {e}\nhistory:\n{}",
                w.seed,
                history.to_json_lines()
            );
        }
        let unknowns = history.ops.iter().filter(|o| o.is_unknown()).count();
        unknown += unknowns;
        // Records of this run beyond the acknowledged ones (and the catalog)
        // are unknown operations that took effect.
        let acknowledged = history
            .ops
            .iter()
            .filter(|o| matches!(o.ret, Some(ref r) if !matches!(r, QuotaRet::Error { .. })))
            .count();
        logged_unknown += log.len() - w.catalog().len() - acknowledged;
    }
    println!(
        "failing disk: {n} histories checked, {unknown} unknown answers \
         ({logged_unknown} of them in the journal), 0 violations, in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(unknown > 0 && logged_unknown > 0);
}
