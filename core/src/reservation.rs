//! Reservation: one customer's promised units, and where they stand.
//!
//! The ledger's packed record, kept small because a rush holds millions of them.
//! The lifecycle it moves through is the vocabulary's `ReservationState`; what
//! callers see is a `ReservationView`.

use crate::model::{Millis, OfferId, ReservationState};
use smallvec::SmallVec;

/// One granted line. Quantities are bounded by `LINE_QUANTITY_MAX` (< 2^32).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Line {
    pub offer: OfferId,
    pub quantity: u32,
}

/// Kept small on purpose (40 bytes): a rush holds millions of these.
/// Attributes and the request id are not stored here; see `requests` for the id.
#[derive(Clone, Debug)]
pub(crate) struct Reservation {
    pub expires_at: Millis,
    pub lines: SmallVec<[Line; 1]>,
    pub customer: u32,
    pub channel: u16,
    pub state: ReservationState,
}

impl Reservation {
    pub fn units(&self) -> u64 {
        self.lines.iter().map(|l| u64::from(l.quantity)).sum()
    }
}
