//! Several app servers on one ledger in a real PostgreSQL: exact capacity sold,
//! the same digest everywhere, linearizable histories, a PostgreSQL crash
//! (`pg_ctl stop -m immediate`) loses nothing acknowledged, and a server killed
//! mid-batch leaves each batch wholly in the log or not at all.

use kontingent::durable::replay::apply_entry;
use kontingent::journal::{Journal, HEADER_LEN};
use kontingent::{
    Action, Command, Draw, Durability, DurableError, DurableLedger, Outcome, Refusal, Request,
};
use kontingent_pg::cluster::Cluster;
use kontingent_pg::PgStorage;
use kontingent_verify::harness::verify;
use kontingent_verify::history::{History, Operation};
use kontingent_verify::quota::{QuotaOp, QuotaRet};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command as Process, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CHILD: &str = "KONTINGENT_PG_CHILD";
const URL: &str = "KONTINGENT_PG_URL";
const TAG: &str = "KONTINGENT_PG_TAG";
const AT: u64 = 1_000;

fn open(url: &str, ledger: &str) -> DurableLedger<PgStorage> {
    let storage = PgStorage::connect(url, ledger).expect("connects");
    DurableLedger::open_storage(storage, Durability::Full)
        .expect("opens")
        .0
}

/// Define the hot pool once (whichever server comes first).
fn ensure_catalog(l: &DurableLedger<PgStorage>, capacity: u64) {
    if l.read(|l| l.pool("hot").is_some()).unwrap() {
        return;
    }
    for c in [
        Command::new(
            AT,
            Action::DefinePool {
                pool: "hot".into(),
                capacity,
            },
        ),
        Command::new(
            AT,
            Action::DefineOffer {
                offer: "hot-unit".into(),
                draws: vec![Draw::new("hot", 1)],
                waitlist: Default::default(),
            },
        ),
    ] {
        // Another server may have defined it meanwhile: that is an error, and fine.
        let _ = l.submit(c);
    }
}

