//! Hand-written scenarios from SEMANTICS.md: holds, expiry, waiting lists,
//! idempotency and the edges of time and numbers.

use super::scenario::{
    c, confirm, confirmed, event_names, held, leave, ledger_run, model_run, offer, outcome, pool,
    release, reserve, set_capacity, sold_out, waiting,
};
use crate::model::{EState, Ev};
use kontingent_core::limits::CAPACITY_MAX;
use kontingent_core::{
    Action, Command, Outcome, Refusal, Request, ReservationId, WaitEntryId, WaitlistPolicy,
};

fn scenario_expiry_boundary() -> Vec<Command> {
    vec![
        c(0, pool("p", 1)),
        c(0, offer("o", &[("p", 1)], WaitlistPolicy::Strict)),
        c(
            100,
            reserve(Request::new("a", "alice").line("o", 1).hold_ms(10)),
        ),
        c(
            109,
            reserve(Request::new("b", "bob").line("o", 1).hold_ms(10)),
        ),
        c(
            110,
            reserve(Request::new("c", "carol").line("o", 1).hold_ms(10)),
        ),
        c(110, confirm(1)),
        c(110, release(1)),
        c(119, confirm(2)),
        c(500, Action::Tick),
    ]
}

#[test]
fn model_expiry_at_the_boundary() {
    let (m, r) = model_run(&scenario_expiry_boundary());
    assert_eq!(outcome(&r[2]), &held(1, 110, 1));
    // At 109 = t - 1 the hold is still held.
    assert_eq!(outcome(&r[3]), &sold_out("p", 1, 0));
    assert!(event_names(&r[3]).is_empty());
    // At 110 = t it has expired, before the command runs, stamped at t.
    assert_eq!(outcome(&r[4]), &held(2, 120, 1));
    assert_eq!(event_names(&r[4]), vec![("expired", 110), ("held", 110)]);
    let hold_expired = Outcome::Refused(Refusal::HoldExpired { expired_at: 110 });
    assert_eq!(outcome(&r[5]), &hold_expired);
    assert_eq!(outcome(&r[6]), &hold_expired);
    assert!(event_names(&r[6]).is_empty());
    // Confirm at 119 = t - 1 still works; later ticks expire nothing.
    assert_eq!(outcome(&r[7]), &confirmed(2, 1));
    assert!(event_names(&r[8]).is_empty());
    assert_eq!((m.held(0), m.confirmed(0)), (0, 1));
}

#[test]
fn ledger_expiry_at_the_boundary() {
    ledger_run(scenario_expiry_boundary());
}

fn scenario_waitlist_policy(policy: WaitlistPolicy) -> Vec<Command> {
    vec![
        c(0, pool("p", 4)),
        c(0, offer("o", &[("p", 1)], policy)),
        c(
            10,
            reserve(Request::new("r1", "alice").line("o", 2).confirm()),
        ),
        c(
            10,
            reserve(Request::new("r2", "bob").line("o", 2).confirm()),
        ),
        c(
            11,
            reserve(
                Request::new("r3", "carol")
                    .line("o", 3)
                    .waitlist()
                    .hold_ms(30),
            ),
        ),
        c(
            12,
            reserve(
                Request::new("r4", "alice")
                    .line("o", 1)
                    .waitlist()
                    .hold_ms(30),
            ),
        ),
        c(13, release(1)),
        c(14, release(2)),
    ]
}

#[test]
fn model_strict_head_blocks_and_skip_overtakes() {
    let (_, r) = model_run(&scenario_waitlist_policy(WaitlistPolicy::Strict));
    assert_eq!(outcome(&r[4]), &waiting(1, 1));
    assert_eq!(outcome(&r[5]), &waiting(2, 2));
    // Strict: 2 free, head wants 3: nobody is served.
    assert_eq!(event_names(&r[6]), vec![("released", 13)]);
    // 4 free: head (3) then entry 2 (1) both fit, head first.
    let step = r[7].as_ref().unwrap();
    assert_eq!(
        step.events.iter().map(|e| e.ev.clone()).collect::<Vec<_>>()[1..],
        [
            Ev::Promoted {
                entry: 1,
                reservation: 3,
                expires_at: 44,
                pools: vec![(0, 3)]
            },
            Ev::Promoted {
                entry: 2,
                reservation: 4,
                expires_at: 44,
                pools: vec![(0, 1)]
            },
        ]
    );

    let (m, r) = model_run(&scenario_waitlist_policy(WaitlistPolicy::Skip));
    // Skip: entry 2 fits and overtakes; the head keeps its place.
    assert_eq!(event_names(&r[6]), vec![("released", 13), ("promoted", 13)]);
    assert_eq!(m.entries[1].state, EState::Promoted(3));
    // 3 free after the second release: the head (3) now fits.
    assert_eq!(event_names(&r[7]), vec![("released", 14), ("promoted", 14)]);
    assert_eq!(m.entries[0].state, EState::Promoted(4));
}

