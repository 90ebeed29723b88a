//! Applying one command: the three phases in order, and the dispatcher that
//! carries out a validated plan.
//!
//! Keeping the order in one place is what makes an `Err` change nothing: the
//! only fallible phase (validation) runs before time moves or anything is
//! written. The small steps (define a pool or an offer, set a capacity or the
//! default hold) live here too, and loading a catalog calls them directly.

use super::validate::Plan;
use super::{Applied, Ledger};
use crate::limits::TIMESTAMP_MAX;
use crate::model::{
    Command, Error, Event, EventKind, Millis, Outcome, PoolAmounts, PoolId, SalesWindow,
    WaitlistPolicy,
};
use crate::offer::Offer;
use crate::pool::Pool;

impl Ledger {
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
        // Phase 1 (and the time checks above): nothing has changed yet.
        let plan = self.validate(&cmd.action)?;
        self.advance(cmd.at, events);
        Ok(self.execute(plan, events))
    }

    /// Phase 2: move time to `at`; every hold due by then expires.
    pub(super) fn advance(&mut self, at: Millis, events: &mut Vec<Event>) {
        self.now = at;
        self.expire_due(at, events);
    }

    /// Phase 3: carry out a validated plan. It cannot fail.
    fn execute(&mut self, plan: Plan, events: &mut Vec<Event>) -> Outcome {
        match plan {
            Plan::LoadCatalog(catalog) => self.load_catalog(catalog, events),
            Plan::DefinePool { name, capacity } => self.define_pool(name, capacity, events),
            Plan::DefineOffer {
                name,
                draws,
                policy,
            } => self.define_offer(name, draws, policy, events),
            Plan::SetCapacity { pool, capacity } => {
                if self.set_capacity(pool, capacity, events) {
                    self.serve(self.now, events);
                }
            }
            Plan::SetDefaultHold(hold_ms) => self.set_default_hold(hold_ms, events),
            Plan::Reserve(plan) => return self.reserve(plan, events),
            Plan::Repeat(outcome) => return outcome,
            Plan::Confirm(id) => return self.confirm(id, events),
            Plan::Release(id) => return self.release(id, events),
            Plan::Leave(entry) => return self.leave(entry, events),
            Plan::Pause => {
                if !self.paused {
                    self.paused = true;
                    self.emit(events, self.now, EventKind::Paused);
                }
            }
            Plan::Resume => {
                if self.paused {
                    self.paused = false;
                    self.emit(events, self.now, EventKind::Resumed);
                    self.serve(self.now, events);
                }
            }
            Plan::Tick => {}
            Plan::DefineConsumer {
                name,
                interest,
                after,
            } => self.define_consumer(name, interest, after),
            Plan::Ack { name, seq } => self.ack(name, seq),
        }
        Outcome::Done
    }

    /// A new pool with the next id.
    pub(super) fn define_pool(&mut self, name: &str, capacity: u64, events: &mut Vec<Event>) {
        let pool = self.pools.push(Pool::new(name.to_owned(), capacity));
        self.pool_names.insert(name.to_owned(), pool);
        self.emit(
            events,
            self.now,
            EventKind::PoolDefined {
                pool,
                name: name.to_owned(),
                capacity,
            },
        );
    }

    /// A new offer with the next id; its draws are resolved and never change.
    pub(super) fn define_offer(
        &mut self,
        name: &str,
        draws: PoolAmounts,
        policy: WaitlistPolicy,
        events: &mut Vec<Event>,
    ) {
        let offer = self.offers.push(Offer {
            name: name.to_owned(),
            draws: draws.clone(),
            policy,
            waiting: Default::default(),
            price: 0,
            window: SalesWindow::default(),
            slot: None,
        });
        self.offer_names.insert(name.to_owned(), offer);
        self.emit(
            events,
            self.now,
            EventKind::OfferDefined {
                offer,
                name: name.to_owned(),
                draws: draws.to_vec(),
                waitlist: policy,
            },
        );
    }

    /// Set a pool's capacity (lowering it revokes nothing). True if it rose: the
    /// caller serves the waiting lists, once.
    pub(super) fn set_capacity(
        &mut self,
        pool: PoolId,
        capacity: u64,
        events: &mut Vec<Event>,
    ) -> bool {
        let old = self.pools[pool].capacity;
        if old == capacity {
            return false;
        }
        self.pools[pool].capacity = capacity;
        self.emit(
            events,
            self.now,
            EventKind::CapacityChanged { pool, capacity },
        );
        capacity > old
    }

    /// Set the hold duration of requests that name none.
    pub(super) fn set_default_hold(&mut self, hold_ms: u64, events: &mut Vec<Event>) {
        if self.default_hold_ms != hold_ms {
            self.default_hold_ms = hold_ms;
            self.emit(events, self.now, EventKind::DefaultHoldChanged { hold_ms });
        }
    }
}
