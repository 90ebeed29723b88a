//! The bodies of the fuzz targets, shared by `fuzz_targets/*` (libFuzzer) and by
//! `tests/corpus.rs` (plain `cargo test` over the committed corpora and every
//! regression input). Each panics only on a real bug: hostile input must give an
//! error, never a panic, and whatever is accepted must round-trip.

#[path = "../../core/tests/model/mod.rs"]
#[allow(clippy::all)]
mod model;

use kontingent::durable::replay::apply_entry;
use kontingent::faulty::{Faults, FaultyStorage};
use kontingent::journal::Journal;
use kontingent::storage::MemoryStorage;
use kontingent::{
    codec, Action, Catalog, Command, Delta, Draw, Durability, DurableError, DurableLedger, Ledger,
    Request, ReservationId, Snapshot,
};

/// Journal bytes, command payloads and state encodings from hostile bytes.
pub fn journal(data: &[u8]) {
    // One command payload: decodes or is refused; what decodes re-encodes to itself.
    if let Ok(cmd) = codec::decode(data) {
        let mut again = Vec::new();
        codec::encode(&cmd, &mut again);
        assert_eq!(
            codec::decode(&again).ok(),
            Some(cmd),
            "a decoded command re-encodes"
        );
    }
    // A whole journal, read-only, then opened (which may cut a torn tail).
    let mut scanned = Ledger::new();
    let scan = Journal::scan(memory(data), |e| apply_entry(&mut scanned, e));
    let disk = memory(data);
    let mut opened = Ledger::new();
    let open = Journal::open(disk.clone(), |e| apply_entry(&mut opened, e));
    match (scan, open) {
        (Ok((seen, _)), Ok((_, recovered))) => {
            assert_eq!(seen.records, recovered.records, "scan and open agree");
            assert_eq!(scanned.digest(), opened.digest());
            // Reopening what was recovered finds it clean, with the same state.
            let mut again = Ledger::new();
            let (_, rec) = Journal::open(disk, |e| apply_entry(&mut again, e))
                .expect("a recovered journal reopens");
            assert_eq!(rec.torn_bytes, 0);
            assert_eq!(again.digest(), opened.digest());
        }
        (Err(a), Err(b)) => assert_eq!(a.code(), b.code(), "scan and open fail alike"),
        // A file shorter than a header is "new" to open (created) and torn to scan.
        (Ok((seen, _)), Err(e)) => panic!("scan accepted ({seen:?}) what open refused: {e}"),
        (Err(e), Ok(_)) if data.len() >= 64 => panic!("open accepted what scan refused: {e}"),
        (Err(_), Ok(_)) => {}
    }
    // A state (checkpoint or compaction base) decodes to something that re-encodes.
    if let Ok(l) = Ledger::from_state_bytes(data) {
        let bytes = l.state_bytes();
        let back = Ledger::from_state_bytes(&bytes).expect("an encoded state decodes");
        assert_eq!(back.digest(), l.digest());
    }
}

fn memory(data: &[u8]) -> MemoryStorage {
    let m = MemoryStorage::new();
    m.set_bytes(data.to_vec());
    m
}

/// Catalog text, as TOML and as JSON: an error naming a place, or a catalog the
/// ledger loads.
pub fn catalog(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for parsed in [
        Catalog::from_toml_str(text, "fuzz.toml"),
        Catalog::from_json_str(text, "fuzz.json"),
    ] {
        match parsed {
            Ok(c) => {
                let mut l = Ledger::new();
                let _ = l.apply(&Command::new(0, Action::LoadCatalog(Box::new(c))));
            }
            Err(e) => assert!(!e.issues.is_empty(), "a catalog error names its issues"),
        }
    }
}

