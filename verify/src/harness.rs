//! Histories from real ledgers, and the checks run on them.
//!
//! Seeded random clients (one thread each) reserve, confirm and release on a
//! few small pools, so that sold-out races, double clicks and retries are
//! common. The recorded history is then checked three ways:
//!
//! 1. by search ([`crate::linearizability`]) against [`QuotaSpec::per_pool`],
//!    which needs nothing from the ledger but its answers;
//! 2. reservation ids apart ([`check_reservation_ids`]);
//! 3. against the ledger's own log ([`check_witness`]): the journal claims an
//!    order; it must respect real time, contain every acknowledged command
//!    exactly once, and, replayed through the model, give every answer the
//!    clients saw, ids included. This is stronger than the search where it
//!    applies (it checks the one order the ledger actually used) and cheap.

use crate::history::{History, Recorder};
use crate::linearizability::{self, Config, Stats, Verdict};
use crate::quota::{check_reservation_ids, offer_for, QuotaOp, QuotaRet, QuotaSpec};
use kontingent::journal::{Entry, Journal};
use kontingent::storage::{MemoryStorage, Storage};
use kontingent::{
    Action, Command, Draw, Durability, DurableError, DurableLedger, Ledger, Millis, Outcome,
};
use parking_lot::Mutex;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Barrier;

/// The logical time of every command: time never goes backwards, and holds
/// (15 min by default) never expire, so the model needs no clock.
pub const AT: Millis = 1_000_000;

/// A small, fast, seedable generator (SplitMix64): the same seed gives the same
/// choices, so a failing history can be re-run.
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform enough in `0..n` for choosing operations (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// What the clients of one history do.
#[derive(Clone, Debug)]
pub struct Workload {
    pub seed: u64,
    pub clients: usize,
    pub ops_per_client: usize,
    /// (name, capacity); each pool gets one offer drawing 1 unit ([`offer_for`]).
    pub pools: Vec<(String, u64)>,
    /// Prefix of request ids and customers, distinct per process sharing a ledger.
    pub tag: String,
    /// Client ids are `first_client ..`, distinct per process sharing a ledger.
    pub first_client: u64,
}

impl Workload {
    /// 4–8 clients x 8–12 operations on 1–3 pools of capacity 2–5.
    pub fn from_seed(seed: u64) -> Self {
        let mut rng = SplitMix64::new(seed);
        let pools = (0..1 + rng.below(3))
            .map(|p| (format!("p{p}"), 2 + rng.below(4)))
            .collect();
        Workload {
            seed,
            clients: 4 + rng.below(5) as usize,
            ops_per_client: 8 + rng.below(5) as usize,
            pools,
            tag: "t".into(),
            first_client: 0,
        }
    }

    /// The commands that set up the catalog.
    pub fn catalog(&self) -> Vec<Command> {
        let mut cmds = Vec::new();
        for (pool, capacity) in &self.pools {
            cmds.push(Command::new(
                AT,
                Action::DefinePool {
                    pool: pool.clone(),
                    capacity: *capacity,
                },
            ));
            cmds.push(Command::new(
                AT,
                Action::DefineOffer {
                    offer: offer_for(pool),
                    draws: vec![Draw::new(pool.as_str(), 1)],
                    waitlist: Default::default(),
                },
            ));
        }
        cmds
    }
}

/// What a ledger answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    Outcome(Outcome),
    /// The command was invalid (`Err`), with the error's code; nothing changed.
    Rejected(String),
    /// No answer can be given (an I/O failure, a poisoned ledger): the command
    /// may or may not have taken effect.
    Unknown,
}

/// A ledger as the harness drives it. Every command carries time [`AT`].
pub trait Target: Sync {
    fn submit(&self, action: Action) -> Answer;
}

impl<S: Storage> Target for DurableLedger<S> {
    fn submit(&self, action: Action) -> Answer {
        match DurableLedger::submit(self, Command::new(AT, action)) {
            Ok(applied) => Answer::Outcome(applied.outcome),
            Err(DurableError::Rejected(e)) => Answer::Rejected(e.code().to_owned()),
            Err(DurableError::Journal(_)) => Answer::Unknown,
        }
    }
}

