//! Errors: invalid commands and misuse. An `Err` never changes the ledger.
//!
//! Kept apart from refusals on purpose: a refusal is a normal answer (sold out,
//! closed) that is recorded and repeated; an error says the command itself was
//! wrong and leaves no trace, so the caller can correct it and try again. Each
//! has a stable `code()` that the bindings pass on.

use super::catalog::Issue;
use super::ids::{ReservationId, WaitEntryId};
use super::quote::{bound, bound_path, quote};
use super::time::Millis;
use thiserror::Error;

/// Why a command was rejected as invalid. The ledger is unchanged after any of these.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum Error {
    /// The command's `at` is older than the ledger's time (the previous valid command's `at`).
    #[error("command at {at} ms is older than the previous command at {last} ms")]
    TimeWentBackwards {
        /// The rejected command's time, ms since the Unix epoch, UTC.
        at: Millis,
        /// The ledger's time, ms since the Unix epoch, UTC: a retry needs `at >= last`.
        last: Millis,
    },
    /// A number is above its bound (`at`, a capacity, a quantity, a draw amount, a hold).
    #[error("{}: value {value} is out of range (max {max})", bound_path(field))]
    OutOfRange {
        /// Path of the offending input, e.g. `lines[0].quantity`, for a UI to point at.
        field: String,
        /// The value given.
        value: u64,
        /// The largest value accepted (inclusive).
        max: u64,
    },
    /// A number that must be at least 1 is 0 (a quantity, a draw amount, a hold).
    #[error("{}: must not be zero", bound_path(field))]
    Zero {
        /// Path of the offending input, e.g. `draws[1].amount`.
        field: String,
    },
    /// A name, id or list that needs at least one byte or item has none.
    #[error("{}: must not be empty", bound_path(field))]
    Empty {
        /// Path of the offending input, e.g. `customer` or `lines`.
        field: String,
    },
    /// A string is longer than its limit in bytes (UTF-8, not characters).
    #[error("{}: {len} bytes is longer than the limit of {max}", bound_path(field))]
    TooLong {
        /// Path of the offending input, e.g. `request_id` or `attributes.zip`.
        field: String,
        /// Its length, in bytes.
        len: usize,
        /// The longest length accepted, in bytes.
        max: usize,
    },
    /// A list is longer than its limit, or a ledger table (pools, offers, channels,
    /// customers, requests) would grow beyond its limit.
    #[error("{}: {count} items is more than the limit of {max}", bound_path(field))]
    TooMany {
        /// The list or table, e.g. `lines` or `pools`.
        field: String,
        /// How many items there are, or would be after this command.
        count: usize,
        /// The most items accepted.
        max: usize,
    },
    /// A command names a pool the ledger does not have.
    #[error("{}: unknown pool {}", bound_path(field), quote(name))]
    UnknownPool {
        /// Where the name was given, e.g. `pool` or `draws[0].pool`.
        field: String,
        /// The pool name that was not found.
        name: String,
    },
    /// A command or query names an offer the ledger does not have.
    #[error("{}: unknown offer {}", bound_path(field), quote(name))]
    UnknownOffer {
        /// Where the name was given, e.g. `lines[2].offer`.
        field: String,
        /// The offer name that was not found.
        name: String,
    },
    /// No reservation has this id (yet): ids created during the command's own time
    /// advance do not count.
    #[error("unknown reservation {0}")]
    UnknownReservation(ReservationId),
    /// No consumer has this name (define it first, in the catalog or by command).
    #[error("{}: unknown consumer {}", bound_path(field), quote(name))]
    UnknownConsumer {
        /// Where the name was given, e.g. `consumer`.
        field: String,
        /// The consumer name that was not found.
        name: String,
    },
    /// No waiting entry has this id.
    #[error("unknown waiting entry {0}")]
    UnknownWaitEntry(WaitEntryId),
    /// A pool or offer of this name already exists, or an offer lists a pool twice.
    #[error("{}: {} is already defined", bound_path(field), quote(name))]
    Duplicate {
        /// Where the name was given, e.g. `pool`, `offer` or `draws[1].pool`.
        field: String,
        /// The name given twice.
        name: String,
    },
    /// A request's demand on a pool (sum of `quantity * amount`) leaves `u64`.
    #[error("{}: arithmetic overflow", bound_path(field))]
    Overflow {
        /// The line whose demand made the sum overflow, e.g. `lines[3]`.
        field: String,
    },
    /// The request id was seen before with different content (everything but the id):
    /// a client bug, or two requests sharing an idempotency key.
    #[error(
        "request id {} was already used for a different request",
        quote(request_id)
    )]
    RequestIdReused {
        /// The reused request id.
        request_id: String,
    },
    /// The reservation exists but its state forbids the command (confirming a released one).
    #[error("reservation {reservation} is {state} and cannot be {action}")]
    ReservationState {
        /// The reservation the command named.
        reservation: ReservationId,
        /// Its state, in snake_case, e.g. `released`.
        state: &'static str,
        /// What the command tried, as a past participle, e.g. `confirmed`.
        action: &'static str,
    },
    /// An API was used in a way it does not support (e.g. `up_to` on two lines).
    #[error("{}: {reason}", bound(field))]
    Misuse {
        /// The input, flag or operation that was misused, e.g. `up_to`.
        field: String,
        /// What is wrong, for the programmer, e.g. `needs exactly one line`.
        reason: &'static str,
    },
    /// The request's channel is not among the loaded catalog's `channels`.
    #[error(
        "channel: unknown channel {} (the catalog allows {})",
        quote(name),
        bound(allowed)
    )]
    UnknownChannel {
        /// The channel the request named.
        name: String,
        /// The catalog's channels, comma-separated, for the message.
        allowed: String,
    },
    /// The compiled catalog failed its checks; nothing of it was loaded.
    #[error("invalid catalog: {}", catalog_issues(issues))]
    InvalidCatalog {
        /// Every problem found, each with its field path, so all can be fixed at once.
        issues: Vec<Issue>,
    },
    /// A valid catalog cannot replace the loaded one: it drops a pool or offer, or
    /// changes an offer's draws (see `docs/CATALOG.md`).
    #[error("{}: {}", bound_path(path), bound(reason))]
    CatalogChange {
        /// Where in the catalog, e.g. `pools` or `offers[2].draws`.
        path: String,
        /// Why, naming the pool or offer and what to do instead.
        reason: String,
    },
}