/// Bytes as a program of commands and crashes, run on a journal and on the
/// reference model: every acknowledged outcome equals the model's, and after each
/// crash the recovered ledger is the acknowledged history (plus, when a sync
/// failed, possibly the one unanswered command).
pub fn commands(data: &[u8]) {
    let disk = FaultyStorage::new(data.len() as u64);
    let open = |d: &FaultyStorage| {
        DurableLedger::open_storage(d.clone(), Durability::Full)
            .expect("a journal written by the ledger reopens")
            .0
    };
    let mut ledger = open(&disk);
    let mut reference = Ledger::new();
    let mut model = model::Model::new();
    let mut history = setup();
    for cmd in &history {
        ledger.submit(cmd.clone()).expect("the setup applies");
        reference.apply(cmd).expect("the setup applies");
        model.apply(cmd).expect("the model takes the setup");
    }
    let mut at = 1_000u64;
    for chunk in data.chunks(3) {
        let [op, a, b] = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        at += u64::from(a) * 97;
        let action = match op % 8 {
            0..=2 => {
                let mut r = Request::new(format!("r{}", b % 32), format!("c{}", b % 5))
                    .line(["o0", "o1", "o2"][usize::from(a % 3)], 1 + u64::from(b % 3))
                    .hold_ms(1_000 + u64::from(a) * 50);
                if op & 0x10 != 0 {
                    r = r.confirm();
                }
                Action::Reserve(r)
            }
            3 => Action::Confirm {
                reservation: ReservationId(u64::from(b % 40)),
            },
            4 => Action::Release {
                reservation: ReservationId(u64::from(b % 40)),
            },
            5 => Action::SetCapacity {
                pool: ["p0", "p1"][usize::from(b % 2)].into(),
                capacity: u64::from(a % 8),
            },
            6 => Action::Tick,
            _ => {
                // A crash, possibly with the next sync failing first.
                let fail_sync = b % 2 == 0;
                let mut unanswered = None;
                if fail_sync {
                    disk.set_faults(Faults {
                        write_error_ppm: 0,
                        sync_error_ppm: 1_000_000,
                    });
                    let cmd = Command::new(at, Action::Tick);
                    match ledger.submit(cmd.clone()) {
                        Err(DurableError::Journal(_)) => unanswered = Some(cmd),
                        other => panic!("a failed sync answered {other:?}"),
                    }
                    disk.set_faults(Faults::default());
                }
                drop(ledger);
                disk.crash();
                ledger = open(&disk);
                let got = ledger.read(|l| l.digest()).expect("reads");
                if got != reference.digest() {
                    let cmd = unanswered.expect("nothing acknowledged was lost");
                    reference.apply(&cmd).expect("applies");
                    model.apply(&cmd).expect("the model applies it");
                    history.push(cmd);
                    assert_eq!(
                        got,
                        reference.digest(),
                        "recovery = history + the unanswered"
                    );
                }
                continue;
            }
        };
        let cmd = Command::new(at, action);
        let real = ledger.submit(cmd.clone());
        let replay = reference.apply(&cmd);
        let modeled = model.apply(&cmd);
        match (&real, &replay, &modeled) {
            (Ok(x), Ok(y), Ok(m)) => {
                assert_eq!(x.outcome, y.outcome, "{cmd:?}");
                assert_eq!(x.outcome, m.outcome, "the model disagrees on {cmd:?}");
                history.push(cmd);
            }
            (Err(DurableError::Rejected(e)), Err(f), Err(codes)) => {
                assert_eq!(e.code(), f.code());
                assert!(codes.contains(&e.code()), "{cmd:?}: {e} vs {codes:?}");
            }
            _ => panic!("{cmd:?}: {real:?} / {replay:?} / {modeled:?}"),
        }
    }
}

fn setup() -> Vec<Command> {
    let pool = |p: &str, c| {
        Command::new(
            0,
            Action::DefinePool {
                pool: p.into(),
                capacity: c,
            },
        )
    };
    let offer = |o: &str, draws: Vec<Draw>| {
        Command::new(
            0,
            Action::DefineOffer {
                offer: o.into(),
                draws,
                waitlist: Default::default(),
            },
        )
    };
    vec![
        pool("p0", 3),
        pool("p1", 5),
        offer("o0", vec![Draw::new("p0", 1)]),
        offer("o1", vec![Draw::new("p1", 1)]),
        offer("o2", vec![Draw::new("p0", 1), Draw::new("p1", 2)]),
    ]
}

/// A snapshot and deltas as JSON (split at the first `\n`): a delta applies or is
/// refused, and a refused delta leaves the snapshot as it was.
pub fn snapshot(data: &[u8]) {
    let (head, tail) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let mut snap: Snapshot = match serde_json::from_slice(head) {
        Ok(s) => s,
        Err(_) => real_snapshot(),
    };
    for line in tail.split(|&b| b == b'\n') {
        let Ok(delta) = serde_json::from_slice::<Delta>(line) else {
            continue;
        };
        let before = snap.clone();
        if snap.apply(&delta).is_err() {
            assert_eq!(snap, before, "a refused delta changes nothing");
        }
    }
}

