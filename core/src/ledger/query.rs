//! Read-only questions about the state as it is (no time advance): counters,
//! offers, reservations, waiting entries, usage, the public snapshot.
//!
//! Answers are owned views (`crate::model::views`), never the packed records, so a
//! caller can keep them and the records can change shape without it noticing.

use super::Ledger;
use crate::availability::{OfferLevel, PoolLevel, ShareLevel, Snapshot};
use crate::customer::hash_name;
use crate::model::{
    Catalog, Error, Holding, Millis, OfferId, OfferView, PoolId, PoolView, ReservationId,
    ReservationState, ReservationView, WaitEntryId, WaitEntryView, WaitState,
};
use crate::waitlist::WaitEntryState;

impl Ledger {
    /// Time of the last valid command.
    pub fn now(&self) -> Millis {
        self.now
    }

    /// The catalog last loaded (as compiled), if any: what a browser's
    /// [`Mirror`](super::Mirror) is built from.
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

    /// Who holds what: a row per promised (held or confirmed) reservation line and
    /// pool it draws from, in reservation-id order; only `pool`'s rows if given. As of
    /// the ledger's time, like [`Ledger::reservation`].
    pub fn holdings(&self, pool: Option<&str>) -> Result<Vec<Holding>, Error> {
        let only = match pool {
            None => None,
            Some(name) => Some(self.pool_id(name).ok_or_else(|| Error::UnknownPool {
                field: "pool".into(),
                name: name.into(),
            })?),
        };
        let mut out = Vec::new();
        for (id, r) in self.reservations.iter() {
            if !matches!(
                r.state,
                ReservationState::Held | ReservationState::Confirmed
            ) {
                continue;
            }
            for l in &r.lines {
                let offer = &self.offers[l.offer];
                let quantity = u64::from(l.quantity);
                for d in offer.demand(quantity) {
                    if only.is_some_and(|p| p != d.pool) {
                        continue;
                    }
                    out.push(Holding {
                        reservation: id,
                        state: r.state,
                        customer: self.customers.name(r.customer).to_owned(),
                        channel: self.channels[r.channel as usize].clone(),
                        offer: offer.name.clone(),
                        quantity,
                        pool: self.pools[d.pool].name.clone(),
                        units: d.amount,
                        expires_at: r.expires_at,
                    });
                }
            }
        }
        Ok(out)
    }

    /// The next `limit` holds to expire, soonest first (by `(expires_at, id)`), as of
    /// the ledger's time: what an operator watches during a rush. A hold past its
    /// `expires_at` is listed until a command advances time. Walks the expiry queue
    /// from its front, passing over holds confirmed or released since they were queued.
    pub fn holds_by_expiry(&self, limit: usize) -> Vec<ReservationView> {
        self.expiries
            .in_order()
            .filter(|&(t, id)| {
                let r = &self.reservations[ReservationId(id)];
                r.state == ReservationState::Held && r.expires_at == t
            })
            .take(limit)
            .filter_map(|(_, id)| self.reservation(ReservationId(id)))
            .collect()
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
        let e = self.wait_entries.get(entry)?;
        let state = match e.state {
            WaitEntryState::Waiting => {
                let pos = self.offers[e.offer]
                    .waiting
                    .iter()
                    .position(|&x| x == entry)
                    .unwrap_or(0);
                WaitState::Waiting {
                    position: u32::try_from(pos + 1).unwrap_or(u32::MAX),
                }
            }
            WaitEntryState::Promoted(reservation) => WaitState::Promoted { reservation },
            WaitEntryState::Left => WaitState::Left,
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
}
