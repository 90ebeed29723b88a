//! Determinism: the state is a pure function of the ordered commands.
//! Replays agree byte for byte; snapshots plus deltas agree with later snapshots.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // a test harness, not the core (core/clippy.toml)

use kontingent_core::{
    Action, Command, Delta, DeltaError, Draw, Event, EventType, Ledger, Request, ReservationId,
    Snapshot, WaitEntryId, WaitlistPolicy,
};
use proptest::prelude::*;

fn catalog() -> Vec<Command> {
    let mut v = Vec::new();
    for (pool, capacity) in [("a", 5), ("b", 8), ("c", 3)] {
        v.push(Command::new(
            0,
            Action::DefinePool {
                pool: pool.into(),
                capacity,
            },
        ));
    }
    for (offer, draws, policy) in [
        ("x", vec![Draw::new("a", 1)], WaitlistPolicy::Strict),
        (
            "y",
            vec![Draw::new("a", 1), Draw::new("b", 2)],
            WaitlistPolicy::Skip,
        ),
        (
            "z",
            vec![Draw::new("c", 1), Draw::new("b", 1)],
            WaitlistPolicy::Strict,
        ),
    ] {
        v.push(Command::new(
            0,
            Action::DefineOffer {
                offer: offer.into(),
                draws,
                waitlist: policy,
            },
        ));
    }
    v
}

fn action() -> impl Strategy<Value = Action> {
    let offer = prop::sample::select(vec!["x", "y", "z"]);
    prop_oneof![
        4 => (0u8..40, offer.clone(), 1u64..4, any::<bool>(), any::<bool>(), any::<bool>(), 1u64..50)
            .prop_map(|(id, offer, q, confirm, waitlist, up_to, hold)| {
                let mut r = Request::new(format!("r{id}"), format!("c{}", id % 5))
                    .line(offer, q)
                    .hold_ms(hold);
                r.confirm = confirm;
                r.waitlist = waitlist;
                r.up_to = up_to;
                Action::Reserve(r)
            }),
        1 => (0u8..40, 1u64..3).prop_map(|(id, q)| Action::Reserve(
            Request::new(format!("m{id}"), "multi").line("x", q).line("y", 1).line("z", 1))),
        2 => (1u64..30).prop_map(|r| Action::Confirm { reservation: ReservationId(r) }),
        2 => (1u64..30).prop_map(|r| Action::Release { reservation: ReservationId(r) }),
        1 => (1u64..10).prop_map(|e| Action::LeaveWaitlist { entry: WaitEntryId(e) }),
        1 => (prop::sample::select(vec!["a", "b", "c"]), 0u64..12)
            .prop_map(|(p, c)| Action::SetCapacity { pool: p.into(), capacity: c }),
        1 => Just(Action::Tick),
        1 => Just(Action::Pause),
        1 => Just(Action::Resume),
        1 => (prop::sample::select(vec!["mailer", "hook"]), prop::option::of(0u64..5))
            .prop_map(|(c, after)| Action::DefineConsumer {
                consumer: c.into(),
                events: vec![EventType::Confirmed, EventType::Promoted],
                after,
            }),
        2 => (prop::sample::select(vec!["mailer", "hook"]), 0u64..60)
            .prop_map(|(c, seq)| Action::Ack { consumer: c.into(), seq }),
    ]
}

fn commands() -> impl Strategy<Value = Vec<Command>> {
    prop::collection::vec((0u64..20, action()), 1..120).prop_map(|steps| {
        let mut at = 0;
        let mut v = catalog();
        for (dt, a) in steps {
            at += dt;
            v.push(Command::new(at, a));
        }
        v
    })
}

