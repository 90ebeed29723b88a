//! The request-id table: the first outcome of every request, kept for the
//! ledger's life, so a retry or double click never reserves twice.
//!
//! Records live in a dense `Vec` in arrival order (also their canonical order
//! for the digest), ids in an [`Arena`], and the hash index holds only
//! positions. Each record keeps its key's hash, so growing the index never
//! touches the ids themselves.

use crate::arena::{Arena, StrRef};
use crate::model::{Refusal, ReservationId, WaitEntryId};
use hashbrown::HashTable;
use xxhash_rust::xxh3::xxh3_64;

/// The first outcome, packed into 8 bytes: a 2-bit tag and a 62-bit number.
/// Held and confirmed outcomes are rebuilt from the reservation (whose units and
/// expiry never change), a waiting outcome from the entry, a refusal from `refusals`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Recorded(u64);

const TAG_SHIFT: u32 = 62;
const VALUE_MASK: u64 = (1 << TAG_SHIFT) - 1;

/// A [`Recorded`] first outcome, unpacked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RecordedOutcome {
    Held(ReservationId),
    Confirmed(ReservationId),
    Waiting(WaitEntryId),
    Refused(usize),
}

impl Recorded {
    // Ids and indexes stay far below 2^62: each needs a record in memory.
    pub fn held(id: ReservationId) -> Self {
        Recorded(id.0 & VALUE_MASK)
    }
    pub fn confirmed(id: ReservationId) -> Self {
        Recorded(1 << TAG_SHIFT | (id.0 & VALUE_MASK))
    }
    pub fn waiting(id: WaitEntryId) -> Self {
        Recorded(2 << TAG_SHIFT | (id.0 & VALUE_MASK))
    }
    fn refused(index: usize) -> Self {
        Recorded(3 << TAG_SHIFT | (index as u64 & VALUE_MASK))
    }

    pub fn unpack(self) -> RecordedOutcome {
        let v = self.0 & VALUE_MASK;
        match self.0 >> TAG_SHIFT {
            0 => RecordedOutcome::Held(ReservationId(v)),
            1 => RecordedOutcome::Confirmed(ReservationId(v)),
            2 => RecordedOutcome::Waiting(WaitEntryId(v)),
            _ => RecordedOutcome::Refused(v as usize),
        }
    }
}

/// One known request id: where its bytes are, its hash, and what it got first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RequestRecord {
    key: StrRef,
    hash: u64,
    /// 64-bit hash of the request's content (everything but the id). A collision
    /// (2^-64) could only hide a misuse: the first outcome is returned instead of
    /// `RequestIdReused`; nothing is ever reserved twice.
    pub fingerprint: u64,
    pub recorded: Recorded,
}

/// What a request is recorded as, before the table assigns a refusal its slot.
pub(crate) enum First {
    Recorded(Recorded),
    Refused(Refusal),
}

#[derive(Clone, Default)]
pub(crate) struct Requests {
    records: Vec<RequestRecord>,
    ids: Arena,
    index: HashTable<u32>,
    refusals: Vec<Refusal>,
}

/// The lookup hash of a request id (fixed seed: lookups only, never iterated).
pub(crate) fn hash_id(request_id: &str) -> u64 {
    xxh3_64(request_id.as_bytes())
}

impl Requests {
    pub fn get(&self, request_id: &str, hash: u64) -> Option<&RequestRecord> {
        self.index
            .find(hash, |&i| {
                let e = &self.records[i as usize];
                e.hash == hash && self.ids.bytes(e.key) == request_id.as_bytes()
            })
            .map(|&i| &self.records[i as usize])
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Make room for `n` more requests without rehashing (replay knows roughly how many).
    pub fn reserve(&mut self, n: usize) {
        self.records.reserve(n);
        let records = &self.records;
        self.index.reserve(n, |&j| records[j as usize].hash);
    }

    /// Remember a new request id. The caller checked that it is new and that
    /// fewer than `REQUESTS_MAX` (< 2^32) are known.
    pub fn record(&mut self, request_id: &str, hash: u64, fingerprint: u64, first: First) {
        let recorded = match first {
            First::Recorded(r) => r,
            First::Refused(refusal) => {
                self.refusals.push(refusal);
                Recorded::refused(self.refusals.len() - 1)
            }
        };
        let i = self.records.len() as u32;
        let key = self.ids.push(request_id);
        self.records.push(RequestRecord {
            key,
            hash,
            fingerprint,
            recorded,
        });
        let records = &self.records;
        self.index
            .insert_unique(hash, i, |&j| records[j as usize].hash);
    }

    pub fn refusal(&self, index: usize) -> &Refusal {
        &self.refusals[index]
    }

    pub fn request_id(&self, e: &RequestRecord) -> &str {
        self.ids.get(e.key)
    }

    /// Entries in arrival order: the canonical order for the digest.
    pub fn iter(&self) -> impl Iterator<Item = &RequestRecord> {
        self.records.iter()
    }
}
