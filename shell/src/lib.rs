//! # kontingent
//!
//! A small, fast, durable, linearizable ledger of quotas: it says *yes* only when
//! a unit really exists, and *no*, with a reason a UI can show, otherwise.
//!
//! This crate is the shells around the pure machine of [`kontingent_core`] (all of
//! which it re-exports): the journal ([`journal`], bytes in `docs/FORMAT.md`) on a
//! [`storage`], the embedded default [`DurableLedger`] (group commit, several
//! processes on one file, nothing acknowledged before it is on stable storage), the
//! one [`clock`] a shell reads, checkpoints and the event window, and the [`host`]
//! layer every binding and the server stand on.
//!
//! ```
//! # let dir = tempfile::tempdir().unwrap();
//! use kontingent::{Action, Command, Durability};
//! let ledger = kontingent::open(dir.path().join("shop.journal"), Durability::Full).unwrap();
//! ledger.submit(Command::new(0, Action::DefinePool { pool: "p".into(), capacity: 1 })).unwrap();
//! ```

#![warn(missing_docs)]

pub use kontingent_core::*;

mod catalog_file;
pub mod checkpoint;
pub mod clock;
pub mod durable;
pub mod event_log;
pub mod host;
pub mod journal;
pub mod storage;

/// The storage that fails on purpose, by its old path (it lives in [`storage`]).
#[cfg(feature = "testing")]
pub use storage::faulty;

pub use catalog_file::read_catalog;
pub use durable::{Compaction, Durability, DurableError, DurableLedger, Histogram, Stats, Timing};
pub use journal::{JournalError, Recovery};

/// Open (or create) a ledger on a journal file and replay it: the embedded default.
/// The same as [`DurableLedger::open`].
#[cfg(unix)]
pub fn open(
    path: impl AsRef<std::path::Path>,
    durability: Durability,
) -> Result<DurableLedger<storage::FileStorage>, JournalError> {
    DurableLedger::open(path, durability)
}

/// The README's examples run as doctests, so the tour never goes stale.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
