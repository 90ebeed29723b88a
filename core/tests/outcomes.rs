//! Table-driven tests: one row per situation, with the outcome or error it must give.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // a test harness, not the core (core/clippy.toml)

use kontingent_core::limits::*;
use kontingent_core::{
    Action, Command, Draw, EventKind, Ledger, Outcome, Refusal, Request, ReservationId,
    ReservationState, WaitEntryId, WaitState, WaitlistPolicy,
};

const MIN: u64 = 60_000;

/// Zur Post has 3 vouchers, the budget 100 EUR; 20 EUR and 10 EUR vouchers.
fn campaign() -> Ledger {
    let mut l = Ledger::new();
    for (pool, capacity) in [("zur-post", 3), ("budget", 100), ("linde", 5)] {
        l.apply(&Command::new(
            0,
            Action::DefinePool {
                pool: pool.into(),
                capacity,
            },
        ))
        .unwrap();
    }
    for (offer, draws, policy) in [
        (
            "v20-zur-post",
            vec![Draw::new("zur-post", 1), Draw::new("budget", 20)],
            WaitlistPolicy::Strict,
        ),
        (
            "v10-zur-post",
            vec![Draw::new("zur-post", 1), Draw::new("budget", 10)],
            WaitlistPolicy::Strict,
        ),
        (
            "v50-linde",
            vec![Draw::new("linde", 1), Draw::new("budget", 50)],
            WaitlistPolicy::Skip,
        ),
    ] {
        l.apply(&Command::new(
            0,
            Action::DefineOffer {
                offer: offer.into(),
                draws,
                waitlist: policy,
            },
        ))
        .unwrap();
    }
    l
}

fn reserve(at: u64, r: Request) -> Command {
    Command::new(at, Action::Reserve(r))
}

fn run(l: &mut Ledger, cmds: Vec<Command>) {
    for c in cmds {
        l.apply(&c).expect("setup command failed");
    }
}

fn res(id: u64) -> ReservationId {
    ReservationId(id)
}

#[test]
fn every_outcome_and_refusal() {
    struct Row {
        name: &'static str,
        setup: Vec<Command>,
        cmd: Command,
        want: Outcome,
    }
    let r = |id: &str| Request::new(id, "alice");
    let rows = vec![
        Row {
            name: "hold",
            setup: vec![],
            cmd: reserve(1000, r("a").line("v20-zur-post", 1).hold_ms(5 * MIN)),
            want: Outcome::Held {
                reservation: res(1),
                expires_at: 1000 + 5 * MIN,
                units: 1,
            },
        },
        Row {
            name: "default hold is 15 min",
            setup: vec![],
            cmd: reserve(1000, r("a").line("v20-zur-post", 2)),
            want: Outcome::Held {
                reservation: res(1),
                expires_at: 1000 + 15 * MIN,
                units: 2,
            },
        },
        Row {
            name: "confirm directly",
            setup: vec![],
            cmd: reserve(1000, r("a").line("v20-zur-post", 1).confirm()),
            want: Outcome::Confirmed {
                reservation: res(1),
                units: 1,
            },
        },
        Row {
            name: "confirm a hold",
            setup: vec![reserve(1000, r("a").line("v20-zur-post", 1))],
            cmd: Command::new(
                2000,
                Action::Confirm {
                    reservation: res(1),
                },
            ),
            want: Outcome::Confirmed {
                reservation: res(1),
                units: 1,
            },
        },
        Row {
            name: "confirm twice is idempotent",
            setup: vec![
                reserve(1000, r("a").line("v20-zur-post", 1)),
                Command::new(
                    2000,
                    Action::Confirm {
                        reservation: res(1),
                    },
                ),
            ],
            cmd: Command::new(
                3000,
                Action::Confirm {
                    reservation: res(1),
                },
            ),
            want: Outcome::Confirmed {
                reservation: res(1),
                units: 1,
            },
        },
        Row {
            name: "release a hold",
            setup: vec![reserve(1000, r("a").line("v20-zur-post", 1))],
            cmd: Command::new(
                2000,
                Action::Release {
                    reservation: res(1),
                },
            ),
            want: Outcome::Released {
                reservation: res(1),
            },
        },
        Row {
            name: "release a confirmed reservation",
            setup: vec![reserve(1000, r("a").line("v20-zur-post", 1).confirm())],
            cmd: Command::new(
                2000,
                Action::Release {
                    reservation: res(1),
                },
            ),
            want: Outcome::Released {
                reservation: res(1),
            },
        },
        Row {
            name: "release twice is idempotent",
            setup: vec![
                reserve(1000, r("a").line("v20-zur-post", 1)),
                Command::new(
                    2000,
                    Action::Release {
                        reservation: res(1),
                    },
                ),
            ],
            cmd: Command::new(
                3000,
                Action::Release {
                    reservation: res(1),
                },
            ),
            want: Outcome::Released {
                reservation: res(1),
            },
        },
        Row {
            name: "sold out names the short pool",
            setup: vec![],
            cmd: reserve(1000, r("a").line("v20-zur-post", 4)),
            want: Outcome::Refused(Refusal::SoldOut {
                pool: "zur-post".into(),
                requested: 4,
                left: 3,
            }),
        },
        Row {
            name: "sold out on the budget, in its units",
            setup: vec![reserve(1000, r("a").line("v50-linde", 1))],
            cmd: reserve(1000, r("b").line("v20-zur-post", 3)),
            want: Outcome::Refused(Refusal::SoldOut {
                pool: "budget".into(),
                requested: 60,
                left: 50,
            }),
        },
        Row {
            name: "paused",
            setup: vec![Command::new(500, Action::Pause)],
            cmd: reserve(1000, r("a").line("v20-zur-post", 1)),
            want: Outcome::Refused(Refusal::Paused),
        },
        Row {
            name: "resumed",
            setup: vec![
                Command::new(500, Action::Pause),
                Command::new(600, Action::Resume),
            ],
            cmd: reserve(1000, r("a").line("v20-zur-post", 1).confirm()),
            want: Outcome::Confirmed {
                reservation: res(1),
                units: 1,
            },
        },
        Row {
            name: "confirm after expiry",
            setup: vec![reserve(1000, r("a").line("v20-zur-post", 1).hold_ms(MIN))],
            cmd: Command::new(
                1000 + MIN,
                Action::Confirm {
                    reservation: res(1),
                },
            ),
            want: Outcome::Refused(Refusal::HoldExpired {
                expired_at: 1000 + MIN,
            }),
        },
        Row {
            name: "release after expiry",
            setup: vec![reserve(1000, r("a").line("v20-zur-post", 1).hold_ms(MIN))],
            cmd: Command::new(
                1000 + 2 * MIN,
                Action::Release {
                    reservation: res(1),
                },
            ),
            want: Outcome::Refused(Refusal::HoldExpired {
                expired_at: 1000 + MIN,
            }),
        },
        Row {
            name: "waiting list",
            setup: vec![reserve(1000, r("a").line("v20-zur-post", 3))],
            cmd: reserve(1000, r("b").line("v20-zur-post", 1).waitlist()),
            want: Outcome::Waiting {
                entry: WaitEntryId(1),
                position: 1,
            },
        },
        Row {
            name: "leave the waiting list",
            setup: vec![
                reserve(1000, r("a").line("v20-zur-post", 3)),
                reserve(1000, r("b").line("v20-zur-post", 1).waitlist()),
            ],
            cmd: Command::new(
                2000,
                Action::LeaveWaitlist {
                    entry: WaitEntryId(1),
                },
            ),
            want: Outcome::Left {
                entry: WaitEntryId(1),
            },
        },
        Row {
            name: "up to: partial fill",
            setup: vec![reserve(1000, r("a").line("v20-zur-post", 2))],
            cmd: reserve(1000, r("b").line("v10-zur-post", 5).up_to()),
            want: Outcome::Held {
                reservation: res(2),
                expires_at: 1000 + 15 * MIN,
                units: 1,
            },
        },
        Row {
            name: "up to: nothing left is sold out",
            setup: vec![reserve(1000, r("a").line("v20-zur-post", 3))],
            cmd: reserve(1000, r("b").line("v10-zur-post", 5).up_to()),
            want: Outcome::Refused(Refusal::SoldOut {
                pool: "zur-post".into(),
                requested: 5,
                left: 0,
            }),
        },
        Row {
            name: "tick",
            setup: vec![],
            cmd: Command::new(5000, Action::Tick),
            want: Outcome::Done,
        },
    ];
    for row in rows {
        let mut l = campaign();
        run(&mut l, row.setup);
        let got = l.apply(&row.cmd).map(|a| a.outcome);
        assert_eq!(got, Ok(row.want), "row {:?}", row.name);
    }
}

