//! The journal on both storages: replay, torn tails at every byte, corruption in
//! the middle, fsync failure, and the codec against hostile bytes.

use kontingent::journal::{JournalError, HEADER_LEN};
use kontingent::storage::{FileStorage, MemoryStorage, Storage};
use kontingent::{
    codec, Action, Command, Digest, Draw, Durability, DurableError, DurableLedger, Ledger, Outcome,
    Request, ReservationId,
};
use proptest::prelude::*;
use std::path::PathBuf;

/// One place bytes live, reachable as either storage kind.
enum Place {
    /// The directory is kept only so it lives as long as the journal in it.
    File(#[allow(dead_code)] tempfile::TempDir, PathBuf),
    Memory(MemoryStorage),
}

impl Place {
    fn all() -> Vec<Place> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.journal");
        vec![Place::File(dir, path), Place::Memory(MemoryStorage::new())]
    }
    fn name(&self) -> &'static str {
        match self {
            Place::File(..) => "file",
            Place::Memory(_) => "memory",
        }
    }
    fn storage(&self) -> Box<dyn Storage> {
        match self {
            Place::File(_, p) => Box::new(FileStorage::open(p).unwrap()),
            Place::Memory(m) => Box::new(m.clone()),
        }
    }
    fn bytes(&self) -> Vec<u8> {
        match self {
            Place::File(_, p) => std::fs::read(p).unwrap(),
            Place::Memory(m) => m.bytes(),
        }
    }
    fn set_bytes(&self, b: Vec<u8>) {
        match self {
            Place::File(_, p) => std::fs::write(p, b).unwrap(),
            Place::Memory(m) => m.set_bytes(b),
        }
    }
    fn open(
        &self,
    ) -> Result<(DurableLedger<Box<dyn Storage>>, kontingent::Recovery), JournalError> {
        DurableLedger::open_storage(self.storage(), Durability::Full)
    }
}

fn setup() -> Vec<Command> {
    vec![
        Command::new(
            0,
            Action::DefinePool {
                pool: "zur-post".into(),
                capacity: 50,
            },
        ),
        Command::new(
            0,
            Action::DefinePool {
                pool: "budget".into(),
                capacity: 1000,
            },
        ),
        Command::new(
            0,
            Action::DefineOffer {
                offer: "v20".into(),
                draws: vec![Draw::new("zur-post", 1), Draw::new("budget", 20)],
                waitlist: Default::default(),
            },
        ),
    ]
}

fn traffic(n: u64) -> Vec<Command> {
    let mut v = setup();
    for i in 0..n {
        v.push(Command::new(
            10 + i,
            Action::Reserve(
                Request::new(format!("r{i}"), format!("c{}", i % 7)).line("v20", 1 + i % 2),
            ),
        ));
        if i % 3 == 0 {
            v.push(Command::new(
                10 + i,
                Action::Confirm {
                    reservation: ReservationId(i / 3 + 1),
                },
            ));
        }
    }
    v
}

/// Digests after each prefix of the commands that the ledger accepts.
fn prefix_digests(cmds: &[Command]) -> Vec<Digest> {
    let mut l = Ledger::new();
    let mut out = vec![l.digest()];
    for c in cmds {
        if l.apply(c).is_ok() {
            out.push(l.digest());
        }
    }
    out
}

#[test]
fn replay_gives_the_same_state() {
    for place in Place::all() {
        let cmds = traffic(40);
        let (l, rec) = place.open().unwrap();
        assert!(rec.created);
        for c in &cmds {
            let _ = l.submit(c.clone());
        }
        let digest = l.read(|l| l.digest()).unwrap();
        drop(l);
        let (again, rec) = place.open().unwrap();
        assert_eq!(
            again.read(|l| l.digest()).unwrap(),
            digest,
            "{}",
            place.name()
        );
        assert_eq!(rec.torn_bytes, 0);
        assert!(!rec.created);
        assert_eq!(*prefix_digests(&cmds).last().unwrap(), digest);
    }
}