/// A plain [`Ledger`] behind a mutex, keeping its own log of applied commands
/// (under the same lock, so the log order is the order of application).
#[derive(Default)]
pub struct Locked {
    inner: Mutex<(Ledger, Vec<Command>)>,
}

impl Locked {
    pub fn new() -> Self {
        Self::default()
    }

    /// The commands applied without error, in order.
    pub fn log(&self) -> Vec<Command> {
        self.inner.lock().1.clone()
    }
}

impl Target for Locked {
    fn submit(&self, action: Action) -> Answer {
        let cmd = Command::new(AT, action);
        let mut inner = self.inner.lock();
        let (ledger, log) = &mut *inner;
        match ledger.apply(&cmd) {
            Ok(applied) => {
                log.push(cmd);
                Answer::Outcome(applied.outcome)
            }
            Err(e) => Answer::Rejected(e.code().to_owned()),
        }
    }
}

/// Define the workload's pools and offers on `target`.
pub fn setup<T: Target + ?Sized>(target: &T, workload: &Workload) -> Result<(), String> {
    for cmd in workload.catalog() {
        match target.submit(cmd.action) {
            Answer::Outcome(_) => {}
            other => return Err(format!("setting up the catalog: {other:?}")),
        }
    }
    Ok(())
}

/// A reservation a client made and may confirm or release; only its maker
/// touches it, so the maker always knows its standing.
struct Mine {
    request_id: String,
    pool: String,
    reservation: u64,
    /// 0 held, 1 confirmed, 2 released.
    standing: u8,
}

/// Run the workload's clients against `target` (whose catalog is set up),
/// recording into `recorder`. All clients start together.
pub fn run_clients<T: Target + ?Sized>(
    target: &T,
    workload: &Workload,
    recorder: &Recorder<QuotaOp, QuotaRet>,
) {
    // Requests any client sent, for others to repeat: a double click from a
    // second tab, concurrent with the first.
    let sent: Mutex<Vec<QuotaOp>> = Mutex::new(Vec::new());
    let start = Barrier::new(workload.clients);
    std::thread::scope(|s| {
        for c in 0..workload.clients {
            let (sent, start) = (&sent, &start);
            s.spawn(move || {
                let client = workload.first_client + c as u64;
                let mut rng = SplitMix64::new(
                    workload
                        .seed
                        .wrapping_mul(0x2545_F491_4F6C_DD1D)
                        .wrapping_add(client),
                );
                let mut mine: Vec<Mine> = Vec::new();
                let mut own: Vec<QuotaOp> = Vec::new();
                start.wait();
                for i in 0..workload.ops_per_client {
                    let (op, new) = choose(&mut rng, workload, client, i, &mine, &own, sent);
                    if new {
                        sent.lock().push(op.clone());
                    }
                    // Yielding inside the recorded interval lets other clients run
                    // while this operation is open, so operations overlap even on
                    // a loaded machine where threads would otherwise run one by one.
                    let (before, after) = (rng.below(2) == 0, rng.below(2) == 0);
                    let token = recorder.invoke(client, op.clone());
                    if before {
                        std::thread::yield_now();
                    }
                    let answer = target.submit(op.to_action());
                    if after {
                        std::thread::yield_now();
                    }
                    let ret = match answer {
                        Answer::Outcome(o) => QuotaRet::from_outcome(&o),
                        Answer::Rejected(code) => QuotaRet::Error { code },
                        Answer::Unknown => {
                            recorder.unknown(token);
                            continue;
                        }
                    };
                    recorder.complete(token, ret.clone());
                    learn(&op, new, &ret, &mut mine, &mut own);
                }
            });
        }
    });
}

