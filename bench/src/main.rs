//! Durable-ledger benchmarks, printing one JSON line per run in the shape of
//! `../shared/baselines` results, so both land in one table.
//!
//! ```text
//! kbench durable   --clients 64 --workload hot|spread --secs 10 --dir /tmp/x [--batch 1]
//! kbench processes --procs 4 --threads 16 --secs 10 --dir /tmp/x
//! kbench replay    --records 10000000 --dir /tmp/x
//! ```

use kontingent::limits::CAPACITY_MAX;
use kontingent::{Action, Command, Draw, Durability, DurableLedger, Outcome, Request};
use serde_json::json;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn args() -> (String, HashMap<String, String>) {
    let mut a = std::env::args().skip(1);
    let mode = a.next().unwrap_or_default();
    let mut m = HashMap::new();
    while let Some(k) = a.next() {
        let v = a.next().unwrap_or_default();
        m.insert(k.trim_start_matches("--").to_owned(), v);
    }
    (mode, m)
}

fn get<T: std::str::FromStr>(m: &HashMap<String, String>, k: &str, d: T) -> T {
    m.get(k).and_then(|v| v.parse().ok()).unwrap_or(d)
}

const POOLS_SPREAD: usize = 100;

fn define(l: &DurableLedger, workload: &str) {
    let pools = if workload == "spread" {
        POOLS_SPREAD
    } else {
        1
    };
    let mut cmds = Vec::new();
    for p in 0..pools {
        cmds.push(Command::new(
            0,
            Action::DefinePool {
                pool: format!("p{p}"),
                capacity: CAPACITY_MAX,
            },
        ));
        cmds.push(Command::new(
            0,
            Action::DefineOffer {
                offer: format!("o{p}"),
                draws: vec![Draw::new(format!("p{p}"), 1)],
                waitlist: Default::default(),
            },
        ));
    }
    for r in l.submit_batch(cmds) {
        r.expect("define");
    }
}

