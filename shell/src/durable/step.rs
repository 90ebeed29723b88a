//! The one per-command step, shared by the group commit's batches and by a ledger
//! without a journal, so both answer every command alike.

use super::{DurableError, Timing};
use crate::event_log::EventLog;
use crate::journal;
use crate::{Action, Applied, Command, Ledger};

/// What becomes of a command's record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Record {
    /// Left framed at the end of the scratch buffer as record number `seq`, for
    /// the batch's one write.
    Journal {
        /// The sequence number the record carries.
        seq: u64,
        /// Its position in its group commit (records before it in the write).
        pos: u32,
        /// How the journal frames records.
        framing: journal::Framing,
    },
    /// Nothing is written; the command is framed only where framing can refuse it.
    Discard,
}

/// The ledger's parts one step touches.
pub(super) struct Stepper<'a> {
    pub ledger: &'a mut Ledger,
    pub events: &'a mut EventLog,
    /// Framed records of the batch so far (a refused command leaves nothing here).
    pub scratch: &'a mut Vec<u8>,
}

impl Stepper<'_> {
    /// Stamp `cmd`'s time, frame it, check that its record could be read back,
    /// apply it and keep its events. Only an accepted command leaves a record.
    pub fn step(
        &mut self,
        cmd: &mut Command,
        timing: Timing,
        record: Record,
    ) -> Result<Applied, DurableError> {
        cmd.at = timing.resolve(cmd.at, self.ledger.now());
        // Frame first: a command whose record could not be read back (too large)
        // is refused before it changes anything. Only a catalog can be too large
        // (every other command is bounded by `limits`), so without a journal only
        // a catalog is framed: the refusal is the same as with one.
        let mark = self.scratch.len();
        let framed = match record {
            Record::Journal { seq, pos, framing } => Some((seq, pos, framing)),
            Record::Discard => matches!(cmd.action, Action::LoadCatalog(_)).then_some((
                0,
                0,
                journal::Framing::default(),
            )),
        };
        if let Some((seq, pos, framing)) = framed {
            journal::frame(framing, seq, pos, cmd, self.scratch);
            if let Err(e) = journal::check_frame(framing, &self.scratch[mark..]) {
                self.scratch.truncate(mark);
                return Err(DurableError::Rejected(e));
            }
        }
        let applied = self.ledger.apply(cmd);
        if applied.is_err() || record == Record::Discard {
            self.scratch.truncate(mark);
        }
        let applied = applied?;
        self.events.extend(&applied.events);
        Ok(applied)
    }
}