#[test]
fn errors_change_nothing() {
    let r = |id: &str| Request::new(id, "alice");
    let long = |n: usize| "x".repeat(n);
    let mut thirty_three = r("a");
    for _ in 0..33 {
        thirty_three = thirty_three.line("v20-zur-post", 1);
    }
    let mut overflowing = r("a");
    for _ in 0..32 {
        overflowing = overflowing.line("huge", LINE_QUANTITY_MAX);
    }
    let mut many_attrs = r("a").line("v20-zur-post", 1);
    for i in 0..17 {
        many_attrs = many_attrs.attribute(format!("k{i}"), "v");
    }
    let rows: Vec<(&str, Command, &str)> = vec![
        (
            "time backwards",
            Command::new(999, Action::Tick),
            "time_went_backwards",
        ),
        (
            "time beyond 9999",
            Command::new(TIMESTAMP_MAX + 1, Action::Tick),
            "out_of_range",
        ),
        (
            "u64::MAX quantity",
            reserve(1000, r("a").line("v20-zur-post", u64::MAX)),
            "out_of_range",
        ),
        (
            "zero quantity",
            reserve(1000, r("a").line("v20-zur-post", 0)),
            "zero",
        ),
        ("overflowing sum", reserve(1000, overflowing), "overflow"),
        (
            "unknown offer",
            reserve(1000, r("a").line("v20-zur-pots", 1)),
            "unknown_offer",
        ),
        ("no lines", reserve(1000, r("a")), "empty"),
        ("too many lines", reserve(1000, thirty_three), "too_many"),
        (
            "empty request id",
            reserve(1000, r("").line("v20-zur-post", 1)),
            "empty",
        ),
        (
            "long request id",
            reserve(1000, r(&long(129)).line("v20-zur-post", 1)),
            "too_long",
        ),
        (
            "empty customer",
            reserve(1000, Request::new("a", "").line("v20-zur-post", 1)),
            "empty",
        ),
        (
            "long customer",
            reserve(1000, Request::new("a", long(129)).line("v20-zur-post", 1)),
            "too_long",
        ),
        (
            "long channel",
            reserve(1000, r("a").channel(long(33)).line("v20-zur-post", 1)),
            "too_long",
        ),
        (
            "long attribute",
            reserve(
                1000,
                r("a").attribute("plz", long(257)).line("v20-zur-post", 1),
            ),
            "too_long",
        ),
        ("too many attributes", reserve(1000, many_attrs), "too_many"),
        (
            "hold 0 ms",
            reserve(1000, r("a").line("v20-zur-post", 1).hold_ms(0)),
            "zero",
        ),
        (
            "hold over a year",
            reserve(
                1000,
                r("a").line("v20-zur-post", 1).hold_ms(HOLD_MS_MAX + 1),
            ),
            "out_of_range",
        ),
        (
            "up_to with two lines",
            reserve(
                1000,
                r("a").line("v20-zur-post", 1).line("v50-linde", 1).up_to(),
            ),
            "misuse",
        ),
        (
            "waitlist with two lines",
            reserve(
                1000,
                r("a")
                    .line("v20-zur-post", 1)
                    .line("v50-linde", 1)
                    .waitlist(),
            ),
            "misuse",
        ),
        (
            "reused request id",
            reserve(1000, r("held").line("v20-zur-post", 2)),
            "request_id_reused",
        ),
        (
            "reused id, other customer",
            reserve(1000, Request::new("held", "bob").line("v20-zur-post", 1)),
            "request_id_reused",
        ),
        (
            "confirm unknown",
            Command::new(
                1000,
                Action::Confirm {
                    reservation: res(99),
                },
            ),
            "unknown_reservation",
        ),
        (
            "confirm id 0",
            Command::new(
                1000,
                Action::Confirm {
                    reservation: res(0),
                },
            ),
            "unknown_reservation",
        ),
        (
            "confirm released",
            Command::new(
                1000,
                Action::Confirm {
                    reservation: res(2),
                },
            ),
            "reservation_state",
        ),
        (
            "release unknown",
            Command::new(
                1000,
                Action::Release {
                    reservation: res(u64::MAX),
                },
            ),
            "unknown_reservation",
        ),
        (
            "leave unknown",
            Command::new(
                1000,
                Action::LeaveWaitlist {
                    entry: WaitEntryId(7),
                },
            ),
            "unknown_wait_entry",
        ),
        (
            "unknown pool",
            Command::new(
                1000,
                Action::SetCapacity {
                    pool: "nope".into(),
                    capacity: 1,
                },
            ),
            "unknown_pool",
        ),
        (
            "capacity beyond 2^53",
            Command::new(
                1000,
                Action::SetCapacity {
                    pool: "linde".into(),
                    capacity: u64::MAX,
                },
            ),
            "out_of_range",
        ),
        (
            "duplicate pool",
            Command::new(
                1000,
                Action::DefinePool {
                    pool: "linde".into(),
                    capacity: 1,
                },
            ),
            "duplicate",
        ),
        (
            "pool name too long",
            Command::new(
                1000,
                Action::DefinePool {
                    pool: long(65),
                    capacity: 1,
                },
            ),
            "too_long",
        ),
        (
            "offer without draws",
            Command::new(
                1000,
                Action::DefineOffer {
                    offer: "x".into(),
                    draws: vec![],
                    waitlist: Default::default(),
                },
            ),
            "empty",
        ),
        (
            "offer on unknown pool",
            Command::new(
                1000,
                Action::DefineOffer {
                    offer: "x".into(),
                    draws: vec![Draw::new("budegt", 1)],
                    waitlist: Default::default(),
                },
            ),
            "unknown_pool",
        ),
        (
            "offer drawing 0",
            Command::new(
                1000,
                Action::DefineOffer {
                    offer: "x".into(),
                    draws: vec![Draw::new("budget", 0)],
                    waitlist: Default::default(),
                },
            ),
            "zero",
        ),
        (
            "offer drawing one pool twice",
            Command::new(
                1000,
                Action::DefineOffer {
                    offer: "x".into(),
                    draws: vec![Draw::new("budget", 1), Draw::new("budget", 2)],
                    waitlist: Default::default(),
                },
            ),
            "duplicate",
        ),
        (
            "duplicate offer",
            Command::new(
                1000,
                Action::DefineOffer {
                    offer: "v50-linde".into(),
                    draws: vec![Draw::new("budget", 1)],
                    waitlist: Default::default(),
                },
            ),
            "duplicate",
        ),
        (
            "default hold 0",
            Command::new(1000, Action::SetDefaultHold { hold_ms: 0 }),
            "zero",
        ),
    ];
    for (name, cmd, code) in rows {
        let mut l = campaign();
        l.apply(&Command::new(
            0,
            Action::DefinePool {
                pool: "huge".into(),
                capacity: CAPACITY_MAX,
            },
        ))
        .unwrap();
        l.apply(&Command::new(
            0,
            Action::DefineOffer {
                offer: "huge".into(),
                draws: vec![Draw::new("huge", DRAW_AMOUNT_MAX)],
                waitlist: Default::default(),
            },
        ))
        .unwrap();
        run(
            &mut l,
            vec![
                reserve(1000, r("held").line("v20-zur-post", 1)),
                reserve(1000, r("gone").line("v20-zur-post", 1)),
                Command::new(
                    1000,
                    Action::Release {
                        reservation: res(2),
                    },
                ),
            ],
        );
        let (digest, seq, snapshot) = (l.digest(), l.seq(), l.snapshot());
        let err = l.apply(&cmd).expect_err(name);
        assert_eq!(err.code(), code, "row {name:?}: {err}");
        assert_eq!(l.digest(), digest, "row {name:?} changed the state");
        assert_eq!(l.seq(), seq, "row {name:?} emitted events");
        assert_eq!(l.snapshot(), snapshot, "row {name:?}");
        assert_eq!(l.now(), 1000, "row {name:?} moved time");
    }
}

