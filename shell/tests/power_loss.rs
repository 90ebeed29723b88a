//! Power loss with the unsynced pages of the last group commit persisted out of
//! order, on real journal files (issue 15, point 1): a hole (zeros, or old bytes)
//! inside the last, never-acknowledged group commit, followed by a later part of
//! the same group commit, is a torn group commit — opening cuts it and keeps every
//! record of the earlier ones. The same hole in an earlier group commit, followed
//! by a later group commit, is corruption of synced records — refused at the
//! offset of the first damaged record.

use kontingent::journal::JournalError;
use kontingent::{Action, Command, Digest, Draw, Durability, Ledger, Request};
use std::path::{Path, PathBuf};

const PAGE: usize = 4096;

fn setup() -> Vec<Command> {
    vec![
        Command::new(
            0,
            Action::DefinePool {
                pool: "p".into(),
                capacity: 1_000_000,
            },
        ),
        Command::new(
            0,
            Action::DefineOffer {
                offer: "o".into(),
                draws: vec![Draw::new("p", 1)],
                waitlist: Default::default(),
            },
        ),
    ]
}

/// `n` reservations from time `at` whose request ids start with `tag` (so two
/// runs differ).
fn reserves(tag: &str, at: u64, n: u64) -> Vec<Command> {
    (0..n)
        .map(|i| {
            Command::new(
                at + i,
                Action::Reserve(
                    Request::new(format!("{tag}-request-{i}"), format!("customer-{}", i % 13))
                        .line("o", 1 + i % 3),
                ),
            )
        })
        .collect()
}

/// A journal written through `kontingent::open`: the setup and some small group
/// commits, then the given group commits (each one `submit_batch`). Returns the
/// file's bytes and where each of the given group commits starts.
fn write(path: &Path, batches: &[Vec<Command>]) -> (Vec<u8>, Vec<usize>) {
    let l = kontingent::open(path, Durability::Full).unwrap();
    for c in setup() {
        l.submit(c).unwrap();
    }
    for c in reserves("early", 100, 5) {
        l.submit(c).unwrap();
    }
    let mut starts = Vec::new();
    for b in batches {
        starts.push(std::fs::metadata(path).unwrap().len() as usize);
        for r in l.submit_batch(b.clone()) {
            r.unwrap();
        }
    }
    drop(l);
    (std::fs::read(path).unwrap(), starts)
}

/// The commands as written, in order (setup, early ones, then the batches).
fn history(batches: &[Vec<Command>]) -> Vec<Command> {
    let mut v = setup();
    v.extend(reserves("early", 100, 5));
    for b in batches {
        v.extend(b.iter().cloned());
    }
    v
}

fn digests(cmds: &[Command]) -> Vec<Digest> {
    let mut l = Ledger::new();
    let mut out = vec![l.digest()];
    for c in cmds {
        l.apply(c).unwrap();
        out.push(l.digest());
    }
    out
}

/// Where each record starts (v3 framing: 16-byte frame + length field).
fn record_starts(bytes: &[u8]) -> Vec<usize> {
    let mut at = 64;
    let mut v = Vec::new();
    while at + 16 <= bytes.len() {
        let n = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        v.push(at);
        at += 16 + n;
    }
    v
}

/// The start of the first record whose bytes differ between the two.
fn first_damaged(original: &[u8], damaged: &[u8]) -> usize {
    let starts = record_starts(original);
    let differs = (0..original.len())
        .find(|&i| original[i] != damaged[i])
        .expect("damaged");
    *starts.iter().rev().find(|&&s| s <= differs).unwrap()
}

struct Case {
    _dir: tempfile::TempDir,
    path: PathBuf,
    bytes: Vec<u8>,
    starts: Vec<usize>,
    history: Vec<Command>,
}

fn case(batches: Vec<Vec<Command>>) -> Case {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.journal");
    let (bytes, starts) = write(&path, &batches);
    assert_eq!(
        u16::from_le_bytes([bytes[8], bytes[9]]),
        3,
        "a new journal is version 3"
    );
    Case {
        _dir: dir,
        history: history(&batches),
        path,
        bytes,
        starts,
    }
}

/// The first page boundary after `from` (+ a little, so the hole is inside).
fn page_after(from: usize) -> usize {
    (from / PAGE + 1) * PAGE
}

/// Reopen after `damage`: it must open, cut from the first damaged record, say a
/// torn group commit was cut, and hold every record before the cut.
fn torn_last_batch_opens(c: &Case, damaged: Vec<u8>, what: &str) {
    let cut_at = first_damaged(&c.bytes, &damaged);
    std::fs::write(&c.path, &damaged).unwrap();
    let l = kontingent::open(&c.path, Durability::Full)
        .unwrap_or_else(|e| panic!("{what}: a torn last group commit is refused: {e}"));
    let rec = l.recovery().clone();
    assert!(rec.torn_batch, "{what}: {rec:?}");
    assert_eq!(rec.torn_bytes as usize, damaged.len() - cut_at, "{what}");
    let kept = record_starts(&c.bytes)
        .iter()
        .filter(|&&s| s < cut_at)
        .count();
    assert_eq!(rec.records as usize, kept, "{what}");
    assert!(
        rec.torn_records as usize >= c.history.len() - kept,
        "{what}: {rec:?}"
    );
    let digest = l.read(|l| l.digest()).unwrap();
    assert_eq!(digest, digests(&c.history)[kept], "{what}");
    // Every record of the earlier group commits is there.
    assert!(cut_at >= *c.starts.last().unwrap(), "{what}");
    drop(l);
    assert_eq!(std::fs::metadata(&c.path).unwrap().len() as usize, cut_at);
    // And it appends after the cut as usual.
    let l = kontingent::open(&c.path, Durability::Full).unwrap();
    l.submit(reserves("after", 100_000, 1).remove(0)).unwrap();
}

