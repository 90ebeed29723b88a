//! After every step, every query of the ledger against the model, and the pool
//! counters against the auditor's and against the sums over reservations.

use super::{Harness, CUSTOMERS};
use crate::model::{EState, RState};
use kontingent_core::{ReservationId, ReservationState, WaitEntryId, WaitState};

impl Harness {
    pub(super) fn check_state(&self) -> Result<(), String> {
        let (l, m) = (&self.ledger, &self.model);
        macro_rules! same {
            ($what:expr, $ledger:expr, $model:expr) => {{
                match ($ledger, $model) {
                    (a, b) => {
                        if a != b {
                            return Err(format!("{}: ledger {:?}, model {:?}", $what, a, b));
                        }
                    }
                }
            }};
        }
        same!("now", l.now(), m.now);
        same!("paused", l.is_paused(), m.paused);
        same!("seq", l.seq(), m.events.len() as u64);
        same!("default hold", l.default_hold_ms(), m.default_hold);

        // Pools.
        let views = l.pools();
        same!("pool count", views.len(), m.pools.len());
        for (p, v) in views.iter().enumerate() {
            let what = format!("pool {}", m.pools[p].name);
            same!(format!("{what} id"), v.id.0 as usize, p);
            same!(format!("{what} name"), &v.name, &m.pools[p].name);
            same!(format!("{what} capacity"), v.capacity, m.pools[p].capacity);
            same!(format!("{what} held"), v.held, m.held(p));
            same!(format!("{what} confirmed"), v.confirmed, m.confirmed(p));
            same!(
                format!("{what} available"),
                v.available,
                m.pool_available(p)
            );
            same!(format!("{what} by name"), l.pool(&v.name).as_ref(), Some(v));
            // Counters rebuilt from the ledger's own events.
            same!(
                format!("{what} capacity from events"),
                v.capacity,
                self.audit.capacity[p]
            );
            same!(
                format!("{what} held from events"),
                v.held,
                self.audit.held[p]
            );
            same!(
                format!("{what} confirmed from events"),
                v.confirmed,
                self.audit.confirmed[p]
            );
        }
        same!("unknown pool", l.pool("no-such-pool"), None);

        // Offers.
        for (o, offer) in m.offers.iter().enumerate() {
            let what = format!("offer {}", offer.name);
            let Some(v) = l.offer(&offer.name) else {
                return Err(format!("{what}: ledger does not know it"));
            };
            same!(format!("{what} id"), v.id.0 as usize, o);
            let draws: Vec<(String, u64)> = offer
                .draws
                .iter()
                .map(|&(p, a)| (m.pools[p].name.clone(), a))
                .collect();
            same!(format!("{what} draws"), &v.draws, &draws);
            same!(format!("{what} waitlist policy"), v.waitlist, offer.policy);
            same!(
                format!("{what} available"),
                v.available,
                m.offer_available(o)
            );
            same!(
                format!("{what} waiting"),
                v.waiting as usize,
                m.waiting(o).len()
            );
            for ch in ["web", "phone"] {
                same!(
                    format!("{what} available for {ch}"),
                    l.offer_available_for(&offer.name, ch),
                    Some(m.offer_available_for(o, ch))
                );
            }
        }
        same!("unknown offer", l.offer("no-such-offer"), None);

        // Reservations, and held/confirmed as sums over live reservations
        // computed from the ledger's own reservation views.
        let mut held = vec![0u64; m.pools.len()];
        let mut confirmed = vec![0u64; m.pools.len()];
        let n = m.reservations.len() as u64;
        for id in 0..=n + 2 {
            let real = l.reservation(ReservationId(id));
            let Some(mr) = m.reservation(id) else {
                same!(format!("reservation {id}"), real, None);
                continue;
            };
            let Some(v) = real else {
                return Err(format!(
                    "reservation {id}: ledger has none, model has {mr:?}"
                ));
            };
            let what = format!("reservation {id}");
            same!(format!("{what} id"), v.id.0, id);
            same!(format!("{what} customer"), &v.customer, &mr.customer);
            same!(format!("{what} channel"), &v.channel, &mr.channel);
            let lines: Vec<(String, u64)> = mr
                .lines
                .iter()
                .map(|&(o, q)| (m.offers[o].name.clone(), q))
                .collect();
            same!(format!("{what} lines"), &v.lines, &lines);
            let state = match mr.state {
                RState::Held => ReservationState::Held,
                RState::Confirmed => ReservationState::Confirmed,
                RState::Released => ReservationState::Released,
                RState::Expired => ReservationState::Expired,
            };
            same!(format!("{what} state"), v.state, state);
            // expires_at is pinned by SEMANTICS.md/view.rs for holds, expired
            // holds and direct confirmations.
            if matches!(mr.state, RState::Held | RState::Expired)
                || (mr.direct && mr.state == RState::Confirmed)
            {
                same!(format!("{what} expires_at"), v.expires_at, mr.expires_at);
            }
            if v.state.is_live() {
                for (offer_name, q) in &v.lines {
                    let o = m
                        .offer_index(offer_name)
                        .ok_or_else(|| format!("{what}: unknown offer {offer_name}"))?;
                    for &(p, amount) in &m.offers[o].draws {
                        let slot = if v.state == ReservationState::Held {
                            &mut held[p]
                        } else {
                            &mut confirmed[p]
                        };
                        *slot += q * amount;
                    }
                }
            }
        }
        for (p, v) in views.iter().enumerate() {
            same!(
                format!("pool {} held = sum over held reservations", v.name),
                v.held,
                held[p]
            );
            same!(
                format!(
                    "pool {} confirmed = sum over confirmed reservations",
                    v.name
                ),
                v.confirmed,
                confirmed[p]
            );
        }

        // Waiting lists and entries.
        for (o, offer) in m.offers.iter().enumerate() {
            let real = l
                .waitlist(&offer.name)
                .ok_or_else(|| format!("waitlist {}: ledger has none", offer.name))?;
            let ids: Vec<u64> = real.iter().map(|e| e.entry.0).collect();
            let expected: Vec<u64> = m.waiting(o).iter().map(|&i| m.entries[i].id).collect();
            same!(format!("waitlist {}", offer.name), ids, expected);
            for (k, e) in real.iter().enumerate() {
                same!(
                    format!("waitlist {} entry {} state", offer.name, e.entry),
                    e.state,
                    WaitState::Waiting {
                        position: k as u32 + 1
                    }
                );
            }
        }
        same!("unknown waitlist", l.waitlist("no-such-offer"), None);
        let n = m.entries.len() as u64;
        for id in 0..=n + 1 {
            let real = l.wait_entry(WaitEntryId(id));
            let Some(me) = m.entry(id) else {
                same!(format!("wait entry {id}"), real, None);
                continue;
            };
            let Some(v) = real else {
                return Err(format!(
                    "wait entry {id}: ledger has none, model has {me:?}"
                ));
            };
            let what = format!("wait entry {id}");
            same!(format!("{what} id"), v.entry.0, id);
            same!(format!("{what} offer"), &v.offer, &m.offers[me.offer].name);
            same!(format!("{what} customer"), &v.customer, &me.customer);
            same!(format!("{what} quantity"), v.quantity, me.quantity);
            let state = match me.state {
                EState::Waiting => WaitState::Waiting {
                    position: m.position((id - 1) as usize).unwrap(),
                },
                EState::Promoted(r) => WaitState::Promoted {
                    reservation: ReservationId(r),
                },
                EState::Left => WaitState::Left,
            };
            same!(format!("{what} state"), v.state, state);
        }

        // Customer usage.
        for c in CUSTOMERS.iter().chain(["nobody"].iter()) {
            same!(
                format!("usage of {c}"),
                l.customer_usage(c),
                m.customer_usage(c)
            );
        }

        // Consumers: their cursors and types, and what each is given, at a few
        // limits, from the events the harness has collected.
        let views = l.consumers();
        same!("consumer count", views.len(), m.consumers.len());
        for v in &views {
            let Some((types, cursor)) = m.consumers.get(&v.name) else {
                return Err(format!("consumer {} is not in the model", v.name));
            };
            same!(format!("consumer {} cursor", v.name), v.cursor, *cursor);
            let names: std::collections::BTreeSet<String> =
                v.events.iter().map(|t| t.name().to_owned()).collect();
            same!(format!("consumer {} events", v.name), &names, types);
            for limit in [1, 3, 1000] {
                let mut g = v.gather(limit);
                for e in self.events.iter().filter(|e| e.seq > v.cursor) {
                    if !g.push(e.clone()) {
                        break;
                    }
                }
                let given = g.done();
                let (want, through) = m.consume(&v.name, limit).unwrap();
                let got: Vec<_> = given.events.iter().map(super::convert::to_mevent).collect();
                same!(
                    format!("consumer {} given (limit {limit})", v.name),
                    got,
                    want
                );
                same!(
                    format!("consumer {} through (limit {limit})", v.name),
                    given.through,
                    through
                );
            }
        }
        same!("unknown consumer", l.consumer("ghost"), None);

        // The model's own promises (a model bug would panic, this double-checks).
        for pr in &m.promises {
            if pr.promised_before + pr.demand > pr.capacity {
                return Err(format!("model promise beyond capacity: {pr:?}"));
            }
        }
        Ok(())
    }
}
