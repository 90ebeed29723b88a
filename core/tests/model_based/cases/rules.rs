//! CATALOG.md order-intake rules, one scenario per rule at its boundaries, and
//! the order in which they are judged.

use super::scenario::{
    buy, c, catalog, check_model, confirmed, event_names, held, ledger_run, load, not_open, ospec,
    over_limit, pool_limit, pspec, release, reserve, rspec, rule_refused, share, sold_out,
    units_limit, value_limit, waiting, window, X,
};
use kontingent_core::catalog::RuleKind;
use kontingent_core::{Action, Command, Outcome, Refusal, Request};

// ---- customer limits

fn scenario_customer_limit_units() -> Vec<Command> {
    let cat = catalog(
        vec![pspec("p", 100)],
        vec![
            ospec("a", 100, &[("p", 1)]),
            ospec("b", 250, &[("p", 1)]),
            ospec("c", 0, &[("p", 1)]),
        ],
        vec![rspec("three-ab", &["a", "b"], units_limit(3, false))],
    );
    vec![
        c(0, load(&cat)),
        c(1, reserve(buy("r1", "alice", &[("a", 2)]))),
        c(2, reserve(buy("r2", "alice", &[("a", 1), ("c", 5)]))),
        c(3, reserve(buy("r3", "alice", &[("b", 1)]))),
        c(3, reserve(buy("r4", "alice", &[("c", 10)]))),
        c(4, reserve(buy("r5", "bob", &[("a", 4)]))),
        c(
            4,
            reserve(Request::new("r6", "bob").line("a", 3).hold_ms(10)),
        ),
        c(5, release(1)),
        c(6, reserve(buy("r7", "alice", &[("b", 2)]))),
        c(7, reserve(buy("r8", "alice", &[("a", 1)]))),
        c(13, reserve(buy("r9", "bob", &[("b", 1)]))),
        // Bob's hold expired at 14: it no longer counts.
        c(14, reserve(buy("r10", "bob", &[("b", 3)]))),
    ]
}

#[test]
fn model_customer_limit_units() {
    check_model(
        &scenario_customer_limit_units(),
        vec![
            (1, X::O(confirmed(1, 2))),
            // used + requested = limit: accepted; unscoped lines do not count.
            (2, X::O(confirmed(2, 6))),
            (3, X::O(over_limit("three-ab", 3, 3))),
            (4, X::O(confirmed(3, 10))),
            (5, X::O(over_limit("three-ab", 3, 0))),
            (6, X::O(held(4, 14, 3))),
            (8, X::O(confirmed(5, 2))),
            (9, X::O(over_limit("three-ab", 3, 3))),
            (10, X::O(over_limit("three-ab", 3, 3))),
            (11, X::O(confirmed(6, 3))),
        ],
    );
}

#[test]
fn ledger_customer_limit_units() {
    ledger_run(scenario_customer_limit_units());
}

fn scenario_customer_limit_per_offer_and_value() -> Vec<Command> {
    let cat = catalog(
        vec![pspec("p", 100)],
        vec![
            ospec("a", 100, &[("p", 1)]),
            ospec("b", 250, &[("p", 1)]),
            ospec("c", 100, &[("p", 1)]),
        ],
        vec![
            rspec("two-each", &["a", "b"], units_limit(2, true)),
            rspec("spend-500", &[], value_limit(500, false)),
        ],
    );
    vec![
        c(0, load(&cat)),
        c(1, reserve(buy("r1", "alice", &[("a", 2)]))),
        c(2, reserve(buy("r2", "alice", &[("a", 1)]))),
        c(3, reserve(buy("r3", "alice", &[("b", 1)]))),
        c(4, reserve(buy("r4", "alice", &[("b", 1)]))),
        c(5, reserve(buy("r5", "bob", &[("c", 5)]))),
        c(6, reserve(buy("r6", "bob", &[("c", 1)]))),
        c(7, reserve(buy("r7", "carol", &[("b", 3), ("a", 3)]))),
        c(8, reserve(buy("r8", "carol", &[("a", 1), ("a", 1)]))),
        c(9, reserve(buy("r9", "carol", &[("b", 1), ("a", 1)]))),
    ]
}

