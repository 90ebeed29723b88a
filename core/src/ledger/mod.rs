//! The ledger: a deterministic state machine over pools, offers, reservations
//! and waiting lists.
//!
//! Every command goes through three phases:
//! 1. **validate** (`&self`): resolve names, check bounds and sums, look up the
//!    request id. Any `Err` is returned here, before anything changes.
//! 2. **advance** time to the command's `at`: expire due holds in
//!    `(expires_at, id)` order, serving the waiting lists after each.
//! 3. **execute** the validated plan. This phase cannot fail.
//!
//! See `docs/SEMANTICS.md` for the contract and `ARCHITECTURE.md` for the invariants.

mod load;
mod mirror;
mod preview;
mod state;

pub use mirror::{without_ids, Mirror};
pub use preview::SlotView;

use crate::availability::{OfferLevel, PoolLevel, ShareLevel, Snapshot};
use crate::customer::{hash_name, Customers};
use crate::digest::{Digest, Sink, StackBuf};
use crate::expiry::Expiries;
use crate::idempotency::{hash_id, Entry, First, Kind, Recorded, Requests};
use crate::limits::*;
use crate::model::ids::Table;
use crate::model::{
    Action, Catalog, Command, Error, Event, EventKind, Millis, OfferId, OfferView, Outcome,
    PoolAmount, PoolAmounts, PoolId, PoolView, Refusal, Request, ReservationId, ReservationState,
    ReservationView, Standing, WaitEntryId, WaitEntryView, WaitState, WaitlistPolicy, Window,
};
use crate::offer::Offer;
use crate::pool::Pool;
use crate::reservation::{Line, Reservation};
use crate::rules::{self, Rule};
use crate::waitlist::{EntryState, WaitEntry};
use smallvec::SmallVec;
use std::collections::{BTreeMap, BTreeSet};
use xxhash_rust::xxh3::{xxh3_64, Xxh3};

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
    entries: Table<WaitEntryId, WaitEntry>,
    /// Offers whose waiting list is not empty.
    waiting_offers: BTreeSet<OfferId>,
    /// The campaign's sales window (from the catalog).
    window: Window,
    /// Order-intake rules, in catalog order.
    rules: Vec<Rule>,
    /// Channels a request may use, once a catalog names them.
    allowed_channels: Option<Vec<u16>>,
    /// The last catalog loaded, as logged.
    catalog: Option<Box<Catalog>>,
}

/// The offer table as the rules see it.
struct Facts<'a>(&'a Table<OfferId, Offer>);

impl rules::OfferFacts for Facts<'_> {
    fn price(&self, offer: OfferId) -> u64 {
        self.0[offer].price
    }
    fn draw(&self, offer: OfferId, pool: PoolId) -> u64 {
        self.0[offer]
            .draws
            .iter()
            .find(|d| d.pool == pool)
            .map_or(0, |d| d.amount)
    }
}

impl Default for Ledger {
    fn default() -> Self {
        Self::new()
    }
}

/// A validated command, ready to execute.
enum Plan<'a> {
    LoadCatalog(&'a Catalog),
    DefinePool {
        name: &'a str,
        capacity: u64,
    },
    DefineOffer {
        name: &'a str,
        draws: PoolAmounts,
        policy: WaitlistPolicy,
    },
    SetCapacity {
        pool: PoolId,
        capacity: u64,
    },
    SetDefaultHold(u64),
    Reserve(ReservePlan<'a>),
    Repeat(Outcome),
    Confirm(ReservationId),
    Release(ReservationId),
    Leave(WaitEntryId),
    Pause,
    Resume,
    Tick,
}

struct ReservePlan<'a> {
    request_id: &'a str,
    request_hash: u64,
    customer: &'a str,
    customer_hash: u64,
    /// The customer's number if already known (looked up once, in validation).
    customer_id: Option<u32>,
    channel: &'a str,
    attributes: &'a BTreeMap<String, String>,
    lines: SmallVec<[(OfferId, u64); 1]>,
    /// Aggregated per pool, in pool-id order.
    demand: PoolAmounts,
    hold_ms: u64,
    confirm: bool,
    up_to: bool,
    waitlist: bool,
    fingerprint: u64,
}

fn check_len(field: &str, s: &str, max: usize) -> Result<(), Error> {
    if s.is_empty() {
        return Err(Error::Empty {
            field: field.to_owned(),
        });
    }
    if s.len() > max {
        return Err(Error::TooLong {
            field: field.to_owned(),
            len: s.len(),
            max,
        });
    }
    Ok(())
}

fn check_range(field: &str, value: u64, min: u64, max: u64) -> Result<(), Error> {
    check_range_at(|| field.to_owned(), value, min, max)
}

/// Like `check_range`, naming the field only when there is an error.
#[inline]
fn check_range_at(
    field: impl FnOnce() -> String,
    value: u64,
    min: u64,
    max: u64,
) -> Result<(), Error> {
    if value < min {
        return Err(Error::Zero { field: field() });
    }
    if value > max {
        return Err(Error::OutOfRange {
            field: field(),
            value,
            max,
        });
    }
    Ok(())
}

/// Adds `amounts` into `into`, keeping it sorted by pool and aggregated.
fn add_demand(into: &mut PoolAmounts, amounts: impl Iterator<Item = PoolAmount>) -> Option<()> {
    for a in amounts {
        match into.binary_search_by_key(&a.pool, |d| d.pool) {
            Ok(i) => into[i].amount = into[i].amount.checked_add(a.amount)?,
            Err(i) => into.insert(i, a),
        }
    }
    Some(())
}

