//! [`DurableLedger`]: what a caller holds — submitting commands, reading the
//! ledger, its events and counters.

use super::error::poisoned;
use super::group_commit::{Queue, SyncState};
use super::replay::{self, apply_logged, Regenerated};
use super::timing::{Timing, Timings};
use super::{DurableError, Stats};
use crate::clock::Clock;
use crate::event_log::{EventLog, KEPT_DEFAULT};
use crate::journal::{Journal, JournalError, Recovery};
use crate::storage::{FileStorage, Storage};
use crate::{Action, Applied, Command, Event, Ledger, Millis};
use parking_lot::{Condvar, Mutex, MutexGuard};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

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

/// The ledger and its journal: held by the write leader while it applies and writes.
pub(super) struct State<S: Storage> {
    pub ledger: Ledger,
    pub journal: Journal<S>,
    /// The batch's framed records, reused from batch to batch.
    pub scratch: Vec<u8>,
    pub stats: Stats,
    /// Recent events, for `events_after`.
    pub events: EventLog,
    /// Older events regenerated for a consumer that is behind `events`: one replay
    /// of the journal serves it many pages, instead of one replay per page.
    pub older: Option<EventLog>,
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
    pub(super) state: Mutex<State<S>>,
    pub(super) queue: Mutex<Queue>,
    pub(super) sync: Mutex<SyncState>,
    pub(super) synced: Condvar,
    /// Last record sequence number written (by this or another process).
    pub(super) written: AtomicU64,
    pub(super) durability: Durability,
    pub(super) recovery: Recovery,
    /// The journal file, when there is one (checkpoints are written beside it).
    pub(super) path: Option<std::path::PathBuf>,
    /// What "now" is for commands submitted without a time.
    pub(super) clock: Arc<dyn Clock>,
}

