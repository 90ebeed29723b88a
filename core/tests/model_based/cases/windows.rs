//! CATALOG.md sales windows and slots: when an offer can be bought at all.

use super::scenario::{
    buy, c, catalog, check_model, closed, confirmed, ledger_run, load, not_open, ospec, pspec,
    reserve, rule_refused, slot_offer, window, windowed, X,
};
use kontingent_core::Command;

// ---- sales windows

fn scenario_window_edges() -> Vec<Command> {
    let mut cat = catalog(
        vec![pspec("p", 100)],
        vec![windowed(ospec("a", 0, &[("p", 1)]), Some(300), Some(400))],
        vec![],
    );
    cat.window = window(Some(100), Some(500));
    vec![
        c(0, load(&cat)),
        c(99, reserve(buy("r1", "alice", &[("a", 1)]))),
        c(100, reserve(buy("r2", "alice", &[("a", 1)]))),
        c(299, reserve(buy("r3", "alice", &[("a", 1)]))),
        c(300, reserve(buy("r4", "alice", &[("a", 1)]))),
        c(399, reserve(buy("r5", "alice", &[("a", 1)]))),
        c(400, reserve(buy("r6", "alice", &[("a", 1)]))),
        c(499, reserve(buy("r7", "alice", &[("a", 1)]))),
        c(500, reserve(buy("r8", "alice", &[("a", 1)]))),
    ]
}

#[test]
fn model_window_edges() {
    check_model(
        &scenario_window_edges(),
        vec![
            (1, X::O(not_open(100))),
            (2, X::O(not_open(300))),
            (3, X::O(not_open(300))),
            (4, X::O(confirmed(1, 1))),
            (5, X::O(confirmed(2, 1))),
            (6, X::O(closed(400))),
            (7, X::O(closed(400))),
            (8, X::O(closed(500))),
        ],
    );
}

#[test]
fn ledger_window_edges() {
    ledger_run(scenario_window_edges());
}

fn scenario_window_line_order() -> Vec<Command> {
    let mut cat = catalog(
        vec![pspec("p", 100)],
        vec![
            windowed(ospec("a", 0, &[("p", 1)]), Some(150), Some(300)),
            windowed(ospec("b", 0, &[("p", 1)]), Some(120), Some(250)),
        ],
        vec![],
    );
    cat.window = window(Some(100), Some(1000));
    vec![
        c(0, load(&cat)),
        c(110, reserve(buy("r1", "alice", &[("a", 1), ("b", 1)]))),
        c(110, reserve(buy("r2", "alice", &[("b", 1), ("a", 1)]))),
        c(130, reserve(buy("r3", "alice", &[("b", 1), ("a", 1)]))),
        c(249, reserve(buy("r4", "alice", &[("b", 1), ("a", 1)]))),
        c(250, reserve(buy("r5", "alice", &[("a", 1), ("b", 1)]))),
        c(299, reserve(buy("r6", "alice", &[("a", 1)]))),
        c(300, reserve(buy("r7", "alice", &[("b", 1), ("a", 1)]))),
        c(300, reserve(buy("r8", "alice", &[("a", 1), ("b", 1)]))),
    ]
}

#[test]
fn model_window_line_order() {
    check_model(
        &scenario_window_line_order(),
        vec![
            (1, X::O(not_open(150))),
            (2, X::O(not_open(120))),
            (3, X::O(not_open(150))),
            (4, X::O(confirmed(1, 2))),
            (5, X::O(closed(250))),
            (6, X::O(confirmed(2, 1))),
            (7, X::O(closed(250))),
            (8, X::O(closed(300))),
        ],
    );
}

#[test]
fn ledger_window_line_order() {
    ledger_run(scenario_window_line_order());
}

// ---- slots

fn scenario_slots() -> Vec<Command> {
    let cat = catalog(
        vec![
            pspec("s1", 9),
            pspec("s2", 9),
            pspec("s3", 9),
            pspec("s4", 9),
        ],
        vec![
            slot_offer("s1", 1000, Some(100), None),
            slot_offer("s2", 2000, Some(100), Some(1500)),
            slot_offer("s3", 3000, None, None),
            windowed(slot_offer("s4", 3000, Some(1000), None), None, Some(2500)),
        ],
        vec![],
    );
    let b = |id: &str, o: &str| reserve(buy(id, "alice", &[(o, 1)]));
    vec![
        c(0, load(&cat)),
        c(899, b("r1", "s1")),
        c(900, b("r2", "s1")),
        c(901, b("r3", "s1")),
        c(999, b("r4", "s1")),
        c(1000, b("r5", "s1")),
        c(1499, b("r6", "s2")),
        c(1500, b("r7", "s2")),
        c(1950, b("r8", "s2")),
        c(1999, b("r9", "s2")),
        c(1999, b("r10", "s4")),
        c(2000, b("r11", "s2")),
        c(2000, b("r12", "s4")),
        c(2001, b("r13", "s4")),
        c(2500, b("r14", "s4")),
        c(2999, reserve(buy("r15", "alice", &[("s3", 1), ("s1", 1)]))),
        c(2999, b("r16", "s3")),
        c(3000, b("r17", "s3")),
    ]
}

#[test]
fn model_slots() {
    check_model(
        &scenario_slots(),
        vec![
            (1, X::O(confirmed(1, 1))),
            // Exactly lead_ms before the start: still accepted.
            (2, X::O(confirmed(2, 1))),
            (3, X::O(rule_refused("lead_time"))),
            (4, X::O(rule_refused("lead_time"))),
            (5, X::O(closed(1000))),
            (6, X::O(confirmed(3, 1))),
            (7, X::O(rule_refused("same_day_cutoff"))),
            // Past both the cut-off and the lead time: the cut-off comes first.
            (8, X::O(rule_refused("same_day_cutoff"))),
            (9, X::O(rule_refused("same_day_cutoff"))),
            (10, X::O(confirmed(4, 1))),
            (11, X::O(closed(2000))),
            (12, X::O(confirmed(5, 1))),
            (13, X::O(rule_refused("lead_time"))),
            // The offer window comes before the slot.
            (14, X::O(closed(2500))),
            (15, X::O(closed(1000))),
            (16, X::O(confirmed(6, 1))),
            (17, X::O(closed(3000))),
        ],
    );
}

#[test]
fn ledger_slots() {
    ledger_run(scenario_slots());
}
