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

use crate::command::Command;
use crate::error::Error;
use crate::journal::{self, Journal, JournalError, Recovery};
use crate::ledger::{Applied, Ledger};
use crate::storage::{FileStorage, Storage};
use std::collections::BTreeMap;
use std::io;
use std::path::Path;
use std::sync::{Condvar, Mutex, MutexGuard};
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
pub enum LedgerError {
    /// The command is invalid; nothing changed.
    #[error(transparent)]
    Rejected(#[from] Error),
    /// The journal failed (I/O, poisoned, corrupted by another writer).
    #[error(transparent)]
    Journal(#[from] JournalError),
}

impl LedgerError {
    pub fn code(&self) -> &'static str {
        match self {
            LedgerError::Rejected(e) => e.code(),
            LedgerError::Journal(e) => e.code(),
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
type Outcome = Result<Applied, LedgerError>;

struct State<S: Storage> {
    ledger: Ledger,
    journal: Journal<S>,
    queue: Vec<(u64, Command)>,
    results: BTreeMap<u64, Outcome>,
    next_ticket: u64,
    leading: bool,
    poisoned: Option<String>,
    /// Taken by the leader while it syncs outside the lock.
    syncer: Option<Syncer>,
    scratch: Vec<u8>,
    stats: Stats,
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
    turn: Condvar,
    durability: Durability,
    recovery: Recovery,
}

impl Ledger {
    /// Open (or create) a ledger on a journal file: the embedded default.
    pub fn open(
        path: impl AsRef<Path>,
        durability: Durability,
    ) -> Result<DurableLedger<FileStorage>, JournalError> {
        DurableLedger::open(path, durability)
    }
}

impl DurableLedger<FileStorage> {
    /// Open (or create) a journal file and replay it.
    pub fn open(path: impl AsRef<Path>, durability: Durability) -> Result<Self, JournalError> {
        let existed = path.as_ref().exists();
        let storage = FileStorage::open(path)?;
        if !existed {
            storage.sync_dir()?;
        }
        Ok(Self::open_storage(storage, durability)?.0)
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
        let opened = Journal::open(storage, |cmd| {
            ledger.apply(&cmd).map(drop).map_err(|e| e.to_string())
        });
        let (mut journal, recovery) = opened?;
        journal.storage().unlock()?;
        let syncer = journal.storage().syncer()?;
        let state = State {
            ledger,
            journal,
            queue: Vec::new(),
            results: BTreeMap::new(),
            next_ticket: 0,
            leading: false,
            poisoned: None,
            syncer: Some(syncer),
            scratch: Vec::with_capacity(64 * 1024),
            stats: Stats::default(),
        };
        let me = DurableLedger {
            state: Mutex::new(state),
            turn: Condvar::new(),
            durability,
            recovery: recovery.clone(),
        };
        Ok((me, recovery))
    }

    fn lock(&self) -> MutexGuard<'_, State<S>> {
        // The state is only mutated by code that cannot panic midway on input;
        // a poisoned mutex means a bug elsewhere, and the ledger is poisoned anyway.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What recovery found when this ledger was opened.
    pub fn recovery(&self) -> &Recovery {
        &self.recovery
    }

    /// Apply one command; returns once its record is durable (per [`Durability`]).
    pub fn submit(&self, cmd: Command) -> Result<Applied, LedgerError> {
        let mut out = self.submit_batch(vec![cmd]);
        out.pop().unwrap_or_else(|| {
            Err(LedgerError::Rejected(Error::Misuse {
                field: "batch".into(),
                reason: "empty",
            }))
        })
    }

    /// Apply many commands in order with one journal write and sync (bulk imports,
    /// servers that batch themselves). Each gets its own result.
    pub fn submit_batch(&self, cmds: Vec<Command>) -> Vec<Result<Applied, LedgerError>> {
        let n = cmds.len() as u64;
        let mut st = self.lock();
        if let Some(cause) = &st.poisoned {
            let cause = cause.clone();
            return (0..n).map(|_| Err(poisoned(&cause))).collect();
        }
        let first = st.next_ticket;
        st.next_ticket += n;
        for (i, cmd) in cmds.into_iter().enumerate() {
            st.queue.push((first + i as u64, cmd));
        }
        let last = first + n;
        loop {
            if (first..last).all(|t| st.results.contains_key(&t)) {
                return (first..last)
                    .map(|t| {
                        st.results
                            .remove(&t)
                            .unwrap_or_else(|| Err(poisoned("lost")))
                    })
                    .collect();
            }
            if !st.leading {
                st = self.lead(st);
            } else {
                st = self.turn.wait(st).unwrap_or_else(|e| e.into_inner());
            }
        }
    }

    /// Run one batch as the leader. Called and returns with the lock held.
    fn lead<'a>(&'a self, mut st: MutexGuard<'a, State<S>>) -> MutexGuard<'a, State<S>> {
        st.leading = true;
        let batch = std::mem::take(&mut st.queue);
        let written = self.write_batch(&mut st, &batch);
        let mut syncer = st.syncer.take();
        let synced = match (&written, self.durability, syncer.as_mut()) {
            (Ok(records), Durability::Full, Some(sync)) if *records > 0 => {
                drop(st);
                let r = sync();
                st = self.lock();
                st.stats.syncs += 1;
                r.map_err(JournalError::from)
            }
            _ => Ok(()),
        };
        st.syncer = syncer;
        match written.and(synced) {
            Ok(_) => {}
            Err(e) => {
                let cause = e.to_string();
                st.poisoned = Some(cause.clone());
                // Nothing of this batch may be acknowledged, whatever it returned.
                for (ticket, _) in &batch {
                    st.results.insert(*ticket, Err(poisoned(&cause)));
                }
                for (ticket, _) in std::mem::take(&mut st.queue) {
                    st.results.insert(ticket, Err(poisoned(&cause)));
                }
            }
        }
        st.leading = false;
        self.turn.notify_all();
        st
    }

    /// Tail, apply and append one batch under the storage lock; outcomes go to
    /// `results` (to be replaced by `Poisoned` if the sync then fails).
    fn write_batch(
        &self,
        st: &mut State<S>,
        batch: &[(u64, Command)],
    ) -> Result<u64, JournalError> {
        let State {
            ledger,
            journal,
            results,
            scratch,
            stats,
            ..
        } = st;
        journal.storage().lock()?;
        let result = (|| -> Result<u64, JournalError> {
            if self.durability != Durability::None {
                let tailed =
                    journal.tail(|cmd| ledger.apply(&cmd).map(drop).map_err(|e| e.to_string()))?;
                stats.tailed += tailed;
            }
            scratch.clear();
            let mut records = 0u64;
            let seq = journal.next_seq();
            for (ticket, cmd) in batch {
                let outcome = ledger.apply(cmd);
                if outcome.is_ok() {
                    journal::frame(seq + records, cmd, scratch);
                    records += 1;
                }
                results.insert(*ticket, outcome.map_err(LedgerError::from));
            }
            if records > 0 && self.durability != Durability::None {
                journal.append(scratch, records)?;
                stats.batches += 1;
                stats.records += records;
            }
            Ok(records)
        })();
        let unlocked = journal.storage().unlock();
        let records = result?;
        unlocked?;
        Ok(records)
    }

    /// Read the ledger (after applying what other processes appended). The view may
    /// include commands of a batch whose sync is still running: never acknowledged,
    /// but visible.
    pub fn read<R>(&self, f: impl FnOnce(&Ledger) -> R) -> Result<R, LedgerError> {
        let mut st = self.lock();
        if let Some(cause) = &st.poisoned {
            return Err(poisoned(cause));
        }
        if self.durability != Durability::None && !st.leading {
            let State {
                ledger,
                journal,
                stats,
                ..
            } = &mut *st;
            journal.storage().lock().map_err(JournalError::from)?;
            let tailed =
                journal.tail(|cmd| ledger.apply(&cmd).map(drop).map_err(|e| e.to_string()));
            journal.storage().unlock().map_err(JournalError::from)?;
            stats.tailed += tailed?;
        }
        Ok(f(&st.ledger))
    }

    pub fn stats(&self) -> Stats {
        self.lock().stats
    }

    /// True after a write or sync failure; reopen to continue.
    pub fn is_poisoned(&self) -> bool {
        self.lock().poisoned.is_some()
    }
}

fn poisoned(cause: &str) -> LedgerError {
    LedgerError::Journal(JournalError::Poisoned {
        cause: cause.to_owned(),
    })
}
