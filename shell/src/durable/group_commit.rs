//! Group commit, leader/follower: callers queue their commands; the first caller
//! to find no leader becomes one, takes the whole queue, and under the storage
//! lock (an exclusive `flock`, so several processes can share one file) first
//! applies what other processes appended, then applies the queued commands in
//! order and appends their records in one write. It releases the lock and the
//! ledger's mutex, calls `fdatasync`, and only then hands every caller its
//! outcome. Callers arriving meanwhile queue up for the next batch, so a slow
//! disk makes batches larger, not latencies unbounded; there is no timer.
//!
//! With [`Durability::Full`] a batch is written only after the sync covering every
//! record before it returned (the next leader waits for it, under the storage lock,
//! and syncs what other processes appended too): so a power loss can tear only the
//! last batch, and recovery can tell that from damage to synced records.

use super::error::{poisoned, poisoned_journal};
use super::replay::apply_logged;
use super::step::{Record, Stepper};
use super::timing::Timings;
use super::{Durability, DurableError, DurableLedger, Histogram, State};
use crate::journal::JournalError;
use crate::storage::Storage;
use crate::{Applied, Command};
use parking_lot::{Condvar, Mutex};
use std::io;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Syncs the storage from whichever thread runs the sync.
pub(super) type Syncer = Box<dyn FnMut() -> io::Result<()> + Send>;
/// What a submitted command gets back: applied, or the error that stopped it.
type Answer = Result<Applied, DurableError>;

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

/// Callers waiting for a leader. Held only for a push or a swap, so callers never
/// wait behind a leader's write.
#[derive(Default)]
pub(super) struct Queue {
    pending: Vec<Pending>,
    /// True while some thread leads a batch.
    leading: bool,
    pub poisoned: Option<String>,
}

impl Queue {
    /// Wake the first caller queued to lead the next batch, or note that nobody leads.
    fn hand_on(&mut self) {
        match self.pending.first() {
            Some(next) => next.slot.set(Turn::Lead),
            None => self.leading = false,
        }
    }
}

/// Who syncs, and how far the disk is known to be durable.
pub(super) struct SyncState {
    /// Every record up to this sequence number is durable.
    pub synced: u64,
    /// A sync is running (outside every lock).
    pub syncing: bool,
    /// Set when a sync failed: nothing more is durable.
    pub failed: Option<String>,
    /// Taken by the thread that syncs.
    pub syncer: Option<Syncer>,
    pub syncs: u64,
    pub sync_micros: Histogram,
}

impl<S: Storage> DurableLedger<S> {
    /// Apply `cmds` in order and answer each, once durable (per [`Durability`]).
    pub(super) fn enqueue(&self, cmds: Vec<Command>, timings: Timings) -> Vec<Answer> {
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
    fn apply_directly(&self, cmds: Vec<Command>, timings: Timings) -> Vec<Answer> {
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
        scratch.clear();
        let mut stepper = Stepper {
            ledger,
            events,
            scratch,
        };
        cmds.into_iter()
            .enumerate()
            .map(|(i, mut cmd)| stepper.step(&mut cmd, timings.get(i), Record::Discard))
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
        self.written.fetch_max(end, Ordering::AcqRel);
        self.queue.lock().hand_on();
        guard.handed_off = true;
        let done = written.and_then(|results| {
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

    /// Block until every record up to `seq` is durable: if no sync is running,
    /// run one for everything written so far; otherwise wait for the running one
    /// and look again (it may have started before `seq` was written).
    pub(super) fn wait_durable(&self, seq: u64) -> Result<(), JournalError> {
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
            let target = self.written.load(Ordering::Acquire);
            let mut syncer = ss.syncer.take();
            drop(ss);
            let (r, took) = super::stats::timed(|| match syncer.as_mut() {
                Some(sync) => sync(),
                None => Err(io::Error::other("no syncer")),
            });
            ss = self.sync.lock();
            ss.syncer = syncer;
            ss.syncing = false;
            ss.syncs += 1;
            if let Some(micros) = took {
                ss.sync_micros.observe(micros);
            }
            match r {
                Ok(()) => ss.synced = ss.synced.max(target),
                Err(e) => ss.failed = Some(format!("fdatasync failed: {e}")),
            }
            self.synced.notify_all();
        }
    }

    /// Tail, apply and append one batch under the storage lock. Returns each
    /// caller's outcomes (to be replaced by `Poisoned` if the sync then fails).
    fn write_batch(
        &self,
        st: &mut State<S>,
        batch: &mut Vec<Pending>,
        answer_if_abandoned: &mut Vec<(Arc<Slot>, usize)>,
    ) -> Result<Vec<Vec<Answer>>, JournalError> {
        let State {
            ledger,
            journal,
            scratch,
            stats,
            events,
            ..
        } = st;
        journal.storage().lock()?;
        let result = (|| -> Result<Vec<Vec<Answer>>, JournalError> {
            if self.durability != Durability::None {
                let tailed = journal.tail(|e| apply_logged(ledger, events, e))?;
                stats.tailed += tailed;
            }
            if self.durability == Durability::Full {
                // A group commit is written only once every record before it is
                // durable (ours, and what other processes appended): recovery
                // relies on it to tell a torn group commit, whose pages reached
                // the disk out of order, from damage to synced records
                // (`docs/FORMAT.md`, decision table).
                let end = journal.next_seq() - 1;
                self.written.fetch_max(end, Ordering::AcqRel);
                self.wait_durable(end)?;
            }
            // Taking the storage lock (and waiting for that sync) may have waited
            // for other processes (flock, or PostgreSQL's lock) or the disk:
            // whoever queued meanwhile joins this batch, so one write and one sync
            // serve them too, instead of another turn.
            let late = std::mem::take(&mut self.queue.lock().pending);
            answer_if_abandoned.extend(late.iter().map(|p| (p.slot.clone(), p.cmds.len())));
            batch.extend(late);
            scratch.clear();
            let mut records = 0u64;
            let seq = journal.next_seq();
            let framing = journal.framing();
            let mut stepper = Stepper {
                ledger: &mut *ledger,
                events: &mut *events,
                scratch: &mut *scratch,
            };
            let mut all = Vec::with_capacity(batch.len());
            for p in batch.iter_mut() {
                let mut outs = Vec::with_capacity(p.cmds.len());
                for (i, cmd) in p.cmds.iter_mut().enumerate() {
                    let record = Record::Journal {
                        seq: seq + records,
                        // A batch of 2^32 records (over 80 GiB in one write) is not
                        // reachable; saturating keeps the frame well-formed anyway.
                        pos: u32::try_from(records).unwrap_or(u32::MAX),
                        framing,
                    };
                    let out = stepper.step(cmd, p.timings.get(i), record);
                    records += u64::from(out.is_ok());
                    outs.push(out);
                }
                all.push(outs);
            }
            if records > 0 && self.durability != Durability::None {
                journal.append(scratch, records)?;
                stats.batches += 1;
                stats.records += records;
                stats.batch_records.observe(records);
            }
            Ok(all)
        })();
        let unlocked = journal.storage().unlock();
        let out = result?;
        unlocked?;
        Ok(out)
    }
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
            self.ledger.queue.lock().hand_on();
        }
    }
}
