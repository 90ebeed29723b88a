//! A black-box linearizability checker: Wing & Gong's search with Lowe's
//! improvements, generic over a sequential specification.
//!
//! A history is linearizable if every operation can be given a single instant
//! inside its interval (call .. response) such that running the operations one
//! by one in that order through the specification gives every recorded answer.
//! Operations whose answer is unknown may take effect at any instant after their
//! call, or never, and any answer of theirs is accepted.
//!
//! The search (Lowe, "Testing for linearizability", 2017; as in Porcupine):
//! events sorted by time in a doubly linked list; from the front, try each call
//! that is still minimal (no response of an unlinearized operation precedes it) as
//! the next operation; on success, unlink it and start again from the front; on
//! reaching a response that was not linearized yet, backtrack. Configurations
//! (set of linearized operations, specification state) already seen are not
//! explored again, which turns the exponential search into one that is usually
//! linear in practice: the remaining search depends only on that pair. (The
//! cache keeps 128-bit fingerprints of configurations: see `fingerprint`
//! for why that cannot produce a wrong "linearizable".)
//!
//! P-compositionality (Horn & Kroening, 2015): when the specification is a
//! product of independent parts (for example, one per key, where no operation
//! touches two keys and no answer depends on another key), a history is
//! linearizable iff each part's sub-history is. [`Spec::partition`] names the
//! part; checking parts separately is exponentially cheaper. A specification
//! must only declare partitions when this independence really holds: otherwise
//! the check can say "linearizable" for a history that is not.

use crate::history::History;
use std::collections::{BTreeMap, HashSet};
use std::fmt::{self, Debug};
use std::hash::Hash;

/// A sequential specification: what one operation does to a state, alone.
pub trait Spec {
    type State: Clone + Eq + Hash;
    type Op;
    type Ret: PartialEq;

    fn init(&self) -> Self::State;

    /// The state after `op` and the answer it gives. Deterministic: the search
    /// relies on one answer per (state, operation).
    fn step(&self, state: &Self::State, op: &Self::Op) -> (Self::State, Self::Ret);

    /// Whether a recorded answer is one the specification allows where it
    /// computed `model`. Override to ignore details the model cannot know (such
    /// as ids numbered across partitions).
    fn accepts(&self, model: &Self::Ret, observed: &Self::Ret) -> bool {
        model == observed
    }

    /// The independent part of the state `op` belongs to (see the module docs
    /// for when declaring parts is sound). The default puts everything in one.
    fn partition(&self, _op: &Self::Op) -> String {
        String::new()
    }
}

/// Search limits.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// Specification steps allowed per partition before giving up (`Undecided`).
    pub max_steps: u64,
    /// Steps allowed, in all, for the re-checks that shrink a violation to a
    /// minimal set of contradicting answers; 0 skips shrinking.
    pub shrink_steps: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_steps: 10_000_000,
            shrink_steps: 200_000,
        }
    }
}

/// How much work a check took.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub partitions: usize,
    pub ops: usize,
    /// Specification steps taken.
    pub steps: u64,
    /// Distinct configurations (linearized set, state) explored.
    pub states: u64,
}

impl Stats {
    fn add(&mut self, other: &Stats) {
        self.partitions += other.partitions;
        self.ops += other.ops;
        self.steps += other.steps;
        self.states += other.states;
    }
}

/// A history that is not linearizable, with what to look at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub partition: String,
    /// Indices into the history of operations whose recorded answers cannot all
    /// be true: with every other answer of the partition forgotten (those
    /// operations may happen or not, anywhere after their call) and everything
    /// called after the last of them dropped, the history is still not
    /// linearizable. Sorted by call.
    pub ops: Vec<usize>,
    /// True if forgetting any one more of `ops` makes the history linearizable;
    /// false if shrinking ran out of budget (then `ops` may hold bystanders).
    pub minimal: bool,
    /// The longest sequence of operations that could be linearized, in order.
    pub longest: Vec<usize>,
    /// Human-readable: the operations above and why none could come next.
    pub explanation: String,
    pub stats: Stats,
}

/// The outcome of a check. Never `Linearizable` unless the search finished.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Linearizable(Stats),
    Violation(Box<Violation>),
    /// The budget ran out in `partition` before an answer was found.
    Undecided {
        partition: String,
        stats: Stats,
    },
}

impl Verdict {
    pub fn is_linearizable(&self) -> bool {
        matches!(self, Verdict::Linearizable(_))
    }

    pub fn is_violation(&self) -> bool {
        matches!(self, Verdict::Violation(_))
    }