#[test]
fn a_hole_in_the_last_group_commit_is_a_torn_group_commit() {
    let c = case(vec![
        reserves("a", 1_000, 40),
        reserves("last", 10_000, 300),
    ]);
    let last = *c.starts.last().unwrap();
    assert!(
        c.bytes.len() - last > 3 * PAGE,
        "the last group commit spans pages"
    );
    let p = page_after(last);
    // A page-aligned 4 KiB page of zeros (the page never reached the disk).
    let mut d = c.bytes.clone();
    d[p..p + PAGE].fill(0);
    torn_last_batch_opens(&c, d, "a zeroed page");
    // Zeros across a page boundary (two half-written sectors).
    let mut d = c.bytes.clone();
    d[p + PAGE - 700..p + PAGE + 300].fill(0);
    torn_last_batch_opens(&c, d, "zeros across a page boundary");
    // The very first page of the group commit lost (its synced prefix kept).
    let mut d = c.bytes.clone();
    d[last..p].fill(0);
    torn_last_batch_opens(&c, d, "the group commit's first page");
    // Old bytes: what an earlier, cut attempt left at those offsets (the same
    // history, then another last group commit, never acknowledged).
    let old = case(vec![
        reserves("a", 1_000, 40),
        reserves("other", 10_000, 250),
    ]);
    assert_eq!(old.starts, c.starts);
    let mut d = c.bytes.clone();
    d[p..p + PAGE].copy_from_slice(&old.bytes[p..p + PAGE]);
    torn_last_batch_opens(&c, d, "old bytes in a page");
    let mut d = c.bytes.clone();
    d[p + 2 * PAGE - 100..p + 2 * PAGE + 900]
        .copy_from_slice(&old.bytes[p + 2 * PAGE - 100..p + 2 * PAGE + 900]);
    torn_last_batch_opens(&c, d, "old bytes across a page boundary");
}

#[test]
fn the_same_hole_before_a_later_group_commit_is_corruption() {
    let c = case(vec![
        reserves("big", 1_000, 300),
        reserves("later", 10_000, 3),
    ]);
    let big = c.starts[0];
    let p = page_after(big);
    assert!(p + 2 * PAGE < c.starts[1]);
    let damages: Vec<(&str, Vec<u8>)> = vec![
        ("a zeroed page", {
            let mut d = c.bytes.clone();
            d[p..p + PAGE].fill(0);
            d
        }),
        ("zeros across a page boundary", {
            let mut d = c.bytes.clone();
            d[p + PAGE - 700..p + PAGE + 300].fill(0);
            d
        }),
    ];
    for (what, d) in damages {
        let o = first_damaged(&c.bytes, &d);
        std::fs::write(&c.path, &d).unwrap();
        match kontingent::open(&c.path, Durability::Full) {
            Err(JournalError::Corrupt { offset, reason }) => {
                assert_eq!(offset as usize, o, "{what}: {reason}");
                assert!(reason.contains("follows"), "{reason}");
            }
            Err(e) => panic!("{what}: {e}"),
            Ok(l) => panic!("{what}: opened, {:?}", l.recovery()),
        }
        assert_eq!(std::fs::read(&c.path).unwrap(), d, "{what}: nothing is cut");
    }
}

/// Issue 15, point 8, pinned as documented (docs/FORMAT.md, "The limit this
/// leaves"): one bit flipped in a synced journal. Before a later group commit it
/// is refused at the damaged record; inside the last group commit it cannot be
/// told from that group commit torn by a power loss (its pages may persist in
/// any order, so no trailer or second header could tell them apart either), and
/// it is cut like one — reported as a torn group commit, the earlier group
/// commits kept whole.
#[test]
fn a_bit_flip_is_refused_before_a_later_group_commit_and_cut_in_the_last() {
    let c = case(vec![reserves("a", 1_000, 40), reserves("last", 10_000, 60)]);
    let last = *c.starts.last().unwrap();
    // In a record of the earlier group commit (its payload), with the last after it.
    let mut d = c.bytes.clone();
    let earlier = c.starts[0] + (last - c.starts[0]) / 2;
    d[earlier] ^= 0x10;
    let o = first_damaged(&c.bytes, &d);
    std::fs::write(&c.path, &d).unwrap();
    match kontingent::open(&c.path, Durability::Full) {
        Err(JournalError::Corrupt { offset, .. }) => assert_eq!(offset as usize, o),
        Err(e) => panic!("a flip before a later group commit: {e}"),
        Ok(l) => panic!(
            "a flip before a later group commit opened: {:?}",
            l.recovery()
        ),
    }
    assert_eq!(std::fs::read(&c.path).unwrap(), d, "nothing is cut");
    // In the middle of the last group commit: cut there, as a torn group commit.
    let mut d = c.bytes.clone();
    d[last + (c.bytes.len() - last) / 2] ^= 0x01;
    torn_last_batch_opens(&c, d, "a bit flip in the last group commit");
}
