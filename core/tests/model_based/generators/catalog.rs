//! Random small catalogs (windows, slots, rules, channel shares), sometimes
//! invalid, and the edits of a mid-sequence catalog change.

use super::{offer_name, policy, pool_name, BASE};
use kontingent_core::catalog::{
    ConsumerSpec, Limit, OfferSpec, PoolSpec, RuleKind, RuleSpec, SalesWindow, Slot,
};
use kontingent_core::{Catalog, Draw, EventType, WaitlistPolicy};
use proptest::prelude::*;

/// A window relative to a base time: `opens` is an offset from the base,
/// `closes` a length after the opening (or after the base), so it never closes
/// before it opens.
#[derive(Clone, Debug)]
pub struct GWindow {
    opens: Option<i64>,
    closes: Option<u64>,
}

impl GWindow {
    fn build(&self, base: u64) -> SalesWindow {
        let opens_at = self.opens.map(|o| (base as i64 + o).max(0) as u64);
        let closes_at = self.closes.map(|c| opens_at.unwrap_or(base) + c);
        SalesWindow {
            opens_at,
            closes_at,
        }
    }
}

pub fn gwindow(p: f64) -> impl Strategy<Value = GWindow> {
    (
        prop::option::weighted(p, -40i64..=80),
        prop::option::weighted(p, 1u64..=400),
    )
        .prop_map(|(opens, closes)| GWindow { opens, closes })
}

#[derive(Clone, Debug)]
pub struct GOffer {
    /// (pool selector, amount); selectors are taken modulo the pool count.
    draws: Vec<(u8, u64)>,
    skip: bool,
    price: u64,
    window: GWindow,
}

pub fn price() -> impl Strategy<Value = u64> {
    prop::sample::select(vec![0u64, 100, 250, 500])
}

pub fn goffer() -> impl Strategy<Value = GOffer> {
    (
        prop::collection::vec((any::<u8>(), 1u64..=3), 1..=3),
        any::<bool>(),
        price(),
        gwindow(0.25),
    )
        .prop_map(|(draws, skip, price, window)| GOffer {
            draws,
            skip,
            price,
            window,
        })
}

#[derive(Clone, Debug)]
pub struct GSlot {
    /// Start, as an offset from BASE.
    start: u64,
    lead: Option<u64>,
    /// The cut-off, this long before the start.
    cutoff: Option<u64>,
    capacity: u64,
    extra: Option<(u8, u64)>,
    price: u64,
    skip: bool,
}

pub fn gslot() -> impl Strategy<Value = GSlot> {
    (
        20u64..=300,
        prop::option::weighted(0.6, 0u64..=120),
        prop::option::weighted(0.4, 0u64..=150),
        0u64..=4,
        prop::option::weighted(0.3, (any::<u8>(), 1u64..=2)),
        price(),
        any::<bool>(),
    )
        .prop_map(
            |(start, lead, cutoff, capacity, extra, price, skip)| GSlot {
                start,
                lead,
                cutoff,
                capacity,
                extra,
                price,
                skip,
            },
        )
}

#[derive(Clone, Debug)]
pub enum GKind {
    Units(u64, bool),
    Value(u64, bool),
    Pool(u8, u64),
    Size(Option<u64>, Option<u64>),
    MinValue(u64),
    /// Allowed zip codes, as indices of "1000", "1010", "1020".
    Allowed(Vec<u8>),
    /// (pool selector, phone rather than web, keep)
    Share(u8, bool, u64),
}

#[derive(Clone, Debug)]
pub struct GRule {
    kind: GKind,
    /// Offer selectors; empty: every offer.
    scope: Vec<u8>,
}

pub fn grule() -> impl Strategy<Value = GRule> {
    let kind = prop_oneof![
        3 => (1u64..=8, prop::bool::weighted(0.3)).prop_map(|(l, p)| GKind::Units(l, p)),
        2 => (prop::sample::select(vec![100u64, 250, 500, 1000, 1500]), prop::bool::weighted(0.3))
            .prop_map(|(l, p)| GKind::Value(l, p)),
        2 => (any::<u8>(), 1u64..=12).prop_map(|(p, a)| GKind::Pool(p, a)),
        2 => (prop::option::of(1u64..=3), prop::option::of(2u64..=8))
            .prop_map(|(a, b)| GKind::Size(a, b)),
        1 => prop::sample::select(vec![100u64, 200, 250, 500, 750]).prop_map(GKind::MinValue),
        2 => prop::collection::vec(0u8..3, 1..=2).prop_map(GKind::Allowed),
        3 => (any::<u8>(), prop::bool::weighted(0.8), 1u64..=4)
            .prop_map(|(p, phone, keep)| GKind::Share(p, phone, keep)),
    ];
    let scope = prop_oneof![
        3 => Just(Vec::new()),
        2 => prop::collection::vec(any::<u8>(), 1..=2),
    ];
    (kind, scope).prop_map(|(kind, scope)| GRule { kind, scope })
}

