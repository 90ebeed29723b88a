//! # kontingent
//!
//! A small, fast, deterministic ledger of quotas: it says *yes* only when a
//! unit really exists, and *no*, with a reason a UI can show, otherwise.
//!
//! The [`Ledger`] is a pure state machine: [`Command`]s in (each with its
//! logical time), an [`Outcome`] and numbered [`Event`]s out. Refusals such as
//! [`Refusal::SoldOut`] are outcomes; invalid commands are [`Error`]s and change
//! nothing. The contract is `docs/SEMANTICS.md`.

mod arena;
pub mod availability;
pub mod catalog;
pub mod checkpoint;
pub mod clock;
pub mod codec;
mod command;
mod customer;
mod digest;
pub mod durable;
mod error;
mod event;
pub mod event_log;
mod expiry;
pub mod faulty;
#[cfg(unix)]
mod file_storage;
mod id;
mod idempotency;
pub mod journal;
mod ledger;
pub mod limits;
mod offer;
mod outcome;
mod pool;
mod reservation;
mod rules;
pub mod storage;
mod view;
mod waitlist;

pub use availability::{
    Change, Delta, DeltaError, LevelChange, OfferLevel, PoolLevel, ShareLevel, Snapshot,
};
pub use catalog::{Catalog, CatalogError};
pub use command::{Action, Command, Draw, LineRequest, Millis, Request, WaitlistPolicy};
pub use digest::Digest;
pub use durable::{Compaction, Durability, DurableLedger, LedgerError, Stats, Timing};
pub use error::Error;
pub use event::{Event, EventKind, PoolAmount, PoolAmounts, Standing};
pub use id::{OfferId, PoolId, ReservationId, WaitEntryId};
pub use journal::{JournalError, Recovery};
pub use ledger::{without_ids, Applied, Ledger, Mirror, SlotView};
pub use outcome::{Outcome, Refusal};
pub use view::{OfferView, PoolView, ReservationState, ReservationView, WaitEntryView, WaitState};

/// The README's examples run as doctests, so the tour never goes stale.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