/// Runs the commands, keeping the events and a snapshot after each command.
fn run(cmds: &[Command]) -> (Ledger, Vec<Event>, Vec<Snapshot>) {
    let mut l = Ledger::new();
    let mut events = Vec::new();
    let mut snaps = vec![l.snapshot()];
    for c in cmds {
        if let Ok(a) = l.apply(c) {
            events.extend(a.events);
        }
        snaps.push(l.snapshot());
    }
    (l, events, snaps)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(256)))]

    #[test]
    fn replay_is_identical(cmds in commands()) {
        let (a, ea, sa) = run(&cmds);
        let (b, eb, sb) = run(&cmds);
        prop_assert_eq!(a.digest(), b.digest());
        prop_assert_eq!(ea, eb);
        prop_assert_eq!(sa, sb);
        // A clone replayed further stays in step with the original.
        let mut c = a.clone();
        let mut d = a;
        let t = c.now() + 1_000;
        c.apply(&Command::new(t, Action::Tick)).unwrap();
        d.apply(&Command::new(t, Action::Tick)).unwrap();
        prop_assert_eq!(c.digest(), d.digest());
    }

    #[test]
    fn snapshot_plus_deltas_is_the_later_snapshot(cmds in commands(), cut in 0usize..200) {
        let (_, events, snaps) = run(&cmds);
        let start = &snaps[cut % snaps.len()];
        let mut preview = start.clone();
        for e in events.iter().filter(|e| e.seq > start.seq) {
            preview.apply(&Delta::from_event(e)).unwrap();
            // At every seq the preview's availability equals a snapshot taken there.
            if let Some(s) = snaps.iter().find(|s| s.seq == preview.seq) {
                prop_assert_eq!(&preview, s);
            }
        }
        prop_assert_eq!(&preview, snaps.last().unwrap());
        for (i, o) in preview.offers.iter().enumerate() {
            let id = kontingent_core::OfferId(i as u32);
            let avail = preview.offer_available(id).unwrap();
            let want = o.draws.iter().map(|d| preview.pool_available(d.pool).unwrap() / d.amount).min().unwrap();
            prop_assert_eq!(avail, want);
        }
    }

    #[test]
    fn digest_changes_with_state(cmds in commands()) {
        // Every event-emitting command changes the digest; every error keeps it.
        let mut l = Ledger::new();
        for c in cmds {
            let before = l.digest();
            match l.apply(&c) {
                Ok(a) if !a.events.is_empty() => prop_assert_ne!(l.digest(), before),
                Ok(_) => {}
                Err(_) => prop_assert_eq!(l.digest(), before),
            }
        }
    }
}

