//! Validation of a compiled catalog. The file compiler and the ledger's
//! `LoadCatalog` both run it, so a catalog that reaches the ledger by any route
//! (file, JSON over the wire, a journal) is held to the same rules.

use crate::limits::*;
use crate::model::quote::quote;
use crate::model::{Catalog, Issue, Limit, RuleKind, SalesWindow};
use std::collections::{BTreeMap, BTreeSet};

struct Issues(Vec<Issue>);

impl Issues {
    fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(Issue {
            path: path.into(),
            message: message.into(),
        });
    }

    fn name(&mut self, path: &str, name: &str, max: usize) {
        if name.is_empty() {
            self.add(path, "must not be empty");
        } else if name.len() > max {
            self.add(
                path,
                format!("{} bytes is longer than the limit of {max}", name.len()),
            );
        }
    }

    fn at_most(&mut self, path: &str, value: u64, max: u64) {
        if value > max {
            self.add(path, format!("{value} is more than the limit of {max}"));
        }
    }

    fn positive(&mut self, path: &str, value: u64, max: u64) {
        if value == 0 {
            self.add(path, "must be at least 1");
        }
        self.at_most(path, value, max);
    }

    fn window(&mut self, path: &str, w: &SalesWindow) {
        if let (Some(o), Some(c)) = (w.opens_at, w.closes_at) {
            if c <= o {
                self.add(
                    format!("{path}.closes_at"),
                    "the window closes before (or when) it opens",
                );
            }
        }
        for (field, t) in [("opens_at", w.opens_at), ("closes_at", w.closes_at)] {
            if let Some(t) = t {
                self.at_most(&format!("{path}.{field}"), t, TIMESTAMP_MAX);
            }
        }
    }
}

/// Largest price of one unit: the JavaScript-safe integer range, like capacities.
pub const PRICE_MAX: u64 = CAPACITY_MAX;

