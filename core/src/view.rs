//! Read-only views returned by the ledger's queries.

use crate::command::{Millis, WaitlistPolicy};
use crate::id::{OfferId, PoolId, ReservationId, WaitEntryId};
use serde::{Deserialize, Serialize};

/// A pool's counters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolView {
    pub id: PoolId,
    pub name: String,
    pub capacity: u64,
    pub held: u64,
    pub confirmed: u64,
    /// `capacity - held - confirmed`, or 0 after capacity was lowered below that.
    pub available: u64,
}

/// An offer and how many units of it can be promised now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferView {
    pub id: OfferId,
    pub name: String,
    /// `(pool name, amount per unit)`, in the order defined.
    pub draws: Vec<(String, u64)>,
    pub waitlist: WaitlistPolicy,
    /// Minimum over the draws of `floor(pool available / amount)`.
    pub available: u64,
    /// Entries currently waiting on this offer's list.
    pub waiting: u32,
}

/// Where a reservation stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReservationState {
    Held,
    Confirmed,
    Released,
    Expired,
}

impl ReservationState {
    pub fn as_str(self) -> &'static str {
        match self {
            ReservationState::Held => "held",
            ReservationState::Confirmed => "confirmed",
            ReservationState::Released => "released",
            ReservationState::Expired => "expired",
        }
    }

    /// Held or confirmed: its units count against capacity.
    pub fn is_live(self) -> bool {
        matches!(self, ReservationState::Held | ReservationState::Confirmed)
    }
}

/// A reservation as the ledger knows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReservationView {
    pub id: ReservationId,
    pub customer: String,
    pub channel: String,
    /// `(offer name, quantity)` per line, in request order.
    pub lines: Vec<(String, u64)>,
    pub state: ReservationState,
    /// When the hold expires (or expired). For a direct confirmation, the time it was made.
    pub expires_at: Millis,
}

/// Where a waiting entry stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum WaitState {
    Waiting { position: u32 },
    Promoted { reservation: ReservationId },
    Left,
}

/// A waiting-list entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitEntryView {
    pub entry: WaitEntryId,
    pub offer: String,
    pub customer: String,
    pub quantity: u64,
    pub state: WaitState,
}
