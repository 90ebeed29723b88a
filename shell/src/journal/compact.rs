//! Compaction (`docs/FORMAT.md`, "Compaction"): retiring every record into a base
//! state, and finding one's place in a journal another handle compacted.

use super::frame::{Framing, Read, Window};
use super::header::{Header, HEADER_LEN};
use super::{Entry, EntryError, Journal, JournalError, Recovery};
use crate::storage::Storage;
use std::io;

impl<S: Storage> Journal<S> {
    /// Retire every record: replace the journal by one whose base is `state`, the
    /// state after all `next_seq() - 1` records. Call with the storage lock held
    /// and every record applied (after [`Journal::tail`]). Returns the bytes the
    /// journal had before.
    pub fn compact(&mut self, state: &[u8]) -> Result<u64, JournalError> {
        let before = self.storage.len()?;
        if self.end != before {
            return Err(JournalError::Io(io::Error::other(
                "compaction needs every record of the journal applied first",
            )));
        }
        let hd = Header {
            ledger_id: self.header.ledger_id,
            base_records: self.next_seq - 1,
            base_len: state.len() as u64,
            base_crc: crc32c::crc32c(state),
            // Compaction rewrites the file: in the newest format.
            framing: Framing::Batched,
        };
        if hd.base_records == 0 {
            return Ok(before);
        }
        let mut bytes = Vec::with_capacity(HEADER_LEN as usize + state.len());
        bytes.extend_from_slice(&hd.encode());
        bytes.extend_from_slice(state);
        self.storage.replace(&bytes)?;
        self.header = hd;
        self.end = hd.records_start();
        self.last = None;
        Ok(before)
    }

    /// Find our place in a journal that another handle compacted: it holds every
    /// record we have seen (compaction takes the lock and reads to the end first).
    pub(super) fn rebase(
        &mut self,
        apply: &mut impl FnMut(Entry<'_>) -> Result<(), EntryError>,
    ) -> Result<(), JournalError> {
        let header = Header::read(&mut self.storage)?;
        if header.ledger_id != self.header.ledger_id {
            return Err(JournalError::BadHeader {
                reason: "the journal file was replaced by another ledger's journal".into(),
            });
        }
        let seen = self.next_seq - 1;
        self.header = header;
        if header.base_records >= seen {
            // The base is at or ahead of us: take it as our state.
            self.end = header.records_start();
            self.next_seq = header.base_records + 1;
            self.last = None;
            return self.load_base(apply, &mut Recovery::default());
        }
        // Skip the records we already applied, checking each as we go.
        let file_len = self.storage.len()?;
        let mut w = Window::new(header.framing);
        let mut at = header.records_start();
        let mut expect = header.base_records + 1;
        self.last = None;
        while expect <= seen {
            match w.record(&mut self.storage, at, file_len)? {
                Read::Record { seq, len, crc, .. } if seq == expect => {
                    self.last = Some((at, crc));
                    at += len;
                    expect += 1;
                }
                _ => {
                    return Err(JournalError::Corrupt {
                        offset: at,
                        reason: format!(
                            "the compacted journal lacks record {expect}, which this handle had applied"
                        ),
                    })
                }
            }
        }
        self.end = at;
        Ok(())
    }
}
