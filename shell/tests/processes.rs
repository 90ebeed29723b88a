//! Real processes, real kills.
//!
//! The test binary re-runs itself as a child (`--exact <child test>` with an
//! environment variable naming the job), so the children are the same code.
//! - crash: a child reserves from 8 threads and prints each acknowledgement;
//!   the parent SIGKILLs it at a random moment, reopens the journal and checks
//!   that every acknowledged reservation is there and no pool is oversold.
//!   200 kills by default; `KONTINGENT_CRASH_KILLS=1000` for the long run.
//! - several processes: 4 processes x 16 threads on one hot pool of one file.

use kontingent::storage::MemoryStorage;
use kontingent::{
    Action, Command, Draw, Durability, DurableLedger, Ledger, Outcome, Refusal, Request,
    ReservationId, ReservationState,
};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command as Process, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CHILD: &str = "KONTINGENT_TEST_CHILD";
const JOURNAL: &str = "KONTINGENT_TEST_JOURNAL";
const TAG: &str = "KONTINGENT_TEST_TAG";
const COMPACT: &str = "KONTINGENT_TEST_COMPACT";

fn catalog(capacity: u64) -> Vec<Command> {
    vec![
        Command::new(
            0,
            Action::DefinePool {
                pool: "hot".into(),
                capacity,
            },
        ),
        Command::new(
            0,
            Action::DefineOffer {
                offer: "seat".into(),
                draws: vec![Draw::new("hot", 1)],
                waitlist: Default::default(),
            },
        ),
    ]
}

/// Define the catalog once, whichever process gets there first.
fn ensure_catalog<S: kontingent::storage::Storage>(l: &DurableLedger<S>, capacity: u64) {
    if l.read(|l| l.offer("seat").is_none()).unwrap() {
        // One batch: other processes see the pool and the offer together or not at all.
        let actions = catalog(capacity).into_iter().map(|c| c.action).collect();
        for r in l.submit_batch_now(actions) {
            // A concurrent process may have defined it meanwhile: "duplicate" means it
            // exists (stamps by the ledger's clock never go back).
            if let Err(e) = r {
                assert!(e.code() == "duplicate", "{e}");
            }
        }
        assert!(l.read(|l| l.offer("seat").is_some()).unwrap());
    }
}

