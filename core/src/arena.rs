//! An append-only store for short strings (request and customer ids).
//!
//! Millions of ids as separate `Box<str>` cost a pointer, a length and an
//! allocation each (32+ bytes for a 9-byte id). Here they are packed into
//! fixed 64 KiB chunks that are never moved, and named by an 8-byte [`StrRef`].

/// Where a string lives: `offset << 8 | len`. Strings are at most 255 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct StrRef(u64);

const CHUNK: usize = 1 << 16;

#[derive(Clone, Default)]
pub(crate) struct Arena {
    chunks: Vec<Vec<u8>>,
}

impl Arena {
    /// Store `s` (at most 255 bytes: ids are bounded far below that by `limits`).
    pub fn push(&mut self, s: &str) -> StrRef {
        debug_assert!(s.len() <= 255);
        let len = s.len().min(255);
        let need_chunk = match self.chunks.last() {
            Some(c) => c.len() + len > CHUNK,
            None => true,
        };
        if need_chunk {
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
        let index = self.chunks.len() - 1;
        let chunk = &mut self.chunks[index];
        let offset = (index * CHUNK + chunk.len()) as u64;
        chunk.extend_from_slice(&s.as_bytes()[..len]);
        StrRef(offset << 8 | len as u64)
    }

    /// The stored bytes: what lookups compare, without re-checking UTF-8.
    pub fn bytes(&self, r: StrRef) -> &[u8] {
        let offset = (r.0 >> 8) as usize;
        let len = (r.0 & 0xff) as usize;
        let chunk = &self.chunks[offset / CHUNK];
        let start = offset % CHUNK;
        &chunk[start..start + len]
    }

    pub fn get(&self, r: StrRef) -> &str {
        // Only whole `&str`s are pushed, so the bytes are valid UTF-8.
        std::str::from_utf8(self.bytes(r)).unwrap_or_default()
    }
}