    pub fn stats(&self) -> Stats {
        match self {
            Verdict::Linearizable(s) | Verdict::Undecided { stats: s, .. } => *s,
            Verdict::Violation(v) => v.stats,
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Linearizable(s) => write!(
                f,
                "linearizable ({} ops, {} partitions, {} states)",
                s.ops, s.partitions, s.states
            ),
            Verdict::Violation(v) => write!(
                f,
                "NOT linearizable (partition {:?}):\n{}",
                v.partition, v.explanation
            ),
            Verdict::Undecided { partition, stats } => write!(
                f,
                "undecided: the search budget ran out in partition {partition:?} after {} steps",
                stats.steps
            ),
        }
    }
}

/// Check a whole history, partition by partition.
pub fn check<S: Spec>(spec: &S, history: &History<S::Op, S::Ret>, config: &Config) -> Verdict
where
    S::Op: Debug,
    S::Ret: Debug,
{
    let mut parts: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, o) in history.ops.iter().enumerate() {
        parts.entry(spec.partition(&o.op)).or_default().push(i);
    }
    let mut total = Stats::default();
    let mut undecided = None;
    for (name, idx) in parts {
        let forget = vec![false; idx.len()];
        let (outcome, stats) = search(spec, history, &idx, &forget, config.max_steps);
        total.add(&stats);
        match outcome {
            Search::Linearizable => {}
            Search::OutOfBudget => {
                undecided.get_or_insert(name);
            }
            Search::Failed(deepest) => {
                let (ops, minimal) = shrink(spec, history, &idx, config.shrink_steps);
                let explanation = explain(spec, history, &idx, &deepest, &ops, minimal);
                return Verdict::Violation(Box::new(Violation {
                    partition: name,
                    ops,
                    minimal,
                    longest: deepest.order,
                    explanation,
                    stats: total,
                }));
            }
        }
    }
    match undecided {
        Some(partition) => Verdict::Undecided {
            partition,
            stats: total,
        },
        None => Verdict::Linearizable(total),
    }
}

/// The furthest the search got: where to look for the problem.
struct Deepest<St> {
    /// History indices, in linearization order.
    order: Vec<usize>,
    state: St,
}

enum Search<St> {
    Linearizable,
    Failed(Deepest<St>),
    OutOfBudget,
}

const NIL: usize = usize::MAX;

/// 128 bits standing for a configuration (linearized set, state) in the cache.
///
/// Keeping whole states would cost kilobytes per configuration (the quota
/// model remembers every request), i.e. gigabytes for a search of a few
/// million steps. A fingerprint cannot make the checker call a history
/// linearizable wrongly: that answer always rests on a complete sequence of
/// steps that was actually run. A collision could only prune an unexplored
/// configuration, i.e. at worst report a violation that is not one, with a
/// probability of about n^2 / 2^128 for n configurations (as in TLC's
/// fingerprinted state sets).
fn fingerprint<St: Hash>(linearized: &[u64], state: &St) -> u128 {
    let mut h = xxhash_rust::xxh3::Xxh3Default::new();
    linearized.hash(&mut h);
    state.hash(&mut h);
    h.digest128()
}

/// The cache's keys are hashes already: use them as they are.
#[derive(Default)]
struct Prehashed(u64);

impl std::hash::Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u128(&mut self, n: u128) {
        self.0 = n as u64;
    }
}

type Seen = HashSet<u128, std::hash::BuildHasherDefault<Prehashed>>;

