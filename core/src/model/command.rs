//! Commands: the only way to change a ledger. Each carries its logical time.
//!
//! Every change is a command so that the log of commands is the whole history:
//! the journal stores them, a replay applies them again, and the state is a pure
//! function of them.

use super::catalog::Catalog;
use super::consumer::EventType;
use super::definition::{Draw, WaitlistPolicy};
use super::ids::{ReservationId, WaitEntryId};
use super::time::Millis;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One input to the state machine: what to do, and when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Command {
    /// Logical time of the command, ms since the Unix epoch, UTC. Must not be older
    /// than the previous command's, nor later than [`crate::limits::TIMESTAMP_MAX`].
    pub at: Millis,
    /// What to do at `at`, after due holds have expired.
    pub action: Action,
}

impl Command {
    /// A command doing `action` at `at` (ms since the Unix epoch, UTC).
    pub fn new(at: Millis, action: Action) -> Self {
        Command { at, action }
    }
}

/// What a command does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Action {
    /// Load a compiled catalog, or change the loaded one (see `docs/CATALOG.md`):
    /// pools, offers, rules, windows, channels and the default hold.
    LoadCatalog(Box<Catalog>),
    /// Create a pool with a capacity.
    DefinePool {
        /// Its name, 1..=64 bytes, unique among pools.
        pool: String,
        /// How many units it can promise, at most `2^53 - 1`.
        capacity: u64,
    },
    /// Create an offer: one unit draws `amount` from each listed pool.
    /// An offer's draws never change afterwards, so a release always gives back
    /// exactly what was taken.
    DefineOffer {
        /// Its name, 1..=64 bytes, unique among offers.
        offer: String,
        /// 1..=8 draws, each on a different existing pool.
        draws: Vec<Draw>,
        /// How its waiting list is served; `strict` if omitted.
        #[serde(default)]
        waitlist: WaitlistPolicy,
    },
    /// Raise or lower a pool's capacity. Lowering never revokes a promise.
    SetCapacity {
        /// Name of the existing pool to change.
        pool: String,
        /// Its new capacity, in the pool's units, at most `2^53 - 1`.
        capacity: u64,
    },
    /// Set the hold duration used when a request names none.
    SetDefaultHold {
        /// The new default, in milliseconds, `1..=366` days.
        hold_ms: u64,
    },
    /// A customer's request.
    Reserve(Request),
    /// Turn a hold into a confirmed reservation.
    Confirm {
        /// The hold to confirm; it must exist before this command.
        reservation: ReservationId,
    },
    /// Give a held or confirmed reservation's units back.
    Release {
        /// The reservation to give back; it must exist before this command.
        reservation: ReservationId,
    },
    /// Take a waiting entry off its list.
    LeaveWaitlist {
        /// The waiting entry to remove, judged after time advances.
        entry: WaitEntryId,
    },
    /// Refuse every reservation request committed from now on (`paused`).
    Pause,
    /// Accept requests again, and hand freed units to the waiting lists.
    Resume,
    /// Advance time without a request (expires holds that are due).
    Tick,
    /// Declare a consumer of the event stream, or change which events it is given.
    /// Emits no event: consumers are bookkeeping, not inventory.
    DefineConsumer {
        /// Its name, 1..=64 bytes, e.g. `mailer` or `webhook:kitchen`.
        consumer: String,
        /// The event types it is given, 1 or more, each once.
        events: Vec<EventType>,
        /// Where its cursor starts: a new consumer starts at 0 (every event) unless
        /// this says otherwise; an existing one keeps its cursor unless this moves it
        /// (back, to be given events again, or forward, to skip them). At most the
        /// ledger's seq.
        #[serde(default)]
        after: Option<u64>,
    },
    /// A consumer has finished every event up to and including `seq`: its cursor
    /// moves there (never back; acking an older seq again changes nothing).
    /// Emits no event.
    Ack {
        /// The consumer, as defined.
        consumer: String,
        /// The last seq it finished, at most the ledger's seq.
        seq: u64,
    },
}

