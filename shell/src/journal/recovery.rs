//! What opening a journal found, and the decision table it found it by
//! (`docs/FORMAT.md`, "Recovery: the decision table").
//!
//! Replay reads records in order. At the first offset `o` where the next record
//! does not start, [`decide`] picks the row of the table; [`Case`] has one variant
//! per row, and a test below checks them against the document, row by row.

use super::entry::ReplayError;
use super::frame::{Flaw, FrameHead, Framing, Read, Window, FRAME_LEN, PAYLOAD_MAX};
use crate::storage::Storage;
use std::io;

/// What opening found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Records replayed.
    pub records: u64,
    /// Bytes cut from a torn tail (0 if the journal ended cleanly).
    pub torn_bytes: u64,
    /// Partial records in the cut tail.
    pub torn_records: u64,
    /// True if the cut tail was a torn group commit whose later pages had reached
    /// the disk before an earlier one did: valid records of that same group commit
    /// followed the damage (version 3 only; `docs/FORMAT.md`, decision table). They
    /// were never acknowledged, and are counted in `torn_records`.
    pub torn_batch: bool,
    /// True if the journal was created (or its interrupted creation redone).
    pub created: bool,
    /// Records covered by the checkpoint the state was loaded from (then `records`
    /// counts only the records replayed after it).
    pub from_checkpoint: Option<u64>,
    /// Why a checkpoint file was not used (the journal was replayed in full).
    pub checkpoint_ignored: Option<String>,
    /// Records retired by a compaction: the replay started from the base state
    /// stored in the journal, which covers records `1 ..= base`.
    pub base: Option<u64>,
}

/// The table's first column: what replay found at `o` instead of the next record
/// it could apply.
#[derive(Debug)]
pub(super) enum Seen {
    /// The end of the file.
    End,
    /// Bytes that are not the next record (see [`Flaw`]).
    Flawed(Flaw),
    /// The next record, CRC-valid, but not a command the caller accepts.
    Unacceptable(ReplayError),
    /// Reading at `o` failed.
    ReadFailed(io::Error),
}

/// The table's second column, looked at only when something is wrong at `o`:
/// the search scans every later byte offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Follows {
    /// No valid record anywhere after `o`: what a crash mid-write leaves.
    Nothing,
    /// A record with a correct CRC and a sequence number at least the expected
    /// one starts later, and (version 3) it belongs to a group commit that started
    /// after the expected record: that group commit was written only once the one
    /// holding the expected record was synced, so a torn write cannot explain it.
    ValidRecord {
        /// Its sequence number.
        seq: u64,
        /// Where it starts.
        at: u64,
    },
    /// Version 3 only: valid records (sequence number at least the expected one)
    /// start later, and every one belongs to the group commit holding the expected
    /// record (sequence number − position ≤ the expected number): that group
    /// commit was still being written, its pages reached the disk out of order.
    SameBatch {
        /// The highest sequence number among them.
        last: u64,
        /// Where the first of them starts.
        at: u64,
    },
}

/// One row of the decision table each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Case {
    /// End of file: the journal ends cleanly.
    CleanEnd,
    /// An incomplete frame or a length past the end, nothing valid after it: a
    /// torn tail, cut.
    TornIncomplete,
    /// A bad length, CRC or sequence number, nothing valid after it: a torn tail
    /// (garbage or zeros after a crash), cut.
    TornGarbled,
    /// Anything invalid, with valid records after it that all belong to the group
    /// commit holding the expected record (version 3): a torn group commit whose
    /// pages persisted out of order, cut.
    TornBatch,
    /// Anything invalid with a valid record after it: corruption in the middle,
    /// refused; nothing is cut or skipped.
    CorruptInTheMiddle,
    /// A CRC-valid record that is not an acceptable command: corruption (a bug or
    /// tampering, never a crash).
    CorruptRecord,
    /// A read failed: an I/O error, not corruption; nothing is cut.
    ReadFailed,
}

impl Case {
    /// Every row, in the document's order.
    #[cfg_attr(not(test), allow(dead_code))]
    pub const ALL: [Case; 7] = [
        Case::CleanEnd,
        Case::TornIncomplete,
        Case::TornGarbled,
        Case::TornBatch,
        Case::CorruptInTheMiddle,
        Case::CorruptRecord,
        Case::ReadFailed,
    ];

