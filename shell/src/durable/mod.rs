//! The embedded default: a thread-safe ledger on a journal, that acknowledges
//! nothing before it is on stable storage.
//!
//! Group commit, leader/follower: callers queue their commands; the first caller
//! to find no leader becomes one, takes the whole queue, and under the storage
//! lock (an exclusive `flock`, so several processes can share one file) first
//! applies what other processes appended, then applies the queued commands in
//! order and appends their records in one write. It releases the lock and the
//! ledger's mutex, calls `fdatasync`, and only then hands every caller its
//! outcome. Callers arriving meanwhile queue up for the next batch, so a slow
//! disk makes batches larger, not latencies unbounded; there is no timer.
//!
//! A failed write or sync poisons the ledger: every waiting and later caller gets
//! `Poisoned` until it is reopened, because memory is now ahead of the disk and
//! retrying would risk acknowledging something that is not durable.

use crate::checkpoint;
use crate::clock::{Clock, SystemClock};
use crate::event_log::{EventLog, KEPT_DEFAULT};
use crate::journal::{self, Entry, Journal, JournalError, Recovery};
use crate::storage::{FileStorage, Storage};
use crate::Error;
use crate::Event;
use crate::{Action, Command, Millis};
use crate::{Applied, Ledger};
use parking_lot::{Condvar, Mutex, MutexGuard};
use std::io;
use std::path::Path;
use std::sync::Arc;
use thiserror::Error as ThisError;

/// How much of a write must be done before a command is acknowledged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Durability {
    /// `fdatasync` before the acknowledgement: survives a power loss. The default.
    #[default]
    Full,
    /// Written to the operating system before the acknowledgement, not synced:
    /// survives a crash of the process, not of the machine.
    Buffered,
    /// Nothing is written: for tests and previews.
    None,
}

/// Why a command on a durable ledger did not give an outcome.
#[derive(Debug, ThisError)]
pub enum DurableError {
    /// The command is invalid; nothing changed.
    #[error(transparent)]
    Rejected(#[from] Error),
    /// The journal failed (I/O, poisoned, corrupted by another writer).
    #[error(transparent)]
    Journal(#[from] JournalError),
}

impl DurableError {
    /// Stable snake_case code for bindings and logs: the core [`Error::code`] of a
    /// rejected command, or the [`JournalError::code`].
    pub fn code(&self) -> &'static str {
        match self {
            DurableError::Rejected(e) => e.code(),
            DurableError::Journal(e) => e.code(),
        }
    }
}

/// Counters for benchmarks and monitoring.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Records appended by this handle.
    pub records: u64,
    /// Batches written (each one `write`).
    pub batches: u64,
    /// `fdatasync` calls made.
    pub syncs: u64,
    /// Records applied from other processes.
    pub tailed: u64,
}

type Syncer = Box<dyn FnMut() -> io::Result<()> + Send>;
/// What a submitted command gets back: applied, or the error that stopped it.
type Answer = Result<Applied, DurableError>;

/// How a submitted command's time is set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Timing {
    /// `at` is the command's time; one older than the ledger's is refused as
    /// `time_went_backwards`. Replays, imports and rehearsals use this.
    #[default]
    Exact,
    /// `at` is a clock reading taken when the command was submitted: the command
    /// is stamped `max(at, ledger time)` when it is applied, so concurrent callers
    /// never race each other into `time_went_backwards`.
    Clock,
}

impl Timing {
    /// The time a command (or a query) given `at` with this timing takes on a
    /// ledger whose own time is `ledger_now`: the one place the rule lives.
    pub fn resolve(self, at: Millis, ledger_now: Millis) -> Millis {
        match self {
            Timing::Exact => at,
            Timing::Clock => at.max(ledger_now),
        }
    }
}

/// How the times of one caller's commands are set: all alike (the usual case: no
/// vector beside the commands) or each its own.
enum Timings {
    All(Timing),
    Each(Vec<Timing>),
}

impl Timings {
    fn get(&self, i: usize) -> Timing {
        match self {
            Timings::All(t) => *t,
            Timings::Each(v) => v.get(i).copied().unwrap_or_default(),
        }
    }
}