#[test]
fn an_error_does_not_process_due_expiries() {
    let mut l = campaign();
    run(
        &mut l,
        vec![reserve(
            0,
            Request::new("a", "x").line("v20-zur-post", 1).hold_ms(10),
        )],
    );
    let before = l.digest();
    assert!(l
        .apply(&reserve(50, Request::new("b", "x").line("nope", 1)))
        .is_err());
    assert_eq!(l.digest(), before);
    assert_eq!(l.reservation(res(1)).unwrap().state, ReservationState::Held);
}

#[test]
fn two_lines_on_one_pool_are_counted_together() {
    // medusa#16502: each line fits alone (3 <= 3) but together they need 5.
    let mut l = campaign();
    let got = l
        .apply(&reserve(
            1000,
            Request::new("a", "x")
                .line("v20-zur-post", 2)
                .line("v10-zur-post", 3),
        ))
        .unwrap()
        .outcome;
    assert_eq!(
        got,
        Outcome::Refused(Refusal::SoldOut {
            pool: "zur-post".into(),
            requested: 5,
            left: 3
        })
    );
    // The same offer twice, too.
    let got = l
        .apply(&reserve(
            1000,
            Request::new("b", "x")
                .line("v20-zur-post", 2)
                .line("v20-zur-post", 2),
        ))
        .unwrap()
        .outcome;
    assert!(matches!(
        got,
        Outcome::Refused(Refusal::SoldOut { requested: 4, .. })
    ));
    assert_eq!(l.pool("zur-post").unwrap().held, 0);
    // Both fit together: both pools move by the sum.
    let got = l
        .apply(&reserve(
            1000,
            Request::new("c", "x")
                .line("v20-zur-post", 1)
                .line("v10-zur-post", 2),
        ))
        .unwrap()
        .outcome;
    assert!(matches!(got, Outcome::Held { units: 3, .. }));
    assert_eq!(l.pool("zur-post").unwrap().held, 3);
    assert_eq!(l.pool("budget").unwrap().held, 40);
}