/// A child app server: `threads` clients reserve until sold out (or killed),
/// printing `ACK id reservation call_ns return_ns` / `SOLD id call_ns return_ns`.
fn serve(tag: &str, threads: usize, capacity: u64, compare: bool) {
    let url = std::env::var(URL).unwrap();
    let l = Arc::new(open(&url, "hot-ledger"));
    ensure_catalog(&l, capacity);
    let out = Arc::new(Mutex::new(std::io::stdout()));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (l, out, tag) = (l.clone(), out.clone(), tag.to_owned());
            std::thread::spawn(move || {
                for i in 0.. {
                    let id = format!("{tag}-{t}-{i}");
                    let call = now_ns();
                    let r = Request::new(&id, format!("c-{id}"))
                        .line("hot-unit", 1)
                        .confirm();
                    let answer = l.submit(Command::new(AT, Action::Reserve(r)));
                    let ret = now_ns();
                    let line = match answer {
                        Ok(a) => match a.outcome {
                            Outcome::Confirmed { reservation, .. } => {
                                format!("ACK {id} {} {call} {ret}\n", reservation.0)
                            }
                            Outcome::Refused(Refusal::SoldOut { left, .. }) => {
                                format!("SOLD {id} {call} {ret} {left}\n")
                            }
                            other => panic!("{other:?}"),
                        },
                        // PostgreSQL went away: this answer is unknown; stop.
                        Err(DurableError::Journal(_)) => return,
                        Err(e) => panic!("{e}"),
                    };
                    let sold_out = line.starts_with("SOLD");
                    {
                        let mut o = out.lock().unwrap();
                        o.write_all(line.as_bytes()).unwrap();
                        o.flush().unwrap();
                    }
                    if sold_out {
                        return;
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    if !compare {
        return;
    }
    // Wait until every server is done, then compare states at the same point.
    println!("DONE");
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
    println!("DIGEST {}", l.read(|l| l.digest()).unwrap());
}

fn now_ns() -> u64 {
    let mut ts = std::mem::MaybeUninit::<[i64; 2]>::uninit();
    // CLOCK_MONOTONIC is system-wide: histories from several processes compare.
    extern "C" {
        fn clock_gettime(clk: i32, ts: *mut [i64; 2]) -> i32;
    }
    unsafe {
        clock_gettime(1, ts.as_mut_ptr());
        let [s, n] = ts.assume_init();
        (s as u64) * 1_000_000_000 + n as u64
    }
}

#[test]
fn child() {
    let Ok(job) = std::env::var(CHILD) else {
        return;
    };
    let tag = std::env::var(TAG).unwrap();
    match job.as_str() {
        "serve" => serve(&tag, 16, 3_000, true),
        "endless" => serve(&tag, 16, 1_000_000_000, false),
        "batches" => batches(&tag),
        other => panic!("{other}"),
    }
}

fn spawn(job: &str, url: &str, tag: &str) -> std::process::Child {
    Process::new(std::env::current_exe().unwrap())
        .args(["--exact", "child", "--nocapture", "--test-threads=1"])
        .env(CHILD, job)
        .env(URL, url)
        .env(TAG, tag)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

struct Report {
    acks: Vec<(String, u64, u64, u64)>,
    sold: Vec<(String, u64, u64, u64)>,
    digest: Option<String>,
}

fn report(out: impl std::io::Read) -> Report {
    report_until(&mut BufReader::new(out), None)
}

/// Read a child's lines (until `stop` is seen, if given).
fn report_until(out: &mut impl BufRead, stop: Option<&str>) -> Report {
    let mut r = Report {
        acks: vec![],
        sold: vec![],
        digest: None,
    };
    for line in out.lines().map_while(Result::ok) {
        if stop.is_some_and(|s| line.contains(s)) {
            break;
        }
        let Some(at) = ["ACK ", "SOLD ", "DIGEST "]
            .iter()
            .filter_map(|k| line.find(k))
            .min()
        else {
            continue;
        };
        let p: Vec<&str> = line[at..].split(' ').collect();
        match p[0] {
            "ACK" => r.acks.push((
                p[1].into(),
                p[2].parse().unwrap(),
                p[3].parse().unwrap(),
                p[4].parse().unwrap(),
            )),
            "SOLD" => r.sold.push((
                p[1].into(),
                p[2].parse().unwrap(),
                p[3].parse().unwrap(),
                p[4].parse().unwrap(),
            )),
            _ => r.digest = Some(p[1].into()),
        }
    }
    r
}

/// The log's commands, in order.
fn commands(url: &str) -> Vec<Command> {
    let mut out = Vec::new();
    Journal::scan(PgStorage::connect(url, "hot-ledger").unwrap(), |e| {
        if let kontingent::journal::Entry::Command(c) = e {
            out.push(c.clone());
        }
        Ok(())
    })
    .unwrap();
    out
}

/// The log as commands, in order (what every server replays).
fn log(url: &str) -> (kontingent::Ledger, u64) {
    let mut l = kontingent::Ledger::new();
    let (rec, _) = Journal::scan(PgStorage::connect(url, "hot-ledger").unwrap(), |e| {
        apply_entry(&mut l, e)
    })
    .unwrap();
    (l, rec.records)
}

#[test]
fn four_app_servers_sell_exactly_the_capacity_and_agree() {
    let pg = Cluster::start();
    let url = pg.url();
    let started = Instant::now();
    let mut children: Vec<_> = (0..4)
        .map(|p| spawn("serve", &url, &format!("s{p}")))
        .collect();
    let mut outs: Vec<_> = children
        .iter_mut()
        .map(|c| BufReader::new(c.stdout.take().unwrap()))
        .collect();
    let mut reports: Vec<Report> = outs
        .iter_mut()
        .map(|o| report_until(o, Some("DONE")))
        .collect();
    // All done: now every server reads the same, final log.
    for c in &mut children {
        writeln!(c.stdin.as_mut().unwrap()).unwrap();
    }
    for ((c, o), r) in children.iter_mut().zip(&mut outs).zip(&mut reports) {
        r.digest = report_until(o, None).digest;
        assert!(c.wait().unwrap().success());
    }
    let elapsed = started.elapsed();
    let acks: Vec<_> = reports.iter().flat_map(|r| r.acks.clone()).collect();
    assert_eq!(acks.len(), 3_000, "exactly the capacity was sold");
    let mut ids: Vec<u64> = acks.iter().map(|a| a.1).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 3_000, "no reservation acknowledged twice");
    // Every server ends on the same digest, and so does a replay of the log.
    let (replayed, records) = log(&url);
    for r in &reports {
        assert_eq!(
            r.digest.as_deref(),
            Some(replayed.digest().to_string().as_str())
        );
    }
    let p = replayed.pool("hot").unwrap();
    assert_eq!((p.confirmed, p.held), (3_000, 0));
    // Real time: an acknowledgement never precedes a sold-out answer that returned
    // before it was asked (a linearizable ledger cannot sell after selling out).
    for (id, _, call, _) in &acks {
        assert!(
            !(reports.iter().flat_map(|r| &r.sold).any(|s| s.2 < *call)),
            "{id} was acknowledged after a sold-out answer had returned"
        );
    }
    // Reservation numbers follow the log order, which respects real time: an
    // acknowledgement that returned before another was asked has a smaller number.
    let mut by_return = acks.clone();
    by_return.sort_by_key(|a| a.3);
    for a in &acks {
        for b in by_return.iter().take_while(|b| b.3 < a.2) {
            assert!(
                b.1 < a.1,
                "{} (#{}) returned before {} (#{}) was asked",
                b.0,
                b.1,
                a.0,
                a.1
            );
        }
    }
    // The whole history through the verification checks: a Wing–Gong–Lowe search
    // against the quota specification, and the log's own order as a witness.
    let client = |id: &str| {
        let mut p = id.split('-');
        let s: u64 = p.next().unwrap()[1..].parse().unwrap();
        s * 100 + p.next().unwrap().parse::<u64>().unwrap()
    };
    let op = |id: &str| QuotaOp::Reserve {
        request_id: id.to_owned(),
        customer: format!("c-{id}"),
        pool: "hot".into(),
        units: 1,
        confirm: true,
    };
    let mut history = History::new();
    for r in &reports {
        for (id, res, call, ret) in &r.acks {
            history.push(Operation::completed(
                client(id),
                *call,
                *ret,
                op(id),
                QuotaRet::Confirmed {
                    units: 1,
                    reservation: Some(*res),
                },
            ));
        }
        for (id, call, ret, left) in &r.sold {
            history.push(Operation::completed(
                client(id),
                *call,
                *ret,
                op(id),
                QuotaRet::SoldOut {
                    requested: 1,
                    left: *left,
                },
            ));
        }
    }
    let log_commands = commands(&url);
    let checked = verify(&history, Some(&log_commands), &[("hot".to_owned(), 3_000)]);
    assert!(checked.is_ok(), "{checked:?}");
    eprintln!(
        "4 servers x 16 threads: 3,000 sold in {:.2} s ({:.0}/s), {records} records; {} operations linearizable",
        elapsed.as_secs_f64(),
        3_000.0 / elapsed.as_secs_f64(),
        history.len()
    );
}

#[test]
fn a_postgres_crash_loses_nothing_acknowledged() {
    let pg = Cluster::start();
    let url = pg.url();
    let mut acks = Vec::new();
    for round in 0..3 {
        let children: Vec<_> = (0..2)
            .map(|p| spawn("endless", &url, &format!("r{round}p{p}")))
            .collect();
        let readers: Vec<_> = children
            .into_iter()
            .map(|mut c| {
                let out = c.stdout.take().unwrap();
                std::thread::spawn(move || {
                    let r = report(out);
                    let _ = c.wait();
                    r
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(700 + 300 * round));
        pg.stop_immediate(); // mid-load: connections cut, no shutdown checkpoint
        for r in readers {
            acks.extend(r.join().unwrap().acks);
        }
        pg.restart();
        let (l, _) = log(&url);
        for (id, res, _, _) in &acks {
            let r = l
                .reservation(kontingent::ReservationId(*res))
                .unwrap_or_else(|| panic!("acknowledged {id} -> {res} lost in the crash"));
            assert_eq!(r.customer, format!("c-{id}"));
        }
        let p = l.pool("hot").unwrap();
        assert!(p.held + p.confirmed <= p.capacity);
    }
    assert!(
        acks.len() > 100,
        "the servers made progress: {}",
        acks.len()
    );
    eprintln!(
        "3 PostgreSQL crashes under load: {} acknowledged, none lost",
        acks.len()
    );
}

/// A child that submits batches of 8 (one transaction each) as fast as it can.
fn batches(tag: &str) {
    let url = std::env::var(URL).unwrap();
    let l = open(&url, "hot-ledger");
    ensure_catalog(&l, 1_000_000_000);
    for b in 0.. {
        let cmds = (0..8)
            .map(|i| {
                let r = Request::new(format!("{tag}-b{b}-{i}"), "c")
                    .line("hot-unit", 1)
                    .confirm();
                Command::new(AT, Action::Reserve(r))
            })
            .collect();
        for r in l.submit_batch(cmds) {
            r.unwrap();
        }
        println!("BATCH {b}");
    }
}

#[test]
fn a_server_killed_mid_batch_leaves_whole_batches() {
    let pg = Cluster::start();
    let url = pg.url();
    for k in 0..5 {
        let mut c = spawn("batches", &url, &format!("k{k}"));
        std::thread::sleep(Duration::from_millis(300 + 97 * k));
        c.kill().unwrap(); // SIGKILL, most likely inside a batch's transaction
        c.wait().unwrap();
    }
    let (l, _) = log(&url);
    // Count each batch's reservations: 0 or 8, never in between.
    let mut per_batch = std::collections::BTreeMap::<String, u32>::new();
    for id in 1..=l.reservation_count() {
        let r = l.reservation(kontingent::ReservationId(id)).unwrap();
        let _ = r;
    }
    let mut found = 0;
    let (mut storage, len) = {
        let mut s = PgStorage::connect(&url, "hot-ledger").unwrap();
        let n = kontingent::storage::Storage::len(&mut s).unwrap();
        (s, n)
    };
    let mut bytes = vec![0u8; len as usize];
    kontingent::storage::Storage::read_exact_at(&mut storage, 0, &mut bytes).unwrap();
    let mut o = HEADER_LEN as usize;
    // Version 3 frames carry a 4-byte position in the group commit before the payload,
    // counted in the length (docs/FORMAT.md).
    let pos_len = if u16::from_le_bytes([bytes[8], bytes[9]]) >= 3 {
        4
    } else {
        0
    };
    while o < bytes.len() {
        let n = u32::from_le_bytes(bytes[o..o + 4].try_into().unwrap()) as usize;
        let cmd = kontingent::codec::decode(&bytes[o + 16 + pos_len..o + 16 + n]).unwrap();
        if let Action::Reserve(r) = cmd.action {
            let batch = r.request_id.rsplit_once('-').unwrap().0.to_owned();
            *per_batch.entry(batch).or_default() += 1;
            found += 1;
        }
        o += 16 + n;
    }
    assert!(found > 0);
    for (batch, n) in &per_batch {
        assert_eq!(*n, 8, "batch {batch} is partly in the log");
    }
    eprintln!(
        "5 servers killed mid-load: {} whole batches in the log, no partial one",
        per_batch.len()
    );
}

#[test]
fn a_new_server_starts_from_the_snapshot_in_postgres_plus_the_tail() {
    let pg = Cluster::start();
    let url = pg.url();
    let a = open(&url, "snap");
    ensure_catalog(&a, 100);
    for i in 0..40 {
        a.submit(Command::new(
            AT,
            Action::Reserve(Request::new(format!("r{i}"), "c").line("hot-unit", 1)),
        ))
        .unwrap();
    }
    // A server already running before the snapshot follows it.
    let b = open(&url, "snap");
    let c = a.compact().unwrap();
    assert_eq!(c.records, 42);
    for i in 40..50 {
        b.submit(Command::new(
            AT,
            Action::Reserve(Request::new(format!("r{i}"), "c").line("hot-unit", 1)),
        ))
        .unwrap();
    }
    let digest = a.read(|l| l.digest()).unwrap();
    assert_eq!(b.read(|l| l.digest()).unwrap(), digest);
    // A new server loads the snapshot and replays only the ten records after it.
    let storage = PgStorage::connect(&url, "snap").unwrap();
    let (fresh, recovery) = DurableLedger::open_storage(storage, Durability::Full).unwrap();
    assert_eq!(recovery.base, Some(42));
    assert_eq!(recovery.records, 10);
    assert_eq!(fresh.read(|l| l.digest()).unwrap(), digest);
    assert_eq!(fresh.read(|l| l.pool("hot").unwrap().held).unwrap(), 50);
}

#[test]
fn a_watcher_wakes_when_another_server_commits() {
    let pg = Cluster::start();
    let url = pg.url();
    let a = kontingent_pg::open(&url, "watched", Durability::Full).unwrap();
    ensure_catalog(&a, 10);
    let mut watcher = kontingent_pg::Watcher::connect(&url, "watched").unwrap();
    // Nothing committed: the wait times out (the polling fallback).
    assert!(!watcher.wait(Duration::from_millis(200)).unwrap());
    let b = kontingent_pg::open(&url, "watched", Durability::Full).unwrap();
    let started = Instant::now();
    let writer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        b.submit(Command::new(
            AT,
            Action::Reserve(Request::new("w1", "c").line("hot-unit", 1)),
        ))
        .unwrap();
    });
    assert!(
        watcher.wait(Duration::from_secs(5)).unwrap(),
        "woken by the commit"
    );
    let latency = started.elapsed();
    writer.join().unwrap();
    assert!(latency < Duration::from_secs(2), "{latency:?}");
    // After the wake-up, a read applies the other server's record.
    assert_eq!(a.read(|l| l.pool("hot").unwrap().held).unwrap(), 1);
}

#[test]
fn a_server_opened_later_serves_every_event_from_the_log() {
    let pg = Cluster::start();
    let url = pg.url();
    let a = open(&url, "events");
    ensure_catalog(&a, 100);
    for i in 0..30 {
        a.submit(Command::new(
            AT,
            Action::Reserve(Request::new(format!("e{i}"), "c").line("hot-unit", 1)),
        ))
        .unwrap();
    }
    let all = a.events_after(0, 1_000).unwrap();
    assert_eq!(all.len(), 32);
    // Opened after every one of them was written: its memory holds none, and the
    // log (a second connection, replayed) gives them all, from any seq.
    let b = open(&url, "events");
    assert_eq!(b.events_after(0, 1_000).unwrap(), all);
    assert_eq!(b.events_after(10, 5).unwrap(), all[10..15].to_vec());
    // And what a third server appends reaches it too, in order.
    let c = open(&url, "events");
    c.submit(Command::new(
        AT,
        Action::Reserve(Request::new("e-late", "c").line("hot-unit", 1)),
    ))
    .unwrap();
    let after = b.events_after(32, 10).unwrap();
    assert_eq!(after.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![33]);
}

#[test]
fn a_frozen_lock_holder_costs_the_others_at_most_the_hold_limit() {
    use kontingent::storage::Storage;
    let pg = Cluster::start();
    let url = pg.url();
    let a = open(&url, "frozen");
    ensure_catalog(&a, 10);
    // A server that froze (SIGSTOP, a swapped-out VM) holding the ledger's lock.
    let limit = Duration::from_millis(600);
    let mut frozen = PgStorage::connect_with(&url, "frozen", limit).unwrap();
    frozen.lock().unwrap();
    let started = Instant::now();
    let out = a
        .submit(Command::new(
            AT,
            Action::Reserve(Request::new("f1", "c").line("hot-unit", 1)),
        ))
        .unwrap();
    let waited = started.elapsed();
    assert!(matches!(out.outcome, Outcome::Held { .. }), "{out:?}");
    assert!(
        waited >= limit - Duration::from_millis(100) && waited < limit + Duration::from_secs(2),
        "waited {waited:?} for a holder silent past {limit:?}"
    );
    // When it wakes, its session is gone: nothing it does now is acknowledged.
    assert!(frozen.unlock().is_err(), "the frozen session was ended");
}