#[test]
fn a_torn_tail_is_cut_at_every_byte() {
    for place in Place::all() {
        let cmds = traffic(6);
        let (l, _) = place.open().unwrap();
        // Record where each record ends.
        let mut ends = vec![place.bytes().len()];
        for c in &cmds {
            if l.submit(c.clone()).is_ok() {
                ends.push(place.bytes().len());
            }
        }
        drop(l);
        let full = place.bytes();
        let digests = prefix_digests(&cmds);
        let from = ends[ends.len() - 3];
        for cut in from..full.len() {
            place.set_bytes(full[..cut].to_vec());
            let (l, rec) = place.open().unwrap();
            let complete = ends.iter().filter(|&&e| e <= cut).count() - 1;
            assert_eq!(
                l.read(|l| l.digest()).unwrap(),
                digests[complete],
                "{} cut at {cut}",
                place.name()
            );
            assert_eq!(rec.records, complete as u64);
            assert_eq!(rec.torn_bytes, (cut - ends[complete]) as u64);
            assert_eq!(rec.torn_records, u64::from(cut > ends[complete]));
            // The tail is gone from the file, and appending continues cleanly.
            assert_eq!(place.bytes().len(), ends[complete]);
            l.submit(Command::new(100, Action::Tick)).unwrap();
            drop(l);
            let (l, rec) = place.open().unwrap();
            assert_eq!(rec.torn_bytes, 0);
            assert_eq!(rec.records, complete as u64 + 1);
            drop(l);
        }
        // Zeros or garbage over the tail after the last record are a torn tail too.
        for filler in [0u8, 0xA5] {
            let mut b = full.clone();
            b.extend(std::iter::repeat_n(filler, 300));
            place.set_bytes(b);
            let (l, rec) = place.open().unwrap();
            assert_eq!(rec.torn_bytes, 300);
            assert_eq!(l.read(|l| l.digest()).unwrap(), *digests.last().unwrap());
        }
    }
}

#[test]
fn corruption_in_the_middle_names_its_offset() {
    for place in Place::all() {
        let cmds = traffic(20);
        let (l, _) = place.open().unwrap();
        let mut starts = Vec::new();
        for c in &cmds {
            let before = place.bytes().len();
            if l.submit(c.clone()).is_ok() {
                starts.push(before as u64);
            }
        }
        drop(l);
        let full = place.bytes();
        let victim = starts[starts.len() / 2];
        for byte in [victim, victim + 5, victim + 12, victim + 20] {
            let mut b = full.clone();
            b[byte as usize] ^= 0x10;
            place.set_bytes(b.clone());
            match place.open() {
                Err(JournalError::Corrupt { offset, .. }) => {
                    assert_eq!(offset, victim, "{} flip at {byte}", place.name())
                }
                Err(e) => panic!("{}: {e}", place.name()),
                Ok(_) => panic!(
                    "{}: opened a corrupt journal (flip at {byte})",
                    place.name()
                ),
            }
            // Nothing was truncated or rewritten.
            assert_eq!(place.bytes(), b);
        }
        // A damaged header is refused, never overwritten.
        let mut b = full.clone();
        b[3] ^= 1;
        place.set_bytes(b.clone());
        assert!(matches!(place.open(), Err(JournalError::BadHeader { .. })));
        assert_eq!(place.bytes(), b);
        // An interrupted creation (short or zeroed header) starts afresh.
        place.set_bytes(vec![0; 40]);
        let (_, rec) = place.open().unwrap();
        assert!(rec.created);
        assert_eq!(place.bytes().len() as u64, HEADER_LEN);
    }
}

#[test]
fn an_fsync_failure_poisons_the_ledger() {
    let mem = MemoryStorage::new();
    let (l, _) = DurableLedger::open_storage(mem.clone(), Durability::Full).unwrap();
    for c in setup() {
        l.submit(c).unwrap();
    }
    let ok = l
        .submit(Command::new(
            1,
            Action::Reserve(Request::new("a", "x").line("v20", 1)),
        ))
        .unwrap();
    assert!(matches!(ok.outcome, Outcome::Held { .. }));
    mem.fail_syncs(true);
    let err = l
        .submit(Command::new(
            2,
            Action::Reserve(Request::new("b", "x").line("v20", 1)),
        ))
        .unwrap_err();
    assert_eq!(err.code(), "poisoned");
    assert!(l.is_poisoned());
    // Nothing more is acknowledged, even after the disk recovers.
    mem.fail_syncs(false);
    let err = l
        .submit(Command::new(
            3,
            Action::Reserve(Request::new("c", "x").line("v20", 1)),
        ))
        .unwrap_err();
    assert!(matches!(
        err,
        DurableError::Journal(JournalError::Poisoned { .. })
    ));
    assert!(l.read(|_| ()).is_err());
    drop(l);
    // After a power loss only the synced prefix exists; "b" was never acknowledged.
    mem.lose_unsynced();
    let (l, _) = DurableLedger::open_storage(mem, Durability::Full).unwrap();
    assert_eq!(l.read(|l| l.reservation_count()).unwrap(), 1);
}