/// Reserve from `threads` threads until sold out (or forever, until killed),
/// printing `ACK <request id> <reservation id>` for every acknowledged promise.
fn reserve_loop<S: kontingent::storage::Storage + 'static>(
    l: Arc<DurableLedger<S>>,
    tag: &str,
    threads: usize,
    out: Arc<Mutex<dyn Write + Send>>,
) {
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let l = l.clone();
            let out = out.clone();
            let tag = tag.to_owned();
            std::thread::spawn(move || {
                for i in 0.. {
                    let id = format!("{tag}-{t}-{i}");
                    let r = Request::new(&id, format!("c-{tag}-{t}"))
                        .line("seat", 1)
                        .confirm();
                    // Stamped by the ledger's clock, never behind another process's stamp.
                    match l.submit_now(Action::Reserve(r)) {
                        Ok(a) => match a.outcome {
                            Outcome::Confirmed { reservation, .. } => {
                                // One write per line: writers may share a buffer.
                                let line = format!("ACK {id} {}\n", reservation.0);
                                let mut o = out.lock().unwrap();
                                o.write_all(line.as_bytes()).unwrap();
                                o.flush().unwrap();
                            }
                            Outcome::Refused(Refusal::SoldOut { .. }) => return,
                            other => panic!("unexpected {other:?}"),
                        },
                        Err(e) if e.code() == "time_went_backwards" => continue,
                        Err(e) => panic!("{e}"),
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

/// The child side of both tests; does nothing in a normal test run.
#[test]
fn child() {
    let Ok(job) = std::env::var(CHILD) else {
        return;
    };
    let path = std::env::var(JOURNAL).unwrap();
    let tag = std::env::var(TAG).unwrap();
    let l = Arc::new(kontingent::open(&path, Durability::Full).unwrap());
    let (capacity, threads) = match job.as_str() {
        "crash" => (1_000_000, 8),
        _ => (2_000, 16),
    };
    ensure_catalog(&l, capacity);
    if std::env::var(COMPACT).is_ok() {
        // Retire the journal again and again while every process keeps writing
        // (and, in the crash test, until a SIGKILL lands in the middle of one).
        let l = l.clone();
        std::thread::spawn(move || loop {
            std::thread::sleep(Duration::from_millis(3));
            if let Err(e) = l.compact() {
                eprintln!("compaction failed: {e}");
                std::process::exit(101);
            }
        });
    }
    let out: Arc<Mutex<dyn Write + Send>> = Arc::new(Mutex::new(std::io::stdout()));
    reserve_loop(l, &tag, threads, out);
}

fn spawn(job: &str, journal: &std::path::Path, tag: &str, compact: bool) -> std::process::Child {
    let mut p = Process::new(std::env::current_exe().unwrap());
    if compact {
        p.env(COMPACT, "1");
    }
    p.args(["--exact", "child", "--nocapture", "--test-threads=1"])
        .env(CHILD, job)
        .env(JOURNAL, journal)
        .env(TAG, tag)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

fn acks(out: impl std::io::Read) -> Vec<(String, u64)> {
    BufReader::new(out)
        .lines()
        .map_while(Result::ok)
        .filter_map(|l| {
            // The first line may follow libtest's "test child ... " on the same line.
            let mut p = l[l.find("ACK ")? + 4..].split(' ');
            Some((p.next()?.to_owned(), p.next()?.parse().ok()?))
        })
        .collect()
}

/// Every acknowledged promise is in the ledger, as the same reservation, and a
/// repeat of its request id answers the same; nothing is oversold.
fn check_acks(l: &Ledger, acks: &[(String, u64)]) {
    for (id, res) in acks {
        let r = l
            .reservation(ReservationId(*res))
            .unwrap_or_else(|| panic!("acknowledged {id} -> {res} is missing"));
        assert_eq!(r.state, ReservationState::Confirmed, "{id}");
        let tag = id.rsplit_once('-').unwrap().0;
        assert_eq!(r.customer, format!("c-{tag}"), "{id}");
        let again = Request::new(id, format!("c-{tag}"))
            .line("seat", 1)
            .confirm();
        let repeat = l.preview(&again, l.now()).unwrap();
        assert_eq!(
            repeat,
            Outcome::Confirmed {
                reservation: ReservationId(*res),
                units: 1
            },
            "{id}"
        );
    }
    let Some(p) = l.pool("hot") else {
        // Killed before the catalog was defined: then nothing can have been acknowledged.
        assert!(acks.is_empty());
        return;
    };
    assert!(p.held + p.confirmed <= p.capacity, "oversold: {p:?}");
    assert_eq!(
        p.confirmed,
        l.reservation_count(),
        "every reservation is a confirmed seat"
    );
}

#[test]
fn crash_kills_lose_no_acknowledged_reservation() {
    let kills: u32 = std::env::var("KONTINGENT_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.journal");
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        seed = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = seed;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let mut all_acks = Vec::new();
    let mut torn = 0;
    for k in 0..kills {
        let mut child = spawn("crash", &path, &format!("k{k}"), k % 4 == 1);
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || acks(stdout));
        std::thread::sleep(Duration::from_micros(2_000 + next() % 30_000));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        all_acks.extend(reader.join().unwrap());
        let l = kontingent::open(&path, Durability::Full).unwrap();
        torn += u64::from(l.recovery().torn_bytes > 0);
        l.read(|l| check_acks(l, &all_acks)).unwrap();
    }
    assert!(
        all_acks.len() > kills as usize,
        "the children made progress: {}",
        all_acks.len()
    );
    eprintln!(
        "{kills} kills, {} acknowledged reservations, {torn} torn tails cut",
        all_acks.len()
    );
}

#[test]
fn four_processes_share_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.journal");
    let children: Vec<_> = (0..4)
        .map(|p| spawn("shared", &path, &format!("p{p}"), p == 0))
        .collect();
    let readers: Vec<_> = children
        .into_iter()
        .map(|mut c| {
            let out = c.stdout.take().unwrap();
            std::thread::spawn(move || {
                let a = acks(out);
                assert!(c.wait().unwrap().success());
                a
            })
        })
        .collect();
    let all: Vec<(String, u64)> = readers
        .into_iter()
        .flat_map(|r| r.join().unwrap())
        .collect();
    let sold = kontingent::open(&path, Durability::Full)
        .unwrap()
        .read(|l| (l.pool("hot").unwrap().confirmed, l.reservation_count()))
        .unwrap();
    assert_eq!(
        (all.len(), sold),
        (2_000, (2_000, 2_000)),
        "exactly the capacity was sold"
    );
    let mut ids: Vec<u64> = all.iter().map(|a| a.1).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 2_000, "no reservation acknowledged twice");
    let l = kontingent::open(&path, Durability::Full).unwrap();
    l.read(|l| {
        check_acks(l, &all);
        assert_eq!(l.pool("hot").unwrap().confirmed, 2_000);
    })
    .unwrap();
    let header = std::fs::read(&path).unwrap();
    // Compaction writes format version 3 with a base state: records retired at 32..40.
    let retired = u64::from_le_bytes(header[32..40].try_into().unwrap());
    assert_eq!(
        (u16::from_le_bytes([header[8], header[9]]), retired > 0),
        (3, true),
        "p0 compacted the journal while the others wrote"
    );
    // Each process's acknowledgements were all there for the others to see.
    assert!(
        all.iter().any(|a| a.0.starts_with("p0-")) && all.iter().any(|a| a.0.starts_with("p3-"))
    );
}

#[test]
fn four_handles_share_one_memory_storage() {
    // The same shape on the memory storage: 4 ledgers (as 4 "processes") x 16 threads.
    let mem = MemoryStorage::new();
    let out: Arc<Mutex<Vec<u8>>> = Arc::new(Mutex::new(Vec::new()));
    let started = Instant::now();
    let handles: Vec<_> = (0..4)
        .map(|p| {
            let mem = mem.clone();
            let out = out.clone();
            std::thread::spawn(move || {
                let (l, _) = DurableLedger::open_storage(mem, Durability::Full).unwrap();
                let l = Arc::new(l);
                ensure_catalog(&l, 2_000);
                let w: Arc<Mutex<dyn Write + Send>> = Arc::new(Mutex::new(SharedVec(out)));
                reserve_loop(l, &format!("m{p}"), 16, w);
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let text = out.lock().unwrap().clone();
    let all = acks(&text[..]);
    assert_eq!(all.len(), 2_000);
    let (l, _) = DurableLedger::open_storage(mem, Durability::Full).unwrap();
    l.read(|l| check_acks(l, &all)).unwrap();
    assert!(started.elapsed() < Duration::from_secs(120));
}

struct SharedVec(Arc<Mutex<Vec<u8>>>);

impl Write for SharedVec {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
