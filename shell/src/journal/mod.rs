//! The journal: a header and CRC-framed command records on a [`Storage`],
//! with the recovery decision table of `docs/FORMAT.md`.

use crate::codec::{self, DecodeError};
use crate::storage::Storage;
use crate::Command;
use std::io;
use thiserror::Error;

/// Bytes 0..8 of every journal header.
pub const MAGIC: &[u8; 8] = b"KONTJRNL";
/// The version written for a journal that starts at record 1.
pub const VERSION: u16 = 1;
/// The version written for a compacted journal (it starts with a base state).
pub const VERSION_COMPACTED: u16 = 2;
/// Length of the file header in bytes: a compacted journal's base state, or else the
/// first record, starts at this offset.
pub const HEADER_LEN: u64 = 64;
/// Bytes before a record's payload: length, CRC, sequence number.
pub const FRAME_LEN: u64 = 16;
/// Largest payload of one record.
pub const PAYLOAD_MAX: u64 = 16 << 20;

/// Why a journal could not be opened or written.
#[derive(Debug, Error)]
pub enum JournalError {
    /// A read, write, truncate, lock or sync of the storage failed: not corruption.
    /// On open, retrying may succeed; on an open ledger, check
    /// [`DurableLedger::is_poisoned`](crate::DurableLedger::is_poisoned) and reopen if set.
    #[error("journal I/O error: {0}")]
    Io(#[from] io::Error),
    /// The first 64 bytes are not a header this build reads (magic, CRC, version),
    /// or the file was replaced by another ledger's journal. The file is left
    /// untouched; retrying gives the same answer.
    #[error("not a kontingent journal, or an unknown version: {reason}")]
    BadHeader {
        /// For people; not stable, do not match on it.
        reason: String,
    },
    /// Damage a torn tail cannot explain (`docs/FORMAT.md`, decision table): opening
    /// refuses the journal and cuts nothing, so reopening gives the same error.
    #[error("journal corrupted at byte offset {offset}: {reason}")]
    Corrupt {
        /// Byte offset in the file where the bad record starts (64 for a bad base state).
        offset: u64,
        /// For people; not stable, do not match on it.
        reason: String,
    },
    /// An earlier write or sync failure (or a panic while writing) left memory ahead
    /// of the disk: this handle acknowledges nothing more. Do not retry on it;
    /// drop it and reopen the journal.
    #[error("the ledger is poisoned by an earlier write or sync failure ({cause}); reopen it")]
    Poisoned {
        /// The first failure that poisoned the handle, as text.
        cause: String,
    },
}

impl JournalError {
    /// Stable snake_case code for bindings and logs: `io`, `bad_header`,
    /// `journal_corrupted` or `poisoned`.
    pub fn code(&self) -> &'static str {
        match self {
            JournalError::Io(_) => "io",
            JournalError::BadHeader { .. } => "bad_header",
            JournalError::Corrupt { .. } => "journal_corrupted",
            JournalError::Poisoned { .. } => "poisoned",
        }
    }
}

/// What replay hands its caller, in order: the state of the retired prefix (only a
/// compacted journal has one), then each command.
pub enum Entry<'a> {
    /// The ledger's state after records `1 ..= records` (`Ledger::state_bytes`).
    Base {
        /// Records the base covers (header bytes 32..40): the next record is `records + 1`.
        records: u64,
        /// The base state's bytes (from offset 64), CRC already checked.
        state: &'a [u8],
    },
    /// One record's command. Borrowed from a buffer reused for the next record; an
    /// `Err` from `apply` makes the record `Corrupt` at its offset.
    Command(&'a Command),
}

/// Replay one entry into `ledger`: a base state replaces it, a command is applied.
pub fn apply_entry(ledger: &mut crate::Ledger, entry: Entry<'_>) -> Result<(), String> {
    match entry {
        Entry::Base { state, .. } => {
            *ledger = crate::Ledger::from_state_bytes(state).map_err(|e| e.to_string())?;
            Ok(())
        }
        Entry::Command(cmd) => ledger.apply(cmd).map(drop).map_err(|e| e.to_string()),
    }
}

/// [`apply_entry`], passing each event a command emits to `seen`.
pub fn apply_entry_with(
    ledger: &mut crate::Ledger,
    entry: Entry<'_>,
    mut seen: impl FnMut(&crate::Event),
) -> Result<(), String> {
    match entry {
        Entry::Command(cmd) => {
            let applied = ledger.apply(cmd).map_err(|e| e.to_string())?;
            applied.events.iter().for_each(&mut seen);
            Ok(())
        }
        base => apply_entry(ledger, base),
    }
}

