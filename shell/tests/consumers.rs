//! A consumer is given an event only once it is durable: a read may see a
//! batch whose fdatasync is still running, but `durable_events_after` (what
//! every consumer reads through) waits for that sync, and a sync that fails
//! gives the consumer an error, never the event it would have lost.

use kontingent::host::{At, HostLedger};
use kontingent::storage::{MemoryStorage, Storage};
use kontingent::{Action, Command, Draw, Durability, DurableLedger, EventType, Request};
use std::io;
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// Where syncs wait: open, closed, or open with every sync failing.
#[derive(Clone, Copy, PartialEq)]
enum Gate {
    Open,
    Closed,
    Failing,
}

/// Memory storage whose syncs wait at a gate the test holds.
#[derive(Clone)]
struct Gated {
    inner: MemoryStorage,
    gate: Arc<(Mutex<Gate>, Condvar)>,
}

impl Gated {
    fn set(&self, g: Gate) {
        *self.gate.0.lock().unwrap() = g;
        self.gate.1.notify_all();
    }
}

impl Storage for Gated {
    fn len(&mut self) -> io::Result<u64> {
        self.inner.len()
    }
    fn read_exact_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        self.inner.read_exact_at(offset, buf)
    }
    fn append(&mut self, data: &[u8]) -> io::Result<()> {
        self.inner.append(data)
    }
    fn truncate(&mut self, len: u64) -> io::Result<()> {
        self.inner.truncate(len)
    }
    fn sync(&mut self) -> io::Result<()> {
        self.inner.sync()
    }
    fn syncer(&self) -> io::Result<Box<dyn FnMut() -> io::Result<()> + Send>> {
        let mut inner = self.inner.syncer()?;
        let gate = self.gate.clone();
        Ok(Box::new(move || {
            let (m, cv) = &*gate;
            let mut g = m.lock().unwrap();
            while *g == Gate::Closed {
                g = cv.wait(g).unwrap();
            }
            if *g == Gate::Failing {
                return Err(io::Error::other("the disk failed"));
            }
            drop(g);
            inner()
        }))
    }
    fn lock(&mut self) -> io::Result<()> {
        self.inner.lock()
    }
    fn unlock(&mut self) -> io::Result<()> {
        self.inner.unlock()
    }
    fn replace(&mut self, contents: &[u8]) -> io::Result<()> {
        self.inner.replace(contents)
    }
    fn take_replaced(&mut self) -> bool {
        self.inner.take_replaced()
    }
}

fn campaign() -> (Arc<DurableLedger<Gated>>, Gated) {
    let disk = Gated {
        inner: MemoryStorage::new(),
        gate: Arc::new((Mutex::new(Gate::Open), Condvar::new())),
    };
    let (l, _) = DurableLedger::open_storage(disk.clone(), Durability::Full).unwrap();
    for a in [
        Action::DefinePool {
            pool: "p".into(),
            capacity: 5,
        },
        Action::DefineOffer {
            offer: "o".into(),
            draws: vec![Draw::new("p", 1)],
            waitlist: Default::default(),
        },
        Action::DefineConsumer {
            consumer: "mailer".into(),
            events: vec![EventType::Confirmed],
            after: None,
        },
    ] {
        l.submit(Command::new(0, a)).unwrap();
    }
    (Arc::new(l), disk)
}

/// Confirm one voucher from another thread while the disk's sync waits at the
/// gate; returns once the confirmation is visible (but not durable).
fn confirm_in_flight(l: &Arc<DurableLedger<Gated>>, disk: &Gated) -> std::thread::JoinHandle<bool> {
    disk.set(Gate::Closed);
    let seq = l.read(|l| l.seq()).unwrap();
    let writer = {
        let l = l.clone();
        std::thread::spawn(move || {
            l.submit(Command::new(
                1,
                Action::Reserve(Request::new("r1", "a@example.org").line("o", 1).confirm()),
            ))
            .is_ok()
        })
    };
    while l.read(|l| l.seq()).unwrap() == seq {
        std::thread::sleep(Duration::from_millis(1));
    }
    writer
}

fn consume_in_thread(
    l: &Arc<DurableLedger<Gated>>,
) -> mpsc::Receiver<Result<Vec<kontingent::Event>, String>> {
    let (tx, rx) = mpsc::channel();
    let l = l.clone();
    std::thread::spawn(move || {
        let _ = tx.send(l.durable_events_after(0, 100).map_err(|e| e.to_string()));
    });
    rx
}

#[test]
fn a_consumer_waits_for_the_sync_of_what_it_is_given() {
    let (l, disk) = campaign();
    let writer = confirm_in_flight(&l, &disk);
    // Visible to a read, and to events_after...
    assert!(l
        .events_after(0, 100)
        .unwrap()
        .iter()
        .any(|e| e.kind.event_type() == EventType::Confirmed));
    // ...but not given to a consumer while its sync is running.
    let given = consume_in_thread(&l);
    assert!(
        given.recv_timeout(Duration::from_millis(300)).is_err(),
        "a consumer was given an event whose sync had not finished"
    );
    disk.set(Gate::Open);
    assert!(writer.join().unwrap(), "the confirmation is acknowledged");
    let events = given
        .recv_timeout(Duration::from_secs(10))
        .unwrap()
        .unwrap();
    assert!(events
        .iter()
        .any(|e| e.kind.event_type() == EventType::Confirmed));
}

