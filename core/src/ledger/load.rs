//! Loading a catalog, and changing the loaded one mid-campaign, as one command.
//!
//! The new catalog is compared with what the ledger has: pools and offers are
//! added or updated in place, never removed, and an offer's draws never change,
//! so no past reservation can give back something other than what it took.
//! Rules, windows, channels and the default hold apply to later requests only.

use super::Ledger;
use crate::model::{
    Catalog, Error, Event, EventKind, Interest, Limit, OfferId, PoolAmount, PoolAmounts, PoolId,
    RuleKind,
};
use crate::offer::Offer;
use crate::pool::Share;
use crate::rules::{self, Measure, Rule};

impl Ledger {
    pub(super) fn validate_catalog(&self, c: &Catalog) -> Result<(), Error> {
        let issues = c.check();
        if !issues.is_empty() {
            return Err(Error::InvalidCatalog { issues });
        }
        for p in self.pools.values() {
            if !c.pools.iter().any(|s| s.name == p.name) {
                return Err(Error::CatalogChange {
                    path: "pools".into(),
                    reason: format!(
                        "pool {:?} cannot be removed while the ledger has it (set its capacity instead)",
                        p.name
                    ),
                });
            }
        }
        for o in self.offers.values() {
            let Some((i, spec)) = c.offers.iter().enumerate().find(|(_, s)| s.name == o.name)
            else {
                return Err(Error::CatalogChange {
                    path: "offers".into(),
                    reason: format!(
                        "offer {:?} cannot be removed while the ledger has it (close its window instead)",
                        o.name
                    ),
                });
            };
            let same = spec.draws.len() == o.draws.len()
                && spec.draws.iter().zip(&o.draws).all(|(d, have)| {
                    self.pools[have.pool].name == d.pool && have.amount == d.amount
                });
            if !same {
                return Err(Error::CatalogChange {
                    path: format!("offers[{i}].draws"),
                    reason: format!(
                        "the draws of offer {:?} cannot change: its reservations give back what they drew (define a new offer instead)",
                        o.name
                    ),
                });
            }
        }
        let new_channels = c
            .channels
            .iter()
            .filter(|ch| self.channel_id(ch).is_none())
            .count();
        if self.channels.len() + new_channels > crate::limits::CHANNELS_MAX {
            return Err(Error::TooMany {
                field: "channels".into(),
                count: self.channels.len() + new_channels,
                max: crate::limits::CHANNELS_MAX,
            });
        }
        let new_consumers = c
            .consumers
            .iter()
            .filter(|k| !self.consumers.contains_key(k.name.as_str()))
            .count();
        if self.consumers.len() + new_consumers > crate::limits::CONSUMERS_MAX {
            return Err(Error::TooMany {
                field: "consumers".into(),
                count: self.consumers.len() + new_consumers,
                max: crate::limits::CONSUMERS_MAX,
            });
        }
        Ok(())
    }

    pub(super) fn load_catalog(&mut self, c: &Catalog, events: &mut Vec<Event>) {
        let at = self.now;
        self.emit(
            events,
            at,
            EventKind::CatalogLoaded {
                name: c.name.clone(),
            },
        );
        for spec in &c.pools {
            match self.pool_id(&spec.name) {
                // A raised capacity is served once, after the whole catalog.
                Some(pool) => {
                    self.set_capacity(pool, spec.capacity, events);
                }
                None => self.define_pool(&spec.name, spec.capacity, events),
            }
        }
        for spec in &c.offers {
            if self.offer_id(&spec.name).is_some() {
                continue; // its draws are checked unchanged; the rest is adopted below
            }
            let draws: PoolAmounts = spec
                .draws
                .iter()
                .filter_map(|d| {
                    Some(PoolAmount {
                        pool: self.pool_id(&d.pool)?,
                        amount: d.amount,
                    })
                })
                .collect();
            self.define_offer(&spec.name, draws, spec.waitlist, events);
        }
        let allowed = c
            .channels
            .iter()
            .map(|ch| self.intern_channel(ch))
            .collect();
        self.allowed_channels = Some(allowed);
        self.set_default_hold(c.default_hold_ms, events);
        // Declared consumers: new ones start at the first event, known ones keep
        // their cursors (a consumer the catalog no longer names is kept too).
        for k in &c.consumers {
            self.define_consumer(&k.name, Interest::of(&k.events), None);
        }
        self.adopt_catalog(c);
        // New capacity, a reopened window or a relaxed rule may let waiters in.
        self.serve(at, events);
    }

    /// Take over everything a catalog decides beyond pools and offers: offer prices,
    /// windows, slots and policies, the campaign window, the rules and the channel
    /// shares. No events: also used to rebuild a checkpointed state.
    pub(super) fn adopt_catalog(&mut self, c: &Catalog) {
        for spec in &c.offers {
            let Some(offer) = self.offer_id(&spec.name) else {
                continue;
            };
            let o: &mut Offer = &mut self.offers[offer];
            o.price = spec.price;
            o.policy = spec.waitlist;
            o.window = spec.window;
            o.slot = spec.slot.clone().map(Box::new);
        }
        self.window = c.window;
        self.rules.clear();
        for p in self.pools.values_mut() {
            p.shares.clear();
        }
        for spec in &c.rules {
            let mut scope: Vec<OfferId> = spec
                .offers
                .iter()
                .filter_map(|o| self.offer_id(o))
                .collect();
            scope.sort_unstable();
            let scope = (!spec.offers.is_empty()).then_some(scope);
            let condition = match &spec.kind {
                RuleKind::ChannelShare {
                    pool,
                    channel,
                    keep,
                } => {
                    // Validated: the pool and channel exist.
                    let pool = self.pool_id(pool).unwrap_or(PoolId(0));
                    let channel = self.channel_id(channel).unwrap_or(0);
                    self.pools[pool].shares.push(Share {
                        channel,
                        keep: *keep,
                        promised: 0,
                    });
                    continue;
                }
                RuleKind::CustomerLimit { limit, per_offer } => rules::Condition::CustomerLimit {
                    measure: match limit {
                        Limit::Units(n) => Measure::Units(*n),
                        Limit::Value(n) => Measure::Value(*n),
                        Limit::PoolAmount { pool, amount } => Measure::PoolAmount {
                            pool: self.pool_id(pool).unwrap_or(PoolId(0)),
                            amount: *amount,
                        },
                    },
                    per_offer: *per_offer,
                },
                RuleKind::OrderSize {
                    min_units,
                    max_units,
                } => rules::Condition::OrderSize {
                    min_units: *min_units,
                    max_units: *max_units,
                },
                RuleKind::MinOrderValue { value } => {
                    rules::Condition::MinOrderValue { value: *value }
                }
                RuleKind::AllowedValues { attribute, values } => rules::Condition::AllowedValues {
                    attribute: attribute.clone(),
                    values: values.iter().cloned().collect(),
                },
            };
            self.rules.push(Rule {
                name: spec.name.clone(),
                scope,
                condition,
            });
        }
        self.recount_shares();
        self.catalog = Some(Box::new(c.clone()));
    }
}
