//! Outcomes: what a valid command did. A refusal is an outcome, not an error.

use crate::command::Millis;
use crate::id::{ReservationId, WaitEntryId};
use serde::{Deserialize, Serialize};

/// The result of a valid command. Business refusals live here as [`Outcome::Refused`];
/// only invalid commands are `Err`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// Units are held until `expires_at`; `units` is the total over all lines
    /// (with `up_to`, what was actually granted).
    Held {
        reservation: ReservationId,
        expires_at: Millis,
        units: u64,
    },
    /// Units are confirmed for good (until released).
    Confirmed {
        reservation: ReservationId,
        units: u64,
    },
    /// The reservation's units were given back.
    Released { reservation: ReservationId },
    /// Sold out; the request waits at `position` (1 = next) on its offer's list.
    Waiting { entry: WaitEntryId, position: u32 },
    /// The waiting entry left its list.
    Left { entry: WaitEntryId },
    /// The waiting entry could not leave: it had already become this hold
    /// (possibly in the very time step of the request). Release it if unwanted.
    Promoted {
        entry: WaitEntryId,
        reservation: ReservationId,
    },
    /// No, with a reason a UI can show.
    Refused(Refusal),
    /// An administrative command took effect (define, capacity, pause, resume, tick).
    Done,
}

impl Outcome {
    /// True for `held` and `confirmed`: units were promised.
    pub fn is_promise(&self) -> bool {
        matches!(self, Outcome::Held { .. } | Outcome::Confirmed { .. })
    }
}

/// Why a request was refused. Machine-readable, with the details a UI needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Refusal {
    /// `pool` has only `left` where `requested` (in the pool's units) was needed.
    SoldOut {
        pool: String,
        requested: u64,
        left: u64,
    },
    /// The customer already uses `used` of `limit` under the rule `name`.
    CustomerLimit { name: String, limit: u64, used: u64 },
    /// Sales open at `opens_at`.
    NotOpenYet { opens_at: Millis },
    /// Sales closed at `closed_at`.
    Closed { closed_at: Millis },
    /// Intake is paused.
    Paused,
    /// An order-intake rule said no.
    Rule { name: String, detail: String },
    /// The hold expired at `expired_at`; it can no longer be confirmed or released.
    HoldExpired { expired_at: Millis },
}

impl Refusal {
    /// Stable snake_case code, the same in Rust, Python and JS.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::SoldOut { .. } => "sold_out",
            Refusal::CustomerLimit { .. } => "customer_limit",
            Refusal::NotOpenYet { .. } => "not_open_yet",
            Refusal::Closed { .. } => "closed",
            Refusal::Paused => "paused",
            Refusal::Rule { .. } => "rule",
            Refusal::HoldExpired { .. } => "hold_expired",
        }
    }
}