/// What opening found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Records replayed.
    pub records: u64,
    /// Bytes cut from a torn tail (0 if the journal ended cleanly).
    pub torn_bytes: u64,
    /// Partial records in the cut tail.
    pub torn_records: u64,
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

/// A journal's header: its ledger id and, once compacted, its base state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Header {
    ledger_id: [u8; 16],
    /// Records retired into the base state (0: none, records start at 1).
    base_records: u64,
    base_len: u64,
    base_crc: u32,
}

impl Header {
    /// Where the first record starts.
    fn records_start(&self) -> u64 {
        HEADER_LEN + self.base_len
    }
}

fn header(hd: &Header) -> [u8; 64] {
    let mut h = [0u8; 64];
    h[..8].copy_from_slice(MAGIC);
    let version = if hd.base_records == 0 {
        VERSION
    } else {
        VERSION_COMPACTED
    };
    h[8..10].copy_from_slice(&version.to_le_bytes());
    h[12..16].copy_from_slice(&(HEADER_LEN as u32).to_le_bytes());
    h[16..32].copy_from_slice(&hd.ledger_id);
    if hd.base_records > 0 {
        h[32..40].copy_from_slice(&hd.base_records.to_le_bytes());
        h[40..48].copy_from_slice(&hd.base_len.to_le_bytes());
        h[48..52].copy_from_slice(&hd.base_crc.to_le_bytes());
    }
    let crc = crc32c::crc32c(&h[..60]);
    h[60..64].copy_from_slice(&crc.to_le_bytes());
    h
}

/// 16 random bytes naming a new journal (so checkpoints and compactions can tell
/// journals apart).
pub fn fresh_ledger_id() -> [u8; 16] {
    let mut id = [0u8; 16];
    #[cfg(unix)]
    {
        let random = std::fs::File::open("/dev/urandom")
            .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut id));
        if random.is_ok() {
            return id;
        }
    }
    // No entropy source (or no file system: a storage there supplies its own id):
    // unique enough within a process to tell journals apart.
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let here = &id as *const _ as usize as u64;
    id[..8].copy_from_slice(&n.to_le_bytes());
    id[8..].copy_from_slice(&here.to_le_bytes());
    id
}

/// Append `cmd` as a record numbered `seq` to `out`.
pub fn frame(seq: u64, cmd: &Command, out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&[0u8; 8]);
    out.extend_from_slice(&seq.to_le_bytes());
    codec::encode(cmd, out);
    let n = (out.len() - start - FRAME_LEN as usize) as u32;
    let crc = crc32c::crc32c(&out[start + 8..]);
    out[start..start + 4].copy_from_slice(&n.to_le_bytes());
    out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
}

/// Refuse a framed record that a reader would not accept back: longer than
/// [`PAYLOAD_MAX`], or a catalog beyond the decoder's limit.
pub fn check_frame(framed: &[u8]) -> Result<(), crate::Error> {
    let n = framed.len() as u64 - FRAME_LEN;
    if n > PAYLOAD_MAX {
        return Err(crate::Error::TooLong {
            field: "command".into(),
            len: n as usize,
            max: PAYLOAD_MAX as usize,
        });
    }
    if framed.get(FRAME_LEN as usize + 8) == Some(&12) {
        // A catalog: make sure it decodes within the limits it will be read with.
        codec::decode(&framed[FRAME_LEN as usize..]).map_err(|e| crate::Error::TooLong {
            field: format!("catalog ({e})"),
            len: n as usize,
            max: codec::CATALOG_JSON_MAX,
        })?;
    }
    Ok(())
}

/// A journal open for appending.
pub struct Journal<S: Storage> {
    storage: S,
    header: Header,
    /// Offset just past the last valid record.
    end: u64,
    /// Sequence number of the next record.
    next_seq: u64,
    /// Where the last record starts and its CRC (what a checkpoint pins itself to).
    last: Option<(u64, u32)>,
}

/// The outcome of reading one record at an offset.
enum Read {
    Record {
        seq: u64,
        /// The payload is `window` bytes `[at + FRAME_LEN, at + len)`.
        len: u64,
    },
    End,
    Invalid(String),
}

/// A read-ahead window over the storage: replay reads the journal in large
/// chunks instead of two small reads per record.
#[derive(Default)]
struct Window {
    data: Vec<u8>,
    base: u64,
}