#[test]
fn invalid_commands_are_not_journaled() {
    for place in Place::all() {
        let (l, _) = place.open().unwrap();
        for c in setup() {
            l.submit(c).unwrap();
        }
        let before = place.bytes().len();
        let err = l.submit(Command::new(
            1,
            Action::Confirm {
                reservation: ReservationId(9),
            },
        ));
        assert_eq!(err.unwrap_err().code(), "unknown_reservation");
        assert_eq!(place.bytes().len(), before);
        // A refusal is journaled: it is remembered for idempotency.
        let r = l
            .submit(Command::new(
                1,
                Action::Reserve(Request::new("big", "x").line("v20", 60)),
            ))
            .unwrap();
        assert!(matches!(r.outcome, Outcome::Refused(_)));
        assert!(place.bytes().len() > before);
    }
}

#[test]
fn the_batch_api_shares_one_sync() {
    let mem = MemoryStorage::new();
    let (l, _) = DurableLedger::open_storage(mem, Durability::Full).unwrap();
    let cmds = traffic(100);
    let n = cmds.len();
    let results = l.submit_batch(cmds);
    assert_eq!(results.len(), n);
    let s = l.stats();
    assert_eq!((s.batches, s.syncs), (1, 1));
    assert_eq!(
        s.records,
        results.iter().filter(|r| r.is_ok()).count() as u64
    );
}

#[test]
fn journal_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j");
    let l = kontingent::open(&path, Durability::Full).unwrap();
    drop(l);
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

fn arb_command() -> impl Strategy<Value = Command> {
    let s = "[a-z0-9é-]{0,12}";
    prop_oneof![
        (
            any::<u64>(),
            s,
            s,
            s,
            prop::collection::btree_map(s, s, 0..3),
            prop::collection::vec((s, any::<u64>()), 0..4),
            prop::option::of(any::<u64>()),
            any::<bool>(),
            any::<bool>(),
            any::<bool>()
        )
            .prop_map(
                |(at, id, cust, ch, attrs, lines, hold, confirm, up_to, waitlist)| {
                    let mut r = Request::new(id, cust).channel(ch);
                    r.attributes = attrs;
                    for (o, q) in lines {
                        r = r.line(o, q);
                    }
                    r.hold_ms = hold;
                    r.confirm = confirm;
                    r.up_to = up_to;
                    r.waitlist = waitlist;
                    Command::new(at, Action::Reserve(r))
                }
            ),
        (any::<u64>(), any::<u64>()).prop_map(|(at, r)| Command::new(
            at,
            Action::Confirm {
                reservation: ReservationId(r)
            }
        )),
        (any::<u64>(), any::<u64>()).prop_map(|(at, r)| Command::new(
            at,
            Action::Release {
                reservation: ReservationId(r)
            }
        )),
        (any::<u64>(), s, any::<u64>()).prop_map(|(at, p, c)| Command::new(
            at,
            Action::SetCapacity {
                pool: p,
                capacity: c
            }
        )),
        (
            any::<u64>(),
            s,
            prop::collection::vec((s, any::<u64>()), 0..3),
            any::<bool>()
        )
            .prop_map(|(at, o, d, skip)| Command::new(
                at,
                Action::DefineOffer {
                    offer: o,
                    draws: d.into_iter().map(|(p, a)| Draw::new(p, a)).collect(),
                    waitlist: if skip {
                        kontingent::WaitlistPolicy::Skip
                    } else {
                        kontingent::WaitlistPolicy::Strict
                    },
                }
            )),
        any::<u64>().prop_map(|at| Command::new(at, Action::Tick)),
        any::<u64>().prop_map(|at| Command::new(at, Action::Pause)),
    ]
}

proptest! {
    #[test]
    fn codec_round_trips(cmd in arb_command()) {
        let mut b = Vec::new();
        codec::encode(&cmd, &mut b);
        prop_assert_eq!(codec::decode(&b).unwrap(), cmd);
        // Every strict prefix is an error, never a panic.
        for cut in 0..b.len() {
            prop_assert!(codec::decode(&b[..cut]).is_err());
        }
    }

    #[test]
    fn decoding_into_a_reused_command_equals_decoding(cmds in prop::collection::vec(arb_command(), 1..12)) {
        let mut reused = Command::new(0, Action::Tick);
        for cmd in cmds {
            let mut b = Vec::new();
            codec::encode(&cmd, &mut b);
            codec::decode_into(&b, &mut reused).unwrap();
            prop_assert_eq!(&reused, &cmd);
            for cut in 0..b.len() {
                let mut scratch = reused.clone();
                prop_assert!(codec::decode_into(&b[..cut], &mut scratch).is_err());
            }
        }
    }

    #[test]
    fn hostile_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = codec::decode(&bytes);
    }
}