/// Issues shown in an `invalid_catalog` message; the rest are counted.
const ISSUES_SHOWN: usize = 8;

/// The issues of an `invalid_catalog` message: the first [`ISSUES_SHOWN`], each
/// bounded, then how many more there are (all are in `issues`).
fn catalog_issues(issues: &[Issue]) -> String {
    let mut shown: Vec<String> = issues
        .iter()
        .take(ISSUES_SHOWN)
        .map(|i| format!("{}: {}", bound_path(&i.path), bound(&i.message)))
        .collect();
    if issues.len() > ISSUES_SHOWN {
        shown.push(format!("and {} more", issues.len() - ISSUES_SHOWN));
    }
    shown.join("; ")
}

impl Error {
    /// Every code [`Error::code`] can return (bindings test their mapping against it).
    pub const ALL_CODES: &'static [&'static str] = &[
        "time_went_backwards",
        "out_of_range",
        "zero",
        "empty",
        "too_long",
        "too_many",
        "unknown_pool",
        "unknown_offer",
        "unknown_reservation",
        "unknown_wait_entry",
        "duplicate",
        "overflow",
        "request_id_reused",
        "reservation_state",
        "misuse",
        "unknown_channel",
        "invalid_catalog",
        "catalog_change",
        "unknown_consumer",
    ];

    /// Stable snake_case code for bindings and logs.
    pub fn code(&self) -> &'static str {
        match self {
            Error::TimeWentBackwards { .. } => "time_went_backwards",
            Error::OutOfRange { .. } => "out_of_range",
            Error::Zero { .. } => "zero",
            Error::Empty { .. } => "empty",
            Error::TooLong { .. } => "too_long",
            Error::TooMany { .. } => "too_many",
            Error::UnknownPool { .. } => "unknown_pool",
            Error::UnknownOffer { .. } => "unknown_offer",
            Error::UnknownReservation(_) => "unknown_reservation",
            Error::UnknownWaitEntry(_) => "unknown_wait_entry",
            Error::Duplicate { .. } => "duplicate",
            Error::Overflow { .. } => "overflow",
            Error::RequestIdReused { .. } => "request_id_reused",
            Error::ReservationState { .. } => "reservation_state",
            Error::Misuse { .. } => "misuse",
            Error::UnknownChannel { .. } => "unknown_channel",
            Error::InvalidCatalog { .. } => "invalid_catalog",
            Error::CatalogChange { .. } => "catalog_change",
            Error::UnknownConsumer { .. } => "unknown_consumer",
        }
    }
}
