//! A canonical byte encoding and the state digest built on it.
//!
//! The encoding is fixed-width little-endian integers and length-prefixed
//! strings, written in id order (never hash order), so equal states encode
//! to equal bytes on every platform.

use serde::{Deserialize, Serialize};
use std::fmt;
use xxhash_rust::xxh3::Xxh3;

/// A 128-bit XXH3 hash of the ledger's canonical encoding. Two ledgers with
/// equal digests are, with overwhelming probability, in equal states. It is a
/// comparison aid for replicas and replays, not a cryptographic commitment.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Digest(pub u128);

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({self})")
    }
}

/// Something canonical bytes can be written to.
pub(crate) trait Sink {
    fn bytes(&mut self, b: &[u8]);

    fn u8(&mut self, v: u8) {
        self.bytes(&[v]);
    }
    fn u32(&mut self, v: u32) {
        self.bytes(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.bytes(&v.to_le_bytes());
    }
    fn str(&mut self, s: &str) {
        // Lengths are bounded far below u32::MAX by `limits`.
        self.u32(s.len() as u32);
        self.bytes(s.as_bytes());
    }
    fn bool(&mut self, v: bool) {
        self.u8(u8::from(v));
    }
}

impl Sink for Xxh3 {
    fn bytes(&mut self, b: &[u8]) {
        self.update(b);
    }
}

impl Sink for Vec<u8> {
    fn bytes(&mut self, b: &[u8]) {
        self.extend_from_slice(b);
    }
}

/// A scratch buffer on the stack that spills to the heap only for large inputs:
/// request fingerprints are hashed from one of these on every reservation.
pub(crate) struct StackBuf {
    inline: [u8; 512],
    len: usize,
    spill: Vec<u8>,
}

impl StackBuf {
    pub fn new() -> Self {
        StackBuf {
            inline: [0; 512],
            len: 0,
            spill: Vec::new(),
        }
    }

    pub fn as_slice(&self) -> &[u8] {
        if self.spill.is_empty() {
            &self.inline[..self.len]
        } else {
            &self.spill
        }
    }
}

impl Sink for StackBuf {
    #[inline]
    fn bytes(&mut self, b: &[u8]) {
        if self.spill.is_empty() {
            if let Some(dst) = self.inline.get_mut(self.len..self.len + b.len()) {
                dst.copy_from_slice(b);
                self.len += b.len();
                return;
            }
            self.spill.extend_from_slice(&self.inline[..self.len]);
        }
        self.spill.extend_from_slice(b);
    }
}
