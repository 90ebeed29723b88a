//! Outcomes: what a valid command did. A refusal is an outcome, not an error.
//!
//! A refusal is part of the history (a repeated request gets it again; events
//! and UIs show it), so it lives beside the successes, with the details a UI
//! needs to explain the "no".

use super::ids::{ReservationId, WaitEntryId};
use super::time::Millis;
use serde::{Deserialize, Serialize};

/// The result of a valid command. Business refusals live here as [`Outcome::Refused`];
/// only invalid commands are `Err`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// Units are held until `expires_at`; `units` is the total over all lines
    /// (with `up_to`, what was actually granted).
    Held {
        /// The new hold's id: confirm or release it by this id.
        reservation: ReservationId,
        /// When the hold lapses, ms since the Unix epoch, UTC: held before it, expired from it on.
        expires_at: Millis,
        /// Offer units granted, summed over the lines.
        units: u64,
    },
    /// Units are confirmed for good (until released).
    Confirmed {
        /// The confirmed reservation (new for a direct confirmation, else the hold's id).
        reservation: ReservationId,
        /// Offer units confirmed, summed over the lines.
        units: u64,
    },
    /// The reservation's units were given back (or had been already: idempotent).
    Released {
        /// The released reservation.
        reservation: ReservationId,
    },
    /// Sold out; the request waits at `position` (1 = next) on its offer's list.
    Waiting {
        /// The new waiting entry: leave the list by this id.
        entry: WaitEntryId,
        /// Place on the list when it joined (1 = head); a repeat reports the same number.
        position: u32,
    },
    /// The waiting entry left its list.
    Left {
        /// The entry that is no longer waiting.
        entry: WaitEntryId,
    },
    /// The waiting entry could not leave: it had already become this hold
    /// (possibly in the very time step of the request). Release it if unwanted.
    Promoted {
        /// The entry the command asked to take off its list.
        entry: WaitEntryId,
        /// The hold it became: release this if the customer no longer wants it.
        reservation: ReservationId,
    },
    /// No, with a reason a UI can show.
    Refused(Refusal),
    /// An administrative command took effect, or was a no-op (load catalog, define,
    /// capacity, default hold, pause, resume, tick).
    Done,
}

impl Outcome {
    /// True for `held` and `confirmed`: units were promised.
    pub fn is_promise(&self) -> bool {
        matches!(self, Outcome::Held { .. } | Outcome::Confirmed { .. })
    }

    /// The stable snake_case status, the `status` field of the wire form (shells
    /// count outcomes by it without building the JSON).
    pub fn status(&self) -> &'static str {
        match self {
            Outcome::Held { .. } => "held",
            Outcome::Confirmed { .. } => "confirmed",
            Outcome::Released { .. } => "released",
            Outcome::Waiting { .. } => "waiting",
            Outcome::Left { .. } => "left",
            Outcome::Promoted { .. } => "promoted",
            Outcome::Refused(_) => "refused",
            Outcome::Done => "done",
        }
    }
}

/// Why a request was refused. Machine-readable, with the details a UI needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Refusal {
    /// `pool` has only `left` where `requested` (in the pool's units) was needed.
    SoldOut {
        /// The first pool, in pool-id order, that had too little left.
        pool: String,
        /// What the request needed from it, in the pool's units (summed over its lines).
        requested: u64,
        /// What was available to the request's channel (after channel shares), in the
        /// pool's units.
        left: u64,
    },
    /// The customer already uses `used` of `limit` under the rule `name`.
    CustomerLimit {
        /// The catalog rule's name, e.g. `three-per-customer`.
        name: String,
        /// The rule's limit, in its measure: offer units, value (minor units) or pool units.
        limit: u64,
        /// What the customer already holds or has confirmed under it, before this request.
        used: u64,
    },
    /// Sales open at `opens_at`.
    NotOpenYet {
        /// Start of the campaign's or offer's sales window (inclusive), ms since the
        /// Unix epoch, UTC.
        opens_at: Millis,
    },
    /// Sales closed at `closed_at`.
    Closed {
        /// End of the sales window, or a slot's start, ms since the Unix epoch, UTC (exclusive).
        closed_at: Millis,
    },
    /// Intake is paused.
    Paused,
    /// An order-intake rule said no.
    Rule {
        /// The catalog rule's name, or `lead_time` / `same_day_cutoff` for a slot.
        name: String,
        /// Human-readable explanation, e.g. `minimum order value 2000, order is worth 1500`.
        detail: String,
    },
    /// The hold expired at `expired_at`; it can no longer be confirmed or released.
    HoldExpired {
        /// The hold's `expires_at`, ms since the Unix epoch, UTC.
        expired_at: Millis,
    },
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
