//! The decision: whether a request gets its units, fewer (`up_to`), a place on a
//! waiting list, or a refusal.
//!
//! `judge` decides without changing anything, so a preview and the real request
//! run the very same code and cannot disagree; `decide` then carries the verdict
//! out (promise, join the list, or record the refusal).

use super::validate::ReservePlan;
use super::Ledger;
use crate::idempotency::{First, Recorded};
use crate::model::ids::Table;
use crate::model::{
    Event, EventKind, Millis, OfferId, Outcome, PoolAmounts, PoolId, Refusal, ReservationState,
    Standing,
};
use crate::offer::Offer;
use crate::reservation::Line;
use crate::rules;
use smallvec::SmallVec;
use std::collections::BTreeMap;

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

/// A refusal as an outcome and as what the request table records.
fn refused(refusal: Refusal) -> (Outcome, First) {
    (Outcome::Refused(refusal.clone()), First::Refused(refusal))
}

impl Ledger {
    /// Execute a request: decide it and remember its first outcome.
    pub(super) fn reserve(&mut self, p: ReservePlan, events: &mut Vec<Event>) -> Outcome {
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
    pub(super) fn judge(&self, at: Millis, p: &ReservePlan) -> Result<Option<u64>, Refusal> {
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
    pub(super) fn intake(
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

    /// Carry out the verdict of [`Ledger::judge`] for a request.
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
}
