//! One ledger handle over any storage, the way a binding or server holds it:
//! a journal file, memory, or a storage the host cannot name (PostgreSQL, a
//! JavaScript file), with times given as [`At`] and errors as the shell's own.

use super::{ErrorInfo, Query};
use crate::storage::{MemoryStorage, Storage};
use crate::{
    Action, Applied, Command, Compaction, Delta, Durability, DurableError, DurableLedger, Error,
    Event, JournalError, Ledger, Millis, Outcome, Recovery, Request, Stats, Timing,
};

/// Every durability's name, as [`durability_from_name`] takes them.
pub const DURABILITY_NAMES: &[&str] = &["full", "buffered", "none"];

/// The durability called `name` (`full`, `buffered` or `none`).
///
/// ```
/// use kontingent::{host::durability_from_name, Durability};
/// assert_eq!(durability_from_name("full").unwrap(), Durability::Full);
/// assert_eq!(durability_from_name("fast").unwrap_err().code, "invalid_input");
/// ```
pub fn durability_from_name(name: &str) -> Result<Durability, ErrorInfo> {
    match name {
        "full" => Ok(Durability::Full),
        "buffered" => Ok(Durability::Buffered),
        "none" => Ok(Durability::None),
        other => Err(ErrorInfo::invalid_input(
            "durability",
            format!("{other:?} is not one of {}", DURABILITY_NAMES.join(", ")),
        )),
    }
}

/// When a command or query happens, as a binding was given it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum At {
    /// No time given: the handle's clock, read now ([`Timing::Clock`]).
    Now,
    /// Exactly this time ([`Timing::Exact`]): older than the ledger is an error.
    Exact(Millis),
    /// A reading of a clock that lives in the binding's language: the ledger's
    /// own time may overtake it ([`Timing::Clock`]).
    Clock(Millis),
}

impl At {
    /// From a binding's optional time and its "this is a clock reading" flag.
    pub fn new(at: Option<Millis>, clocked: bool) -> At {
        match (at, clocked) {
            (None, _) => At::Now,
            (Some(at), false) => At::Exact(at),
            (Some(at), true) => At::Clock(at),
        }
    }
}

enum Store {
    #[cfg(unix)]
    File(DurableLedger<crate::storage::FileStorage>),
    Memory(DurableLedger<MemoryStorage>),
    Other(DurableLedger<Box<dyn Storage>>),
}

macro_rules! each {
    ($store:expr, $l:ident => $body:expr) => {
        match $store {
            #[cfg(unix)]
            Store::File($l) => $body,
            Store::Memory($l) => $body,
            Store::Other($l) => $body,
        }
    };
}

/// A durable ledger on a journal file, in memory, or on any other storage,
/// behind one type: what every binding and the server hold.
///
/// ```
/// use kontingent::host::{At, HostLedger, Query, QueryArgs};
/// use kontingent::{Action, Durability};
/// let ledger = HostLedger::in_memory(Durability::None).unwrap();
/// ledger.submit(At::Exact(0), Action::DefinePool { pool: "p".into(), capacity: 3 }).unwrap();
/// let pools = ledger.query(&Query::Pools, At::Now).unwrap();
/// assert_eq!(pools[0]["capacity"], 3);
/// ```
pub struct HostLedger {
    store: Store,
}

impl HostLedger {
    /// Open (or create) a journal file and replay it (with its checkpoint).
    #[cfg(unix)]
    pub fn open_file(
        path: impl AsRef<std::path::Path>,
        durability: Durability,
    ) -> Result<Self, JournalError> {
        Ok(HostLedger {
            store: Store::File(DurableLedger::open(path, durability)?),
        })
    }

    /// A ledger in memory: nothing survives the process.
    pub fn in_memory(durability: Durability) -> Result<Self, JournalError> {
        let (l, _) = DurableLedger::open_storage(MemoryStorage::new(), durability)?;
        Ok(HostLedger {
            store: Store::Memory(l),
        })
    }

    /// A journal on `storage` (PostgreSQL, a JavaScript file...), replayed.
    pub fn on_storage(
        storage: impl Storage + 'static,
        durability: Durability,
    ) -> Result<Self, JournalError> {
        let boxed: Box<dyn Storage> = Box::new(storage);
        let (l, _) = DurableLedger::open_storage(boxed, durability)?;
        Ok(HostLedger {
            store: Store::Other(l),
        })
    }

    /// Use `clock` for [`At::Now`] (the default is the system clock).
    pub fn with_clock(self, clock: impl crate::clock::Clock + 'static) -> Self {
        let store = match self.store {
            #[cfg(unix)]
            Store::File(l) => Store::File(l.with_clock(clock)),
            Store::Memory(l) => Store::Memory(l.with_clock(clock)),
            Store::Other(l) => Store::Other(l.with_clock(clock)),
        };
        HostLedger { store }
    }

