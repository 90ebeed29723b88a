//! Hold accounting: promise, confirm, release and expire — the only steps that
//! move a live ledger's pool counters (`held`, `confirmed`), channel shares and
//! customer usage (a decoded state and a browser mirror set them wholesale).
//!
//! Because a unit changes hands here and nowhere else, the ledger's central
//! invariants — the counters are the sums over the live reservations, and a
//! promise never exceeds capacity — are checked with `debug_assert!` at each
//! of these steps.

use super::validate::add_demand;
use super::Ledger;
use crate::model::{
    Event, EventKind, Millis, Outcome, PoolAmounts, Refusal, ReservationId, ReservationState,
    Standing,
};
use crate::pool::Pool;
use crate::reservation::{Line, Reservation};
use smallvec::SmallVec;

impl Ledger {
    /// Record a new reservation and count its demand. The caller checked that it fits.
    pub(super) fn promise(
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

    /// Turn a hold into a confirmed reservation (or say why it cannot be).
    pub(super) fn confirm(&mut self, id: ReservationId, events: &mut Vec<Event>) -> Outcome {
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

    /// Give a reservation's units back and serve the waiting lists with them.
    pub(super) fn release(&mut self, id: ReservationId, events: &mut Vec<Event>) -> Outcome {
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
        #[cfg(debug_assertions)]
        let before: SmallVec<[(u64, u64); 2]> = self
            .demand_of(id)
            .iter()
            .map(|d| (self.pools[d.pool].held, self.pools[d.pool].confirmed))
            .collect();
        let pools = self.unpromise(id, ReservationState::Released);
        // Exactly the reservation's units leave exactly the counter that counted them.
        #[cfg(debug_assertions)]
        for (d, &(held, confirmed)) in pools.iter().zip(&before) {
            let pool = &self.pools[d.pool];
            let (from_held, from_confirmed) = match from {
                Standing::Confirmed => (0, d.amount),
                _ => (d.amount, 0),
            };
            debug_assert!(
                pool.held + from_held == held && pool.confirmed + from_confirmed == confirmed,
                "pool {}: releasing {} {from:?} units left held {held} -> {} and confirmed {confirmed} -> {}",
                pool.name,
                d.amount,
                pool.held,
                pool.confirmed
            );
        }
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

    /// Expire every hold due by `at`, in `(expires_at, id)` order, each stamped at
    /// its own `expires_at` and followed by serving the waiting lists.
    pub(super) fn expire_due(&mut self, at: Millis, events: &mut Vec<Event>) {
        while let Some((expires_at, id)) = self.expiries.pop_due(at) {
            let id = ReservationId(id);
            let r = &self.reservations[id];
            if r.state != ReservationState::Held || r.expires_at != expires_at {
                continue; // confirmed or released since: a stale entry
            }
            let channel = r.channel;
            let pools = self.unpromise(id, ReservationState::Expired);
            self.emit(
                events,
                expires_at,
                EventKind::Expired {
                    reservation: id,
                    pools,
                    channel,
                },
            );
            self.serve(expires_at, events);
        }
    }

    /// Shares count what their channel already holds: rebuilt from the live
    /// reservations when shares are (re)defined.
    pub(super) fn recount_shares(&mut self) {
        if self.pools.values().all(|p| p.shares.is_empty()) {
            return;
        }
        for id in self.reservations.ids() {
            let r = &self.reservations[id];
            if !matches!(
                r.state,
                ReservationState::Held | ReservationState::Confirmed
            ) {
                continue;
            }
            let channel = r.channel;
            let demand = self.demand_of(id);
            for d in demand {
                let pool: &mut Pool = &mut self.pools[d.pool];
                if !pool.shares.is_empty() {
                    pool.share_moved(channel, d.amount, true);
                }
            }
        }
    }
}