/// The next operation of one client; `true` for a new request of its own.
fn choose(
    rng: &mut SplitMix64,
    w: &Workload,
    client: u64,
    i: usize,
    mine: &[Mine],
    own: &[QuotaOp],
    sent: &Mutex<Vec<QuotaOp>>,
) -> (QuotaOp, bool) {
    let roll = rng.below(100);
    let live: Vec<&Mine> = mine.iter().filter(|m| m.standing < 2).collect();
    if roll < 15 && !live.is_empty() {
        let m = live[rng.below(live.len() as u64) as usize];
        let op = QuotaOp::Confirm {
            request_id: m.request_id.clone(),
            pool: m.pool.clone(),
            reservation: m.reservation,
        };
        return (op, false);
    }
    if roll < 30 && !mine.is_empty() {
        // Released ones too: releasing twice is fine.
        let m = &mine[rng.below(mine.len() as u64) as usize];
        let op = QuotaOp::Release {
            request_id: m.request_id.clone(),
            pool: m.pool.clone(),
            reservation: m.reservation,
        };
        return (op, false);
    }
    if roll < 38 && !own.is_empty() {
        // A retry.
        return (own[rng.below(own.len() as u64) as usize].clone(), false);
    }
    if roll < 46 {
        let sent = sent.lock();
        if !sent.is_empty() {
            return (sent[rng.below(sent.len() as u64) as usize].clone(), false);
        }
    }
    let (pool, _) = &w.pools[rng.below(w.pools.len() as u64) as usize];
    let op = QuotaOp::Reserve {
        request_id: format!("{}-c{client}-{i}", w.tag),
        customer: format!("{}-cust{client}", w.tag),
        pool: pool.clone(),
        units: if rng.below(5) == 0 { 2 } else { 1 },
        confirm: rng.below(4) == 0,
    };
    (op, true)
}

/// Track the client's own reservations from an answer.
fn learn(op: &QuotaOp, new: bool, ret: &QuotaRet, mine: &mut Vec<Mine>, own: &mut Vec<QuotaOp>) {
    match op {
        QuotaOp::Reserve {
            request_id, pool, ..
        } => {
            if !new {
                return;
            }
            own.push(op.clone());
            let standing = match ret {
                QuotaRet::Held { .. } => 0,
                QuotaRet::Confirmed { .. } => 1,
                _ => return,
            };
            if let Some(reservation) = ret.reservation() {
                mine.push(Mine {
                    request_id: request_id.clone(),
                    pool: pool.clone(),
                    reservation,
                    standing,
                });
            }
        }
        QuotaOp::Confirm { reservation, .. } | QuotaOp::Release { reservation, .. } => {
            let standing = match ret {
                QuotaRet::Confirmed { .. } => 1,
                QuotaRet::Released { .. } => 2,
                _ => return,
            };
            if let Some(m) = mine.iter_mut().find(|m| m.reservation == *reservation) {
                m.standing = standing;
            }
        }
    }
}

/// A recorded run: the history and the ledger's log (catalog commands included).
pub struct Run {
    pub history: History<QuotaOp, QuotaRet>,
    pub log: Vec<Command>,
}

/// A [`Locked`] ledger.
pub fn run_locked(workload: &Workload) -> Result<Run, String> {
    let target = Locked::new();
    setup(&target, workload)?;
    let recorder = Recorder::new();
    run_clients(&target, workload, &recorder);
    Ok(Run {
        history: recorder.into_history(),
        log: target.log(),
    })
}

/// A [`DurableLedger`] on a journal in memory, with full group commit.
pub fn run_memory(workload: &Workload) -> Result<Run, String> {
    let storage = MemoryStorage::new();
    let (ledger, _) = DurableLedger::open_storage(storage.clone(), Durability::Full)
        .map_err(|e| e.to_string())?;
    setup(&ledger, workload)?;
    let recorder = Recorder::new();
    run_clients(&ledger, workload, &recorder);
    drop(ledger);
    Ok(Run {
        history: recorder.into_history(),
        log: journal_commands(storage)?,
    })
}