#[test]
fn repeats_return_the_first_outcome() {
    let mut l = campaign();
    let first = l
        .apply(&reserve(
            1000,
            Request::new("r1", "alice").line("v20-zur-post", 1),
        ))
        .unwrap();
    let held = first.outcome.clone();
    // Confirming does not change what a repeat returns, and a repeat emits nothing.
    l.apply(&Command::new(
        2000,
        Action::Confirm {
            reservation: res(1),
        },
    ))
    .unwrap();
    let again = l
        .apply(&reserve(
            3000,
            Request::new("r1", "alice").line("v20-zur-post", 1),
        ))
        .unwrap();
    assert_eq!(again.outcome, held);
    assert!(again.events.is_empty());
    assert_eq!(l.pool("zur-post").unwrap().confirmed, 1);
    assert_eq!(l.pool("zur-post").unwrap().held, 0);

    // A refusal is repeated too, even after capacity appears.
    let refused = l
        .apply(&reserve(
            3000,
            Request::new("r2", "bob").line("v20-zur-post", 3),
        ))
        .unwrap()
        .outcome;
    assert!(matches!(refused, Outcome::Refused(Refusal::SoldOut { .. })));
    l.apply(&Command::new(
        3000,
        Action::SetCapacity {
            pool: "zur-post".into(),
            capacity: 10,
        },
    ))
    .unwrap();
    let again = l
        .apply(&reserve(
            3000,
            Request::new("r2", "bob").line("v20-zur-post", 3),
        ))
        .unwrap()
        .outcome;
    assert_eq!(again, refused);
    assert_eq!(l.reservation_count(), 1);

    // An Err is not remembered: the id stays free.
    assert!(l
        .apply(&reserve(3000, Request::new("r3", "carol").line("nope", 1)))
        .is_err());
    let ok = l
        .apply(&reserve(
            3000,
            Request::new("r3", "carol").line("v20-zur-post", 1),
        ))
        .unwrap()
        .outcome;
    assert!(matches!(
        ok,
        Outcome::Held {
            reservation: ReservationId(2),
            ..
        }
    ));

    // A double click after the hold expired still answers with the first outcome.
    let late = l
        .apply(&reserve(
            3000 + 20 * MIN,
            Request::new("r3", "carol").line("v20-zur-post", 1),
        ))
        .unwrap()
        .outcome;
    assert_eq!(late, ok);
    assert_eq!(
        l.reservation(res(2)).unwrap().state,
        ReservationState::Expired
    );
}

#[test]
fn expiry_at_the_boundary() {
    let mut l = campaign();
    run(
        &mut l,
        vec![reserve(
            1000,
            Request::new("a", "x").line("v20-zur-post", 3).hold_ms(MIN),
        )],
    );
    let t = 1000 + MIN;
    // At t - 1 it is still held: nothing left for others.
    let before = l
        .apply(&reserve(
            t - 1,
            Request::new("b", "y").line("v20-zur-post", 1),
        ))
        .unwrap();
    assert!(matches!(
        before.outcome,
        Outcome::Refused(Refusal::SoldOut { .. })
    ));
    assert_eq!(l.reservation(res(1)).unwrap().state, ReservationState::Held);
    // At t it is expired, before the command runs; the expiry is stamped t.
    let at = l
        .apply(&reserve(t, Request::new("c", "y").line("v20-zur-post", 1)))
        .unwrap();
    assert!(matches!(at.outcome, Outcome::Held { .. }));
    assert_eq!(at.events.len(), 2);
    assert!(matches!(
        at.events[0].kind,
        EventKind::Expired {
            reservation: ReservationId(1),
            ..
        }
    ));
    assert_eq!(at.events[0].at, t);
    assert!(matches!(at.events[1].kind, EventKind::Held { .. }));
    assert_eq!(
        l.reservation(res(1)).unwrap().state,
        ReservationState::Expired
    );
    assert_eq!(l.pool("zur-post").unwrap().held, 1);
}

