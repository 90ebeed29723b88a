//! CATALOG.md "Changing a catalog mid-campaign": what a reload may change, what
//! it may not, and what it emits.

use super::scenario::{
    buy, c, catalog, check_model, closed, confirmed, event_names, ledger_run, load, ospec, pspec,
    release, reserve, rspec, units_limit, waiting, window, X,
};
use kontingent_core::{Catalog, Command, Outcome, Request, WaitlistPolicy};

fn catalog_versions() -> (Catalog, Catalog, Catalog) {
    let v1 = catalog(
        vec![pspec("p", 2)],
        vec![ospec("o", 100, &[("p", 1)])],
        vec![],
    );
    let mut v2 = v1.clone();
    v2.pools[0].capacity = 1;
    v2.pools.push(pspec("q", 5));
    v2.offers.push(ospec("o2", 50, &[("q", 1)]));
    v2.rules = vec![rspec("one", &["o"], units_limit(1, false))];
    v2.default_hold_ms = 60_000;
    let mut v3 = v2.clone();
    v3.pools[0].capacity = 3;
    (v1, v2, v3)
}

fn scenario_catalog_change() -> Vec<Command> {
    let (v1, v2, v3) = catalog_versions();
    let mut no_offer = v3.clone();
    no_offer.offers.pop();
    let mut no_pool = v3.clone();
    no_pool.pools.pop();
    no_pool.offers.pop();
    let mut draws = v3.clone();
    draws.offers[0].draws[0].amount = 2;
    let mut dup = v3.clone();
    dup.pools.push(pspec("p", 1));
    let mut closing = v3.clone();
    closing.offers[0].window = window(None, Some(9));
    closing.offers[0].price = 300;
    closing.offers[0].waitlist = WaitlistPolicy::Skip;
    vec![
        c(0, load(&v1)),
        c(1, reserve(buy("r1", "alice", &[("o", 2)]))),
        c(
            2,
            reserve(
                Request::new("r2", "bob")
                    .line("o", 1)
                    .waitlist()
                    .hold_ms(500),
            ),
        ),
        // Lower p below what is promised: nothing is revoked.
        c(3, load(&v2)),
        c(4, release(1)),
        c(
            5,
            reserve(Request::new("r3", "carol").line("o", 1).waitlist()),
        ),
        // Raising capacity serves carol within the load.
        c(6, load(&v3)),
        c(7, load(&no_offer)),
        c(7, load(&no_pool)),
        c(7, load(&draws)),
        c(7, load(&dup)),
        c(7, reserve(buy("r4", "dave", &[("o2", 1)]).channel("kiosk"))),
        c(8, load(&closing)),
        c(8, reserve(buy("r5", "dave", &[("o", 1)]))),
        c(9, reserve(buy("r6", "erin", &[("o", 1)]))),
        c(9, load(&closing)),
    ]
}

#[test]
fn model_catalog_change() {
    let (m, r) = check_model(
        &scenario_catalog_change(),
        vec![
            (0, X::O(Outcome::Done)),
            (2, X::O(waiting(1, 1))),
            (3, X::O(Outcome::Done)),
            (5, X::O(waiting(2, 1))),
            (7, X::E("catalog_change")),
            (8, X::E("catalog_change")),
            (9, X::E("catalog_change")),
            (10, X::E("invalid_catalog")),
            (11, X::E("unknown_channel")),
            (13, X::O(confirmed(4, 1))),
            (14, X::O(closed(9))),
        ],
    );
    assert_eq!(
        event_names(&r[0]),
        vec![
            ("catalog_loaded", 0),
            ("pool_defined", 0),
            ("offer_defined", 0)
        ]
    );
    assert_eq!(
        event_names(&r[3]),
        vec![
            ("catalog_loaded", 3),
            ("capacity_changed", 3),
            ("pool_defined", 3),
            ("offer_defined", 3),
            ("default_hold_changed", 3),
        ]
    );
    assert_eq!(event_names(&r[4]), vec![("released", 4), ("promoted", 4)]);
    assert_eq!(
        event_names(&r[6]),
        vec![
            ("catalog_loaded", 6),
            ("capacity_changed", 6),
            ("promoted", 6)
        ]
    );
    // Price, window and policy changes emit nothing of their own.
    assert_eq!(event_names(&r[12]), vec![("catalog_loaded", 8)]);
    assert_eq!(event_names(&r[15]), vec![("catalog_loaded", 9)]);
    assert_eq!(m.offers[0].policy, WaitlistPolicy::Skip);
    assert_eq!(m.default_hold, 60_000);
    assert_eq!(m.confirmed(0), 1);
}

#[test]
fn ledger_catalog_change() {
    ledger_run(scenario_catalog_change());
}
