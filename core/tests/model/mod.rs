//! A deliberately simple reference model of the ledger, written from
//! `docs/SEMANTICS.md` only, never from `core/src/`.
//!
//! Catalogs and order-intake rules come from `docs/CATALOG.md` ("Rule kinds",
//! "Sales windows and slots", "Evaluation order", "Waiting lists and rules",
//! "Changing a catalog mid-campaign"), never from `core/src/rules.rs`.
//!
//! Where the text leaves a choice open, the model takes one reading and notes
//! the point it met in `touched` (see [`Amb`]); the harness may re-run that step
//! with the other reading (`reading`) and accepts the ledger's choice only if it
//! then agrees completely, and only if the ledger chooses the same way every time.
//!
//! Obviously-correct over fast:
//! - pool counters are never stored: `held` and `confirmed` are recomputed from
//!   the reservation list every time they are needed;
//! - waiting lists are not stored either: an offer's list is the `waiting`
//!   entries of that offer, in entry-id (= joining) order;
//! - "an `Err` changes nothing" is implemented by running every command on a
//!   clone of the model and keeping the clone only when the result is `Ok`.
//!
//! Errors are a *set of acceptable codes*: where SEMANTICS.md does not say
//! which check comes first (a request that is both over-long and reuses an id,
//! a command that is both late and unknown), every code that applies is
//! accepted. When exactly one check applies, the set has one element.

#![allow(dead_code)]

use kontingent_core::catalog::{Limit, RuleKind, RuleSpec, SalesWindow, Slot};
use kontingent_core::limits::{
    ATTRIBUTES_MAX, ATTRIBUTE_KEY_LEN_MAX, ATTRIBUTE_VALUE_LEN_MAX, CAPACITY_MAX, CHANNEL_LEN_MAX,
    CUSTOMER_ID_LEN_MAX, DRAWS_MAX, DRAW_AMOUNT_MAX, HOLD_MS_DEFAULT, HOLD_MS_MAX, LINES_MAX,
    LINE_QUANTITY_MAX, NAME_LEN_MAX, REQUEST_ID_LEN_MAX, TIMESTAMP_MAX,
};
use kontingent_core::{
    Action, Catalog, Command, Millis, Outcome, Refusal, Request, ReservationId, WaitEntryId,
    WaitlistPolicy,
};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

/// The points where CATALOG.md leaves a choice open. The model's own reading is
/// described first; the alternative is what `reading` switches on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Amb {
    /// A compiled catalog with a questionable but not clearly invalid field
    /// (the string names which): the model loads it; alternative:
    /// `Err(invalid_catalog)`.
    Doubtful(&'static str),
    /// A `per_offer` limit broken by several offers of one request: the model
    /// reports the first in line order; alternative: the first in offer-id order.
    PerOfferOfferOrder,
    /// A customer limit under which the request asks for nothing (requested 0)
    /// while the customer already uses more than the limit (it was lowered):
    /// the model lets the request pass; alternative: refused.
    LimitWithoutRequest,
    /// A `pool` + `amount` limit with a scope: the model counts only the draws of
    /// scoped offers; alternative: every draw on that pool.
    PoolLimitIgnoresScope,
    /// A `value` limit after an offer's price changed: the model values the units
    /// already held/confirmed at the price they were promised at; alternative:
    /// at the current price.
    ValueAtCurrentPrice,
    /// A same-content repeat of a request whose channel the catalog no longer
    /// allows: the model returns the first outcome (idempotency comes first);
    /// alternative: `Err(unknown_channel)`.
    RepeatChecksChannel,
}

/// Acceptable error codes for a rejected command (never empty).
pub type Codes = Vec<&'static str>;

/// Where confirmed or released units came from (mirrors `Standing`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Src {
    New,
    Held,
    Confirmed,
}

/// Per-pool amounts `(pool id, amount)`, aggregated, in pool-id order.
pub type Pools = Vec<(u32, u64)>;

/// The model's events: the same information as `EventKind`, in plain types.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ev {
    CatalogLoaded {
        name: String,
    },
    PoolDefined {
        pool: u32,
        name: String,
        capacity: u64,
    },
    /// `draws` sorted by pool id (SEMANTICS.md does not fix the event's order).
    OfferDefined {
        offer: u32,
        name: String,
        draws: Pools,
        waitlist: WaitlistPolicy,
    },
    CapacityChanged {
        pool: u32,
        capacity: u64,
    },
    DefaultHoldChanged {
        hold_ms: u64,
    },
    Held {
        reservation: u64,
        expires_at: Millis,
        pools: Pools,
    },
    Confirmed {
        reservation: u64,
        from: Src,
        pools: Pools,
    },
    Released {
        reservation: u64,
        from: Src,
        pools: Pools,
    },
    Expired {
        reservation: u64,
        pools: Pools,
    },
    WaitlistJoined {
        entry: u64,
        offer: u32,
        quantity: u64,
        position: u32,
    },
    WaitlistLeft {
        entry: u64,
        offer: u32,
    },
    Promoted {
        entry: u64,
        reservation: u64,
        expires_at: Millis,
        pools: Pools,
    },
    Paused,
    Resumed,
}

