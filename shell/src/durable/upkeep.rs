//! Keeping a long-lived journal quick to open: checkpoints beside it, and
//! compaction, which retires its records into a base state.

use super::{Durability, DurableError, DurableLedger};
use crate::checkpoint;
use crate::journal::JournalError;
use crate::storage::{FileStorage, Storage};
use std::io;
use std::sync::atomic::Ordering;

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

impl DurableLedger<FileStorage> {
    /// Write a checkpoint beside the journal: the whole state at the last record
    /// this handle has applied, made durable first. A restart then replays only
    /// the records after it. Returns the number of records it covers.
    pub fn checkpoint(&self) -> Result<u64, DurableError> {
        self.poisoned()?;
        let (Some(path), Durability::Full | Durability::Buffered) = (&self.path, self.durability)
        else {
            return Err(DurableError::misuse(
                "checkpoint",
                "needs a journal file (durability Full or Buffered)",
            ));
        };
        let c = {
            let st = self.lock();
            self.poisoned()?;
            // Only what is durable may be checkpointed: sync everything written,
            // through the one sync path (a failure there poisons the ledger).
            let end = st.journal.next_seq() - 1;
            self.written.fetch_max(end, Ordering::AcqRel);
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
    /// Retire the journal's records: replace the journal, atomically, by one that
    /// starts with the current state (every record, this and other processes'
    /// alike, applied first). Other handles on the same journal move to the new
    /// file when they next take its lock. A checkpoint beside it is removed: the
    /// compacted journal starts where it would.
    ///
    /// Refused (`misuse`) while a consumer has not acked every event: the
    /// retired records could no longer give it the events it is owed.
    ///
    /// A failure poisons this handle, as a sync failure would (whether the new
    /// journal's rename became durable is not known); reopen to continue. The
    /// journal on disk is the old one or the new one, whole.
    pub fn compact(&self) -> Result<Compaction, DurableError> {
        if self.durability == Durability::None {
            return Err(DurableError::misuse(
                "compact",
                "needs a journal (durability Full or Buffered)",
            ));
        }
        let mut st = self.lock();
        self.poisoned()?;
        let mut behind = false;
        let c = self.current(&mut st, |ledger, journal| {
            // Retired records can no longer give their events: a consumer that
            // has not finished them would never be given them.
            if ledger.consumers().iter().any(|c| c.cursor < ledger.seq()) {
                behind = true;
                return Ok(None);
            }
            let state = ledger.state_bytes();
            let before = journal.end();
            let records = journal.next_seq() - 1;
            journal.compact(&state)?;
            Ok(Some(Compaction {
                records,
                bytes_before: before,
                bytes_after: journal.end(),
            }))
        })?;
        drop(st);
        let Some(c) = c.filter(|_| !behind) else {
            return Err(DurableError::misuse(
                "compact",
                "a consumer has not acked every event (the consumers query shows which): compaction would retire events it is still to be given; let it catch up, or move its cursor with define_consumer's after",
            ));
        };
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
}