#[test]
fn a_restart_from_a_checkpoint_replays_only_the_tail() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.journal");
    let cmds = traffic(60);
    let (before, after) = cmds.split_at(50);
    let l = kontingent::open(&path, Durability::Full).unwrap();
    for c in before {
        let _ = l.submit(c.clone());
    }
    let covered = l.checkpoint().unwrap();
    for c in after {
        let _ = l.submit(c.clone());
    }
    let digest = l.read(|l| l.digest()).unwrap();
    let total = l.read(|l| l.seq()).unwrap();
    drop(l);
    let again = kontingent::open(&path, Durability::Full).unwrap();
    let rec = again.recovery().clone();
    assert_eq!(rec.from_checkpoint, Some(covered));
    assert!(
        rec.records > 0 && rec.records < covered,
        "only the tail: {rec:?}"
    );
    assert_eq!(
        again.read(|l| (l.digest(), l.seq())).unwrap(),
        (digest, total)
    );
    // The ledger goes on from there, and the next restart agrees.
    again.submit(Command::new(1_000, Action::Tick)).unwrap();
    let d2 = again.read(|l| l.digest()).unwrap();
    drop(again);
    assert_eq!(
        kontingent::open(&path, Durability::Full)
            .unwrap()
            .read(|l| l.digest())
            .unwrap(),
        d2
    );

    // A damaged checkpoint is ignored, with the reason, and the journal replayed in full.
    let ck = kontingent::checkpoint::path_for(&path);
    let mut b = std::fs::read(&ck).unwrap();
    let last = b.len() - 1;
    b[last] ^= 1;
    std::fs::write(&ck, &b).unwrap();
    let full = kontingent::open(&path, Durability::Full).unwrap();
    assert!(full
        .recovery()
        .checkpoint_ignored
        .as_deref()
        .unwrap()
        .contains("checksum"));
    assert_eq!(full.recovery().from_checkpoint, None);
    assert_eq!(full.read(|l| l.digest()).unwrap(), d2);
    drop(full);

    // A checkpoint of another journal is ignored too.
    let other = dir.path().join("other.journal");
    let o = kontingent::open(&other, Durability::Full).unwrap();
    o.submit(Command::new(0, Action::Tick)).unwrap();
    o.checkpoint().unwrap();
    drop(o);
    std::fs::copy(kontingent::checkpoint::path_for(&other), &ck).unwrap();
    let full = kontingent::open(&path, Durability::Full).unwrap();
    assert!(full
        .recovery()
        .checkpoint_ignored
        .as_deref()
        .unwrap()
        .contains("another journal"));
    assert_eq!(full.read(|l| l.digest()).unwrap(), d2);
}

#[test]
fn a_failed_write_poisons_before_anything_else_is_applied() {
    let mem = MemoryStorage::new();
    let (l, _) = DurableLedger::open_storage(mem.clone(), Durability::Full).unwrap();
    mem.fail_appends(true);
    let err = l
        .submit(Command::new(
            0,
            Action::DefinePool {
                pool: "p".into(),
                capacity: 1,
            },
        ))
        .unwrap_err();
    assert!(matches!(err.code(), "io" | "poisoned"), "{err}");
    mem.fail_appends(false);
    // The pool exists in memory but not on disk: nothing may be built on it.
    let err = l
        .submit(Command::new(
            0,
            Action::DefineOffer {
                offer: "o".into(),
                draws: vec![Draw::new("p", 1)],
                waitlist: Default::default(),
            },
        ))
        .unwrap_err();
    assert_eq!(err.code(), "poisoned");
    drop(l);
    let (l, _) = DurableLedger::open_storage(mem, Durability::Full).unwrap();
    assert!(l.read(|l| l.pool("p").is_none()).unwrap());
}

#[test]
fn opening_makes_replayed_records_durable() {
    let mem = MemoryStorage::new();
    let (l, _) = DurableLedger::open_storage(mem.clone(), Durability::Buffered).unwrap();
    for c in setup() {
        l.submit(c).unwrap();
    }
    drop(l);
    let written = mem.bytes().len();
    assert!(mem.synced_len() < written, "buffered: not synced");
    // Reopening fully durable syncs what it replayed before answering anything.
    let (l, _) = DurableLedger::open_storage(mem.clone(), Durability::Full).unwrap();
    assert_eq!(mem.synced_len(), written);
    let err = l
        .submit(Command::new(
            1,
            Action::Confirm {
                reservation: ReservationId(1),
            },
        ))
        .unwrap_err();
    assert_eq!(err.code(), "unknown_reservation");
    mem.lose_unsynced();
    assert_eq!(mem.bytes().len(), written);
}