/// One `v10-zur-post` hold per `(request id, hold_ms)`, all made at 0.
fn holds_at_zero(l: &mut Ledger, holds: &[(&str, u64)]) {
    for (id, hold_ms) in holds {
        let r = Request::new(*id, "x")
            .line("v10-zur-post", 1)
            .hold_ms(*hold_ms);
        l.apply(&reserve(0, r)).expect("setup command failed");
    }
}

#[test]
fn expiries_run_in_expiry_then_id_order() {
    let mut l = campaign();
    holds_at_zero(&mut l, &[("a", 300), ("b", 100), ("c", 100)]);
    let applied = l.apply(&Command::new(1000, Action::Tick)).unwrap();
    let order: Vec<(u64, u64)> = applied
        .events
        .iter()
        .map(|e| match e.kind {
            EventKind::Expired { reservation, .. } => (e.at, reservation.0),
            _ => panic!("unexpected {e:?}"),
        })
        .collect();
    assert_eq!(order, vec![(100, 2), (100, 3), (300, 1)]);
}

#[test]
fn holds_are_listed_soonest_expiry_first_without_stale_entries() {
    let mut l = campaign();
    // Holds queued out of order (FIFO and heap both used), one confirmed since.
    holds_at_zero(&mut l, &[("a", 300), ("b", 100), ("c", 200)]);
    run(
        &mut l,
        vec![
            Command::new(
                10,
                Action::Confirm {
                    reservation: res(2),
                },
            ),
            reserve(20, Request::new("e", "y").line("v50-linde", 1).hold_ms(400)),
        ],
    );
    let listed = |l: &Ledger, limit| -> Vec<(u64, u64)> {
        l.holds_by_expiry(limit)
            .iter()
            .map(|r| (r.expires_at, r.id.0))
            .collect()
    };
    assert_eq!(listed(&l, 10), vec![(200, 3), (300, 1), (420, 4)]);
    assert_eq!(listed(&l, 1), vec![(200, 3)]);
    assert!(l
        .holds_by_expiry(10)
        .iter()
        .all(|r| r.state == ReservationState::Held));
    l.apply(&Command::new(250, Action::Tick)).unwrap();
    assert_eq!(listed(&l, 10), vec![(300, 1), (420, 4)], "c expired at 200");
}

#[test]
fn lowering_capacity_revokes_nothing() {
    let mut l = campaign();
    run(
        &mut l,
        vec![
            reserve(0, Request::new("a", "x").line("v20-zur-post", 2)),
            reserve(0, Request::new("b", "x").line("v20-zur-post", 1).confirm()),
            Command::new(
                10,
                Action::SetCapacity {
                    pool: "zur-post".into(),
                    capacity: 1,
                },
            ),
        ],
    );
    let p = l.pool("zur-post").unwrap();
    assert_eq!((p.capacity, p.held, p.confirmed, p.available), (1, 2, 1, 0));
    assert_eq!(l.reservation(res(1)).unwrap().state, ReservationState::Held);
    // Confirming an existing hold keeps its promise; new requests get nothing.
    let c = l
        .apply(&Command::new(
            20,
            Action::Confirm {
                reservation: res(1),
            },
        ))
        .unwrap();
    assert!(matches!(c.outcome, Outcome::Confirmed { .. }));
    let n = l
        .apply(&reserve(20, Request::new("c", "y").line("v20-zur-post", 1)))
        .unwrap();
    assert!(matches!(
        n.outcome,
        Outcome::Refused(Refusal::SoldOut { left: 0, .. })
    ));
    // Releasing one of three still leaves nothing: 2 promised > capacity 1.
    l.apply(&Command::new(
        30,
        Action::Release {
            reservation: res(2),
        },
    ))
    .unwrap();
    assert_eq!(l.pool("zur-post").unwrap().available, 0);
}

fn fill_zur_post(l: &mut Ledger) {
    run(
        l,
        vec![reserve(
            0,
            Request::new("fill", "owner")
                .line("v20-zur-post", 3)
                .hold_ms(MIN),
        )],
    );
}

fn promoted(events: &[kontingent_core::Event]) -> Vec<(u64, u64)> {
    events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::Promoted {
                entry, reservation, ..
            } => Some((entry.0, reservation.0)),
            _ => None,
        })
        .collect()
}

#[test]
fn waitlist_promotes_on_release() {
    let mut l = campaign();
    fill_zur_post(&mut l);
    let w = l
        .apply(&reserve(
            10,
            Request::new("w1", "bob")
                .line("v20-zur-post", 2)
                .waitlist()
                .hold_ms(5 * MIN),
        ))
        .unwrap();
    assert_eq!(
        w.outcome,
        Outcome::Waiting {
            entry: WaitEntryId(1),
            position: 1
        }
    );
    let released = l
        .apply(&Command::new(
            20,
            Action::Release {
                reservation: res(1),
            },
        ))
        .unwrap();
    // Released first, then promoted in the same step, as a hold of its own.
    assert!(matches!(
        released.events[0].kind,
        EventKind::Released { .. }
    ));
    assert_eq!(promoted(&released.events), vec![(1, 2)]);
    let r = l.reservation(res(2)).unwrap();
    assert_eq!(
        (r.state, r.expires_at, r.customer.as_str()),
        (ReservationState::Held, 20 + 5 * MIN, "bob")
    );
    assert_eq!(
        l.wait_entry(WaitEntryId(1)).unwrap().state,
        WaitState::Promoted {
            reservation: res(2)
        }
    );
    assert_eq!(l.pool("zur-post").unwrap().held, 2);
    assert_eq!(l.pool("budget").unwrap().held, 40);
    assert_eq!(
        l.customer_usage("bob"),
        vec![("v20-zur-post".to_string(), 2)]
    );
}