/// The catalog shape: a random small catalog with rules.
#[derive(Clone, Debug)]
pub struct GCat {
    capacities: Vec<u64>,
    offers: Vec<GOffer>,
    slots: Vec<GSlot>,
    rules: Vec<GRule>,
    window: GWindow,
    hold: u64,
    /// Make the first catalog invalid (rarely).
    invalid: Option<u8>,
}

pub fn hold() -> impl Strategy<Value = u64> {
    prop::sample::select(vec![50u64, 75, 120])
}

pub fn gcat() -> impl Strategy<Value = GCat> {
    (
        prop::collection::vec(0u64..20, 2..=4),
        prop::collection::vec(goffer(), 2..=4),
        prop_oneof![
            1 => Just(Vec::new()),
            1 => prop::collection::vec(gslot(), 1..=3),
        ],
        prop::collection::vec(grule(), 0..=4),
        gwindow(0.5),
        hold(),
        prop::option::weighted(0.04, 0u8..8),
    )
        .prop_map(
            |(capacities, offers, slots, rules, window, hold, invalid)| GCat {
                capacities,
                offers,
                slots,
                rules,
                window,
                hold,
                invalid,
            },
        )
}

/// One edit of a mid-sequence catalog change.
#[derive(Clone, Debug)]
pub enum GChange {
    Capacity(u8, u64),
    Rules(Vec<GRule>),
    /// The campaign window, relative to the command's time.
    SalesWindow(GWindow),
    OfferWindow(u8, GWindow),
    Price(u8, u64),
    Policy(u8),
    /// (slot selector, lead, cut-off before the start)
    SlotTimes(u8, Option<u64>, Option<u64>),
    AddPool(u64),
    AddOffer(GOffer),
    Hold(u64),
    // Illegal changes.
    RemovePool(u8),
    RemoveOffer(u8),
    ChangeDraws(u8),
    Invalid(u8),
}

pub fn gchange() -> impl Strategy<Value = GChange> {
    prop_oneof![
        6 => (any::<u8>(), 0u64..=25).prop_map(|(p, c)| GChange::Capacity(p, c)),
        4 => prop::collection::vec(grule(), 0..=4).prop_map(GChange::Rules),
        3 => gwindow(0.6).prop_map(GChange::SalesWindow),
        3 => (any::<u8>(), gwindow(0.6)).prop_map(|(o, w)| GChange::OfferWindow(o, w)),
        2 => (any::<u8>(), price()).prop_map(|(o, p)| GChange::Price(o, p)),
        2 => any::<u8>().prop_map(GChange::Policy),
        2 => (
            any::<u8>(),
            prop::option::weighted(0.6, 0u64..=120),
            prop::option::weighted(0.4, 0u64..=150),
        )
            .prop_map(|(s, l, c)| GChange::SlotTimes(s, l, c)),
        2 => (0u64..=20).prop_map(GChange::AddPool),
        2 => goffer().prop_map(GChange::AddOffer),
        1 => hold().prop_map(GChange::Hold),
        1 => any::<u8>().prop_map(GChange::RemovePool),
        1 => any::<u8>().prop_map(GChange::RemoveOffer),
        1 => any::<u8>().prop_map(GChange::ChangeDraws),
        1 => (0u8..8).prop_map(GChange::Invalid),
    ]
}

pub fn zip(a: u8) -> String {
    format!("10{a}0")
}

pub fn build_draws(draws: &[(u8, u64)], pools: &[PoolSpec]) -> Vec<Draw> {
    let mut out: Vec<Draw> = Vec::new();
    for &(p, amount) in draws {
        let name = &pools[p as usize % pools.len()].name;
        if !out.iter().any(|d| d.pool == *name) {
            out.push(Draw::new(name.clone(), amount));
        }
    }
    out
}

