//! Waiting lists: joining, leaving, and serving them whenever units come free.
//!
//! Serving is the one place units are handed out without a request, so it
//! promises only what `fits` now, in joining order across all lists: a list
//! never receives more than is free (pretix#1238).

use super::validate::ReservePlan;
use super::Ledger;
use crate::idempotency::{First, Recorded};
use crate::model::{
    Event, EventKind, Millis, OfferId, Outcome, PoolAmounts, ReservationState, SalesWindow,
    WaitEntryId, WaitlistPolicy,
};
use crate::reservation::Line;
use crate::waitlist::{WaitEntry, WaitEntryState};
use smallvec::SmallVec;

impl Ledger {
    /// Put a sold-out request on its offer's waiting list.
    pub(super) fn join_waitlist(
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
        let entry = self.wait_entries.push(WaitEntry {
            offer,
            quantity,
            customer,
            channel,
            hold_ms: p.hold_ms,
            state: WaitEntryState::Waiting,
            joined_at_position: 0,
        });
        let list = &mut self.offers[offer].waiting;
        list.push_back(entry);
        let position = u32::try_from(list.len()).unwrap_or(u32::MAX);
        self.wait_entries[entry].joined_at_position = position;
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

    /// Take an entry off its list (if it is still waiting).
    pub(super) fn leave(&mut self, entry: WaitEntryId, events: &mut Vec<Event>) -> Outcome {
        let e = &mut self.wait_entries[entry];
        match e.state {
            WaitEntryState::Waiting => {}
            WaitEntryState::Left => return Outcome::Left { entry },
            WaitEntryState::Promoted(reservation) => {
                return Outcome::Promoted { entry, reservation }
            }
        }
        e.state = WaitEntryState::Left;
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
    pub(super) fn serve(&mut self, at: Millis, events: &mut Vec<Event>) {
        if self.paused {
            return;
        }
        loop {
            let mut best: Option<(WaitEntryId, OfferId, usize)> = None;
            for &offer in &self.waiting_offers {
                let o = &self.offers[offer];
                let fits = |id: &WaitEntryId| {
                    let e = &self.wait_entries[*id];
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
        if self.rules.is_empty() && self.window == SalesWindow::default() {
            let o = &self.offers[self.wait_entries[entry].offer];
            if o.window == SalesWindow::default() && o.slot.is_none() {
                return true;
            }
        }
        let e = &self.wait_entries[entry];
        let usage: SmallVec<[(OfferId, u64); 4]> = self.customers.usage_of(e.customer).collect();
        self.intake(at, &[(e.offer, e.quantity)], None, Some(&usage), true)
            .is_none()
    }

    /// Turn a waiting entry into a hold.
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
        let e = &self.wait_entries[entry];
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
        self.wait_entries[entry].state = WaitEntryState::Promoted(reservation);
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
}
