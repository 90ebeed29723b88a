//! Why a command on a durable ledger did not give an outcome.

use crate::journal::JournalError;
use crate::Error;
use thiserror::Error as ThisError;

/// Why a command on a durable ledger did not give an outcome.
#[derive(Debug, ThisError)]
pub enum DurableError {
    /// The command is invalid; nothing changed.
    #[error(transparent)]
    Rejected(#[from] Error),
    /// The journal failed (I/O, poisoned, corrupted by another writer).
    #[error(transparent)]
    Journal(#[from] JournalError),
}

impl DurableError {
    /// Stable snake_case code for bindings and logs: the core [`Error::code`] of a
    /// rejected command, or the [`JournalError::code`].
    pub fn code(&self) -> &'static str {
        match self {
            DurableError::Rejected(e) => e.code(),
            DurableError::Journal(e) => e.code(),
        }
    }

    /// A call this ledger cannot serve: `field` names it, `reason` says why.
    pub(super) fn misuse(field: &str, reason: &'static str) -> DurableError {
        DurableError::Rejected(Error::Misuse {
            field: field.into(),
            reason,
        })
    }
}

/// The journal error of a poisoned handle.
pub(super) fn poisoned_journal(cause: &str) -> JournalError {
    JournalError::Poisoned {
        cause: cause.to_owned(),
    }
}

/// The answer every caller of a poisoned handle gets.
pub(super) fn poisoned(cause: &str) -> DurableError {
    DurableError::Journal(poisoned_journal(cause))
}
