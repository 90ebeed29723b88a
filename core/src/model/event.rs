//! Events: the gap-free, numbered stream of everything that changed.
//!
//! Events name reservations, waiting entries and pools by id, never customers,
//! so they can feed webhooks and (through [`crate::availability::Delta`]) browsers.

use super::definition::WaitlistPolicy;
use super::ids::{OfferId, PoolId, ReservationId, WaitEntryId};
use super::time::Millis;
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

/// How much a change moved one pool's counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolAmount {
    /// The pool whose counters moved.
    pub pool: PoolId,
    /// How far, in the pool's units (per offer unit in [`EventKind::OfferDefined`]).
    pub amount: u64,
}

/// The pools a reservation draws from, aggregated per pool, in pool-id order.
pub type PoolAmounts = SmallVec<[PoolAmount; 2]>;

/// One numbered event. `seq` starts at 1 and has no gaps.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Position in the stream: a consumer resumes after the last `seq` it saw.
    pub seq: u64,
    /// Logical time of the change, ms since the Unix epoch, UTC (an expiry, and
    /// promotions it causes, happen at its `expires_at`).
    pub at: Millis,
    /// What happened.
    pub kind: EventKind,
}

/// Where confirmed or released units came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// Not promised before this change.
    New,
    /// Held before this change.
    Held,
    /// Confirmed before this change.
    Confirmed,
}

/// What changed, tagged by `type` in snake_case (`held`, `waitlist_joined`...).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    /// A catalog was loaded or changed; the pool and offer events follow.
    CatalogLoaded {
        /// The catalog's `name` (empty if the file gives none).
        name: String,
    },
    /// A new pool exists; events name it by `pool` from now on.
    PoolDefined {
        /// Its id, the next in definition order (from 0).
        pool: PoolId,
        /// Its name, as commands and catalogs give it.
        name: String,
        /// Its capacity, in the pool's units.
        capacity: u64,
    },
    /// A new offer exists, with draws that never change.
    OfferDefined {
        /// Its id, the next in definition order (from 0).
        offer: OfferId,
        /// Its name, as requests give it.
        name: String,
        /// What one unit of the offer draws from each pool, in pool-id order.
        draws: Vec<PoolAmount>,
        /// How its waiting list is served.
        waitlist: WaitlistPolicy,
    },
    /// A pool's capacity changed (not emitted when the value stayed the same).
    CapacityChanged {
        /// The pool whose capacity changed.
        pool: PoolId,
        /// Its new capacity, in the pool's units; lowering it revoked nothing.
        capacity: u64,
    },
    /// The hold duration for requests that name none changed.
    DefaultHoldChanged {
        /// The new default, in milliseconds.
        hold_ms: u64,
    },
    /// Units moved to `held` in `pools`.
    Held {
        /// The new hold.
        reservation: ReservationId,
        /// When it lapses unless confirmed, ms since the Unix epoch, UTC.
        expires_at: Millis,
        /// What it takes from each pool, in the pool's units.
        pools: PoolAmounts,
        /// The reservation's sales channel, numbered in the order the ledger first met
        /// channels (as in [`crate::availability::ShareLevel`]): channel shares follow it.
        channel: u16,
    },
    /// Units moved from `from` (`New` or `Held`) to `confirmed`.
    Confirmed {
        /// The confirmed reservation (a new id when `from` is `New`).
        reservation: ReservationId,
        /// `New` for a direct confirmation, `Held` when a hold was confirmed.
        from: Standing,
        /// What it takes from each pool, in the pool's units.
        pools: PoolAmounts,
        /// The reservation's sales channel, numbered in the order the ledger first met
        /// channels (as in [`crate::availability::ShareLevel`]): channel shares follow it.
        channel: u16,
    },
    /// Units left `from` (`Held` or `Confirmed`) and are free again.
    Released {
        /// The released reservation.
        reservation: ReservationId,
        /// Whether it was held or confirmed until now.
        from: Standing,
        /// What it gives back to each pool, in the pool's units.
        pools: PoolAmounts,
        /// The reservation's sales channel, numbered in the order the ledger first met
        /// channels (as in [`crate::availability::ShareLevel`]): channel shares follow it.
        channel: u16,
    },
    /// A hold reached its expiry; its units are free again.
    Expired {
        /// The hold that lapsed (it can no longer be confirmed).
        reservation: ReservationId,
        /// What it gives back to each pool, in the pool's units.
        pools: PoolAmounts,
        /// The reservation's sales channel, numbered in the order the ledger first met
        /// channels (as in [`crate::availability::ShareLevel`]): channel shares follow it.
        channel: u16,
    },
    /// A sold-out request joined its offer's waiting list; nothing is held.
    WaitlistJoined {
        /// The new entry, numbered across all offers in joining order.
        entry: WaitEntryId,
        /// The offer whose list it joined.
        offer: OfferId,
        /// Offer units it waits for, all or nothing.
        quantity: u64,
        /// Its place on the list when it joined (1 = head).
        position: u32,
    },
    /// A waiting entry left its list at the customer's request (not on promotion).
    WaitlistLeft {
        /// The entry that left.
        entry: WaitEntryId,
        /// The offer whose list it left.
        offer: OfferId,
    },
    /// A waiting entry became a hold: notify the customer.
    Promoted {
        /// The entry that was served and left its list.
        entry: WaitEntryId,
        /// The new hold it became: the customer confirms or releases it by this id.
        reservation: ReservationId,
        /// When the new hold lapses unless confirmed, ms since the Unix epoch, UTC.
        expires_at: Millis,
        /// What it takes from each pool, in the pool's units.
        pools: PoolAmounts,
        /// The reservation's sales channel, numbered in the order the ledger first met
        /// channels (as in [`crate::availability::ShareLevel`]): channel shares follow it.
        channel: u16,
    },
    /// Intake stopped: new requests are refused `paused` until `Resumed`.
    Paused,
    /// Intake resumed; promotions of waiting entries may follow.
    Resumed,
}
