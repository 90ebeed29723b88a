//! Waiting-list entries. The per-offer FIFO order lives in `Offer::waiting`.
//!
//! The ledger's record of one entry (callers see a `WaitEntryView`); how lists
//! are joined, left and served is `ledger/waitlist.rs`.

use crate::model::{OfferId, ReservationId};

/// Where a waiting entry stands (its public form is [`crate::WaitState`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WaitEntryState {
    Waiting,
    Promoted(ReservationId),
    Left,
}

#[derive(Clone, Debug)]
pub(crate) struct WaitEntry {
    pub offer: OfferId,
    pub quantity: u64,
    pub customer: u32,
    pub channel: u16,
    pub hold_ms: u64,
    pub state: WaitEntryState,
    /// The position reported when it joined (repeats of the request return it).
    pub joined_at_position: u32,
}