/// One partition's search. `idx` are history indices; `forget[k]` treats
/// `idx[k]`'s answer as unknown (used for shrinking).
fn search<S: Spec>(
    spec: &S,
    history: &History<S::Op, S::Ret>,
    idx: &[usize],
    forget: &[bool],
    max_steps: u64,
) -> (Search<S::State>, Stats) {
    let n = idx.len();
    let ret = |k: usize| -> Option<&S::Ret> {
        if forget[k] {
            None
        } else {
            history.ops[idx[k]].ret.as_ref()
        }
    };
    // Events: node 0 is the list head; op k has call node 2k+1 and return node 2k+2.
    let mut events: Vec<(u64, u8, usize)> = Vec::with_capacity(2 * n);
    for (k, &i) in idx.iter().enumerate() {
        let o = &history.ops[i];
        // Unknown answers respond "at infinity"; a response recorded before its
        // call (a clock glitch) is taken as the call time.
        let ret_ns = match (ret(k), o.return_ns) {
            (Some(_), Some(r)) => r.max(o.call_ns),
            _ => u64::MAX,
        };
        // At equal times calls sort first: the operations are then taken as
        // concurrent, the permissive reading.
        events.push((o.call_ns, 0, 2 * k + 1));
        events.push((ret_ns, 1, 2 * k + 2));
    }
    events.sort_unstable();
    let mut next = vec![NIL; 2 * n + 1];
    let mut prev = vec![NIL; 2 * n + 1];
    let mut last = 0;
    for &(_, _, node) in &events {
        next[last] = node;
        prev[node] = last;
        last = node;
    }
    let lift = |next: &mut Vec<usize>, prev: &mut Vec<usize>, node: usize| {
        for x in [node, node + 1] {
            next[prev[x]] = next[x];
            if next[x] != NIL {
                prev[next[x]] = prev[x];
            }
        }
    };
    // Exact inverse of `lift` when undone in reverse order (dancing links).
    let unlift = |next: &mut Vec<usize>, prev: &mut Vec<usize>, node: usize| {
        for x in [node + 1, node] {
            next[prev[x]] = x;
            if next[x] != NIL {
                prev[next[x]] = x;
            }
        }
    };

    let mut stats = Stats {
        partitions: 1,
        ops: n,
        ..Stats::default()
    };
    let mut known_left = (0..n).filter(|&k| ret(k).is_some()).count();
    let mut linearized = vec![0u64; n.div_ceil(64)];
    let mut seen = Seen::default();
    // (call node, state before it)
    let mut stack: Vec<(usize, S::State)> = Vec::new();
    let mut state = spec.init();
    let mut deepest = Deepest {
        order: Vec::new(),
        state: state.clone(),
    };
    let mut node = next[0];
    loop {
        // Unknown operations never need to take effect: done once every known
        // answer is explained.
        if known_left == 0 {
            stats.states = seen.len() as u64;
            return (Search::Linearizable, stats);
        }
        if node != NIL && node % 2 == 1 {
            let k = node / 2;
            stats.steps += 1;
            if stats.steps > max_steps {
                stats.states = seen.len() as u64;
                return (Search::OutOfBudget, stats);
            }
            let (after, answer) = spec.step(&state, &history.ops[idx[k]].op);
            let fits = ret(k).is_none_or(|observed| spec.accepts(&answer, observed));
            if fits {
                linearized[k / 64] |= 1 << (k % 64);
                if seen.insert(fingerprint(&linearized, &after)) {
                    stack.push((node, std::mem::replace(&mut state, after)));
                    lift(&mut next, &mut prev, node);
                    if ret(k).is_some() {
                        known_left -= 1;
                    }
                    if stack.len() > deepest.order.len() {
                        deepest = Deepest {
                            order: stack.iter().map(|(c, _)| idx[c / 2]).collect(),
                            state: state.clone(),
                        };
                    }
                    node = next[0];
                    continue;
                }
                linearized[k / 64] &= !(1 << (k % 64));
            }
            node = next[node];
        } else {
            // A response (or the end) reached while its operation is not
            // linearized: the last choice was wrong.
            let Some((call, before)) = stack.pop() else {
                stats.states = seen.len() as u64;
                return (Search::Failed(deepest), stats);
            };
            let k = call / 2;
            unlift(&mut next, &mut prev, call);
            linearized[k / 64] &= !(1 << (k % 64));
            if ret(k).is_some() {
                known_left += 1;
            }
            state = before;
            node = next[call];
        }
    }
}