#[test]
fn ledger_strict_head_blocks_and_skip_overtakes() {
    ledger_run(scenario_waitlist_policy(WaitlistPolicy::Strict));
    ledger_run(scenario_waitlist_policy(WaitlistPolicy::Skip));
}

fn scenario_lines_share_pools() -> Vec<Command> {
    vec![
        c(0, pool("p", 5)),
        c(0, pool("q", 10)),
        c(0, offer("one", &[("p", 1)], WaitlistPolicy::Strict)),
        c(
            0,
            offer("two", &[("q", 1), ("p", 2)], WaitlistPolicy::Strict),
        ),
        // Same offer twice: 3 + 3 = 6 > 5.
        c(
            1,
            reserve(Request::new("a", "alice").line("one", 3).line("one", 3)),
        ),
        // Two offers sharing p: 1 + 2*2 = 5 fits exactly; q gets 2.
        c(
            2,
            reserve(Request::new("b", "alice").line("one", 1).line("two", 2)),
        ),
        c(
            3,
            reserve(Request::new("c", "bob").line("two", 1).line("one", 1)),
        ),
    ]
}

#[test]
fn model_two_lines_on_the_same_pool_count_together() {
    let (m, r) = model_run(&scenario_lines_share_pools());
    assert_eq!(outcome(&r[4]), &sold_out("p", 6, 5));
    assert_eq!(outcome(&r[5]), &held(1, 2 + 15 * 60 * 1000, 3));
    assert_eq!(
        r[5].as_ref().unwrap().events[0].ev,
        Ev::Held {
            reservation: 1,
            expires_at: 2 + 15 * 60 * 1000,
            pools: vec![(0, 5), (1, 2)]
        }
    );
    // p (id 0) fails first in pool-id order, though line 1 names q first.
    assert_eq!(outcome(&r[6]), &sold_out("p", 3, 0));
    assert_eq!((m.held(0), m.held(1)), (5, 2));
    assert_eq!(
        m.customer_usage("alice"),
        vec![("one".into(), 1), ("two".into(), 2)]
    );
}

#[test]
fn ledger_two_lines_on_the_same_pool_count_together() {
    ledger_run(scenario_lines_share_pools());
}

fn scenario_smallest_entry_first() -> Vec<Command> {
    vec![
        c(0, pool("p", 2)),
        c(0, offer("a", &[("p", 1)], WaitlistPolicy::Strict)),
        c(0, offer("b", &[("p", 1)], WaitlistPolicy::Skip)),
        c(
            1,
            reserve(Request::new("r1", "alice").line("a", 1).confirm()),
        ),
        c(
            1,
            reserve(Request::new("r2", "alice").line("a", 1).confirm()),
        ),
        c(
            2,
            reserve(Request::new("r3", "bob").line("b", 1).waitlist()),
        ),
        c(
            3,
            reserve(Request::new("r4", "carol").line("a", 1).waitlist()),
        ),
        c(4, release(1)),
        c(5, release(2)),
    ]
}

#[test]
fn model_serves_smallest_entry_id_across_offers() {
    let (m, r) = model_run(&scenario_smallest_entry_first());
    assert_eq!(outcome(&r[5]), &waiting(1, 1));
    assert_eq!(outcome(&r[6]), &waiting(2, 1));
    assert_eq!(event_names(&r[7]), vec![("released", 4), ("promoted", 4)]);
    assert_eq!(m.entries[0].state, EState::Promoted(3));
    assert_eq!(m.entries[1].state, EState::Promoted(4));
    assert_eq!(m.customer_usage("bob"), vec![("b".into(), 1)]);
}

#[test]
fn ledger_serves_smallest_entry_id_across_offers() {
    ledger_run(scenario_smallest_entry_first());
}

