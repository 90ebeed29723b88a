//! # kontingent-core
//!
//! The pure machine of kontingent, a small, fast, deterministic ledger of quotas: it
//! says *yes* only when a unit really exists, and *no*, with a reason a UI can show,
//! otherwise.
//!
//! The [`Ledger`] is a pure state machine: [`Command`]s in (each with its
//! logical time), an [`Outcome`] and numbered [`Event`]s out. Refusals such as
//! [`Refusal::SoldOut`] are outcomes; invalid commands are [`Error`]s and change
//! nothing. The contract is `docs/SEMANTICS.md`.
//!
//! This crate reads no file, clock or thread: it does not depend on anything that
//! could (no storage, no locks; `clippy.toml` beside it forbids the std calls that
//! would), and it builds for wasm32 as it is. The shells — the journal, the durable
//! ledger, the bindings — are the crate `kontingent`, which re-exports this one.

#![warn(missing_docs)]

mod arena;
pub mod availability;
pub mod catalog;
pub mod codec;
mod customer;
mod digest;
mod expiry;
mod idempotency;
mod ledger;
pub mod limits;
mod model;
mod offer;
mod pool;
mod reservation;
mod rules;
mod waitlist;

pub use availability::{
    Change, Delta, DeltaError, LevelChange, OfferLevel, PoolLevel, ShareLevel, Snapshot,
};
pub use catalog::CatalogError;
pub use digest::Digest;
pub use ledger::{without_ids, Applied, Ledger, Mirror, SlotView};
pub use model::{
    Action, Catalog, Command, ConsumerView, Draw, Error, Event, EventKind, EventType, Gather,
    Given, Holding, Interest, LineRequest, Millis, NotificationKey, OfferId, OfferView, Outcome,
    PoolAmount, PoolAmounts, PoolId, PoolView, Refusal, Request, ReservationId, ReservationState,
    ReservationView, Standing, WaitEntryId, WaitEntryView, WaitState, WaitlistPolicy,
    DEFAULT_CHANNEL,
};
