//! Why a journal could not be opened or written.

use std::io;
use thiserror::Error;

/// Why a journal could not be opened or written.
#[derive(Debug, Error)]
pub enum JournalError {
    /// A read, write, truncate, lock or sync of the storage failed: not corruption.
    /// On open, retrying may succeed; on an open ledger, check
    /// [`DurableLedger::is_poisoned`](crate::DurableLedger::is_poisoned) and reopen if set.
    #[error("journal I/O error: {0}")]
    Io(#[from] io::Error),
    /// The first 64 bytes are not a header this build reads (magic, CRC, version),
    /// or the file was replaced by another ledger's journal. The file is left
    /// untouched; retrying gives the same answer.
    #[error("not a kontingent journal, or an unknown version: {reason}")]
    BadHeader {
        /// For people; not stable, do not match on it.
        reason: String,
    },
    /// Damage a torn tail cannot explain (`docs/FORMAT.md`, decision table): opening
    /// refuses the journal and cuts nothing, so reopening gives the same error.
    #[error("journal corrupted at byte offset {offset}: {reason}")]
    Corrupt {
        /// Byte offset in the file where the bad record starts (64 for a bad base state).
        offset: u64,
        /// For people; not stable, do not match on it.
        reason: String,
    },
    /// An earlier write or sync failure (or a panic while writing) left memory ahead
    /// of the disk: this handle acknowledges nothing more. Do not retry on it;
    /// drop it and reopen the journal.
    #[error("the ledger is poisoned by an earlier write or sync failure ({cause}); reopen it")]
    Poisoned {
        /// The first failure that poisoned the handle, as text.
        cause: String,
    },
}

impl JournalError {
    /// Stable snake_case code for bindings and logs: `io`, `bad_header`,
    /// `journal_corrupted` or `poisoned`.
    pub fn code(&self) -> &'static str {
        match self {
            JournalError::Io(_) => "io",
            JournalError::BadHeader { .. } => "bad_header",
            JournalError::Corrupt { .. } => "journal_corrupted",
            JournalError::Poisoned { .. } => "poisoned",
        }
    }
}
