//! Opening a durable ledger: from a journal file (through its checkpoint, when one
//! fits) or from any storage.

use super::group_commit::{Queue, SyncState};
use super::replay::{self, apply_entry};
use super::{Durability, DurableLedger, Histogram, State, Stats};
use crate::checkpoint;
use crate::clock::SystemClock;
use crate::codec::DecodeError;
use crate::event_log::{EventLog, KEPT_DEFAULT};
use crate::journal::{CheckpointUnfit, Journal, JournalError, Recovery};
use crate::storage::{FileStorage, Storage};
use crate::Ledger;
use parking_lot::{Condvar, Mutex};
use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use thiserror::Error;

/// Why a checkpoint beside the journal was not used (the journal is replayed in
/// full); its text is [`Recovery::checkpoint_ignored`].
#[derive(Debug, Error)]
enum Ignored {
    /// The state inside it does not decode.
    #[error("the checkpoint's state does not decode: {0}")]
    State(DecodeError),
    /// It claims more records than can be numbered.
    #[error("the checkpoint's record count is out of range")]
    RecordCount,
    /// It does not fit the journal.
    #[error(transparent)]
    Unfit(#[from] CheckpointUnfit),
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
                Err(reason) => Some(reason.to_string()),
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
    /// until `events_after` is first called (the hot path then clones no events) —
    /// unless a consumer is owed some (see `keep_events_for_consumers`).
    fn keep_events_when_asked(&mut self) {
        let st = self.state.get_mut();
        if st.ledger.consumers().is_empty() {
            st.events = EventLog::dormant(st.ledger.seq() + 1, KEPT_DEFAULT);
        } else {
            self.keep_events_for_consumers();
        }
    }

    fn open_from_checkpoint(
        mut storage: FileStorage,
        c: &checkpoint::Checkpoint,
        durability: Durability,
    ) -> Result<Result<Self, Ignored>, JournalError> {
        let mut ledger = match Ledger::from_state_bytes(&c.state) {
            Ok(l) => l,
            Err(e) => return Ok(Err(Ignored::State(e))),
        };
        let Some(next_seq) = c.records.checked_add(1) else {
            return Ok(Err(Ignored::RecordCount));
        };
        storage.lock()?;
        let opened = Journal::open_after(storage, c.ledger_id, c.offset, next_seq, c.last, |e| {
            apply_entry(&mut ledger, e)
        })?;
        match opened {
            Err(unfit) => Ok(Err(unfit.into())),
            Ok((journal, recovery)) => {
                Ok(Ok(Self::from_parts(ledger, journal, recovery, durability)?))
            }
        }
    }
}

impl<S: Storage> DurableLedger<S> {
    /// A consumer behind its ledger after a restart (a mailer that was killed) will
    /// ask for the events after its cursor: regenerate them once now, in one replay,
    /// instead of once per page it asks for, and keep every later event.
    fn keep_events_for_consumers(&mut self) {
        let st = self.state.get_mut();
        let seq = st.ledger.seq();
        let Some(oldest) = st.ledger.consumers().iter().map(|c| c.cursor).min() else {
            return;
        };
        let from = oldest.max(seq.saturating_sub(KEPT_DEFAULT as u64));
        if st.events.after(from, 0).is_some() {
            return; // already kept (opened through `open_storage`)
        }
        let regenerated = match st.journal.storage().reader() {
            Some(open) if from < seq => open()
                .ok()
                .and_then(|r| replay::events_between(r, from, seq, KEPT_DEFAULT).ok()),
            _ => None,
        };
        match regenerated {
            Some(replay::Regenerated::Events(events) | replay::Regenerated::Retired { events }) => {
                st.events.seed(events)
            }
            // Nothing to regenerate, or it failed: asking will say so again.
            _ => st.events.activate(seq + 1),
        }
    }

    /// Open a journal on any storage and replay it; also returns what recovery found.
    pub fn open_storage(
        mut storage: S,
        durability: Durability,
    ) -> Result<(Self, Recovery), JournalError> {
        let mut ledger = Ledger::new();
        storage.lock()?;
        // Records average well over 48 bytes; sizing for that avoids rehashing.
        ledger.reserve_for((storage.len()? / 48).min(1 << 22) as usize);
        let opened = Journal::open(storage, |e| apply_entry(&mut ledger, e));
        let (journal, recovery) = opened?;
        let mut me = Self::from_parts(ledger, journal, recovery.clone(), durability)?;
        me.keep_events_for_consumers();
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
            older: None,
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
                sync_micros: Histogram::new(super::SYNC_MICROS),
            }),
            synced: Condvar::new(),
            written: AtomicU64::new(written),
            durability,
            recovery,
            path: None,
            clock: Arc::new(SystemClock),
        };
        Ok(me)
    }
}
