//! The binary encoding of one command, as journal records carry it
//! (`docs/FORMAT.md`, "Payload: one command").
//!
//! Hand-written rather than serde: the command enums are internally tagged for
//! JSON, which compact binary serde formats cannot decode, and replay speed
//! depends on this loop. Decoding is strict and total: hostile bytes give an
//! error, never a panic or an oversized allocation.

use crate::catalog::Catalog;
use crate::digest::Sink;
use crate::model::{
    Action, Command, Draw, EventType, LineRequest, Request, ReservationId, WaitEntryId,
    WaitlistPolicy,
};
use std::collections::BTreeMap;
use thiserror::Error;

/// Why a payload is not a command.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// The payload ends inside a field.
    #[error("payload ends early (needed {needed} more bytes at byte {at})")]
    Short {
        /// Byte offset of the read that ran past the end.
        at: usize,
        /// Bytes missing to complete it.
        needed: usize,
    },
    /// The action tag (the byte after `at`) names no action; tags run 1..=12.
    #[error("unknown action tag {tag}")]
    UnknownTag {
        /// The tag read.
        tag: u8,
    },
    /// A string or a count is above its decoding ceiling.
    #[error("{what}: {len} is beyond the limit of {max}")]
    TooLong {
        /// Which field, e.g. `"customer"` or `"lines"`.
        what: &'static str,
        /// The length read: bytes for a string, elements for a count.
        len: usize,
        /// The decoder's ceiling for that field.
        max: usize,
    },
    /// A string field is not valid UTF-8.
    #[error("{what} is not valid UTF-8")]
    Utf8 {
        /// Which field.
        what: &'static str,
    },
    /// A flag, an option marker or a waitlist policy byte has no meaning.
    #[error("bad {what} value {value}")]
    BadValue {
        /// Which field, e.g. `"confirm"` or `"waitlist policy"`.
        what: &'static str,
        /// The value read.
        value: u64,
    },
    /// Bytes remain after a complete command.
    #[error("{extra} bytes left after the command")]
    Trailing {
        /// How many bytes remain.
        extra: usize,
    },
    /// A `LoadCatalog` payload whose JSON is not a catalog: serde_json's message.
    #[error("catalog JSON: {0}")]
    Catalog(String),
}

/// Longest catalog a record may carry, in bytes of JSON (8 MiB).
pub const CATALOG_JSON_MAX: usize = 8 << 20;

/// The action tag: the byte after a payload's `at` (`docs/FORMAT.md`, the tag
/// table). The numbers are the format: never renumber one, only add.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Tag {
    /// `reserve`
    Reserve = 1,
    /// `confirm`
    Confirm = 2,
    /// `release`
    Release = 3,
    /// `leave_waitlist`
    LeaveWaitlist = 4,
    /// `tick`
    Tick = 5,
    /// `pause`
    Pause = 6,
    /// `resume`
    Resume = 7,
    /// `set_capacity`
    SetCapacity = 8,
    /// `set_default_hold`
    SetDefaultHold = 9,
    /// `define_pool`
    DefinePool = 10,
    /// `define_offer`
    DefineOffer = 11,
    /// `load_catalog`
    LoadCatalog = 12,
    /// `define_consumer`
    DefineConsumer = 13,
    /// `ack`
    Ack = 14,
}

/// Where the tag sits in a payload: after the `u64` time.
pub const TAG_OFFSET: usize = 8;

impl Tag {
    /// Every tag, in numeric order.
    pub const ALL: [Tag; 14] = [
        Tag::Reserve,
        Tag::Confirm,
        Tag::Release,
        Tag::LeaveWaitlist,
        Tag::Tick,
        Tag::Pause,
        Tag::Resume,
        Tag::SetCapacity,
        Tag::SetDefaultHold,
        Tag::DefinePool,
        Tag::DefineOffer,
        Tag::LoadCatalog,
        Tag::DefineConsumer,
        Tag::Ack,
    ];

    /// The tag an action is encoded with.
    pub fn of(a: &Action) -> Tag {
        match a {
            Action::Reserve(_) => Tag::Reserve,
            Action::Confirm { .. } => Tag::Confirm,
            Action::Release { .. } => Tag::Release,
            Action::LeaveWaitlist { .. } => Tag::LeaveWaitlist,
            Action::Tick => Tag::Tick,
            Action::Pause => Tag::Pause,
            Action::Resume => Tag::Resume,
            Action::SetCapacity { .. } => Tag::SetCapacity,
            Action::SetDefaultHold { .. } => Tag::SetDefaultHold,
            Action::DefinePool { .. } => Tag::DefinePool,
            Action::DefineOffer { .. } => Tag::DefineOffer,
            Action::LoadCatalog(_) => Tag::LoadCatalog,
            Action::DefineConsumer { .. } => Tag::DefineConsumer,
            Action::Ack { .. } => Tag::Ack,
        }
    }