/// One customer's request: all lines or none, unless `up_to` is set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// Idempotency key: repeating it returns the first outcome.
    pub request_id: String,
    /// Who asks, 1..=128 bytes: customer limits count per customer.
    pub customer: String,
    /// Sales channel, e.g. `web` or `phone`, 1..=32 bytes; `web` if omitted.
    #[serde(default = "default_channel")]
    pub channel: String,
    /// Free-form request attributes (e.g. a postal code) that rules may inspect.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// What is asked for, 1..=32 lines; all are granted together or none.
    pub lines: Vec<LineRequest>,
    /// How long a hold lasts, in milliseconds (`1..=366` days); `None` takes the ledger's default.
    #[serde(default)]
    pub hold_ms: Option<u64>,
    /// Confirm directly instead of holding.
    #[serde(default)]
    pub confirm: bool,
    /// Partial fill: take up to the requested quantity. Only for one-line requests.
    #[serde(default)]
    pub up_to: bool,
    /// Join the offer's waiting list if sold out. Only for one-line requests.
    #[serde(default)]
    pub waitlist: bool,
}

impl Action {
    /// The stable snake_case name of what it does, the `type` of its wire form
    /// (shells count commands by it without building the JSON).
    pub fn kind(&self) -> &'static str {
        match self {
            Action::LoadCatalog(_) => "load_catalog",
            Action::DefinePool { .. } => "define_pool",
            Action::DefineOffer { .. } => "define_offer",
            Action::SetCapacity { .. } => "set_capacity",
            Action::SetDefaultHold { .. } => "set_default_hold",
            Action::Reserve(_) => "reserve",
            Action::Confirm { .. } => "confirm",
            Action::Release { .. } => "release",
            Action::LeaveWaitlist { .. } => "leave_waitlist",
            Action::Pause => "pause",
            Action::Resume => "resume",
            Action::Tick => "tick",
            Action::DefineConsumer { .. } => "define_consumer",
            Action::Ack { .. } => "ack",
        }
    }
}

/// The channel of a request that names none.
pub const DEFAULT_CHANNEL: &str = "web";

fn default_channel() -> String {
    DEFAULT_CHANNEL.to_owned()
}

impl Request {
    /// A request with no lines yet, on the `web` channel, held for the default duration.
    ///
    /// ```
    /// use kontingent_core::Request;
    /// let r = Request::new("req-1", "alice").line("voucher-20", 2).hold_ms(600_000);
    /// assert_eq!(r.lines.len(), 1);
    /// ```
    pub fn new(request_id: impl Into<String>, customer: impl Into<String>) -> Self {
        Request {
            request_id: request_id.into(),
            customer: customer.into(),
            channel: default_channel(),
            attributes: BTreeMap::new(),
            lines: Vec::new(),
            hold_ms: None,
            confirm: false,
            up_to: false,
            waitlist: false,
        }
    }

    /// Add a line: `quantity` units of `offer`.
    pub fn line(mut self, offer: impl Into<String>, quantity: u64) -> Self {
        self.lines.push(LineRequest {
            offer: offer.into(),
            quantity,
        });
        self
    }

    /// Set the sales channel (default `web`).
    pub fn channel(mut self, channel: impl Into<String>) -> Self {
        self.channel = channel.into();
        self
    }

    /// Set an attribute for the rules to inspect, replacing one of the same key.
    pub fn attribute(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.attributes.insert(key.into(), value.into());
        self
    }

    /// Hold for `hold_ms` milliseconds instead of the ledger's default.
    pub fn hold_ms(mut self, hold_ms: u64) -> Self {
        self.hold_ms = Some(hold_ms);
        self
    }

    /// Confirm directly instead of holding.
    pub fn confirm(mut self) -> Self {
        self.confirm = true;
        self
    }

    /// Accept a partial fill (one-line requests only).
    pub fn up_to(mut self) -> Self {
        self.up_to = true;
        self
    }

    /// Join the offer's waiting list if sold out (one-line requests only).
    pub fn waitlist(mut self) -> Self {
        self.waitlist = true;
        self
    }
}

/// One line of a request: so many units of an offer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineRequest {
    /// Name of the offer asked for.
    pub offer: String,
    /// Offer units asked for, `1..=1e9` (with `up_to`, the most wanted).
    pub quantity: u64,
}