#[test]
fn a_command_too_large_to_read_back_is_refused() {
    for place in Place::all() {
        let (l, _) = place.open().unwrap();
        let mut c = kontingent::Catalog {
            default_hold_ms: 60_000,
            channels: vec!["web".into()],
            ..Default::default()
        };
        for i in 0..60_000 {
            c.pools.push(kontingent::catalog::PoolSpec {
                name: format!("pool-with-a-long-name-{i:06}"),
                capacity: 1,
            });
            c.offers.push(kontingent::catalog::OfferSpec {
                name: format!("offer-with-a-long-name-{i:06}"),
                price: 0,
                draws: vec![Draw::new(format!("pool-with-a-long-name-{i:06}"), 1)],
                waitlist: Default::default(),
                window: Default::default(),
                slot: None,
            });
        }
        let before = place.bytes().len();
        let err = l
            .submit(Command::new(0, Action::LoadCatalog(Box::new(c))))
            .unwrap_err();
        assert_eq!(err.code(), "too_long", "{}: {err}", place.name());
        assert_eq!(place.bytes().len(), before);
        assert!(l.read(|l| l.pools().is_empty()).unwrap());
        drop(l);
        let (l, rec) = place.open().unwrap();
        assert_eq!((rec.records, rec.torn_bytes), (0, 0));
        drop(l);
    }
}

#[test]
fn a_zeroed_header_with_records_after_it_is_refused_not_wiped() {
    for place in Place::all() {
        let (l, _) = place.open().unwrap();
        for c in setup() {
            l.submit(c).unwrap();
        }
        drop(l);
        let mut b = place.bytes();
        b[..64].fill(0);
        place.set_bytes(b.clone());
        assert!(
            matches!(place.open(), Err(JournalError::BadHeader { .. })),
            "{}",
            place.name()
        );
        assert_eq!(place.bytes(), b);
    }
}

#[test]
fn a_stale_checkpoint_never_cuts_acknowledged_records() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.journal");
    let cmds = traffic(12);
    let l = kontingent::open(&path, Durability::Full).unwrap();
    for c in &cmds[..8] {
        let _ = l.submit(c.clone());
    }
    drop(l);
    let backup = std::fs::read(&path).unwrap();
    let l = kontingent::open(&path, Durability::Full).unwrap();
    for c in &cmds[8..] {
        let _ = l.submit(c.clone());
    }
    l.checkpoint().unwrap();
    drop(l);
    // The journal is restored from the backup; new reservations are acknowledged on it.
    std::fs::write(&path, &backup).unwrap();
    let l = kontingent::open(&path, Durability::Full).unwrap();
    assert!(
        l.recovery().checkpoint_ignored.is_some(),
        "{:?}",
        l.recovery()
    );
    let mut acked = Vec::new();
    for i in 0..20 {
        let r = Request::new(format!("new-{i}"), "n")
            .line("v20", 1)
            .confirm();
        if let Outcome::Confirmed { reservation, .. } = l
            .submit(Command::new(10_000 + i, Action::Reserve(r)))
            .unwrap()
            .outcome
        {
            acked.push(reservation);
        }
    }
    let digest = l.read(|l| l.digest()).unwrap();
    let len = std::fs::metadata(&path).unwrap().len();
    let ck = kontingent::checkpoint::read(&path).unwrap().unwrap();
    assert!(
        len > ck.offset,
        "the new history runs past the old checkpoint's offset"
    );
    drop(l);
    // The old checkpoint does not match this history: ignored again, nothing cut.
    let l = kontingent::open(&path, Durability::Full).unwrap();
    assert!(
        l.recovery().checkpoint_ignored.is_some(),
        "{:?}",
        l.recovery()
    );
    assert_eq!(l.recovery().torn_bytes, 0);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), len);
    assert_eq!(l.read(|l| l.digest()).unwrap(), digest);
    for r in acked {
        assert_eq!(
            l.read(|l| l.reservation(r).unwrap().state).unwrap(),
            kontingent::ReservationState::Confirmed
        );
    }
}

/// A storage that panics on append when told to (a stand-in for a bug anywhere).
struct Panicky(MemoryStorage, std::sync::Arc<std::sync::atomic::AtomicBool>);

impl Storage for Panicky {
    fn len(&mut self) -> std::io::Result<u64> {
        self.0.len()
    }
    fn read_exact_at(&mut self, o: u64, b: &mut [u8]) -> std::io::Result<()> {
        self.0.read_exact_at(o, b)
    }
    fn append(&mut self, d: &[u8]) -> std::io::Result<()> {
        assert!(
            !self.1.load(std::sync::atomic::Ordering::SeqCst),
            "injected panic"
        );
        self.0.append(d)
    }
    fn truncate(&mut self, l: u64) -> std::io::Result<()> {
        self.0.truncate(l)
    }
    fn sync(&mut self) -> std::io::Result<()> {
        self.0.sync()
    }
    fn syncer(&self) -> std::io::Result<Box<dyn FnMut() -> std::io::Result<()> + Send>> {
        self.0.syncer()
    }
    fn lock(&mut self) -> std::io::Result<()> {
        self.0.lock()
    }
    fn unlock(&mut self) -> std::io::Result<()> {
        self.0.unlock()
    }
    fn replace(&mut self, c: &[u8]) -> std::io::Result<()> {
        self.0.replace(c)
    }
    fn take_replaced(&mut self) -> bool {
        self.0.take_replaced()
    }
}