const READ_AHEAD: u64 = 4 << 20;

impl Window {
    /// The bytes `[at, at + len)`; the caller checked they are inside the file.
    fn get<S: Storage>(
        &mut self,
        s: &mut S,
        at: u64,
        len: u64,
        file_len: u64,
    ) -> io::Result<&[u8]> {
        let inside = at >= self.base && at + len <= self.base + self.data.len() as u64;
        if !inside {
            let n = len.max(READ_AHEAD).min(file_len - at);
            self.data.resize(n as usize, 0);
            s.read_exact_at(at, &mut self.data)?;
            self.base = at;
        }
        let start = (at - self.base) as usize;
        Ok(&self.data[start..start + len as usize])
    }
}

fn read_record<S: Storage>(s: &mut S, w: &mut Window, at: u64, file_len: u64) -> io::Result<Read> {
    if file_len < at {
        return Err(io::Error::other(format!(
            "the journal is {file_len} bytes, shorter than the {at} already read: truncated by someone else"
        )));
    }
    if at == file_len {
        return Ok(Read::End);
    }
    if file_len - at < FRAME_LEN {
        return Ok(Read::Invalid("incomplete record frame".into()));
    }
    let f = w.get(s, at, FRAME_LEN, file_len)?;
    let n = u64::from(u32::from_le_bytes([f[0], f[1], f[2], f[3]]));
    let crc = u32::from_le_bytes([f[4], f[5], f[6], f[7]]);
    let seq = u64::from_le_bytes([f[8], f[9], f[10], f[11], f[12], f[13], f[14], f[15]]);
    if n == 0 || n > PAYLOAD_MAX {
        return Ok(Read::Invalid(format!("bad record length {n}")));
    }
    if file_len - at - FRAME_LEN < n {
        return Ok(Read::Invalid("record runs past the end of the file".into()));
    }
    let record = w.get(s, at, FRAME_LEN + n, file_len)?;
    if crc32c::crc32c(&record[8..]) != crc {
        return Ok(Read::Invalid("checksum mismatch".into()));
    }
    Ok(Read::Record {
        seq,
        len: FRAME_LEN + n,
    })
}

