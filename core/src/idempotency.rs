//! The request-id table: the first outcome of every request, kept for the
//! ledger's life, so a retry or double click never reserves twice.

use crate::id::{ReservationId, WaitEntryId};
use crate::outcome::Refusal;
use std::collections::HashMap;
use xxhash_rust::xxh3::Xxh3Builder;

/// The first outcome, stored compactly; held and confirmed outcomes are rebuilt
/// from the reservation, which never changes its units or expiry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Recorded {
    Held(ReservationId),
    Confirmed(ReservationId),
    Waiting(WaitEntryId, u32),
    Refused(Box<Refusal>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    /// 128-bit hash of the request's content (everything but the id).
    pub fingerprint: [u64; 2],
    pub recorded: Recorded,
}

#[derive(Clone, Default)]
pub(crate) struct Requests {
    // A fixed-seed hasher: lookups only, never iterated in hash order.
    table: HashMap<Box<str>, Entry, Xxh3Builder>,
}

impl Requests {
    pub fn get(&self, request_id: &str) -> Option<&Entry> {
        self.table.get(request_id)
    }

    pub fn record(&mut self, request_id: String, fingerprint: [u64; 2], recorded: Recorded) {
        self.table.insert(
            request_id.into_boxed_str(),
            Entry {
                fingerprint,
                recorded,
            },
        );
    }

    /// All entries sorted by request id: the canonical order for the digest.
    pub fn sorted(&self) -> Vec<(&str, &Entry)> {
        let mut v: Vec<_> = self.table.iter().map(|(k, e)| (&**k, e)).collect();
        v.sort_unstable_by(|a, b| a.0.cmp(b.0));
        v
    }
}
