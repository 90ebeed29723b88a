//! The vocabulary: the words every other room speaks — time, ids, commands, the
//! compiled catalog, outcomes, errors, events and views.
//!
//! These types depend on nothing but each other (and serde), so the catalog
//! compiler, the ledger, the codec and the shells can all share them without
//! depending on one another. Each file is one group of words; this file only
//! names them.

pub(crate) mod catalog;
pub(crate) mod command;
pub(crate) mod consumer;
pub(crate) mod definition;
pub(crate) mod error;
pub(crate) mod event;
pub(crate) mod ids;
pub(crate) mod outcome;
pub(crate) mod quote;
pub(crate) mod reservation;
pub(crate) mod time;
pub(crate) mod views;

pub use catalog::{
    Catalog, ConsumerSpec, Issue, Limit, OfferSpec, PoolSpec, RuleKind, RuleSpec, SalesWindow, Slot,
};
pub use command::{Action, Command, LineRequest, Request, DEFAULT_CHANNEL};
pub use consumer::{ConsumerView, EventType, Gather, Given, Interest, NotificationKey};
pub use definition::{Draw, WaitlistPolicy};
pub use error::Error;
pub use event::{Event, EventKind, PoolAmount, PoolAmounts, Standing};
pub use ids::{OfferId, PoolId, ReservationId, WaitEntryId};
pub use outcome::{Outcome, Refusal};
pub use reservation::ReservationState;
pub use time::Millis;
pub use views::{Holding, OfferView, PoolView, ReservationView, WaitEntryView, WaitState};