impl Ev {
    pub fn name(&self) -> &'static str {
        match self {
            Ev::CatalogLoaded { .. } => "catalog_loaded",
            Ev::PoolDefined { .. } => "pool_defined",
            Ev::OfferDefined { .. } => "offer_defined",
            Ev::CapacityChanged { .. } => "capacity_changed",
            Ev::DefaultHoldChanged { .. } => "default_hold_changed",
            Ev::Held { .. } => "held",
            Ev::Confirmed { .. } => "confirmed",
            Ev::Released { .. } => "released",
            Ev::Expired { .. } => "expired",
            Ev::WaitlistJoined { .. } => "waitlist_joined",
            Ev::WaitlistLeft { .. } => "waitlist_left",
            Ev::Promoted { .. } => "promoted",
            Ev::Paused => "paused",
            Ev::Resumed => "resumed",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MEvent {
    pub seq: u64,
    pub at: Millis,
    pub ev: Ev,
}

#[derive(Clone, Debug)]
pub struct MPool {
    pub name: String,
    pub capacity: u64,
}

#[derive(Clone, Debug)]
pub struct MOffer {
    pub name: String,
    /// `(pool index, amount)` in the order defined.
    pub draws: Vec<(usize, u64)>,
    pub policy: WaitlistPolicy,
    /// Price of one unit (0 for offers defined by `define_offer`).
    pub price: u64,
    pub window: SalesWindow,
    pub slot: Option<Slot>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RState {
    Held,
    Confirmed,
    Released,
    Expired,
}

#[derive(Clone, Debug)]
pub struct MRes {
    pub id: u64,
    pub customer: String,
    pub channel: String,
    /// `(offer index, quantity)` in request order (granted quantity with `up_to`).
    pub lines: Vec<(usize, u64)>,
    /// The unit price of each line's offer when the promise was made.
    pub prices: Vec<u64>,
    pub state: RState,
    /// Hold expiry; for a direct confirmation, the time it was made.
    pub expires_at: Millis,
    /// Confirmed directly (never held).
    pub direct: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EState {
    Waiting,
    Promoted(u64),
    Left,
}

#[derive(Clone, Debug)]
pub struct MEntry {
    pub id: u64,
    pub offer: usize,
    pub quantity: u64,
    pub customer: String,
    pub channel: String,
    pub hold_ms: u64,
    pub state: EState,
}

/// One promise (a hold, a direct confirmation or a promotion) on one pool,
/// with the pool's counters at that moment.
#[derive(Clone, Debug)]
pub struct Promise {
    pub at: Millis,
    pub reservation: u64,
    pub pool: usize,
    pub promised_before: u64,
    pub demand: u64,
    pub capacity: u64,
}

/// What a valid command did.
#[derive(Clone, Debug)]
pub struct Step {
    pub outcome: Outcome,
    pub events: Vec<MEvent>,
}

#[derive(Clone, Debug)]
pub struct Model {
    pub now: Millis,
    pub paused: bool,
    pub default_hold: u64,
    pub pools: Vec<MPool>,
    pub offers: Vec<MOffer>,
    /// Reservation id `n` is at index `n - 1`.
    pub reservations: Vec<MRes>,
    /// Entry id `n` is at index `n - 1`.
    pub entries: Vec<MEntry>,
    /// request id → (request with an empty request id, first outcome).
    pub requests: BTreeMap<String, (Request, Outcome)>,
    /// Every event so far; `events[i].seq == i + 1`.
    pub events: Vec<MEvent>,
    /// Every promise so far, checked against capacity when made.
    pub promises: Vec<Promise>,
    /// The campaign window (open at both ends before a catalog).
    pub window: SalesWindow,
    /// Channels requests may use; `None` before any catalog: every channel.
    pub channels: Option<Vec<String>>,
    /// Order-intake rules, in file order.
    pub rules: Vec<RuleSpec>,
    /// The name of the last loaded catalog.
    pub catalog_name: Option<String>,
    /// Consumers: name → (event type names it is given, cursor).
    pub consumers: BTreeMap<String, (BTreeSet<String>, u64)>,
    /// The seq before the command being applied (before its time advance).
    pub seq_before: u64,
    /// Alternative readings to apply (see [`Amb`]); empty by default.
    pub reading: BTreeSet<Amb>,
    /// Open points met by the last `apply` where the readings differ.
    pub touched: RefCell<BTreeSet<Amb>>,
}

impl Default for Model {
    fn default() -> Self {
        Self::new()
    }
}

/// An event type's name, as SEMANTICS.md lists it (its wire form).
fn type_name(t: &kontingent_core::EventType) -> String {
    serde_json::to_value(t)
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned()
}

fn name_codes(name: &str, max: usize) -> Codes {
    if name.is_empty() {
        vec!["empty"]
    } else if name.len() > max {
        vec!["too_long"]
    } else {
        vec![]
    }
}

fn hold_codes(hold_ms: u64) -> Codes {
    if hold_ms == 0 {
        vec!["zero", "out_of_range"]
    } else if hold_ms > HOLD_MS_MAX {
        vec!["out_of_range"]
    } else {
        vec![]
    }
}

impl Model {
    pub fn new() -> Self {
        Model {
            now: 0,
            paused: false,
            default_hold: HOLD_MS_DEFAULT,
            pools: Vec::new(),
            offers: Vec::new(),
            reservations: Vec::new(),
            entries: Vec::new(),
            requests: BTreeMap::new(),
            events: Vec::new(),
            promises: Vec::new(),
            window: SalesWindow::default(),
            channels: None,
            rules: Vec::new(),
            catalog_name: None,
            consumers: BTreeMap::new(),
            seq_before: 0,
            reading: BTreeSet::new(),
            touched: RefCell::new(BTreeSet::new()),
        }
    }

    /// Note an open point; true when the alternative reading is to be used.
    fn amb(&self, a: Amb) -> bool {
        self.touched.borrow_mut().insert(a);
        self.reading.contains(&a)
    }

    /// `default` unless the two readings differ and the alternative is chosen.
    fn pick<T: PartialEq>(&self, a: Amb, default: T, alternative: T) -> T {
        if default != alternative && self.amb(a) {
            alternative
        } else {
            default
        }
    }

    // ----------------------------------------------------------------- queries

    pub fn pool_index(&self, name: &str) -> Option<usize> {
        self.pools.iter().position(|p| p.name == name)
    }

    pub fn offer_index(&self, name: &str) -> Option<usize> {
        self.offers.iter().position(|o| o.name == name)
    }

    /// Per-pool demand of some lines, `None` if a sum leaves `u64`.
    pub fn demand(&self, lines: &[(usize, u64)]) -> Option<BTreeMap<usize, u64>> {
        let mut demand = BTreeMap::new();
        for &(offer, quantity) in lines {
            for &(pool, amount) in &self.offers[offer].draws {
                let d = quantity.checked_mul(amount)?;
                let slot = demand.entry(pool).or_insert(0u64);
                *slot = slot.checked_add(d)?;
            }
        }
        Some(demand)
    }

    pub fn pools_of(&self, lines: &[(usize, u64)]) -> Pools {
        self.demand(lines)
            .expect("a stored reservation's demand fits in u64")
            .into_iter()
            .map(|(p, d)| (p as u32, d))
            .collect()
    }

    fn sum_in_state(&self, pool: usize, state: RState) -> u64 {
        self.reservations
            .iter()
            .filter(|r| r.state == state)
            .map(|r| {
                self.demand(&r.lines)
                    .unwrap()
                    .get(&pool)
                    .copied()
                    .unwrap_or(0)
            })
            .sum()
    }

    pub fn held(&self, pool: usize) -> u64 {
        self.sum_in_state(pool, RState::Held)
    }

    pub fn confirmed(&self, pool: usize) -> u64 {
        self.sum_in_state(pool, RState::Confirmed)
    }

    pub fn pool_available(&self, pool: usize) -> u64 {
        self.pools[pool]
            .capacity
            .saturating_sub(self.held(pool) + self.confirmed(pool))
    }

    pub fn offer_available(&self, offer: usize) -> u64 {
        self.offers[offer]
            .draws
            .iter()
            .map(|&(p, amount)| self.pool_available(p) / amount)
            .min()
            .unwrap_or(0)
    }

    /// Waiting entries of an offer, in position order (indices into `entries`).
    pub fn waiting(&self, offer: usize) -> Vec<usize> {
        (0..self.entries.len())
            .filter(|&i| self.entries[i].offer == offer && self.entries[i].state == EState::Waiting)
            .collect()
    }

    /// 1-based position of a waiting entry.
    pub fn position(&self, entry_index: usize) -> Option<u32> {
        let e = &self.entries[entry_index];
        if e.state != EState::Waiting {
            return None;
        }
        self.waiting(e.offer)
            .iter()
            .position(|&i| i == entry_index)
            .map(|p| p as u32 + 1)
    }

    /// `(offer name, units held + confirmed)` for a customer, offer order, zeros omitted.
    pub fn customer_usage(&self, customer: &str) -> Vec<(String, u64)> {
        let mut out = Vec::new();
        for (o, offer) in self.offers.iter().enumerate() {
            let units: u64 = self
                .reservations
                .iter()
                .filter(|r| r.customer == customer)
                .filter(|r| matches!(r.state, RState::Held | RState::Confirmed))
                .flat_map(|r| r.lines.iter())
                .filter(|&&(lo, _)| lo == o)
                .map(|&(_, q)| q)
                .sum();
            if units > 0 {
                out.push((offer.name.clone(), units));
            }
        }
        out
    }

    pub fn reservation(&self, id: u64) -> Option<&MRes> {
        if id == 0 {
            return None;
        }
        self.reservations.get((id - 1) as usize)
    }

    pub fn entry(&self, id: u64) -> Option<&MEntry> {
        if id == 0 {
            return None;
        }
        self.entries.get((id - 1) as usize)
    }

    /// Would this entry fit now: every pool has `available >= quantity * amount`,
    /// available as seen by the entry's channel (a kept share is not handed to
    /// another channel's waiting entry either).
    fn fits(&self, entry_index: usize) -> bool {
        let e = &self.entries[entry_index];
        let demand = self.demand(&[(e.offer, e.quantity)]).unwrap();
        demand
            .iter()
            .all(|(&p, &d)| self.available_for(p, &e.channel) >= d)
    }

    // ------------------------------------------------------- channel shares

    /// `(pool, channel, keep)` of every `channel_share` rule.
    fn shares(&self) -> Vec<(usize, &str, u64)> {
        self.rules
            .iter()
            .filter_map(|r| match &r.kind {
                RuleKind::ChannelShare {
                    pool,
                    channel,
                    keep,
                } => Some((
                    self.pool_index(pool).expect("a loaded share names a pool"),
                    channel.as_str(),
                    *keep,
                )),
                _ => None,
            })
            .collect()
    }

    /// Held + confirmed on `pool` by reservations made on `channel`.
    pub fn promised_to(&self, pool: usize, channel: &str) -> u64 {
        self.reservations
            .iter()
            .filter(|r| r.channel == channel)
            .filter(|r| matches!(r.state, RState::Held | RState::Confirmed))
            .map(|r| {
                self.demand(&r.lines)
                    .unwrap()
                    .get(&pool)
                    .copied()
                    .unwrap_or(0)
            })
            .sum()
    }

    /// What `channel` may take from `pool`: `available - max(0, keep - promised
    /// to the share's channel)` for every share of another channel.
    pub fn available_for(&self, pool: usize, channel: &str) -> u64 {
        let kept: u64 = self
            .shares()
            .into_iter()
            .filter(|&(p, ch, _)| p == pool && ch != channel)
            .map(|(p, ch, keep)| keep.saturating_sub(self.promised_to(p, ch)))
            .sum();
        self.pool_available(pool).saturating_sub(kept)
    }

    /// Units of an offer `channel` could be promised now.
    pub fn offer_available_for(&self, offer: usize, channel: &str) -> u64 {
        self.offers[offer]
            .draws
            .iter()
            .map(|&(p, amount)| self.available_for(p, channel) / amount)
            .min()
            .unwrap_or(0)
    }

    // ------------------------------------------------------- intake rules

    fn window_refusal(w: &SalesWindow, at: Millis) -> Option<Refusal> {
        if let Some(opens_at) = w.opens_at {
            if at < opens_at {
                return Some(Refusal::NotOpenYet { opens_at });
            }
        }
        if let Some(closed_at) = w.closes_at {
            if at >= closed_at {
                return Some(Refusal::Closed { closed_at });
            }
        }
        None
    }

    fn rule(name: &str) -> Refusal {
        Refusal::Rule {
            name: name.to_owned(),
            detail: String::new(),
        }
    }

    /// Evaluation-order steps 2 and 3: the campaign window, then per line the
    /// offer window and the slot (closed, same-day cut-off, lead time).
    fn window_and_slots(&self, at: Millis, lines: &[(usize, u64)]) -> Option<Refusal> {
        if let Some(r) = Self::window_refusal(&self.window, at) {
            return Some(r);
        }
        for &(o, _) in lines {
            let offer = &self.offers[o];
            if let Some(r) = Self::window_refusal(&offer.window, at) {
                return Some(r);
            }
            if let Some(slot) = &offer.slot {
                if at >= slot.starts_at {
                    return Some(Refusal::Closed {
                        closed_at: slot.starts_at,
                    });
                }
                if slot.cutoff_at.is_some_and(|c| at >= c) {
                    return Some(Self::rule("same_day_cutoff"));
                }
                // Refused when at > starts_at - lead (exactly lead before: accepted).
                if slot
                    .lead_ms
                    .is_some_and(|lead| at as u128 + lead as u128 > slot.starts_at as u128)
                {
                    return Some(Self::rule("lead_time"));
                }
            }
        }
        None
    }

    fn in_scope(&self, rule: &RuleSpec, offer: usize) -> bool {
        rule.offers.is_empty() || rule.offers.iter().any(|n| *n == self.offers[offer].name)
    }

    /// `(offer, quantity, unit price when promised)` of every line of the
    /// customer's held and confirmed reservations.
    fn live_lines(&self, customer: &str) -> Vec<(usize, u64, u64)> {
        self.reservations
            .iter()
            .filter(|r| r.customer == customer)
            .filter(|r| matches!(r.state, RState::Held | RState::Confirmed))
            .flat_map(|r| {
                r.lines
                    .iter()
                    .zip(&r.prices)
                    .map(|(&(o, q), &price)| (o, q, price))
            })
            .collect()
    }

    fn draw_amount(&self, offer: usize, pool: usize) -> u64 {
        self.offers[offer]
            .draws
            .iter()
            .find(|&&(p, _)| p == pool)
            .map_or(0, |&(_, a)| a)
    }

    /// `used + requested > limit`, with the open point of a request that asks
    /// for nothing under a limit that is already exceeded.
    fn over(&self, name: &str, limit: u64, used: u128, requested: u128) -> Option<Refusal> {
        let refusal = || Refusal::CustomerLimit {
            name: name.to_owned(),
            limit,
            used: u64::try_from(used).unwrap_or(u64::MAX),
        };
        if requested == 0 {
            let alternative = (used > limit as u128).then(refusal);
            return self.pick(Amb::LimitWithoutRequest, None, alternative);
        }
        (used + requested > limit as u128).then(refusal)
    }

    /// A `customer_limit` rule for `customer` asking for `lines`.
    fn customer_limit(
        &self,
        rule: &RuleSpec,
        limit: &Limit,
        per_offer: bool,
        customer: &str,
        lines: &[(usize, u64)],
    ) -> Option<Refusal> {
        let live = self.live_lines(customer);
        let price = |o: usize| self.offers[o].price as u128;
        // Units or value of offer `o`'s lines (None = all scoped offers).
        let measure = |only: Option<usize>, value: bool, current: bool| -> (u128, u128) {
            let take = |o: usize| self.in_scope(rule, o) && only.is_none_or(|x| x == o);
            let used = live
                .iter()
                .filter(|&&(o, _, _)| take(o))
                .map(|&(o, q, then)| {
                    if !value {
                        q as u128
                    } else if current {
                        q as u128 * price(o)
                    } else {
                        q as u128 * then as u128
                    }
                })
                .sum();
            let requested = lines
                .iter()
                .filter(|&&(o, _)| take(o))
                .map(|&(o, q)| {
                    if value {
                        q as u128 * price(o)
                    } else {
                        q as u128
                    }
                })
                .sum();
            (used, requested)
        };
        let judge = |only: Option<usize>, value: bool, lim: u64| -> Option<Refusal> {
            let (used, requested) = measure(only, value, false);
            let default = self.over(&rule.name, lim, used, requested);
            if !value {
                return default;
            }
            let (used, requested) = measure(only, value, true);
            let alternative = self.over(&rule.name, lim, used, requested);
            self.pick(Amb::ValueAtCurrentPrice, default, alternative)
        };
        match limit {
            Limit::Units(lim) | Limit::Value(lim) => {
                let value = matches!(limit, Limit::Value(_));
                if !per_offer {
                    return judge(None, value, *lim);
                }
                // Each scoped offer of the request separately.
                let mut seen: Vec<usize> = Vec::new();
                for &(o, _) in lines {
                    if self.in_scope(rule, o) && !seen.contains(&o) {
                        seen.push(o);
                    }
                }
                let broken: Vec<(usize, Refusal)> = seen
                    .iter()
                    .filter_map(|&o| judge(Some(o), value, *lim).map(|r| (o, r)))
                    .collect();
                let default = broken.first().map(|(_, r)| r.clone());
                let alternative = broken
                    .iter()
                    .min_by_key(|(o, _)| *o)
                    .map(|(_, r)| r.clone());
                self.pick(Amb::PerOfferOfferOrder, default, alternative)
            }
            Limit::PoolAmount { pool, amount } => {
                let p = self.pool_index(pool).expect("a loaded limit names a pool");
                let count = |scoped: bool| -> (u128, u128) {
                    let take = |o: usize| !scoped || self.in_scope(rule, o);
                    let used = live
                        .iter()
                        .filter(|&&(o, _, _)| take(o))
                        .map(|&(o, q, _)| q as u128 * self.draw_amount(o, p) as u128)
                        .sum();
                    let requested = lines
                        .iter()
                        .filter(|&&(o, _)| take(o))
                        .map(|&(o, q)| q as u128 * self.draw_amount(o, p) as u128)
                        .sum();
                    (used, requested)
                };
                let (used, requested) = count(true);
                let default = self.over(&rule.name, *amount, used, requested);
                if rule.offers.is_empty() {
                    return default;
                }
                let (used, requested) = count(false);
                let alternative = self.over(&rule.name, *amount, used, requested);
                self.pick(Amb::PoolLimitIgnoresScope, default, alternative)
            }
        }
    }

    /// Evaluation-order step 4: the rules in file order (channel shares act in
    /// the capacity step).
    fn rules_refusal(&self, r: &Request, lines: &[(usize, u64)]) -> Option<Refusal> {
        for rule in &self.rules {
            let scoped: Vec<(usize, u64)> = lines
                .iter()
                .copied()
                .filter(|&(o, _)| self.in_scope(rule, o))
                .collect();
            let refusal = match &rule.kind {
                RuleKind::CustomerLimit { limit, per_offer } => {
                    self.customer_limit(rule, limit, *per_offer, &r.customer, lines)
                }
                RuleKind::OrderSize {
                    min_units,
                    max_units,
                } => {
                    let units: u128 = scoped.iter().map(|&(_, q)| q as u128).sum();
                    let small = min_units.is_some_and(|m| units < m as u128);
                    let big = max_units.is_some_and(|m| units > m as u128);
                    (!scoped.is_empty() && (small || big)).then(|| Self::rule(&rule.name))
                }
                RuleKind::MinOrderValue { value } => {
                    let total: u128 = scoped
                        .iter()
                        .map(|&(o, q)| q as u128 * self.offers[o].price as u128)
                        .sum();
                    (!scoped.is_empty() && total < *value as u128).then(|| Self::rule(&rule.name))
                }
                RuleKind::AllowedValues { attribute, values } => {
                    let ok = r
                        .attributes
                        .get(attribute)
                        .is_some_and(|v| values.contains(v));
                    (!scoped.is_empty() && !ok).then(|| Self::rule(&rule.name))
                }
                RuleKind::ChannelShare { .. } => None,
            };
            if refusal.is_some() {
                return refusal;
            }
        }
        None
    }

    /// May this waiting entry be promoted at `t`: it would still pass the
    /// windows and slots and its customer limits (attribute, order-size and
    /// value rules were checked when it joined).
    fn eligible(&self, entry_index: usize, t: Millis) -> bool {
        let e = &self.entries[entry_index];
        let lines = [(e.offer, e.quantity)];
        if self.window_and_slots(t, &lines).is_some() {
            return false;
        }
        self.rules.iter().all(|rule| match &rule.kind {
            RuleKind::CustomerLimit { limit, per_offer } => self
                .customer_limit(rule, limit, *per_offer, &e.customer, &lines)
                .is_none(),
            _ => true,
        })
    }

    // ----------------------------------------------------------------- apply

    /// Apply a command. `Ok`: the outcome and the events this command emitted.
    /// `Err`: the acceptable error codes; the model is unchanged.
    pub fn apply(&mut self, cmd: &Command) -> Result<Step, Codes> {
        self.touched.borrow_mut().clear();
        let mut codes: Codes = Vec::new();
        if cmd.at > TIMESTAMP_MAX {
            codes.push("out_of_range");
        }
        if cmd.at < self.now {
            codes.push("time_went_backwards");
        }
        let mut next = self.clone();
        let first_new = next.events.len();
        next.seq_before = first_new as u64;
        if codes.is_empty() {
            next.advance_to(cmd.at);
        }
        let result = next.run(cmd.at, &cmd.action);
        // The open points met count even when the command turns out an `Err`.
        *self.touched.borrow_mut() = next.touched.borrow().clone();
        match result {
            Ok(outcome) if codes.is_empty() => {
                let events = next.events[first_new..].to_vec();
                *self = next;
                Ok(Step { outcome, events })
            }
            Ok(_) => Err(codes),
            Err(more) => {
                codes.extend(more);
                Err(codes)
            }
        }
    }

    fn emit(&mut self, at: Millis, ev: Ev) {
        let seq = self.events.len() as u64 + 1;
        self.events.push(MEvent { seq, at, ev });
    }

    /// Expire every hold due at or before `at`, one by one in
    /// `(expires_at, id)` order, serving the waiting lists after each.
    fn advance_to(&mut self, at: Millis) {
        loop {
            let due = self
                .reservations
                .iter()
                .filter(|r| r.state == RState::Held && r.expires_at <= at)
                .min_by_key(|r| (r.expires_at, r.id))
                .map(|r| r.id);
            let Some(id) = due else { break };
            let index = (id - 1) as usize;
            self.reservations[index].state = RState::Expired;
            let t = self.reservations[index].expires_at;
            assert!(
                t >= self.now,
                "model: an expiry in the past was not processed"
            );
            let pools = self.pools_of(&self.reservations[index].lines.clone());
            self.emit(
                t,
                Ev::Expired {
                    reservation: id,
                    pools,
                },
            );
            self.serve(t);
        }
        self.now = at;
    }

    /// Promote waiting entries until no list has a candidate. Never while paused.
    fn serve(&mut self, t: Millis) {
        if self.paused {
            return;
        }
        loop {
            let mut best: Option<usize> = None;
            for o in 0..self.offers.len() {
                // Entries that may not be promoted now are passed over; they
                // keep their place.
                let list: Vec<usize> = self
                    .waiting(o)
                    .into_iter()
                    .filter(|&i| self.eligible(i, t))
                    .collect();
                let candidate = match self.offers[o].policy {
                    WaitlistPolicy::Strict => list.first().copied().filter(|&i| self.fits(i)),
                    WaitlistPolicy::Skip => list.iter().copied().find(|&i| self.fits(i)),
                };
                if let Some(i) = candidate {
                    if best.is_none_or(|b| self.entries[i].id < self.entries[b].id) {
                        best = Some(i);
                    }
                }
            }
            let Some(i) = best else { break };
            let e = self.entries[i].clone();
            let expires_at = t + e.hold_ms;
            let lines = vec![(e.offer, e.quantity)];
            let id = self.promise(
                t,
                &e.customer,
                &e.channel,
                lines.clone(),
                RState::Held,
                expires_at,
                false,
            );
            self.entries[i].state = EState::Promoted(id);
            let pools = self.pools_of(&lines);
            self.emit(
                t,
                Ev::Promoted {
                    entry: e.id,
                    reservation: id,
                    expires_at,
                    pools,
                },
            );
        }
    }

    /// Make a promise: checks the invariant, creates the reservation.
    #[allow(clippy::too_many_arguments)]
    fn promise(
        &mut self,
        at: Millis,
        customer: &str,
        channel: &str,
        lines: Vec<(usize, u64)>,
        state: RState,
        expires_at: Millis,
        direct: bool,
    ) -> u64 {
        let id = self.reservations.len() as u64 + 1;
        let demand = self.demand(&lines).expect("validated demand");
        for (&pool, &d) in &demand {
            let promised_before = self.held(pool) + self.confirmed(pool);
            let capacity = self.pools[pool].capacity;
            assert!(
                promised_before + d <= capacity,
                "model bug: promise beyond capacity on pool {pool}"
            );
            self.promises.push(Promise {
                at,
                reservation: id,
                pool,
                promised_before,
                demand: d,
                capacity,
            });
        }
        let prices = lines.iter().map(|&(o, _)| self.offers[o].price).collect();
        self.reservations.push(MRes {
            id,
            customer: customer.to_owned(),
            channel: channel.to_owned(),
            lines,
            prices,
            state,
            expires_at,
            direct,
        });
        id
    }

    fn run(&mut self, at: Millis, action: &Action) -> Result<Outcome, Codes> {
        match action {
            Action::LoadCatalog(catalog) => self.load_catalog(at, catalog),
            Action::DefinePool { pool, capacity } => {
                let mut codes = name_codes(pool, NAME_LEN_MAX);
                if self.pool_index(pool).is_some() {
                    codes.push("duplicate");
                }
                if *capacity > CAPACITY_MAX {
                    codes.push("out_of_range");
                }
                if !codes.is_empty() {
                    return Err(codes);
                }
                self.pools.push(MPool {
                    name: pool.clone(),
                    capacity: *capacity,
                });
                let id = self.pools.len() as u32 - 1;
                self.emit(
                    at,
                    Ev::PoolDefined {
                        pool: id,
                        name: pool.clone(),
                        capacity: *capacity,
                    },
                );
                Ok(Outcome::Done)
            }
            Action::DefineOffer {
                offer,
                draws,
                waitlist,
            } => {
                let mut codes = name_codes(offer, NAME_LEN_MAX);
                if self.offer_index(offer).is_some() {
                    codes.push("duplicate");
                }
                if draws.is_empty() {
                    codes.extend(["empty", "too_many", "out_of_range"]);
                }
                if draws.len() > DRAWS_MAX {
                    codes.push("too_many");
                }
                let mut resolved = Vec::new();
                for d in draws {
                    // SEMANTICS.md: a looked-up name over 64 bytes is too_long.
                    if d.pool.len() > NAME_LEN_MAX {
                        codes.push("too_long");
                    }
                    match self.pool_index(&d.pool) {
                        None => codes.push("unknown_pool"),
                        Some(p) => {
                            if resolved.iter().any(|&(q, _)| q == p) {
                                codes.extend(["duplicate", "misuse"]);
                            }
                            resolved.push((p, d.amount));
                        }
                    }
                    if d.amount == 0 {
                        codes.extend(["zero", "out_of_range"]);
                    } else if d.amount > DRAW_AMOUNT_MAX {
                        codes.push("out_of_range");
                    }
                }
                if !codes.is_empty() {
                    return Err(codes);
                }
                self.offers.push(MOffer {
                    name: offer.clone(),
                    draws: resolved.clone(),
                    policy: *waitlist,
                    price: 0,
                    window: SalesWindow::default(),
                    slot: None,
                });
                let mut sorted: Pools = resolved.iter().map(|&(p, a)| (p as u32, a)).collect();
                sorted.sort();
                let id = self.offers.len() as u32 - 1;
                self.emit(
                    at,
                    Ev::OfferDefined {
                        offer: id,
                        name: offer.clone(),
                        draws: sorted,
                        waitlist: *waitlist,
                    },
                );
                Ok(Outcome::Done)
            }
            Action::SetCapacity { pool, capacity } => {
                let mut codes = Vec::new();
                if pool.len() > NAME_LEN_MAX {
                    codes.push("too_long");
                }
                let index = self.pool_index(pool);
                if index.is_none() {
                    codes.push("unknown_pool");
                }
                if *capacity > CAPACITY_MAX {
                    codes.push("out_of_range");
                }
                if !codes.is_empty() {
                    return Err(codes);
                }
                let p = index.unwrap();
                let old = self.pools[p].capacity;
                if old == *capacity {
                    return Ok(Outcome::Done);
                }
                self.pools[p].capacity = *capacity;
                self.emit(
                    at,
                    Ev::CapacityChanged {
                        pool: p as u32,
                        capacity: *capacity,
                    },
                );
                if *capacity > old {
                    self.serve(at);
                }
                Ok(Outcome::Done)
            }
            Action::SetDefaultHold { hold_ms } => {
                let codes = hold_codes(*hold_ms);
                if !codes.is_empty() {
                    return Err(codes);
                }
                if self.default_hold != *hold_ms {
                    self.default_hold = *hold_ms;
                    self.emit(at, Ev::DefaultHoldChanged { hold_ms: *hold_ms });
                }
                Ok(Outcome::Done)
            }
            Action::Reserve(request) => self.reserve(at, request),
            Action::Confirm { reservation } => self.confirm(at, reservation.0),
            Action::Release { reservation } => self.release(at, reservation.0),
            Action::LeaveWaitlist { entry } => self.leave(at, entry.0),
            Action::Pause => {
                if !self.paused {
                    self.paused = true;
                    self.emit(at, Ev::Paused);
                }
                Ok(Outcome::Done)
            }
            Action::Resume => {
                if self.paused {
                    self.paused = false;
                    self.emit(at, Ev::Resumed);
                    self.serve(at);
                }
                Ok(Outcome::Done)
            }
            Action::Tick => Ok(Outcome::Done),
            Action::DefineConsumer {
                consumer,
                events,
                after,
            } => {
                // "at most the ledger's seq before this command": the time advance
                // of this very command has already run on `self`, so count without it.
                let seq_before = self.seq_before;
                let mut codes = name_codes(consumer, NAME_LEN_MAX);
                if events.is_empty() {
                    codes.push("empty");
                }
                let names: Vec<String> = events.iter().map(type_name).collect();
                let set: BTreeSet<String> = names.iter().cloned().collect();
                if set.len() != names.len() {
                    codes.push("duplicate");
                }
                if after.is_some_and(|a| a > seq_before) {
                    codes.push("out_of_range");
                }
                if !self.consumers.contains_key(consumer) && self.consumers.len() >= 64 {
                    codes.push("too_many");
                }
                if !codes.is_empty() {
                    return Err(codes);
                }
                let entry = self
                    .consumers
                    .entry(consumer.clone())
                    .or_insert((BTreeSet::new(), 0));
                entry.0 = set;
                if let Some(a) = after {
                    entry.1 = *a;
                }
                Ok(Outcome::Done)
            }
            Action::Ack { consumer, seq } => {
                let mut codes = Vec::new();
                if consumer.len() > NAME_LEN_MAX {
                    codes.push("too_long");
                } else if !self.consumers.contains_key(consumer) {
                    codes.push("unknown_consumer");
                }
                if *seq > self.seq_before {
                    codes.push("out_of_range");
                }
                if !codes.is_empty() {
                    return Err(codes);
                }
                let c = self.consumers.get_mut(consumer).unwrap();
                c.1 = c.1.max(*seq);
                Ok(Outcome::Done)
            }
        }
    }

    /// What `consume(consumer, limit)` gives: the named events after the cursor,
    /// in seq order, at most `limit`, and `through` (SEMANTICS.md, Consumers).
    pub fn consume(&self, consumer: &str, limit: usize) -> Option<(Vec<MEvent>, u64)> {
        let (types, cursor) = self.consumers.get(consumer)?;
        let given: Vec<MEvent> = self
            .events
            .iter()
            .filter(|e| e.seq > *cursor && types.contains(e.ev.name()))
            .take(limit)
            .cloned()
            .collect();
        assert!(limit > 0, "consume takes a limit of at least 1");
        let through = if given.len() == limit {
            given.last().unwrap().seq
        } else {
            self.events.len() as u64
        };
        Some((given, through))
    }

    /// Every validation error of a request's own content (not idempotency).
    fn request_codes(&self, r: &Request) -> Codes {
        let mut codes = name_codes(&r.request_id, REQUEST_ID_LEN_MAX);
        codes.extend(name_codes(&r.customer, CUSTOMER_ID_LEN_MAX));
        codes.extend(name_codes(&r.channel, CHANNEL_LEN_MAX));
        if r.attributes.len() > ATTRIBUTES_MAX {
            codes.push("too_many");
        }
        for (k, v) in &r.attributes {
            codes.extend(name_codes(k, ATTRIBUTE_KEY_LEN_MAX));
            if v.len() > ATTRIBUTE_VALUE_LEN_MAX {
                codes.push("too_long");
            }
        }
        if r.lines.is_empty() {
            codes.extend(["empty", "too_many", "out_of_range"]);
        }
        if r.lines.len() > LINES_MAX {
            codes.push("too_many");
        }
        if (r.up_to || r.waitlist) && r.lines.len() != 1 {
            codes.push("misuse");
        }
        if let Some(h) = r.hold_ms {
            codes.extend(hold_codes(h));
        }
        let mut all_known = true;
        let mut units: Option<u64> = Some(0);
        for line in &r.lines {
            if line.offer.len() > NAME_LEN_MAX {
                codes.push("too_long");
            }
            if self.offer_index(&line.offer).is_none() {
                codes.push("unknown_offer");
                all_known = false;
            }
            if line.quantity == 0 {
                codes.extend(["zero", "out_of_range"]);
            } else if line.quantity > LINE_QUANTITY_MAX {
                codes.push("out_of_range");
            }
            units = units.and_then(|u| u.checked_add(line.quantity));
        }
        if all_known {
            let lines: Vec<(usize, u64)> = r
                .lines
                .iter()
                .map(|l| (self.offer_index(&l.offer).unwrap(), l.quantity))
                .collect();
            if self.demand(&lines).is_none() || units.is_none() {
                codes.push("overflow");
            }
        }
        codes
    }

    fn reserve(&mut self, at: Millis, r: &Request) -> Result<Outcome, Codes> {
        let mut codes = self.request_codes(r);
        let content = Request {
            request_id: String::new(),
            ..r.clone()
        };
        let unknown_channel = self
            .channels
            .as_ref()
            .is_some_and(|allowed| !allowed.contains(&r.channel));
        // 1. Idempotency.
        if let Some((seen, first)) = self.requests.get(&r.request_id) {
            if *seen == content {
                assert!(
                    codes.is_empty(),
                    "model: a remembered request became invalid"
                );
                if unknown_channel && self.amb(Amb::RepeatChecksChannel) {
                    return Err(vec!["unknown_channel"]);
                }
                return Ok(first.clone());
            }
            codes.push("request_id_reused");
        }
        if unknown_channel {
            codes.push("unknown_channel");
        }
        if !codes.is_empty() {
            return Err(codes);
        }
        let lines: Vec<(usize, u64)> = r
            .lines
            .iter()
            .map(|l| (self.offer_index(&l.offer).unwrap(), l.quantity))
            .collect();
        // 2. Paused. 3. Windows and slots, then the rules in file order.
        // 4./5. Capacity (with channel shares).
        let outcome = if self.paused {
            Outcome::Refused(Refusal::Paused)
        } else if let Some(refusal) = self
            .window_and_slots(at, &lines)
            .or_else(|| self.rules_refusal(r, &lines))
        {
            Outcome::Refused(refusal)
        } else {
            self.capacity(at, r)
        };
        self.requests
            .insert(r.request_id.clone(), (content, outcome.clone()));
        Ok(outcome)
    }

    fn capacity(&mut self, at: Millis, r: &Request) -> Outcome {
        let mut lines: Vec<(usize, u64)> = r
            .lines
            .iter()
            .map(|l| (self.offer_index(&l.offer).unwrap(), l.quantity))
            .collect();
        let channel = r.channel.as_str();
        if r.up_to {
            let granted = lines[0]
                .1
                .min(self.offer_available_for(lines[0].0, channel));
            if granted > 0 {
                lines[0].1 = granted;
            }
        }
        let demand = self.demand(&lines).expect("validated demand");
        // BTreeMap iterates in pool-id order: the first failing pool wins.
        let sold_out = demand
            .iter()
            .find(|(&p, &d)| d > self.available_for(p, channel))
            .map(|(&p, &d)| Refusal::SoldOut {
                pool: self.pools[p].name.clone(),
                requested: d,
                left: self.available_for(p, channel),
            });
        if let Some(refusal) = sold_out {
            if !r.waitlist {
                return Outcome::Refused(refusal);
            }
            let offer = lines[0].0;
            let quantity = r.lines[0].quantity;
            let id = self.entries.len() as u64 + 1;
            self.entries.push(MEntry {
                id,
                offer,
                quantity,
                customer: r.customer.clone(),
                channel: r.channel.clone(),
                hold_ms: r.hold_ms.unwrap_or(self.default_hold),
                state: EState::Waiting,
            });
            let position = self.waiting(offer).len() as u32;
            self.emit(
                at,
                Ev::WaitlistJoined {
                    entry: id,
                    offer: offer as u32,
                    quantity,
                    position,
                },
            );
            return Outcome::Waiting {
                entry: WaitEntryId(id),
                position,
            };
        }
        let units: u64 = lines.iter().map(|&(_, q)| q).sum();
        let pools = self.pools_of(&lines);
        if r.confirm {
            let id = self.promise(
                at,
                &r.customer,
                &r.channel,
                lines,
                RState::Confirmed,
                at,
                true,
            );
            self.emit(
                at,
                Ev::Confirmed {
                    reservation: id,
                    from: Src::New,
                    pools,
                },
            );
            Outcome::Confirmed {
                reservation: ReservationId(id),
                units,
            }
        } else {
            let expires_at = at + r.hold_ms.unwrap_or(self.default_hold);
            let id = self.promise(
                at,
                &r.customer,
                &r.channel,
                lines,
                RState::Held,
                expires_at,
                false,
            );
            self.emit(
                at,
                Ev::Held {
                    reservation: id,
                    expires_at,
                    pools,
                },
            );
            Outcome::Held {
                reservation: ReservationId(id),
                expires_at,
                units,
            }
        }
    }

    fn confirm(&mut self, at: Millis, id: u64) -> Result<Outcome, Codes> {
        let Some(r) = self.reservation(id).cloned() else {
            return Err(vec!["unknown_reservation"]);
        };
        let units: u64 = r.lines.iter().map(|&(_, q)| q).sum();
        let confirmed = Outcome::Confirmed {
            reservation: ReservationId(id),
            units,
        };
        match r.state {
            RState::Held => {
                self.reservations[(id - 1) as usize].state = RState::Confirmed;
                let pools = self.pools_of(&r.lines);
                self.emit(
                    at,
                    Ev::Confirmed {
                        reservation: id,
                        from: Src::Held,
                        pools,
                    },
                );
                Ok(confirmed)
            }
            RState::Confirmed => Ok(confirmed),
            RState::Expired => Ok(Outcome::Refused(Refusal::HoldExpired {
                expired_at: r.expires_at,
            })),
            RState::Released => Err(vec!["reservation_state"]),
        }
    }

    fn release(&mut self, at: Millis, id: u64) -> Result<Outcome, Codes> {
        let Some(r) = self.reservation(id).cloned() else {
            return Err(vec!["unknown_reservation"]);
        };
        let released = Outcome::Released {
            reservation: ReservationId(id),
        };
        let from = match r.state {
            RState::Held => Src::Held,
            RState::Confirmed => Src::Confirmed,
            RState::Released => return Ok(released),
            RState::Expired => {
                return Ok(Outcome::Refused(Refusal::HoldExpired {
                    expired_at: r.expires_at,
                }))
            }
        };
        self.reservations[(id - 1) as usize].state = RState::Released;
        let pools = self.pools_of(&r.lines);
        self.emit(
            at,
            Ev::Released {
                reservation: id,
                from,
                pools,
            },
        );
        self.serve(at);
        Ok(released)
    }

    fn leave(&mut self, at: Millis, id: u64) -> Result<Outcome, Codes> {
        let Some(e) = self.entry(id).cloned() else {
            return Err(vec!["unknown_wait_entry"]);
        };
        let left = Outcome::Left {
            entry: WaitEntryId(id),
        };
        match e.state {
            EState::Left => Ok(left),
            EState::Promoted(r) => Ok(Outcome::Promoted {
                entry: WaitEntryId(id),
                reservation: ReservationId(r),
            }),
            EState::Waiting => {
                self.entries[(id - 1) as usize].state = EState::Left;
                self.emit(
                    at,
                    Ev::WaitlistLeft {
                        entry: id,
                        offer: e.offer as u32,
                    },
                );
                self.serve(at);
                Ok(left)
            }
        }
    }
}

impl Model {
    /// `load_catalog`: validate, compare with what is loaded, then apply the
    /// difference (CATALOG.md "Changing a catalog mid-campaign").
    fn load_catalog(&mut self, at: Millis, cat: &Catalog) -> Result<Outcome, Codes> {
        let (invalid, doubtful) = catalog_issues(cat);
        let mut codes: Codes = Vec::new();
        if !invalid.is_empty() {
            codes.push("invalid_catalog");
        }
        let mut kinds: Vec<&'static str> = doubtful.iter().map(|(k, _)| *k).collect();
        kinds.dedup();
        for kind in kinds {
            if self.amb(Amb::Doubtful(kind)) && !codes.contains(&"invalid_catalog") {
                codes.push("invalid_catalog");
            }
        }
        // Nothing may disappear, and an offer's draws never change.
        let mut change = false;
        for pool in &self.pools {
            change |= !cat.pools.iter().any(|p| p.name == pool.name);
        }
        for offer in &self.offers {
            match cat.offers.iter().find(|o| o.name == offer.name) {
                None => change = true,
                Some(new) => {
                    let old: Vec<(&str, u64)> = offer
                        .draws
                        .iter()
                        .map(|&(p, a)| (self.pools[p].name.as_str(), a))
                        .collect();
                    let new: Vec<(&str, u64)> = new
                        .draws
                        .iter()
                        .map(|d| (d.pool.as_str(), d.amount))
                        .collect();
                    change |= old != new;
                }
            }
        }
        if change {
            codes.push("catalog_change");
        }
        if !codes.is_empty() {
            return Err(codes);
        }

        self.emit(
            at,
            Ev::CatalogLoaded {
                name: cat.name.clone(),
            },
        );
        for spec in &cat.pools {
            match self.pool_index(&spec.name) {
                Some(p) => {
                    if self.pools[p].capacity != spec.capacity {
                        self.pools[p].capacity = spec.capacity;
                        self.emit(
                            at,
                            Ev::CapacityChanged {
                                pool: p as u32,
                                capacity: spec.capacity,
                            },
                        );
                    }
                }
                None => {
                    self.pools.push(MPool {
                        name: spec.name.clone(),
                        capacity: spec.capacity,
                    });
                    self.emit(
                        at,
                        Ev::PoolDefined {
                            pool: self.pools.len() as u32 - 1,
                            name: spec.name.clone(),
                            capacity: spec.capacity,
                        },
                    );
                }
            }
        }
        for spec in &cat.offers {
            match self.offer_index(&spec.name) {
                Some(o) => {
                    let offer = &mut self.offers[o];
                    offer.price = spec.price;
                    offer.window = spec.window;
                    offer.slot = spec.slot.clone();
                    offer.policy = spec.waitlist;
                }
                None => {
                    let draws: Vec<(usize, u64)> = spec
                        .draws
                        .iter()
                        .map(|d| (self.pool_index(&d.pool).unwrap(), d.amount))
                        .collect();
                    let mut sorted: Pools = draws.iter().map(|&(p, a)| (p as u32, a)).collect();
                    sorted.sort();
                    self.offers.push(MOffer {
                        name: spec.name.clone(),
                        draws,
                        policy: spec.waitlist,
                        price: spec.price,
                        window: spec.window,
                        slot: spec.slot.clone(),
                    });
                    self.emit(
                        at,
                        Ev::OfferDefined {
                            offer: self.offers.len() as u32 - 1,
                            name: spec.name.clone(),
                            draws: sorted,
                            waitlist: spec.waitlist,
                        },
                    );
                }
            }
        }
        if self.default_hold != cat.default_hold_ms {
            self.default_hold = cat.default_hold_ms;
            self.emit(
                at,
                Ev::DefaultHoldChanged {
                    hold_ms: cat.default_hold_ms,
                },
            );
        }
        self.window = cat.window;
        self.channels = Some(cat.channels.clone());
        self.rules = cat.rules.clone();
        self.catalog_name = Some(cat.name.clone());
        // CATALOG.md, "Consumers": each declared consumer is defined, a known one
        // keeps its cursor and takes the catalog's event types.
        for k in &cat.consumers {
            let types = k.events.iter().map(type_name).collect();
            self.consumers
                .entry(k.name.clone())
                .or_insert((BTreeSet::new(), 0))
                .0 = types;
        }
        self.serve(at);
        Ok(Outcome::Done)
    }
}

/// Problems of a compiled catalog on its own: `(clearly invalid, questionable)`.
/// Clearly invalid is what CATALOG.md / issue 4 list (unknown references,
/// duplicate names, zero or overflowing amounts, windows that close before
/// they open) plus the limits SEMANTICS.md puts on the same fields. Questionable
/// is everything a validator might reasonably reject or accept; each carries
/// the kind used in [`Amb::Doubtful`].
pub fn catalog_issues(cat: &Catalog) -> (Vec<String>, Vec<(&'static str, String)>) {
    let mut bad: Vec<String> = Vec::new();
    let mut doubt: Vec<(&'static str, String)> = Vec::new();
    let name_ok = |n: &str, max: usize| !n.is_empty() && n.len() <= max;
    if cat.default_hold_ms == 0 || cat.default_hold_ms > HOLD_MS_MAX {
        bad.push(format!("default_hold_ms {}", cat.default_hold_ms));
    }
    if cat.channels.is_empty() {
        doubt.push(("no_channels", "channels: empty".into()));
    }
    for (i, ch) in cat.channels.iter().enumerate() {
        if !name_ok(ch, CHANNEL_LEN_MAX) {
            bad.push(format!("channels[{i}]: length"));
        }
        if cat.channels[..i].contains(ch) {
            doubt.push(("duplicate_channel", format!("channels[{i}]: duplicate")));
        }
    }
    let mut window = |w: &SalesWindow, path: String| {
        if let (Some(o), Some(c)) = (w.opens_at, w.closes_at) {
            if c < o {
                bad.push(format!("{path}: closes before it opens"));
            } else if c == o {
                doubt.push(("empty_window", format!("{path}: opens and closes at once")));
            }
        }
        if w.opens_at.is_some_and(|t| t > TIMESTAMP_MAX)
            || w.closes_at.is_some_and(|t| t > TIMESTAMP_MAX)
        {
            doubt.push(("window_range", path));
        }
    };
    window(&cat.window, "window".into());
    for (i, o) in cat.offers.iter().enumerate() {
        window(&o.window, format!("offers[{i}].window"));
    }
    for (i, p) in cat.pools.iter().enumerate() {
        if !name_ok(&p.name, NAME_LEN_MAX) {
            bad.push(format!("pools[{i}].name: length"));
        }
        if cat.pools[..i].iter().any(|q| q.name == p.name) {
            bad.push(format!("pools[{i}].name: duplicate"));
        }
        if p.capacity > CAPACITY_MAX {
            bad.push(format!("pools[{i}].capacity: out of range"));
        }
    }
    let pool = |name: &str| cat.pools.iter().find(|p| p.name == name);
    for (i, o) in cat.offers.iter().enumerate() {
        if !name_ok(&o.name, NAME_LEN_MAX) {
            bad.push(format!("offers[{i}].name: length"));
        }
        if cat.offers[..i].iter().any(|q| q.name == o.name) {
            bad.push(format!("offers[{i}].name: duplicate"));
        }
        if o.draws.is_empty() || o.draws.len() > DRAWS_MAX {
            bad.push(format!("offers[{i}].draws: count"));
        }
        for (k, d) in o.draws.iter().enumerate() {
            if pool(&d.pool).is_none() {
                bad.push(format!("offers[{i}].draws.{}: unknown pool", d.pool));
            }
            if o.draws[..k].iter().any(|e| e.pool == d.pool) {
                bad.push(format!("offers[{i}].draws.{}: twice", d.pool));
            }
            if d.amount == 0 || d.amount > DRAW_AMOUNT_MAX {
                bad.push(format!("offers[{i}].draws.{}: amount", d.pool));
            }
        }
        if let Some(slot) = &o.slot {
            if slot.starts_at >= slot.ends_at {
                doubt.push(("slot_times", format!("offers[{i}].slot")));
            }
            // CATALOG.md: no slot instant after the latest timestamp accepted.
            if slot.ends_at > TIMESTAMP_MAX || slot.cutoff_at.is_some_and(|c| c > TIMESTAMP_MAX) {
                doubt.push(("slot_times", format!("offers[{i}].slot")));
            }
        }
    }
    let mut shares: Vec<(&str, &str)> = Vec::new();
    for (i, r) in cat.rules.iter().enumerate() {
        let path = format!("rules[{i}]");
        if r.name.is_empty() || r.name.len() > NAME_LEN_MAX {
            doubt.push(("rule_name", format!("{path}.name")));
        }
        if cat.rules[..i].iter().any(|q| q.name == r.name) {
            doubt.push(("duplicate_rule", format!("{path}.name")));
        }
        for (k, o) in r.offers.iter().enumerate() {
            if !cat.offers.iter().any(|x| x.name == *o) {
                bad.push(format!("{path}.offers: unknown offer {o}"));
            }
            if r.offers[..k].contains(o) {
                doubt.push(("duplicate_scope", format!("{path}.offers")));
            }
        }
        match &r.kind {
            RuleKind::CustomerLimit { limit, per_offer } => match limit {
                Limit::Units(n) | Limit::Value(n) => {
                    if *n == 0 {
                        doubt.push(("zero_limit", path));
                    }
                }
                Limit::PoolAmount { pool: p, amount } => {
                    if pool(p).is_none() {
                        bad.push(format!("{path}.pool: unknown pool {p}"));
                    }
                    if *amount == 0 {
                        doubt.push(("zero_limit", path.clone()));
                    }
                    if *per_offer {
                        doubt.push(("per_offer_pool", path));
                    }
                }
            },
            RuleKind::OrderSize {
                min_units,
                max_units,
            } => {
                match (min_units, max_units) {
                    (None, None) => doubt.push(("order_size_empty", path.clone())),
                    (Some(a), Some(b)) if a > b => doubt.push(("order_size_range", path.clone())),
                    _ => {}
                }
                if *min_units == Some(0) || *max_units == Some(0) {
                    doubt.push(("zero_units", path));
                }
            }
            RuleKind::MinOrderValue { value } => {
                if *value == 0 {
                    doubt.push(("zero_value", path));
                }
            }
            RuleKind::AllowedValues { attribute, values } => {
                if attribute.is_empty() || attribute.len() > ATTRIBUTE_KEY_LEN_MAX {
                    doubt.push(("attribute_name", path.clone()));
                }
                if values.is_empty() {
                    doubt.push(("no_values", path));
                }
            }
            RuleKind::ChannelShare {
                pool: p,
                channel,
                keep,
            } => {
                match pool(p) {
                    None => bad.push(format!("{path}.pool: unknown pool {p}")),
                    Some(spec) => {
                        let kept: u128 = cat
                            .rules
                            .iter()
                            .filter_map(|q| match &q.kind {
                                RuleKind::ChannelShare { pool, keep, .. } if pool == p => {
                                    Some(*keep as u128)
                                }
                                _ => None,
                            })
                            .sum();
                        if kept > spec.capacity as u128 {
                            doubt.push(("share_keep", format!("{path}.keep")));
                        }
                    }
                }
                if !cat.channels.contains(channel) {
                    doubt.push(("share_channel", format!("{path}.channel")));
                }
                if *keep == 0 {
                    doubt.push(("zero_keep", path.clone()));
                }
                if !r.offers.is_empty() {
                    doubt.push(("share_scope", path.clone()));
                }
                if shares.contains(&(p.as_str(), channel.as_str())) {
                    doubt.push(("duplicate_share", path));
                }
                shares.push((p.as_str(), channel.as_str()));
            }
        }
    }
    doubt.sort();
    (bad, doubt)
}