#[test]
fn waitlist_promotes_on_expiry_at_the_expiry_time() {
    let mut l = campaign();
    fill_zur_post(&mut l);
    run(
        &mut l,
        vec![reserve(
            10,
            Request::new("w1", "bob")
                .line("v10-zur-post", 1)
                .waitlist()
                .hold_ms(MIN),
        )],
    );
    let t = l.apply(&Command::new(10 * MIN, Action::Tick)).unwrap();
    // Expired at MIN, promoted at MIN, and that promotion itself expired at 2*MIN.
    let kinds: Vec<(&str, u64)> = t
        .events
        .iter()
        .map(|e| {
            let k = match e.kind {
                EventKind::Expired { .. } => "expired",
                EventKind::Promoted { .. } => "promoted",
                _ => "other",
            };
            (k, e.at)
        })
        .collect();
    assert_eq!(
        kinds,
        vec![("expired", MIN), ("promoted", MIN), ("expired", 2 * MIN)]
    );
    assert_eq!(l.pool("zur-post").unwrap().held, 0);
}

#[test]
fn waitlist_promotes_on_capacity_increase_multi_pool() {
    let mut l = campaign();
    fill_zur_post(&mut l);
    // Needs 2 at Zur Post and 40 of the budget.
    run(
        &mut l,
        vec![reserve(
            10,
            Request::new("w1", "bob").line("v20-zur-post", 2).waitlist(),
        )],
    );
    // One more seat is not enough for two: no promotion, nothing taken.
    let a = l
        .apply(&Command::new(
            20,
            Action::SetCapacity {
                pool: "zur-post".into(),
                capacity: 4,
            },
        ))
        .unwrap();
    assert!(promoted(&a.events).is_empty());
    let b = l
        .apply(&Command::new(
            30,
            Action::SetCapacity {
                pool: "zur-post".into(),
                capacity: 5,
            },
        ))
        .unwrap();
    assert_eq!(promoted(&b.events), vec![(1, 2)]);
    assert_eq!(l.pool("zur-post").unwrap().available, 0);
    assert_eq!(l.pool("budget").unwrap().held, 60 + 40);
    assert_eq!(l.pool("budget").unwrap().available, 0);
}

#[test]
fn waitlist_never_receives_more_than_is_free() {
    // pretix#1238: freeing 1 unit must promote at most 1 unit's worth.
    let mut l = campaign();
    run(
        &mut l,
        vec![
            reserve(0, Request::new("a", "x").line("v10-zur-post", 1)),
            reserve(0, Request::new("b", "x").line("v10-zur-post", 1)),
            reserve(0, Request::new("c", "x").line("v10-zur-post", 1)),
            reserve(
                1,
                Request::new("w1", "p").line("v10-zur-post", 1).waitlist(),
            ),
            reserve(
                1,
                Request::new("w2", "q").line("v10-zur-post", 1).waitlist(),
            ),
            reserve(
                1,
                Request::new("w3", "r").line("v20-zur-post", 1).waitlist(),
            ),
        ],
    );
    let e = l
        .apply(&Command::new(
            5,
            Action::Release {
                reservation: res(2),
            },
        ))
        .unwrap();
    assert_eq!(promoted(&e.events), vec![(1, 4)]);
    assert_eq!(l.pool("zur-post").unwrap().available, 0);
    assert_eq!(l.waitlist("v10-zur-post").unwrap().len(), 1);
    // Across offers sharing the pool, the earliest entry is served first.
    let e = l
        .apply(&Command::new(
            6,
            Action::SetCapacity {
                pool: "zur-post".into(),
                capacity: 4,
            },
        ))
        .unwrap();
    assert_eq!(promoted(&e.events), vec![(2, 5)]);
    let e = l
        .apply(&Command::new(
            7,
            Action::SetCapacity {
                pool: "zur-post".into(),
                capacity: 5,
            },
        ))
        .unwrap();
    assert_eq!(promoted(&e.events), vec![(3, 6)]);
}