impl<S: Storage> Journal<S> {
    /// Open (or create) a journal and replay it through `apply` (its base state if
    /// it was compacted, then every record; `Err(reason)` means the entry is not
    /// acceptable), cutting a torn tail and refusing corruption, as in the
    /// decision table.
    pub fn open(
        mut storage: S,
        mut apply: impl FnMut(Entry<'_>) -> Result<(), String>,
    ) -> Result<(Journal<S>, Recovery), JournalError> {
        let mut recovery = Recovery::default();
        let len = storage.len()?;
        // Opening reads the file afresh: a replacement seen while locking is moot.
        storage.take_replaced();
        let mut h = [0u8; 64];
        let fresh = if len < HEADER_LEN {
            true
        } else {
            storage.read_exact_at(0, &mut h)?;
            // A zeroed header is an interrupted creation only if nothing follows it
            // (the header is synced before any record is written).
            h.iter().all(|&b| b == 0) && len == HEADER_LEN
        };
        let header = if fresh {
            // Nothing in a file without a complete header was ever acknowledged.
            storage.truncate(0)?;
            let hd = Header {
                ledger_id: storage.new_ledger_id(),
                base_records: 0,
                base_len: 0,
                base_crc: 0,
            };
            storage.append(&header(&hd))?;
            storage.sync()?;
            recovery.created = true;
            hd
        } else {
            check_header(&h)?
        };
        let mut j = Journal::at_start(storage, header);
        j.load_base(&mut apply, &mut recovery)?;
        let cut = j.replay(&mut apply, &mut recovery.records)?;
        recovery.torn_bytes = cut.0;
        recovery.torn_records = cut.1;
        Ok((j, recovery))
    }

    /// A journal positioned before its first record (or base state).
    fn at_start(storage: S, header: Header) -> Journal<S> {
        Journal {
            storage,
            header,
            end: header.records_start(),
            next_seq: header.base_records + 1,
            last: None,
        }
    }

    /// Hand a compacted journal's base state to `apply`. It was synced before the
    /// journal was renamed into place, so any damage to it is corruption.
    fn load_base(
        &mut self,
        apply: &mut impl FnMut(Entry<'_>) -> Result<(), String>,
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
        .map_err(|reason| corrupt(format!("the base state does not load: {reason}")))?;
        recovery.base = Some(hd.base_records);
        Ok(())
    }

    /// Read and apply records from `end` to the end of the storage. Returns the
    /// bytes and partial records cut from a torn tail.
    fn replay(
        &mut self,
        apply: &mut impl FnMut(Entry<'_>) -> Result<(), String>,
        count: &mut u64,
    ) -> Result<(u64, u64), JournalError> {
        self.replay_with(apply, count, true)
    }

    /// Replay; with `cut == false` a torn tail is reported but left in place.
    fn replay_with(
        &mut self,
        apply: &mut impl FnMut(Entry<'_>) -> Result<(), String>,
        count: &mut u64,
        cut: bool,
    ) -> Result<(u64, u64), JournalError> {
        let file_len = self.storage.len()?;
        let mut window = Window::default();
        // One command, decoded into again and again: its strings keep their buffers.
        let mut cmd = Command::new(0, crate::Action::Tick);
        loop {
            let at = self.end;
            let problem = match read_record(&mut self.storage, &mut window, at, file_len)? {
                Read::End => return Ok((0, 0)),
                Read::Record { seq, len } if seq == self.next_seq => {
                    let payload =
                        window.get(&mut self.storage, at + FRAME_LEN, len - FRAME_LEN, file_len)?;
                    codec::decode_into(payload, &mut cmd).map_err(|e: DecodeError| {
                        JournalError::Corrupt {
                            offset: at,
                            reason: format!("record {seq} is not a command: {e}"),
                        }
                    })?;
                    apply(Entry::Command(&cmd)).map_err(|reason| JournalError::Corrupt {
                        offset: at,
                        reason: format!("record {seq} was rejected on replay: {reason}"),
                    })?;
                    let f = window.get(&mut self.storage, at, FRAME_LEN, file_len)?;
                    self.last = Some((at, u32::from_le_bytes([f[4], f[5], f[6], f[7]])));
                    self.end = at + len;
                    self.next_seq += 1;
                    *count += 1;
                    continue;
                }
                Read::Record { seq, .. } => {
                    format!("record number {seq} where {} was expected", self.next_seq)
                }
                Read::Invalid(reason) => reason,
            };
            return match self.torn_or_corrupt(&mut window, at, file_len, problem)? {
                Cut::Torn { bytes, records } => {
                    if cut {
                        self.storage.truncate(at)?;
                        self.storage.sync()?;
                    }
                    Ok((bytes, records))
                }
                Cut::Corrupt(e) => Err(e),
            };
        }
    }

    /// Decide between a torn tail and corruption for a bad record at `at`.
    fn torn_or_corrupt(
        &mut self,
        window: &mut Window,
        at: u64,
        file_len: u64,
        problem: String,
    ) -> Result<Cut, JournalError> {
        // Is there a valid record with a sequence number we still expect after `at`?
        let mut probe = at + 1;
        while probe + FRAME_LEN <= file_len {
            // Cheap checks first: a plausible length and sequence number, or skip
            // the CRC over a possibly large "payload" of garbage.
            let f = window.get(&mut self.storage, probe, FRAME_LEN, file_len)?;
            let n = u64::from(u32::from_le_bytes([f[0], f[1], f[2], f[3]]));
            let seq = u64::from_le_bytes([f[8], f[9], f[10], f[11], f[12], f[13], f[14], f[15]]);
            let records_left = (file_len - probe) / (FRAME_LEN + 1);
            if n == 0
                || n > PAYLOAD_MAX
                || n > file_len - probe - FRAME_LEN
                || seq < self.next_seq
                || seq > self.next_seq + records_left
            {
                probe += 1;
                continue;
            }
            if let Read::Record { seq, .. } =
                read_record(&mut self.storage, window, probe, file_len)?
            {
                if seq >= self.next_seq {
                    return Ok(Cut::Corrupt(JournalError::Corrupt {
                        offset: at,
                        reason: format!(
                            "{problem}, and a valid record (number {seq}) follows at offset {probe}"
                        ),
                    }));
                }
            }
            probe += 1;
        }
        // Nothing valid follows: a torn tail. Count the partial frames being cut.
        let mut records = 0;
        let mut o = at;
        while o < file_len {
            records += 1;
            let mut n = [0u8; 4];
            if file_len - o < 4 || self.storage.read_exact_at(o, &mut n).is_err() {
                break;
            }
            let n = u64::from(u32::from_le_bytes(n));
            if n == 0 || n > PAYLOAD_MAX {
                break;
            }
            o = o.saturating_add(FRAME_LEN + n);
        }
        Ok(Cut::Torn {
            bytes: file_len - at,
            records,
        })
    }

    /// Open a journal whose first `next_seq - 1` records are already in the state
    /// (from a checkpoint that ended at byte `offset`), replaying only the rest.
    /// `Err(reason)` in the outer result means the checkpoint does not fit this
    /// journal (another ledger, a journal shorter than the checkpoint, or one
    /// compacted past it): open it in full instead.
    #[allow(clippy::type_complexity)]
    pub fn open_after(
        mut storage: S,
        ledger_id: [u8; 16],
        offset: u64,
        next_seq: u64,
        last: Option<(u64, u32)>,
        mut apply: impl FnMut(Entry<'_>) -> Result<(), String>,
    ) -> Result<Result<(Journal<S>, Recovery), String>, JournalError> {
        let len = storage.len()?;
        storage.take_replaced();
        if len < HEADER_LEN || len < offset || offset < HEADER_LEN {
            return Ok(Err(format!(
                "the journal ({len} bytes) is shorter than the checkpoint ({offset})"
            )));
        }
        let mut h = [0u8; 64];
        storage.read_exact_at(0, &mut h)?;
        let header = check_header(&h)?;
        if header.ledger_id != ledger_id {
            return Ok(Err("the checkpoint belongs to another journal".into()));
        }
        if next_seq <= header.base_records {
            return Ok(Err("the journal was compacted past the checkpoint".into()));
        }
        // The checkpoint's last record must be exactly where it says, unchanged:
        // otherwise the journal has another history (restored from a backup...).
        let pinned = match last {
            None => offset == header.records_start() && next_seq == header.base_records + 1,
            Some((start, crc)) => {
                let mut w = Window::default();
                start >= header.records_start()
                    && match read_record(&mut storage, &mut w, start, len)? {
                        Read::Record { seq, len: n } => {
                            let f = w.get(&mut storage, start, FRAME_LEN, len)?;
                            let stored = u32::from_le_bytes([f[4], f[5], f[6], f[7]]);
                            seq + 1 == next_seq && stored == crc && start + n == offset
                        }
                        _ => false,
                    }
            }
        };
        if !pinned {
            return Ok(Err(
                "the journal's record at the checkpoint does not match it".into(),
            ));
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
        match j.replay(&mut apply, &mut recovery.records) {
            Ok((bytes, records)) => {
                recovery.torn_bytes = bytes;
                recovery.torn_records = records;
                Ok(Ok((j, recovery)))
            }
            // On the checkpoint's word alone nothing is judged corrupt: replay in full.
            Err(JournalError::Corrupt { offset, reason }) => Ok(Err(format!(
                "replaying after the checkpoint failed at offset {offset}: {reason}"
            ))),
            Err(e) => Err(e),
        }
    }

    /// Offset just past the last record read or written.
    pub fn end(&self) -> u64 {
        self.end
    }

    /// Start and CRC of the last record read or written.
    pub fn last_record(&self) -> Option<(u64, u32)> {
        self.last
    }

    /// Read a journal without changing it: its base state (if compacted) and every
    /// record are passed to `apply`; returns what opening it would find (a torn
    /// tail is reported, not cut) and the offset where the valid records end.
    /// Errors as [`Journal::open`]: `BadHeader`, `Corrupt { offset }`, `Io`.
    pub fn scan(
        mut storage: S,
        mut apply: impl FnMut(Entry<'_>) -> Result<(), String>,
    ) -> Result<(Recovery, u64), JournalError> {
        let mut recovery = Recovery::default();
        let len = storage.len()?;
        let mut h = [0u8; 64];
        if len >= HEADER_LEN {
            storage.read_exact_at(0, &mut h)?;
        }
        // What open would treat as an interrupted creation (see `open`).
        if len < HEADER_LEN || (len == HEADER_LEN && h.iter().all(|&b| b == 0)) {
            recovery.created = true;
            recovery.torn_bytes = len;
            return Ok((recovery, 0));
        }
        let mut j = Journal::at_start(storage, check_header(&h)?);
        j.load_base(&mut apply, &mut recovery)?;
        let (bytes, records) = j.replay_with(&mut apply, &mut recovery.records, false)?;
        recovery.torn_bytes = bytes;
        recovery.torn_records = records;
        Ok((recovery, j.end))
    }

    /// Records appended by other processes since we last looked, applied in order.
    /// If another handle compacted the journal meanwhile, find our place in the new
    /// file first (loading its base state if it is ahead of us). Call with the
    /// storage lock held.
    pub fn tail(
        &mut self,
        mut apply: impl FnMut(Entry<'_>) -> Result<(), String>,
    ) -> Result<u64, JournalError> {
        if self.storage.take_replaced() {
            self.rebase(&mut apply)?;
        }
        if self.storage.len()? == self.end {
            return Ok(0);
        }
        let mut n = 0;
        self.replay(&mut apply, &mut n)?;
        Ok(n)
    }

    /// Find our place in a journal that another handle compacted: it holds every
    /// record we have seen (compaction takes the lock and reads to the end first).
    fn rebase(
        &mut self,
        apply: &mut impl FnMut(Entry<'_>) -> Result<(), String>,
    ) -> Result<(), JournalError> {
        let mut h = [0u8; 64];
        self.storage.read_exact_at(0, &mut h)?;
        let header = check_header(&h)?;
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
        let mut w = Window::default();
        let mut at = header.records_start();
        let mut expect = header.base_records + 1;
        self.last = None;
        while expect <= seen {
            match read_record(&mut self.storage, &mut w, at, file_len)? {
                Read::Record { seq, len } if seq == expect => {
                    let f = w.get(&mut self.storage, at, FRAME_LEN, file_len)?;
                    self.last = Some((at, u32::from_le_bytes([f[4], f[5], f[6], f[7]])));
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
        };
        if hd.base_records == 0 {
            return Ok(before);
        }
        let mut bytes = Vec::with_capacity(HEADER_LEN as usize + state.len());
        bytes.extend_from_slice(&header(&hd));
        bytes.extend_from_slice(state);
        self.storage.replace(&bytes)?;
        self.header = hd;
        self.end = hd.records_start();
        self.last = None;
        Ok(before)
    }

    /// Append already framed records (see [`frame`]) numbered from `next_seq()`.
    pub fn append(&mut self, framed: &[u8], records: u64) -> io::Result<()> {
        self.storage.append(framed)?;
        // Remember where the last of these records starts, and its CRC.
        let mut o = 0usize;
        while o + FRAME_LEN as usize <= framed.len() {
            let n = u32::from_le_bytes([framed[o], framed[o + 1], framed[o + 2], framed[o + 3]])
                as usize;
            let crc =
                u32::from_le_bytes([framed[o + 4], framed[o + 5], framed[o + 6], framed[o + 7]]);
            self.last = Some((self.end + o as u64, crc));
            o += FRAME_LEN as usize + n;
        }
        self.end += framed.len() as u64;
        self.next_seq += records;
        Ok(())
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

enum Cut {
    Torn { bytes: u64, records: u64 },
    Corrupt(JournalError),
}

fn check_header(h: &[u8; 64]) -> Result<Header, JournalError> {
    let bad = |reason: &str| JournalError::BadHeader {
        reason: reason.to_owned(),
    };
    if &h[..8] != MAGIC {
        return Err(bad("wrong magic"));
    }
    let crc = u32::from_le_bytes([h[60], h[61], h[62], h[63]]);
    if crc32c::crc32c(&h[..60]) != crc {
        return Err(bad("header checksum mismatch"));
    }
    let version = u16::from_le_bytes([h[8], h[9]]);
    if version != VERSION && version != VERSION_COMPACTED {
        return Err(bad(&format!(
            "format version {version}; this build reads versions {VERSION} and {VERSION_COMPACTED}"
        )));
    }
    let u64_at = |i: usize| {
        let mut a = [0u8; 8];
        a.copy_from_slice(&h[i..i + 8]);
        u64::from_le_bytes(a)
    };
    let mut ledger_id = [0u8; 16];
    ledger_id.copy_from_slice(&h[16..32]);
    let mut hd = Header {
        ledger_id,
        base_records: 0,
        base_len: 0,
        base_crc: 0,
    };
    if version == VERSION_COMPACTED {
        hd.base_records = u64_at(32);
        hd.base_len = u64_at(40);
        hd.base_crc = u32::from_le_bytes([h[48], h[49], h[50], h[51]]);
        if hd.base_records == 0 || hd.base_len == 0 || hd.base_len > u64::MAX / 2 {
            return Err(bad("a compacted journal's header without a valid base"));
        }
    }
    Ok(hd)
}