#[test]
fn a_panic_while_leading_poisons_instead_of_hanging() {
    let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (l, _) = DurableLedger::open_storage(
        Panicky(MemoryStorage::new(), flag.clone()),
        Durability::Full,
    )
    .unwrap();
    l.submit(Command::new(
        0,
        Action::DefinePool {
            pool: "p".into(),
            capacity: 1,
        },
    ))
    .unwrap();
    flag.store(true, std::sync::atomic::Ordering::SeqCst);
    let l = std::sync::Arc::new(l);
    let l2 = l.clone();
    let panicked = std::thread::spawn(move || l2.submit(Command::new(1, Action::Tick))).join();
    assert!(panicked.is_err(), "the leader's own call unwinds");
    flag.store(false, std::sync::atomic::Ordering::SeqCst);
    // The next caller is answered (poisoned), not left waiting for a leader.
    let err = l.submit(Command::new(2, Action::Tick)).unwrap_err();
    assert_eq!(err.code(), "poisoned");
}

fn reopen_digest(place: &Place) -> (Digest, kontingent::Recovery) {
    let (l, rec) = place.open().unwrap();
    (l.read(|l| l.digest()).unwrap(), rec)
}

#[test]
fn compaction_retires_records_and_keeps_the_state() {
    for place in Place::all() {
        let cmds = traffic(60);
        let (l, _) = place.open().unwrap();
        let (first, rest) = cmds.split_at(50);
        for c in first {
            let _ = l.submit(c.clone());
        }
        let records = l.recovery().records + l.stats().records;
        let before = place.bytes().len() as u64;
        let c = l.compact().unwrap();
        assert_eq!(c.records, records, "{}", place.name());
        assert_eq!(c.bytes_before, before);
        let state = l.read(|l| l.state_bytes()).unwrap();
        assert_eq!(c.bytes_after, HEADER_LEN + state.len() as u64);
        let bytes = place.bytes();
        assert_eq!(bytes.len() as u64, c.bytes_after);
        assert_eq!(
            u16::from_le_bytes([bytes[8], bytes[9]]),
            3,
            "a compacted journal is version 3, with a base"
        );
        // New records continue the numbering after the base.
        for c in rest {
            let _ = l.submit(c.clone());
        }
        let digest = l.read(|l| l.digest()).unwrap();
        drop(l);
        let (again, rec) = reopen_digest(&place);
        assert_eq!(again, digest, "{}", place.name());
        assert_eq!(rec.base, Some(records));
        assert_eq!(digest, *prefix_digests(&cmds).last().unwrap());
        // Compacting twice in a row, and with nothing new, is fine.
        let (l, _) = place.open().unwrap();
        l.compact().unwrap();
        l.compact().unwrap();
        drop(l);
        assert_eq!(reopen_digest(&place).0, digest);
    }
}

#[test]
fn other_handles_follow_a_compaction() {
    for place in Place::all() {
        let cmds = traffic(90);
        let (a, _) = place.open().unwrap();
        let (b, _) = place.open().unwrap();
        let (c, _) = place.open().unwrap();
        let mut it = cmds.iter();
        for cmd in it.by_ref().take(40) {
            let _ = a.submit(cmd.clone());
        }
        // b has read what a wrote, c has not: c must load the base, b skip into it.
        b.read(|_| ()).unwrap();
        for cmd in it.by_ref().take(20) {
            let _ = a.submit(cmd.clone());
        }
        b.read(|_| ()).unwrap();
        a.compact().unwrap();
        for (i, cmd) in it.enumerate() {
            let who = [&a, &b, &c][i % 3];
            let _ = who.submit(cmd.clone());
        }
        let want = *prefix_digests(&cmds).last().unwrap();
        for (name, h) in [("a", &a), ("b", &b), ("c", &c)] {
            assert_eq!(
                h.read(|l| l.digest()).unwrap(),
                want,
                "{} {name}",
                place.name()
            );
        }
        // A second compaction by another handle, then more traffic from all.
        b.compact().unwrap();
        let extra = Command::new(
            100_000,
            Action::Reserve(Request::new("late", "c0").line("v20", 1)),
        );
        c.submit(extra.clone()).unwrap();
        let mut all = cmds.clone();
        all.push(extra);
        let want = *prefix_digests(&all).last().unwrap();
        for h in [&a, &b, &c] {
            assert_eq!(h.read(|l| l.digest()).unwrap(), want, "{}", place.name());
        }
        drop((a, b, c));
        assert_eq!(reopen_digest(&place).0, want);
    }
}

