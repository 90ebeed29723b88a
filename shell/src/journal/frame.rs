//! Records (`docs/FORMAT.md`, "Records"): a 16-byte frame (length, CRC, sequence
//! number) around one encoded command — in a version-3 journal also the record's
//! position in its group commit — written in groups and read back through a
//! read-ahead window.

use crate::codec::{self, Tag};
use crate::storage::Storage;
use crate::Command;
use std::io;
use thiserror::Error;

/// Bytes before a record's payload: length, CRC, sequence number.
pub const FRAME_LEN: u64 = 16;
/// Largest payload of one record.
pub const PAYLOAD_MAX: u64 = 16 << 20;

/// How a journal frames its records; its header's version says which.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Framing {
    /// Versions 1 and 2: length, CRC, sequence number, payload.
    Plain,
    /// Version 3: after the sequence number, a `u32` position in the record's group
    /// commit (records before it in the same write), covered by the CRC and counted
    /// in the length field. A new journal is written so.
    #[default]
    Batched,
}

impl Framing {
    /// Bytes between the 16-byte frame and the command: the position field.
    pub const fn pos_len(self) -> u64 {
        match self {
            Framing::Plain => 0,
            Framing::Batched => 4,
        }
    }

    /// The smallest length field a writer writes (at least one payload byte).
    pub const fn min_len(self) -> u64 {
        self.pos_len() + 1
    }
}

/// Append `cmd` as a record numbered `seq` to `out`, framed as `framing` says;
/// `pos` is its position in its group commit (records before it in the same
/// write; not stored by [`Framing::Plain`]).
pub fn frame(framing: Framing, seq: u64, pos: u32, cmd: &Command, out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&[0u8; 8]);
    out.extend_from_slice(&seq.to_le_bytes());
    if framing == Framing::Batched {
        out.extend_from_slice(&pos.to_le_bytes());
    }
    codec::encode(cmd, out);
    let n = (out.len() - start - FRAME_LEN as usize) as u32;
    let crc = crc32c::crc32c(&out[start + 8..]);
    out[start..start + 4].copy_from_slice(&n.to_le_bytes());
    out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
}

/// Refuse a framed record that a reader would not accept back: longer than
/// [`PAYLOAD_MAX`], or a catalog beyond the decoder's limit.
pub fn check_frame(framing: Framing, framed: &[u8]) -> Result<(), crate::Error> {
    let n = framed.len() as u64 - FRAME_LEN;
    if n > PAYLOAD_MAX {
        return Err(crate::Error::TooLong {
            field: "command".into(),
            len: n as usize,
            max: PAYLOAD_MAX as usize,
        });
    }
    let payload = &framed[(FRAME_LEN + framing.pos_len()) as usize..];
    if Tag::peek(payload) == Some(Tag::LoadCatalog) {
        // A catalog: make sure it decodes within the limits it will be read with.
        codec::decode(payload).map_err(|e| crate::Error::TooLong {
            field: format!("catalog ({e})"),
            len: n as usize,
            max: codec::CATALOG_JSON_MAX,
        })?;
    }
    Ok(())
}

/// The three fields of a frame, as stored (not yet checked).
#[derive(Clone, Copy, Debug)]
pub(super) struct FrameHead {
    /// Payload length.
    pub len: u64,
    pub crc: u32,
    pub seq: u64,
}

impl FrameHead {
    /// Parse the first [`FRAME_LEN`] bytes of `f`.
    pub fn parse(f: &[u8]) -> FrameHead {
        let mut seq = [0u8; 8];
        seq.copy_from_slice(&f[8..16]);
        FrameHead {
            len: u64::from(u32::from_le_bytes([f[0], f[1], f[2], f[3]])),
            crc: u32::from_le_bytes([f[4], f[5], f[6], f[7]]),
            seq: u64::from_le_bytes(seq),
        }
    }

    /// A length a writer could have written.
    pub fn len_in_bounds(&self, framing: Framing) -> bool {
        self.len >= framing.min_len() && self.len <= PAYLOAD_MAX
    }
}

/// What is wrong with the bytes where a record should start: the first column
/// of the decision table ([`super::recovery`]).
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub(super) enum Flaw {
    /// Fewer than [`FRAME_LEN`] bytes are left.
    #[error("incomplete record frame")]
    ShortFrame,
    /// The length field is below what a writer writes (0; under 5 in version 3)
    /// or above [`PAYLOAD_MAX`].
    #[error("bad record length {0}")]
    BadLength(u64),
    /// The length runs past the end of the file.
    #[error("record runs past the end of the file")]
    PastEnd,
    /// The CRC does not match the bytes.
    #[error("checksum mismatch")]
    Checksum,
    /// A whole, CRC-valid record, but not the next one.
    #[error("record number {found} where {expected} was expected")]
    Sequence {
        /// The sequence number stored.
        found: u64,
        /// The one that was due.
        expected: u64,
    },
}

/// The outcome of reading one record at an offset.
pub(super) enum Read {
    /// A record whose CRC matches; its payload is
    /// `[at + FRAME_LEN + framing.pos_len(), at + len)`.
    Record {
        seq: u64,
        /// Its position in its group commit (0 in a [`Framing::Plain`] journal,
        /// which does not store it).
        pos: u32,
        /// Frame and payload.
        len: u64,
        /// The CRC as stored in its frame (what a checkpoint pins itself to).
        crc: u32,
    },
    /// The end of the file, exactly.
    End,
    /// No record starts here.
    Invalid(Flaw),
}

/// A read-ahead window over the storage: replay reads the journal in large
/// chunks instead of two small reads per record.
pub(super) struct Window {
    data: Vec<u8>,
    base: u64,
    framing: Framing,
}

const READ_AHEAD: u64 = 4 << 20;

impl Window {
    /// An empty window over a journal framed as `framing` says.
    pub fn new(framing: Framing) -> Window {
        Window {
            data: Vec::new(),
            base: 0,
            framing,
        }
    }

    /// How the journal under this window frames its records.
    pub fn framing(&self) -> Framing {
        self.framing
    }

    /// The bytes `[at, at + len)`; the caller checked they are inside the file.
    pub fn get<S: Storage>(
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

    /// The record starting at `at`, in a file of `file_len` bytes.
    pub fn record<S: Storage>(&mut self, s: &mut S, at: u64, file_len: u64) -> io::Result<Read> {
        if file_len < at {
            return Err(io::Error::other(format!(
                "the journal is {file_len} bytes, shorter than the {at} already read: truncated by someone else"
            )));
        }
        if at == file_len {
            return Ok(Read::End);
        }
        if file_len - at < FRAME_LEN {
            return Ok(Read::Invalid(Flaw::ShortFrame));
        }
        let head = FrameHead::parse(self.get(s, at, FRAME_LEN, file_len)?);
        if !head.len_in_bounds(self.framing) {
            return Ok(Read::Invalid(Flaw::BadLength(head.len)));
        }
        if file_len - at - FRAME_LEN < head.len {
            return Ok(Read::Invalid(Flaw::PastEnd));
        }
        let framing = self.framing;
        let record = self.get(s, at, FRAME_LEN + head.len, file_len)?;
        if crc32c::crc32c(&record[8..]) != head.crc {
            return Ok(Read::Invalid(Flaw::Checksum));
        }
        let pos = match framing {
            Framing::Plain => 0,
            Framing::Batched => {
                u32::from_le_bytes([record[16], record[17], record[18], record[19]])
            }
        };
        Ok(Read::Record {
            seq: head.seq,
            pos,
            len: FRAME_LEN + head.len,
            crc: head.crc,
        })
    }
}