#[test]
fn strict_head_blocks_and_skip_lets_a_later_entry_pass() {
    for (offer, policy) in [
        ("v20-zur-post", WaitlistPolicy::Strict),
        ("v50-linde", WaitlistPolicy::Skip),
    ] {
        let pool = if policy == WaitlistPolicy::Strict {
            "zur-post"
        } else {
            "linde"
        };
        let mut l = campaign();
        run(
            &mut l,
            vec![Command::new(
                0,
                Action::SetCapacity {
                    pool: "budget".into(),
                    capacity: 10_000,
                },
            )],
        );
        // Take everything in the pool with direct confirmations of one unit each.
        let cap = l.pool(pool).unwrap().capacity;
        for i in 0..cap {
            let r = l
                .apply(&reserve(
                    0,
                    Request::new(format!("f{i}"), "x").line(offer, 1).confirm(),
                ))
                .unwrap();
            assert!(r.outcome.is_promise(), "{policy:?}: {r:?}");
        }
        run(
            &mut l,
            vec![
                reserve(1, Request::new("big", "b").line(offer, 2).waitlist()),
                reserve(1, Request::new("small", "s").line(offer, 1).waitlist()),
            ],
        );
        let e = l
            .apply(&Command::new(
                2,
                Action::Release {
                    reservation: res(1),
                },
            ))
            .unwrap();
        match policy {
            WaitlistPolicy::Strict => {
                assert!(promoted(&e.events).is_empty(), "strict: nobody overtakes");
                assert_eq!(l.pool(pool).unwrap().available, 1);
            }
            WaitlistPolicy::Skip => {
                assert_eq!(
                    promoted(&e.events),
                    vec![(2, cap + 1)],
                    "skip: the small one passes"
                );
                assert_eq!(
                    l.wait_entry(WaitEntryId(1)).unwrap().state,
                    WaitState::Waiting { position: 1 }
                );
            }
        }
        // When the head leaves, a strict list moves on at once.
        let left = l
            .apply(&Command::new(
                3,
                Action::LeaveWaitlist {
                    entry: WaitEntryId(1),
                },
            ))
            .unwrap();
        if policy == WaitlistPolicy::Strict {
            assert_eq!(promoted(&left.events), vec![(2, cap + 1)]);
        }
        // Leaving twice is fine; a promoted entry says which hold it became.
        let again = l
            .apply(&Command::new(
                3,
                Action::LeaveWaitlist {
                    entry: WaitEntryId(1),
                },
            ))
            .unwrap();
        assert_eq!(
            again.outcome,
            Outcome::Left {
                entry: WaitEntryId(1)
            }
        );
        assert!(again.events.is_empty());
        let promoted = l
            .apply(&Command::new(
                3,
                Action::LeaveWaitlist {
                    entry: WaitEntryId(2),
                },
            ))
            .unwrap();
        assert_eq!(
            promoted.outcome,
            Outcome::Promoted {
                entry: WaitEntryId(2),
                reservation: res(cap + 1)
            }
        );
        assert!(promoted.events.is_empty());
    }
}

#[test]
fn pause_stops_promotions_until_resume() {
    let mut l = campaign();
    fill_zur_post(&mut l);
    run(
        &mut l,
        vec![
            reserve(
                1,
                Request::new("w1", "p").line("v10-zur-post", 1).waitlist(),
            ),
            Command::new(2, Action::Pause),
        ],
    );
    let r = l
        .apply(&Command::new(
            3,
            Action::Release {
                reservation: res(1),
            },
        ))
        .unwrap();
    assert!(promoted(&r.events).is_empty());
    // The freed units are not sold to anyone else while paused either.
    let n = l
        .apply(&reserve(4, Request::new("n", "z").line("v10-zur-post", 1)))
        .unwrap();
    assert_eq!(n.outcome, Outcome::Refused(Refusal::Paused));
    let r = l.apply(&Command::new(5, Action::Resume)).unwrap();
    assert!(matches!(r.events[0].kind, EventKind::Resumed));
    assert_eq!(promoted(&r.events), vec![(1, 2)]);
    // Pausing twice emits once.
    let p1 = l.apply(&Command::new(6, Action::Pause)).unwrap();
    let p2 = l.apply(&Command::new(6, Action::Pause)).unwrap();
    assert_eq!((p1.events.len(), p2.events.len()), (1, 0));
}

#[test]
fn events_are_gap_free_from_one() {
    let mut l = campaign();
    fill_zur_post(&mut l);
    run(
        &mut l,
        vec![
            reserve(
                1,
                Request::new("w1", "p").line("v10-zur-post", 1).waitlist(),
            ),
            Command::new(
                2,
                Action::Release {
                    reservation: res(1),
                },
            ),
        ],
    );
    let mut l2 = Ledger::new();
    let mut all = Vec::new();
    let mut replay = campaign_commands();
    replay.extend(vec![
        reserve(
            0,
            Request::new("fill", "owner")
                .line("v20-zur-post", 3)
                .hold_ms(MIN),
        ),
        reserve(
            1,
            Request::new("w1", "p").line("v10-zur-post", 1).waitlist(),
        ),
        Command::new(
            2,
            Action::Release {
                reservation: res(1),
            },
        ),
        Command::new(MIN * 100, Action::Tick),
    ]);
    for c in replay {
        all.extend(l2.apply(&c).unwrap().events);
    }
    let seqs: Vec<u64> = all.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=all.len() as u64).collect::<Vec<_>>());
    assert_eq!(l2.seq(), all.len() as u64);
    // Event times never go backwards.
    assert!(all.windows(2).all(|w| w[0].at <= w[1].at));
}

fn campaign_commands() -> Vec<Command> {
    let mut v = Vec::new();
    for (pool, capacity) in [("zur-post", 3), ("budget", 100), ("linde", 5)] {
        v.push(Command::new(
            0,
            Action::DefinePool {
                pool: pool.into(),
                capacity,
            },
        ));
    }
    v.push(Command::new(
        0,
        Action::DefineOffer {
            offer: "v20-zur-post".into(),
            draws: vec![Draw::new("zur-post", 1), Draw::new("budget", 20)],
            waitlist: WaitlistPolicy::Strict,
        },
    ));
    v.push(Command::new(
        0,
        Action::DefineOffer {
            offer: "v10-zur-post".into(),
            draws: vec![Draw::new("zur-post", 1), Draw::new("budget", 10)],
            waitlist: WaitlistPolicy::Strict,
        },
    ));
    v
}

