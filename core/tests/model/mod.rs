//! A deliberately simple reference model of the ledger, written from
//! `docs/SEMANTICS.md` only, never from `core/src/`.
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

use kontingent::limits::{
    ATTRIBUTES_MAX, ATTRIBUTE_KEY_LEN_MAX, ATTRIBUTE_VALUE_LEN_MAX, CAPACITY_MAX, CHANNEL_LEN_MAX,
    CUSTOMER_ID_LEN_MAX, DRAWS_MAX, DRAW_AMOUNT_MAX, HOLD_MS_DEFAULT, HOLD_MS_MAX, LINES_MAX,
    LINE_QUANTITY_MAX, NAME_LEN_MAX, REQUEST_ID_LEN_MAX, TIMESTAMP_MAX,
};
use kontingent::{
    Action, Command, Millis, Outcome, Refusal, Request, ReservationId, WaitEntryId, WaitlistPolicy,
};
use std::collections::BTreeMap;

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
}

impl Default for Model {
    fn default() -> Self {
        Self::new()
    }
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

    /// Would this entry fit now: every pool has `available >= quantity * amount`.
    fn fits(&self, entry_index: usize) -> bool {
        let e = &self.entries[entry_index];
        let demand = self.demand(&[(e.offer, e.quantity)]).unwrap();
        demand.iter().all(|(&p, &d)| self.pool_available(p) >= d)
    }

    // ----------------------------------------------------------------- apply

    /// Apply a command. `Ok`: the outcome and the events this command emitted.
    /// `Err`: the acceptable error codes; the model is unchanged.
    pub fn apply(&mut self, cmd: &Command) -> Result<Step, Codes> {
        let mut codes: Codes = Vec::new();
        if cmd.at > TIMESTAMP_MAX {
            codes.push("out_of_range");
        }
        if cmd.at < self.now {
            codes.push("time_went_backwards");
        }
        let mut next = self.clone();
        let first_new = next.events.len();
        if codes.is_empty() {
            next.advance_to(cmd.at);
        }
        match next.run(cmd.at, &cmd.action) {
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
                let list = self.waiting(o);
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
        self.reservations.push(MRes {
            id,
            customer: customer.to_owned(),
            channel: channel.to_owned(),
            lines,
            state,
            expires_at,
            direct,
        });
        id
    }

    fn run(&mut self, at: Millis, action: &Action) -> Result<Outcome, Codes> {
        match action {
            Action::LoadCatalog(_) => unimplemented_in_model("load_catalog"),
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
        }
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
        // 1. Idempotency.
        if let Some((seen, first)) = self.requests.get(&r.request_id) {
            if *seen == content {
                assert!(
                    codes.is_empty(),
                    "model: a remembered request became invalid"
                );
                return Ok(first.clone());
            }
            codes.push("request_id_reused");
        }
        if !codes.is_empty() {
            return Err(codes);
        }
        // 2. Paused.  (3. intake rules: none in the model.)  4./5. Capacity.
        let outcome = if self.paused {
            Outcome::Refused(Refusal::Paused)
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
        if r.up_to {
            let granted = lines[0].1.min(self.offer_available(lines[0].0));
            if granted > 0 {
                lines[0].1 = granted;
            }
        }
        let demand = self.demand(&lines).expect("validated demand");
        // BTreeMap iterates in pool-id order: the first failing pool wins.
        let sold_out = demand
            .iter()
            .find(|(&p, &d)| d > self.pool_available(p))
            .map(|(&p, &d)| Refusal::SoldOut {
                pool: self.pools[p].name.clone(),
                requested: d,
                left: self.pool_available(p),
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

/// Commands the generator never produces for this model.
fn unimplemented_in_model(what: &str) -> ! {
    panic!("the reference model does not handle {what}")
}
