//! A ledger with a planted check-then-act race must be caught.
//!
//! `Racy` wraps a correct ledger but splits a reservation in two critical
//! sections: it previews the request (the check) under the lock, lets go of
//! it, and later applies the reservation without checking again (the act),
//! making room by raising the pool's capacity for that one command if someone
//! else took the unit in between. This is the classic oversell of the brief's
//! stories: two customers both see "1 left" and both get it.

use kontingent::{Action, Command, Ledger, Outcome};
use kontingent_verify::harness::{self, Answer, Target, Workload, AT};
use kontingent_verify::quota::{QuotaOp, QuotaRet, QuotaSpec};
use kontingent_verify::{check, Config, Recorder, Verdict};
use parking_lot::Mutex;
use std::sync::Barrier;

/// How the racy ledger waits between its check and its act.
enum Gap {
    /// Every reserve waits here for the others: the race happens for sure.
    Barrier(Barrier),
    /// Yield the CPU a few times: the race happens often, not always.
    Yield,
}

struct Racy {
    ledger: Mutex<Ledger>,
    gap: Gap,
}

impl Racy {
    fn new(gap: Gap) -> Self {
        Racy {
            ledger: Mutex::new(Ledger::new()),
            gap,
        }
    }
}

fn answer(r: Result<kontingent::Applied, kontingent::Error>) -> Answer {
    match r {
        Ok(a) => Answer::Outcome(a.outcome),
        Err(e) => Answer::Rejected(e.code().to_owned()),
    }
}

impl Target for Racy {
    fn submit(&self, action: Action) -> Answer {
        let Action::Reserve(request) = &action else {
            return answer(self.ledger.lock().apply(&Command::new(AT, action)));
        };
        // The check, in its own critical section.
        let checked = self.ledger.lock().preview(request, AT);
        match &self.gap {
            Gap::Barrier(b) => {
                b.wait();
            }
            Gap::Yield => {
                for _ in 0..3 {
                    std::thread::yield_now();
                }
            }
        }
        // The act, trusting the stale check.
        let mut l = self.ledger.lock();
        let cmd = Command::new(AT, action.clone());
        let promised = matches!(checked, Ok(ref o) if o.is_promise());
        let pool = request.lines[0].offer.trim_end_matches("-unit").to_owned();
        let (Some(view), true) = (l.pool(&pool), promised) else {
            return answer(l.apply(&cmd));
        };
        let want = request.lines[0].quantity;
        if view.available >= want {
            return answer(l.apply(&cmd));
        }
        let set = |capacity| {
            Command::new(
                AT,
                Action::SetCapacity {
                    pool: pool.clone(),
                    capacity,
                },
            )
        };
        let raised = view.held + view.confirmed + want;
        if l.apply(&set(raised)).is_err() {
            return Answer::Unknown;
        }
        let out = l.apply(&cmd);
        // Lowering never revokes: the extra unit stays sold.
        if l.apply(&set(view.capacity)).is_err() {
            return Answer::Unknown;
        }
        answer(out)
    }
}

#[test]
fn two_reserves_racing_for_the_last_unit_are_caught() {
    let w = Workload {
        seed: 0,
        clients: 2,
        ops_per_client: 1,
        pools: vec![("p0".into(), 1)],
        tag: "t".into(),
        first_client: 0,
    };
    let racy = Racy::new(Gap::Barrier(Barrier::new(2)));
    harness::setup(&racy, &w).unwrap();
    let recorder = Recorder::new();
    std::thread::scope(|s| {
        for client in 0..2u64 {
            let (racy, recorder) = (&racy, &recorder);
            s.spawn(move || {
                let op = QuotaOp::Reserve {
                    request_id: format!("r{client}"),
                    customer: format!("c{client}"),
                    pool: "p0".into(),
                    units: 1,
                    confirm: false,
                };
                let token = recorder.invoke(client, op.clone());
                let Answer::Outcome(o) = racy.submit(op.to_action()) else {
                    panic!("no outcome")
                };
                recorder.complete(token, QuotaRet::from_outcome(&o));
            });
        }
    });
    let history = recorder.into_history();
    // Both got the one unit.
    assert!(history
        .ops
        .iter()
        .all(|o| matches!(o.ret, Some(QuotaRet::Held { .. }))));
    let verdict = check(&QuotaSpec::per_pool(&w.pools), &history, &Config::default());
    let Verdict::Violation(v) = &verdict else {
        panic!("the oversell was not caught: {verdict}")
    };
    assert_eq!(v.partition, "p0");
    assert_eq!(v.ops.len(), 2, "{}", v.explanation);
    println!("{verdict}");
}

#[test]
fn random_workloads_on_the_racy_ledger_are_caught() {
    // Hot pools and many clients: the race shows up within a few histories;
    // 200 is far more than needed, so this does not flake.
    let mut tried = 0;
    let mut caught = None;
    for seed in 0..200u64 {
        let mut w = Workload::from_seed(seed);
        w.clients = 8;
        w.pools.truncate(1);
        let racy = Racy::new(Gap::Yield);
        harness::setup(&racy, &w).unwrap();
        let recorder = Recorder::new();
        harness::run_clients(&racy, &w, &recorder);
        let history = recorder.into_history();
        tried += 1;
        if let Err(e) = harness::verify(&history, None, &w.pools) {
            caught = Some(e);
            break;
        }
    }
    let Some(e) = caught else {
        panic!("200 histories of a racy ledger all passed: the checker misses the race")
    };
    println!("caught after {tried} histories:\n{e}");
    assert!(e.contains("NOT linearizable"), "{e}");
}

#[test]
fn the_correct_ledger_passes_the_same_workloads() {
    // The control: the same workloads on the unbroken ledger, so the test above
    // fails because of the race, not because of the workloads.
    for seed in 0..20u64 {
        let mut w = Workload::from_seed(seed);
        w.clients = 8;
        w.pools.truncate(1);
        let run = harness::run_locked(&w).unwrap();
        harness::verify(&run.history, Some(&run.log), &w.pools).unwrap();
    }
}

#[test]
fn outcomes_of_the_wrapper_are_real_ledger_outcomes() {
    // Sanity: without a race the wrapper answers like the ledger.
    let w = Workload::from_seed(7);
    let racy = Racy::new(Gap::Yield);
    harness::setup(&racy, &w).unwrap();
    let op = QuotaOp::Reserve {
        request_id: "x".into(),
        customer: "c".into(),
        pool: w.pools[0].0.clone(),
        units: 1,
        confirm: true,
    };
    let Answer::Outcome(Outcome::Confirmed { units: 1, .. }) = racy.submit(op.to_action()) else {
        panic!()
    };
}
