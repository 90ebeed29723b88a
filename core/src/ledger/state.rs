//! The canonical state: the whole state as bytes, the digest over them, and back
//! again — what a checkpoint holds.
//!
//! Encoding, decoding and the digest live in this one room because they must
//! agree byte for byte: the bytes are what the digest hashes, so a decoded ledger
//! has the digest of the ledger that was saved — the test of this module.
//! Derived parts (hash indexes, waiting-offer set, rules, channel shares, offer
//! prices and windows) are not encoded but rebuilt, the latter from the logged
//! catalog.

use super::consumers::Consumer;
use super::Ledger;
use crate::codec::{DecodeError, Reader};
use crate::customer::hash_name;
use crate::digest::{Digest, Sink};
use crate::idempotency::{hash_id, First, Recorded, RecordedOutcome};
use crate::limits::*;
use crate::model::ids::{RowId, Table};
use crate::model::{
    Catalog, Interest, Millis, OfferId, PoolId, Refusal, ReservationId, ReservationState,
    WaitEntryId, WaitlistPolicy,
};
use crate::offer::Offer;
use crate::pool::Pool;
use crate::reservation::{Line, Reservation};
use crate::waitlist::{WaitEntry, WaitEntryState};
use smallvec::SmallVec;
use xxhash_rust::xxh3::Xxh3;

/// The first bytes of every encoding (and of what the digest hashes) of a ledger
/// without consumers: such a state encodes, and digests, as it did before
/// consumers existed.
const MAGIC: &[u8] = b"kontingent-state-v1";
/// The first bytes of a ledger with consumers: the same fields, then the
/// consumers. A separate magic, so a v2 state cut before its consumers is
/// refused instead of read as a v1 state without them.
const MAGIC_V2: &[u8] = b"kontingent-state-v2";
const STR: usize = 8 << 20;

fn bad(what: &'static str, value: u64) -> DecodeError {
    DecodeError::BadValue { what, value }
}

fn index(what: &'static str, v: u64, len: usize) -> Result<usize, DecodeError> {
    usize::try_from(v)
        .ok()
        .filter(|&i| i < len)
        .ok_or(bad(what, v))
}

/// `id` if the table has a row for it (ids decoded before their rows are refused).
fn known<I: RowId, T>(what: &'static str, id: I, rows: &Table<I, T>) -> Result<I, DecodeError> {
    match rows.get(id) {
        Some(_) => Ok(id),
        None => Err(bad(what, id.row_number())),
    }
}

fn count(r: &mut Reader<'_>, what: &'static str) -> Result<usize, DecodeError> {
    let n = r.u64()?;
    // Every item takes at least one byte: a count beyond the bytes left is a lie.
    usize::try_from(n)
        .ok()
        .filter(|&n| n <= r.remaining())
        .ok_or(bad(what, n))
}

fn encode_refusal(s: &mut impl Sink, r: &Refusal) {
    s.str(r.code());
    match r {
        Refusal::SoldOut {
            pool,
            requested,
            left,
        } => {
            s.str(pool);
            s.u64(*requested);
            s.u64(*left);
        }
        Refusal::CustomerLimit { name, limit, used } => {
            s.str(name);
            s.u64(*limit);
            s.u64(*used);
        }
        Refusal::NotOpenYet { opens_at } => s.u64(*opens_at),
        Refusal::Closed { closed_at } => s.u64(*closed_at),
        Refusal::Paused => {}
        Refusal::Rule { name, detail } => {
            s.str(name);
            s.str(detail);
        }
        Refusal::HoldExpired { expired_at } => s.u64(*expired_at),
    }
}

fn refusal(r: &mut Reader<'_>) -> Result<Refusal, DecodeError> {
    let code = r.str("refusal", 64)?;
    Ok(match code.as_str() {
        "sold_out" => Refusal::SoldOut {
            pool: r.str("pool", STR)?,
            requested: r.u64()?,
            left: r.u64()?,
        },
        "customer_limit" => Refusal::CustomerLimit {
            name: r.str("rule", STR)?,
            limit: r.u64()?,
            used: r.u64()?,
        },
        "not_open_yet" => Refusal::NotOpenYet { opens_at: r.u64()? },
        "closed" => Refusal::Closed {
            closed_at: r.u64()?,
        },
        "paused" => Refusal::Paused,
        "rule" => Refusal::Rule {
            name: r.str("rule", STR)?,
            detail: r.str("detail", STR)?,
        },
        "hold_expired" => Refusal::HoldExpired {
            expired_at: r.u64()?,
        },
        _ => return Err(bad("refusal code", 0)),
    })
}