#[test]
fn a_failed_sync_gives_the_consumer_an_error_not_the_event() {
    let (l, disk) = campaign();
    let writer = confirm_in_flight(&l, &disk);
    let given = consume_in_thread(&l);
    assert!(given.recv_timeout(Duration::from_millis(200)).is_err());
    disk.set(Gate::Failing);
    assert!(
        !writer.join().unwrap(),
        "the confirmation is not acknowledged"
    );
    let answer = given.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(
        answer.is_err(),
        "the consumer was given an event the disk lost: {answer:?}"
    );
}

#[test]
fn compaction_waits_for_consumers() {
    let dir = tempfile::tempdir().unwrap();
    let l = HostLedger::open_file(dir.path().join("j"), Durability::Full).unwrap();
    for a in [
        Action::DefinePool {
            pool: "p".into(),
            capacity: 5,
        },
        Action::DefineConsumer {
            consumer: "mailer".into(),
            events: vec![EventType::CapacityChanged],
            after: None,
        },
        Action::SetCapacity {
            pool: "p".into(),
            capacity: 6,
        },
    ] {
        l.submit(At::Exact(0), a).unwrap();
    }
    let e = l.compact().unwrap_err();
    assert!(e.to_string().contains("consumer"), "{e}");
    let d = l.consume("mailer", 10).unwrap();
    assert_eq!(d.notifications.len(), 1);
    l.submit(
        At::Exact(0),
        Action::Ack {
            consumer: "mailer".into(),
            seq: d.through,
        },
    )
    .unwrap();
    l.compact().unwrap();
    // The cursor is in the compacted base, and nothing is owed.
    assert!(l.consume("mailer", 10).unwrap().notifications.is_empty());
    drop(l);
    let again = HostLedger::open_file(dir.path().join("j"), Durability::Full).unwrap();
    assert_eq!(again.consumer("mailer").unwrap().cursor, d.through);
}

#[test]
fn a_consumer_defined_after_a_compaction_is_given_what_exists() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j");
    let l = HostLedger::open_file(&path, Durability::Full).unwrap();
    let capacity = |c: u64| Action::SetCapacity {
        pool: "p".into(),
        capacity: c,
    };
    l.submit(
        At::Exact(0),
        Action::DefinePool {
            pool: "p".into(),
            capacity: 1,
        },
    )
    .unwrap();
    l.submit(At::Exact(0), capacity(2)).unwrap();
    l.compact().unwrap();
    let base = l.read(|l| l.seq()).unwrap();
    l.submit(
        At::Exact(0),
        Action::DefineConsumer {
            consumer: "late".into(),
            events: vec![EventType::CapacityChanged],
            after: None,
        },
    )
    .unwrap();
    l.submit(At::Exact(0), capacity(3)).unwrap();
    drop(l);
    // After a restart the retired events cannot be given; the later ones are,
    // and the consumer is not stuck on an error.
    let l = HostLedger::open_file(&path, Durability::Full).unwrap();
    let d = l.consume("late", 10).unwrap();
    let seqs: Vec<u64> = d.notifications.iter().map(|n| n.event.seq).collect();
    assert_eq!(seqs, vec![base + 1]);
    assert_eq!(d.through, base + 1);
}

#[test]
fn a_consumer_far_behind_is_given_every_event_in_pages() {
    // More events than memory keeps, and a consumer at the start of them after a
    // restart: every page comes, in order, none missing, across the chunks.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j");
    let l = HostLedger::open_file(&path, Durability::None).unwrap();
    drop(l);
    let l = HostLedger::open_file(&path, Durability::Buffered).unwrap();
    l.submit(
        At::Exact(0),
        Action::DefinePool {
            pool: "p".into(),
            capacity: 0,
        },
    )
    .unwrap();
    l.submit(
        At::Exact(0),
        Action::DefineConsumer {
            consumer: "far".into(),
            events: vec![EventType::CapacityChanged],
            after: None,
        },
    )
    .unwrap();
    let n = kontingent::event_log::KEPT_DEFAULT as u64 + 5_000;
    let batch: Vec<_> = (1..=n)
        .map(|c| {
            (
                At::Exact(0),
                Action::SetCapacity {
                    pool: "p".into(),
                    capacity: c,
                },
            )
        })
        .collect();
    for r in l.submit_batch(batch) {
        r.unwrap();
    }
    drop(l);
    let l = HostLedger::open_file(&path, Durability::Buffered).unwrap();
    let mut seen = 0u64;
    let mut last = 1; // pool_defined is seq 1
    loop {
        let d = l.consume("far", 10_000).unwrap();
        if d.notifications.is_empty() {
            assert_eq!(d.through, n + 1);
            break;
        }
        for note in &d.notifications {
            assert_eq!(note.event.seq, last + 1, "in order, none missing");
            last = note.event.seq;
            seen += 1;
        }
        l.submit(
            At::Exact(0),
            Action::Ack {
                consumer: "far".into(),
                seq: d.through,
            },
        )
        .unwrap();
    }
    assert_eq!(seen, n);
}
