//! The 64-byte file header (`docs/FORMAT.md`, "File header"): which journal this
//! is, and where its records start.

use super::frame::Framing;
use super::JournalError;
use crate::storage::Storage;

/// Bytes 0..8 of every journal header.
pub const MAGIC: &[u8; 8] = b"KONTJRNL";
/// Version 1: records framed without their position in a group commit, starting
/// at record 1. Still read, and appended to as such; no longer created.
pub const VERSION: u16 = 1;
/// Version 2: a compacted version-1 journal (it starts with a base state). Still
/// read, and appended to as such; no longer written.
pub const VERSION_COMPACTED: u16 = 2;
/// Version 3: every record also carries its position in its group commit (so
/// recovery can tell a torn group commit from corruption); with or without a base
/// state (header bytes 32..52). Every new journal and every compaction writes it.
pub const VERSION_BATCHED: u16 = 3;
/// Length of the file header in bytes: a compacted journal's base state, or else the
/// first record, starts at this offset.
pub const HEADER_LEN: u64 = 64;

/// A journal's header: its ledger id and, once compacted, its base state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Header {
    pub ledger_id: [u8; 16],
    /// Records retired into the base state (0: none, records start at 1).
    pub base_records: u64,
    pub base_len: u64,
    pub base_crc: u32,
    /// How its records are framed (versions 1 and 2: plain; 3: batched).
    pub framing: Framing,
}

impl Header {
    /// The header of a new journal (version 3) that starts at record 1.
    pub fn new(ledger_id: [u8; 16]) -> Header {
        Header {
            ledger_id,
            base_records: 0,
            base_len: 0,
            base_crc: 0,
            framing: Framing::Batched,
        }
    }

    /// Where the first record starts.
    pub fn records_start(&self) -> u64 {
        HEADER_LEN + self.base_len
    }

    /// The 64 bytes on disk; the version follows from the framing and (for plain
    /// framing) whether there is a base.
    pub fn encode(&self) -> [u8; 64] {
        let mut h = [0u8; 64];
        h[..8].copy_from_slice(MAGIC);
        let version = match self.framing {
            Framing::Batched => VERSION_BATCHED,
            Framing::Plain if self.base_records == 0 => VERSION,
            Framing::Plain => VERSION_COMPACTED,
        };
        h[8..10].copy_from_slice(&version.to_le_bytes());
        h[12..16].copy_from_slice(&(HEADER_LEN as u32).to_le_bytes());
        h[16..32].copy_from_slice(&self.ledger_id);
        if self.base_records > 0 {
            h[32..40].copy_from_slice(&self.base_records.to_le_bytes());
            h[40..48].copy_from_slice(&self.base_len.to_le_bytes());
            h[48..52].copy_from_slice(&self.base_crc.to_le_bytes());
        }
        let crc = crc32c::crc32c(&h[..60]);
        h[60..64].copy_from_slice(&crc.to_le_bytes());
        h
    }

    /// Parse a header this build reads, or say why not (`BadHeader`).
    pub fn decode(h: &[u8; 64]) -> Result<Header, JournalError> {
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
        if !matches!(version, VERSION | VERSION_COMPACTED | VERSION_BATCHED) {
            return Err(bad(&format!(
                "format version {version}; this build reads versions {VERSION}, {VERSION_COMPACTED} and {VERSION_BATCHED}"
            )));
        }
        let u64_at = |i: usize| {
            let mut a = [0u8; 8];
            a.copy_from_slice(&h[i..i + 8]);
            u64::from_le_bytes(a)
        };
        let mut ledger_id = [0u8; 16];
        ledger_id.copy_from_slice(&h[16..32]);
        let mut hd = Header::new(ledger_id);
        if version != VERSION_BATCHED {
            hd.framing = Framing::Plain;
        }
        let base = (
            u64_at(32),
            u64_at(40),
            u32::from_le_bytes([h[48], h[49], h[50], h[51]]),
        );
        let has_base =
            version == VERSION_COMPACTED || (version == VERSION_BATCHED && base != (0, 0, 0));
        if has_base {
            (hd.base_records, hd.base_len, hd.base_crc) = base;
            if hd.base_records == 0 || hd.base_len == 0 || hd.base_len > u64::MAX / 2 {
                return Err(bad("a compacted journal's header without a valid base"));
            }
        }
        Ok(hd)
    }

    /// Read and parse the header at offset 0.
    pub fn read<S: Storage>(storage: &mut S) -> Result<Header, JournalError> {
        let mut h = [0u8; 64];
        storage.read_exact_at(0, &mut h)?;
        Header::decode(&h)
    }
}

/// What the start of a storage holds.
pub(super) enum Start {
    /// Nothing that was ever acknowledged: a journal is created (anew).
    Create,
    /// The first 64 bytes, to decode as a header.
    Header([u8; 64]),
}

/// Look at the start of a storage `len` bytes long. A journal is created only on
/// an empty storage, one of at most 64 bytes that are all zero, or one shorter than
/// a header holding a byte-exact prefix of the header this build writes for a new
/// journal (the header is the only thing written before the first sync, so a crash
/// can leave no more of it). Anything else shorter than a header is not a journal
/// (`BadHeader`, left untouched).
pub(super) fn start<S: Storage>(storage: &mut S, len: u64) -> Result<Start, JournalError> {
    let n = len.min(HEADER_LEN) as usize;
    let mut h = [0u8; 64];
    storage.read_exact_at(0, &mut h[..n])?;
    let zero = h[..n].iter().all(|&b| b == 0);
    if len >= HEADER_LEN {
        return Ok(if len == HEADER_LEN && zero {
            Start::Create
        } else {
            Start::Header(h)
        });
    }
    if zero {
        return Ok(Start::Create);
    }
    if h[..n.min(8)] != MAGIC[..n.min(8)] {
        return Err(JournalError::BadHeader {
            reason: format!(
                "a {len}-byte file that does not start with the journal magic `KONTJRNL` (nor is it empty or all zeros): not a journal; it is left untouched"
            ),
        });
    }
    // What a new journal's header has at each offset (`None`: its random id).
    let mut expected = [Some(0u8); 64];
    for (i, e) in expected.iter_mut().enumerate() {
        *e = match i {
            0..=7 => Some(MAGIC[i]),
            8..=9 => Some(VERSION_BATCHED.to_le_bytes()[i - 8]),
            12..=15 => Some((HEADER_LEN as u32).to_le_bytes()[i - 12]),
            16..=31 => None,
            60..=63 => Some(crc32c::crc32c(&h[..60]).to_le_bytes()[i - 60]),
            _ => Some(0),
        };
    }
    for (i, (&b, e)) in h[..n].iter().zip(expected).enumerate() {
        if let Some(e) = e.filter(|&e| e != b) {
            return Err(JournalError::BadHeader {
                reason: format!(
                    "a {len}-byte file whose byte {i} is {b:#04x} where the header of a new journal being written has {e:#04x}: neither a journal nor one being created; it is left untouched"
                ),
            });
        }
    }
    Ok(Start::Create)
}