    /// The row as `docs/FORMAT.md` writes it: what is at `o`, what follows, verdict.
    #[cfg_attr(not(test), allow(dead_code))]
    pub const fn row(self) -> [&'static str; 3] {
        match self {
            Case::CleanEnd => ["end of file", "—", "clean end"],
            Case::TornIncomplete => [
                "fewer than 16 bytes, or a length running past the end of the file",
                "no valid record anywhere after `o`",
                "**torn tail**: truncate to `o`, fsync, report bytes and records cut",
            ],
            Case::TornGarbled => [
                "a bad length, CRC or sequence number",
                "no valid record anywhere after `o`",
                "**torn tail** (garbage or zeros after a crash)",
            ],
            Case::TornBatch => [
                "anything invalid",
                "version 3: valid records start later, and every one belongs to the group commit holding the expected record (its sequence number − position ≤ the expected number)",
                "**torn group commit** (its later pages reached the disk, an earlier one did not): truncate to `o`, fsync, report bytes and records cut",
            ],
            Case::CorruptInTheMiddle => [
                "anything invalid",
                "a record with a correct CRC and a sequence number ≥ the expected one starts at some later offset; in version 3, one of a later group commit (sequence number − position > the expected number)",
                "**corruption in the middle**: opening fails with `Corrupt { offset: o }`; nothing is truncated or skipped",
            ],
            Case::CorruptRecord => [
                "a valid record",
                "whose payload does not decode, or whose command the ledger rejects",
                "**corruption**: `Corrupt { offset: o }` (a CRC-valid record that is not a command means a bug or tampering, never a crash)",
            ],
            Case::ReadFailed => [
                "a read fails",
                "—",
                "`Io` error: not corruption, nothing is truncated",
            ],
        }
    }
}

/// The decision table. `follows` searches the rest of the file; it is called only
/// for the rows that depend on it, because the search is slow and runs only when
/// something is already wrong.
pub(super) fn decide(
    seen: &Seen,
    follows: impl FnOnce() -> io::Result<Follows>,
) -> io::Result<Case> {
    Ok(match seen {
        Seen::End => Case::CleanEnd,
        Seen::Unacceptable(_) => Case::CorruptRecord,
        Seen::ReadFailed(_) => Case::ReadFailed,
        Seen::Flawed(flaw) => match (follows()?, flaw) {
            (Follows::ValidRecord { .. }, _) => Case::CorruptInTheMiddle,
            (Follows::SameBatch { .. }, _) => Case::TornBatch,
            (Follows::Nothing, Flaw::ShortFrame | Flaw::PastEnd) => Case::TornIncomplete,
            (Follows::Nothing, Flaw::BadLength(_) | Flaw::Checksum | Flaw::Sequence { .. }) => {
                Case::TornGarbled
            }
        },
    })
}

/// The second column: is there a valid record with a sequence number still
/// expected (`next_seq` or later) anywhere after `at`, and (version 3) does any
/// belong to a group commit that started after `next_seq`?
pub(super) fn follows<S: Storage>(
    storage: &mut S,
    window: &mut Window,
    at: u64,
    file_len: u64,
    next_seq: u64,
) -> io::Result<Follows> {
    let framing = window.framing();
    // No record after `at` can carry a number beyond this: every record takes at
    // least this many bytes.
    let highest = next_seq.saturating_add((file_len - at) / (FRAME_LEN + framing.min_len()));
    let mut same: Option<(u64, u64)> = None;
    let mut probe = at + 1;
    while probe + FRAME_LEN <= file_len {
        // Cheap checks first: a plausible length and sequence number, or skip
        // the CRC over a possibly large "payload" of garbage.
        let head = FrameHead::parse(window.get(storage, probe, FRAME_LEN, file_len)?);
        if !head.len_in_bounds(framing)
            || head.len > file_len - probe - FRAME_LEN
            || head.seq < next_seq
            || head.seq > highest
        {
            probe += 1;
            continue;
        }
        if let Read::Record { seq, pos, .. } = window.record(storage, probe, file_len)? {
            let batch_start = seq.saturating_sub(u64::from(pos));
            match framing {
                Framing::Plain => return Ok(Follows::ValidRecord { seq, at: probe }),
                // A later group commit: written only after the one holding
                // `next_seq` was synced.
                Framing::Batched if batch_start > next_seq => {
                    return Ok(Follows::ValidRecord { seq, at: probe })
                }
                Framing::Batched => {
                    let (last, first) = same.unwrap_or((seq, probe));
                    same = Some((last.max(seq), first));
                }
            }
        }
        // Not skipping the record found: it may be old bytes that a newer record
        // overlaps, and every later one must be looked at.
        probe += 1;
    }
    Ok(match same {
        Some((last, at)) => Follows::SameBatch { last, at },
        None => Follows::Nothing,
    })
}

