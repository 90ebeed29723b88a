//! A journal open for appending: opening (or creating) it, reading it without
//! change, and appending records.

use super::header::{self, Header};
use super::{Entry, EntryError, JournalError, Recovery, FRAME_LEN};
use crate::storage::Storage;
use std::io;

/// A journal open for appending.
pub struct Journal<S: Storage> {
    pub(super) storage: S,
    pub(super) header: Header,
    /// Offset just past the last valid record.
    pub(super) end: u64,
    /// Sequence number of the next record.
    pub(super) next_seq: u64,
    /// Where the last record starts and its CRC (what a checkpoint pins itself to).
    pub(super) last: Option<(u64, u32)>,
}

impl<S: Storage> Journal<S> {
    /// Open (or create) a journal and replay it through `apply` (its base state if
    /// it was compacted, then every record; an `Err` means the entry is not
    /// acceptable), cutting a torn tail and refusing corruption, as in the
    /// decision table.
    pub fn open(
        mut storage: S,
        mut apply: impl FnMut(Entry<'_>) -> Result<(), EntryError>,
    ) -> Result<(Journal<S>, Recovery), JournalError> {
        let mut recovery = Recovery::default();
        let len = storage.len()?;
        // Opening reads the file afresh: a replacement seen while locking is moot.
        storage.take_replaced();
        let header = match header::start(&mut storage, len)? {
            header::Start::Header(h) => Header::decode(&h)?,
            header::Start::Create => {
                // Nothing in a file without a complete header was ever acknowledged.
                storage.truncate(0)?;
                let hd = Header::new(storage.new_ledger_id());
                storage.append(&hd.encode())?;
                storage.sync()?;
                recovery.created = true;
                hd
            }
        };
        let mut j = Journal::at_start(storage, header);
        j.load_base(&mut apply, &mut recovery)?;
        j.replay(&mut apply, &mut recovery.records, true)?
            .report(&mut recovery);
        Ok((j, recovery))
    }

    /// Read a journal without changing it: its base state (if compacted) and every
    /// record are passed to `apply`; returns what opening it would find (a torn
    /// tail is reported, not cut) and the offset where the valid records end.
    /// Errors as [`Journal::open`]: `BadHeader`, `Corrupt { offset }`, `Io`.
    pub fn scan(
        mut storage: S,
        mut apply: impl FnMut(Entry<'_>) -> Result<(), EntryError>,
    ) -> Result<(Recovery, u64), JournalError> {
        let mut recovery = Recovery::default();
        let len = storage.len()?;
        let h = match header::start(&mut storage, len)? {
            header::Start::Header(h) => h,
            // What open would treat as an interrupted creation.
            header::Start::Create => {
                recovery.created = true;
                recovery.torn_bytes = len;
                return Ok((recovery, 0));
            }
        };
        let mut j = Journal::at_start(storage, Header::decode(&h)?);
        j.load_base(&mut apply, &mut recovery)?;
        j.replay(&mut apply, &mut recovery.records, false)?
            .report(&mut recovery);
        Ok((recovery, j.end))
    }

    /// A journal positioned before its first record (or base state).
    pub(super) fn at_start(storage: S, header: Header) -> Journal<S> {
        Journal {
            storage,
            header,
            end: header.records_start(),
            next_seq: header.base_records + 1,
            last: None,
        }
    }

    /// Append already framed records (see [`super::frame`]) numbered from `next_seq()`.
    pub fn append(&mut self, framed: &[u8], records: u64) -> io::Result<()> {
        self.storage.append(framed)?;
        // Remember where the last of these records starts, and its CRC.
        let mut o = 0usize;
        while o + FRAME_LEN as usize <= framed.len() {
            let head = super::frame::FrameHead::parse(&framed[o..]);
            self.last = Some((self.end + o as u64, head.crc));
            o += FRAME_LEN as usize + head.len as usize;
        }
        self.end += framed.len() as u64;
        self.next_seq += records;
        Ok(())
    }

    /// Offset just past the last record read or written.
    pub fn end(&self) -> u64 {
        self.end
    }

    /// Start and CRC of the last record read or written.
    pub fn last_record(&self) -> Option<(u64, u32)> {
        self.last
    }

    /// How records appended to this journal must be framed (its version's way;
    /// it can change when another handle compacts the journal).
    pub fn framing(&self) -> super::Framing {
        self.header.framing
    }

    /// Sequence number the next appended record must carry.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// The 16 bytes at header offset 16 naming this journal (kept by compaction;
    /// a checkpoint must carry the same).
    pub fn ledger_id(&self) -> [u8; 16] {
        self.header.ledger_id
    }

    /// Records retired into the base state by compaction (0 if never compacted).
    pub fn base_records(&self) -> u64 {
        self.header.base_records
    }

    /// The storage underneath, to lock, unlock or sync it; bytes written through it
    /// directly are not counted in [`Journal::end`] or [`Journal::next_seq`].
    pub fn storage(&mut self) -> &mut S {
        &mut self.storage
    }
}