/// One caller's commands, and how their times are set.
struct Pending {
    cmds: Vec<Command>,
    timings: Timings,
    slot: Arc<Slot>,
}

/// Where a caller waits: woken once, either with its results or to lead.
struct Slot {
    state: Mutex<Turn>,
    wake: Condvar,
}

enum Turn {
    Waiting,
    Lead,
    Done(Vec<Answer>),
}

impl Slot {
    fn set(&self, turn: Turn) {
        *self.state.lock() = turn;
        self.wake.notify_one();
    }
}

/// The ledger and its journal: held by the write leader while it applies and writes.
struct State<S: Storage> {
    ledger: Ledger,
    journal: Journal<S>,
    scratch: Vec<u8>,
    stats: Stats,
    /// Recent events, for `events_after`.
    events: EventLog,
}

/// Apply a replayed entry, keeping its events (a base state restarts the window).
fn apply_logged(ledger: &mut Ledger, log: &mut EventLog, entry: Entry<'_>) -> Result<(), String> {
    let base = matches!(entry, Entry::Base { .. });
    journal::apply_entry_with(ledger, entry, |e| log.extend(std::slice::from_ref(e)))?;
    if base {
        log.restart(ledger.seq() + 1);
    }
    Ok(())
}

/// Callers waiting for a leader. Held only for a push or a swap, so callers never
/// wait behind a leader's write.
#[derive(Default)]
struct Queue {
    pending: Vec<Pending>,
    /// True while some thread leads a batch.
    leading: bool,
    poisoned: Option<String>,
}

/// Who syncs, and how far the disk is known to be durable.
struct SyncState {
    /// Every record up to this sequence number is durable.
    synced: u64,
    /// A sync is running (outside every lock).
    syncing: bool,
    /// Set when a sync failed: nothing more is durable.
    failed: Option<String>,
    /// Taken by the thread that syncs.
    syncer: Option<Syncer>,
    syncs: u64,
}

/// A ledger on a journal, safe to share between threads (and, through the
/// file, between processes).
///
/// ```
/// use kontingent::{Action, Command, DurableLedger, Durability, Outcome, Request};
/// use kontingent::storage::MemoryStorage;
/// let (ledger, _recovery) = DurableLedger::open_storage(MemoryStorage::new(), Durability::Full).unwrap();
/// ledger.submit(Command::new(0, Action::DefinePool { pool: "p".into(), capacity: 1 })).unwrap();
/// ledger.submit(Command::new(0, Action::DefineOffer {
///     offer: "o".into(), draws: vec![kontingent::Draw::new("p", 1)], waitlist: Default::default() })).unwrap();
/// let applied = ledger.submit(Command::new(1, Action::Reserve(Request::new("r1", "c").line("o", 1)))).unwrap();
/// assert!(matches!(applied.outcome, Outcome::Held { .. }));
/// ```
pub struct DurableLedger<S: Storage = FileStorage> {
    state: Mutex<State<S>>,
    queue: Mutex<Queue>,
    sync: Mutex<SyncState>,
    synced: Condvar,
    /// Last record sequence number written (by this or another process).
    written: std::sync::atomic::AtomicU64,
    durability: Durability,
    recovery: Recovery,
    /// The journal file, when there is one (checkpoints are written beside it).
    path: Option<std::path::PathBuf>,
    /// What "now" is for commands submitted without a time.
    clock: Arc<dyn Clock>,
}

impl DurableLedger<FileStorage> {
    /// Open (or create) a journal file and replay it.
    ///
    /// If a checkpoint file lies beside the journal, the state is loaded from it and
    /// only the records after it are replayed; a checkpoint that is damaged or does
    /// not fit the journal is ignored (see `Recovery::checkpoint_ignored`).
    pub fn open(path: impl AsRef<Path>, durability: Durability) -> Result<Self, JournalError> {
        let path = path.as_ref();
        let existed = path.exists();
        let storage = FileStorage::open(path)?;
        if !existed {
            storage.sync_dir()?;
        }
        let ignored = match checkpoint::read(path) {
            Ok(None) => None,
            Err(reason) => Some(reason),
            Ok(Some(c)) => match Self::open_from_checkpoint(storage, &c, durability)? {
                Ok(mut me) => {
                    me.path = Some(path.to_path_buf());
                    me.keep_events_when_asked();
                    return Ok(me);
                }
                Err(reason) => Some(reason),
            },
        };
        let storage = FileStorage::open(path)?;
        let (mut me, _) = Self::open_storage(storage, durability)?;
        me.recovery.checkpoint_ignored = ignored;
        me.path = Some(path.to_path_buf());
        me.keep_events_when_asked();
        Ok(me)
    }

