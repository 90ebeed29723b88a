//! The 64-byte file header (`docs/FORMAT.md`, "File header"): which journal this
//! is, and where its records start.

use super::JournalError;
use crate::storage::Storage;
use std::io;

/// Bytes 0..8 of every journal header.
pub const MAGIC: &[u8; 8] = b"KONTJRNL";
/// The version written for a journal that starts at record 1.
pub const VERSION: u16 = 1;
/// The version written for a compacted journal (it starts with a base state).
pub const VERSION_COMPACTED: u16 = 2;
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
}

impl Header {
    /// The header of a journal that starts at record 1.
    pub fn new(ledger_id: [u8; 16]) -> Header {
        Header {
            ledger_id,
            base_records: 0,
            base_len: 0,
            base_crc: 0,
        }
    }

    /// Where the first record starts.
    pub fn records_start(&self) -> u64 {
        HEADER_LEN + self.base_len
    }

    /// The 64 bytes on disk; the version follows from whether there is a base.
    pub fn encode(&self) -> [u8; 64] {
        let mut h = [0u8; 64];
        h[..8].copy_from_slice(MAGIC);
        let version = if self.base_records == 0 {
            VERSION
        } else {
            VERSION_COMPACTED
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
        let mut hd = Header::new(ledger_id);
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

    /// Read and parse the header at offset 0.
    pub fn read<S: Storage>(storage: &mut S) -> Result<Header, JournalError> {
        let mut h = [0u8; 64];
        storage.read_exact_at(0, &mut h)?;
        Header::decode(&h)
    }
}

/// The first 64 bytes of a storage `len` bytes long, if it has them.
pub(super) fn first_bytes<S: Storage>(storage: &mut S, len: u64) -> io::Result<Option<[u8; 64]>> {
    if len < HEADER_LEN {
        return Ok(None);
    }
    let mut h = [0u8; 64];
    storage.read_exact_at(0, &mut h)?;
    Ok(Some(h))
}

/// Given a storage's first 64 bytes: is this a journal whose creation was
/// interrupted? A zeroed header with nothing after it is (the header is synced
/// before any record is written), as is a storage shorter than a header (which
/// has no first 64 bytes). Nothing in it was ever acknowledged, so opening
/// creates it anew.
pub(super) fn interrupted_creation(len: u64, h: &[u8; 64]) -> bool {
    len == HEADER_LEN && h.iter().all(|&b| b == 0)
}