#[test]
fn model_customer_limit_per_offer_and_value() {
    check_model(
        &scenario_customer_limit_per_offer_and_value(),
        vec![
            (1, X::O(confirmed(1, 2))),
            (2, X::O(over_limit("two-each", 2, 2))),
            // Per offer: b is counted on its own.
            (3, X::O(confirmed(2, 1))),
            (4, X::O(over_limit("spend-500", 500, 450))),
            // Value exactly at the limit: accepted.
            (5, X::O(confirmed(3, 5))),
            (6, X::O(over_limit("spend-500", 500, 500))),
            (7, X::O(over_limit("two-each", 2, 0))),
            // Two lines of one offer count together.
            (8, X::O(confirmed(4, 2))),
            // b is fine (0 + 1), a is not (2 + 1).
            (9, X::O(over_limit("two-each", 2, 2))),
        ],
    );
}

#[test]
fn ledger_customer_limit_per_offer_and_value() {
    ledger_run(scenario_customer_limit_per_offer_and_value());
}

fn scenario_customer_limit_pool() -> Vec<Command> {
    let cat = catalog(
        vec![pspec("budget", 10_000), pspec("q", 100)],
        vec![
            ospec("v10", 1000, &[("q", 1), ("budget", 1000)]),
            ospec("v20", 2000, &[("q", 1), ("budget", 2000)]),
            ospec("other", 0, &[("q", 1)]),
        ],
        vec![rspec("budget-3000", &[], pool_limit("budget", 3000))],
    );
    vec![
        c(0, load(&cat)),
        c(1, reserve(buy("r1", "alice", &[("v20", 1)]))),
        c(2, reserve(buy("r2", "alice", &[("v10", 1)]))),
        c(3, reserve(buy("r3", "alice", &[("v10", 1)]))),
        c(3, reserve(buy("r4", "alice", &[("other", 5)]))),
        c(4, reserve(buy("r5", "bob", &[("v20", 2)]))),
        c(5, reserve(buy("r6", "bob", &[("v10", 1), ("v20", 1)]))),
    ]
}

#[test]
fn model_customer_limit_pool() {
    check_model(
        &scenario_customer_limit_pool(),
        vec![
            (1, X::O(confirmed(1, 1))),
            (2, X::O(confirmed(2, 1))),
            (3, X::O(over_limit("budget-3000", 3000, 3000))),
            (4, X::O(confirmed(3, 5))),
            (5, X::O(over_limit("budget-3000", 3000, 0))),
            (6, X::O(confirmed(4, 2))),
        ],
    );
}

#[test]
fn ledger_customer_limit_pool() {
    ledger_run(scenario_customer_limit_pool());
}

// ---- order size, minimum value, allow-lists

fn scenario_order_size_and_value() -> Vec<Command> {
    let cat = catalog(
        vec![pspec("p", 1000)],
        vec![
            ospec("a", 100, &[("p", 1)]),
            ospec("b", 250, &[("p", 1)]),
            ospec("c", 0, &[("p", 1)]),
        ],
        vec![
            rspec(
                "size",
                &["a"],
                RuleKind::OrderSize {
                    min_units: Some(2),
                    max_units: Some(4),
                },
            ),
            rspec(
                "min-500",
                &["a", "b"],
                RuleKind::MinOrderValue { value: 500 },
            ),
        ],
    );
    let b = |id: &str, lines: &[(&str, u64)]| reserve(buy(id, "alice", lines));
    vec![
        c(0, load(&cat)),
        c(1, b("r1", &[("c", 1)])),
        c(1, b("r2", &[("a", 1)])),
        c(1, b("r3", &[("a", 2)])),
        c(1, b("r4", &[("a", 2), ("b", 2)])),
        c(1, b("r5", &[("a", 5)])),
        c(1, b("r6", &[("a", 4), ("b", 1)])),
        c(1, b("r7", &[("a", 4)])),
        c(1, b("r8", &[("b", 2)])),
        c(1, b("r9", &[("b", 1), ("c", 3)])),
        c(1, b("r10", &[("a", 1), ("a", 1), ("b", 2)])),
        c(1, b("r11", &[("a", 3), ("a", 2), ("b", 2)])),
    ]
}

#[test]
fn model_order_size_and_value() {
    check_model(
        &scenario_order_size_and_value(),
        vec![
            // No scoped line: neither rule applies.
            (1, X::O(confirmed(1, 1))),
            (2, X::O(rule_refused("size"))),
            (3, X::O(rule_refused("min-500"))),
            (4, X::O(confirmed(2, 4))),
            (5, X::O(rule_refused("size"))),
            (6, X::O(confirmed(3, 5))),
            (7, X::O(rule_refused("min-500"))),
            // Exactly the minimum value; the size rule has no scoped line.
            (8, X::O(confirmed(4, 2))),
            (9, X::O(rule_refused("min-500"))),
            (10, X::O(confirmed(5, 4))),
            (11, X::O(rule_refused("size"))),
        ],
    );
}

