//! What a consumer is given, as every binding and the server hand it out: the
//! events after the consumer's cursor that it names, each with its
//! notification key, only once they are durable.
//!
//! Which events a consumer is given is the core's rule ([`ConsumerView::gather`]);
//! this room only reads the events in chunks and names the ledger for the keys.

use super::HostLedger;
use crate::limits::NAME_LEN_MAX;
use crate::{ConsumerView, DurableError, Error, Event, NotificationKey};
use serde::Serialize;

/// Events read from the journal per step while gathering (most are skipped by
/// a consumer that names few types).
const CHUNK: usize = 1024;

/// Most events one `consume` returns.
pub const CONSUME_LIMIT_MAX: usize = 10_000;

/// What one `consume` gave a consumer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Delivery {
    /// The consumer.
    pub consumer: String,
    /// The ledger's id, 32 hex digits: the first half of every key.
    pub ledger: String,
    /// The consumer's cursor when the events were read.
    pub cursor: u64,
    /// The events it names after its cursor, in seq order, durable, each with
    /// its key.
    pub notifications: Vec<Notification>,
    /// The last seq looked at: ack this once every event is done.
    pub through: u64,
}

/// One event to act on, and the idempotency key of acting on it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Notification {
    /// `LEDGER-SEQ` ([`NotificationKey`]): the same on every retry, restart and server.
    pub key: String,
    /// The event.
    pub event: Event,
    /// Whether what it announced still stands as the ledger is now
    /// ([`crate::Ledger::still_stands`]): a mailer skips a confirmation whose
    /// reservation was released meanwhile.
    pub current: bool,
}

/// A ledger id as the 32 hex digits keys use.
pub fn ledger_hex(id: [u8; 16]) -> String {
    id.iter().map(|b| format!("{b:02x}")).collect()
}

impl HostLedger {
    /// The ledger's id as 32 hex digits (the journal header's; the same in every
    /// process and on every server of one ledger).
    pub fn ledger_id(&self) -> String {
        ledger_hex(self.ledger_id_bytes())
    }

    /// One consumer as the ledger knows it, or `unknown_consumer`.
    pub fn consumer(&self, name: &str) -> Result<ConsumerView, DurableError> {
        if name.len() > NAME_LEN_MAX {
            return Err(DurableError::Rejected(Error::TooLong {
                field: "consumer".into(),
                len: name.len(),
                max: NAME_LEN_MAX,
            }));
        }
        self.read(|l| l.consumer(name))?.ok_or_else(|| {
            DurableError::Rejected(Error::UnknownConsumer {
                field: "consumer".into(),
                name: name.to_owned(),
            })
        })
    }

    /// Up to `limit` (1..=10,000) events `consumer` names after its cursor, each
    /// durable, and how far it looked. Nothing changes: ack `through` (or an
    /// event's seq) once the effects are done.
    ///
    /// ```
    /// use kontingent::host::{At, HostLedger};
    /// use kontingent::{Action, Durability, EventType};
    /// let l = HostLedger::in_memory(Durability::None).unwrap();
    /// l.submit(At::Exact(0), Action::DefineConsumer {
    ///     consumer: "ops".into(), events: vec![EventType::Paused], after: None }).unwrap();
    /// l.submit(At::Exact(0), Action::Pause).unwrap();
    /// let d = l.consume("ops", 10).unwrap();
    /// assert_eq!((d.notifications.len(), d.through), (1, 1));
    /// assert_eq!(d.notifications[0].key, format!("{}-1", l.ledger_id()));
    /// l.submit(At::Exact(0), Action::Ack { consumer: "ops".into(), seq: d.through }).unwrap();
    /// assert!(l.consume("ops", 10).unwrap().notifications.is_empty());
    /// ```
    pub fn consume(&self, consumer: &str, limit: usize) -> Result<Delivery, DurableError> {
        if limit == 0 || limit > CONSUME_LIMIT_MAX {
            return Err(DurableError::Rejected(Error::OutOfRange {
                field: "limit".into(),
                value: limit as u64,
                max: CONSUME_LIMIT_MAX as u64,
            }));
        }
        let view = self.consumer(consumer)?;
        let mut gather = view.gather(limit);
        let mut after = view.cursor;
        loop {
            let chunk = self.durable_events_after(after, CHUNK)?;
            let Some(last) = chunk.last() else { break };
            after = last.seq;
            let at_end = chunk.len() < CHUNK;
            if !chunk.into_iter().all(|e| gather.push(e)) || at_end {
                break;
            }
        }
        let given = gather.done();
        let ledger = self.ledger_id();
        let current = self.read(|l| {
            given
                .events
                .iter()
                .map(|e| l.still_stands(e))
                .collect::<Vec<_>>()
        })?;
        let notifications = given
            .events
            .into_iter()
            .zip(current)
            .map(|(event, current)| Notification {
                key: NotificationKey {
                    ledger: &ledger,
                    seq: event.seq,
                }
                .to_string(),
                event,
                current,
            })
            .collect();
        Ok(Delivery {
            consumer: view.name,
            ledger,
            cursor: view.cursor,
            notifications,
            through: given.through,
        })
    }
}
