//! Where a reservation stands.
//!
//! One lifecycle — held, then confirmed, released or expired — that the ledger's
//! records, the views, the state encoding and the bindings all speak of; it sits
//! in the vocabulary so none of them has to borrow it from another.

use serde::{Deserialize, Serialize};

/// Where a reservation stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReservationState {
    /// Its units are held until `expires_at`; it may still be confirmed or released.
    Held,
    /// Confirmed: its units stay promised until it is released.
    Confirmed,
    /// Released by a command: its units were given back.
    Released,
    /// The hold reached `expires_at` unconfirmed: its units were given back.
    Expired,
}

impl ReservationState {
    /// The name serde writes for it: `"held"`, `"confirmed"`, `"released"`, `"expired"`.
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