/// A ledger on the journal file `path` (created; must not exist), fully durable.
pub fn run_file(workload: &Workload, path: &Path) -> Result<Run, String> {
    let ledger = kontingent::open(path, Durability::Full).map_err(|e| e.to_string())?;
    setup(&ledger, workload)?;
    let recorder = Recorder::new();
    run_clients(&ledger, workload, &recorder);
    drop(ledger);
    Ok(Run {
        history: recorder.into_history(),
        log: file_commands(path)?,
    })
}

/// The commands of a journal, in log order.
pub fn journal_commands<S: Storage>(storage: S) -> Result<Vec<Command>, String> {
    let mut cmds = Vec::new();
    Journal::scan(storage, |entry| match entry {
        Entry::Command(c) => {
            cmds.push(c.clone());
            Ok(())
        }
        Entry::Base { .. } => Err("the journal was compacted: its early commands are gone".into()),
    })
    .map_err(|e| e.to_string())?;
    Ok(cmds)
}

/// [`journal_commands`] of a journal file.
pub fn file_commands(path: &Path) -> Result<Vec<Command>, String> {
    let storage = kontingent::storage::FileStorage::open(path).map_err(|e| e.to_string())?;
    journal_commands(storage)
}

/// What a successful [`verify`] checked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Checked {
    pub ops: usize,
    pub search: Stats,
    /// Log records matched to operations by the witness check.
    pub witnessed: usize,
    /// False when [`verify_witnessed`]'s search ran out of budget (the witness
    /// alone then stands for linearizability).
    pub search_complete: bool,
}

/// All checks on one run: search, reservation ids, and (with a log) the witness.
pub fn verify(
    history: &History<QuotaOp, QuotaRet>,
    log: Option<&[Command]>,
    pools: &[(String, u64)],
) -> Result<Checked, String> {
    history.validate()?;
    // The witness first: it is cheap, and says most precisely what went wrong.
    let witnessed = match log {
        Some(log) => check_witness(history, log, pools)?,
        None => 0,
    };
    check_reservation_ids(history)?;
    let verdict = linearizability::check(&QuotaSpec::per_pool(pools), history, &Config::default());
    let search = match verdict {
        Verdict::Linearizable(stats) => stats,
        other => return Err(other.to_string()),
    };
    Ok(Checked {
        ops: history.len(),
        search,
        witnessed,
        search_complete: true,
    })
}

/// The checks for histories too wide for the search (64 clients on servers slow
/// enough that all of them overlap): the log's witness is required and is itself a
/// linearization (real-time order, every answer reproduced, every acknowledged
/// operation exactly once), so it proves the history linearizable; the search
/// then runs with `search_steps` per partition, and a violation it finds fails,
/// while running out of budget does not.
pub fn verify_witnessed(
    history: &History<QuotaOp, QuotaRet>,
    log: &[Command],
    pools: &[(String, u64)],
    search_steps: u64,
) -> Result<Checked, String> {
    history.validate()?;
    let witnessed = check_witness(history, log, pools)?;
    check_reservation_ids(history)?;
    let config = Config {
        max_steps: search_steps,
        ..Config::default()
    };
    let (search, search_complete) =
        match linearizability::check(&QuotaSpec::per_pool(pools), history, &config) {
            Verdict::Linearizable(stats) => (stats, true),
            Verdict::Undecided { stats, .. } => (stats, false),
            other => return Err(other.to_string()),
        };
    Ok(Checked {
        ops: history.len(),
        search,
        witnessed,
        search_complete,
    })
}

/// How a log record and an operation are matched: the reserve's request id, or
/// the reservation a confirm or release names. Identical commands (a request
/// repeated) are interchangeable.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Reserve(String),
    Confirm(u64),
    Release(u64),
}

fn key_of(action: &Action) -> Option<Key> {
    match action {
        Action::Reserve(r) => Some(Key::Reserve(r.request_id.clone())),
        Action::Confirm { reservation } => Some(Key::Confirm(reservation.0)),
        Action::Release { reservation } => Some(Key::Release(reservation.0)),
        _ => None,
    }
}