impl<S: Storage> DurableLedger<S> {
    pub(super) fn lock(&self) -> MutexGuard<'_, State<S>> {
        self.state.lock()
    }

    /// The poison cause, if this handle is poisoned.
    pub(super) fn poisoned(&self) -> Result<(), DurableError> {
        match &self.queue.lock().poisoned {
            Some(cause) => Err(poisoned(cause)),
            None => Ok(()),
        }
    }

    /// What recovery found when this ledger was opened.
    pub fn recovery(&self) -> &Recovery {
        &self.recovery
    }

    /// Apply one command; returns once its record is durable (per [`Durability`]).
    pub fn submit(&self, cmd: Command) -> Result<Applied, DurableError> {
        let mut out = self.submit_batch(vec![cmd]);
        out.pop()
            .unwrap_or_else(|| Err(DurableError::misuse("batch", "empty")))
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
    /// [`SystemClock`](crate::clock::SystemClock)). Tests, examples and rehearsals
    /// pin it:
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

    /// Mark the ledger poisoned (memory may be ahead of the disk): nothing more is
    /// acknowledged, and no sync may report success for it. Shells call it when a
    /// call on the ledger panicked (a bug) and its state can no longer be trusted.
    pub fn poison(&self, cause: &str) {
        self.queue
            .lock()
            .poisoned
            .get_or_insert_with(|| cause.to_owned());
        self.sync
            .lock()
            .failed
            .get_or_insert_with(|| cause.to_owned());
    }

    /// The ledger's id, from its journal's header: the same in every process and
    /// on every server of one ledger (the first half of a notification's key).
    pub fn ledger_id(&self) -> [u8; 16] {
        self.lock().journal.ledger_id()
    }

    /// Read the ledger (after applying what other processes appended). The view may
    /// include commands of a batch whose sync is still running: never acknowledged,
    /// but visible.
    pub fn read<R>(&self, f: impl FnOnce(&Ledger) -> R) -> Result<R, DurableError> {
        self.poisoned()?;
        let mut st = self.lock();
        if self.durability != Durability::None {
            self.current(&mut st, |_, _| Ok(()))?;
        }
        Ok(f(&st.ledger))
    }

    /// Under the journal's lock, apply what other processes appended, then run `f`.
    /// A failure poisons: memory and the file may disagree (a failed tail, its cut
    /// or sync, or a compaction whose rename is not known to be durable).
    pub(super) fn current<R>(
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

    /// Up to `limit` events with seq greater than `after`, in order (after applying
    /// what other processes appended). Recent events come from memory; older ones
    /// are regenerated by replaying the journal (file or log) from the start, which
    /// takes a while on a long journal. Events before a compaction's base are gone: asking for them is an
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
        Ok(self.events_and_end(after, limit, false)?.0)
    }

    /// Like [`DurableLedger::events_after`], but returns only once every event it
    /// returns is durable (with [`Durability::Full`]): what a consumer is given,
    /// since an e-mail sent for a confirmation that a failed sync then loses
    /// would confirm a unit that does not exist. (A read may otherwise see a
    /// batch whose sync is still running.)
    pub fn durable_events_after(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<Event>, DurableError> {
        // A consumer whose cursor is before a compaction's base (defined after it,
        // or moved back past it) is given what exists: the events after the base.
        let (events, end) = self.events_and_end(after, limit, true)?;
        if self.durability == Durability::Full && !events.is_empty() {
            // Records tailed from another process are written too, by it; syncing
            // this handle's file covers them (and PostgreSQL's are committed).
            self.written.fetch_max(end, Ordering::AcqRel);
            self.wait_durable(end)?;
        }
        Ok(events)
    }

    /// Keep regenerated events for the consumer's next pages; the first `limit`.
    fn keep_older(&self, events: Vec<Event>, limit: usize) -> Vec<Event> {
        let first: Vec<Event> = events.iter().take(limit).cloned().collect();
        if let Some(last) = events.last() {
            let mut older = EventLog::new(events[0].seq, KEPT_DEFAULT);
            older.extend(&events);
            debug_assert_eq!(older.after(last.seq, 1).map(|v| v.len()), Some(0));
            self.lock().older = Some(older);
        }
        first
    }

    /// The events after `after`, and the last record the state they came from had;
    /// with `from_base`, events a compaction retired are skipped, not an error.
    fn events_and_end(
        &self,
        after: u64,
        limit: usize,
        from_base: bool,
    ) -> Result<(Vec<Event>, u64), DurableError> {
        self.poisoned()?;
        let mut st = self.lock();
        if self.durability != Durability::None {
            self.current(&mut st, |_, _| Ok(()))?;
        }
        let end = st.journal.next_seq() - 1;
        let next = st.ledger.seq() + 1;
        st.events.activate(next);
        if let Some(events) = st.events.after(after, limit) {
            return Ok((events, end));
        }
        if from_base {
            let kept = st.older.as_ref().and_then(|o| o.after(after, limit));
            if let Some(events) = kept.filter(|e| !e.is_empty()) {
                return Ok((events, end));
            }
        }
        let last = st.ledger.seq();
        let reader = st.journal.storage().reader();
        drop(st);
        let Some(open_reader) = reader else {
            return Err(DurableError::misuse(
                "after",
                "events that old are no longer kept in memory",
            ));
        };
        // Regenerate from a second handle on the journal, read-only, up to what this
        // handle has seen (for PostgreSQL, its own connection).
        let storage = open_reader().map_err(JournalError::from)?;
        let many = if from_base {
            limit.max(KEPT_DEFAULT)
        } else {
            limit
        };
        match replay::events_between(storage, after, last, many)? {
            Regenerated::Events(events) if from_base => Ok((self.keep_older(events, limit), end)),
            Regenerated::Retired { events } if from_base => {
                Ok((self.keep_older(events, limit), end))
            }
            Regenerated::Events(events) => Ok((events, end)),
            Regenerated::Retired { .. } => Err(DurableError::misuse(
                "after",
                "events before the journal's compaction base were retired",
            )),
        }
    }

    /// This handle's counters since it was opened (other processes' records count
    /// only as `tailed`).
    pub fn stats(&self) -> Stats {
        let mut s = self.lock().stats;
        let ss = self.sync.lock();
        s.syncs = ss.syncs;
        s.sync_micros = ss.sync_micros;
        s
    }

    /// True after a write or sync failure; reopen to continue.
    pub fn is_poisoned(&self) -> bool {
        self.queue.lock().poisoned.is_some()
    }
}
