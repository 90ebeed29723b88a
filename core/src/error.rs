//! Errors: invalid commands and misuse. An `Err` never changes the ledger.

use crate::catalog::Issue;
use crate::command::Millis;
use crate::id::{ReservationId, WaitEntryId};
use thiserror::Error;

/// Why a command was rejected as invalid. The ledger is unchanged after any of these.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum Error {
    #[error("command at {at} ms is older than the previous command at {last} ms")]
    TimeWentBackwards { at: Millis, last: Millis },
    #[error("{field}: value {value} is out of range (max {max})")]
    OutOfRange { field: String, value: u64, max: u64 },
    #[error("{field}: must not be zero")]
    Zero { field: String },
    #[error("{field}: must not be empty")]
    Empty { field: String },
    #[error("{field}: {len} bytes is longer than the limit of {max}")]
    TooLong {
        field: String,
        len: usize,
        max: usize,
    },
    #[error("{field}: {count} items is more than the limit of {max}")]
    TooMany {
        field: String,
        count: usize,
        max: usize,
    },
    #[error("{field}: unknown pool {name:?}")]
    UnknownPool { field: String, name: String },
    #[error("{field}: unknown offer {name:?}")]
    UnknownOffer { field: String, name: String },
    #[error("unknown reservation {0}")]
    UnknownReservation(ReservationId),
    #[error("unknown waiting entry {0}")]
    UnknownWaitEntry(WaitEntryId),
    #[error("{field}: {name:?} is already defined")]
    Duplicate { field: String, name: String },
    #[error("{field}: arithmetic overflow")]
    Overflow { field: String },
    #[error("request id {request_id:?} was already used for a different request")]
    RequestIdReused { request_id: String },
    #[error("reservation {reservation} is {state} and cannot be {action}")]
    ReservationState {
        reservation: ReservationId,
        state: &'static str,
        action: &'static str,
    },
    #[error("{field}: {reason}")]
    Misuse { field: String, reason: &'static str },
    #[error("channel: unknown channel {name:?} (the catalog allows {allowed})")]
    UnknownChannel { name: String, allowed: String },
    #[error("invalid catalog: {}", issues.iter().map(|i| format!("{}: {}", i.path, i.message)).collect::<Vec<_>>().join("; "))]
    InvalidCatalog { issues: Vec<Issue> },
    #[error("{path}: {reason}")]
    CatalogChange { path: String, reason: String },
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
        }
    }
}
