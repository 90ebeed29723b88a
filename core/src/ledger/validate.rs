//! Validation: everything that can make a command an `Err`, read-only.
//!
//! It resolves names to ids, checks every bound and sum and looks up the
//! request id, and hands the dispatcher a [`Plan`] that cannot fail. Because no
//! other phase returns `Err` (besides the time checks in `apply.rs`), this room
//! is the whole list of ways a command can be invalid.

use super::Ledger;
use crate::customer::hash_name;
use crate::digest::StackBuf;
use crate::idempotency::{hash_id, RecordedOutcome, RequestRecord};
use crate::limits::*;
use crate::model::{
    Action, Catalog, Error, Interest, OfferId, Outcome, PoolAmount, PoolAmounts, PoolId, Request,
    ReservationId, ReservationState, WaitEntryId, WaitlistPolicy,
};
use smallvec::SmallVec;
use std::collections::BTreeMap;
use xxhash_rust::xxh3::xxh3_64;

/// A validated command, ready to execute.
pub(super) enum Plan<'a> {
    LoadCatalog(&'a Catalog),
    DefinePool {
        name: &'a str,
        capacity: u64,
    },
    DefineOffer {
        name: &'a str,
        draws: PoolAmounts,
        policy: WaitlistPolicy,
    },
    SetCapacity {
        pool: PoolId,
        capacity: u64,
    },
    SetDefaultHold(u64),
    Reserve(ReservePlan<'a>),
    Repeat(Outcome),
    Confirm(ReservationId),
    Release(ReservationId),
    Leave(WaitEntryId),
    Pause,
    Resume,
    Tick,
    DefineConsumer {
        name: &'a str,
        interest: Interest,
        after: Option<u64>,
    },
    Ack {
        name: &'a str,
        seq: u64,
    },
}

/// A validated request: names resolved, demand summed, idempotency looked up.
pub(super) struct ReservePlan<'a> {
    pub(super) request_id: &'a str,
    pub(super) request_hash: u64,
    pub(super) customer: &'a str,
    pub(super) customer_hash: u64,
    /// The customer's number if already known (looked up once, in validation).
    pub(super) customer_id: Option<u32>,
    pub(super) channel: &'a str,
    pub(super) attributes: &'a BTreeMap<String, String>,
    pub(super) lines: SmallVec<[(OfferId, u64); 1]>,
    /// Aggregated per pool, in pool-id order.
    pub(super) demand: PoolAmounts,
    pub(super) hold_ms: u64,
    pub(super) confirm: bool,
    pub(super) up_to: bool,
    pub(super) waitlist: bool,
    pub(super) fingerprint: u64,
}

pub(super) fn check_len(field: &str, s: &str, max: usize) -> Result<(), Error> {
    if s.is_empty() {
        return Err(Error::Empty {
            field: field.to_owned(),
        });
    }
    check_max_at(|| field.to_owned(), s, max)
}

/// A name looked up (not defined): too long is `too_long`, before any lookup, so
/// an unknown name in an error is bounded; an empty one is simply unknown.
#[inline]
pub(super) fn check_max_at(
    field: impl FnOnce() -> String,
    s: &str,
    max: usize,
) -> Result<(), Error> {
    if s.len() > max {
        return Err(Error::TooLong {
            field: field(),
            len: s.len(),
            max,
        });
    }
    Ok(())
}

/// A new pool or offer (`[field, plural]`): its name is not taken and one more fits.
fn check_new(
    [field, plural]: [&str; 2],
    name: &str,
    exists: bool,
    count: usize,
    max: usize,
) -> Result<(), Error> {
    if exists {
        return Err(Error::Duplicate {
            field: field.into(),
            name: name.to_owned(),
        });
    }
    if count >= max {
        return Err(Error::TooMany {
            field: plural.into(),
            count: count + 1,
            max,
        });
    }
    Ok(())
}

fn check_range(field: &str, value: u64, min: u64, max: u64) -> Result<(), Error> {
    check_range_at(|| field.to_owned(), value, min, max)
}

/// Like `check_range`, naming the field only when there is an error.
#[inline]
fn check_range_at(
    field: impl FnOnce() -> String,
    value: u64,
    min: u64,
    max: u64,
) -> Result<(), Error> {
    if value < min {
        return Err(Error::Zero { field: field() });
    }
    if value > max {
        return Err(Error::OutOfRange {
            field: field(),
            value,
            max,
        });
    }
    Ok(())
}

/// Adds `amounts` into `into`, keeping it sorted by pool and aggregated.
pub(super) fn add_demand(
    into: &mut PoolAmounts,
    amounts: impl Iterator<Item = PoolAmount>,
) -> Option<()> {
    for a in amounts {
        match into.binary_search_by_key(&a.pool, |d| d.pool) {
            Ok(i) => into[i].amount = into[i].amount.checked_add(a.amount)?,
            Err(i) => into.insert(i, a),
        }
    }
    Some(())
}

/// Everything of a request but its id, hashed: "same content" for idempotency.
fn fingerprint(r: &Request) -> u64 {
    let mut buf = StackBuf::new();
    crate::codec::encode_request_content(r, &mut buf);
    xxh3_64(buf.as_slice())
}

