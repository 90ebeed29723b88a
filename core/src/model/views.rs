//! Read-only views returned by the ledger's queries.
//!
//! The ledger's own records are packed for millions of holds and speak in numbers
//! (customer and channel indexes); a view is what a caller may keep: owned, named,
//! serializable, and detached from the state it was read from.

use super::definition::WaitlistPolicy;
use super::ids::{OfferId, PoolId, ReservationId, WaitEntryId};
use super::reservation::ReservationState;
use super::time::Millis;
use serde::{Deserialize, Serialize};

/// A pool's counters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolView {
    /// Its id: pools are numbered 0, 1, 2... in definition order.
    pub id: PoolId,
    /// Pool name (1..=64 bytes), unique among pools.
    pub name: String,
    /// Total units; may be below `held + confirmed` after it was lowered.
    pub capacity: u64,
    /// Units promised by holds that have not expired, been confirmed or released.
    pub held: u64,
    /// Units promised by confirmed reservations.
    pub confirmed: u64,
    /// `capacity - held - confirmed`, or 0 after capacity was lowered below that.
    pub available: u64,
}

/// An offer and how many units of it can be promised now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferView {
    /// Its id: offers are numbered 0, 1, 2... in definition order.
    pub id: OfferId,
    /// Offer name (1..=64 bytes), unique among offers.
    pub name: String,
    /// `(pool name, amount per unit)`, in the order defined.
    pub draws: Vec<(String, u64)>,
    /// How its waiting list is served: only the head (`strict`) or the first entry
    /// that fits (`skip`).
    pub waitlist: WaitlistPolicy,
    /// Minimum over the draws of `floor(pool available / amount)`.
    pub available: u64,
    /// Entries currently waiting on this offer's list.
    pub waiting: u32,
}

/// A reservation as the ledger knows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReservationView {
    /// Its id: reservations are numbered 1, 2, 3... in creation order.
    pub id: ReservationId,
    /// The customer it was made for (private: never in a snapshot or delta).
    pub customer: String,
    /// The sales channel the request came in on (e.g. `web`).
    pub channel: String,
    /// `(offer name, quantity)` per line, in request order.
    pub lines: Vec<(String, u64)>,
    /// Where it stands as of the ledger's time (its last command's `at`): a hold past
    /// `expires_at` shows as held until a command advances time.
    pub state: ReservationState,
    /// When the hold expires (or expired), in ms since the Unix epoch, UTC. For a
    /// direct confirmation, the time it was made.
    pub expires_at: Millis,
}

/// One line of who holds what: a promised reservation's line and one pool it draws
/// from (the operator's export).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holding {
    /// The reservation.
    pub reservation: ReservationId,
    /// `held` or `confirmed`.
    pub state: ReservationState,
    /// The customer (private data: operators only).
    pub customer: String,
    /// The channel it came in on.
    pub channel: String,
    /// The line's offer and quantity.
    pub offer: String,
    /// Offer units of the line.
    pub quantity: u64,
    /// The pool this row is about.
    pub pool: String,
    /// Units of `pool` the line takes (quantity times the offer's draw).
    pub units: u64,
    /// When the hold lapses (for a confirmation, when it was made).
    pub expires_at: Millis,
}

/// Where a waiting entry stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum WaitState {
    /// Still on its offer's list.
    Waiting {
        /// Its place in the list, 1 = head.
        position: u32,
    },
    /// Turned into a hold when units freed up.
    Promoted {
        /// The reservation the promotion created.
        reservation: ReservationId,
    },
    /// Left the list (`leave_waitlist`) before it was promoted.
    Left,
}

/// A waiting-list entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitEntryView {
    /// Its id: entries are numbered 1, 2, 3... across all offers in joining order.
    pub entry: WaitEntryId,
    /// Name of the offer whose list it is on.
    pub offer: String,
    /// The customer waiting (private: never in a snapshot or delta).
    pub customer: String,
    /// Units of the offer asked for; a promotion holds all of them.
    pub quantity: u64,
    /// Waiting (with its position), promoted or left.
    pub state: WaitState,
}