pub fn build_offer(name: String, g: &GOffer, pools: &[PoolSpec], base: u64) -> OfferSpec {
    OfferSpec {
        name,
        price: g.price,
        draws: build_draws(&g.draws, pools),
        waitlist: policy(g.skip),
        window: g.window.build(base),
        slot: None,
    }
}

pub fn build_rules(rules: &[GRule], cat: &Catalog) -> Vec<RuleSpec> {
    let mut out: Vec<RuleSpec> = Vec::new();
    let pool = |p: u8| cat.pools[p as usize % cat.pools.len()].name.clone();
    for (i, g) in rules.iter().enumerate() {
        let mut scope: Vec<String> = Vec::new();
        for &o in &g.scope {
            let name = &cat.offers[o as usize % cat.offers.len()].name;
            if !scope.contains(name) {
                scope.push(name.clone());
            }
        }
        let kind = match &g.kind {
            GKind::Units(l, per_offer) => RuleKind::CustomerLimit {
                limit: Limit::Units(*l),
                per_offer: *per_offer,
            },
            GKind::Value(l, per_offer) => RuleKind::CustomerLimit {
                limit: Limit::Value(*l),
                per_offer: *per_offer,
            },
            GKind::Pool(p, amount) => RuleKind::CustomerLimit {
                limit: Limit::PoolAmount {
                    pool: pool(*p),
                    amount: *amount,
                },
                per_offer: false,
            },
            GKind::Size(min, max) => {
                let (min_units, max_units) = match (min, max) {
                    (None, None) => (None, Some(4)),
                    (Some(a), Some(b)) if a > b => (Some(*b), Some(*a)),
                    (a, b) => (*a, *b),
                };
                RuleKind::OrderSize {
                    min_units,
                    max_units,
                }
            }
            GKind::MinValue(value) => RuleKind::MinOrderValue { value: *value },
            GKind::Allowed(values) => {
                let mut v: Vec<String> = values.iter().map(|&a| zip(a)).collect();
                v.dedup();
                RuleKind::AllowedValues {
                    attribute: "zip".into(),
                    values: v,
                }
            }
            GKind::Share(p, phone, keep) => {
                let pool = pool(*p);
                let channel = if *phone { "phone" } else { "web" };
                let twice = out.iter().any(|r| {
                    matches!(&r.kind, RuleKind::ChannelShare { pool: q, channel: c, .. }
                        if *q == pool && c == channel)
                });
                if twice {
                    continue;
                }
                scope.clear();
                RuleKind::ChannelShare {
                    pool,
                    channel: channel.into(),
                    keep: *keep,
                }
            }
        };
        out.push(RuleSpec {
            name: format!("rule{i}"),
            offers: scope,
            kind,
        });
    }
    out
}

/// Make a catalog clearly invalid.
pub fn inject_invalid(cat: &mut Catalog, k: u8) {
    match k % 8 {
        0 => cat.offers[0].draws.push(Draw::new("nope", 1)),
        1 => {
            let dup = cat.pools[0].clone();
            cat.pools.push(dup);
        }
        2 => cat.offers[0].draws[0].amount = 0,
        3 => {
            cat.window = SalesWindow {
                opens_at: Some(BASE + 100),
                closes_at: Some(BASE + 99),
            }
        }
        4 => cat.rules.push(RuleSpec {
            name: "bad-scope".into(),
            offers: vec!["nope".into()],
            kind: RuleKind::OrderSize {
                min_units: None,
                max_units: Some(100),
            },
        }),
        5 => cat.default_hold_ms = 0,
        6 => {
            let o = cat.offers.len() - 1;
            cat.offers[o].window = SalesWindow {
                opens_at: Some(BASE + 10),
                closes_at: Some(BASE + 5),
            }
        }
        _ => cat.rules.push(RuleSpec {
            name: "bad-share".into(),
            offers: vec![],
            kind: RuleKind::ChannelShare {
                pool: "nope".into(),
                channel: "phone".into(),
                keep: 1,
            },
        }),
    }
}