impl Ledger {
    /// Phase 1: the plan for `action`, or why it is invalid. Changes nothing.
    pub(super) fn validate<'a>(&self, action: &'a Action) -> Result<Plan<'a>, Error> {
        Ok(match action {
            Action::LoadCatalog(catalog) => {
                self.validate_catalog(catalog)?;
                Plan::LoadCatalog(catalog)
            }
            Action::DefinePool { pool, capacity } => {
                let capacity = *capacity;
                check_len("pool", pool, NAME_LEN_MAX)?;
                check_range("capacity", capacity, 0, CAPACITY_MAX)?;
                let exists = self.pool_names.contains_key(pool.as_str());
                check_new(["pool", "pools"], pool, exists, self.pools.len(), POOLS_MAX)?;
                Plan::DefinePool {
                    name: pool,
                    capacity,
                }
            }
            Action::DefineOffer {
                offer,
                draws,
                waitlist,
            } => {
                check_len("offer", offer, NAME_LEN_MAX)?;
                let exists = self.offer_names.contains_key(offer.as_str());
                check_new(
                    ["offer", "offers"],
                    offer,
                    exists,
                    self.offers.len(),
                    OFFERS_MAX,
                )?;
                if draws.is_empty() {
                    return Err(Error::Empty {
                        field: "draws".into(),
                    });
                }
                if draws.len() > DRAWS_MAX {
                    return Err(Error::TooMany {
                        field: "draws".into(),
                        count: draws.len(),
                        max: DRAWS_MAX,
                    });
                }
                let mut resolved = PoolAmounts::new();
                for (i, d) in draws.iter().enumerate() {
                    // Bounded before the lookup, so no error carries a huge name.
                    check_max_at(|| format!("draws[{i}].pool"), &d.pool, NAME_LEN_MAX)?;
                    let pool = self.pool_id(&d.pool).ok_or_else(|| Error::UnknownPool {
                        field: format!("draws[{i}].pool"),
                        name: d.pool.clone(),
                    })?;
                    check_range_at(
                        || format!("draws[{i}].amount"),
                        d.amount,
                        1,
                        DRAW_AMOUNT_MAX,
                    )?;
                    if resolved.iter().any(|r| r.pool == pool) {
                        return Err(Error::Duplicate {
                            field: format!("draws[{i}].pool"),
                            name: d.pool.clone(),
                        });
                    }
                    resolved.push(PoolAmount {
                        pool,
                        amount: d.amount,
                    });
                }
                Plan::DefineOffer {
                    name: offer,
                    draws: resolved,
                    policy: *waitlist,
                }
            }
            Action::SetCapacity { pool, capacity } => {
                let capacity = *capacity;
                check_max_at(|| "pool".into(), pool, NAME_LEN_MAX)?;
                let id = self.pool_id(pool).ok_or_else(|| Error::UnknownPool {
                    field: "pool".into(),
                    name: pool.clone(),
                })?;
                check_range("capacity", capacity, 0, CAPACITY_MAX)?;
                Plan::SetCapacity { pool: id, capacity }
            }
            Action::SetDefaultHold { hold_ms } => {
                check_range("hold_ms", *hold_ms, 1, HOLD_MS_MAX)?;
                Plan::SetDefaultHold(*hold_ms)
            }
            Action::Reserve(request) => self.validate_reserve(request)?,
            Action::Confirm { reservation } => match self.reservation_ref(*reservation)?.state {
                ReservationState::Released => {
                    return Err(Error::ReservationState {
                        reservation: *reservation,
                        state: "released",
                        action: "confirmed",
                    })
                }
                _ => Plan::Confirm(*reservation),
            },
            Action::Release { reservation } => {
                self.reservation_ref(*reservation)?;
                Plan::Release(*reservation)
            }
            Action::LeaveWaitlist { entry } => {
                let entry = *entry;
                // Whether it was promoted is decided after time advances: the
                // advance itself may promote it.
                self.wait_entries
                    .get(entry)
                    .ok_or(Error::UnknownWaitEntry(entry))?;
                Plan::Leave(entry)
            }
            Action::Pause => Plan::Pause,
            Action::Resume => Plan::Resume,
            Action::Tick => Plan::Tick,
            Action::DefineConsumer {
                consumer,
                events,
                after,
            } => Plan::DefineConsumer {
                name: consumer,
                interest: self.validate_consumer("consumer", consumer, events, *after)?,
                after: *after,
            },
            Action::Ack { consumer, seq } => {
                self.validate_ack(consumer, *seq)?;
                Plan::Ack {
                    name: consumer,
                    seq: *seq,
                }
            }
        })
    }

    /// The plan for one request (also what a preview judges).
    pub(super) fn validate_reserve<'a>(&self, r: &'a Request) -> Result<Plan<'a>, Error> {
        check_len("request_id", &r.request_id, REQUEST_ID_LEN_MAX)?;
        check_len("customer", &r.customer, CUSTOMER_ID_LEN_MAX)?;
        check_len("channel", &r.channel, CHANNEL_LEN_MAX)?;
        if r.attributes.len() > ATTRIBUTES_MAX {
            return Err(Error::TooMany {
                field: "attributes".into(),
                count: r.attributes.len(),
                max: ATTRIBUTES_MAX,
            });
        }
        for (k, v) in &r.attributes {
            check_len("attributes", k, ATTRIBUTE_KEY_LEN_MAX)?;
            if v.len() > ATTRIBUTE_VALUE_LEN_MAX {
                return Err(Error::TooLong {
                    field: format!("attributes.{k}"),
                    len: v.len(),
                    max: ATTRIBUTE_VALUE_LEN_MAX,
                });
            }
        }
        if r.lines.is_empty() {
            return Err(Error::Empty {
                field: "lines".into(),
            });
        }
        if r.lines.len() > LINES_MAX {
            return Err(Error::TooMany {
                field: "lines".into(),
                count: r.lines.len(),
                max: LINES_MAX,
            });
        }
        if (r.up_to || r.waitlist) && r.lines.len() != 1 {
            return Err(Error::Misuse {
                field: if r.up_to { "up_to" } else { "waitlist" }.into(),
                reason: "needs exactly one line",
            });
        }
        let hold_ms = match r.hold_ms {
            Some(h) => {
                check_range("hold_ms", h, 1, HOLD_MS_MAX)?;
                h
            }
            None => self.default_hold_ms,
        };
        let mut lines = SmallVec::new();
        let mut demand = PoolAmounts::new();
        for (i, l) in r.lines.iter().enumerate() {
            check_max_at(|| format!("lines[{i}].offer"), &l.offer, NAME_LEN_MAX)?;
            let offer = self.offer_id(&l.offer).ok_or_else(|| Error::UnknownOffer {
                field: format!("lines[{i}].offer"),
                name: l.offer.clone(),
            })?;
            check_range_at(
                || format!("lines[{i}].quantity"),
                l.quantity,
                1,
                LINE_QUANTITY_MAX,
            )?;
            add_demand(&mut demand, self.offers[offer].demand(l.quantity)).ok_or_else(|| {
                Error::Overflow {
                    field: format!("lines[{i}]"),
                }
            })?;
            lines.push((offer, l.quantity));
        }
        let fingerprint = fingerprint(r);
        let request_hash = hash_id(&r.request_id);
        if let Some(entry) = self.requests.get(&r.request_id, request_hash) {
            if entry.fingerprint != fingerprint {
                return Err(Error::RequestIdReused {
                    request_id: r.request_id.clone(),
                });
            }
            return Ok(Plan::Repeat(self.recorded_outcome(entry)));
        }
        if self.requests.len() >= REQUESTS_MAX {
            return Err(Error::TooMany {
                field: "requests".into(),
                count: self.requests.len() + 1,
                max: REQUESTS_MAX,
            });
        }
        let customer_hash = hash_name(&r.customer);
        let customer_id = self.customers.find(&r.customer, customer_hash);
        if customer_id.is_none() && self.customers.len() >= CUSTOMERS_MAX {
            return Err(Error::TooMany {
                field: "customers".into(),
                count: self.customers.len() + 1,
                max: CUSTOMERS_MAX,
            });
        }
        if let Some(allowed) = &self.allowed_channels {
            if !self
                .channel_id(&r.channel)
                .is_some_and(|c| allowed.contains(&c))
            {
                return Err(Error::UnknownChannel {
                    name: r.channel.clone(),
                    allowed: allowed
                        .iter()
                        .map(|&c| self.channels[c as usize].as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
        }
        if self.channel_id(&r.channel).is_none() && self.channels.len() >= CHANNELS_MAX {
            return Err(Error::TooMany {
                field: "channels".into(),
                count: self.channels.len() + 1,
                max: CHANNELS_MAX,
            });
        }
        Ok(Plan::Reserve(ReservePlan {
            request_id: &r.request_id,
            request_hash,
            customer: &r.customer,
            customer_hash,
            customer_id,
            channel: &r.channel,
            attributes: &r.attributes,
            lines,
            demand,
            hold_ms,
            confirm: r.confirm,
            up_to: r.up_to,
            waitlist: r.waitlist,
            fingerprint,
        }))
    }

    /// The first outcome of a repeated request, rebuilt from what it created.
    fn recorded_outcome(&self, entry: &RequestRecord) -> Outcome {
        match entry.recorded.unpack() {
            RecordedOutcome::Held(id) => {
                let r = &self.reservations[id];
                Outcome::Held {
                    reservation: id,
                    expires_at: r.expires_at,
                    units: r.units(),
                }
            }
            RecordedOutcome::Confirmed(id) => Outcome::Confirmed {
                reservation: id,
                units: self.reservations[id].units(),
            },
            RecordedOutcome::Waiting(entry) => Outcome::Waiting {
                entry,
                position: self.wait_entries[entry].joined_at_position,
            },
            RecordedOutcome::Refused(i) => Outcome::Refused(self.requests.refusal(i).clone()),
        }
    }
}
