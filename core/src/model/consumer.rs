//! Consumers: named readers of the event stream with a durable cursor.
//!
//! A notification (an e-mail, a webhook) must happen once even though the
//! process sending it can die between sending and remembering that it sent.
//! The ledger cannot make the send atomic, but it can make the *remembering*
//! durable and shared: a consumer's cursor moves only by a journaled command
//! (`ack`), so a restart, a replay, another process or another server on the
//! PostgreSQL log all resume from the same place. Delivery is then
//! at-least-once, and [`NotificationKey`] lets a receiver make its effect
//! exactly-once.

use super::event::EventKind;
use serde::{Deserialize, Serialize};

/// The type of an event, as a consumer names the ones it wants: the `type`
/// tag of [`EventKind`] (`confirmed`, `promoted`...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    /// [`EventKind::CatalogLoaded`]
    CatalogLoaded,
    /// [`EventKind::PoolDefined`]
    PoolDefined,
    /// [`EventKind::OfferDefined`]
    OfferDefined,
    /// [`EventKind::CapacityChanged`]
    CapacityChanged,
    /// [`EventKind::DefaultHoldChanged`]
    DefaultHoldChanged,
    /// [`EventKind::Held`]
    Held,
    /// [`EventKind::Confirmed`]
    Confirmed,
    /// [`EventKind::Released`]
    Released,
    /// [`EventKind::Expired`]
    Expired,
    /// [`EventKind::WaitlistJoined`]
    WaitlistJoined,
    /// [`EventKind::WaitlistLeft`]
    WaitlistLeft,
    /// [`EventKind::Promoted`]
    Promoted,
    /// [`EventKind::Paused`]
    Paused,
    /// [`EventKind::Resumed`]
    Resumed,
}

impl EventType {
    /// Every type, in the order of [`EventKind`]'s variants (the bit order of a
    /// consumer's interest in the canonical state: never reorder, only add).
    pub const ALL: [EventType; 14] = [
        EventType::CatalogLoaded,
        EventType::PoolDefined,
        EventType::OfferDefined,
        EventType::CapacityChanged,
        EventType::DefaultHoldChanged,
        EventType::Held,
        EventType::Confirmed,
        EventType::Released,
        EventType::Expired,
        EventType::WaitlistJoined,
        EventType::WaitlistLeft,
        EventType::Promoted,
        EventType::Paused,
        EventType::Resumed,
    ];

    /// Its snake_case name, the `type` of the event's wire form.
    pub fn name(self) -> &'static str {
        match self {
            EventType::CatalogLoaded => "catalog_loaded",
            EventType::PoolDefined => "pool_defined",
            EventType::OfferDefined => "offer_defined",
            EventType::CapacityChanged => "capacity_changed",
            EventType::DefaultHoldChanged => "default_hold_changed",
            EventType::Held => "held",
            EventType::Confirmed => "confirmed",
            EventType::Released => "released",
            EventType::Expired => "expired",
            EventType::WaitlistJoined => "waitlist_joined",
            EventType::WaitlistLeft => "waitlist_left",
            EventType::Promoted => "promoted",
            EventType::Paused => "paused",
            EventType::Resumed => "resumed",
        }
    }

    /// The type called `name`, if any.
    pub fn from_name(name: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|t| t.name() == name)
    }

    /// Its bit in an [`Interest`].
    fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

impl EventKind {
    /// The type of this event, as consumers name it.
    pub fn event_type(&self) -> EventType {
        match self {
            EventKind::CatalogLoaded { .. } => EventType::CatalogLoaded,
            EventKind::PoolDefined { .. } => EventType::PoolDefined,
            EventKind::OfferDefined { .. } => EventType::OfferDefined,
            EventKind::CapacityChanged { .. } => EventType::CapacityChanged,
            EventKind::DefaultHoldChanged { .. } => EventType::DefaultHoldChanged,
            EventKind::Held { .. } => EventType::Held,
            EventKind::Confirmed { .. } => EventType::Confirmed,
            EventKind::Released { .. } => EventType::Released,
            EventKind::Expired { .. } => EventType::Expired,
            EventKind::WaitlistJoined { .. } => EventType::WaitlistJoined,
            EventKind::WaitlistLeft { .. } => EventType::WaitlistLeft,
            EventKind::Promoted { .. } => EventType::Promoted,
            EventKind::Paused => EventType::Paused,
            EventKind::Resumed => EventType::Resumed,
        }
    }
}

/// The set of event types a consumer wants, as bits (one per [`EventType`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Interest(u32);

impl Interest {
    /// The set of `types`.
    pub fn of(types: &[EventType]) -> Interest {
        Interest(types.iter().fold(0, |bits, t| bits | t.bit()))
    }

    /// From the canonical state's bits; `None` if a bit names no type.
    pub fn from_bits(bits: u32) -> Option<Interest> {
        let all = Interest::of(&EventType::ALL).0;
        (bits & !all == 0).then_some(Interest(bits))
    }

    /// The bits, as the canonical state stores them.
    pub fn bits(self) -> u32 {
        self.0
    }

    /// Whether an event of this kind is one the consumer wants.
    pub fn wants(self, kind: &EventKind) -> bool {
        self.0 & kind.event_type().bit() != 0
    }