#[test]
fn deltas_refuse_gaps_and_replays() {
    let mut l = Ledger::new();
    let mut events = Vec::new();
    for c in catalog() {
        events.extend(l.apply(&c).unwrap().events);
    }
    events.extend(
        l.apply(&Command::new(
            1,
            Action::Reserve(Request::new("r", "c").line("x", 1)),
        ))
        .unwrap()
        .events,
    );
    let deltas: Vec<Delta> = events.iter().map(Delta::from_event).collect();
    let mut s = Snapshot::default();
    s.apply(&deltas[0]).unwrap();
    let before = s.clone();
    assert!(matches!(
        s.apply(&deltas[2]),
        Err(DeltaError::Gap { at: 1, got: 3 })
    ));
    assert!(matches!(
        s.apply(&deltas[0]),
        Err(DeltaError::Replayed { .. })
    ));
    assert_eq!(s, before);
    for d in &deltas[1..] {
        s.apply(d).unwrap();
    }
    assert_eq!(s, l.snapshot());
    // Deltas carry no private ids: the held event's delta is counters only.
    let json = serde_json::to_string(deltas.last().unwrap()).unwrap();
    assert!(
        !json.contains("reservation") && !json.contains("\"c\"") && !json.contains("\"r\""),
        "{json}"
    );
    // A hostile delta that would underflow a counter changes nothing.
    let mut s2 = l.snapshot();
    let bad = Delta {
        seq: s2.seq + 1,
        change: kontingent_core::Change::Levels {
            changes: vec![kontingent_core::LevelChange {
                pool: kontingent_core::PoolId(0),
                held: -100,
                confirmed: 0,
            }],
            channel: 0,
        },
    };
    let snap = s2.clone();
    assert!(s2.apply(&bad).is_err());
    assert_eq!(s2, snap);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(128)))]

    /// A checkpointed state decodes to the same digest, and goes on exactly as
    /// the original: same outcomes, events and digests for the same commands.
    #[test]
    fn state_round_trips(cmds in commands(), more in commands()) {
        let (a, _, _) = run(&cmds);
        let bytes = a.state_bytes();
        let mut b = Ledger::from_state_bytes(&bytes).unwrap();
        prop_assert_eq!(b.digest(), a.digest());
        prop_assert_eq!(b.state_bytes(), bytes);
        let mut a = a;
        let t = a.now();
        for c in more.iter().skip(6) {
            let c = Command::new(t + c.at, c.action.clone());
            prop_assert_eq!(a.apply(&c), b.apply(&c));
            prop_assert_eq!(a.digest(), b.digest());
        }
    }

    #[test]
    fn hostile_state_bytes_never_panic(cmds in commands(), cut in any::<usize>(), flip in any::<(usize, u8)>()) {
        let (a, _, _) = run(&cmds);
        let bytes = a.state_bytes();
        let cut = cut % bytes.len();
        prop_assert!(Ledger::from_state_bytes(&bytes[..cut]).is_err());
        let mut b = bytes.clone();
        let i = flip.0 % b.len();
        b[i] ^= flip.1 | 1;
        // Either an error or some ledger; never a panic.
        let _ = Ledger::from_state_bytes(&b);
    }
}

#[test]
fn a_state_with_a_catalog_round_trips() {
    let text = r#"
channels = ["web", "phone"]
hold = "5m"
[[pools]]
name = "p"
capacity = 4
[[offers]]
name = "o"
price = 500
draws = { p = 1 }
opens_at = "2026-01-01T00:00:00+00:00"
[[rules]]
name = "two-each"
kind = "customer_limit"
units = 2
[[rules]]
name = "phone-keeps-1"
kind = "channel_share"
pool = "p"
channel = "phone"
keep = 1
"#;
    let c = kontingent_core::Catalog::from_toml_str(text, "c.toml").unwrap();
    let t = 1_767_225_600_000; // 2026-01-01
    let mut l = Ledger::new();
    l.apply(&Command::new(0, Action::LoadCatalog(Box::new(c))))
        .unwrap();
    for (i, (who, ch)) in [
        ("a", "web"),
        ("b", "web"),
        ("c", "web"),
        ("d", "phone"),
        ("e", "web"),
    ]
    .iter()
    .enumerate()
    {
        let r = Request::new(format!("r{i}"), *who)
            .channel(*ch)
            .line("o", 1)
            .waitlist();
        l.apply(&Command::new(t + i as u64, Action::Reserve(r)))
            .unwrap();
    }
    let mut b = Ledger::from_state_bytes(&l.state_bytes()).unwrap();
    assert_eq!(b.digest(), l.digest());
    assert_eq!(
        b.offer_available_for("o", "web"),
        l.offer_available_for("o", "web")
    );
    // Rules, windows and shares came back: the same requests get the same answers.
    for (i, r) in [
        Request::new("x1", "a").line("o", 2),
        Request::new("x2", "f").channel("phone").line("o", 1),
        Request::new("x3", "g").line("o", 1).waitlist(),
    ]
    .into_iter()
    .enumerate()
    {
        let c = Command::new(t + 100 + i as u64, Action::Reserve(r));
        assert_eq!(l.apply(&c), b.apply(&c));
    }
    let early = Command::new(
        t + 200,
        Action::Release {
            reservation: ReservationId(1),
        },
    );
    assert_eq!(l.apply(&early), b.apply(&early));
    assert_eq!(l.digest(), b.digest());
}