#[test]
fn a_damaged_base_state_is_corruption_and_a_torn_tail_after_it_is_cut() {
    for place in Place::all() {
        let cmds = traffic(30);
        let (l, _) = place.open().unwrap();
        for c in &cmds {
            let _ = l.submit(c.clone());
        }
        l.compact().unwrap();
        let more = Command::new(
            100_000,
            Action::Reserve(Request::new("after", "c1").line("v20", 1)),
        );
        l.submit(more).unwrap();
        let digest_base = prefix_digests(&cmds).last().copied().unwrap();
        drop(l);
        let good = place.bytes();
        let base_end =
            HEADER_LEN as usize + u64::from_le_bytes(good[40..48].try_into().unwrap()) as usize;
        // Cut inside the record after the base: torn, the base state survives.
        for cut in base_end..good.len() {
            place.set_bytes(good[..cut].to_vec());
            let (d, rec) = reopen_digest(&place);
            assert_eq!(d, digest_base, "{} cut at {cut}", place.name());
            assert_eq!(rec.torn_bytes, (cut - base_end) as u64);
        }
        // A flipped bit in the base state, or a base cut short: corrupt at offset 64.
        for bad in [
            {
                let mut b = good.clone();
                b[HEADER_LEN as usize + 10] ^= 0x10;
                b
            },
            good[..base_end - 1].to_vec(),
        ] {
            place.set_bytes(bad);
            match place.open() {
                Err(JournalError::Corrupt { offset, .. }) => assert_eq!(offset, HEADER_LEN),
                other => panic!("{}: {:?}", place.name(), other.map(|x| x.1)),
            }
        }
    }
}

#[test]
fn checkpoints_and_compaction_work_together() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j");
    let cmds = traffic(50);
    let l = kontingent::open(&path, Durability::Full).unwrap();
    for c in &cmds[..40] {
        let _ = l.submit(c.clone());
    }
    l.checkpoint().unwrap();
    let ckpt = kontingent::checkpoint::path_for(&path);
    assert!(ckpt.exists());
    l.compact().unwrap();
    assert!(
        !ckpt.exists(),
        "the compacted journal starts where the checkpoint was"
    );
    for c in &cmds[40..45] {
        let _ = l.submit(c.clone());
    }
    l.checkpoint().unwrap();
    for c in &cmds[45..] {
        let _ = l.submit(c.clone());
    }
    drop(l);
    let want = *prefix_digests(&cmds).last().unwrap();
    let l = kontingent::open(&path, Durability::Full).unwrap();
    assert_eq!(l.read(|l| l.digest()).unwrap(), want);
    assert!(l.recovery().from_checkpoint.is_some(), "{:?}", l.recovery());
    assert_eq!(l.recovery().checkpoint_ignored, None);
    drop(l);
    // A checkpoint from before a compaction (restored by hand) is ignored, not trusted.
    let old = dir.path().join("old");
    let lo = kontingent::open(&old, Durability::Full).unwrap();
    for c in &cmds[..20] {
        let _ = lo.submit(c.clone());
    }
    lo.checkpoint().unwrap();
    let saved = std::fs::read(kontingent::checkpoint::path_for(&old)).unwrap();
    lo.compact().unwrap();
    for c in &cmds[20..] {
        let _ = lo.submit(c.clone());
    }
    drop(lo);
    std::fs::write(kontingent::checkpoint::path_for(&old), saved).unwrap();
    let lo = kontingent::open(&old, Durability::Full).unwrap();
    assert_eq!(lo.read(|l| l.digest()).unwrap(), want);
    assert!(lo.recovery().checkpoint_ignored.is_some());
}

#[test]
fn a_compaction_interrupted_before_its_rename_leaves_the_journal_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j");
    let cmds = traffic(20);
    let l = kontingent::open(&path, Durability::Full).unwrap();
    for c in &cmds {
        let _ = l.submit(c.clone());
    }
    drop(l);
    let before = std::fs::read(&path).unwrap();
    // What a crash mid-way leaves: a half-written temporary file beside the journal.
    let tmp = dir.path().join(format!("j.{}.compact.tmp", 99999));
    std::fs::write(&tmp, &before[..100]).unwrap();
    let l = kontingent::open(&path, Durability::Full).unwrap();
    assert_eq!(
        l.read(|l| l.digest()).unwrap(),
        *prefix_digests(&cmds).last().unwrap()
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
    // A failing sync during compaction poisons and leaves the old journal in place.
    let m = MemoryStorage::new();
    let (l, _) = DurableLedger::open_storage(m.clone(), Durability::Full).unwrap();
    for c in &cmds {
        let _ = l.submit(c.clone());
    }
    let old = m.bytes();
    m.fail_syncs(true);
    assert!(l.compact().is_err());
    assert!(l.is_poisoned());
    assert_eq!(m.bytes(), old);
}