pub(crate) fn check(c: &Catalog) -> Vec<Issue> {
    let mut is = Issues(Vec::new());
    if c.name.len() > NAME_LEN_MAX {
        is.name("name", &c.name, NAME_LEN_MAX);
    }
    if let Some(tz) = &c.time_zone {
        is.name("time_zone", tz, TIME_ZONE_LEN_MAX);
    }
    is.positive("default_hold_ms", c.default_hold_ms, HOLD_MS_MAX);
    is.window("window", &c.window);

    if c.channels.is_empty() {
        is.add("channels", "must name at least one channel");
    }
    if c.channels.len() > CHANNELS_MAX {
        is.add("channels", format!("more than {CHANNELS_MAX} channels"));
    }
    let mut channels = BTreeSet::new();
    for (i, ch) in c.channels.iter().enumerate() {
        is.name(&format!("channels[{i}]"), ch, CHANNEL_LEN_MAX);
        if !channels.insert(ch.as_str()) {
            is.add(
                format!("channels[{i}]"),
                format!("duplicate channel {}", quote(ch)),
            );
        }
    }

    if c.pools.len() > POOLS_MAX {
        is.add("pools", format!("more than {POOLS_MAX} pools"));
    }
    let mut pools: BTreeMap<&str, u64> = BTreeMap::new();
    for (i, p) in c.pools.iter().enumerate() {
        let path = format!("pools[{i}]");
        is.name(&format!("{path}.name"), &p.name, NAME_LEN_MAX);
        is.at_most(&format!("{path}.capacity"), p.capacity, CAPACITY_MAX);
        if pools.insert(&p.name, p.capacity).is_some() {
            is.add(
                format!("{path}.name"),
                format!("duplicate pool {}", quote(&p.name)),
            );
        }
    }

    if c.offers.len() > OFFERS_MAX {
        is.add("offers", format!("more than {OFFERS_MAX} offers"));
    }
    let mut offers = BTreeSet::new();
    for (i, o) in c.offers.iter().enumerate() {
        let path = format!("offers[{i}]");
        is.name(&format!("{path}.name"), &o.name, NAME_LEN_MAX);
        if !offers.insert(o.name.as_str()) {
            is.add(
                format!("{path}.name"),
                format!("duplicate offer {}", quote(&o.name)),
            );
        }
        is.at_most(&format!("{path}.price"), o.price, PRICE_MAX);
        if o.draws.is_empty() {
            is.add(format!("{path}.draws"), "must draw from at least one pool");
        }
        if o.draws.len() > DRAWS_MAX {
            is.add(
                format!("{path}.draws"),
                format!("more than {DRAWS_MAX} pools"),
            );
        }
        let mut seen = BTreeSet::new();
        for (j, d) in o.draws.iter().enumerate() {
            let dpath = format!("{path}.draws[{j}]");
            if !pools.contains_key(d.pool.as_str()) {
                is.add(
                    format!("{dpath}.pool"),
                    format!("unknown pool {}", quote(&d.pool)),
                );
            }
            if !seen.insert(d.pool.as_str()) {
                is.add(
                    format!("{dpath}.pool"),
                    format!("draws twice from pool {}", quote(&d.pool)),
                );
            }
            is.positive(&format!("{dpath}.amount"), d.amount, DRAW_AMOUNT_MAX);
        }
        is.window(&format!("{path}.window"), &o.window);
        if let Some(s) = &o.slot {
            if s.ends_at <= s.starts_at {
                is.add(
                    format!("{path}.slot.ends_at"),
                    "the slot ends before it starts",
                );
            }
            is.at_most(&format!("{path}.slot.ends_at"), s.ends_at, TIMESTAMP_MAX);
            if let Some(c) = s.cutoff_at {
                is.at_most(&format!("{path}.slot.cutoff_at"), c, TIMESTAMP_MAX);
            }
            if let Some(l) = s.lead_ms {
                is.at_most(&format!("{path}.slot.lead_ms"), l, HOLD_MS_MAX);
            }
        }
    }

    let mut rule_names = BTreeSet::new();
    let mut kept: BTreeMap<&str, u64> = BTreeMap::new();
    for (i, r) in c.rules.iter().enumerate() {
        let path = format!("rules[{i}]");
        is.name(&format!("{path}.name"), &r.name, NAME_LEN_MAX);
        if !rule_names.insert(r.name.as_str()) {
            is.add(
                format!("{path}.name"),
                format!("duplicate rule {}", quote(&r.name)),
            );
        }
        for (j, o) in r.offers.iter().enumerate() {
            if !offers.contains(o.as_str()) {
                is.add(
                    format!("{path}.offers[{j}]"),
                    format!("unknown offer {}", quote(o)),
                );
            }
        }
        match &r.kind {
            RuleKind::CustomerLimit { limit, per_offer } => match limit {
                Limit::Units(n) | Limit::Value(n) => {
                    is.at_most(&format!("{path}.limit"), *n, CAPACITY_MAX);
                }
                Limit::PoolAmount { pool, amount } => {
                    if !pools.contains_key(pool.as_str()) {
                        is.add(
                            format!("{path}.pool"),
                            format!("unknown pool {}", quote(pool)),
                        );
                    }
                    is.at_most(&format!("{path}.amount"), *amount, CAPACITY_MAX);
                    if *per_offer {
                        is.add(
                            format!("{path}.per_offer"),
                            "per_offer applies to units and value limits only",
                        );
                    }
                }
            },
            RuleKind::OrderSize {
                min_units,
                max_units,
            } => {
                if min_units.is_none() && max_units.is_none() {
                    is.add(path.clone(), "needs min_units or max_units");
                }
                if let (Some(lo), Some(hi)) = (min_units, max_units) {
                    if lo > hi {
                        is.add(
                            format!("{path}.min_units"),
                            "min_units is more than max_units",
                        );
                    }
                }
                for (f, v) in [("min_units", min_units), ("max_units", max_units)] {
                    if let Some(v) = v {
                        is.positive(&format!("{path}.{f}"), *v, CAPACITY_MAX);
                    }
                }
            }
            RuleKind::MinOrderValue { value } => {
                is.positive(&format!("{path}.value"), *value, CAPACITY_MAX);
            }
            RuleKind::AllowedValues { attribute, values } => {
                is.name(
                    &format!("{path}.attribute"),
                    attribute,
                    ATTRIBUTE_KEY_LEN_MAX,
                );
                if values.is_empty() {
                    is.add(format!("{path}.values"), "must list at least one value");
                }
                for (j, v) in values.iter().enumerate() {
                    if v.len() > ATTRIBUTE_VALUE_LEN_MAX {
                        is.add(
                            format!("{path}.values[{j}]"),
                            "longer than an attribute value may be",
                        );
                    }
                }
            }
            RuleKind::ChannelShare {
                pool,
                channel,
                keep,
            } => {
                if !r.offers.is_empty() {
                    is.add(
                        format!("{path}.offers"),
                        "a channel_share applies to its pool, not to offers",
                    );
                }
                if !channels.contains(channel.as_str()) {
                    is.add(
                        format!("{path}.channel"),
                        format!("unknown channel {}", quote(channel)),
                    );
                }
                match pools.get(pool.as_str()) {
                    None => is.add(
                        format!("{path}.pool"),
                        format!("unknown pool {}", quote(pool)),
                    ),
                    Some(&capacity) => {
                        let total = kept.entry(pool).or_insert(0);
                        *total = total.saturating_add(*keep);
                        if *total > capacity {
                            is.add(
                                format!("{path}.keep"),
                                format!(
                                    "impossible share: {total} units kept of pool {}, which has only {capacity}",
                                    quote(pool)
                                ),
                            );
                        }
                    }
                }
                is.positive(&format!("{path}.keep"), *keep, CAPACITY_MAX);
            }
        }
    }
    let mut consumer_names = BTreeSet::new();
    if c.consumers.len() > CONSUMERS_MAX {
        is.add("consumers", format!("more than {CONSUMERS_MAX} consumers"));
    }
    for (i, k) in c.consumers.iter().enumerate() {
        let path = format!("consumers[{i}]");
        is.name(&format!("{path}.name"), &k.name, NAME_LEN_MAX);
        if !consumer_names.insert(k.name.as_str()) {
            is.add(
                format!("{path}.name"),
                format!("consumer {} is declared twice", quote(&k.name)),
            );
        }
        if k.events.is_empty() {
            is.add(
                format!("{path}.events"),
                "must name at least one event type",
            );
        }
        for (j, t) in k.events.iter().enumerate() {
            if k.events[..j].contains(t) {
                is.add(
                    format!("{path}.events[{j}]"),
                    format!("{} is named twice", t.name()),
                );
            }
        }
    }
    is.0
}
