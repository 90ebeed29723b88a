//! The checker on hand-made histories: registers, a counter with a conditional
//! take, unknown (crashed) operations, partitions and the search budget.

use kontingent_verify::{check, Config, History, Operation, Spec, Verdict};
use std::collections::BTreeMap;
use std::fmt::Debug;

/// A register of one integer per key (P-compositional by key).
struct Register;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum RegOp {
    Write(&'static str, u32),
    Read(&'static str),
}

impl Spec for Register {
    type State = BTreeMap<&'static str, u32>;
    type Op = RegOp;
    type Ret = u32;
    fn init(&self) -> Self::State {
        BTreeMap::new()
    }
    fn step(&self, s: &Self::State, op: &RegOp) -> (Self::State, u32) {
        match op {
            RegOp::Write(k, v) => {
                let mut s = s.clone();
                s.insert(k, *v);
                (s, 0)
            }
            RegOp::Read(k) => (s.clone(), s.get(k).copied().unwrap_or(0)),
        }
    }
    fn partition(&self, op: &RegOp) -> String {
        match op {
            RegOp::Write(k, _) | RegOp::Read(k) => (*k).to_owned(),
        }
    }
}

type H<O, R> = History<O, R>;

fn op<O, R>(client: u64, call: u64, ret_at: u64, o: O, r: R) -> Operation<O, R> {
    Operation::completed(client, call, ret_at, o, r)
}

fn verdict<S: Spec>(spec: &S, ops: Vec<Operation<S::Op, S::Ret>>) -> Verdict
where
    S::Op: Debug,
    S::Ret: Debug,
{
    check(spec, &H { ops }, &Config::default())
}

#[test]
fn register_concurrent_read_may_see_either_value() {
    use RegOp::*;
    for seen in [0, 1] {
        let v = verdict(
            &Register,
            vec![
                op(1, 0, 10, Write("x", 1), 0),
                op(2, 5, 15, Read("x"), seen),
            ],
        );
        assert!(v.is_linearizable(), "{v}");
    }
}

#[test]
fn register_stale_read_after_write_returned_is_a_violation() {
    use RegOp::*;
    let v = verdict(
        &Register,
        vec![
            op(1, 0, 10, Write("x", 1), 0),
            op(2, 20, 30, Read("x"), 0),
            // Unrelated key: must not hide or cause anything.
            op(3, 0, 40, Write("y", 5), 0),
            op(4, 1, 2, Read("y"), 0),
        ],
    );
    let Verdict::Violation(v) = v else {
        panic!("{v}")
    };
    assert_eq!(v.partition, "x");
    assert_eq!(v.ops, vec![0, 1]);
    assert!(v.explanation.contains("Read"), "{}", v.explanation);
}

#[test]
fn register_reads_must_agree_on_one_order() {
    use RegOp::*;
    // Two writes overlap; one reader sees 1 then 2, another 2 then 1: no single order.
    let v = verdict(
        &Register,
        vec![
            op(1, 0, 100, Write("x", 1), 0),
            op(2, 0, 100, Write("x", 2), 0),
            op(3, 10, 20, Read("x"), 1),
            op(3, 30, 40, Read("x"), 2),
            op(4, 10, 20, Read("x"), 2),
            op(4, 30, 40, Read("x"), 1),
        ],
    );
    assert!(v.is_violation(), "{v}");
    // Swapping the second reader's answers makes it fine.
    let v = verdict(
        &Register,
        vec![
            op(1, 0, 100, Write("x", 1), 0),
            op(2, 0, 100, Write("x", 2), 0),
            op(3, 10, 20, Read("x"), 1),
            op(3, 30, 40, Read("x"), 2),
            op(4, 10, 20, Read("x"), 1),
            op(4, 30, 40, Read("x"), 2),
        ],
    );
    assert!(v.is_linearizable(), "{v}");
}

/// A counter with a conditional take: "take 1 if > 0".
struct Counter(u32);

#[derive(Clone, Debug)]
enum CounterOp {
    Take,
    Put,
    Get,
}

impl Spec for Counter {
    type State = u32;
    type Op = CounterOp;
    type Ret = i64;
    fn init(&self) -> u32 {
        self.0
    }
    fn step(&self, s: &u32, op: &CounterOp) -> (u32, i64) {
        match op {
            CounterOp::Take if *s > 0 => (s - 1, 1),
            CounterOp::Take => (*s, 0),
            CounterOp::Put => (s + 1, 1),
            CounterOp::Get => (*s, i64::from(*s)),
        }
    }
}

#[test]
fn two_overlapping_takes_of_the_last_unit_cannot_both_succeed() {
    use CounterOp::*;
    let v = verdict(
        &Counter(1),
        vec![op(1, 0, 10, Take, 1), op(2, 5, 15, Take, 1)],
    );
    let Verdict::Violation(v) = v else {
        panic!("{v}")
    };
    assert_eq!(v.ops, vec![0, 1]);
    assert_eq!(v.longest.len(), 1);
}

#[test]
fn sequential_takes_with_a_put_between_both_succeed() {
    use CounterOp::*;
    let v = verdict(
        &Counter(1),
        vec![
            op(1, 0, 10, Take, 1),
            op(2, 20, 30, Put, 1),
            op(1, 40, 50, Take, 1),
            op(2, 60, 70, Take, 0),
            op(3, 60, 70, Get, 0),
        ],
    );
    assert!(v.is_linearizable(), "{v}");
}

#[test]
fn overlapping_put_can_explain_a_second_take() {
    use CounterOp::*;
    let v = verdict(
        &Counter(1),
        vec![
            op(1, 0, 10, Take, 1),
            op(2, 5, 50, Put, 1),
            op(3, 20, 30, Take, 1),
        ],
    );
    assert!(v.is_linearizable(), "{v}");
    // The same put, but over before the first take starts: then the
    // counter holds 2, and a refused take in between is impossible.
    let v = verdict(
        &Counter(1),
        vec![
            op(2, 0, 5, Put, 1),
            op(1, 10, 20, Take, 1),
            op(3, 10, 20, Take, 0),
            op(4, 30, 40, Get, 0),
        ],
    );
    assert!(v.is_violation(), "{v}");
}

#[test]
fn an_unknown_put_can_explain_an_otherwise_impossible_take() {
    use CounterOp::*;
    let base = || vec![op(1, 0, 10, Take, 1), op(2, 20, 30, Take, 1)];
    assert!(verdict(&Counter(1), base()).is_violation());
    // A put that crashed before the second take started may have taken effect.
    let mut ops = base();
    ops.push(Operation::unknown(3, 12, Put));
    assert!(verdict(&Counter(1), ops).is_linearizable());
}

#[test]
fn an_unknown_op_may_also_never_take_effect() {
    use CounterOp::*;
    // A crashed take: if it had taken effect, the later take would have been refused.
    let v = verdict(
        &Counter(1),
        vec![Operation::unknown(1, 0, Take), op(2, 20, 30, Take, 1)],
    );
    assert!(v.is_linearizable(), "{v}");
}

#[test]
fn an_unknown_op_called_too_late_does_not_help() {
    use CounterOp::*;
    // The put was invoked only after the second take had returned: it cannot
    // take effect before it.
    let mut ops = vec![op(1, 0, 10, Take, 1), op(2, 20, 30, Take, 1)];
    ops.push(Operation::unknown(3, 35, Put));
    let Verdict::Violation(v) = verdict(&Counter(1), ops) else {
        panic!()
    };
    assert_eq!(v.ops, vec![0, 1], "{}", v.explanation);
    // And an unknown take never creates a unit.
    let mut ops = vec![op(1, 0, 10, Take, 1), op(2, 20, 30, Take, 1)];
    ops.push(Operation::unknown(3, 5, Take));
    assert!(verdict(&Counter(1), ops).is_violation());
}

#[test]
fn unknown_answers_are_any_answer() {
    use CounterOp::*;
    // The crashed get may be linearized anywhere; the known get must still fit.
    let v = verdict(
        &Counter(2),
        vec![
            Operation::unknown(1, 0, Get),
            op(2, 0, 10, Take, 1),
            op(3, 20, 30, Get, 1),
        ],
    );
    assert!(v.is_linearizable(), "{v}");
}

#[test]
fn an_exhausted_budget_is_undecided_never_linearizable() {
    use CounterOp::*;
    // Many fully concurrent puts and a final get: linearizable, but only after
    // some search.
    let mut ops: Vec<_> = (0..12).map(|c| op(c, 0, 100, Put, 1)).collect();
    ops.push(op(99, 200, 300, Get, 12));
    let h = H { ops };
    let small = Config {
        max_steps: 5,
        shrink_steps: 0,
    };
    let v = check(&Counter(0), &h, &small);
    assert!(matches!(v, Verdict::Undecided { .. }), "{v}");
    assert!(!v.is_linearizable());
    assert!(check(&Counter(0), &h, &Config::default()).is_linearizable());
    // A violation that needs more than the budget to prove is undecided too.
    let mut ops: Vec<_> = (0..12).map(|c| op(c, 0, 100, Put, 1)).collect();
    ops.push(op(99, 200, 300, Get, 13));
    let h = H { ops };
    assert!(matches!(
        check(&Counter(0), &h, &small),
        Verdict::Undecided { .. }
    ));
    assert!(check(&Counter(0), &h, &Config::default()).is_violation());
}

#[test]
fn memoisation_makes_refuting_wide_concurrency_feasible() {
    use CounterOp::*;
    // 14 concurrent puts and an impossible get: refuting it means trying every
    // order of the puts (14! of them) without the cache, 2^14 subsets with it.
    let mut ops: Vec<_> = (0..14).map(|c| op(c, 0, 100, Put, 1)).collect();
    ops.push(op(99, 200, 300, Get, 15));
    let config = Config {
        shrink_steps: 0,
        ..Config::default()
    };
    let v = check(&Counter(0), &H { ops }, &config);
    assert!(v.is_violation(), "{v}");
    assert!(v.stats().steps < 1_000_000, "{:?}", v.stats());
}

#[test]
fn empty_and_all_unknown_histories_are_linearizable() {
    assert!(verdict(&Counter(0), vec![]).is_linearizable());
    assert!(verdict(
        &Counter(0),
        vec![
            Operation::unknown(1, 0, CounterOp::Take),
            Operation::unknown(2, 0, CounterOp::Get)
        ]
    )
    .is_linearizable());
}
