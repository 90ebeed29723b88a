//! Shared journal vectors: byte-for-byte journals with the digest they replay to.
//! The same files are opened by the Node binding's tests and the Python tests, so
//! a journal written by one runtime is proven to read the same in the others.
//!
//! `KONTINGENT_WRITE_VECTORS=1 cargo test -p kontingent --test vectors` rewrites them
//! (only when the format changes on purpose).

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
        "emstek",
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
        "emstek-compacted",
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
    for e in std::fs::read_dir(dir()).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_none_or(|x| x != "journal") {
            continue;
        }
        let want = std::fs::read_to_string(path.with_extension("digest")).unwrap();
        let mem = MemoryStorage::new();
        mem.set_bytes(std::fs::read(&path).unwrap());
        let mut l = Ledger::new();
        let (rec, _) = Journal::scan(mem, |e| apply_entry(&mut l, e)).unwrap();
        assert_eq!(rec.torn_bytes, 0, "{}", path.display());
        assert_eq!(l.digest().to_string(), want.trim(), "{}", path.display());
        n += 1;
    }
    assert!(n >= 2, "vectors are committed");
}