fn real_snapshot() -> Snapshot {
    let mut l = Ledger::new();
    for cmd in setup() {
        let _ = l.apply(&cmd);
    }
    l.snapshot()
}

/// Recovery on journals with holes (issue 15): a version-3 journal of a fixed
/// command sequence, written in group commits whose sizes the input chooses, then
/// damaged as the input says (regions zeroed or filled with other bytes of the file,
/// at any offset, across page boundaries or not). Opening never panics; if it
/// opens, the state is that of a prefix of the command sequence; damage confined
/// to the last group commit is cut (it opens, keeping every earlier group commit);
/// damage before an intact later group commit is refused.
pub fn journal_holes(data: &[u8]) {
    let mut input = data.iter().copied();
    let mut next = move || input.next().unwrap_or(0);
    let mut cmds = setup();
    for i in 0..60u64 {
        cmds.push(Command::new(
            1 + i,
            Action::Reserve(
                Request::new(format!("request-{i}"), format!("customer-{}", i % 5))
                    .line(["o0", "o1", "o2"][(i % 3) as usize], 1),
            ),
        ));
    }
    let mem = MemoryStorage::new();
    let Ok((l, _)) = DurableLedger::open_storage(mem.clone(), Durability::Full) else {
        return;
    };
    let header = mem.bytes().len();
    // Where each group commit starts in the file, and the commands before it.
    let mut batches: Vec<(usize, usize)> = Vec::new();
    let mut prefixes = vec![Ledger::new().digest()];
    let mut reference = Ledger::new();
    let mut rest = cmds.as_slice();
    while !rest.is_empty() {
        let n = (1 + usize::from(next() % 32)).min(rest.len());
        let (batch, after) = rest.split_at(n);
        batches.push((mem.bytes().len(), prefixes.len() - 1));
        for r in l.submit_batch(batch.to_vec()) {
            assert!(r.is_ok(), "the fixed history is valid");
        }
        for c in batch {
            reference.apply(c).expect("valid");
            prefixes.push(reference.digest());
        }
        rest = after;
    }
    drop(l);
    let original = mem.bytes();
    let mut bytes = original.clone();
    let holes = next() % 4;
    for _ in 0..=holes {
        let len = bytes.len();
        let at = (usize::from(next()) << 8 | usize::from(next())) * 4 % len;
        let n = (usize::from(next()) << 4).min(len - at);
        match next() % 3 {
            0 => bytes[at..at + n].fill(0),
            1 => {
                let from = (usize::from(next()) << 8 | usize::from(next())) % (len - n + 1);
                let copy = bytes[from..from + n].to_vec();
                bytes[at..at + n].copy_from_slice(&copy);
            }
            _ => bytes.truncate(at.max(1)),
        }
    }
    // The first byte that differs (a cut counts from where it cut).
    let truncated = bytes.len() < original.len();
    let first = original
        .iter()
        .zip(&bytes)
        .position(|(a, b)| a != b)
        .or(truncated.then_some(bytes.len()));
    let (last_start, before_last) = *batches.last().expect("at least one group commit");
    let later_intact = !truncated && bytes[last_start..] == original[last_start..];
    let mem = MemoryStorage::new();
    mem.set_bytes(bytes);
    match DurableLedger::open_storage(mem, Durability::Full) {
        Ok((l, _)) => {
            let digest = l.read(|l| l.digest()).expect("readable");
            let kept = prefixes.iter().position(|d| *d == digest);
            let kept = kept.expect("opened to a state that is no prefix of the history");
            if first.is_none_or(|f| f >= last_start) {
                assert!(kept >= before_last, "damage in the last group commit cut an earlier one");
            }
            if let Some(f) = first.filter(|&f| f >= header && f < last_start) {
                assert!(!later_intact, "damage at {f} before an intact later group commit was not refused");
            }
        }
        Err(_) => assert!(
            first.is_some_and(|f| f < last_start),
            "damage confined to the last group commit was refused (first change at {first:?}, it starts at {last_start})"
        ),
    }
}
