//! The compiled catalog: a whole campaign in absolute instants and explicit pools
//! and offers, as a `load_catalog` command carries it and the journal logs it.
//!
//! It is vocabulary, not the compiler: commands carry it, the ledger adopts it and
//! the state encoding stores it, none of which need to read a catalog file. The
//! compiler from files (`crate::catalog`) and the checks depend on this room, never
//! the other way round.

use super::consumer::EventType;
use super::definition::{Draw, WaitlistPolicy};
use super::time::Millis;
use serde::{Deserialize, Serialize};

/// A compiled campaign: what `Action::LoadCatalog` carries and the journal logs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalog {
    /// The campaign's `name` from the file; empty when it has none.
    #[serde(default)]
    pub name: String,
    /// IANA name the file's local times were read in (informational once compiled).
    #[serde(default)]
    pub time_zone: Option<String>,
    /// Hold duration in milliseconds for requests without `hold_ms` (`hold` in the
    /// file; 15 minutes when it has none).
    pub default_hold_ms: u64,
    /// Channels requests may use.
    pub channels: Vec<String>,
    /// The campaign's sales window.
    #[serde(default)]
    pub window: SalesWindow,
    /// Every pool: the file's in file order, then one per generated slot.
    pub pools: Vec<PoolSpec>,
    /// Every offer: the file's in file order, then one per generated slot.
    pub offers: Vec<OfferSpec>,
    /// Order-intake rules, checked in this order.
    #[serde(default)]
    pub rules: Vec<RuleSpec>,
    /// Consumers of the event stream the campaign declares (a mailer given
    /// `confirmed` and `promoted`): defined on load, their cursors kept on a change.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub consumers: Vec<ConsumerSpec>,
}

/// A consumer a catalog declares (`[[consumers]]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsumerSpec {
    /// Its name, 1..=64 bytes, unique among the catalog's consumers.
    pub name: String,
    /// The event types it is given, 1 or more, each once.
    pub events: Vec<EventType>,
}

/// A sales window `[opens_at, closes_at)`; either end may be open.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SalesWindow {
    /// First instant requests are accepted, in ms since the Unix epoch, UTC; `None`:
    /// open from the start.
    #[serde(default)]
    pub opens_at: Option<Millis>,
    /// First instant requests are refused `closed`, in ms since the Unix epoch, UTC;
    /// `None`: never closes.
    #[serde(default)]
    pub closes_at: Option<Millis>,
}

/// A pool as the catalog defines it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolSpec {
    /// Pool name (1..=64 bytes), unique among pools; for a slot, its generated name.
    pub name: String,
    /// Total units, at most 2^53 - 1; on a reload, the pool's new capacity.
    pub capacity: u64,
}

/// An offer as the catalog defines it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferSpec {
    /// Offer name (1..=64 bytes), unique among offers; for a slot, its generated name.
    pub name: String,
    /// Price of one unit in minor units (cents).
    #[serde(default)]
    pub price: u64,
    /// Units taken from each pool (by name) per unit of the offer: 1..=8 distinct
    /// pools. A reload may not change them.
    pub draws: Vec<Draw>,
    /// How its waiting list is served (`strict` when not given).
    #[serde(default)]
    pub waitlist: WaitlistPolicy,
    /// The offer's own sales window, checked after the campaign's.
    #[serde(default)]
    pub window: SalesWindow,
    /// Set for offers generated from a slot template.
    #[serde(default)]
    pub slot: Option<Slot>,
}

/// One generated delivery slot, in absolute instants.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    /// The template's name.
    pub template: String,
    /// When the slot starts, in ms since the Unix epoch, UTC; from then on it is
    /// refused `closed`.
    pub starts_at: Millis,
    /// When the slot ends, in ms since the Unix epoch, UTC (after `starts_at`).
    pub ends_at: Millis,
    /// Requests after `starts_at - lead_ms` are refused `lead_time`.
    #[serde(default)]
    pub lead_ms: Option<u64>,
    /// Requests at or after this instant (the cut-off time on the slot's local
    /// date, in ms since the Unix epoch, UTC) are refused `same_day_cutoff`.
    #[serde(default)]
    pub cutoff_at: Option<Millis>,
}

/// An order-intake rule and the offers it applies to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleSpec {
    /// Rule name (1..=64 bytes), unique among rules; refusals name it.
    pub name: String,
    /// Offer names the rule applies to; empty means every offer.
    #[serde(default)]
    pub offers: Vec<String>,
    /// What the rule checks; flattened, so `kind` and its fields sit beside `name`.
    #[serde(flatten)]
    pub kind: RuleKind,
}

/// The kinds of order-intake rule, tagged by `kind`, with their fields.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RuleKind {
    /// Held + confirmed, plus this request, must stay within `limit`.
    CustomerLimit {
        /// What is counted, and the most the customer may have of it.
        limit: Limit,
        /// Count each scoped offer separately (units and value limits only).
        #[serde(default)]
        per_offer: bool,
    },
    /// Bounds on the total units of the scoped lines, when the request has any.
    OrderSize {
        /// Fewest units allowed (at least 1); at least one of the two bounds is set.
        #[serde(default)]
        min_units: Option<u64>,
        /// Most units allowed (at least `min_units`).
        #[serde(default)]
        max_units: Option<u64>,
    },
    /// The scoped lines, when the request has any, must be worth at least `value`.
    MinOrderValue {
        /// Least sum of price × quantity of the scoped lines, in minor units (cents).
        value: u64,
    },
    /// The request must carry `attribute` with one of `values`, when it has scoped
    /// lines (a missing attribute is refused too).
    AllowedValues {
        /// The attribute's key (1..=32 bytes).
        attribute: String,
        /// The values accepted (each at most 256 bytes), compared exactly.
        values: Vec<String>,
    },
    /// `keep` units of `pool` are kept for `channel`.
    ChannelShare {
        /// Name of the pool the units are kept of.
        pool: String,
        /// The channel they are kept for; one of [`Catalog::channels`].
        channel: String,
        /// Units kept (at least 1); all shares of one pool together at most its capacity.
        keep: u64,
    },
}

/// What a customer limit measures.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Limit {
    /// Units of the scoped offers.
    Units(u64),
    /// Price × units of the scoped offers, in minor units.
    Value(u64),
    /// Amount drawn from one pool.
    PoolAmount {
        /// Name of the pool whose drawn amount is counted.
        pool: String,
        /// Most the customer may draw from it, in units of the pool.
        amount: u64,
    },
}

/// One problem, at a path into the compiled catalog (e.g. `offers[3].draws[0].pool`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issue {
    /// Dotted field path with indices; the file compiler maps it to the file's own path.
    pub path: String,
    /// What is wrong, e.g. `unknown pool "budegt"`.
    pub message: String,
}