fn reserve(tag: &str, t: usize, i: u64, workload: &str) -> Action {
    let offer = if workload == "spread" {
        // A cheap per-request pseudo-random pool.
        let h = (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ t as u64)
            .wrapping_mul(0xBF58_476D_1CE4_E5B9)
            >> 40;
        format!("o{}", h as usize % POOLS_SPREAD)
    } else {
        "o0".to_owned()
    };
    Action::Reserve(
        Request::new(format!("{tag}-{t}-{i}"), format!("c{t}-{}", i % 1000))
            .line(offer, 1)
            .confirm(),
    )
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

/// Run `clients` threads for `secs`; returns (acks, latencies in µs per call).
fn drive(
    l: &Arc<DurableLedger>,
    tag: &str,
    clients: usize,
    batch: usize,
    secs: f64,
    workload: &str,
) -> (u64, Vec<u32>) {
    let stop = Arc::new(AtomicBool::new(false));
    let acks = Arc::new(AtomicU64::new(0));
    let handles: Vec<_> = (0..clients)
        .map(|t| {
            let (l, stop, acks, tag, workload) = (l.clone(), stop.clone(), acks.clone(), tag.to_owned(), workload.to_owned());
            std::thread::spawn(move || {
                let mut lat = Vec::with_capacity(1 << 16);
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let actions: Vec<Action> = (0..batch).map(|k| reserve(&tag, t, i + k as u64, &workload)).collect();
                    i += batch as u64;
                    let start = Instant::now();
                    let results = l.submit_batch_now(actions);
                    lat.push(start.elapsed().as_micros().min(u32::MAX as u128) as u32);
                    let ok = results
                        .iter()
                        .filter(|r| matches!(r, Ok(a) if matches!(a.outcome, Outcome::Confirmed { .. })))
                        .count();
                    assert_eq!(ok, batch, "every reservation confirmed: {:?}", results.iter().find(|r| r.is_err()));
                    acks.fetch_add(ok as u64, Ordering::Relaxed);
                }
                lat
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs_f64(secs));
    stop.store(true, Ordering::Relaxed);
    let mut lat: Vec<u32> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    lat.sort_unstable();
    (acks.load(Ordering::Relaxed), lat)
}

/// A journal of `records` confirmed reservations on one hot pool, written in
/// batches of 10,000 (buffered: building it is not what is measured).
fn fill(path: &Path, records: u64) -> Arc<DurableLedger> {
    let l = Arc::new(kontingent::open(path, Durability::Buffered).unwrap());
    define(&l, "hot");
    let mut i = 0;
    while i < records {
        let n = 10_000.min(records - i);
        let cmds: Vec<Command> = (0..n)
            .map(|k| Command::new(1, reserve("r", (k % 64) as usize, i + k, "hot")))
            .collect();
        for r in l.submit_batch(cmds) {
            r.unwrap();
        }
        i += n;
    }
    l
}

fn fresh(dir: &Path, name: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let p = dir.join(name);
    let _ = std::fs::remove_file(&p);
    p
}

fn main() {
    let (mode, m) = args();
    let dir = PathBuf::from(get(&m, "dir", "/tmp/kbench".to_owned()));
    let secs: f64 = get(&m, "secs", 10.0);
    match mode.as_str() {
        "durable" => {
            let clients: usize = get(&m, "clients", 64);
            let batch: usize = get(&m, "batch", 1);
            let workload: String = get(&m, "workload", "hot".to_owned());
            let path = fresh(&dir, "durable.journal");
            let l = Arc::new(kontingent::open(&path, Durability::Full).unwrap());
            define(&l, &workload);
            let before = l.stats();
            let started = Instant::now();
            let (acks, lat) = drive(&l, "b", clients, batch, secs, &workload);
            let elapsed = started.elapsed().as_secs_f64();
            let s = l.stats();
            let syncs = s.syncs - before.syncs;
            drop(l);
            // Correctness: everything acknowledged is in the journal.
            let again = kontingent::open(&path, Durability::Full).unwrap();
            let confirmed: u64 = again
                .read(|l| l.pools().iter().map(|p| p.confirmed).sum())
                .unwrap();
            let correct = if confirmed == acks {
                format!("PASS acked={acks} journal={confirmed}")
            } else {
                format!("FAIL acked={acks} journal={confirmed}")
            };
            println!(
                "{}",
                json!({
                    "engine": "kontingent", "mode": "Full (fdatasync)", "workload": workload, "clients": clients,
                    "pipeline": if batch == 1 { "-".to_owned() } else { format!("batch {batch}") },
                    "throughput": acks as f64 / elapsed, "unit": "res/s",
                    "p50_ms": percentile(&lat, 0.5), "p99_ms": percentile(&lat, 0.99), "max_ms": percentile(&lat, 1.0),
                    "syncs_per_s": syncs as f64 / elapsed, "per_sync": acks as f64 / syncs.max(1) as f64,
                    "correctness": correct,
                })
            );
        }
        "processes" => {
            let procs: usize = get(&m, "procs", 4);
            let threads: usize = get(&m, "threads", 16);
            let path = fresh(&dir, "shared.journal");
            {
                let l = kontingent::open(&path, Durability::Full).unwrap();
                define(&l, "hot");
            }
            let started = Instant::now();
            let children: Vec<_> = (0..procs)
                .map(|p| {
                    std::process::Command::new(std::env::current_exe().unwrap())
                        .args([
                            "child",
                            "--path",
                            path.to_str().unwrap(),
                            "--threads",
                            &threads.to_string(),
                            "--secs",
                            &secs.to_string(),
                            "--tag",
                            &format!("p{p}"),
                        ])
                        .stdout(std::process::Stdio::piped())
                        .spawn()
                        .unwrap()
                })
                .collect();
            let mut acks = 0u64;
            let mut lat: Vec<u32> = Vec::new();
            for c in children {
                let out = c.wait_with_output().unwrap();
                let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
                acks += v["acks"].as_u64().unwrap();
                lat.extend(
                    v["lat"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|x| x.as_u64().unwrap() as u32),
                );
            }
            let elapsed = started.elapsed().as_secs_f64();
            lat.sort_unstable();
            let again = kontingent::open(&path, Durability::Full).unwrap();
            let confirmed = again.read(|l| l.pool("p0").unwrap().confirmed).unwrap();
            let correct = if confirmed == acks {
                format!("PASS acked={acks} journal={confirmed}")
            } else {
                format!("FAIL acked={acks} journal={confirmed}")
            };
            println!(
                "{}",
                json!({
                    "engine": "kontingent", "mode": "Full (fdatasync), one file", "workload": "hot",
                    "clients": format!("{procs} procs x {threads}"), "pipeline": "-",
                    "throughput": acks as f64 / elapsed, "unit": "res/s",
                    "p50_ms": percentile(&lat, 0.5), "p99_ms": percentile(&lat, 0.99), "max_ms": percentile(&lat, 1.0),
                    "correctness": correct,
                })
            );
        }
        "child" => {
            let path: String = get(&m, "path", String::new());
            let threads: usize = get(&m, "threads", 16);
            let tag: String = get(&m, "tag", "c".to_owned());
            let l = Arc::new(kontingent::open(&path, Durability::Full).unwrap());
            let (acks, lat) = drive(&l, &tag, threads, 1, secs, "hot");
            // A sample of latencies keeps the pipe small.
            let step = (lat.len() / 20_000).max(1);
            let sample: Vec<u32> = lat.iter().step_by(step).copied().collect();
            println!("{}", json!({"acks": acks, "lat": sample}));
        }
        "replay" => {
            let records: u64 = get(&m, "records", 10_000_000);
            let path = fresh(&dir, "replay.journal");
            {
                drop(fill(&path, records));
            }
            let bytes = std::fs::metadata(&path).unwrap().len();
            let started = Instant::now();
            let l = kontingent::open(&path, Durability::Full).unwrap();
            let elapsed = started.elapsed().as_secs_f64();
            let n = l.recovery().records;
            println!(
                "{}",
                json!({
                    "engine": "kontingent", "mode": "replay on open", "workload": "hot", "clients": 1, "pipeline": "-",
                    "throughput": n as f64 / elapsed, "unit": "commands/s",
                    "seconds": elapsed, "records": n, "journal_mb": bytes as f64 / 1e6,
                    "correctness": format!("records={n}"),
                })
            );
        }
        "restart" => {
            let records: u64 = get(&m, "records", 10_000_000);
            let path = fresh(&dir, "restart.journal");
            let _ = std::fs::remove_file(kontingent::checkpoint::path_for(&path));
            {
                let l = fill(&path, records);
                l.checkpoint().unwrap();
                // A tail after the checkpoint, as a real restart would find.
                let cmds: Vec<Command> = (0..1000)
                    .map(|k| Command::new(2, reserve("t", 0, k, "hot")))
                    .collect();
                for r in l.submit_batch(cmds) {
                    r.unwrap();
                }
            }
            let ck = std::fs::metadata(kontingent::checkpoint::path_for(&path))
                .unwrap()
                .len();
            let started = Instant::now();
            let l = kontingent::open(&path, Durability::Full).unwrap();
            let elapsed = started.elapsed().as_secs_f64();
            let rec = l.recovery().clone();
            let held = l.read(|l| l.reservation_count()).unwrap();
            println!(
                "{}",
                json!({
                    "engine": "kontingent", "mode": "restart from checkpoint", "workload": "hot", "clients": 1, "pipeline": "-",
                    "throughput": elapsed, "unit": "seconds",
                    "reservations": held, "checkpoint_mb": ck as f64 / 1e6, "tail_records": rec.records,
                    "correctness": format!("from_checkpoint={:?} reservations={held}", rec.from_checkpoint),
                })
            );
        }
        _ => {
            eprintln!("usage: kbench durable|processes|replay|restart [--key value ...]");
            std::process::exit(2);
        }
    }
}