#[test]
fn ledger_order_size_and_value() {
    ledger_run(scenario_order_size_and_value());
}

fn scenario_allowed_values() -> Vec<Command> {
    let cat = catalog(
        vec![pspec("p", 100)],
        vec![ospec("a", 0, &[("p", 1)]), ospec("c", 0, &[("p", 1)])],
        vec![rspec(
            "delivery_area",
            &["a"],
            RuleKind::AllowedValues {
                attribute: "zip".into(),
                values: vec!["1000".into(), "1010".into()],
            },
        )],
    );
    let r = |id: &str| Request::new(id, "alice").confirm();
    vec![
        c(0, load(&cat)),
        c(1, reserve(r("r1").line("a", 1))),
        c(1, reserve(r("r2").line("a", 1).attribute("zip", "1020"))),
        c(1, reserve(r("r3").line("a", 1).attribute("zip", "1010"))),
        c(1, reserve(r("r4").line("a", 1).attribute("area", "1000"))),
        c(1, reserve(r("r5").line("c", 1))),
        c(1, reserve(r("r6").line("c", 1).line("a", 1))),
        c(1, reserve(r("r7").line("c", 1).attribute("zip", "9"))),
    ]
}

#[test]
fn model_allowed_values() {
    check_model(
        &scenario_allowed_values(),
        vec![
            // A missing attribute is refused too.
            (1, X::O(rule_refused("delivery_area"))),
            (2, X::O(rule_refused("delivery_area"))),
            (3, X::O(confirmed(1, 1))),
            (4, X::O(rule_refused("delivery_area"))),
            (5, X::O(confirmed(2, 1))),
            (6, X::O(rule_refused("delivery_area"))),
            (7, X::O(confirmed(3, 1))),
        ],
    );
}

#[test]
fn ledger_allowed_values() {
    ledger_run(scenario_allowed_values());
}

// ---- channel shares

fn scenario_channel_share() -> Vec<Command> {
    let cat = catalog(
        vec![pspec("p", 10)],
        vec![ospec("o", 0, &[("p", 1)])],
        vec![rspec("phone-keeps-3", &[], share("p", "phone", 3))],
    );
    let web = |id: &str, q: u64| Request::new(id, "alice").line("o", q).confirm();
    let phone = |id: &str, q: u64| web(id, q).channel("phone");
    vec![
        c(0, load(&cat)),
        c(1, reserve(web("r1", 8))),
        c(1, reserve(web("r2", 7))),
        c(2, reserve(web("r3", 1))),
        c(2, reserve(Request::new("r4", "bob").line("o", 2).up_to())),
        c(3, reserve(phone("r5", 1))),
        c(3, reserve(web("r6", 1))),
        c(4, reserve(phone("r7", 3))),
        c(4, reserve(phone("r8", 2))),
        c(5, release(2)),
        c(5, reserve(web("r9", 1))),
        c(
            5,
            reserve(Request::new("r10", "bob").line("o", 1).waitlist()),
        ),
        c(6, release(1)),
        c(7, reserve(web("r11", 7))),
        c(7, reserve(web("r12", 6))),
        c(8, reserve(web("r13", 1))),
        c(8, reserve(phone("r14", 1))),
    ]
}

#[test]
fn model_channel_share() {
    let (m, r) = check_model(
        &scenario_channel_share(),
        vec![
            // Web sees 10 - 3.
            (1, X::O(sold_out("p", 8, 7))),
            (2, X::O(confirmed(1, 7))),
            (3, X::O(sold_out("p", 1, 0))),
            (4, X::O(sold_out("p", 2, 0))),
            // Phone takes kept units; what it holds counts toward keep.
            (5, X::O(confirmed(2, 1))),
            (6, X::O(sold_out("p", 1, 0))),
            (7, X::O(sold_out("p", 3, 2))),
            (8, X::O(confirmed(3, 2))),
            // Phone holds 2 of 3 kept, 1 free: 1 kept, web sees 0.
            (10, X::O(sold_out("p", 1, 0))),
            (11, X::O(waiting(1, 1))),
            (13, X::O(sold_out("p", 7, 6))),
            (14, X::O(confirmed(5, 6))),
            (15, X::O(sold_out("p", 1, 0))),
            (16, X::O(confirmed(6, 1))),
        ],
    );
    // Releasing web's 7 frees 8; 1 stays kept: web's entry gets 1 of the 7.
    assert_eq!(event_names(&r[12]), vec![("released", 6), ("promoted", 6)]);
    assert_eq!(m.offer_available_for(0, "phone"), 0);
}

