//! The PostgreSQL log's benchmark: N app processes x T threads reserving on one
//! hot pool of one ledger, durable (each answer after its batch's COMMIT with
//! synchronous_commit=on), on a throwaway cluster. Prints one JSON line.
//!
//! `cargo run --release -p kontingent-pg --bin kontingent-pg-bench -- [--procs 4] [--threads 16] [--secs 10]`

use kontingent::{Action, Command, Draw, Durability, DurableLedger, Outcome, Request};
use kontingent_pg::{cluster::Cluster, PgStorage};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == &format!("--{name}"))
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn child(url: &str, tag: &str, threads: u64, secs: u64) {
    let storage = PgStorage::connect(url, "bench").expect("connects");
    let (l, _) = DurableLedger::open_storage(storage, Durability::Full).expect("opens");
    let l = Arc::new(l);
    let stop = Arc::new(AtomicBool::new(false));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (l, stop, tag) = (l.clone(), stop.clone(), tag.to_owned());
            std::thread::spawn(move || {
                let mut lat = Vec::new();
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let id = format!("{tag}-{t}-{i}");
                    let r = Request::new(&id, format!("c{}", i % 1000))
                        .line("hot-unit", 1)
                        .confirm();
                    let t0 = Instant::now();
                    let a = l
                        .submit(Command::new(1, Action::Reserve(r)))
                        .expect("submits");
                    lat.push(t0.elapsed().as_micros() as u64);
                    assert!(
                        matches!(a.outcome, Outcome::Confirmed { .. }),
                        "{:?}",
                        a.outcome
                    );
                    i += 1;
                }
                lat
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(secs));
    stop.store(true, Ordering::Relaxed);
    let mut lat: Vec<u64> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    lat.sort_unstable();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 - 1.0) * p) as usize)
            .copied()
            .unwrap_or(0)
    };
    let s = l.stats();
    println!(
        "RESULT {} {} {} {} {}",
        lat.len(),
        pct(0.5),
        pct(0.99),
        s.batches,
        s.records
    );
}

fn main() {
    let procs = arg("procs", 4);
    let threads = arg("threads", 16);
    let secs = arg("secs", 10);
    if let Ok(url) = std::env::var("KONTINGENT_PG_BENCH_URL") {
        return child(
            &url,
            &std::env::var("KONTINGENT_PG_BENCH_TAG").unwrap(),
            threads,
            secs,
        );
    }
    let pg = Cluster::start();
    let url = pg.url();
    let storage = PgStorage::connect(&url, "bench").expect("connects");
    let (l, _) = DurableLedger::open_storage(storage, Durability::Full).expect("opens");
    l.submit(Command::new(
        0,
        Action::DefinePool {
            pool: "hot".into(),
            capacity: 1 << 50,
        },
    ))
    .unwrap();
    l.submit(Command::new(
        0,
        Action::DefineOffer {
            offer: "hot-unit".into(),
            draws: vec![Draw::new("hot", 1)],
            waitlist: Default::default(),
        },
    ))
    .unwrap();
    drop(l);
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..procs)
        .map(|p| {
            std::process::Command::new(&exe)
                .args([
                    "--threads",
                    &threads.to_string(),
                    "--secs",
                    &secs.to_string(),
                ])
                .env("KONTINGENT_PG_BENCH_URL", &url)
                .env("KONTINGENT_PG_BENCH_TAG", format!("p{p}"))
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let (mut ops, mut p50, mut p99, mut batches, mut records) = (0u64, 0u64, 0u64, 0u64, 0u64);
    for c in children {
        let out = c.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let line = text
            .lines()
            .find(|l| l.starts_with("RESULT"))
            .expect("a result");
        let v: Vec<u64> = line
            .split(' ')
            .skip(1)
            .map(|x| x.parse().unwrap())
            .collect();
        ops += v[0];
        p50 = p50.max(v[1]);
        p99 = p99.max(v[2]);
        batches += v[3];
        records += v[4];
    }
    println!(
        "{{\"bench\": \"pg_log\", \"procs\": {procs}, \"threads\": {threads}, \"clients\": {}, \"secs\": {secs}, \"ops\": {ops}, \"ops_per_s\": {:.0}, \"p50_ms\": {:.3}, \"p99_ms\": {:.3}, \"commits\": {batches}, \"per_commit\": {:.1}}}",
        procs * threads,
        ops as f64 / secs as f64,
        p50 as f64 / 1000.0,
        p99 as f64 / 1000.0,
        records as f64 / batches.max(1) as f64
    );
}