    /// The types in the set, in [`EventType::ALL`] order.
    pub fn types(self) -> Vec<EventType> {
        EventType::ALL
            .into_iter()
            .filter(|t| self.0 & t.bit() != 0)
            .collect()
    }
}

/// A consumer as the ledger knows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumerView {
    /// Its name, 1..=64 bytes, e.g. `mailer` or `webhook:kitchen`.
    pub name: String,
    /// The event types it is given, in [`EventType::ALL`] order.
    pub events: Vec<EventType>,
    /// The last seq it has finished: it is given the wanted events after this.
    pub cursor: u64,
}

impl ConsumerView {
    /// Whether an event of this kind is one this consumer is given.
    ///
    /// ```
    /// use kontingent_core::{ConsumerView, EventKind, EventType};
    /// let mailer = ConsumerView { name: "mailer".into(), events: vec![EventType::Confirmed], cursor: 0 };
    /// assert!(!mailer.wants(&EventKind::Paused));
    /// ```
    pub fn wants(&self, kind: &EventKind) -> bool {
        Interest::of(&self.events).wants(kind)
    }
}

/// What a consumer is given by one `consume`: the events it names after its
/// cursor, in seq order, and `through`, the last seq looked at (acking it after
/// finishing the events moves past the ones it does not want as well).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Given {
    /// The events, at most the limit asked for.
    pub events: Vec<super::event::Event>,
    /// The last seq looked at: the last event's when the limit was reached, else
    /// the last seq of the stream read (the cursor when there was none).
    pub through: u64,
}

/// Gathers what a consumer is given from the events after its cursor, fed in
/// seq order (a shell reads them in chunks; the rule of what is given stays here).
///
/// ```
/// use kontingent_core::{ConsumerView, Event, EventKind, EventType};
/// let view = ConsumerView { name: "ops".into(), events: vec![EventType::Paused], cursor: 0 };
/// let mut g = view.gather(1);
/// assert!(g.push(Event { seq: 1, at: 0, kind: EventKind::Resumed }));
/// assert!(!g.push(Event { seq: 2, at: 0, kind: EventKind::Paused }));
/// let given = g.done();
/// assert_eq!((given.events.len(), given.through), (1, 2));
/// ```
#[derive(Clone, Debug)]
pub struct Gather {
    interest: Interest,
    limit: usize,
    given: Given,
}

impl ConsumerView {
    /// Start gathering at most `limit` (at least 1) events for this consumer.
    pub fn gather(&self, limit: usize) -> Gather {
        Gather {
            interest: Interest::of(&self.events),
            limit: limit.max(1),
            given: Given {
                events: Vec::new(),
                through: self.cursor,
            },
        }
    }
}

impl Gather {
    /// Look at the next event of the stream (`seq` one past the last one seen).
    /// False once the limit is reached: stop feeding.
    pub fn push(&mut self, event: super::event::Event) -> bool {
        if self.given.events.len() >= self.limit || event.seq <= self.given.through {
            return self.given.events.len() < self.limit;
        }
        self.given.through = event.seq;
        if self.interest.wants(&event.kind) {
            self.given.events.push(event);
        }
        self.given.events.len() < self.limit
    }

    /// What the consumer is given.
    pub fn done(self) -> Given {
        self.given
    }
}

/// The idempotency key of one notification: the ledger's id and the event's
/// seq. It is the same on every retry, after every restart and on every server
/// of one ledger, so a receiver that keeps the keys it has acted on turns
/// at-least-once delivery into an exactly-once effect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotificationKey<'a> {
    /// The ledger's id (the journal header's, as hex).
    pub ledger: &'a str,
    /// The event's seq.
    pub seq: u64,
}

impl std::fmt::Display for NotificationKey<'_> {
    /// `LEDGER-SEQ`, e.g. `9f0c…e1-42`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.ledger, self.seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{PoolId, ReservationId, Standing};

    /// Each type's name is the `type` tag serde writes for its event, and the
    /// bit order is the variant order.
    #[test]
    fn names_are_the_event_tags() {
        let kind = EventKind::Confirmed {
            reservation: ReservationId(1),
            from: Standing::New,
            pools: Default::default(),
            channel: 0,
        };
        let tag = serde_json::to_value(&kind).unwrap()["type"].clone();
        assert_eq!(tag, kind.event_type().name());
        assert_eq!(
            serde_json::to_value(EventType::Confirmed).unwrap(),
            "confirmed"
        );
        for (i, t) in EventType::ALL.iter().enumerate() {
            assert_eq!(*t as usize, i);
            assert_eq!(EventType::from_name(t.name()), Some(*t));
            let json = serde_json::to_value(t).unwrap();
            assert_eq!(json, t.name());
        }
        let _ = PoolId(0);
    }

    #[test]
    fn interest_is_a_set() {
        let i = Interest::of(&[
            EventType::Promoted,
            EventType::Confirmed,
            EventType::Confirmed,
        ]);
        assert_eq!(i.types(), vec![EventType::Confirmed, EventType::Promoted]);
        assert!(i.wants(&EventKind::Confirmed {
            reservation: ReservationId(1),
            from: Standing::Held,
            pools: Default::default(),
            channel: 0
        }));
        assert!(!i.wants(&EventKind::Paused));
        assert_eq!(Interest::from_bits(i.bits()), Some(i));
        assert_eq!(Interest::from_bits(1 << 20), None);
    }
}