/// Everything of a request but its id, hashed: "same content" for idempotency.
fn fingerprint(r: &Request) -> u64 {
    let mut buf = StackBuf::new();
    crate::codec::encode_request_content(r, &mut buf);
    xxh3_64(buf.as_slice())
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
            entries: Table::default(),
            waiting_offers: BTreeSet::new(),
            window: Window::default(),
            rules: Vec::new(),
            allowed_channels: None,
            catalog: None,
        }
    }

    /// Apply one command: its outcome and the events it emitted.
    /// On `Err` the ledger is unchanged.
    pub fn apply(&mut self, cmd: &Command) -> Result<Applied, Error> {
        let mut events = Vec::new();
        let outcome = self.apply_into(cmd, &mut events)?;
        Ok(Applied { outcome, events })
    }

    /// Like [`Ledger::apply`], appending the events to a caller's buffer
    /// (reused across calls on hot paths). On `Err` nothing is appended.
    pub fn apply_into(&mut self, cmd: &Command, events: &mut Vec<Event>) -> Result<Outcome, Error> {
        if cmd.at > TIMESTAMP_MAX {
            return Err(Error::OutOfRange {
                field: "at".into(),
                value: cmd.at,
                max: TIMESTAMP_MAX,
            });
        }
        if cmd.at < self.now {
            return Err(Error::TimeWentBackwards {
                at: cmd.at,
                last: self.now,
            });
        }
        let plan = self.validate(&cmd.action)?;
        self.advance(cmd.at, events);
        Ok(self.execute(plan, events))
    }

    // ---------------------------------------------------------------- validate

    fn validate<'a>(&self, action: &'a Action) -> Result<Plan<'a>, Error> {
        Ok(match action {
            Action::LoadCatalog(catalog) => {
                self.validate_catalog(catalog)?;
                Plan::LoadCatalog(catalog)
            }
            Action::DefinePool { pool, capacity } => {
                let capacity = *capacity;
                check_len("pool", pool, NAME_LEN_MAX)?;
                check_range("capacity", capacity, 0, CAPACITY_MAX)?;
                if self.pool_names.contains_key(pool.as_str()) {
                    return Err(Error::Duplicate {
                        field: "pool".into(),
                        name: pool.clone(),
                    });
                }
                if self.pools.len() >= POOLS_MAX {
                    return Err(Error::TooMany {
                        field: "pools".into(),
                        count: self.pools.len() + 1,
                        max: POOLS_MAX,
                    });
                }
                Plan::DefinePool {
                    name: pool,
                    capacity,
                }
            }
            Action::DefineOffer {
                offer,
                draws,
                waitlist,
            } => {
                check_len("offer", offer, NAME_LEN_MAX)?;
                if self.offer_names.contains_key(offer.as_str()) {
                    return Err(Error::Duplicate {
                        field: "offer".into(),
                        name: offer.clone(),
                    });
                }
                if self.offers.len() >= OFFERS_MAX {
                    return Err(Error::TooMany {
                        field: "offers".into(),
                        count: self.offers.len() + 1,
                        max: OFFERS_MAX,
                    });
                }
                if draws.is_empty() {
                    return Err(Error::Empty {
                        field: "draws".into(),
                    });
                }
                if draws.len() > DRAWS_MAX {
                    return Err(Error::TooMany {
                        field: "draws".into(),
                        count: draws.len(),
                        max: DRAWS_MAX,
                    });
                }
                let mut resolved = PoolAmounts::new();
                for (i, d) in draws.iter().enumerate() {
                    let pool = self.pool_id(&d.pool).ok_or_else(|| Error::UnknownPool {
                        field: format!("draws[{i}].pool"),
                        name: d.pool.clone(),
                    })?;
                    check_range_at(
                        || format!("draws[{i}].amount"),
                        d.amount,
                        1,
                        DRAW_AMOUNT_MAX,
                    )?;
                    if resolved.iter().any(|r| r.pool == pool) {
                        return Err(Error::Duplicate {
                            field: format!("draws[{i}].pool"),
                            name: d.pool.clone(),
                        });
                    }
                    resolved.push(PoolAmount {
                        pool,
                        amount: d.amount,
                    });
                }
                Plan::DefineOffer {
                    name: offer,
                    draws: resolved,
                    policy: *waitlist,
                }
            }
            Action::SetCapacity { pool, capacity } => {
                let capacity = *capacity;
                let id = self.pool_id(pool).ok_or_else(|| Error::UnknownPool {
                    field: "pool".into(),
                    name: pool.clone(),
                })?;
                check_range("capacity", capacity, 0, CAPACITY_MAX)?;
                Plan::SetCapacity { pool: id, capacity }
            }
            Action::SetDefaultHold { hold_ms } => {
                check_range("hold_ms", *hold_ms, 1, HOLD_MS_MAX)?;
                Plan::SetDefaultHold(*hold_ms)
            }
            Action::Reserve(request) => self.validate_reserve(request)?,
            Action::Confirm { reservation } => match self.reservation_ref(*reservation)?.state {
                ReservationState::Released => {
                    return Err(Error::ReservationState {
                        reservation: *reservation,
                        state: "released",
                        action: "confirmed",
                    })
                }
                _ => Plan::Confirm(*reservation),
            },
            Action::Release { reservation } => {
                self.reservation_ref(*reservation)?;
                Plan::Release(*reservation)
            }
            Action::LeaveWaitlist { entry } => {
                let entry = *entry;
                // Whether it was promoted is decided after time advances: the
                // advance itself may promote it.
                self.entries
                    .get(entry)
                    .ok_or(Error::UnknownWaitEntry(entry))?;
                Plan::Leave(entry)
            }
            Action::Pause => Plan::Pause,
            Action::Resume => Plan::Resume,
            Action::Tick => Plan::Tick,
        })
    }

    fn validate_reserve<'a>(&self, r: &'a Request) -> Result<Plan<'a>, Error> {
        check_len("request_id", &r.request_id, REQUEST_ID_LEN_MAX)?;
        check_len("customer", &r.customer, CUSTOMER_ID_LEN_MAX)?;
        check_len("channel", &r.channel, CHANNEL_LEN_MAX)?;
        if r.attributes.len() > ATTRIBUTES_MAX {
            return Err(Error::TooMany {
                field: "attributes".into(),
                count: r.attributes.len(),
                max: ATTRIBUTES_MAX,
            });
        }
        for (k, v) in &r.attributes {
            check_len("attributes", k, ATTRIBUTE_KEY_LEN_MAX)?;
            if v.len() > ATTRIBUTE_VALUE_LEN_MAX {
                return Err(Error::TooLong {
                    field: format!("attributes.{k}"),
                    len: v.len(),
                    max: ATTRIBUTE_VALUE_LEN_MAX,
                });
            }
        }
        if r.lines.is_empty() {
            return Err(Error::Empty {
                field: "lines".into(),
            });
        }
        if r.lines.len() > LINES_MAX {
            return Err(Error::TooMany {
                field: "lines".into(),
                count: r.lines.len(),
                max: LINES_MAX,
            });
        }
        if (r.up_to || r.waitlist) && r.lines.len() != 1 {
            return Err(Error::Misuse {
                field: if r.up_to { "up_to" } else { "waitlist" }.into(),
                reason: "needs exactly one line",
            });
        }
        let hold_ms = match r.hold_ms {
            Some(h) => {
                check_range("hold_ms", h, 1, HOLD_MS_MAX)?;
                h
            }
            None => self.default_hold_ms,
        };
        let mut lines = SmallVec::new();
        let mut demand = PoolAmounts::new();
        for (i, l) in r.lines.iter().enumerate() {
            let offer = self.offer_id(&l.offer).ok_or_else(|| Error::UnknownOffer {
                field: format!("lines[{i}].offer"),
                name: l.offer.clone(),
            })?;
            check_range_at(
                || format!("lines[{i}].quantity"),
                l.quantity,
                1,
                LINE_QUANTITY_MAX,
            )?;
            add_demand(&mut demand, self.offers[offer].demand(l.quantity)).ok_or_else(|| {
                Error::Overflow {
                    field: format!("lines[{i}]"),
                }
            })?;
            lines.push((offer, l.quantity));
        }
        let fingerprint = fingerprint(r);
        let request_hash = hash_id(&r.request_id);
        if let Some(entry) = self.requests.get(&r.request_id, request_hash) {
            if entry.fingerprint != fingerprint {
                return Err(Error::RequestIdReused {
                    request_id: r.request_id.clone(),
                });
            }
            return Ok(Plan::Repeat(self.recorded_outcome(entry)));
        }
        if self.requests.len() >= REQUESTS_MAX {
            return Err(Error::TooMany {
                field: "requests".into(),
                count: self.requests.len() + 1,
                max: REQUESTS_MAX,
            });
        }
        let customer_hash = hash_name(&r.customer);
        let customer_id = self.customers.find(&r.customer, customer_hash);
        if customer_id.is_none() && self.customers.len() >= CUSTOMERS_MAX {
            return Err(Error::TooMany {
                field: "customers".into(),
                count: self.customers.len() + 1,
                max: CUSTOMERS_MAX,
            });
        }
        if let Some(allowed) = &self.allowed_channels {
            if !self
                .channel_id(&r.channel)
                .is_some_and(|c| allowed.contains(&c))
            {
                return Err(Error::UnknownChannel {
                    name: r.channel.clone(),
                    allowed: allowed
                        .iter()
                        .map(|&c| self.channels[c as usize].as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
        }
        if self.channel_id(&r.channel).is_none() && self.channels.len() >= CHANNELS_MAX {
            return Err(Error::TooMany {
                field: "channels".into(),
                count: self.channels.len() + 1,
                max: CHANNELS_MAX,
            });
        }
        Ok(Plan::Reserve(ReservePlan {
            request_id: &r.request_id,
            request_hash,
            customer: &r.customer,
            customer_hash,
            customer_id,
            channel: &r.channel,
            attributes: &r.attributes,
            lines,
            demand,
            hold_ms,
            confirm: r.confirm,
            up_to: r.up_to,
            waitlist: r.waitlist,
            fingerprint,
        }))
    }

    fn recorded_outcome(&self, entry: &Entry) -> Outcome {
        match entry.recorded.kind() {
            Kind::Held(id) => {
                let r = &self.reservations[id];
                Outcome::Held {
                    reservation: id,
                    expires_at: r.expires_at,
                    units: r.units(),
                }
            }
            Kind::Confirmed(id) => Outcome::Confirmed {
                reservation: id,
                units: self.reservations[id].units(),
            },
            Kind::Waiting(entry) => Outcome::Waiting {
                entry,
                position: self.entries[entry].joined_at_position,
            },
            Kind::Refused(i) => Outcome::Refused(self.requests.refusal(i).clone()),
        }
    }

    // ----------------------------------------------------------------- advance

    /// Move time to `at`, expiring every hold due by then, in `(expires_at, id)` order.
    fn advance(&mut self, at: Millis, events: &mut Vec<Event>) {
        self.now = at;
        while let Some((expires_at, id)) = self.expiries.pop_due(at) {
            let r = &self.reservations[ReservationId(id)];
            if r.state != ReservationState::Held || r.expires_at != expires_at {
                continue; // confirmed or released since: a stale entry
            }
            let rid = ReservationId(id);
            let channel = r.channel;
            let pools = self.unpromise(rid, ReservationState::Expired);
            self.emit(
                events,
                expires_at,
                EventKind::Expired {
                    reservation: rid,
                    pools,
                    channel,
                },
            );
            self.serve(expires_at, events);
        }
    }

    // ----------------------------------------------------------------- execute

    fn execute(&mut self, plan: Plan, events: &mut Vec<Event>) -> Outcome {
        let at = self.now;
        match plan {
            Plan::LoadCatalog(catalog) => {
                self.load_catalog(catalog, events);
                Outcome::Done
            }
            Plan::DefinePool { name, capacity } => {
                let pool = self.pools.push(Pool::new(name.to_owned(), capacity));
                self.pool_names.insert(name.to_owned(), pool);
                self.emit(
                    events,
                    at,
                    EventKind::PoolDefined {
                        pool,
                        name: name.to_owned(),
                        capacity,
                    },
                );
                Outcome::Done
            }
            Plan::DefineOffer {
                name,
                draws,
                policy,
            } => {
                let offer = self.offers.push(Offer {
                    name: name.to_owned(),
                    draws: draws.clone(),
                    policy,
                    waiting: Default::default(),
                    price: 0,
                    window: Window::default(),
                    slot: None,
                });
                self.offer_names.insert(name.to_owned(), offer);
                self.emit(
                    events,
                    at,
                    EventKind::OfferDefined {
                        offer,
                        name: name.to_owned(),
                        draws: draws.to_vec(),
                        waitlist: policy,
                    },
                );
                Outcome::Done
            }
            Plan::SetCapacity { pool, capacity } => {
                let old = self.pools[pool].capacity;
                if old != capacity {
                    self.pools[pool].capacity = capacity;
                    self.emit(events, at, EventKind::CapacityChanged { pool, capacity });
                    if capacity > old {
                        self.serve(at, events);
                    }
                }
                Outcome::Done
            }
            Plan::SetDefaultHold(hold_ms) => {
                if self.default_hold_ms != hold_ms {
                    self.default_hold_ms = hold_ms;
                    self.emit(events, at, EventKind::DefaultHoldChanged { hold_ms });
                }
                Outcome::Done
            }
            Plan::Reserve(plan) => self.reserve(plan, events),
            Plan::Repeat(outcome) => outcome,
            Plan::Confirm(id) => self.confirm(id, events),
            Plan::Release(id) => self.release(id, events),
            Plan::Leave(entry) => self.leave(entry, events),
            Plan::Pause => {
                if !self.paused {
                    self.paused = true;
                    self.emit(events, at, EventKind::Paused);
                }
                Outcome::Done
            }
            Plan::Resume => {
                if self.paused {
                    self.paused = false;
                    self.emit(events, at, EventKind::Resumed);
                    self.serve(at, events);
                }
                Outcome::Done
            }
            Plan::Tick => Outcome::Done,
        }
    }

    fn reserve(&mut self, p: ReservePlan, events: &mut Vec<Event>) -> Outcome {
        let request_id = p.request_id;
        let (hash, fingerprint) = (p.request_hash, p.fingerprint);
        let (outcome, recorded) = self.decide(p, events);
        self.requests
            .record(request_id, hash, fingerprint, recorded);
        outcome
    }

    /// The whole decision for a request, without changing anything: intake
    /// rules, then capacity, in the order of `docs/SEMANTICS.md` and
    /// `docs/CATALOG.md`. `Ok(Some(q))` grants an `up_to` request `q` units.
    fn judge(&self, at: Millis, p: &ReservePlan) -> Result<Option<u64>, Refusal> {
        if self.paused {
            return Err(Refusal::Paused);
        }
        let channel = self.channel_id(p.channel);
        // Only customer limits read the usage: without rules, don't gather it.
        let usage: SmallVec<[(OfferId, u64); 4]> = match p.customer_id {
            Some(c) if !self.rules.is_empty() => self.customers.usage_of(c).collect(),
            _ => SmallVec::new(),
        };
        if let Some(r) = self.intake(at, &p.lines, Some(p.attributes), Some(&usage), false) {
            return Err(r);
        }
        let mut grant = None;
        let mut scaled: PoolAmounts;
        let mut demand = &p.demand;
        if p.up_to {
            let (offer, quantity) = p.lines[0];
            let o = &self.offers[offer];
            let q = quantity.min(o.available_for(&self.pools, channel));
            if q > 0 && q < quantity {
                grant = Some(q);
                scaled = o.demand(q).collect();
                scaled.sort_unstable_by_key(|d| d.pool);
                demand = &scaled;
            }
        }
        if let Some(short) = demand
            .iter()
            .find(|d| d.amount > self.pools[d.pool].available_for(channel))
        {
            let pool = &self.pools[short.pool];
            return Err(Refusal::SoldOut {
                pool: pool.name.clone(),
                requested: short.amount,
                left: pool.available_for(channel),
            });
        }
        Ok(grant)
    }

    /// Windows, slots and catalog rules for these lines; `None` when all pass.
    /// Without attributes (promotions, previews) attribute rules are skipped;
    /// without usage (previews) customer limits are. A promotion (`limits_only`)
    /// judges windows, slots and customer limits only: the order's shape was
    /// judged when it joined (`docs/CATALOG.md`, "Waiting lists and rules").
    fn intake(
        &self,
        at: Millis,
        lines: &[(OfferId, u64)],
        attributes: Option<&BTreeMap<String, String>>,
        usage: Option<&[(OfferId, u64)]>,
        limits_only: bool,
    ) -> Option<Refusal> {
        if let Some(r) = rules::check_window(&self.window, at) {
            return Some(r);
        }
        for &(offer, _) in lines {
            let o = &self.offers[offer];
            if let Some(r) = rules::check_window(&o.window, at) {
                return Some(r);
            }
            if let Some(r) = o
                .slot
                .as_ref()
                .and_then(|s| rules::check_slot(s, &o.name, at))
            {
                return Some(r);
            }
        }
        if self.rules.is_empty() {
            return None;
        }
        let mut per_offer: SmallVec<[(OfferId, u64); 4]> = SmallVec::new();
        for &(offer, q) in lines {
            match per_offer.binary_search_by_key(&offer, |l| l.0) {
                Ok(i) => per_offer[i].1 = per_offer[i].1.saturating_add(q),
                Err(i) => per_offer.insert(i, (offer, q)),
            }
        }
        let ask = rules::Ask {
            lines: &per_offer,
            attributes,
            usage,
        };
        let facts = Facts(&self.offers);
        self.rules
            .iter()
            .filter(|r| !limits_only || r.is_customer_limit())
            .find_map(|r| r.check(&ask, &facts))
    }

    fn decide(&mut self, mut p: ReservePlan, events: &mut Vec<Event>) -> (Outcome, First) {
        let at = self.now;
        match self.judge(at, &p) {
            Ok(None) => {}
            Ok(Some(q)) => {
                p.lines[0].1 = q;
                p.demand = self.offers[p.lines[0].0].demand(q).collect();
                p.demand.sort_unstable_by_key(|d| d.pool);
            }
            Err(Refusal::SoldOut { .. }) if p.waitlist => {
                let (offer, quantity) = p.lines[0];
                return self.join_waitlist(at, offer, quantity, &p, events);
            }
            Err(r) => return refused(r),
        }
        let customer = self
            .customers
            .intern(p.customer, p.customer_hash, p.customer_id);
        let channel = self.intern_channel(p.channel);
        let state = if p.confirm {
            ReservationState::Confirmed
        } else {
            ReservationState::Held
        };
        let expires_at = if p.confirm { at } else { at + p.hold_ms };
        let lines = p
            .lines
            .iter()
            .map(|&(offer, quantity)| Line {
                offer,
                quantity: quantity as u32,
            })
            .collect();
        let id = self.promise(customer, channel, lines, state, expires_at, &p.demand);
        let units = p.lines.iter().map(|l| l.1).sum();
        if p.confirm {
            self.emit(
                events,
                at,
                EventKind::Confirmed {
                    reservation: id,
                    from: Standing::New,
                    pools: p.demand,
                    channel,
                },
            );
            (
                Outcome::Confirmed {
                    reservation: id,
                    units,
                },
                First::Recorded(Recorded::confirmed(id)),
            )
        } else {
            self.emit(
                events,
                at,
                EventKind::Held {
                    reservation: id,
                    expires_at,
                    pools: p.demand,
                    channel,
                },
            );
            (
                Outcome::Held {
                    reservation: id,
                    expires_at,
                    units,
                },
                First::Recorded(Recorded::held(id)),
            )
        }
    }

    fn join_waitlist(
        &mut self,
        at: Millis,
        offer: OfferId,
        quantity: u64,
        p: &ReservePlan,
        events: &mut Vec<Event>,
    ) -> (Outcome, First) {
        let customer = self
            .customers
            .intern(p.customer, p.customer_hash, p.customer_id);
        let channel = self.intern_channel(p.channel);
        let entry = self.entries.push(WaitEntry {
            offer,
            quantity,
            customer,
            channel,
            hold_ms: p.hold_ms,
            state: EntryState::Waiting,
            joined_at_position: 0,
        });
        let list = &mut self.offers[offer].waiting;
        list.push_back(entry);
        let position = u32::try_from(list.len()).unwrap_or(u32::MAX);
        self.entries[entry].joined_at_position = position;
        self.waiting_offers.insert(offer);
        self.emit(
            events,
            at,
            EventKind::WaitlistJoined {
                entry,
                offer,
                quantity,
                position,
            },
        );
        (
            Outcome::Waiting { entry, position },
            First::Recorded(Recorded::waiting(entry)),
        )
    }

    /// Record a new reservation and count its demand. The caller checked that it fits.
    fn promise(
        &mut self,
        customer: u32,
        channel: u16,
        lines: SmallVec<[Line; 1]>,
        state: ReservationState,
        expires_at: Millis,
        demand: &PoolAmounts,
    ) -> ReservationId {
        for d in demand {
            let pool = &mut self.pools[d.pool];
            debug_assert!(
                d.amount <= pool.available_for(Some(channel)),
                "promise beyond capacity"
            );
            match state {
                ReservationState::Confirmed => pool.confirmed += d.amount,
                _ => pool.held += d.amount,
            }
            // Never oversell: at the moment of a promise, everything promised fits.
            debug_assert!(
                pool.held
                    .checked_add(pool.confirmed)
                    .is_some_and(|p| p <= pool.capacity),
                "pool {}: held {} + confirmed {} over capacity {} after a promise",
                pool.name,
                pool.held,
                pool.confirmed,
                pool.capacity
            );
            if !pool.shares.is_empty() {
                pool.share_moved(channel, d.amount, true);
            }
        }
        for l in &lines {
            self.customers
                .add_usage(customer, l.offer, u64::from(l.quantity));
        }
        let id = self.reservations.push(Reservation {
            expires_at,
            lines,
            customer,
            channel,
            state,
        });
        if state == ReservationState::Held {
            self.expiries.push(expires_at, id.0);
        }
        id
    }

    /// What reservation `id` draws, per pool, in pool-id order.
    fn demand_of(&self, id: ReservationId) -> PoolAmounts {
        let r = &self.reservations[id];
        let mut demand = PoolAmounts::new();
        for l in &r.lines {
            // Validated when the reservation was made; it cannot overflow now.
            let _ = add_demand(
                &mut demand,
                self.offers[l.offer].demand(u64::from(l.quantity)),
            );
        }
        demand
    }

    /// Give a live reservation's units back and move it to `to`.
    fn unpromise(&mut self, id: ReservationId, to: ReservationState) -> PoolAmounts {
        let demand = self.demand_of(id);
        let r = &mut self.reservations[id];
        let from = r.state;
        r.state = to;
        for d in &demand {
            let pool = &mut self.pools[d.pool];
            // A live reservation's units are counted in its pool: giving them back
            // cannot go below zero.
            debug_assert!(
                match from {
                    ReservationState::Confirmed => pool.confirmed >= d.amount,
                    ReservationState::Held => pool.held >= d.amount,
                    _ => false,
                },
                "pool {}: unpromising {} units of a {from:?} reservation it does not count",
                pool.name,
                d.amount
            );
            match from {
                ReservationState::Confirmed => pool.confirmed -= d.amount,
                _ => pool.held -= d.amount,
            }
            if !pool.shares.is_empty() {
                pool.share_moved(r.channel, d.amount, false);
            }
        }
        let (customer, lines) = (r.customer, r.lines.clone());
        for l in &lines {
            self.customers
                .remove_usage(customer, l.offer, u64::from(l.quantity));
        }
        demand
    }

    fn confirm(&mut self, id: ReservationId, events: &mut Vec<Event>) -> Outcome {
        let r = &self.reservations[id];
        match r.state {
            ReservationState::Held => {
                let units = r.units();
                let demand = self.demand_of(id);
                for d in &demand {
                    let pool = &mut self.pools[d.pool];
                    // Confirming moves units from held to confirmed: the total stays.
                    debug_assert!(
                        pool.held >= d.amount,
                        "pool {}: confirming {} units, only {} held",
                        pool.name,
                        d.amount,
                        pool.held
                    );
                    pool.held -= d.amount;
                    pool.confirmed += d.amount;
                }
                self.reservations[id].state = ReservationState::Confirmed;
                let channel = self.reservations[id].channel;
                self.emit(
                    events,
                    self.now,
                    EventKind::Confirmed {
                        reservation: id,
                        from: Standing::Held,
                        pools: demand,
                        channel,
                    },
                );
                Outcome::Confirmed {
                    reservation: id,
                    units,
                }
            }
            ReservationState::Confirmed => Outcome::Confirmed {
                reservation: id,
                units: r.units(),
            },
            ReservationState::Expired => Outcome::Refused(Refusal::HoldExpired {
                expired_at: r.expires_at,
            }),
            // Rejected in validation; time cannot release a reservation.
            ReservationState::Released => Outcome::Released { reservation: id },
        }
    }

    fn release(&mut self, id: ReservationId, events: &mut Vec<Event>) -> Outcome {
        let r = &self.reservations[id];
        let from = match r.state {
            ReservationState::Held => Standing::Held,
            ReservationState::Confirmed => Standing::Confirmed,
            ReservationState::Released => return Outcome::Released { reservation: id },
            ReservationState::Expired => {
                return Outcome::Refused(Refusal::HoldExpired {
                    expired_at: r.expires_at,
                })
            }
        };
        let channel = r.channel;
        let pools = self.unpromise(id, ReservationState::Released);
        self.emit(
            events,
            self.now,
            EventKind::Released {
                reservation: id,
                from,
                pools,
                channel,
            },
        );
        self.serve(self.now, events);
        Outcome::Released { reservation: id }
    }

    fn leave(&mut self, entry: WaitEntryId, events: &mut Vec<Event>) -> Outcome {
        let e = &mut self.entries[entry];
        match e.state {
            EntryState::Waiting => {}
            EntryState::Left => return Outcome::Left { entry },
            EntryState::Promoted(reservation) => return Outcome::Promoted { entry, reservation },
        }
        e.state = EntryState::Left;
        let offer = e.offer;
        let list = &mut self.offers[offer].waiting;
        list.retain(|&x| x != entry);
        if list.is_empty() {
            self.waiting_offers.remove(&offer);
        }
        self.emit(events, self.now, EventKind::WaitlistLeft { entry, offer });
        self.serve(self.now, events);
        Outcome::Left { entry }
    }

    /// Hand available units to the waiting lists: repeatedly promote, among every
    /// list's candidate, the one that joined first. Only available units are
    /// given, so a list never receives more than is free.
    fn serve(&mut self, at: Millis, events: &mut Vec<Event>) {
        if self.paused {
            return;
        }
        loop {
            let mut best: Option<(WaitEntryId, OfferId, usize)> = None;
            for &offer in &self.waiting_offers {
                let o = &self.offers[offer];
                let fits = |id: &WaitEntryId| {
                    let e = &self.entries[*id];
                    o.fits(&self.pools, e.quantity, Some(e.channel))
                };
                // Entries that no longer qualify (offer closed, slot passed, the
                // customer's limit reached) are passed over but keep their place.
                let mut eligible = o
                    .waiting
                    .iter()
                    .enumerate()
                    .filter(|(_, id)| self.eligible(at, **id));
                let candidate = match o.policy {
                    WaitlistPolicy::Strict => eligible.next().filter(|(_, id)| fits(id)),
                    WaitlistPolicy::Skip => eligible.find(|(_, id)| fits(id)),
                }
                .map(|(pos, _)| pos);
                if let Some(pos) = candidate {
                    let id = o.waiting[pos];
                    if best.is_none_or(|(b, _, _)| id < b) {
                        best = Some((id, offer, pos));
                    }
                }
            }
            let Some((entry, offer, pos)) = best else {
                return;
            };
            self.promote(at, entry, offer, pos, events);
        }
    }

    /// Would this waiting entry still pass the intake rules at `at`?
    fn eligible(&self, at: Millis, entry: WaitEntryId) -> bool {
        if self.rules.is_empty() && self.window == Window::default() {
            let o = &self.offers[self.entries[entry].offer];
            if o.window == Window::default() && o.slot.is_none() {
                return true;
            }
        }
        let e = &self.entries[entry];
        let usage: SmallVec<[(OfferId, u64); 4]> = self.customers.usage_of(e.customer).collect();
        self.intake(at, &[(e.offer, e.quantity)], None, Some(&usage), true)
            .is_none()
    }

    fn promote(
        &mut self,
        at: Millis,
        entry: WaitEntryId,
        offer: OfferId,
        pos: usize,
        events: &mut Vec<Event>,
    ) {
        let list = &mut self.offers[offer].waiting;
        list.remove(pos);
        if list.is_empty() {
            self.waiting_offers.remove(&offer);
        }
        let e = &self.entries[entry];
        let (quantity, customer, channel) = (e.quantity, e.customer, e.channel);
        let expires_at = at + e.hold_ms;
        let mut demand: PoolAmounts = self.offers[offer].demand(quantity).collect();
        demand.sort_unstable_by_key(|d| d.pool);
        let lines = smallvec::smallvec![Line {
            offer,
            quantity: quantity as u32,
        }];
        let reservation = self.promise(
            customer,
            channel,
            lines,
            ReservationState::Held,
            expires_at,
            &demand,
        );
        self.entries[entry].state = EntryState::Promoted(reservation);
        self.emit(
            events,
            at,
            EventKind::Promoted {
                entry,
                reservation,
                expires_at,
                pools: demand,
                channel,
            },
        );
    }

    fn emit(&mut self, events: &mut Vec<Event>, at: Millis, kind: EventKind) {
        self.seq += 1;
        events.push(Event {
            seq: self.seq,
            at,
            kind,
        });
    }

    fn intern_channel(&mut self, channel: &str) -> u16 {
        if let Some(i) = self.channel_id(channel) {
            return i;
        }
        // Validation refuses a new channel beyond CHANNELS_MAX (256), so this fits u16.
        self.channels.push(channel.to_owned());
        (self.channels.len() - 1) as u16
    }

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

    fn reservation_ref(&self, id: ReservationId) -> Result<&Reservation, Error> {
        self.reservations
            .get(id)
            .ok_or(Error::UnknownReservation(id))
    }

    // ----------------------------------------------------------------- queries

    /// A hint before replaying about `commands` commands: sizes the request and
    /// reservation tables once instead of growing them step by step.
    pub fn reserve_for(&mut self, commands: usize) {
        self.requests.reserve(commands);
        self.reservations.reserve(commands);
    }

    /// Time of the last valid command.
    pub fn now(&self) -> Millis {
        self.now
    }

    /// The catalog last loaded (as compiled), if any: what a browser's
    /// [`Mirror`] is built from.
    pub fn catalog(&self) -> Option<&Catalog> {
        self.catalog.as_deref()
    }

    /// Seq of the last event (0 before any).
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// Whether intake is paused: every reserve is refused `paused` until `resume`.
    pub fn is_paused(&self) -> bool {
        self.paused
    }

    /// Hold duration in milliseconds for requests without `hold_ms` (15 minutes until
    /// `set_default_hold` or a catalog changes it).
    pub fn default_hold_ms(&self) -> u64 {
        self.default_hold_ms
    }

    fn pool_view(&self, id: PoolId) -> PoolView {
        let p = &self.pools[id];
        PoolView {
            id,
            name: p.name.clone(),
            capacity: p.capacity,
            held: p.held,
            confirmed: p.confirmed,
            available: p.available(),
        }
    }

    /// One pool's counters, by name; `None` if no pool has that name.
    pub fn pool(&self, name: &str) -> Option<PoolView> {
        self.pool_id(name).map(|id| self.pool_view(id))
    }

    /// Every pool, in id order.
    pub fn pools(&self) -> Vec<PoolView> {
        self.pools.ids().map(|id| self.pool_view(id)).collect()
    }

    fn offer_view(&self, id: OfferId) -> OfferView {
        let o = &self.offers[id];
        OfferView {
            id,
            name: o.name.clone(),
            draws: o
                .draws
                .iter()
                .map(|d| (self.pools[d.pool].name.clone(), d.amount))
                .collect(),
            waitlist: o.policy,
            available: o.available(&self.pools),
            waiting: u32::try_from(o.waiting.len()).unwrap_or(u32::MAX),
        }
    }

    /// One offer and how many units of it can be promised now, by name; `None` if no
    /// offer has that name.
    pub fn offer(&self, name: &str) -> Option<OfferView> {
        self.offer_id(name).map(|id| self.offer_view(id))
    }

    /// Every offer, in id order.
    pub fn offers(&self) -> Vec<OfferView> {
        self.offers.ids().map(|id| self.offer_view(id)).collect()
    }

    /// Units of an offer that can be promised now.
    pub fn offer_available(&self, name: &str) -> Option<u64> {
        self.offer_id(name)
            .map(|id| self.offers[id].available(&self.pools))
    }

    /// A reservation by id, with its customer and channel (private data); `None` if no
    /// reservation has that id. As of the last command's time: a hold past its
    /// `expires_at` shows as held until a command advances time.
    pub fn reservation(&self, id: ReservationId) -> Option<ReservationView> {
        let r = self.reservation_ref(id).ok()?;
        Some(ReservationView {
            id,
            customer: self.customers.name(r.customer).to_owned(),
            channel: self.channels[r.channel as usize].clone(),
            lines: r
                .lines
                .iter()
                .map(|l| (self.offers[l.offer].name.clone(), u64::from(l.quantity)))
                .collect(),
            state: r.state,
            expires_at: r.expires_at,
        })
    }

    /// Number of reservations ever made (ids run from 1 to this).
    pub fn reservation_count(&self) -> u64 {
        self.reservations.len() as u64
    }

    /// `(offer name, units held + confirmed)` for one customer, in offer order.
    pub fn customer_usage(&self, customer: &str) -> Vec<(String, u64)> {
        let Some(c) = self.customers.find(customer, hash_name(customer)) else {
            return Vec::new();
        };
        self.customers
            .usage_of(c)
            .map(|(o, u)| (self.offers[o].name.clone(), u))
            .collect()
    }

    fn entry_view(&self, entry: WaitEntryId) -> Option<WaitEntryView> {
        let e = self.entries.get(entry)?;
        let state = match e.state {
            EntryState::Waiting => {
                let pos = self.offers[e.offer]
                    .waiting
                    .iter()
                    .position(|&x| x == entry)
                    .unwrap_or(0);
                WaitState::Waiting {
                    position: u32::try_from(pos + 1).unwrap_or(u32::MAX),
                }
            }
            EntryState::Promoted(reservation) => WaitState::Promoted { reservation },
            EntryState::Left => WaitState::Left,
        };
        Some(WaitEntryView {
            entry,
            offer: self.offers[e.offer].name.clone(),
            customer: self.customers.name(e.customer).to_owned(),
            quantity: e.quantity,
            state,
        })
    }

    /// A waiting-list entry by id, with its position while it waits; `None` if no entry
    /// has that id.
    pub fn wait_entry(&self, entry: WaitEntryId) -> Option<WaitEntryView> {
        self.entry_view(entry)
    }

    /// The entries waiting on an offer's list, head first.
    pub fn waitlist(&self, offer: &str) -> Option<Vec<WaitEntryView>> {
        let o = &self.offers[self.offer_id(offer)?];
        Some(
            o.waiting
                .iter()
                .filter_map(|&id| self.entry_view(id))
                .collect(),
        )
    }

    /// Availability of every pool and offer now, with no private data.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            seq: self.seq,
            paused: self.paused,
            pools: self
                .pools
                .values()
                .map(|p| PoolLevel {
                    name: p.name.clone(),
                    capacity: p.capacity,
                    held: p.held,
                    confirmed: p.confirmed,
                    shares: p
                        .shares
                        .iter()
                        .map(|s| ShareLevel {
                            channel: s.channel,
                            name: self
                                .channels
                                .get(usize::from(s.channel))
                                .cloned()
                                .unwrap_or_default(),
                            keep: s.keep,
                            promised: s.promised,
                        })
                        .collect(),
                })
                .collect(),
            offers: self
                .offers
                .values()
                .map(|o| OfferLevel {
                    name: o.name.clone(),
                    draws: o.draws.to_vec(),
                })
                .collect(),
        }
    }

    /// A hash over a canonical encoding of the whole state, for comparing
    /// replays and replicas. Costs a full pass over the state.
    pub fn digest(&self) -> Digest {
        let mut h = Xxh3::new();
        self.encode(&mut h);
        Digest(h.digest128())
    }

    fn encode(&self, s: &mut impl Sink) {
        s.bytes(b"kontingent-state-v1");
        // The catalog as logged (serde_json writes struct fields in declaration
        // order and has no maps here, so the bytes are canonical).
        match &self.catalog {
            Some(c) => s.str(&serde_json::to_string(c).unwrap_or_default()),
            None => s.str(""),
        }
        match &self.allowed_channels {
            Some(a) => {
                s.u64(a.len() as u64);
                for c in a {
                    s.u32(u32::from(*c));
                }
            }
            None => s.u64(u64::MAX),
        }
        s.u64(self.now);
        s.u64(self.seq);
        s.bool(self.paused);
        s.u64(self.default_hold_ms);
        s.u64(self.pools.len() as u64);
        for p in self.pools.values() {
            s.str(&p.name);
            s.u64(p.capacity);
            s.u64(p.held);
            s.u64(p.confirmed);
        }
        s.u64(self.offers.len() as u64);
        for o in self.offers.values() {
            s.str(&o.name);
            s.u8(o.policy as u8);
            s.u64(o.draws.len() as u64);
            for d in &o.draws {
                s.u32(d.pool.0);
                s.u64(d.amount);
            }
            s.u64(o.waiting.len() as u64);
            for w in &o.waiting {
                s.u64(w.0);
            }
        }
        s.u64(self.channels.len() as u64);
        for c in &self.channels {
            s.str(c);
        }
        s.u64(self.customers.len() as u64);
        for i in 0..self.customers.len() as u32 {
            s.str(self.customers.name(i));
            let usage: SmallVec<[(OfferId, u64); 4]> = self.customers.usage_of(i).collect();
            s.u64(usage.len() as u64);
            for (o, u) in usage {
                s.u32(o.0);
                s.u64(u);
            }
        }
        s.u64(self.reservations.len() as u64);
        for r in self.reservations.values() {
            s.u64(r.expires_at);
            s.u32(r.customer);
            s.u32(u32::from(r.channel));
            s.u8(r.state as u8);
            s.u64(r.lines.len() as u64);
            for l in &r.lines {
                s.u32(l.offer.0);
                s.u32(l.quantity);
            }
        }
        // The heap's layout is not canonical; its due, live entries are.
        let mut due: Vec<(Millis, u64)> = self
            .expiries
            .iter()
            .filter(|&(t, id)| {
                let r = &self.reservations[ReservationId(id)];
                r.state == ReservationState::Held && r.expires_at == t
            })
            .collect();
        due.sort_unstable();
        s.u64(due.len() as u64);
        for (t, id) in due {
            s.u64(t);
            s.u64(id);
        }
        s.u64(self.entries.len() as u64);
        for e in self.entries.values() {
            s.u32(e.offer.0);
            s.u64(e.quantity);
            s.u32(e.customer);
            s.u32(u32::from(e.channel));
            s.u64(e.hold_ms);
            s.u32(e.joined_at_position);
            match e.state {
                EntryState::Waiting => s.u8(0),
                EntryState::Promoted(r) => {
                    s.u8(1);
                    s.u64(r.0);
                }
                EntryState::Left => s.u8(2),
            }
        }
        s.u64(self.requests.len() as u64);
        for e in self.requests.iter() {
            s.str(self.requests.request_id(e));
            s.u64(e.fingerprint);
            match e.recorded.kind() {
                Kind::Held(r) => {
                    s.u8(0);
                    s.u64(r.0);
                }
                Kind::Confirmed(r) => {
                    s.u8(1);
                    s.u64(r.0);
                }
                Kind::Waiting(w) => {
                    s.u8(2);
                    s.u64(w.0);
                }
                Kind::Refused(i) => {
                    s.u8(3);
                    encode_refusal(s, self.requests.refusal(i));
                }
            }
        }
    }
}

fn encode_refusal(s: &mut impl Sink, r: &Refusal) {
    s.str(r.code());
    match r {
        Refusal::SoldOut {
            pool,
            requested,
            left,
        } => {
            s.str(pool);
            s.u64(*requested);
            s.u64(*left);
        }
        Refusal::CustomerLimit { name, limit, used } => {
            s.str(name);
            s.u64(*limit);
            s.u64(*used);
        }
        Refusal::NotOpenYet { opens_at } => s.u64(*opens_at),
        Refusal::Closed { closed_at } => s.u64(*closed_at),
        Refusal::Paused => {}
        Refusal::Rule { name, detail } => {
            s.str(name);
            s.str(detail);
        }
        Refusal::HoldExpired { expired_at } => s.u64(*expired_at),
    }
}

fn refused(refusal: Refusal) -> (Outcome, First) {
    (Outcome::Refused(refusal.clone()), First::Refused(refusal))
}