#[test]
fn queries() {
    let mut l = campaign();
    run(
        &mut l,
        vec![
            reserve(
                0,
                Request::new("a", "alice")
                    .channel("phone")
                    .line("v20-zur-post", 1)
                    .line("v10-zur-post", 1),
            ),
            reserve(
                0,
                Request::new("b", "alice").line("v20-zur-post", 1).confirm(),
            ),
        ],
    );
    assert_eq!(l.offer_available("v20-zur-post"), Some(0));
    assert_eq!(l.offer_available("v50-linde"), Some(1)); // budget: 100 - 50 = 50 → 1
    assert_eq!(l.offer("v50-linde").unwrap().available, 1);
    assert_eq!(l.offer_available("nope"), None);
    let v = l.reservation(res(1)).unwrap();
    assert_eq!(v.channel, "phone");
    assert_eq!(
        v.lines,
        vec![
            ("v20-zur-post".to_string(), 1),
            ("v10-zur-post".to_string(), 1)
        ]
    );
    assert_eq!(
        l.customer_usage("alice"),
        vec![
            ("v20-zur-post".to_string(), 2),
            ("v10-zur-post".to_string(), 1)
        ]
    );
    assert!(l.customer_usage("nobody").is_empty());
    assert_eq!(l.pools().len(), 3);
    assert_eq!(l.seq(), 8);
}

#[test]
fn status_and_refusal_codes_are_the_wire_forms_tags() {
    let r = ReservationId(1);
    let e = WaitEntryId(1);
    let refusals = [
        Refusal::SoldOut {
            pool: "p".into(),
            requested: 1,
            left: 0,
        },
        Refusal::CustomerLimit {
            name: "n".into(),
            limit: 1,
            used: 1,
        },
        Refusal::NotOpenYet { opens_at: 1 },
        Refusal::Closed { closed_at: 1 },
        Refusal::Paused,
        Refusal::Rule {
            name: "n".into(),
            detail: "d".into(),
        },
        Refusal::HoldExpired { expired_at: 1 },
    ];
    let mut outcomes = vec![
        Outcome::Held {
            reservation: r,
            expires_at: 1,
            units: 1,
        },
        Outcome::Confirmed {
            reservation: r,
            units: 1,
        },
        Outcome::Released { reservation: r },
        Outcome::Waiting {
            entry: e,
            position: 1,
        },
        Outcome::Left { entry: e },
        Outcome::Promoted {
            entry: e,
            reservation: r,
        },
        Outcome::Done,
    ];
    outcomes.extend(refusals.iter().cloned().map(Outcome::Refused));
    for o in &outcomes {
        let wire = serde_json::to_value(o).unwrap();
        assert_eq!(wire["status"], o.status(), "{o:?}");
        if let Outcome::Refused(why) = o {
            assert_eq!(wire["reason"], why.code(), "{o:?}");
        }
    }
}

#[test]
fn action_kinds_are_the_wire_forms_types() {
    let catalog = kontingent_core::Catalog::from_toml_str(
        "[[pools]]\nname = \"p\"\ncapacity = 1\n",
        "t.toml",
    )
    .unwrap();
    let actions = [
        Action::LoadCatalog(Box::new(catalog)),
        Action::DefinePool {
            pool: "p".into(),
            capacity: 1,
        },
        Action::DefineOffer {
            offer: "o".into(),
            draws: vec![Draw::new("p", 1)],
            waitlist: WaitlistPolicy::Strict,
        },
        Action::SetCapacity {
            pool: "p".into(),
            capacity: 1,
        },
        Action::SetDefaultHold { hold_ms: 1 },
        Action::Reserve(Request::new("r", "c").line("o", 1)),
        Action::Confirm {
            reservation: ReservationId(1),
        },
        Action::Release {
            reservation: ReservationId(1),
        },
        Action::LeaveWaitlist {
            entry: WaitEntryId(1),
        },
        Action::Pause,
        Action::Resume,
        Action::Tick,
    ];
    for a in &actions {
        assert_eq!(serde_json::to_value(a).unwrap()["type"], a.kind(), "{a:?}");
    }
}

#[test]
fn holdings_list_each_promised_line_per_pool_with_its_units() {
    let mut l = campaign();
    run(
        &mut l,
        vec![
            reserve(10, Request::new("h1", "anna").line("v20-zur-post", 2)),
            reserve(
                11,
                Request::new("h2", "ben").line("v10-zur-post", 1).confirm(),
            ),
            reserve(12, Request::new("h3", "cem").line("v50-linde", 1)),
            Command::new(
                13,
                Action::Release {
                    reservation: res(3),
                },
            ),
        ],
    );
    let rows: Vec<(u64, ReservationState, String, String, u64, u64)> = l
        .holdings(None)
        .unwrap()
        .into_iter()
        .map(|h| {
            (
                h.reservation.0,
                h.state,
                h.customer,
                h.pool,
                h.quantity,
                h.units,
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            (
                1,
                ReservationState::Held,
                "anna".into(),
                "zur-post".into(),
                2,
                2
            ),
            (
                1,
                ReservationState::Held,
                "anna".into(),
                "budget".into(),
                2,
                40
            ),
            (
                2,
                ReservationState::Confirmed,
                "ben".into(),
                "zur-post".into(),
                1,
                1
            ),
            (
                2,
                ReservationState::Confirmed,
                "ben".into(),
                "budget".into(),
                1,
                10
            ),
        ],
        "the released one is not promised"
    );
    let budget = l.holdings(Some("budget")).unwrap();
    assert_eq!(budget.iter().map(|h| h.units).sum::<u64>(), 50);
    assert_eq!(l.holdings(Some("nope")).unwrap_err().code(), "unknown_pool");
}
