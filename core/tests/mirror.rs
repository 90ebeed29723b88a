//! The browser's mirror (catalog + snapshot + deltas) answers every would-be
//! request exactly as the server's own preview does, on the Pampanin catalog
//! (slots, lead time, cut-off, postal codes, minimum order, phone shares), while
//! the server takes, confirms, releases and expires orders.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // a test harness, not the core (core/clippy.toml)

use kontingent_core::{
    without_ids, Action, Catalog, Command, Delta, Ledger, Millis, Mirror, Outcome, Request,
    ReservationId,
};

/// 2026-10-23 12:00 Berlin (CEST), the announcement.
const OPENS: Millis = 1_792_749_600_000;

struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % n
    }
}

fn catalog() -> Catalog {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/pampanin-delivery/catalog.toml"
    );
    Catalog::from_file_text(&std::fs::read_to_string(path).unwrap(), path).unwrap()
}

const TUBS: [&str; 3] = ["vanilla-tub", "pistachio-tub", "raspberry-sorbet-tub"];
const CODES: [&str; 3] = ["49685", "49661", "10115"];

fn random_request(rng: &mut Rng, slots: &[String], id: u64) -> Request {
    let channel = if rng.below(3) == 0 { "phone" } else { "web" };
    let mut r = Request::new(format!("q{id}"), format!("new-customer-{id}"))
        .channel(channel)
        .attribute("postal_code", CODES[rng.below(3) as usize])
        .line(TUBS[rng.below(3) as usize], 1 + rng.below(4));
    if rng.below(5) != 0 {
        r = r.line(&slots[rng.below(slots.len() as u64) as usize], 1);
    }
    if rng.below(4) == 0 {
        r = r.confirm();
    }
    r
}

#[test]
fn the_mirror_answers_as_the_server_does() {
    let catalog = catalog();
    let slots: Vec<String> = catalog
        .offers
        .iter()
        .filter(|o| o.slot.is_some())
        .map(|o| o.name.clone())
        // The launch evening, where slots fill up and phone shares matter.
        .filter(|n| n.contains("2026-10-23T1") || n.contains("2026-10-24T12"))
        .collect();
    assert!(slots.len() >= 8, "{slots:?}");
    let mut server = Ledger::new();
    server
        .apply(&Command::new(
            OPENS - 3_600_000,
            Action::LoadCatalog(Box::new(catalog.clone())),
        ))
        .unwrap();
    let mut mirror = Mirror::new(catalog, server.snapshot()).unwrap();
    let mut rng = Rng(7);
    let mut at = OPENS - 300_000;
    let (mut compared, mut promised, mut refused) = (0, 0, 0);
    let mut outcomes = std::collections::BTreeSet::new();
    for step in 0..600u64 {
        at += rng.below(90_000);
        let action = match rng.below(10) {
            0..=5 => Action::Reserve(random_request(&mut rng, &slots, 1_000_000 + step)),
            6 => Action::Confirm {
                reservation: ReservationId(1 + rng.below(step + 1)),
            },
            7 => Action::Release {
                reservation: ReservationId(1 + rng.below(step + 1)),
            },
            _ => Action::Tick,
        };
        // The server ticks before anyone looks (as a live server does): due holds
        // expire, and their deltas reach the mirror.
        for cmd in [Command::new(at, Action::Tick), Command::new(at, action)] {
            if let Ok(applied) = server.apply(&cmd) {
                if applied.outcome.is_promise() {
                    promised += 1;
                }
                for e in &applied.events {
                    mirror.apply(&Delta::from_event(e)).unwrap();
                }
            }
        }
        assert_eq!(mirror.snapshot(), &server.snapshot(), "step {step}");
        for k in 0..5 {
            let probe = random_request(&mut rng, &slots, step * 10 + k);
            let want = server.preview(&probe, at).map(without_ids);
            let got = mirror.check(&probe, at);
            assert_eq!(got, want, "step {step}: {probe:?}");
            if let Ok(o) = &want {
                outcomes.insert(match o {
                    Outcome::Refused(r) => format!("{r:?}")
                        .split([' ', '{'])
                        .next()
                        .unwrap()
                        .to_owned(),
                    other => format!("{other:?}")
                        .split([' ', '{'])
                        .next()
                        .unwrap()
                        .to_owned(),
                });
                refused += u64::from(matches!(o, Outcome::Refused(_)));
            }
            compared += 1;
        }
        for s in &slots[..3] {
            for ch in ["web", "phone"] {
                assert_eq!(mirror.available(s, ch), server.offer_available_for(s, ch));
            }
        }
        assert_eq!(
            mirror.next_slots("delivery", at, "web", 5).unwrap(),
            server.next_slots("delivery", at, "web", 5).unwrap()
        );
    }
    eprintln!(
        "{compared} checks equal; {promised} promises, {refused} refusals; kinds {outcomes:?}"
    );
    // The run covered the interesting answers, not only one kind.
    for kind in ["Held", "Confirmed", "SoldOut", "Rule", "NotOpenYet"] {
        assert!(outcomes.contains(kind), "no {kind} in {outcomes:?}");
    }
}