fn scenario_idempotency() -> Vec<Command> {
    let first = Request::new("r1", "alice").line("o", 1).hold_ms(50);
    vec![
        c(0, pool("p", 1)),
        c(0, offer("o", &[("p", 1)], WaitlistPolicy::Strict)),
        c(10, reserve(first.clone())),
        c(11, confirm(1)),
        c(12, reserve(first.clone())),
        c(
            12,
            reserve(Request::new("r1", "alice").line("o", 2).hold_ms(50)),
        ),
        c(
            12,
            reserve(
                Request::new("r1", "alice")
                    .line("o", 1)
                    .hold_ms(50)
                    .channel("phone"),
            ),
        ),
        c(12, reserve(Request::new("r2", "bob").line("o", u64::MAX))),
        c(12, reserve(Request::new("r2", "bob").line("o", 1))),
        c(13, release(1)),
        c(13, reserve(Request::new("r2", "bob").line("o", 1))),
        c(13, release(1)),
        c(14, confirm(1)),
        c(14, confirm(99)),
        c(12, Action::Tick),
    ]
}

#[test]
fn model_idempotency_and_errors() {
    let (m, r) = model_run(&scenario_idempotency());
    assert_eq!(outcome(&r[2]), &held(1, 60, 1));
    assert_eq!(outcome(&r[3]), &confirmed(1, 1));
    // Same content: the first outcome, unchanged, no event.
    assert_eq!(outcome(&r[4]), &held(1, 60, 1));
    assert!(event_names(&r[4]).is_empty());
    assert_eq!(r[5].as_ref().unwrap_err(), &vec!["request_id_reused"]);
    assert_eq!(r[6].as_ref().unwrap_err(), &vec!["request_id_reused"]);
    assert!(r[7].as_ref().unwrap_err().contains(&"out_of_range"));
    // The failed first attempt left r2 free; its refusal is remembered.
    assert_eq!(outcome(&r[8]), &sold_out("p", 1, 0));
    assert_eq!(outcome(&r[10]), &sold_out("p", 1, 0));
    assert!(event_names(&r[10]).is_empty());
    assert_eq!(
        outcome(&r[11]),
        &Outcome::Released {
            reservation: ReservationId(1)
        }
    );
    assert!(event_names(&r[11]).is_empty());
    assert_eq!(r[12].as_ref().unwrap_err(), &vec!["reservation_state"]);
    assert_eq!(r[13].as_ref().unwrap_err(), &vec!["unknown_reservation"]);
    assert_eq!(r[14].as_ref().unwrap_err(), &vec!["time_went_backwards"]);
    assert_eq!(m.now, 13);
    assert_eq!(m.events.len(), 2 + 3);
}

#[test]
fn ledger_idempotency_and_errors() {
    ledger_run(scenario_idempotency());
}

fn scenario_expiry_chain() -> Vec<Command> {
    vec![
        c(0, pool("p", 1)),
        c(0, pool("q", 3)),
        c(0, offer("o", &[("p", 1), ("q", 3)], WaitlistPolicy::Strict)),
        c(
            0,
            reserve(Request::new("r1", "alice").line("o", 1).hold_ms(10)),
        ),
        c(
            0,
            reserve(Request::new("r2", "bob").line("o", 1).hold_ms(5).waitlist()),
        ),
        c(
            1,
            reserve(
                Request::new("r3", "carol")
                    .line("o", 1)
                    .hold_ms(9)
                    .waitlist(),
            ),
        ),
        c(100, Action::Tick),
    ]
}

#[test]
fn model_expiry_promotes_in_the_same_step_stamped_at_expiry() {
    let (m, r) = model_run(&scenario_expiry_chain());
    let step = r[6].as_ref().unwrap();
    let got: Vec<(u64, Ev)> = step.events.iter().map(|e| (e.at, e.ev.clone())).collect();
    let pools = vec![(0, 1), (1, 3)];
    assert_eq!(
        got,
        vec![
            (
                10,
                Ev::Expired {
                    reservation: 1,
                    pools: pools.clone()
                }
            ),
            (
                10,
                Ev::Promoted {
                    entry: 1,
                    reservation: 2,
                    expires_at: 15,
                    pools: pools.clone()
                }
            ),
            (
                15,
                Ev::Expired {
                    reservation: 2,
                    pools: pools.clone()
                }
            ),
            (
                15,
                Ev::Promoted {
                    entry: 2,
                    reservation: 3,
                    expires_at: 24,
                    pools: pools.clone()
                }
            ),
            (
                24,
                Ev::Expired {
                    reservation: 3,
                    pools
                }
            ),
        ]
    );
    assert_eq!(m.now, 100);
    assert_eq!(m.pool_available(1), 3);
}

#[test]
fn ledger_expiry_promotes_in_the_same_step_stamped_at_expiry() {
    ledger_run(scenario_expiry_chain());
}

