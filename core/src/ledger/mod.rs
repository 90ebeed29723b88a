//! The ledger: a deterministic state machine over pools, offers, reservations
//! and waiting lists.
//!
//! Every command goes through three phases (`apply.rs`):
//! 1. **validate** (`&self`, `validate.rs`): resolve names, check bounds and sums,
//!    look up the request id. Any `Err` is returned here, before anything changes.
//! 2. **advance** time to the command's `at`: expire due holds in
//!    `(expires_at, id)` order, serving the waiting lists after each (`holds.rs`,
//!    `waitlist.rs`).
//! 3. **execute** the validated plan. This phase cannot fail; a request is decided
//!    in `judge.rs`.
//!
//! Read-only questions are in `query.rs` and `preview.rs`, the canonical state
//! (digest and checkpoint bytes) in `state.rs`, catalogs in `load.rs`, the
//! browser's copy in `mirror.rs`, consumers of the event stream in `consumers.rs`. This file holds the state itself and the few
//! helpers every room uses.
//!
//! See `docs/SEMANTICS.md` for the contract and `ARCHITECTURE.md` for the invariants.

mod apply;
mod consumers;
mod holds;
mod judge;
mod load;
mod mirror;
mod preview;
mod query;
mod state;
mod validate;
mod waitlist;

pub use mirror::{without_ids, Mirror};
pub use preview::SlotView;

use crate::customer::Customers;
use crate::expiry::Expiries;
use crate::idempotency::Requests;
use crate::limits::HOLD_MS_DEFAULT;
use crate::model::ids::Table;
use crate::model::{
    Catalog, Error, Event, EventKind, Millis, OfferId, Outcome, PoolId, ReservationId, SalesWindow,
    WaitEntryId,
};
use crate::offer::Offer;
use crate::pool::Pool;
use crate::reservation::Reservation;
use crate::rules::Rule;
use crate::waitlist::WaitEntry;
use std::collections::{BTreeMap, BTreeSet};

/// What one valid command did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    /// The command's result: a success or refusal, or `Done` for commands without one.
    pub outcome: Outcome,
    /// The events it emitted, numbered consecutively.
    pub events: Vec<Event>,
}

/// The quota ledger. Pure: no clock, no I/O, no randomness, no hash-order iteration.
///
/// ```
/// use kontingent_core::{Action, Command, Draw, Ledger, Outcome, Refusal, Request};
/// let mut ledger = Ledger::new();
/// ledger.apply(&Command::new(0, Action::DefinePool { pool: "zur-post".into(), capacity: 1 })).unwrap();
/// ledger.apply(&Command::new(0, Action::DefinePool { pool: "budget".into(), capacity: 100 })).unwrap();
/// ledger.apply(&Command::new(0, Action::DefineOffer {
///     offer: "voucher-20".into(),
///     draws: vec![Draw::new("zur-post", 1), Draw::new("budget", 20)],
///     waitlist: Default::default(),
/// })).unwrap();
///
/// let first = ledger.apply(&Command::new(1_000, Action::Reserve(
///     Request::new("r1", "alice").line("voucher-20", 1)))).unwrap();
/// assert!(matches!(first.outcome, Outcome::Held { .. }));
///
/// let second = ledger.apply(&Command::new(2_000, Action::Reserve(
///     Request::new("r2", "bob").line("voucher-20", 1)))).unwrap();
/// assert!(matches!(second.outcome, Outcome::Refused(Refusal::SoldOut { left: 0, .. })));
/// ```
#[derive(Clone)]
pub struct Ledger {
    now: Millis,
    seq: u64,
    paused: bool,
    default_hold_ms: u64,
    pools: Table<PoolId, Pool>,
    pool_names: BTreeMap<String, PoolId>,
    offers: Table<OfferId, Offer>,
    offer_names: BTreeMap<String, OfferId>,
    reservations: Table<ReservationId, Reservation>,
    /// Holds by `(expires_at, id)`; stale entries are skipped when due.
    expiries: Expiries,
    customers: Customers,
    channels: Vec<String>,
    requests: Requests,
    wait_entries: Table<WaitEntryId, WaitEntry>,
    /// Offers whose waiting list is not empty.
    waiting_offers: BTreeSet<OfferId>,
    /// The campaign's sales window (from the catalog).
    window: SalesWindow,
    /// Order-intake rules, in catalog order.
    rules: Vec<Rule>,
    /// Channels a request may use, once a catalog names them.
    allowed_channels: Option<Vec<u16>>,
    /// The last catalog loaded, as logged.
    catalog: Option<Box<Catalog>>,
    /// Consumers of the event stream, by name.
    consumers: BTreeMap<String, consumers::Consumer>,
}

impl Default for Ledger {
    fn default() -> Self {
        Self::new()
    }
}

impl Ledger {
    /// An empty ledger at time 0, seq 0.
    pub fn new() -> Self {
        Ledger {
            now: 0,
            seq: 0,
            paused: false,
            default_hold_ms: HOLD_MS_DEFAULT,
            pools: Table::default(),
            pool_names: BTreeMap::new(),
            offers: Table::default(),
            offer_names: BTreeMap::new(),
            reservations: Table::default(),
            expiries: Expiries::default(),
            customers: Customers::default(),
            channels: Vec::new(),
            requests: Requests::default(),
            wait_entries: Table::default(),
            waiting_offers: BTreeSet::new(),
            window: SalesWindow::default(),
            rules: Vec::new(),
            allowed_channels: None,
            catalog: None,
            consumers: BTreeMap::new(),
        }
    }

    /// A hint before replaying about `commands` commands: sizes the request and
    /// reservation tables once instead of growing them step by step.
    pub fn reserve_for(&mut self, commands: usize) {
        self.requests.reserve(commands);
        self.reservations.reserve(commands);
    }

    /// Number and record one event: the only writer of `seq`.
    fn emit(&mut self, events: &mut Vec<Event>, at: Millis, kind: EventKind) {
        self.seq += 1;
        events.push(Event {
            seq: self.seq,
            at,
            kind,
        });
    }

    /// The number of a channel, given one the first time it is seen.
    fn intern_channel(&mut self, channel: &str) -> u16 {
        if let Some(i) = self.channel_id(channel) {
            return i;
        }
        // Validation refuses a new channel beyond CHANNELS_MAX (256), so this fits u16.
        self.channels.push(channel.to_owned());
        (self.channels.len() - 1) as u16
    }

    /// The number of a channel already seen.
    fn channel_id(&self, channel: &str) -> Option<u16> {
        self.channels
            .iter()
            .position(|c| c == channel)
            .map(|i| i as u16)
    }

    fn pool_id(&self, name: &str) -> Option<PoolId> {
        self.pool_names.get(name).copied()
    }

    fn offer_id(&self, name: &str) -> Option<OfferId> {
        self.offer_names.get(name).copied()
    }

    /// A reservation by an id from outside, or the error naming it.
    fn reservation_ref(&self, id: ReservationId) -> Result<&Reservation, Error> {
        self.reservations
            .get(id)
            .ok_or(Error::UnknownReservation(id))
    }
}
