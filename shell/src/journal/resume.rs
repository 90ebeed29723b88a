//! Opening a journal at a checkpoint: only the records after it are replayed,
//! once the journal is shown to be the one the checkpoint was taken of.

use super::frame::{Read, Window};
use super::header::{Header, HEADER_LEN};
use super::{Entry, EntryError, Journal, JournalError, Recovery};
use crate::storage::Storage;
use thiserror::Error;

/// Why a checkpoint does not fit a journal: the journal is then replayed in full.
/// On a checkpoint's word alone nothing is judged corrupt.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum CheckpointUnfit {
    /// The journal ends before the checkpoint does.
    #[error("the journal ({len} bytes) is shorter than the checkpoint ({offset})")]
    Shorter {
        /// The journal's length in bytes.
        len: u64,
        /// Where the checkpoint says its records end.
        offset: u64,
    },
    /// The ledger ids differ.
    #[error("the checkpoint belongs to another journal")]
    OtherJournal,
    /// The checkpoint covers records that a compaction has since retired.
    #[error("the journal was compacted past the checkpoint")]
    CompactedPast,
    /// The record the checkpoint is pinned to is not where it says, unchanged (a
    /// journal restored from a backup has another history).
    #[error("the journal's record at the checkpoint does not match it")]
    RecordMismatch,
    /// A record after the checkpoint does not replay onto its state.
    #[error("replaying after the checkpoint failed at offset {offset}: {reason}")]
    ReplayFailed {
        /// Where the record starts.
        offset: u64,
        /// What was wrong with it, as [`JournalError::Corrupt`] would say.
        reason: String,
    },
}

impl<S: Storage> Journal<S> {
    /// Open a journal whose first `next_seq - 1` records are already in the state
    /// (from a checkpoint that ended at byte `offset`), replaying only the rest.
    /// `Err` in the outer result means the checkpoint does not fit this journal
    /// (another ledger, a journal shorter than the checkpoint, or one compacted
    /// past it): open it in full instead.
    #[allow(clippy::type_complexity)]
    pub fn open_after(
        mut storage: S,
        ledger_id: [u8; 16],
        offset: u64,
        next_seq: u64,
        last: Option<(u64, u32)>,
        mut apply: impl FnMut(Entry<'_>) -> Result<(), EntryError>,
    ) -> Result<Result<(Journal<S>, Recovery), CheckpointUnfit>, JournalError> {
        let len = storage.len()?;
        storage.take_replaced();
        if len < HEADER_LEN || len < offset || offset < HEADER_LEN {
            return Ok(Err(CheckpointUnfit::Shorter { len, offset }));
        }
        let header = Header::read(&mut storage)?;
        if header.ledger_id != ledger_id {
            return Ok(Err(CheckpointUnfit::OtherJournal));
        }
        if next_seq <= header.base_records {
            return Ok(Err(CheckpointUnfit::CompactedPast));
        }
        let pinned = match last {
            None => offset == header.records_start() && next_seq == header.base_records + 1,
            Some((start, crc)) => {
                start >= header.records_start()
                    && match Window::new(header.framing).record(&mut storage, start, len)? {
                        Read::Record {
                            seq,
                            len: n,
                            crc: stored,
                            ..
                        } => seq + 1 == next_seq && stored == crc && start + n == offset,
                        _ => false,
                    }
            }
        };
        if !pinned {
            return Ok(Err(CheckpointUnfit::RecordMismatch));
        }
        let mut j = Journal {
            storage,
            header,
            end: offset,
            next_seq,
            last,
        };
        let mut recovery = Recovery {
            from_checkpoint: Some(next_seq - 1),
            ..Recovery::default()
        };
        match j.replay(&mut apply, &mut recovery.records, true) {
            Ok(torn) => {
                torn.report(&mut recovery);
                Ok(Ok((j, recovery)))
            }
            Err(JournalError::Corrupt { offset, reason }) => {
                Ok(Err(CheckpointUnfit::ReplayFailed { offset, reason }))
            }
            Err(e) => Err(e),
        }
    }
}
