//! The checks must fail when they should: hand-made logs that contradict a
//! history, and recorded histories with one answer tampered with.

use kontingent::Command;
use kontingent_verify::harness::{self, check_witness, Workload, AT};
use kontingent_verify::quota::{check_reservation_ids, QuotaOp, QuotaRet, QuotaSpec};
use kontingent_verify::{check, Config, History, Operation};

fn pools() -> Vec<(String, u64)> {
    vec![("p0".into(), 1)]
}

fn reserve(id: &str) -> QuotaOp {
    QuotaOp::Reserve {
        request_id: id.into(),
        customer: "c".into(),
        pool: "p0".into(),
        units: 1,
        confirm: false,
    }
}

fn held(id: u64) -> QuotaRet {
    QuotaRet::Held {
        units: 1,
        reservation: Some(id),
    }
}

const SOLD_OUT: QuotaRet = QuotaRet::SoldOut {
    requested: 1,
    left: 0,
};

/// r1 returned before r2 was sent; r1 got the unit.
fn history() -> History<QuotaOp, QuotaRet> {
    History {
        ops: vec![
            Operation::completed(1, 0, 10, reserve("r1"), held(1)),
            Operation::completed(2, 20, 30, reserve("r2"), SOLD_OUT),
        ],
    }
}

fn log(ids: &[&str]) -> Vec<Command> {
    ids.iter()
        .map(|id| Command::new(AT, reserve(id).to_action()))
        .collect()
}

#[test]
fn the_real_order_is_a_witness() {
    assert_eq!(
        check_witness(&history(), &log(&["r1", "r2"]), &pools()),
        Ok(2)
    );
}

#[test]
fn a_log_against_real_time_is_caught() {
    let e = check_witness(&history(), &log(&["r2", "r1"]), &pools()).unwrap_err();
    assert!(e.contains("real time"), "{e}");
}

#[test]
fn missing_and_extra_records_are_caught() {
    let e = check_witness(&history(), &log(&["r1"]), &pools()).unwrap_err();
    assert!(e.contains("not in the log"), "{e}");
    let e = check_witness(&history(), &log(&["r1", "r2", "r2"]), &pools()).unwrap_err();
    assert!(e.contains("matches no operation"), "{e}");
}

#[test]
fn answers_the_log_order_cannot_give_are_caught() {
    let mut h = history();
    // Sold out, though the log says it came first into an empty pool.
    h.ops[0].ret = Some(SOLD_OUT);
    let e = check_witness(&h, &log(&["r1", "r2"]), &pools()).unwrap_err();
    assert!(e.contains("should have answered"), "{e}");
    // A wrong reservation id is caught by the replay (ids included).
    let mut h = history();
    h.ops[0].ret = Some(held(7));
    assert!(check_witness(&h, &log(&["r1", "r2"]), &pools()).is_err());
}

#[test]
fn unknown_operations_may_be_logged_or_not() {
    let mut h = history();
    h.ops.push(Operation::unknown(3, 40, reserve("r3")));
    assert!(check_witness(&h, &log(&["r1", "r2"]), &pools()).is_ok());
    assert!(check_witness(&h, &log(&["r1", "r2", "r3"]), &pools()).is_ok());
}

#[test]
fn concurrent_repeats_match_in_either_order() {
    // A double click: the same request from two clients, overlapping.
    let h = History {
        ops: vec![
            Operation::completed(1, 0, 50, reserve("r1"), held(1)),
            Operation::completed(2, 10, 20, reserve("r1"), held(1)),
            Operation::completed(3, 30, 40, reserve("r9"), SOLD_OUT),
        ],
    };
    assert_eq!(
        check_witness(&h, &log(&["r1", "r1", "r9"]), &pools()),
        Ok(3)
    );
}

#[test]
fn tampered_recorded_histories_fail() {
    let (mut tampered, mut by_search) = (0, 0);
    let no_shrinking = Config {
        shrink_steps: 0,
        ..Config::default()
    };
    for seed in 0..40 {
        let w = Workload::from_seed(seed);
        let run = harness::run_locked(&w).unwrap();
        harness::verify(&run.history, Some(&run.log), &w.pools).unwrap();
        // Turn the first refusal into a promise with a fresh id.
        let mut h = run.history.clone();
        let Some(o) = h
            .ops
            .iter_mut()
            .find(|o| matches!(o.ret, Some(QuotaRet::SoldOut { .. })))
        else {
            continue;
        };
        let QuotaOp::Reserve { units, .. } = o.op else {
            continue;
        };
        o.ret = Some(QuotaRet::Held {
            units,
            reservation: Some(1_000_000),
        });
        // The search alone may find another moment where the promise fits (a
        // concurrent release); the log's one order cannot.
        let search = check(&QuotaSpec::per_pool(&w.pools), &h, &no_shrinking);
        assert!(!search.is_linearizable() || check_witness(&h, &run.log, &w.pools).is_err());
        by_search += usize::from(search.is_violation());
        assert!(harness::verify(&h, Some(&run.log), &w.pools).is_err());
        tampered += 1;
    }
    println!("{tampered} tampered histories caught, {by_search} of them by the search alone");
    assert!(tampered >= 10, "only {tampered} histories had a refusal");
    assert!(by_search > 0);
}

#[test]
fn a_reservation_id_handed_out_twice_is_caught() {
    let h = History {
        ops: vec![
            Operation::completed(1, 0, 10, reserve("r1"), held(1)),
            Operation::completed(2, 20, 30, reserve("r2"), held(1)),
        ],
    };
    assert!(check_reservation_ids(&h).is_err());
}