#[test]
fn events_after_a_seq_from_memory_from_the_journal_and_from_other_handles() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("e.journal");
    let cmds = traffic(30);
    let a = kontingent::open(&path, Durability::Full).unwrap();
    let b = kontingent::open(&path, Durability::Full).unwrap();
    let mut emitted = Vec::new();
    for (i, c) in cmds.iter().enumerate() {
        // Alternate handles: each must also see the events the other caused.
        let h = if i % 2 == 0 { &a } else { &b };
        if let Ok(applied) = h.submit(c.clone()) {
            emitted.extend(applied.events);
        }
    }
    assert!(emitted.len() > 40);
    for h in [&a, &b] {
        assert_eq!(h.events_after(0, usize::MAX).unwrap(), emitted);
        assert_eq!(h.events_after(10, 5).unwrap(), emitted[10..15].to_vec());
        assert!(h.events_after(emitted.len() as u64, 10).unwrap().is_empty());
    }
    drop((a, b));
    // After a restart nothing is in memory: the journal is replayed instead.
    let l = kontingent::open(&path, Durability::Full).unwrap();
    assert_eq!(l.events_after(0, usize::MAX).unwrap(), emitted);
    assert_eq!(l.events_after(7, 3).unwrap(), emitted[7..10].to_vec());
    // After a compaction the events before its base are gone, and say so.
    l.compact().unwrap();
    let more = l
        .submit(Command::new(
            1_000_000,
            Action::Reserve(Request::new("late", "c9").line("v20", 1)),
        ))
        .unwrap();
    drop(l);
    let l = kontingent::open(&path, Durability::Full).unwrap();
    let base = emitted.len() as u64;
    assert_eq!(l.events_after(base, 100).unwrap(), more.events);
    let err = l.events_after(3, 100).unwrap_err();
    assert_eq!(err.code(), "misuse", "{err}");
    // A ledger without a journal keeps a window in memory.
    let (m, _) = DurableLedger::open_storage(MemoryStorage::new(), Durability::None).unwrap();
    let mut seen = Vec::new();
    for c in &cmds {
        if let Ok(applied) = m.submit(c.clone()) {
            seen.extend(applied.events);
        }
    }
    assert_eq!(m.events_after(0, usize::MAX).unwrap(), seen);
}

/// Issue 15, point 2: a short file that is not a journal is refused, unchanged;
/// only an empty, all-zero or header-prefix file is (re)created.
#[test]
fn a_short_file_that_is_not_a_journal_is_refused_unchanged() {
    let refused = |place: &Place, bytes: &[u8], what: &str| {
        place.set_bytes(bytes.to_vec());
        match place.open() {
            Err(e @ JournalError::BadHeader { .. }) => {
                assert_eq!(e.code(), "bad_header", "{what}");
            }
            Err(e) => panic!("{what}: {e}"),
            Ok((_, rec)) => panic!("{what} ({} bytes) was overwritten: {rec:?}", bytes.len()),
        }
        assert_eq!(place.bytes(), bytes, "{what}: left untouched");
    };
    let created = |place: &Place, bytes: &[u8], what: &str| {
        place.set_bytes(bytes.to_vec());
        let (l, rec) = place.open().unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(rec.created, "{what}");
        l.submit(Command::new(1, Action::Tick)).unwrap();
        drop(l);
        assert_eq!(place.bytes()[..8], *b"KONTJRNL", "{what}");
    };
    let mut rng = 0x1234_5678_9abc_def0u64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    for place in Place::all() {
        refused(&place, b"hello world\n", "a text file");
        refused(&place, b"KONTJRNX", "another magic");
        for len in 1..64usize {
            let mut b: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            if b[0] == b'K' || b[0] == 0 {
                b[0] = b'x';
            }
            refused(&place, &b, "random bytes");
        }
        // A real header, and every prefix of it.
        place.set_bytes(Vec::new());
        let (l, rec) = place.open().unwrap();
        assert!(rec.created);
        drop(l);
        let header = place.bytes()[..64].to_vec();
        for len in 0..64 {
            created(&place, &header[..len], "a header prefix");
            created(&place, &vec![0u8; len + 1], "zeros");
        }
        // A prefix with a wrong byte after the magic is not one being written.
        let mut wrong = header[..40].to_vec();
        wrong[35] = 7;
        refused(
            &place,
            &wrong,
            "a header prefix with a non-zero reserved byte",
        );
        let mut wrong = header[..63].to_vec();
        wrong[62] ^= 1;
        refused(&place, &wrong, "a header prefix with a wrong CRC byte");
    }
}
