//! Events: the gap-free, numbered stream of everything that changed.
//!
//! Events name reservations, waiting entries and pools by id, never customers,
//! so they can feed webhooks and (through [`crate::availability::Delta`]) browsers.

use crate::command::{Millis, WaitlistPolicy};
use crate::id::{OfferId, PoolId, ReservationId, WaitEntryId};
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

/// How much a change moved one pool's counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolAmount {
    pub pool: PoolId,
    pub amount: u64,
}

/// The pools a reservation draws from, aggregated per pool, in pool-id order.
pub type PoolAmounts = SmallVec<[PoolAmount; 2]>;

/// One numbered event. `seq` starts at 1 and has no gaps.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub seq: u64,
    /// Logical time of the change (an expiry happens at its `expires_at`).
    pub at: Millis,
    pub kind: EventKind,
}

/// Where confirmed or released units came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// Not promised before this change.
    New,
    Held,
    Confirmed,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    /// A catalog was loaded or changed; the pool and offer events follow.
    CatalogLoaded {
        name: String,
    },
    PoolDefined {
        pool: PoolId,
        name: String,
        capacity: u64,
    },
    OfferDefined {
        offer: OfferId,
        name: String,
        draws: Vec<PoolAmount>,
        waitlist: WaitlistPolicy,
    },
    CapacityChanged {
        pool: PoolId,
        capacity: u64,
    },
    DefaultHoldChanged {
        hold_ms: u64,
    },
    /// Units moved to `held` in `pools`.
    Held {
        reservation: ReservationId,
        expires_at: Millis,
        pools: PoolAmounts,
        /// The reservation's sales channel (index into the catalog's channels):
        /// channel shares follow it.
        channel: u16,
    },
    /// Units moved from `from` (`New` or `Held`) to `confirmed`.
    Confirmed {
        reservation: ReservationId,
        from: Standing,
        pools: PoolAmounts,
        /// The reservation's sales channel (index into the catalog's channels):
        /// channel shares follow it.
        channel: u16,
    },
    /// Units left `from` (`Held` or `Confirmed`) and are free again.
    Released {
        reservation: ReservationId,
        from: Standing,
        pools: PoolAmounts,
        /// The reservation's sales channel (index into the catalog's channels):
        /// channel shares follow it.
        channel: u16,
    },
    /// A hold reached its expiry; its units are free again.
    Expired {
        reservation: ReservationId,
        pools: PoolAmounts,
        /// The reservation's sales channel (index into the catalog's channels):
        /// channel shares follow it.
        channel: u16,
    },
    WaitlistJoined {
        entry: WaitEntryId,
        offer: OfferId,
        quantity: u64,
        position: u32,
    },
    WaitlistLeft {
        entry: WaitEntryId,
        offer: OfferId,
    },
    /// A waiting entry became a hold: notify the customer.
    Promoted {
        entry: WaitEntryId,
        reservation: ReservationId,
        expires_at: Millis,
        pools: PoolAmounts,
        /// The reservation's sales channel (index into the catalog's channels):
        /// channel shares follow it.
        channel: u16,
    },
    Paused,
    Resumed,
}