fn scenario_pause_capacity_leave() -> Vec<Command> {
    vec![
        c(0, pool("p", 3)),
        c(0, offer("o", &[("p", 1)], WaitlistPolicy::Strict)),
        c(
            1,
            reserve(Request::new("r1", "alice").line("o", 3).confirm()),
        ),
        c(2, set_capacity("p", 1)),
        c(
            3,
            reserve(Request::new("r2", "bob").line("o", 2).waitlist()),
        ),
        c(
            3,
            reserve(Request::new("r3", "carol").line("o", 1).waitlist()),
        ),
        c(4, Action::Pause),
        c(4, Action::Pause),
        c(5, reserve(Request::new("r4", "carol").line("o", 1))),
        c(6, release(1)),
        c(7, set_capacity("p", 5)),
        c(8, leave(1)),
        c(9, Action::Resume),
        c(10, leave(2)),
        c(10, leave(1)),
        c(11, Action::Resume),
    ]
}

#[test]
fn model_pause_lowered_capacity_and_leaving() {
    let (m, r) = model_run(&scenario_pause_capacity_leave());
    // Lowering below what is promised revokes nothing.
    assert_eq!(event_names(&r[3]), vec![("capacity_changed", 2)]);
    assert_eq!(outcome(&r[4]), &waiting(1, 1));
    assert_eq!(outcome(&r[5]), &waiting(2, 2));
    assert!(event_names(&r[7]).is_empty());
    assert_eq!(outcome(&r[8]), &Outcome::Refused(Refusal::Paused));
    // Paused: release and capacity increase serve nobody.
    assert_eq!(event_names(&r[9]), vec![("released", 6)]);
    assert_eq!(event_names(&r[10]), vec![("capacity_changed", 7)]);
    assert_eq!(event_names(&r[11]), vec![("waitlist_left", 8)]);
    // Resume serves entry 2.
    assert_eq!(event_names(&r[12]), vec![("resumed", 9), ("promoted", 9)]);
    assert_eq!(
        outcome(&r[13]),
        &Outcome::Promoted {
            entry: WaitEntryId(2),
            reservation: ReservationId(2)
        }
    );
    assert_eq!(
        outcome(&r[14]),
        &Outcome::Left {
            entry: WaitEntryId(1)
        }
    );
    assert!(event_names(&r[14]).is_empty());
    assert!(event_names(&r[15]).is_empty());
    assert_eq!(m.entries[1].state, EState::Promoted(2));
}

#[test]
fn ledger_pause_lowered_capacity_and_leaving() {
    ledger_run(scenario_pause_capacity_leave());
}

fn scenario_up_to() -> Vec<Command> {
    vec![
        c(0, pool("p", 5)),
        c(0, offer("o", &[("p", 2)], WaitlistPolicy::Strict)),
        c(1, reserve(Request::new("r1", "alice").line("o", 5).up_to())),
        c(2, reserve(Request::new("r2", "bob").line("o", 1).up_to())),
        c(
            3,
            reserve(Request::new("r3", "bob").line("o", 4).up_to().waitlist()),
        ),
        c(
            4,
            reserve(Request::new("r4", "bob").line("o", 1).line("o", 1).up_to()),
        ),
    ]
}

#[test]
fn model_up_to_partial_fill() {
    let (_, r) = model_run(&scenario_up_to());
    assert_eq!(outcome(&r[2]), &held(1, 1 + 15 * 60 * 1000, 2));
    // available(o) = floor(1 / 2) = 0: sold out with the full quantity.
    assert_eq!(outcome(&r[3]), &sold_out("p", 2, 1));
    assert_eq!(outcome(&r[4]), &waiting(1, 1));
    assert_eq!(
        r[4].as_ref().unwrap().events[0].ev,
        Ev::WaitlistJoined {
            entry: 1,
            offer: 0,
            quantity: 4,
            position: 1
        }
    );
    assert_eq!(r[5].as_ref().unwrap_err(), &vec!["misuse"]);
}

#[test]
fn ledger_up_to_partial_fill() {
    ledger_run(scenario_up_to());
}

fn scenario_leave_promoted_by_the_same_advance() -> Vec<Command> {
    vec![
        c(0, pool("p", 1)),
        c(0, offer("o", &[("p", 1)], WaitlistPolicy::Strict)),
        c(
            0,
            reserve(Request::new("r1", "alice").line("o", 1).hold_ms(10)),
        ),
        c(
            0,
            reserve(Request::new("r2", "bob").line("o", 1).waitlist()),
        ),
        // At 10 the hold expires and entry 1 is promoted *before* the leave
        // runs: leaving is too late, the outcome says which hold it became.
        c(10, leave(1)),
        c(10, release(2)),
        c(10, leave(1)),
    ]
}