    /// The tag of an encoded command, without decoding the rest: `None` if the
    /// payload is too short or the byte names no action.
    pub fn peek(payload: &[u8]) -> Option<Tag> {
        payload.get(TAG_OFFSET).and_then(|&b| Tag::try_from(b).ok())
    }
}

impl From<Tag> for u8 {
    fn from(t: Tag) -> u8 {
        t as u8
    }
}

impl TryFrom<u8> for Tag {
    type Error = DecodeError;
    fn try_from(tag: u8) -> Result<Tag, DecodeError> {
        Tag::ALL
            .get(usize::from(tag).wrapping_sub(1))
            .copied()
            .ok_or(DecodeError::UnknownTag { tag })
    }
}

/// Everything of a request but its id, in journal order. Also what the ledger
/// hashes to tell "the same request" from "another request with the same id".
pub(crate) fn encode_request_content(r: &Request, out: &mut impl Sink) {
    out.str(&r.customer);
    out.str(&r.channel);
    out.u32(r.attributes.len() as u32);
    for (k, v) in &r.attributes {
        out.str(k);
        out.str(v);
    }
    out.u32(r.lines.len() as u32);
    for l in &r.lines {
        out.str(&l.offer);
        out.u64(l.quantity);
    }
    match r.hold_ms {
        Some(h) => {
            out.u8(1);
            out.u64(h);
        }
        None => out.u8(0),
    }
    out.bool(r.confirm);
    out.bool(r.up_to);
    out.bool(r.waitlist);
}

/// Append the encoding of `cmd` to `out`.
pub fn encode(cmd: &Command, out: &mut Vec<u8>) {
    out.u64(cmd.at);
    out.u8(Tag::of(&cmd.action).into());
    match &cmd.action {
        Action::Reserve(r) => {
            out.str(&r.request_id);
            encode_request_content(r, out);
        }
        Action::Confirm { reservation } | Action::Release { reservation } => out.u64(reservation.0),
        Action::LeaveWaitlist { entry } => out.u64(entry.0),
        Action::Tick | Action::Pause | Action::Resume => {}
        Action::SetCapacity { pool, capacity } | Action::DefinePool { pool, capacity } => {
            out.str(pool);
            out.u64(*capacity);
        }
        Action::SetDefaultHold { hold_ms } => out.u64(*hold_ms),
        Action::DefineOffer {
            offer,
            draws,
            waitlist,
        } => {
            out.str(offer);
            out.u32(draws.len() as u32);
            for d in draws {
                out.str(&d.pool);
                out.u64(d.amount);
            }
            out.u8(match waitlist {
                WaitlistPolicy::Strict => 0,
                WaitlistPolicy::Skip => 1,
            });
        }
        Action::LoadCatalog(c) => {
            // Serializing a plain struct of strings and integers cannot fail.
            out.str(&serde_json::to_string(c).unwrap_or_default());
        }
        Action::DefineConsumer {
            consumer,
            events,
            after,
        } => {
            out.str(consumer);
            out.u32(events.len() as u32);
            for t in events {
                out.u8(*t as u8);
            }
            match after {
                Some(a) => {
                    out.u8(1);
                    out.u64(*a);
                }
                None => out.u8(0),
            }
        }
        Action::Ack { consumer, seq } => {
            out.str(consumer);
            out.u64(*seq);
        }
    }
}

/// A bounds-checked little-endian reader (also used for checkpoint states).
pub(crate) struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    pub fn new(b: &'a [u8]) -> Self {
        Reader { b, at: 0 }
    }
    pub fn remaining(&self) -> usize {
        self.b.len() - self.at
    }
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.b.len());
        let Some(end) = end else {
            return Err(DecodeError::Short {
                at: self.at,
                needed: n - (self.b.len() - self.at),
            });
        };
        let s = &self.b[self.at..end];
        self.at = end;
        Ok(s)
    }
    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }
    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }
    pub fn bool(&mut self, what: &'static str) -> Result<bool, DecodeError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            v => Err(DecodeError::BadValue {
                what,
                value: u64::from(v),
            }),
        }
    }
    pub fn str(&mut self, what: &'static str, max: usize) -> Result<String, DecodeError> {
        let len = self.u32()? as usize;
        if len > max {
            return Err(DecodeError::TooLong { what, len, max });
        }
        let b = self.take(len)?;
        std::str::from_utf8(b)
            .map(str::to_owned)
            .map_err(|_| DecodeError::Utf8 { what })
    }
    /// A string read into an existing buffer (no allocation once it is big enough).
    pub fn str_into(
        &mut self,
        what: &'static str,
        max: usize,
        into: &mut String,
    ) -> Result<(), DecodeError> {
        let s = self.str_ref(what, max)?;
        into.clear();
        into.push_str(s);
        Ok(())
    }

    /// A string borrowed from the input (no allocation).
    pub fn str_ref(&mut self, what: &'static str, max: usize) -> Result<&'a str, DecodeError> {
        let len = self.u32()? as usize;
        if len > max {
            return Err(DecodeError::TooLong { what, len, max });
        }
        let b = self.take(len)?;
        std::str::from_utf8(b).map_err(|_| DecodeError::Utf8 { what })
    }
    pub fn count(&mut self, what: &'static str, max: usize) -> Result<usize, DecodeError> {
        let n = self.u32()? as usize;
        if n > max {
            return Err(DecodeError::TooLong { what, len: n, max });
        }
        Ok(n)
    }
}

