//! How a submitted command's time is set: as given, or from a clock reading that
//! must not go back behind the ledger's time.

use crate::Millis;

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
pub(super) enum Timings {
    All(Timing),
    Each(Vec<Timing>),
}

impl Timings {
    pub fn get(&self, i: usize) -> Timing {
        match self {
            Timings::All(t) => *t,
            Timings::Each(v) => v.get(i).copied().unwrap_or_default(),
        }
    }
}