    /// A journal file can replay events nobody asked for yet: keep none in memory
    /// until `events_after` is first called (the hot path then clones no events).
    fn keep_events_when_asked(&mut self) {
        let st = self.state.get_mut();
        st.events = EventLog::dormant(st.ledger.seq() + 1, KEPT_DEFAULT);
    }

    fn open_from_checkpoint(
        mut storage: FileStorage,
        c: &checkpoint::Checkpoint,
        durability: Durability,
    ) -> Result<Result<Self, String>, JournalError> {
        let mut ledger = match Ledger::from_state_bytes(&c.state) {
            Ok(l) => l,
            Err(e) => return Ok(Err(format!("the checkpoint's state does not decode: {e}"))),
        };
        let Some(next_seq) = c.records.checked_add(1) else {
            return Ok(Err("the checkpoint's record count is out of range".into()));
        };
        storage.lock()?;
        let opened = Journal::open_after(storage, c.ledger_id, c.offset, next_seq, c.last, |e| {
            journal::apply_entry(&mut ledger, e)
        })?;
        match opened {
            Err(reason) => Ok(Err(reason)),
            Ok((journal, recovery)) => {
                Ok(Ok(Self::from_parts(ledger, journal, recovery, durability)?))
            }
        }
    }

    /// Write a checkpoint beside the journal: the whole state at the last record
    /// this handle has applied, made durable first. A restart then replays only
    /// the records after it. Returns the number of records it covers.
    pub fn checkpoint(&self) -> Result<u64, DurableError> {
        if let Some(cause) = &self.queue.lock().poisoned {
            return Err(poisoned(cause));
        }
        let (Some(path), Durability::Full | Durability::Buffered) = (&self.path, self.durability)
        else {
            return Err(DurableError::Rejected(Error::Misuse {
                field: "checkpoint".into(),
                reason: "needs a journal file (durability Full or Buffered)",
            }));
        };
        let c = {
            let st = self.lock();
            if let Some(cause) = &self.queue.lock().poisoned {
                return Err(poisoned(cause));
            }
            // Only what is durable may be checkpointed: sync everything written,
            // through the one sync path (a failure there poisons the ledger).
            let end = st.journal.next_seq() - 1;
            self.written
                .fetch_max(end, std::sync::atomic::Ordering::AcqRel);
            if let Err(e) = self.wait_durable(end) {
                self.poison(&e.to_string());
                return Err(e.into());
            }
            checkpoint::Checkpoint {
                ledger_id: st.journal.ledger_id(),
                records: st.journal.next_seq() - 1,
                offset: st.journal.end(),
                last: st.journal.last_record(),
                state: st.ledger.state_bytes(),
            }
        };
        checkpoint::write(path, &c)?;
        Ok(c.records)
    }
}

impl<S: Storage> DurableLedger<S> {
    /// Open a journal on any storage and replay it; also returns what recovery found.
    pub fn open_storage(
        mut storage: S,
        durability: Durability,
    ) -> Result<(Self, Recovery), JournalError> {
        let mut ledger = Ledger::new();
        storage.lock()?;
        // Records average well over 48 bytes; sizing for that avoids rehashing.
        ledger.reserve_for((storage.len()? / 48).min(1 << 22) as usize);
        let opened = Journal::open(storage, |e| journal::apply_entry(&mut ledger, e));
        let (journal, recovery) = opened?;
        let me = Self::from_parts(ledger, journal, recovery.clone(), durability)?;
        Ok((me, recovery))
    }

