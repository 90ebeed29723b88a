//! Shared journal vectors: byte-for-byte journals with the digest they replay to.
//! The same files are opened by the Node binding's tests and the Python tests, so
//! a journal written by one runtime is proven to read the same in the others.
//!
//! `KONTINGENT_WRITE_VECTORS=1 cargo test -p kontingent --test vectors` rewrites the
//! ones this build writes (`emstek-v3*`, version 3). `emstek` (version 1) and
//! `emstek-compacted` (version 2) were written by earlier builds and are kept
//! byte for byte: they must keep replaying to their digests.

use kontingent::durable::replay::apply_entry;
use kontingent::journal::Journal;
use kontingent::storage::MemoryStorage;
use kontingent::{Action, Command, Durability, DurableLedger, Ledger, Request, ReservationId};
use std::path::{Path, PathBuf};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

/// 2026-11-29 12:00 Berlin.
const NOON: u64 = 1_795_950_000_000;

fn write_vectors() {
    let catalog = kontingent::read_catalog(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/emstek-vouchers/catalog.toml"),
    )
    .unwrap();
    let mem = MemoryStorage::new();
    let (l, _) = DurableLedger::open_storage(mem.clone(), Durability::Full).unwrap();
    l.submit(Command::new(
        NOON - 3_600_000,
        Action::LoadCatalog(Box::new(catalog)),
    ))
    .unwrap();
    for i in 0..40u64 {
        let offer = ["zur-post-20", "eiscafe-venezia-50", "hofcafe-10"][(i % 3) as usize];
        l.submit(Command::new(
            NOON + 46_000 + i * 250,
            Action::Reserve(
                Request::new(format!("form-{i}"), format!("c{}@example.org", i % 9))
                    .line(offer, 1 + i % 2),
            ),
        ))
        .unwrap();
    }
    l.submit(Command::new(
        NOON + 60_000,
        Action::Confirm {
            reservation: ReservationId(3),
        },
    ))
    .unwrap();
    l.submit(Command::new(
        NOON + 61_000,
        Action::Release {
            reservation: ReservationId(4),
        },
    ))
    .unwrap();
    l.submit(Command::new(NOON + 900_000, Action::Tick))
        .unwrap();
    save(
        "emstek-v3",
        &mem.bytes(),
        &l.read(|l| l.digest()).unwrap().to_string(),
    );
    l.compact().unwrap();
    l.submit(Command::new(
        NOON + 901_000,
        Action::Reserve(Request::new("form-late", "late@example.org").line("dorfkrug-20", 1)),
    ))
    .unwrap();
    save(
        "emstek-v3-compacted",
        &mem.bytes(),
        &l.read(|l| l.digest()).unwrap().to_string(),
    );
}

fn save(name: &str, bytes: &[u8], digest: &str) {
    std::fs::write(dir().join(format!("{name}.journal")), bytes).unwrap();
    std::fs::write(dir().join(format!("{name}.digest")), format!("{digest}\n")).unwrap();
}

#[test]
fn every_vector_replays_to_its_digest() {
    if std::env::var("KONTINGENT_WRITE_VECTORS").is_ok() {
        write_vectors();
    }
    let mut n = 0;
    let mut versions = std::collections::BTreeSet::new();
    for e in std::fs::read_dir(dir()).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_none_or(|x| x != "journal") {
            continue;
        }
        let want = std::fs::read_to_string(path.with_extension("digest")).unwrap();
        let mem = MemoryStorage::new();
        let bytes = std::fs::read(&path).unwrap();
        versions.insert(u16::from_le_bytes([bytes[8], bytes[9]]));
        mem.set_bytes(bytes);
        let mut l = Ledger::new();
        let (rec, _) = Journal::scan(mem, |e| apply_entry(&mut l, e)).unwrap();
        assert_eq!(rec.torn_bytes, 0, "{}", path.display());
        assert_eq!(l.digest().to_string(), want.trim(), "{}", path.display());
        n += 1;
    }
    assert!(n >= 4, "vectors are committed");
    assert_eq!(versions.into_iter().collect::<Vec<_>>(), [1, 2, 3]);
    // The same commands, in either format, replay to the same state.
    for (old, new) in [
        ("emstek", "emstek-v3"),
        ("emstek-compacted", "emstek-v3-compacted"),
    ] {
        let read = |n: &str| std::fs::read_to_string(dir().join(format!("{n}.digest"))).unwrap();
        assert_eq!(read(old), read(new));
    }
}

/// A version-1 or version-2 journal keeps its format when appended to (all its
/// records are framed alike); compacting it writes version 3.
#[test]
fn an_old_journal_is_appended_to_in_its_own_format_until_compacted() {
    for (name, version) in [("emstek", 1u16), ("emstek-compacted", 2)] {
        let mem = MemoryStorage::new();
        mem.set_bytes(std::fs::read(dir().join(format!("{name}.journal"))).unwrap());
        let (l, _) = DurableLedger::open_storage(mem.clone(), Durability::Full).unwrap();
        l.submit(Command::new(NOON + 2_000_000, Action::Tick))
            .unwrap();
        let digest = l.read(|l| l.digest()).unwrap();
        drop(l);
        let bytes = mem.bytes();
        assert_eq!(u16::from_le_bytes([bytes[8], bytes[9]]), version, "{name}");
        let (l, rec) = DurableLedger::open_storage(mem.clone(), Durability::Full).unwrap();
        assert_eq!(rec.torn_bytes, 0, "{name}");
        assert_eq!(l.read(|l| l.digest()).unwrap(), digest, "{name}");
        l.compact().unwrap();
        l.submit(Command::new(NOON + 2_001_000, Action::Tick))
            .unwrap();
        let digest = l.read(|l| l.digest()).unwrap();
        drop(l);
        let bytes = mem.bytes();
        assert_eq!(
            u16::from_le_bytes([bytes[8], bytes[9]]),
            3,
            "{name} compacted"
        );
        let (l, _) = DurableLedger::open_storage(mem, Durability::Full).unwrap();
        assert_eq!(l.read(|l| l.digest()).unwrap(), digest, "{name}");
    }
}
