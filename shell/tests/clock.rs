//! The durable ledger's clock: `submit_now` reads the clock it was given and
//! nothing else; a reading behind the ledger's time is a floor, never a rewind;
//! an exact time older than the ledger's is refused naming both times.

use kontingent::clock::{FixedClock, ManualClock};
use kontingent::storage::MemoryStorage;
use kontingent::{Action, Command, Draw, Durability, DurableLedger, Outcome, Request, Timing};

fn ledger(durability: Durability) -> DurableLedger<MemoryStorage> {
    DurableLedger::open_storage(MemoryStorage::new(), durability)
        .unwrap()
        .0
}

fn define(l: &DurableLedger<MemoryStorage>) {
    l.submit_now(Action::DefinePool {
        pool: "p".into(),
        capacity: 10,
    })
    .unwrap();
    l.submit_now(Action::DefineOffer {
        offer: "o".into(),
        draws: vec![Draw::new("p", 1)],
        waitlist: Default::default(),
    })
    .unwrap();
}

fn reserve(id: &str) -> Action {
    Action::Reserve(Request::new(id, "c").line("o", 1))
}

#[test]
fn submit_now_is_stamped_by_the_given_clock_in_every_durability() {
    for d in [Durability::Full, Durability::Buffered, Durability::None] {
        let clock = ManualClock::new(5_000);
        let l = ledger(d).with_clock(clock.clone());
        define(&l);
        assert_eq!(l.read(|l| l.now()).unwrap(), 5_000, "{d:?}");
        clock.advance(1_000);
        let a = l.submit_now(reserve("r1")).unwrap();
        assert!(matches!(a.outcome, Outcome::Held { .. }), "{d:?}");
        assert_eq!(l.read(|l| l.now()).unwrap(), 6_000, "{d:?}");
        assert_eq!(l.now().unwrap(), 6_000);
        // Behind the ledger: a floor, never a rewind.
        clock.set(1);
        l.submit_batch_now(vec![reserve("r2"), reserve("r3")])
            .into_iter()
            .for_each(|r| assert!(r.is_ok(), "{d:?}"));
        assert_eq!(l.read(|l| l.now()).unwrap(), 6_000, "{d:?}");
        let t = l
            .submit_timed(Command::new(2, reserve("r4")), Timing::Clock)
            .unwrap();
        assert!(matches!(t.outcome, Outcome::Held { .. }));
        assert_eq!(l.read(|l| l.now()).unwrap(), 6_000, "{d:?}");
    }
}

#[test]
fn an_exact_time_older_than_the_ledgers_names_both_and_changes_nothing() {
    let l = ledger(Durability::Full).with_clock(FixedClock(9_000));
    define(&l);
    let digest = l.read(|l| l.digest()).unwrap();
    let e = l.submit(Command::new(8_999, reserve("late"))).unwrap_err();
    assert_eq!(e.code(), "time_went_backwards");
    let msg = e.to_string();
    assert!(msg.contains("8999") && msg.contains("9000"), "{msg}");
    assert_eq!(l.read(|l| l.digest()).unwrap(), digest);
    // The same time as a clock reading is taken at the ledger's time.
    let ok = l.submit_batch_timed(vec![(Command::new(8_999, reserve("late")), Timing::Clock)]);
    assert!(ok[0].is_ok());
}

#[test]
fn the_default_clock_is_the_system_clock() {
    let l = ledger(Durability::None);
    define(&l);
    // Whatever today is (CI runs this under faketime too), it is past 2020.
    assert!(l.read(|l| l.now()).unwrap() > 1_577_836_800_000);
}