/// Decode into `cmd`, reusing its buffers when both are reservations (replay
/// decodes millions of them; this saves four allocations and frees each).
/// On error `cmd` holds a partial command.
pub fn decode_into(payload: &[u8], cmd: &mut Command) -> Result<(), DecodeError> {
    const STR: usize = 64 * 1024;
    if Tag::peek(payload) == Some(Tag::Reserve) {
        if let Action::Reserve(req) = &mut cmd.action {
            let mut r = Reader::new(payload);
            let at = r.u64()?;
            r.u8()?;
            r.str_into("request_id", STR, &mut req.request_id)?;
            r.str_into("customer", STR, &mut req.customer)?;
            r.str_into("channel", STR, &mut req.channel)?;
            req.attributes.clear();
            for _ in 0..r.count("attributes", 1024)? {
                let k = r.str("attribute key", STR)?;
                let v = r.str("attribute value", STR)?;
                req.attributes.insert(k, v);
            }
            let n = r.count("lines", 1024)?;
            req.lines.truncate(n);
            for i in 0..n {
                if i == req.lines.len() {
                    req.lines.push(LineRequest {
                        offer: String::new(),
                        quantity: 0,
                    });
                }
                let line = &mut req.lines[i];
                r.str_into("offer", STR, &mut line.offer)?;
                line.quantity = r.u64()?;
            }
            req.hold_ms = match r.u8()? {
                0 => None,
                1 => Some(r.u64()?),
                v => {
                    return Err(DecodeError::BadValue {
                        what: "hold_ms option",
                        value: u64::from(v),
                    })
                }
            };
            req.confirm = r.bool("confirm")?;
            req.up_to = r.bool("up_to")?;
            req.waitlist = r.bool("waitlist")?;
            if r.remaining() != 0 {
                return Err(DecodeError::Trailing {
                    extra: r.remaining(),
                });
            }
            cmd.at = at;
            return Ok(());
        }
    }
    *cmd = decode(payload)?;
    Ok(())
}