/// `(valid catalog, the catalog first loaded)`: the same unless `invalid`.
pub fn build_catalog(g: &GCat) -> (Catalog, Catalog) {
    let mut pools: Vec<PoolSpec> = g
        .capacities
        .iter()
        .enumerate()
        .map(|(i, &capacity)| PoolSpec {
            name: pool_name(i),
            capacity,
        })
        .collect();
    let base_pools = pools.clone();
    let mut offers: Vec<OfferSpec> = g
        .offers
        .iter()
        .enumerate()
        .map(|(i, o)| build_offer(offer_name(i), o, &base_pools, BASE))
        .collect();
    for (i, s) in g.slots.iter().enumerate() {
        let name = format!("s{i}");
        pools.push(PoolSpec {
            name: name.clone(),
            capacity: s.capacity,
        });
        let mut draws = vec![Draw::new(name.clone(), 1)];
        if let Some((p, amount)) = s.extra {
            draws.push(Draw::new(
                base_pools[p as usize % base_pools.len()].name.clone(),
                amount,
            ));
        }
        let starts_at = BASE + s.start;
        offers.push(OfferSpec {
            name,
            price: s.price,
            draws,
            waitlist: policy(s.skip),
            window: SalesWindow::default(),
            slot: Some(Slot {
                template: "s".into(),
                starts_at,
                ends_at: starts_at + 30,
                lead_ms: s.lead,
                cutoff_at: s.cutoff.map(|c| starts_at - c),
            }),
        });
    }
    let mut cat = Catalog {
        name: "generated".into(),
        time_zone: None,
        default_hold_ms: g.hold,
        channels: vec!["web".into(), "phone".into()],
        window: g.window.build(BASE),
        pools,
        offers,
        rules: Vec::new(),
        // Half the campaigns declare their mailer (CATALOG.md, "Consumers").
        consumers: if g.hold.is_multiple_of(2) {
            vec![ConsumerSpec {
                name: "mailer".into(),
                events: vec![EventType::Confirmed, EventType::Promoted],
            }]
        } else {
            Vec::new()
        },
    };
    cat.rules = build_rules(&g.rules, &cat);
    let mut first = cat.clone();
    if let Some(k) = g.invalid {
        inject_invalid(&mut first, k);
    }
    (cat, first)
}

/// A changed catalog: `current` with the edits applied (at time `at`).
pub fn change_catalog(current: &Catalog, changes: &[GChange], at: u64) -> Catalog {
    let mut cat = current.clone();
    for change in changes {
        let np = cat.pools.len();
        let no = cat.offers.len();
        match change {
            GChange::Capacity(p, c) => cat.pools[*p as usize % np].capacity = *c,
            GChange::Rules(rules) => cat.rules = build_rules(rules, &cat),
            GChange::SalesWindow(w) => cat.window = w.build(at),
            GChange::OfferWindow(o, w) => cat.offers[*o as usize % no].window = w.build(at),
            GChange::Price(o, p) => cat.offers[*o as usize % no].price = *p,
            GChange::Policy(o) => {
                let offer = &mut cat.offers[*o as usize % no];
                offer.waitlist = policy(offer.waitlist == WaitlistPolicy::Strict);
            }
            GChange::SlotTimes(s, lead, cutoff) => {
                let slots: Vec<usize> = (0..no).filter(|&i| cat.offers[i].slot.is_some()).collect();
                if !slots.is_empty() {
                    let slot = cat.offers[slots[*s as usize % slots.len()]]
                        .slot
                        .as_mut()
                        .unwrap();
                    slot.lead_ms = *lead;
                    slot.cutoff_at = cutoff.map(|c| slot.starts_at.saturating_sub(c));
                }
            }
            GChange::AddPool(capacity) => cat.pools.push(PoolSpec {
                name: pool_name(np),
                capacity: *capacity,
            }),
            GChange::AddOffer(g) => {
                let offer = build_offer(offer_name(no), g, &cat.pools, at);
                cat.offers.push(offer);
            }
            GChange::Hold(h) => cat.default_hold_ms = *h,
            // Keep at least one of each, so that later edits have something to name.
            GChange::RemovePool(p) if np > 1 => {
                cat.pools.remove(*p as usize % np);
            }
            GChange::RemoveOffer(o) if no > 1 => {
                cat.offers.remove(*o as usize % no);
            }
            GChange::RemovePool(_) | GChange::RemoveOffer(_) => {}
            GChange::ChangeDraws(o) => cat.offers[*o as usize % no].draws[0].amount += 1,
            GChange::Invalid(k) => inject_invalid(&mut cat, *k),
        }
    }
    cat
}