/// Shrink a violation to the answers that prove it. Two relaxations, each of
/// which can only make more histories linearizable, so whatever still fails
/// proves the original fails:
///
/// 1. cut the history at a time `t`: drop the operations called after it and
///    forget the answers that came after it (a linearization of the whole
///    history, cut after the last operation answered by `t`, linearizes the
///    cut, since everything before that point was called by `t`). The earliest
///    failing cut is found by bisection; it leaves few unknown operations
///    (at most one per client), so re-checks stay cheap;
/// 2. forget the remaining answers one at a time, latest call first, keeping
///    each forgotten while the history still fails.
///
/// `budget` bounds the steps of all re-checks together; a re-check that runs
/// out counts as "linearizable" (keep the answer), so the result stays sound
/// and is then merely not minimal. Returns the history indices of the answers
/// kept, and whether shrinking finished within the budget.
fn shrink<S: Spec>(
    spec: &S,
    history: &History<S::Op, S::Ret>,
    idx: &[usize],
    budget: u64,
) -> (Vec<usize>, bool) {
    let known: Vec<usize> = idx
        .iter()
        .copied()
        .filter(|&i| history.ops[i].ret.is_some())
        .collect();
    if budget == 0 {
        return (known, false);
    }
    let mut left = budget;
    let mut finished = true;
    // Does the sub-history (ops, forgotten) still fail? Charges the budget.
    let mut fails = |ops: &[usize], forget: &[bool]| -> bool {
        let (outcome, stats) = search(spec, history, ops, forget, left);
        left = left.saturating_sub(stats.steps);
        match outcome {
            Search::Failed(_) => true,
            Search::Linearizable => false,
            Search::OutOfBudget => {
                finished = false;
                false
            }
        }
    };
    let cut = |t: u64| -> (Vec<usize>, Vec<bool>) {
        let ops: Vec<usize> = idx
            .iter()
            .copied()
            .filter(|&i| history.ops[i].call_ns <= t)
            .collect();
        let forget = ops
            .iter()
            .map(|&i| {
                let o = &history.ops[i];
                o.ret.is_none() || o.return_ns.is_none_or(|r| r > t)
            })
            .collect();
        (ops, forget)
    };
    // 1. The earliest failing cut, among the times answers arrived (the whole
    //    history, at the last one, is known to fail).
    let mut times: Vec<u64> = known
        .iter()
        .filter_map(|&i| history.ops[i].return_ns)
        .collect();
    times.sort_unstable();
    times.dedup();
    let (mut lo, mut hi) = (0, times.len());
    while lo + 1 < hi {
        let mid = (lo + hi) / 2;
        let (ops, forget) = cut(times[mid - 1]);
        if fails(&ops, &forget) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    let (ops, mut forget) = match hi.checked_sub(1).and_then(|k| times.get(k)) {
        Some(&t) if hi < times.len() => cut(t),
        _ => (
            idx.to_vec(),
            idx.iter().map(|&i| history.ops[i].ret.is_none()).collect(),
        ),
    };
    // 2. Forget answers one at a time.
    for k in (0..ops.len()).rev() {
        if forget[k] {
            continue;
        }
        forget[k] = true;
        if !fails(&ops, &forget) {
            forget[k] = false;
        }
    }
    let mut core: Vec<usize> = (0..ops.len())
        .filter(|&k| !forget[k])
        .map(|k| ops[k])
        .collect();
    core.sort_by_key(|&i| (history.ops[i].call_ns, i));
    (core, finished)
}

fn explain<S: Spec>(
    spec: &S,
    history: &History<S::Op, S::Ret>,
    idx: &[usize],
    deepest: &Deepest<S::State>,
    core: &[usize],
    minimal: bool,
) -> String
where
    S::Op: Debug,
    S::Ret: Debug,
{
    use std::fmt::Write as _;
    let show = |i: usize| {
        let o = &history.ops[i];
        let when = match o.return_ns {
            Some(r) if o.ret.is_some() => format!("{}..{} ns", o.call_ns, r),
            _ => format!("{}.. ns", o.call_ns),
        };
        let ret = match &o.ret {
            Some(r) => format!("{r:?}"),
            None => "unknown".into(),
        };
        format!("#{i} client {} [{when}] {:?} -> {ret}", o.client, o.op)
    };
    let mut s = String::new();
    let _ = writeln!(
        s,
        "these answers cannot all be true{}:",
        if minimal {
            ""
        } else {
            " (shrinking ran out of budget: some may be bystanders)"
        }
    );
    for &i in core {
        let _ = writeln!(s, "  {}", show(i));
    }
    let done: HashSet<usize> = deepest.order.iter().copied().collect();
    let _ = writeln!(
        s,
        "at best {} of {} operations linearize; after them, nothing fits next:",
        deepest.order.len(),
        idx.len()
    );
    // The operations that could have come next: called before any pending
    // known answer was given.
    let pending: Vec<usize> = idx.iter().copied().filter(|i| !done.contains(i)).collect();
    let horizon = pending
        .iter()
        .filter(|&&i| history.ops[i].ret.is_some())
        .filter_map(|&i| history.ops[i].return_ns)
        .min()
        .unwrap_or(u64::MAX);
    for &i in pending
        .iter()
        .filter(|&&i| history.ops[i].call_ns <= horizon)
        .take(8)
    {
        let (_, model) = spec.step(&deepest.state, &history.ops[i].op);
        let verdict = match &history.ops[i].ret {
            Some(r) if !spec.accepts(&model, r) => format!("the model answers {model:?}"),
            _ => "fits here, but nothing linearizes after it".to_owned(),
        };
        let _ = writeln!(s, "  {}: {verdict}", show(i));
    }
    s
}