    fn from_parts(
        ledger: Ledger,
        mut journal: Journal<S>,
        recovery: Recovery,
        durability: Durability,
    ) -> Result<Self, JournalError> {
        // Records replayed on open may sit in the page cache only (a process killed
        // between its write and its sync): make them durable before anything is
        // answered on top of them.
        journal.storage().sync()?;
        journal.storage().unlock()?;
        let syncer = journal.storage().syncer()?;
        let state = State {
            events: EventLog::new(ledger.seq() + 1, KEPT_DEFAULT),
            ledger,
            journal,
            scratch: Vec::with_capacity(64 * 1024),
            stats: Stats::default(),
        };
        let written = state.journal.next_seq() - 1;
        let me = DurableLedger {
            state: Mutex::new(state),
            queue: Mutex::new(Queue::default()),
            sync: Mutex::new(SyncState {
                synced: written,
                syncing: false,
                failed: None,
                syncer: Some(syncer),
                syncs: 0,
            }),
            synced: Condvar::new(),
            written: std::sync::atomic::AtomicU64::new(written),
            durability,
            recovery,
            path: None,
            clock: Arc::new(SystemClock),
        };
        Ok(me)
    }

    fn lock(&self) -> MutexGuard<'_, State<S>> {
        self.state.lock()
    }

    /// What recovery found when this ledger was opened.
    pub fn recovery(&self) -> &Recovery {
        &self.recovery
    }

    /// Apply one command; returns once its record is durable (per [`Durability`]).
    pub fn submit(&self, cmd: Command) -> Result<Applied, DurableError> {
        let mut out = self.submit_batch(vec![cmd]);
        out.pop().unwrap_or_else(|| {
            Err(DurableError::Rejected(Error::Misuse {
                field: "batch".into(),
                reason: "empty",
            }))
        })
    }

    /// Apply many commands in order with one journal write and sync (bulk imports,
    /// servers that batch themselves). Each gets its own result.
    pub fn submit_batch(&self, cmds: Vec<Command>) -> Vec<Result<Applied, DurableError>> {
        self.enqueue(cmds, Timings::All(Timing::Exact))
    }

    /// Apply many commands in order, each with its own [`Timing`], in one batch:
    /// for shells whose clock lives outside Rust (a JavaScript or Python clock
    /// read when the command was submitted).
    pub fn submit_batch_timed(
        &self,
        cmds: Vec<(Command, Timing)>,
    ) -> Vec<Result<Applied, DurableError>> {
        let (cmds, timings) = cmds.into_iter().unzip();
        self.enqueue(cmds, Timings::Each(timings))
    }

    /// Apply an action stamped "now": this ledger's [`Clock`] is read when it is
    /// submitted, and the command takes `max(reading, the ledger's time)` when it is
    /// applied ([`Timing::Clock`]). The stamp is journaled like any other time.
    pub fn submit_now(&self, action: Action) -> Result<Applied, DurableError> {
        let at = self.clock.now_ms();
        let mut out = self.enqueue(vec![Command::new(at, action)], Timings::All(Timing::Clock));
        out.pop().unwrap_or_else(|| Err(poisoned("lost")))
    }

    /// [`DurableLedger::submit_now`] for many actions, in one batch.
    pub fn submit_batch_now(&self, actions: Vec<Action>) -> Vec<Result<Applied, DurableError>> {
        let at = self.clock.now_ms();
        self.enqueue(
            actions.into_iter().map(|a| Command::new(at, a)).collect(),
            Timings::All(Timing::Clock),
        )
    }

    /// Use `clock` for every command submitted without a time (the default is
    /// [`SystemClock`]). Tests, examples and rehearsals pin it:
    ///
    /// ```
    /// use kontingent::clock::FixedClock;
    /// use kontingent::{Action, DurableLedger, Durability};
    /// use kontingent::storage::MemoryStorage;
    /// let (ledger, _) = DurableLedger::open_storage(MemoryStorage::new(), Durability::Full).unwrap();
    /// let ledger = ledger.with_clock(FixedClock(1_795_950_000_000));
    /// ledger.submit_now(Action::Tick).unwrap();
    /// assert_eq!(ledger.read(|l| l.now()).unwrap(), 1_795_950_000_000);
    /// ```
    pub fn with_clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The clock this ledger stamps "now" with.
    pub fn clock(&self) -> &dyn Clock {
        &*self.clock
    }

    /// Apply one command with the given [`Timing`].
    pub fn submit_timed(&self, cmd: Command, timing: Timing) -> Result<Applied, DurableError> {
        let mut out = self.enqueue(vec![cmd], Timings::All(timing));
        out.pop().unwrap_or_else(|| Err(poisoned("lost")))
    }

    /// "Now" as a command submitted now would be stamped: `max(clock, ledger time)`.
    /// What queries without a time (availability, why unavailable, next slots) use.
    pub fn now(&self) -> Result<Millis, DurableError> {
        let reading = self.clock.now_ms();
        self.read(|l| reading.max(l.now()))
    }

    fn enqueue(&self, cmds: Vec<Command>, timings: Timings) -> Vec<Result<Applied, DurableError>> {
        if self.durability == Durability::None {
            return self.apply_directly(cmds, timings);
        }
        let slot = Arc::new(Slot {
            state: Mutex::new(Turn::Waiting),
            wake: Condvar::new(),
        });
        let mut q = self.queue.lock();
        if let Some(cause) = &q.poisoned {
            let cause = cause.clone();
            return cmds.iter().map(|_| Err(poisoned(&cause))).collect();
        }
        q.pending.push(Pending {
            cmds,
            timings,
            slot: slot.clone(),
        });
        let lead_now = !q.leading;
        q.leading = true;
        drop(q);
        if lead_now {
            self.lead();
        }
        loop {
            let mut turn = slot.state.lock();
            while matches!(*turn, Turn::Waiting) {
                slot.wake.wait(&mut turn);
            }
            match std::mem::replace(&mut *turn, Turn::Waiting) {
                Turn::Done(results) => return results,
                // The previous leader handed over: `leading` is already set for us.
                _ => {
                    drop(turn);
                    self.lead();
                }
            }
        }
    }

    /// Without a journal there is nothing to group: apply under the state lock.
    fn apply_directly(
        &self,
        cmds: Vec<Command>,
        timings: Timings,
    ) -> Vec<Result<Applied, DurableError>> {
        let mut st = self.lock();
        if let Some(cause) = &self.queue.lock().poisoned {
            return cmds.iter().map(|_| Err(poisoned(cause))).collect();
        }
        let State {
            ledger,
            events,
            scratch,
            ..
        } = &mut *st;
        cmds.into_iter()
            .enumerate()
            .map(|(i, mut cmd)| {
                cmd.at = timings.get(i).resolve(cmd.at, ledger.now());
                // Only a catalog can be too large to journal (every other command is
                // bounded by `limits`); refuse it here too, so that a ledger without
                // a journal answers exactly as one with a journal would.
                if matches!(cmd.action, Action::LoadCatalog(_)) {
                    scratch.clear();
                    journal::frame(ledger.seq(), &cmd, scratch);
                    journal::check_frame(scratch).map_err(DurableError::Rejected)?;
                }
                let applied = ledger.apply(&cmd)?;
                events.extend(&applied.events);
                Ok(applied)
            })
            .collect()
    }

    /// Run one batch as the write leader (`leading` is set): apply and write
    /// everything queued, hand write leadership to the first caller queued since,
    /// then wait until a sync covers the batch and wake exactly the callers it served.
    fn lead(&self) {
        let mut batch = std::mem::take(&mut self.queue.lock().pending);
        let mut guard = Abandon {
            ledger: self,
            slots: batch
                .iter()
                .map(|p| (p.slot.clone(), p.cmds.len()))
                .collect(),
            handed_off: false,
            done: false,
        };
        let mut st = self.lock();
        // Checked under the state lock: a failed write poisons before it lets go of
        // that lock, so no later batch can be applied on top of an unjournaled one.
        let poisoned_cause = self.queue.lock().poisoned.clone();
        let written = match &poisoned_cause {
            Some(cause) => Err(poisoned_journal(cause)),
            None => self.write_batch(&mut st, &mut batch, &mut guard.slots),
        };
        if let Err(e) = &written {
            self.poison(&e.to_string());
        }
        let end = st.journal.next_seq() - 1;
        drop(st);
        self.written
            .fetch_max(end, std::sync::atomic::Ordering::AcqRel);
        {
            let mut q = self.queue.lock();
            match q.pending.first() {
                Some(next) => next.slot.set(Turn::Lead),
                None => q.leading = false,
            }
        }
        guard.handed_off = true;
        let done = written.and_then(|(_, results)| {
            if self.durability == Durability::Full {
                self.wait_durable(end)?;
            }
            Ok(results)
        });
        match done {
            Ok(results) => {
                for (p, r) in batch.iter().zip(results) {
                    p.slot.set(Turn::Done(r));
                }
            }
            Err(e) => {
                let cause = e.to_string();
                self.poison(&cause);
                // Nothing of this batch may be acknowledged, whatever it returned.
                for p in &batch {
                    p.slot.set(Turn::Done(
                        p.cmds.iter().map(|_| Err(poisoned(&cause))).collect(),
                    ));
                }
            }
        }
        guard.done = true;
    }

    /// Mark the ledger poisoned (memory may be ahead of the disk): nothing more is
    /// acknowledged, and no sync may report success for it.
    fn poison(&self, cause: &str) {
        self.queue
            .lock()
            .poisoned
            .get_or_insert_with(|| cause.to_owned());
        self.sync
            .lock()
            .failed
            .get_or_insert_with(|| cause.to_owned());
    }

    /// Block until every record up to `seq` is durable: if no sync is running,
    /// run one for everything written so far; otherwise wait for the running one
    /// and look again (it may have started before `seq` was written).
    fn wait_durable(&self, seq: u64) -> Result<(), JournalError> {
        let mut ss = self.sync.lock();
        loop {
            if let Some(cause) = &ss.failed {
                return Err(poisoned_journal(cause));
            }
            if ss.synced >= seq {
                return Ok(());
            }
            if ss.syncing {
                self.synced.wait(&mut ss);
                continue;
            }
            ss.syncing = true;
            let target = self.written.load(std::sync::atomic::Ordering::Acquire);
            let mut syncer = ss.syncer.take();
            drop(ss);
            let r = match syncer.as_mut() {
                Some(sync) => sync(),
                None => Err(io::Error::other("no syncer")),
            };
            ss = self.sync.lock();
            ss.syncer = syncer;
            ss.syncing = false;
            ss.syncs += 1;
            match r {
                Ok(()) => ss.synced = ss.synced.max(target),
                Err(e) => ss.failed = Some(format!("fdatasync failed: {e}")),
            }
            self.synced.notify_all();
        }
    }

    /// Tail, apply and append one batch under the storage lock. Returns the
    /// number of records written and each caller's outcomes (to be replaced by
    /// `Poisoned` if the sync then fails).
    fn write_batch(
        &self,
        st: &mut State<S>,
        batch: &mut Vec<Pending>,
        answer_if_abandoned: &mut Vec<(Arc<Slot>, usize)>,
    ) -> Result<(u64, Vec<Vec<Answer>>), JournalError> {
        let State {
            ledger,
            journal,
            scratch,
            stats,
            events,
        } = st;
        journal.storage().lock()?;
        // Taking the storage lock may have waited for other processes (flock, or
        // PostgreSQL's lock): whoever queued meanwhile joins this batch, so one
        // write and one sync serve them too, instead of another turn at the lock.
        let late = std::mem::take(&mut self.queue.lock().pending);
        answer_if_abandoned.extend(late.iter().map(|p| (p.slot.clone(), p.cmds.len())));
        batch.extend(late);
        let result = (|| -> Result<(u64, Vec<Vec<Answer>>), JournalError> {
            if self.durability != Durability::None {
                let tailed = journal.tail(|e| apply_logged(ledger, events, e))?;
                stats.tailed += tailed;
            }
            scratch.clear();
            let mut records = 0u64;
            let seq = journal.next_seq();
            let mut all = Vec::with_capacity(batch.len());
            for p in batch.iter_mut() {
                let mut outs = Vec::with_capacity(p.cmds.len());
                for (i, cmd) in p.cmds.iter_mut().enumerate() {
                    cmd.at = p.timings.get(i).resolve(cmd.at, ledger.now());
                    // Frame first: a command whose record could not be read back
                    // (too large) is refused before it changes anything.
                    let mark = scratch.len();
                    journal::frame(seq + records, cmd, scratch);
                    if let Err(e) = journal::check_frame(&scratch[mark..]) {
                        scratch.truncate(mark);
                        outs.push(Err(DurableError::Rejected(e)));
                        continue;
                    }
                    let outcome = ledger.apply(cmd);
                    if let Ok(applied) = &outcome {
                        events.extend(&applied.events);
                        records += 1;
                    } else {
                        scratch.truncate(mark);
                    }
                    outs.push(outcome.map_err(DurableError::from));
                }
                all.push(outs);
            }
            if records > 0 && self.durability != Durability::None {
                journal.append(scratch, records)?;
                stats.batches += 1;
                stats.records += records;
            }
            Ok((records, all))
        })();
        let unlocked = journal.storage().unlock();
        let out = result?;
        unlocked?;
        Ok(out)
    }

    /// Read the ledger (after applying what other processes appended). The view may
    /// include commands of a batch whose sync is still running: never acknowledged,
    /// but visible.
    pub fn read<R>(&self, f: impl FnOnce(&Ledger) -> R) -> Result<R, DurableError> {
        if let Some(cause) = &self.queue.lock().poisoned {
            return Err(poisoned(cause));
        }
        let mut st = self.lock();
        if self.durability != Durability::None {
            self.current(&mut st, |_, _| Ok(()))?;
        }
        Ok(f(&st.ledger))
    }

    /// Under the journal's lock, apply what other processes appended, then run `f`.
    /// A failure poisons: memory and the file may disagree (a failed tail, its cut
    /// or sync, or a compaction whose rename is not known to be durable).
    fn current<R>(
        &self,
        st: &mut State<S>,
        f: impl FnOnce(&mut Ledger, &mut Journal<S>) -> Result<R, JournalError>,
    ) -> Result<R, JournalError> {
        let State {
            ledger,
            journal,
            stats,
            events,
            ..
        } = st;
        journal.storage().lock()?;
        let result = journal
            .tail(|e| apply_logged(ledger, events, e))
            .and_then(|n| {
                stats.tailed += n;
                f(ledger, journal)
            });
        let unlocked = journal.storage().unlock();
        match result {
            Ok(r) => {
                unlocked?;
                Ok(r)
            }
            Err(e) => {
                self.poison(&e.to_string());
                Err(e)
            }
        }
    }

    /// Retire the journal's records: replace the journal, atomically, by one that
    /// starts with the current state (every record, this and other processes'
    /// alike, applied first). Other handles on the same journal move to the new
    /// file when they next take its lock. A checkpoint beside it is removed: the
    /// compacted journal starts where it would.
    ///
    /// A failure poisons this handle, as a sync failure would (whether the new
    /// journal's rename became durable is not known); reopen to continue. The
    /// journal on disk is the old one or the new one, whole.
    pub fn compact(&self) -> Result<Compaction, DurableError> {
        if self.durability == Durability::None {
            return Err(DurableError::Rejected(Error::Misuse {
                field: "compact".into(),
                reason: "needs a journal (durability Full or Buffered)",
            }));
        }
        let mut st = self.lock();
        if let Some(cause) = &self.queue.lock().poisoned {
            return Err(poisoned(cause));
        }
        let c = self.current(&mut st, |ledger, journal| {
            let state = ledger.state_bytes();
            let before = journal.end();
            let records = journal.next_seq() - 1;
            journal.compact(&state)?;
            Ok(Compaction {
                records,
                bytes_before: before,
                bytes_after: journal.end(),
            })
        })?;
        drop(st);
        if let Some(path) = &self.path {
            match std::fs::remove_file(checkpoint::path_for(path)) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => {
                    return Err(JournalError::Io(e).into())
                }
                _ => {}
            }
        }
        Ok(c)
    }

    /// Up to `limit` events with seq greater than `after`, in order (after applying
    /// what other processes appended). Recent events come from memory; older ones
    /// are regenerated by replaying the journal file, which takes a while on a long
    /// journal. Events before a compaction's base are gone: asking for them is an
    /// error, as it is on a ledger without a journal file once they left memory.
    ///
    /// ```
    /// use kontingent::{Action, Command, Durability, DurableLedger, storage::MemoryStorage};
    /// let (l, _) = DurableLedger::open_storage(MemoryStorage::new(), Durability::None).unwrap();
    /// l.submit(Command::new(0, Action::DefinePool { pool: "p".into(), capacity: 2 })).unwrap();
    /// l.submit(Command::new(0, Action::SetCapacity { pool: "p".into(), capacity: 3 })).unwrap();
    /// let events = l.events_after(1, 100).unwrap();
    /// assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![2]);
    /// ```
    pub fn events_after(&self, after: u64, limit: usize) -> Result<Vec<Event>, DurableError> {
        if let Some(cause) = &self.queue.lock().poisoned {
            return Err(poisoned(cause));
        }
        let mut st = self.lock();
        if self.durability != Durability::None {
            self.current(&mut st, |_, _| Ok(()))?;
        }
        let next = st.ledger.seq() + 1;
        st.events.activate(next);
        if let Some(events) = st.events.after(after, limit) {
            return Ok(events);
        }
        let last = st.ledger.seq();
        drop(st);
        let gone = |reason| {
            Err(DurableError::Rejected(Error::Misuse {
                field: "after".into(),
                reason,
            }))
        };
        let Some(path) = &self.path else {
            return gone("events that old are no longer kept in memory");
        };
        // Regenerate from the journal, read-only, up to what this handle has seen.
        let mut replayed = Ledger::new();
        let mut out = Vec::new();
        let mut retired = false;
        Journal::scan(
            FileStorage::open(path).map_err(JournalError::from)?,
            |entry| {
                if let Entry::Base { .. } = entry {
                    journal::apply_entry(&mut replayed, entry)?;
                    retired = replayed.seq() > after;
                    return Ok(());
                }
                if out.len() >= limit || replayed.seq() >= last {
                    return Ok(());
                }
                journal::apply_entry_with(&mut replayed, entry, |e| {
                    if e.seq > after && e.seq <= last && out.len() < limit {
                        out.push(e.clone());
                    }
                })
            },
        )?;
        if retired {
            return gone("events before the journal's compaction base were retired");
        }
        Ok(out)
    }

    /// This handle's counters since it was opened (other processes' records count
    /// only as `tailed`).
    pub fn stats(&self) -> Stats {
        let mut s = self.lock().stats;
        s.syncs = self.sync.lock().syncs;
        s
    }

    /// True after a write or sync failure; reopen to continue.
    pub fn is_poisoned(&self) -> bool {
        self.queue.lock().poisoned.is_some()
    }
}