impl Ledger {
    /// A hash over a canonical encoding of the whole state, for comparing
    /// replays and replicas. Costs a full pass over the state.
    pub fn digest(&self) -> Digest {
        let mut h = Xxh3::new();
        self.encode(&mut h);
        Digest(h.digest128())
    }

    /// The canonical encoding: id order throughout, never hash order.
    fn encode(&self, s: &mut impl Sink) {
        s.bytes(if self.consumers.is_empty() {
            MAGIC
        } else {
            MAGIC_V2
        });
        // The catalog as logged (serde_json writes struct fields in declaration
        // order and has no maps here, so the bytes are canonical).
        match &self.catalog {
            Some(c) => s.str(&serde_json::to_string(c).unwrap_or_default()),
            None => s.str(""),
        }
        match &self.allowed_channels {
            Some(a) => {
                s.u64(a.len() as u64);
                for c in a {
                    s.u32(u32::from(*c));
                }
            }
            None => s.u64(u64::MAX),
        }
        s.u64(self.now);
        s.u64(self.seq);
        s.bool(self.paused);
        s.u64(self.default_hold_ms);
        s.u64(self.pools.len() as u64);
        for p in self.pools.values() {
            s.str(&p.name);
            s.u64(p.capacity);
            s.u64(p.held);
            s.u64(p.confirmed);
        }
        s.u64(self.offers.len() as u64);
        for o in self.offers.values() {
            s.str(&o.name);
            s.u8(o.policy as u8);
            s.u64(o.draws.len() as u64);
            for d in &o.draws {
                s.u32(d.pool.0);
                s.u64(d.amount);
            }
            s.u64(o.waiting.len() as u64);
            for w in &o.waiting {
                s.u64(w.0);
            }
        }
        s.u64(self.channels.len() as u64);
        for c in &self.channels {
            s.str(c);
        }
        s.u64(self.customers.len() as u64);
        for i in 0..self.customers.len() as u32 {
            s.str(self.customers.name(i));
            let usage: SmallVec<[(OfferId, u64); 4]> = self.customers.usage_of(i).collect();
            s.u64(usage.len() as u64);
            for (o, u) in usage {
                s.u32(o.0);
                s.u64(u);
            }
        }
        s.u64(self.reservations.len() as u64);
        for r in self.reservations.values() {
            s.u64(r.expires_at);
            s.u32(r.customer);
            s.u32(u32::from(r.channel));
            s.u8(r.state as u8);
            s.u64(r.lines.len() as u64);
            for l in &r.lines {
                s.u32(l.offer.0);
                s.u32(l.quantity);
            }
        }
        // The heap's layout is not canonical; its due, live entries are.
        let mut due: Vec<(Millis, u64)> = self
            .expiries
            .iter()
            .filter(|&(t, id)| {
                let r = &self.reservations[ReservationId(id)];
                r.state == ReservationState::Held && r.expires_at == t
            })
            .collect();
        due.sort_unstable();
        s.u64(due.len() as u64);
        for (t, id) in due {
            s.u64(t);
            s.u64(id);
        }
        s.u64(self.wait_entries.len() as u64);
        for e in self.wait_entries.values() {
            s.u32(e.offer.0);
            s.u64(e.quantity);
            s.u32(e.customer);
            s.u32(u32::from(e.channel));
            s.u64(e.hold_ms);
            s.u32(e.joined_at_position);
            match e.state {
                WaitEntryState::Waiting => s.u8(0),
                WaitEntryState::Promoted(r) => {
                    s.u8(1);
                    s.u64(r.0);
                }
                WaitEntryState::Left => s.u8(2),
            }
        }
        s.u64(self.requests.len() as u64);
        for e in self.requests.iter() {
            s.str(self.requests.request_id(e));
            s.u64(e.fingerprint);
            match e.recorded.unpack() {
                RecordedOutcome::Held(r) => {
                    s.u8(0);
                    s.u64(r.0);
                }
                RecordedOutcome::Confirmed(r) => {
                    s.u8(1);
                    s.u64(r.0);
                }
                RecordedOutcome::Waiting(w) => {
                    s.u8(2);
                    s.u64(w.0);
                }
                RecordedOutcome::Refused(i) => {
                    s.u8(3);
                    encode_refusal(s, self.requests.refusal(i));
                }
            }
        }
        // Consumers came after the first checkpoints: see MAGIC_V2.
        if !self.consumers.is_empty() {
            s.u64(self.consumers.len() as u64);
            for (name, c) in &self.consumers {
                s.str(name);
                s.u32(c.interest.bits());
                s.u64(c.cursor);
            }
        }
    }

