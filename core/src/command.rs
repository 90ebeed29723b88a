//! Commands: the only way to change a ledger. Each carries its logical time.

use crate::catalog::Catalog;
use crate::id::{ReservationId, WaitEntryId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Milliseconds since the Unix epoch, UTC. The ledger never reads a clock:
/// time is whatever the commands say, and it never goes backwards.
pub type Millis = u64;

/// One input to the state machine: what to do, and when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Command {
    /// Logical time of the command. Must not be older than the previous command's.
    pub at: Millis,
    pub action: Action,
}

impl Command {
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
    DefinePool { pool: String, capacity: u64 },
    /// Create an offer: one unit draws `amount` from each listed pool.
    /// An offer's draws never change afterwards, so a release always gives back
    /// exactly what was taken.
    DefineOffer {
        offer: String,
        draws: Vec<Draw>,
        #[serde(default)]
        waitlist: WaitlistPolicy,
    },
    /// Raise or lower a pool's capacity. Lowering never revokes a promise.
    SetCapacity { pool: String, capacity: u64 },
    /// Set the hold duration used when a request names none.
    SetDefaultHold { hold_ms: u64 },
    /// A customer's request.
    Reserve(Request),
    /// Turn a hold into a confirmed reservation.
    Confirm { reservation: ReservationId },
    /// Give a held or confirmed reservation's units back.
    Release { reservation: ReservationId },
    /// Take a waiting entry off its list.
    LeaveWaitlist { entry: WaitEntryId },
    /// Refuse every reservation request committed from now on (`paused`).
    Pause,
    /// Accept requests again, and hand freed units to the waiting lists.
    Resume,
    /// Advance time without a request (expires holds that are due).
    Tick,
}

/// One pool an offer draws from, per unit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draw {
    pub pool: String,
    pub amount: u64,
}

impl Draw {
    pub fn new(pool: impl Into<String>, amount: u64) -> Self {
        Draw {
            pool: pool.into(),
            amount,
        }
    }
}

/// What to do when the head of a waiting list does not fit but a later entry would.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum WaitlistPolicy {
    /// The head blocks the list until it fits: nobody overtakes.
    #[default]
    Strict,
    /// A later entry that fits is served; the head keeps its place.
    Skip,
}

/// One customer's request: all lines or none, unless `up_to` is set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// Idempotency key: repeating it returns the first outcome.
    pub request_id: String,
    pub customer: String,
    /// Sales channel, e.g. `web` or `phone`.
    #[serde(default = "default_channel")]
    pub channel: String,
    /// Free-form request attributes (e.g. a postal code) that rules may inspect.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    pub lines: Vec<LineRequest>,
    /// How long a hold lasts; `None` takes the ledger's default.
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

fn default_channel() -> String {
    "web".to_owned()
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

    pub fn line(mut self, offer: impl Into<String>, quantity: u64) -> Self {
        self.lines.push(LineRequest {
            offer: offer.into(),
            quantity,
        });
        self
    }

    pub fn channel(mut self, channel: impl Into<String>) -> Self {
        self.channel = channel.into();
        self
    }

    pub fn attribute(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.attributes.insert(key.into(), value.into());
        self
    }

    pub fn hold_ms(mut self, hold_ms: u64) -> Self {
        self.hold_ms = Some(hold_ms);
        self
    }

    pub fn confirm(mut self) -> Self {
        self.confirm = true;
        self
    }

    pub fn up_to(mut self) -> Self {
        self.up_to = true;
        self
    }

    pub fn waitlist(mut self) -> Self {
        self.waitlist = true;
        self
    }
}

/// One line of a request: so many units of an offer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineRequest {
    pub offer: String,
    pub quantity: u64,
}