#[test]
fn ledger_channel_share() {
    ledger_run(scenario_channel_share());
}

fn scenario_share_and_waiting_list() -> Vec<Command> {
    let cat = catalog(
        vec![pspec("p", 4)],
        vec![ospec("o", 0, &[("p", 1)])],
        vec![rspec("phone-keeps-3", &[], share("p", "phone", 3))],
    );
    vec![
        c(0, load(&cat)),
        c(1, reserve(buy("r1", "alice", &[("o", 1)]))),
        c(
            2,
            reserve(Request::new("r2", "bob").line("o", 1).waitlist()),
        ),
        c(3, reserve(buy("r3", "carol", &[("o", 1)]).channel("phone"))),
        c(4, release(2)),
        c(5, release(1)),
    ]
}

#[test]
fn model_share_and_waiting_list() {
    let (_, r) = check_model(
        &scenario_share_and_waiting_list(),
        vec![(2, X::O(waiting(1, 1))), (3, X::O(confirmed(2, 1)))],
    );
    // 3 free but all 3 kept for phone: the web entry is not served.
    assert_eq!(event_names(&r[4]), vec![("released", 4)]);
    assert_eq!(event_names(&r[5]), vec![("released", 5), ("promoted", 5)]);
}

#[test]
fn ledger_share_and_waiting_list() {
    ledger_run(scenario_share_and_waiting_list());
}

// ---- evaluation order

fn scenario_evaluation_order() -> Vec<Command> {
    let mut cat = catalog(
        vec![pspec("p", 1)],
        vec![ospec("o", 100, &[("p", 1)])],
        vec![
            rspec(
                "max-2",
                &[],
                RuleKind::OrderSize {
                    min_units: None,
                    max_units: Some(2),
                },
            ),
            rspec(
                "area",
                &[],
                RuleKind::AllowedValues {
                    attribute: "zip".into(),
                    values: vec!["1000".into()],
                },
            ),
            rspec("limit-1", &[], units_limit(1, false)),
        ],
    );
    cat.window = window(Some(100), None);
    let r = |id: &str, who: &str, q: u64| Request::new(id, who).line("o", q);
    vec![
        c(0, load(&cat)),
        c(50, Action::Pause),
        c(99, reserve(r("r1", "alice", 3))),
        c(99, Action::Resume),
        c(99, reserve(r("r2", "alice", 3))),
        c(100, reserve(r("r3", "alice", 3))),
        c(100, reserve(r("r4", "alice", 2))),
        c(100, reserve(r("r5", "alice", 2).attribute("zip", "1000"))),
        c(
            100,
            reserve(r("r6", "bob", 1).attribute("zip", "1000").confirm()),
        ),
        c(100, reserve(r("r7", "carol", 1).attribute("zip", "1000"))),
        c(
            100,
            reserve(r("r8", "carol", 1).attribute("zip", "1000").waitlist()),
        ),
        c(
            100,
            reserve(r("r9", "carol", 2).attribute("zip", "1000").waitlist()),
        ),
        c(100, reserve(r("r10", "dave", 1).waitlist())),
    ]
}

#[test]
fn model_evaluation_order() {
    check_model(
        &scenario_evaluation_order(),
        vec![
            (2, X::O(Outcome::Refused(Refusal::Paused))),
            (4, X::O(not_open(100))),
            (5, X::O(rule_refused("max-2"))),
            (6, X::O(rule_refused("area"))),
            (7, X::O(over_limit("limit-1", 1, 0))),
            (8, X::O(confirmed(1, 1))),
            (9, X::O(sold_out("p", 1, 0))),
            (10, X::O(waiting(1, 1))),
            // Rules come before the waiting list: no entry.
            (11, X::O(over_limit("limit-1", 1, 0))),
            (12, X::O(rule_refused("area"))),
        ],
    );
}

#[test]
fn ledger_evaluation_order() {
    ledger_run(scenario_evaluation_order());
}
