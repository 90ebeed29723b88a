//! Consumers of the event stream: their definition, their cursors, and what a
//! reader asks about them.
//!
//! A cursor is part of the ledger's state (so it is journaled, replayed and
//! checkpointed like everything else) but not of what is for sale: consumer
//! commands emit no events and never appear in a snapshot or delta. That keeps
//! an ack from producing an event that some consumer would in turn be given.

use super::validate::check_len;
use super::Ledger;
use crate::limits::{CONSUMERS_MAX, NAME_LEN_MAX};
use crate::model::{ConsumerView, Error, Event, EventKind, EventType, Interest, ReservationState};

/// A consumer's state: what it wants and how far it has finished.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Consumer {
    pub interest: Interest,
    pub cursor: u64,
}

impl Ledger {
    /// Check a consumer's definition; its interest if valid.
    pub(super) fn validate_consumer(
        &self,
        field: &str,
        name: &str,
        events: &[EventType],
        after: Option<u64>,
    ) -> Result<Interest, Error> {
        check_len(field, name, NAME_LEN_MAX)?;
        if events.is_empty() {
            return Err(Error::Empty {
                field: "events".into(),
            });
        }
        for (i, t) in events.iter().enumerate() {
            if events[..i].contains(t) {
                return Err(Error::Duplicate {
                    field: format!("events[{i}]"),
                    name: t.name().into(),
                });
            }
        }
        if let Some(after) = after {
            self.check_seq("after", after)?;
        }
        if !self.consumers.contains_key(name) && self.consumers.len() >= CONSUMERS_MAX {
            return Err(Error::TooMany {
                field: "consumers".into(),
                count: self.consumers.len() + 1,
                max: CONSUMERS_MAX,
            });
        }
        Ok(Interest::of(events))
    }

    /// Check an ack: the consumer exists and the seq is not in the future.
    pub(super) fn validate_ack(&self, name: &str, seq: u64) -> Result<(), Error> {
        super::validate::check_max_at(|| "consumer".into(), name, NAME_LEN_MAX)?;
        if !self.consumers.contains_key(name) {
            return Err(Error::UnknownConsumer {
                field: "consumer".into(),
                name: name.to_owned(),
            });
        }
        self.check_seq("seq", seq)
    }

    /// A seq a caller may name: one the stream has reached (before this command's
    /// own time advance, whose events the caller cannot have seen).
    fn check_seq(&self, field: &str, seq: u64) -> Result<(), Error> {
        if seq > self.seq {
            return Err(Error::OutOfRange {
                field: field.into(),
                value: seq,
                max: self.seq,
            });
        }
        Ok(())
    }

    /// Define a consumer, or change an existing one's interest (and cursor, if
    /// `after` is given).
    pub(super) fn define_consumer(&mut self, name: &str, interest: Interest, after: Option<u64>) {
        match self.consumers.get_mut(name) {
            Some(c) => {
                c.interest = interest;
                if let Some(after) = after {
                    c.cursor = after;
                }
            }
            None => {
                self.consumers.insert(
                    name.to_owned(),
                    Consumer {
                        interest,
                        cursor: after.unwrap_or(0),
                    },
                );
            }
        }
    }

    /// Move a consumer's cursor forward to `seq` (never back).
    pub(super) fn ack(&mut self, name: &str, seq: u64) {
        if let Some(c) = self.consumers.get_mut(name) {
            c.cursor = c.cursor.max(seq);
        }
    }

    /// One consumer (`None` if no consumer has this name).
    ///
    /// ```
    /// use kontingent_core::{Action, Command, EventType, Ledger};
    /// let mut l = Ledger::new();
    /// l.apply(&Command::new(0, Action::DefineConsumer {
    ///     consumer: "mailer".into(), events: vec![EventType::Confirmed], after: None,
    /// })).unwrap();
    /// assert_eq!(l.consumer("mailer").unwrap().cursor, 0);
    /// ```
    pub fn consumer(&self, name: &str) -> Option<ConsumerView> {
        self.consumers.get(name).map(|c| view(name, c))
    }

    /// Every consumer, by name.
    pub fn consumers(&self) -> Vec<ConsumerView> {
        self.consumers.iter().map(|(n, c)| view(n, c)).collect()
    }
}

impl Ledger {
    /// Whether what `event` announced still stands now: a `confirmed` event's
    /// reservation is still confirmed, a `held` or `promoted` event's hold is
    /// still held. Every other event stands once it happened. A mailer that is
    /// behind skips a confirmation whose reservation was released meanwhile: the
    /// e-mail would announce a unit the customer no longer has.
    ///
    /// ```
    /// use kontingent_core::{Action, Command, Draw, Ledger, Request};
    /// let mut l = Ledger::new();
    /// l.apply(&Command::new(0, Action::DefinePool { pool: "p".into(), capacity: 1 })).unwrap();
    /// l.apply(&Command::new(0, Action::DefineOffer { offer: "o".into(),
    ///     draws: vec![Draw::new("p", 1)], waitlist: Default::default() })).unwrap();
    /// let a = l.apply(&Command::new(1, Action::Reserve(Request::new("r", "c").line("o", 1).confirm()))).unwrap();
    /// assert!(l.still_stands(&a.events[0]));
    /// let kontingent_core::Outcome::Confirmed { reservation: id, .. } = a.outcome else { panic!() };
    /// l.apply(&Command::new(2, Action::Release { reservation: id })).unwrap();
    /// assert!(!l.still_stands(&a.events[0]));
    /// ```
    pub fn still_stands(&self, event: &Event) -> bool {
        let (reservation, state) = match &event.kind {
            EventKind::Confirmed { reservation, .. } => (*reservation, ReservationState::Confirmed),
            EventKind::Held { reservation, .. } | EventKind::Promoted { reservation, .. } => {
                (*reservation, ReservationState::Held)
            }
            _ => return true,
        };
        self.reservations.get(reservation).is_some_and(|r| {
            r.state == state && (state != ReservationState::Held || r.expires_at > self.now)
        })
    }
}

fn view(name: &str, c: &Consumer) -> ConsumerView {
    ConsumerView {
        name: name.to_owned(),
        events: c.interest.types(),
        cursor: c.cursor,
    }
}
