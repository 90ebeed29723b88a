//! The journal: bytes on a [`Storage`](crate::storage::Storage), as
//! `docs/FORMAT.md` lays them out — a header, CRC-framed command records, the
//! base state of a compacted journal — and the recovery decision table that
//! tells a torn tail from corruption.
//!
//! What a replayed command *does* is not decided here: [`Journal::open`],
//! [`Journal::scan`] and [`Journal::tail`] hand each [`Entry`] to the caller
//! (the durable ledger's replay policy is [`crate::durable::replay`]).

mod compact;
mod entry;
mod error;
mod frame;
mod header;
mod open;
mod read;
mod recovery;
mod resume;

pub use entry::{Entry, EntryError};
pub use error::JournalError;
pub use frame::{check_frame, frame, Framing, FRAME_LEN, PAYLOAD_MAX};
pub use header::{HEADER_LEN, MAGIC, VERSION, VERSION_BATCHED, VERSION_COMPACTED};
pub use open::Journal;
pub use recovery::Recovery;
pub use resume::CheckpointUnfit;