#[test]
fn model_leave_of_an_entry_promoted_by_the_same_advance() {
    let (m, r) = model_run(&scenario_leave_promoted_by_the_same_advance());
    assert_eq!(outcome(&r[3]), &waiting(1, 1));
    let promoted = Outcome::Promoted {
        entry: WaitEntryId(1),
        reservation: ReservationId(2),
    };
    assert_eq!(outcome(&r[4]), &promoted);
    assert_eq!(event_names(&r[4]), vec![("expired", 10), ("promoted", 10)]);
    assert_eq!(event_names(&r[5]), vec![("released", 10)]);
    assert_eq!(outcome(&r[6]), &promoted);
    assert_eq!(m.entries[0].state, EState::Promoted(2));
}

#[test]
fn ledger_leave_of_an_entry_promoted_by_the_same_advance() {
    ledger_run(scenario_leave_promoted_by_the_same_advance());
}

fn scenario_confirm_created_by_the_same_advance() -> Vec<Command> {
    vec![
        c(0, pool("p", 1)),
        c(0, offer("o", &[("p", 1)], WaitlistPolicy::Strict)),
        c(
            0,
            reserve(Request::new("r1", "alice").line("o", 1).hold_ms(10)),
        ),
        c(
            0,
            reserve(
                Request::new("r2", "bob")
                    .line("o", 1)
                    .waitlist()
                    .hold_ms(10),
            ),
        ),
        // Reservation 2 only comes into being during this command's advance.
        c(10, confirm(2)),
        c(25, Action::Tick),
    ]
}

#[test]
fn model_confirm_of_a_reservation_created_by_the_same_advance() {
    // The model's reading: the table is applied "after advancing time".
    // (The harness also accepts `Err(UnknownReservation)` with nothing
    // changed, since "validation happens entirely before any change".)
    let (m, r) = model_run(&scenario_confirm_created_by_the_same_advance());
    assert_eq!(outcome(&r[4]), &confirmed(2, 1));
    assert_eq!(
        event_names(&r[4]),
        vec![("expired", 10), ("promoted", 10), ("confirmed", 10)]
    );
    assert!(event_names(&r[5]).is_empty());
    assert_eq!(m.confirmed(0), 1);
}

#[test]
fn ledger_confirm_of_a_reservation_created_by_the_same_advance() {
    ledger_run(scenario_confirm_created_by_the_same_advance());
}

fn scenario_huge_numbers() -> Vec<Command> {
    let big = kontingent_core::limits::DRAW_AMOUNT_MAX;
    let mut five = Request::new("r1", "alice");
    for _ in 0..5 {
        five = five.line("big", 1_000_000_000);
    }
    vec![
        c(0, pool("p", CAPACITY_MAX)),
        c(0, offer("big", &[("p", big)], WaitlistPolicy::Strict)),
        // 5 * 1e9 * (2^32 - 1) leaves u64.
        c(1, reserve(five)),
        // 1e9 * (2^32 - 1) fits in u64 but not in the pool.
        c(
            2,
            reserve(Request::new("r1", "alice").line("big", 1_000_000_000)),
        ),
        c(
            3,
            reserve(Request::new("r2", "alice").line("big", 1_000_000_001)),
        ),
        c(
            3,
            reserve(Request::new("r3", "alice").line("big", 2_097_151).confirm()),
        ),
        c(4, set_capacity("p", CAPACITY_MAX + 1)),
    ]
}

#[test]
fn model_huge_numbers() {
    let big = kontingent_core::limits::DRAW_AMOUNT_MAX;
    let (m, r) = model_run(&scenario_huge_numbers());
    assert_eq!(r[2].as_ref().unwrap_err(), &vec!["overflow"]);
    assert_eq!(
        outcome(&r[3]),
        &sold_out("p", 1_000_000_000 * big, CAPACITY_MAX)
    );
    assert_eq!(r[4].as_ref().unwrap_err(), &vec!["out_of_range"]);
    // floor((2^53 - 1) / (2^32 - 1)) = 2_097_152 units fit; take one less.
    assert_eq!(outcome(&r[5]), &confirmed(1, 2_097_151));
    assert_eq!(m.offer_available(0), 1);
    assert_eq!(r[6].as_ref().unwrap_err(), &vec!["out_of_range"]);
}

#[test]
fn ledger_huge_numbers() {
    ledger_run(scenario_huge_numbers());
}
