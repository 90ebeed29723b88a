//! CATALOG.md "Waiting lists and rules": which rules an entry must still pass
//! when it is promoted.

use super::scenario::{
    buy, c, catalog, check_model, confirmed, event_names, leave, ledger_run, load, model_run,
    ospec, pspec, release, reserve, rspec, slot_offer, units_limit, waiting, windowed, X,
};
use crate::model::EState;
use kontingent_core::catalog::RuleKind;
use kontingent_core::{
    Action, Command, Outcome, Request, ReservationId, WaitEntryId, WaitlistPolicy,
};

fn scenario_waitlist_eligibility(policy: WaitlistPolicy) -> Vec<Command> {
    let mut o = ospec("o", 0, &[("p", 1)]);
    o.waitlist = policy;
    let mut late = windowed(ospec("late", 0, &[("p", 1)]), None, Some(500));
    late.waitlist = policy;
    let cat = catalog(
        vec![pspec("p", 1), pspec("q", 5)],
        vec![o, ospec("o2", 0, &[("q", 1)]), late],
        vec![rspec("one", &["o", "o2"], units_limit(1, false))],
    );
    let wait = |id: &str, who: &str, offer: &str| {
        Request::new(id, who)
            .line(offer, 1)
            .waitlist()
            .hold_ms(100_000)
    };
    vec![
        c(0, load(&cat)),
        c(100, reserve(buy("r1", "alice", &[("o", 1)]))),
        c(110, reserve(wait("r2", "bob", "o"))),
        c(120, reserve(wait("r3", "carol", "o"))),
        // Bob buys elsewhere in the meantime: his entry may no longer be promoted.
        c(130, reserve(buy("r4", "bob", &[("o2", 1)]))),
        c(140, release(1)),
        c(150, Action::Tick),
        c(160, release(2)),
        c(170, release(3)),
        c(200, reserve(wait("r5", "dave", "late"))),
        // The offer closed at 500: dave's entry is passed over.
        c(600, release(4)),
        c(610, leave(3)),
        c(620, leave(1)),
    ]
}

#[test]
fn model_waitlist_eligibility() {
    for policy in [WaitlistPolicy::Strict, WaitlistPolicy::Skip] {
        let (m, r) = check_model(
            &scenario_waitlist_eligibility(policy),
            vec![
                (2, X::O(waiting(1, 1))),
                (3, X::O(waiting(2, 2))),
                (4, X::O(confirmed(2, 1))),
                (9, X::O(waiting(3, 1))),
                (
                    11,
                    X::O(Outcome::Left {
                        entry: WaitEntryId(3),
                    }),
                ),
                (
                    12,
                    X::O(Outcome::Promoted {
                        entry: WaitEntryId(1),
                        reservation: ReservationId(4),
                    }),
                ),
            ],
        );
        // Bob (head) is passed over, carol is served, bob keeps his place.
        assert_eq!(
            event_names(&r[5]),
            vec![("released", 140), ("promoted", 140)]
        );
        assert_eq!(m.entries[1].state, EState::Promoted(3));
        assert_eq!(event_names(&r[7]), vec![("released", 160)]);
        assert_eq!(
            event_names(&r[8]),
            vec![("released", 170), ("promoted", 170)]
        );
        assert_eq!(m.entries[0].state, EState::Promoted(4));
        assert_eq!(event_names(&r[10]), vec![("released", 600)]);
    }
}

#[test]
fn ledger_waitlist_eligibility() {
    ledger_run(scenario_waitlist_eligibility(WaitlistPolicy::Strict));
    ledger_run(scenario_waitlist_eligibility(WaitlistPolicy::Skip));
}

fn scenario_waitlist_slot_passed() -> Vec<Command> {
    let cat = catalog(
        vec![pspec("s", 1), pspec("t", 1)],
        vec![
            slot_offer("s", 1000, None, None),
            slot_offer("t", 1000, None, None),
        ],
        vec![],
    );
    vec![
        c(0, load(&cat)),
        c(
            100,
            reserve(Request::new("r1", "alice").line("s", 1).hold_ms(899)),
        ),
        c(
            100,
            reserve(Request::new("r2", "alice").line("t", 1).hold_ms(900)),
        ),
        c(
            200,
            reserve(Request::new("r3", "bob").line("s", 1).waitlist()),
        ),
        c(
            200,
            reserve(Request::new("r4", "carol").line("t", 1).waitlist()),
        ),
        // s's hold expires at 999 (slot not started): promoted, stamped 999.
        // t's at 1000 (slot started): carol's entry is passed over.
        c(1100, Action::Tick),
    ]
}

#[test]
fn model_waitlist_slot_passed() {
    let (m, r) = model_run(&scenario_waitlist_slot_passed());
    assert_eq!(
        event_names(&r[5]),
        vec![("expired", 999), ("promoted", 999), ("expired", 1000)]
    );
    assert_eq!(m.entries[1].state, EState::Waiting);
}

#[test]
fn ledger_waitlist_slot_passed() {
    ledger_run(scenario_waitlist_slot_passed());
}

// ---- promotion judges windows, slots and customer limits only

/// CATALOG.md "Waiting lists and rules": an entry is promoted if it would
/// still pass steps 1-3 and its customer limits; rules added since it joined
/// (order size, minimum value, allow-lists) do not hold it back.
fn scenario_promotion_ignores_later_order_rules(kind: RuleKind) -> Vec<Command> {
    let v1 = catalog(
        vec![pspec("p", 2)],
        vec![ospec("o", 100, &[("p", 1)])],
        vec![],
    );
    let mut v2 = v1.clone();
    v2.rules = vec![rspec("later", &[], kind)];
    vec![
        c(0, load(&v1)),
        c(1, reserve(buy("r1", "alice", &[("o", 2)]))),
        c(
            2,
            reserve(Request::new("r2", "bob").line("o", 2).waitlist()),
        ),
        c(3, load(&v2)),
        c(4, release(1)),
    ]
}

fn later_order_rules() -> Vec<RuleKind> {
    vec![
        RuleKind::OrderSize {
            min_units: Some(3),
            max_units: None,
        },
        RuleKind::MinOrderValue { value: 500 },
        RuleKind::AllowedValues {
            attribute: "zip".into(),
            values: vec!["1000".into()],
        },
    ]
}

#[test]
fn model_promotion_ignores_later_order_rules() {
    for kind in later_order_rules() {
        let (_, r) = model_run(&scenario_promotion_ignores_later_order_rules(kind));
        assert_eq!(event_names(&r[4]), vec![("released", 4), ("promoted", 4)]);
    }
}

#[test]
fn ledger_promotion_ignores_later_order_rules() {
    for kind in later_order_rules() {
        ledger_run(scenario_promotion_ignores_later_order_rules(kind));
    }
}