    /// Pool counters and customer usage must be exactly what the live reservations
    /// add up to: decoded bytes that say otherwise are refused, never trusted.
    fn check_counters(&self) -> Result<(), DecodeError> {
        let mut pools = vec![(0u64, 0u64); self.pools.len()];
        let mut usage = std::collections::BTreeMap::<(u32, OfferId), u64>::new();
        for r in self.reservations.values() {
            if !r.state.is_live() {
                continue;
            }
            for line in &r.lines {
                let q = u64::from(line.quantity);
                let u = usage.entry((r.customer, line.offer)).or_insert(0);
                *u = u.checked_add(q).ok_or(bad("usage", q))?;
                for d in &self.offers[line.offer].draws {
                    let amount = d.amount.checked_mul(q).ok_or(bad("demand", q))?;
                    let slot = &mut pools[d.pool.index()];
                    let counter = if r.state == ReservationState::Confirmed {
                        &mut slot.1
                    } else {
                        &mut slot.0
                    };
                    *counter = counter
                        .checked_add(amount)
                        .ok_or(bad("pool counter", amount))?;
                }
            }
        }
        for (i, p) in self.pools.values().enumerate() {
            if (p.held, p.confirmed) != pools[i] {
                return Err(bad("pool counters", i as u64));
            }
        }
        for c in 0..self.customers.len() as u32 {
            for (o, u) in self.customers.usage_of(c) {
                if usage.remove(&(c, o)) != Some(u) {
                    return Err(bad("customer usage", u64::from(c)));
                }
            }
        }
        if !usage.is_empty() {
            return Err(bad("customer usage", 0));
        }
        Ok(())
    }

