//! Reading a journal in order: its base state, then record after record, until
//! the decision table ([`super::recovery`]) says where and how the records end.

use super::entry::ReplayError;
use super::frame::{Flaw, Read, Window, FRAME_LEN};
use super::recovery::{self, Case, Follows, Seen};
use super::{Entry, EntryError, Journal, JournalError, Recovery, HEADER_LEN};
use crate::codec;
use crate::storage::Storage;
use crate::{Action, Command};

impl<S: Storage> Journal<S> {
    /// Hand a compacted journal's base state to `apply`. It was synced before the
    /// journal was renamed into place, so any damage to it is corruption.
    pub(super) fn load_base(
        &mut self,
        apply: &mut impl FnMut(Entry<'_>) -> Result<(), EntryError>,
        recovery: &mut Recovery,
    ) -> Result<(), JournalError> {
        let hd = self.header;
        if hd.base_records == 0 {
            return Ok(());
        }
        let corrupt = |reason: String| JournalError::Corrupt {
            offset: HEADER_LEN,
            reason,
        };
        let len = self.storage.len()?;
        if len < hd.records_start() {
            return Err(corrupt(format!(
                "the base state ({} bytes) runs past the end of the file ({len} bytes)",
                hd.base_len
            )));
        }
        let mut state = vec![
            0u8;
            usize::try_from(hd.base_len)
                .map_err(|_| corrupt("base state too large".into()))?
        ];
        self.storage.read_exact_at(HEADER_LEN, &mut state)?;
        if crc32c::crc32c(&state) != hd.base_crc {
            return Err(corrupt("base state checksum mismatch".into()));
        }
        apply(Entry::Base {
            records: hd.base_records,
            state: &state,
        })
        .map_err(ReplayError::Base)?;
        recovery.base = Some(hd.base_records);
        Ok(())
    }

    /// Read and apply records from `end` to the end of the storage, counting them
    /// in `count`. Returns what was found of a torn tail (bytes, partial records,
    /// and whether it was a torn group commit), which is cut only if `cut` (a scan
    /// reports it and leaves it in place).
    pub(super) fn replay(
        &mut self,
        apply: &mut impl FnMut(Entry<'_>) -> Result<(), EntryError>,
        count: &mut u64,
        cut: bool,
    ) -> Result<Torn, JournalError> {
        let file_len = self.storage.len()?;
        let mut window = Window::new(self.header.framing);
        let skip = self.header.framing.pos_len();
        // One command, decoded into again and again: its strings keep their buffers.
        let mut cmd = Command::new(0, Action::Tick);
        loop {
            let at = self.end;
            let seen = match window.record(&mut self.storage, at, file_len) {
                Err(e) => Seen::ReadFailed(e),
                Ok(Read::End) => Seen::End,
                Ok(Read::Record { seq, len, crc, .. }) if seq == self.next_seq => {
                    let payload = window.get(
                        &mut self.storage,
                        at + FRAME_LEN + skip,
                        len - FRAME_LEN - skip,
                        file_len,
                    )?;
                    match accept(payload, at, seq, &mut cmd, apply) {
                        Ok(()) => {
                            self.last = Some((at, crc));
                            self.end = at + len;
                            self.next_seq += 1;
                            *count += 1;
                            continue;
                        }
                        Err(e) => Seen::Unacceptable(e),
                    }
                }
                Ok(Read::Record { seq, .. }) => Seen::Flawed(Flaw::Sequence {
                    found: seq,
                    expected: self.next_seq,
                }),
                Ok(Read::Invalid(flaw)) => Seen::Flawed(flaw),
            };
            let next_seq = self.next_seq;
            let mut found = Follows::Nothing;
            let case = recovery::decide(&seen, || {
                found = recovery::follows(&mut self.storage, &mut window, at, file_len, next_seq)?;
                Ok(found)
            })?;
            return match (case, seen) {
                (Case::CleanEnd, _) => Ok(Torn::default()),
                (Case::TornIncomplete | Case::TornGarbled | Case::TornBatch, _) => {
                    let mut records = recovery::torn_records(&mut self.storage, at, file_len);
                    if let Follows::SameBatch { last, .. } = found {
                        records = records.max(last - next_seq + 1);
                    }
                    if cut {
                        self.storage.truncate(at)?;
                        self.storage.sync()?;
                    }
                    Ok(Torn {
                        bytes: file_len - at,
                        records,
                        batch: case == Case::TornBatch,
                    })
                }
                (Case::CorruptInTheMiddle, Seen::Flawed(flaw)) => {
                    let Follows::ValidRecord { seq, at: probe } = found else {
                        unreachable!(
                            "the table finds corruption in the middle only before a valid record"
                        )
                    };
                    Err(JournalError::Corrupt {
                        offset: at,
                        reason: format!(
                            "{flaw}, and a valid record (number {seq}) follows at offset {probe}"
                        ),
                    })
                }
                (Case::CorruptRecord, Seen::Unacceptable(e)) => Err(e.into()),
                (Case::ReadFailed, Seen::ReadFailed(e)) => Err(e.into()),
                (case, seen) => unreachable!("the table gives {case:?} for {seen:?}"),
            };
        }
    }

    /// Records appended by other processes since we last looked, applied in order.
    /// If another handle compacted the journal meanwhile, find our place in the new
    /// file first (loading its base state if it is ahead of us). Call with the
    /// storage lock held.
    pub fn tail(
        &mut self,
        mut apply: impl FnMut(Entry<'_>) -> Result<(), EntryError>,
    ) -> Result<u64, JournalError> {
        if self.storage.take_replaced() {
            self.rebase(&mut apply)?;
        }
        if self.storage.len()? == self.end {
            return Ok(0);
        }
        let mut n = 0;
        self.replay(&mut apply, &mut n, true)?;
        Ok(n)
    }
}

/// What replay found after the last valid record: the torn tail it cut (or, in
/// a scan, would cut).
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Torn {
    pub bytes: u64,
    pub records: u64,
    /// A torn group commit whose later pages persisted (the table's row).
    pub batch: bool,
}

impl Torn {
    /// Note it in what opening found.
    pub fn report(self, recovery: &mut Recovery) {
        recovery.torn_bytes = self.bytes;
        recovery.torn_records = self.records;
        recovery.torn_batch = self.batch;
    }
}

/// Decode record `seq` (at `at`) into `cmd` and hand it to `apply`.
fn accept(
    payload: &[u8],
    at: u64,
    seq: u64,
    cmd: &mut Command,
    apply: &mut impl FnMut(Entry<'_>) -> Result<(), EntryError>,
) -> Result<(), ReplayError> {
    codec::decode_into(payload, cmd).map_err(|cause| ReplayError::NotACommand {
        record: seq,
        offset: at,
        cause,
    })?;
    apply(Entry::Command(cmd)).map_err(|cause| ReplayError::Rejected {
        record: seq,
        offset: at,
        cause,
    })
}