/// The partial records in a torn tail from `at`, for the report: frames counted
/// by their length fields while those are plausible.
pub(super) fn torn_records<S: Storage>(storage: &mut S, at: u64, file_len: u64) -> u64 {
    let mut records = 0;
    let mut o = at;
    while o < file_len {
        records += 1;
        let mut n = [0u8; 4];
        if file_len - o < 4 || storage.read_exact_at(o, &mut n).is_err() {
            break;
        }
        let n = u64::from(u32::from_le_bytes(n));
        if n == 0 || n > PAYLOAD_MAX {
            break;
        }
        o = o.saturating_add(FRAME_LEN + n);
    }
    records
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::DecodeError;

    /// Every variant of `Case`, `Flaw` and `Follows` is listed: adding one fails to
    /// compile here until it is placed in the table.
    fn index(c: Case) -> usize {
        match c {
            Case::CleanEnd => 0,
            Case::TornIncomplete => 1,
            Case::TornGarbled => 2,
            Case::TornBatch => 3,
            Case::CorruptInTheMiddle => 4,
            Case::CorruptRecord => 5,
            Case::ReadFailed => 6,
        }
    }

    fn every_seen() -> Vec<Seen> {
        let flaws = [
            Flaw::ShortFrame,
            Flaw::BadLength(0),
            Flaw::PastEnd,
            Flaw::Checksum,
            Flaw::Sequence {
                found: 7,
                expected: 5,
            },
        ];
        for f in &flaws {
            match f {
                Flaw::ShortFrame
                | Flaw::BadLength(_)
                | Flaw::PastEnd
                | Flaw::Checksum
                | Flaw::Sequence { .. } => {}
            }
        }
        let mut seen = vec![
            Seen::End,
            Seen::Unacceptable(ReplayError::NotACommand {
                record: 5,
                offset: 100,
                cause: DecodeError::UnknownTag { tag: 0 },
            }),
            Seen::ReadFailed(io::Error::other("injected")),
        ];
        seen.extend(flaws.into_iter().map(Seen::Flawed));
        for s in &seen {
            match s {
                Seen::End | Seen::Flawed(_) | Seen::Unacceptable(_) | Seen::ReadFailed(_) => {}
            }
        }
        seen
    }

    /// The first-column cell that names what replay saw.
    fn cell(seen: &Seen) -> &'static str {
        match seen {
            Seen::End => "end of file",
            Seen::Flawed(Flaw::ShortFrame | Flaw::PastEnd) => {
                "fewer than 16 bytes, or a length running past the end of the file"
            }
            Seen::Flawed(Flaw::BadLength(_) | Flaw::Checksum | Flaw::Sequence { .. }) => {
                "a bad length, CRC or sequence number"
            }
            Seen::Unacceptable(_) => "a valid record",
            Seen::ReadFailed(_) => "a read fails",
        }
    }

    /// Every case a replay can meet gets exactly one row, consistent with the row's
    /// cells, the search runs only where the row depends on it, and every row is
    /// reached.
    #[test]
    fn the_table_is_exhaustive() {
        for (i, c) in Case::ALL.iter().enumerate() {
            assert_eq!(index(*c), i);
        }
        let mut reached = [false; Case::ALL.len()];
        for seen in every_seen() {
            for after in [
                Follows::Nothing,
                Follows::ValidRecord { seq: 9, at: 200 },
                Follows::SameBatch { last: 9, at: 200 },
            ] {
                let mut asked = false;
                let case = decide(&seen, || {
                    asked = true;
                    Ok(after)
                })
                .unwrap();
                reached[index(case)] = true;
                let [what, follows, _] = case.row();
                assert_eq!(asked, matches!(seen, Seen::Flawed(_)), "{seen:?}");
                if asked {
                    let expected = match after {
                        Follows::Nothing => "no valid record anywhere after `o`",
                        Follows::ValidRecord { .. } => Case::CorruptInTheMiddle.row()[1],
                        Follows::SameBatch { .. } => Case::TornBatch.row()[1],
                    };
                    assert_eq!(follows, expected, "{seen:?}, {after:?}");
                    assert!(what == cell(&seen) || what == "anything invalid");
                } else {
                    assert_eq!(what, cell(&seen), "{seen:?}");
                }
            }
        }
        assert!(
            reached.iter().all(|&r| r),
            "a row no replay reaches: {reached:?}"
        );
    }

    /// The table in `docs/FORMAT.md` is this one, row by row.
    #[test]
    fn the_table_is_the_documented_one() {
        let doc = include_str!("../../../docs/FORMAT.md");
        let section = doc
            .split_once("## Recovery: the decision table")
            .expect("the section")
            .1;
        let table = section
            .split_once("| what is at `o` | what follows | verdict |")
            .expect("the table")
            .1;
        let rows: Vec<Vec<&str>> = table
            .lines()
            .skip(2) // the rest of the header line, and the |---| line
            .take_while(|l| l.starts_with('|'))
            .map(|l| l.trim_matches('|').split(" | ").map(str::trim).collect())
            .collect();
        let ours: Vec<Vec<&str>> = Case::ALL.iter().map(|c| c.row().to_vec()).collect();
        assert_eq!(rows, ours);
    }
}