    /// The whole state as bytes (the canonical encoding).
    pub fn state_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }

    /// Rebuild a ledger from [`Ledger::state_bytes`]. Hostile bytes give an error,
    /// never a panic (every id is checked against what was read before it).
    pub fn from_state_bytes(bytes: &[u8]) -> Result<Ledger, DecodeError> {
        let mut r = Reader::new(bytes);
        let with_consumers = match r.take(MAGIC.len())? {
            m if m == MAGIC => false,
            m if m == MAGIC_V2 => true,
            _ => return Err(bad("state magic", 0)),
        };
        let mut l = Ledger::new();
        let catalog_json = r.str("catalog", STR)?;
        let catalog: Option<Catalog> =
            match catalog_json.as_str() {
                "" => None,
                json => Some(serde_json::from_str(json).map_err(|e| {
                    DecodeError::Catalog(crate::model::quote::bound(&e.to_string()))
                })?),
            };
        let allowed = r.u64()?;
        let allowed: Option<Vec<u64>> = if allowed == u64::MAX {
            None
        } else {
            let n = usize::try_from(allowed)
                .ok()
                .filter(|&n| n <= r.remaining())
                .ok_or(bad("channels", allowed))?;
            Some(
                (0..n)
                    .map(|_| r.u32().map(u64::from))
                    .collect::<Result<_, _>>()?,
            )
        };
        l.now = r.u64()?;
        l.seq = r.u64()?;
        l.paused = r.bool("paused")?;
        l.default_hold_ms = r.u64()?;
        for _ in 0..count(&mut r, "pools")? {
            let name = r.str("pool", NAME_LEN_MAX)?;
            let capacity = r.u64()?;
            if capacity > CAPACITY_MAX {
                return Err(bad("capacity", capacity));
            }
            let mut p = Pool::new(name.clone(), capacity);
            p.held = r.u64()?;
            p.confirmed = r.u64()?;
            let id = l.pools.push(p);
            l.pool_names.insert(name, id);
        }
        for _ in 0..count(&mut r, "offers")? {
            let name = r.str("offer", NAME_LEN_MAX)?;
            let policy = match r.u8()? {
                0 => WaitlistPolicy::Strict,
                1 => WaitlistPolicy::Skip,
                v => return Err(bad("waitlist policy", u64::from(v))),
            };
            let mut draws = crate::model::PoolAmounts::new();
            for _ in 0..count(&mut r, "draws")? {
                let pool = known("draw pool", PoolId(r.u32()?), &l.pools)?;
                let amount = r.u64()?;
                if amount == 0 || amount > DRAW_AMOUNT_MAX {
                    return Err(bad("draw amount", amount));
                }
                draws.push(crate::model::PoolAmount { pool, amount });
            }
            let mut waiting = std::collections::VecDeque::new();
            for _ in 0..count(&mut r, "waiting")? {
                waiting.push_back(WaitEntryId(r.u64()?));
            }
            let has_waiting = !waiting.is_empty();
            let id = l.offers.push(Offer {
                name: name.clone(),
                draws,
                policy,
                waiting,
                price: 0,
                window: Default::default(),
                slot: None,
            });
            if has_waiting {
                l.waiting_offers.insert(id);
            }
            l.offer_names.insert(name, id);
        }
        for _ in 0..count(&mut r, "channels")? {
            l.channels.push(r.str("channel", CHANNEL_LEN_MAX)?);
        }
        l.allowed_channels = match allowed {
            None => None,
            Some(a) => Some(
                a.into_iter()
                    .map(|c| index("allowed channel", c, l.channels.len()).map(|c| c as u16))
                    .collect::<Result<_, _>>()?,
            ),
        };
        for i in 0..count(&mut r, "customers")? {
            let name = r.str_ref("customer", CUSTOMER_ID_LEN_MAX)?;
            let c = l.customers.intern(name, hash_name(name), None);
            if c as usize != i {
                return Err(bad("duplicate customer", i as u64));
            }
            for _ in 0..count(&mut r, "usage")? {
                let o = known("usage offer", OfferId(r.u32()?), &l.offers)?;
                l.customers.add_usage(c, o, r.u64()?);
            }
        }
        let n = count(&mut r, "reservations")?;
        l.reservations.reserve_exact(n);
        for _ in 0..n {
            let expires_at = r.u64()?;
            let customer = index("customer", u64::from(r.u32()?), l.customers.len())? as u32;
            let channel = index("channel", u64::from(r.u32()?), l.channels.len())? as u16;
            let state = match r.u8()? {
                0 => ReservationState::Held,
                1 => ReservationState::Confirmed,
                2 => ReservationState::Released,
                3 => ReservationState::Expired,
                v => return Err(bad("reservation state", u64::from(v))),
            };
            let mut lines = SmallVec::new();
            for _ in 0..count(&mut r, "lines")? {
                let offer = known("line offer", OfferId(r.u32()?), &l.offers)?;
                lines.push(Line {
                    offer,
                    quantity: r.u32()?,
                });
            }
            l.reservations.push(Reservation {
                expires_at,
                lines,
                customer,
                channel,
                state,
            });
        }
        for _ in 0..count(&mut r, "expiries")? {
            let t = r.u64()?;
            let id = r.u64()?;
            known("expiring reservation", ReservationId(id), &l.reservations)?;
            l.expiries.push(t, id);
        }
        for _ in 0..count(&mut r, "entries")? {
            let offer = known("entry offer", OfferId(r.u32()?), &l.offers)?;
            let quantity = r.u64()?;
            if quantity == 0 || quantity > LINE_QUANTITY_MAX {
                return Err(bad("waiting quantity", quantity));
            }
            let customer = index("entry customer", u64::from(r.u32()?), l.customers.len())? as u32;
            let channel = index("entry channel", u64::from(r.u32()?), l.channels.len())? as u16;
            let hold_ms = r.u64()?;
            let joined_at_position = r.u32()?;
            let state = match r.u8()? {
                0 => WaitEntryState::Waiting,
                1 => {
                    let id = ReservationId(r.u64()?);
                    WaitEntryState::Promoted(known("promoted reservation", id, &l.reservations)?)
                }
                2 => WaitEntryState::Left,
                v => return Err(bad("entry state", u64::from(v))),
            };
            l.wait_entries.push(WaitEntry {
                offer,
                quantity,
                customer,
                channel,
                hold_ms,
                state,
                joined_at_position,
            });
        }
        for o in l.offers.values() {
            for &w in &o.waiting {
                known("waiting entry", w, &l.wait_entries)?;
            }
        }
        let n = count(&mut r, "requests")?;
        l.requests.reserve(n);
        for _ in 0..n {
            let id = r.str_ref("request id", REQUEST_ID_LEN_MAX)?;
            let fingerprint = r.u64()?;
            let reservation =
                |r: &mut Reader<'_>, l: &Ledger| -> Result<ReservationId, DecodeError> {
                    let id = ReservationId(r.u64()?);
                    known("recorded reservation", id, &l.reservations)
                };
            let first = match r.u8()? {
                0 => First::Recorded(Recorded::held(reservation(&mut r, &l)?)),
                1 => First::Recorded(Recorded::confirmed(reservation(&mut r, &l)?)),
                2 => {
                    let w = WaitEntryId(r.u64()?);
                    First::Recorded(Recorded::waiting(known(
                        "recorded entry",
                        w,
                        &l.wait_entries,
                    )?))
                }
                3 => First::Refused(refusal(&mut r)?),
                v => return Err(bad("recorded outcome", u64::from(v))),
            };
            // A duplicate id (only possible in forged bytes that passed the CRC)
            // would shadow an entry, never panic; no lookup per request is spent on it.
            let hash = hash_id(id);
            l.requests.record(id, hash, fingerprint, first);
        }
        if with_consumers {
            let n = count(&mut r, "consumers")?;
            if n == 0 || n > CONSUMERS_MAX {
                // No consumers is written as v1: a canonical state has one form.
                return Err(bad("consumers", n as u64));
            }
            for _ in 0..n {
                let name = r.str("consumer", NAME_LEN_MAX)?;
                let bits = r.u32()?;
                let interest = Interest::from_bits(bits)
                    .filter(|i| i.bits() != 0)
                    .ok_or(bad("consumer interest", u64::from(bits)))?;
                let cursor = r.u64()?;
                if cursor > l.seq {
                    return Err(bad("consumer cursor", cursor));
                }
                if l.consumers
                    .last_key_value()
                    .is_some_and(|(last, _)| *last >= name)
                {
                    return Err(bad("consumer order", 0));
                }
                l.consumers.insert(name, Consumer { interest, cursor });
            }
        }
        if r.remaining() != 0 {
            return Err(DecodeError::Trailing {
                extra: r.remaining(),
            });
        }
        l.check_counters()?;
        if let Some(c) = catalog {
            // The catalog must be valid and name only what the state has, or
            // adopting it would resolve names to nothing.
            if let Some(issue) = c.check().first() {
                return Err(DecodeError::Catalog(format!(
                    "{}: {}",
                    crate::model::quote::bound_path(&issue.path),
                    crate::model::quote::bound(&issue.message)
                )));
            }
            let missing = c
                .pools
                .iter()
                .map(|p| &p.name)
                .find(|n| l.pool_id(n).is_none())
                .or_else(|| {
                    c.offers
                        .iter()
                        .map(|o| &o.name)
                        .find(|n| l.offer_id(n).is_none())
                })
                .or_else(|| c.channels.iter().find(|ch| l.channel_id(ch).is_none()));
            if let Some(name) = missing {
                return Err(DecodeError::Catalog(format!(
                    "the catalog names {}, which the state lacks",
                    crate::model::quote::quote(name)
                )));
            }
            l.adopt_catalog(&c);
        }
        Ok(l)
    }
}
