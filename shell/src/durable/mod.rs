//! The embedded default: a thread-safe ledger on a journal, that acknowledges
//! nothing before it is on stable storage.
//!
//! Callers share one [`DurableLedger`]; their commands are applied and written
//! in batches by a group commit (`group_commit`), each command through the one
//! per-command step (`step`), and the journal's entries are replayed into the
//! ledger by the policy in [`replay`].
//!
//! A failed write or sync poisons the ledger: every waiting and later caller gets
//! `Poisoned` until it is reopened, because memory is now ahead of the disk and
//! retrying would risk acknowledging something that is not durable.

mod error;
mod group_commit;
mod ledger;
mod open;
pub mod replay;
mod stats;
mod step;
mod timing;
mod upkeep;

pub use error::DurableError;
pub use ledger::{Durability, DurableLedger};
pub use stats::{Histogram, Stats, BATCH_RECORDS, SYNC_MICROS};
pub use timing::Timing;
pub use upkeep::Compaction;

use ledger::State;