    /// False for a ledger in memory: a command never waits for a disk or a
    /// server, so a binding need not give up its interpreter lock for it.
    pub fn waits(&self) -> bool {
        !matches!(self.store, Store::Memory(_))
    }

    /// A time and how it resolves against the ledger's own (`Timing::resolve`).
    fn reading(&self, at: At) -> (Millis, Timing) {
        match at {
            At::Now => (each!(&self.store, l => l.clock().now_ms()), Timing::Clock),
            At::Exact(at) => (at, Timing::Exact),
            At::Clock(at) => (at, Timing::Clock),
        }
    }

    /// Apply one action at `at`; returns once it is durable.
    pub fn submit(&self, at: At, action: Action) -> Result<Applied, DurableError> {
        let (at, timing) = self.reading(at);
        each!(&self.store, l => l.submit_timed(Command::new(at, action), timing))
    }

    /// Apply many actions, each at its own time, as one batch: one journal write
    /// and one sync. Each gets its own answer, in order.
    pub fn submit_batch(&self, batch: Vec<(At, Action)>) -> Vec<Result<Applied, DurableError>> {
        let cmds = batch
            .into_iter()
            .map(|(at, action)| {
                let (at, timing) = self.reading(at);
                (Command::new(at, action), timing)
            })
            .collect();
        each!(&self.store, l => l.submit_batch_timed(cmds))
    }

    /// Read the ledger as it is now (what every query does).
    pub fn read<R>(&self, f: impl FnOnce(&Ledger) -> R) -> Result<R, DurableError> {
        each!(&self.store, l => l.read(f))
    }

    /// Read the ledger at the time `at` resolves to: a read at a time uses the
    /// same rule as a command at it.
    fn read_at<R>(&self, at: At, f: impl FnOnce(&Ledger, Millis) -> R) -> Result<R, DurableError> {
        let (at, timing) = self.reading(at);
        self.read(|l| f(l, timing.resolve(at, l.now())))
    }

    /// What `request` would get at `at`, changing nothing.
    pub fn preview(&self, request: &Request, at: At) -> Result<Outcome, DurableError> {
        Ok(self.read_at(at, |l, at| l.preview(request, at))??)
    }

    /// The answer to `query`, at `at` where the query depends on a time.
    pub fn query(&self, query: &Query, at: At) -> Result<serde_json::Value, DurableError> {
        Ok(self.read_at(at, |l, at| query.answer(l, at))??)
    }

    /// The journal header's ledger id.
    pub(super) fn ledger_id_bytes(&self) -> [u8; 16] {
        each!(&self.store, l => l.ledger_id())
    }

    /// Up to `limit` events after seq `after`, each durable (see
    /// [`DurableLedger::durable_events_after`]).
    pub(super) fn durable_events_after(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<Event>, DurableError> {
        each!(&self.store, l => l.durable_events_after(after, limit))
    }

    /// Up to `limit` events after seq `after`.
    pub fn events_after(&self, after: u64, limit: usize) -> Result<Vec<Event>, DurableError> {
        each!(&self.store, l => l.events_after(after, limit))
    }

    /// Up to `limit` availability deltas after seq `after` (what a browser
    /// mirror applies).
    pub fn deltas_after(&self, after: u64, limit: usize) -> Result<Vec<Delta>, DurableError> {
        Ok(self
            .events_after(after, limit)?
            .iter()
            .map(Delta::from_event)
            .collect())
    }

    /// Write a checkpoint beside the journal file; returns the records it covers.
    pub fn checkpoint(&self) -> Result<u64, DurableError> {
        match &self.store {
            #[cfg(unix)]
            Store::File(l) => l.checkpoint(),
            _ => Err(misuse("checkpoint", "needs a journal file")),
        }
    }

    /// Retire the journal's records into a base state.
    pub fn compact(&self) -> Result<Compaction, DurableError> {
        match &self.store {
            Store::Memory(_) => Err(misuse("compact", "needs a journal")),
            other => each!(other, l => l.compact()),
        }
    }

    /// What recovery found when this ledger was opened.
    pub fn recovery(&self) -> &Recovery {
        each!(&self.store, l => l.recovery())
    }

    /// True once a write or sync failed: nothing more is acknowledged; reopen.
    pub fn is_poisoned(&self) -> bool {
        each!(&self.store, l => l.is_poisoned())
    }

    /// Poison the ledger by hand: a call on it panicked and its memory can no
    /// longer be trusted. Nothing more is acknowledged; reopen.
    pub fn poison(&self, cause: &str) {
        each!(&self.store, l => l.poison(cause))
    }

    /// Counters for benchmarks and monitoring.
    pub fn stats(&self) -> Stats {
        each!(&self.store, l => l.stats())
    }
}

fn misuse(field: &str, reason: &'static str) -> DurableError {
    DurableError::Rejected(Error::Misuse {
        field: field.into(),
        reason,
    })
}