/// What [`DurableLedger::compact`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Compaction {
    /// Records retired into the journal's base state.
    pub records: u64,
    /// Journal length in bytes before.
    pub bytes_before: u64,
    /// Journal length in bytes after: the 64-byte header and the base state (the
    /// same as before if there were no records to retire).
    pub bytes_after: u64,
}

/// Answers a leader's callers if the leader unwinds (a bug elsewhere): the ledger is
/// poisoned, every caller of the batch gets `Poisoned`, and leadership is handed on
/// if it had not been yet, so nobody waits forever.
struct Abandon<'a, S: Storage> {
    ledger: &'a DurableLedger<S>,
    slots: Vec<(Arc<Slot>, usize)>,
    handed_off: bool,
    done: bool,
}

impl<S: Storage> Drop for Abandon<'_, S> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let cause = "a panic while writing a batch";
        self.ledger.poison(cause);
        for (slot, n) in &self.slots {
            slot.set(Turn::Done((0..*n).map(|_| Err(poisoned(cause))).collect()));
        }
        if !self.handed_off {
            let mut q = self.ledger.queue.lock();
            match q.pending.first() {
                Some(next) => next.slot.set(Turn::Lead),
                None => q.leading = false,
            }
        }
    }
}

fn poisoned_journal(cause: &str) -> JournalError {
    JournalError::Poisoned {
        cause: cause.to_owned(),
    }
}

fn poisoned(cause: &str) -> DurableError {
    DurableError::Journal(JournalError::Poisoned {
        cause: cause.to_owned(),
    })
}