/// Decode one command; the whole payload must be consumed.
///
/// Lengths are checked against generous ceilings (not the ledger's limits): the
/// ledger itself judges every field, and a journal must replay what it accepted.
pub fn decode(payload: &[u8]) -> Result<Command, DecodeError> {
    let mut r = Reader { b: payload, at: 0 };
    let at = r.u64()?;
    let tag = Tag::try_from(r.u8()?)?;
    // A ceiling on any one string: far above every limit, far below memory.
    const STR: usize = 64 * 1024;
    let action = match tag {
        Tag::Reserve => {
            let request_id = r.str("request_id", STR)?;
            let customer = r.str("customer", STR)?;
            let channel = r.str("channel", STR)?;
            let n = r.count("attributes", 1024)?;
            let mut attributes = BTreeMap::new();
            for _ in 0..n {
                let k = r.str("attribute key", STR)?;
                let v = r.str("attribute value", STR)?;
                attributes.insert(k, v);
            }
            let n = r.count("lines", 1024)?;
            let mut lines = Vec::with_capacity(n);
            for _ in 0..n {
                let offer = r.str("offer", STR)?;
                let quantity = r.u64()?;
                lines.push(LineRequest { offer, quantity });
            }
            let hold_ms = match r.u8()? {
                0 => None,
                1 => Some(r.u64()?),
                v => {
                    return Err(DecodeError::BadValue {
                        what: "hold_ms option",
                        value: u64::from(v),
                    })
                }
            };
            Action::Reserve(Request {
                request_id,
                customer,
                channel,
                attributes,
                lines,
                hold_ms,
                confirm: r.bool("confirm")?,
                up_to: r.bool("up_to")?,
                waitlist: r.bool("waitlist")?,
            })
        }
        Tag::Confirm => Action::Confirm {
            reservation: ReservationId(r.u64()?),
        },
        Tag::Release => Action::Release {
            reservation: ReservationId(r.u64()?),
        },
        Tag::LeaveWaitlist => Action::LeaveWaitlist {
            entry: WaitEntryId(r.u64()?),
        },
        Tag::Tick => Action::Tick,
        Tag::Pause => Action::Pause,
        Tag::Resume => Action::Resume,
        Tag::SetCapacity => Action::SetCapacity {
            pool: r.str("pool", STR)?,
            capacity: r.u64()?,
        },
        Tag::SetDefaultHold => Action::SetDefaultHold { hold_ms: r.u64()? },
        Tag::DefinePool => Action::DefinePool {
            pool: r.str("pool", STR)?,
            capacity: r.u64()?,
        },
        Tag::DefineOffer => {
            let offer = r.str("offer", STR)?;
            let n = r.count("draws", 1024)?;
            let mut draws = Vec::with_capacity(n);
            for _ in 0..n {
                let pool = r.str("pool", STR)?;
                let amount = r.u64()?;
                draws.push(Draw { pool, amount });
            }
            let waitlist = match r.u8()? {
                0 => WaitlistPolicy::Strict,
                1 => WaitlistPolicy::Skip,
                v => {
                    return Err(DecodeError::BadValue {
                        what: "waitlist policy",
                        value: u64::from(v),
                    })
                }
            };
            Action::DefineOffer {
                offer,
                draws,
                waitlist,
            }
        }
        Tag::LoadCatalog => {
            let json = r.str("catalog", CATALOG_JSON_MAX)?;
            let c: Catalog = serde_json::from_str(&json)
                .map_err(|e| DecodeError::Catalog(crate::model::quote::bound(&e.to_string())))?;
            Action::LoadCatalog(Box::new(c))
        }
        Tag::DefineConsumer => {
            let consumer = r.str("consumer", STR)?;
            let n = r.count("events", 1024)?;
            let mut events = Vec::with_capacity(n);
            for _ in 0..n {
                let t = r.u8()?;
                events.push(
                    *EventType::ALL
                        .get(usize::from(t))
                        .ok_or(DecodeError::BadValue {
                            what: "event type",
                            value: u64::from(t),
                        })?,
                );
            }
            let after = match r.u8()? {
                0 => None,
                1 => Some(r.u64()?),
                v => {
                    return Err(DecodeError::BadValue {
                        what: "after",
                        value: u64::from(v),
                    })
                }
            };
            Action::DefineConsumer {
                consumer,
                events,
                after,
            }
        }
        Tag::Ack => Action::Ack {
            consumer: r.str("consumer", STR)?,
            seq: r.u64()?,
        },
    };
    if r.at != payload.len() {
        return Err(DecodeError::Trailing {
            extra: payload.len() - r.at,
        });
    }
    Ok(Command { at, action })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_keep_their_numbers_and_round_trip() {
        for (i, t) in Tag::ALL.iter().enumerate() {
            assert_eq!(u8::from(*t) as usize, i + 1, "{t:?}");
        }
        for b in 0..=u8::MAX {
            match Tag::try_from(b) {
                Ok(t) => assert_eq!(u8::from(t), b),
                Err(e) => {
                    assert!(b == 0 || b > 14, "{b}");
                    assert_eq!(e, DecodeError::UnknownTag { tag: b });
                }
            }
        }
    }

    /// The tag table of `docs/FORMAT.md` names the same numbers as the enum.
    #[test]
    fn tags_match_the_format_document() {
        let doc = include_str!("../../docs/FORMAT.md");
        let table = doc
            .split_once("| tag | action | fields |")
            .map_or("", |(_, rest)| rest.split("\n\n").next().unwrap_or(""));
        let named: Vec<(u8, String)> = table
            .lines()
            .filter_map(|l| {
                let cells: Vec<&str> = l.split('|').map(str::trim).collect();
                let n = cells.get(1)?.parse().ok()?;
                Some((n, cells.get(2)?.to_string()))
            })
            .collect();
        let expected: Vec<(u8, String)> = Tag::ALL
            .iter()
            .map(|&t| {
                let name = match t {
                    Tag::Reserve => "reserve",
                    Tag::Confirm => "confirm",
                    Tag::Release => "release",
                    Tag::LeaveWaitlist => "leave_waitlist",
                    Tag::Tick => "tick",
                    Tag::Pause => "pause",
                    Tag::Resume => "resume",
                    Tag::SetCapacity => "set_capacity",
                    Tag::SetDefaultHold => "set_default_hold",
                    Tag::DefinePool => "define_pool",
                    Tag::DefineOffer => "define_offer",
                    Tag::LoadCatalog => "load_catalog",
                    Tag::DefineConsumer => "define_consumer",
                    Tag::Ack => "ack",
                };
                (t.into(), name.to_string())
            })
            .collect();
        assert_eq!(named, expected);
    }
}