#[test]
fn a_mirror_refuses_gaps_replays_and_a_foreign_snapshot() {
    let catalog = catalog();
    let mut server = Ledger::new();
    server
        .apply(&Command::new(
            0,
            Action::LoadCatalog(Box::new(catalog.clone())),
        ))
        .unwrap();
    let start = server.snapshot();
    let mut mirror = Mirror::new(catalog.clone(), start.clone()).unwrap();
    let r = Request::new("a", "anna")
        .attribute("postal_code", "49685")
        .line("vanilla-tub", 3);
    let applied = server
        .apply(&Command::new(OPENS, Action::Reserve(r)))
        .unwrap();
    let deltas: Vec<Delta> = applied.events.iter().map(Delta::from_event).collect();
    let mut later = deltas[0].clone();
    later.seq += 1;
    let before = mirror.snapshot().clone();
    assert_eq!(mirror.apply(&later).unwrap_err().code(), "delta_gap");
    assert_eq!(
        mirror.snapshot(),
        &before,
        "a refused delta changes nothing"
    );
    mirror.apply(&deltas[0]).unwrap();
    assert_eq!(
        mirror.apply(&deltas[0]).unwrap_err().code(),
        "delta_replayed"
    );
    // A snapshot of another catalog does not make a mirror.
    let mut other = Ledger::new();
    other
        .apply(&Command::new(
            0,
            Action::DefinePool {
                pool: "x".into(),
                capacity: 1,
            },
        ))
        .unwrap();
    assert!(Mirror::new(catalog.clone(), other.snapshot()).is_err());
    // A catalog change on the server makes the mirror say it must be rebuilt.
    let applied = server
        .apply(&Command::new(
            OPENS + 1,
            Action::LoadCatalog(Box::new(catalog)),
        ))
        .unwrap();
    for e in &applied.events {
        mirror.apply(&Delta::from_event(e)).unwrap();
    }
    let probe = Request::new("b", "ben")
        .attribute("postal_code", "49685")
        .line("vanilla-tub", 3);
    assert_eq!(
        mirror.check(&probe, OPENS + 2).unwrap_err().code(),
        "misuse"
    );
}

#[test]
fn an_out_of_order_level_change_names_the_pool_out_of_order() {
    use kontingent_core::{Change, DeltaError, LevelChange, PoolId};
    let mut server = Ledger::new();
    for p in ["a", "b", "c", "d"] {
        server
            .apply(&Command::new(
                0,
                Action::DefinePool {
                    pool: p.into(),
                    capacity: 5,
                },
            ))
            .unwrap();
    }
    let snapshot = server.snapshot();
    let change = |pool: u32| LevelChange {
        pool: PoolId(pool),
        held: 1,
        confirmed: 0,
    };
    for (pools, out_of_order) in [(vec![0, 2, 1], 1), (vec![0, 1, 3, 3], 3), (vec![1, 0], 0)] {
        let mut s = snapshot.clone();
        let before = s.clone();
        let delta = Delta {
            seq: s.seq + 1,
            change: Change::Levels {
                changes: pools.iter().map(|&p| change(p)).collect(),
                channel: 0,
            },
        };
        let err = s.apply(&delta).unwrap_err();
        assert_eq!(
            err,
            DeltaError::OutOfOrder {
                seq: delta.seq,
                what: "level change",
                id: out_of_order,
            },
            "{pools:?}"
        );
        assert_eq!(s, before, "an error changes nothing");
    }
}
