//! Replay policy: what a journal's entries do to a ledger. The journal reads and
//! checks bytes; this decides that a base state replaces the ledger and a command
//! is applied, and which events are kept.

use crate::event_log::EventLog;
use crate::journal::{Entry, EntryError, Journal, JournalError};
use crate::storage::Storage;
use crate::{Event, Ledger};

/// Replay one entry into `ledger`: a base state replaces it, a command is applied.
pub fn apply_entry(ledger: &mut Ledger, entry: Entry<'_>) -> Result<(), EntryError> {
    apply_entry_with(ledger, entry, |_| {})
}

/// [`apply_entry`], passing each event a command emits to `seen`.
pub fn apply_entry_with(
    ledger: &mut Ledger,
    entry: Entry<'_>,
    seen: impl FnMut(&Event),
) -> Result<(), EntryError> {
    match entry {
        Entry::Base { state, .. } => {
            *ledger = Ledger::from_state_bytes(state)?;
            Ok(())
        }
        Entry::Command(cmd) => {
            let applied = ledger.apply(cmd)?;
            applied.events.iter().for_each(seen);
            Ok(())
        }
    }
}

/// Apply a replayed entry, keeping its events (a base state restarts the window).
pub(super) fn apply_logged(
    ledger: &mut Ledger,
    log: &mut EventLog,
    entry: Entry<'_>,
) -> Result<(), EntryError> {
    let base = matches!(entry, Entry::Base { .. });
    apply_entry_with(ledger, entry, |e| log.extend(std::slice::from_ref(e)))?;
    if base {
        log.restart(ledger.seq() + 1);
    }
    Ok(())
}

/// What replaying a journal from the start says about the events after `after`.
pub(super) enum Regenerated {
    /// Up to `limit` of them, in order.
    Events(Vec<Event>),
    /// A compaction retired some: the journal starts with a base state past
    /// `after`. `events` are the first of those after the base.
    Retired {
        /// Up to `limit` events after the base, in order.
        events: Vec<Event>,
    },
}

/// Replay a journal read-only into a scratch ledger, collecting up to `limit`
/// events with seq in `after + 1 ..= last` (what the asking handle has seen).
pub(super) fn events_between<S: Storage>(
    storage: S,
    after: u64,
    last: u64,
    limit: usize,
) -> Result<Regenerated, JournalError> {
    let mut replayed = Ledger::new();
    let mut out = Vec::new();
    let mut retired = false;
    Journal::scan(storage, |entry| {
        if let Entry::Base { .. } = entry {
            apply_entry(&mut replayed, entry)?;
            retired = replayed.seq() > after;
            return Ok(());
        }
        if out.len() >= limit || replayed.seq() >= last {
            return Ok(());
        }
        apply_entry_with(&mut replayed, entry, |e| {
            if e.seq > after && e.seq <= last && out.len() < limit {
                out.push(e.clone());
            }
        })
    })?;
    Ok(if retired {
        Regenerated::Retired { events: out }
    } else {
        Regenerated::Events(out)
    })
}
