//! What replay hands its caller (the base state, then each command), what the
//! caller may answer, and what a refused entry makes of the journal.

use super::{JournalError, HEADER_LEN};
use crate::codec::DecodeError;
use crate::Command;
use thiserror::Error;

/// What replay hands its caller, in order: the state of the retired prefix (only a
/// compacted journal has one), then each command.
pub enum Entry<'a> {
    /// The ledger's state after records `1 ..= records` (`Ledger::state_bytes`).
    Base {
        /// Records the base covers (header bytes 32..40): the next record is `records + 1`.
        records: u64,
        /// The base state's bytes (from offset 64), CRC already checked.
        state: &'a [u8],
    },
    /// One record's command. Borrowed from a buffer reused for the next record; an
    /// `Err` from `apply` makes the record `Corrupt` at its offset.
    Command(&'a Command),
}

/// Why the caller of a replay did not accept an entry. The journal reports the
/// entry as corrupt at its offset: its bytes are as written (CRC-valid), so only a
/// bug or tampering explains it.
#[derive(Debug, Error)]
pub enum EntryError {
    /// A base state that does not decode.
    #[error(transparent)]
    State(#[from] DecodeError),
    /// A command the ledger refused.
    #[error(transparent)]
    Command(#[from] crate::Error),
    /// The caller's own reason (a tool that accepts only some entries).
    #[error("{0}")]
    Other(String),
}

impl From<String> for EntryError {
    fn from(reason: String) -> Self {
        EntryError::Other(reason)
    }
}

impl From<&str> for EntryError {
    fn from(reason: &str) -> Self {
        EntryError::Other(reason.to_owned())
    }
}

/// Why replay stopped at a CRC-valid entry: which one, where, and the cause.
#[derive(Debug, Error)]
pub(super) enum ReplayError {
    /// The base state was refused (it sits at [`HEADER_LEN`]).
    #[error("the base state does not load: {0}")]
    Base(#[source] EntryError),
    /// A record's payload is not a command.
    #[error("record {record} is not a command: {cause}")]
    NotACommand {
        record: u64,
        offset: u64,
        #[source]
        cause: DecodeError,
    },
    /// The caller refused a record's command.
    #[error("record {record} was rejected on replay: {cause}")]
    Rejected {
        record: u64,
        offset: u64,
        #[source]
        cause: EntryError,
    },
}

impl ReplayError {
    /// Where the refused entry starts.
    pub fn offset(&self) -> u64 {
        match self {
            ReplayError::Base(_) => HEADER_LEN,
            ReplayError::NotACommand { offset, .. } | ReplayError::Rejected { offset, .. } => {
                *offset
            }
        }
    }
}

impl From<ReplayError> for JournalError {
    fn from(e: ReplayError) -> Self {
        JournalError::Corrupt {
            offset: e.offset(),
            reason: e.to_string(),
        }
    }
}
