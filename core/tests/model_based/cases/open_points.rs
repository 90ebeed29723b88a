//! The open points of CATALOG.md, where the text allows two readings. These run
//! through the harness, which accepts either reading at each open point (but
//! the same one every time); `MODEL_READINGS=1` prints the ledger's.

use super::scenario::{
    buy, c, catalog, ledger_run, load, ospec, pool_limit, pspec, reserve, rspec, share, slot_offer,
    units_limit, value_limit, window,
};
use kontingent_core::catalog::{Limit, RuleKind, RuleSpec};
use kontingent_core::{Catalog, Command};

/// One small run per open point (see `model::Amb`).
fn scenarios_open_points() -> Vec<(&'static str, Vec<Command>)> {
    let offers = || {
        vec![
            ospec("a", 200, &[("budget", 1000), ("q", 1)]),
            ospec("b", 150, &[("budget", 500), ("q", 1)]),
            ospec("c", 100, &[("q", 1)]),
        ]
    };
    let pools = || vec![pspec("budget", 100_000), pspec("q", 100)];
    let with = |rules: Vec<RuleSpec>| catalog(pools(), offers(), rules);

    // Several offers over a per-offer limit, with different `used`.
    let per_offer = with(vec![rspec("each", &[], units_limit(3, true))]);
    let per_offer_run = vec![
        c(0, load(&per_offer)),
        c(1, reserve(buy("r1", "bob", &[("a", 1)]))),
        c(2, reserve(buy("r2", "bob", &[("b", 4), ("a", 3)]))),
    ];

    // Nothing requested under a limit already exceeded (the limit was lowered).
    let v1 = with(vec![
        rspec("units-a", &["a"], units_limit(5, false)),
        rspec("budget", &[], pool_limit("budget", 5000)),
    ]);
    let mut v2 = v1.clone();
    v2.rules[0].kind = units_limit(2, false);
    let mut v3 = v1.clone();
    v3.rules[1].kind = pool_limit("budget", 2000);
    let without_request = vec![
        c(0, load(&v1)),
        c(1, reserve(buy("r1", "alice", &[("a", 3)]))),
        c(2, load(&v2)),
        c(3, reserve(buy("r2", "alice", &[("c", 1)]))),
        c(4, load(&v3)),
        c(5, reserve(buy("r3", "alice", &[("c", 1)]))),
    ];

    // A scoped pool limit: do unscoped offers' draws count?
    let scoped = with(vec![rspec("scoped", &["b"], pool_limit("budget", 1500))]);
    let scoped_run = vec![
        c(0, load(&scoped)),
        c(1, reserve(buy("r1", "alice", &[("a", 1)]))),
        c(2, reserve(buy("r2", "alice", &[("b", 2)]))),
    ];

    // A value limit after a price change.
    let p1 = with(vec![rspec("spend", &[], value_limit(1000, false))]);
    let mut p2 = p1.clone();
    p2.offers[0].price = 300;
    let price_run = vec![
        c(0, load(&p1)),
        c(1, reserve(buy("r1", "carol", &[("a", 3)]))),
        c(2, load(&p2)),
        c(3, reserve(buy("r2", "carol", &[("b", 1)]))),
    ];

    // A repeat on a channel the catalog no longer allows.
    let ch1 = with(vec![]);
    let mut ch2 = ch1.clone();
    ch2.channels = vec!["web".into()];
    let phone = buy("r1", "alice", &[("c", 1)]).channel("phone");
    let channel_run = vec![
        c(0, load(&ch1)),
        c(1, reserve(phone.clone())),
        c(2, load(&ch2)),
        c(3, reserve(phone)),
    ];

    vec![
        ("per_offer order", per_offer_run),
        ("limit without request", without_request),
        ("scoped pool limit", scoped_run),
        ("value after a price change", price_run),
        ("repeat on a dropped channel", channel_run),
    ]
}

/// Questionable catalogs: either loading or `invalid_catalog` is accepted.
fn doubtful_catalogs() -> Vec<(&'static str, Catalog)> {
    let base = || {
        catalog(
            vec![pspec("p", 5)],
            vec![ospec("o", 100, &[("p", 1)])],
            vec![],
        )
    };
    let with_rule = |kind: RuleKind| {
        let mut c = base();
        c.rules.push(rspec("r", &[], kind));
        c
    };
    let mut empty_window = base();
    empty_window.window = window(Some(10), Some(10));
    let mut no_channels = base();
    no_channels.channels.clear();
    let mut slot_times = base();
    slot_times.pools.push(pspec("s", 1));
    let mut s = slot_offer("s", 100, None, None);
    s.slot.as_mut().unwrap().ends_at = 100;
    slot_times.offers.push(s);
    let mut share_scope = with_rule(share("p", "phone", 1));
    share_scope.rules[0].offers = vec!["o".into()];
    let mut dup_rule = with_rule(units_limit(1, false));
    dup_rule.rules.push(rspec("r", &[], units_limit(2, false)));
    vec![
        ("share keep > capacity", with_rule(share("p", "phone", 6))),
        ("share keep 0", with_rule(share("p", "phone", 0))),
        (
            "share for an unknown channel",
            with_rule(share("p", "kiosk", 1)),
        ),
        ("share with a scope", share_scope),
        ("units limit 0", with_rule(units_limit(0, false))),
        (
            "per_offer pool limit",
            with_rule(RuleKind::CustomerLimit {
                limit: Limit::PoolAmount {
                    pool: "p".into(),
                    amount: 1,
                },
                per_offer: true,
            }),
        ),
        (
            "order size min > max",
            with_rule(RuleKind::OrderSize {
                min_units: Some(3),
                max_units: Some(2),
            }),
        ),
        (
            "order size without bounds",
            with_rule(RuleKind::OrderSize {
                min_units: None,
                max_units: None,
            }),
        ),
        (
            "min order value 0",
            with_rule(RuleKind::MinOrderValue { value: 0 }),
        ),
        (
            "allowed values empty",
            with_rule(RuleKind::AllowedValues {
                attribute: "zip".into(),
                values: vec![],
            }),
        ),
        ("duplicate rule names", dup_rule),
        ("empty window", empty_window),
        ("no channels", no_channels),
        ("slot ends when it starts", slot_times),
    ]
}

#[test]
fn ledger_open_points() {
    for (what, cmds) in scenarios_open_points() {
        let h = ledger_run(cmds);
        if std::env::var_os("MODEL_READINGS").is_some() {
            eprintln!("open point {what}: {:?}", h.chosen);
        }
    }
    for (what, cat) in doubtful_catalogs() {
        let h = ledger_run(vec![c(0, load(&cat))]);
        if std::env::var_os("MODEL_READINGS").is_some() {
            eprintln!("doubtful catalog {what}: {:?}", h.chosen);
        }
    }
}