/// Check the order the ledger logged as a linearization of the history:
/// (1) it respects real time (an operation that returned before another was
/// called comes first); (2) replayed through [`QuotaSpec::whole`] it gives every
/// acknowledged answer, reservation ids included; (3) every acknowledged
/// operation (answered with an outcome) is in it exactly once, and nothing else
/// is, except the catalog. Operations answered with an error must not be logged
/// (errors change nothing); their answers are left to the search. Unknown ones
/// may be logged or not. Returns how many records were matched.
pub fn check_witness(
    history: &History<QuotaOp, QuotaRet>,
    log: &[Command],
    pools: &[(String, u64)],
) -> Result<usize, String> {
    use crate::linearizability::Spec;
    let ops = &history.ops;
    let ret_ns = |i: usize| match (&ops[i].ret, ops[i].return_ns) {
        (Some(_), Some(r)) => r,
        _ => u64::MAX,
    };
    let acknowledged = |i: usize| !matches!(ops[i].ret, Some(QuotaRet::Error { .. }));
    // Operations that may appear in the log, by key; and the acknowledged
    // ones not yet placed, by response time.
    let mut candidates: BTreeMap<Key, BTreeSet<usize>> = BTreeMap::new();
    let mut unplaced: BTreeSet<(u64, usize)> = BTreeSet::new();
    for i in (0..ops.len()).filter(|&i| acknowledged(i)) {
        if let Some(k) = key_of(&ops[i].op.to_action()) {
            candidates.entry(k).or_default().insert(i);
        }
        if ops[i].ret.is_some() {
            unplaced.insert((ret_ns(i), i));
        }
    }
    let spec = QuotaSpec::whole(pools);
    let mut state = spec.init();
    let mut placed = 0;
    let mut records = log.iter().enumerate().peekable();
    // The catalog comes first (defined piece by piece, or loaded whole).
    while let Some((_, cmd)) = records.peek() {
        if !matches!(
            cmd.action,
            Action::DefinePool { .. } | Action::DefineOffer { .. } | Action::LoadCatalog(_)
        ) {
            break;
        }
        records.next();
    }
    for (p, cmd) in records {
        let Some(key) = key_of(&cmd.action) else {
            return Err(format!("log record {p}: unexpected command {cmd:?}"));
        };
        let pool = candidates.get_mut(&key);
        let Some(pool) = pool.filter(|c| !c.is_empty()) else {
            return Err(format!(
                "log record {p}: {:?} matches no operation, or more often than it was sent",
                cmd.action
            ));
        };
        // Eligible: no unplaced acknowledged operation returned before its call.
        let horizon = unplaced.first().map_or(u64::MAX, |&(r, _)| r);
        let eligible = pool.iter().copied().filter(|&i| ops[i].call_ns <= horizon);
        // Of those, the one whose answer came first: it constrains the most
        // later operations, and identical commands are interchangeable.
        let Some(i) = eligible.min_by_key(|&i| (ret_ns(i), i)) else {
            let (r, j) = unplaced.first().copied().unwrap_or((0, 0));
            return Err(format!(
                "log record {p}: {:?} is logged before op #{j}, which returned at {r} ns, \
                 before this command was sent: the log contradicts real time",
                cmd.action
            ));
        };
        if ops[i].op.to_action() != cmd.action {
            return Err(format!(
                "log record {p}: {:?} differs from the command op #{i} sent",
                cmd.action
            ));
        }
        pool.remove(&i);
        unplaced.remove(&(ret_ns(i), i));
        let (next, model) = spec.step(&state, &ops[i].op);
        state = next;
        if let Some(observed) = &ops[i].ret {
            if !spec.accepts(&model, observed) {
                return Err(format!(
                    "log record {p}: replaying the log, op #{i} {:?} should have answered \
                     {model:?}, but answered {observed:?}",
                    ops[i].op
                ));
            }
        }
        placed += 1;
    }
    if let Some(&(_, i)) = unplaced.first() {
        return Err(format!(
            "op #{i} {:?} was answered {:?} but is not in the log",
            ops[i].op, ops[i].ret
        ));
    }
    Ok(placed)
}
