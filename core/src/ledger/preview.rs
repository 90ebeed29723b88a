//! Questions a UI asks without changing anything: what would this request get,
//! why can this offer not be had now, which slots are still free.
//!
//! They run the same `judge` / `intake` code as a real request, so a preview
//! and the real outcome cannot disagree (for the same state and time).

use super::validate::Plan;
use super::Ledger;
use crate::limits::TIMESTAMP_MAX;
use crate::model::{Error, Millis, Outcome, Refusal, Request};
use serde::{Deserialize, Serialize};

/// A delivery slot and how many units a channel can still book in it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotView {
    /// Name of the slot's offer (e.g. `delivery@2026-06-12T18:00`, in local time).
    pub offer: String,
    /// When the slot starts, in ms since the Unix epoch, UTC.
    pub starts_at: Millis,
    /// When the slot ends, in ms since the Unix epoch, UTC.
    pub ends_at: Millis,
    /// Units of the slot's offer the channel could be promised (channel shares
    /// applied); at least 1.
    pub available: u64,
}

impl Ledger {
    /// The ledger as it would be at `at` (due holds expired, waiting lists served),
    /// borrowed when nothing is due, cloned only when something is.
    fn at_time(&self, at: Millis) -> Result<std::borrow::Cow<'_, Ledger>, Error> {
        if at > TIMESTAMP_MAX {
            return Err(Error::OutOfRange {
                field: "at".into(),
                value: at,
                max: TIMESTAMP_MAX,
            });
        }
        if at < self.now {
            return Err(Error::TimeWentBackwards { at, last: self.now });
        }
        if !self.expiries.any_due(at) {
            return Ok(std::borrow::Cow::Borrowed(self));
        }
        let mut later = self.clone();
        later.advance(at, &mut Vec::new());
        Ok(std::borrow::Cow::Owned(later))
    }

    /// The outcome `request` would get at `at`, without changing the ledger:
    /// the same validation, rules and capacity check as [`Ledger::apply`].
    /// Reservation and entry ids in the result are the ones it would be given.
    pub fn preview(&self, request: &Request, at: Millis) -> Result<Outcome, Error> {
        let l = self.at_time(at)?;
        let p = match l.validate_reserve(request)? {
            Plan::Repeat(outcome) => return Ok(outcome),
            Plan::Reserve(p) => p,
            _ => unreachable!("validate_reserve only plans reservations"),
        };
        Ok(match l.judge(at, &p) {
            Ok(grant) => {
                let reservation = l.reservations.next_id();
                let units = match grant {
                    Some(q) => q,
                    None => p.lines.iter().map(|l| l.1).sum(),
                };
                if p.confirm {
                    Outcome::Confirmed { reservation, units }
                } else {
                    Outcome::Held {
                        reservation,
                        expires_at: at + p.hold_ms,
                        units,
                    }
                }
            }
            Err(Refusal::SoldOut { .. }) if p.waitlist => {
                let offer = p.lines[0].0;
                Outcome::Waiting {
                    entry: l.wait_entries.next_id(),
                    position: u32::try_from(l.offers[offer].waiting.len() + 1).unwrap_or(u32::MAX),
                }
            }
            Err(r) => Outcome::Refused(r),
        })
    }

    /// Why one unit of `offer` cannot be had on `channel` at `at`, or `None` if
    /// it can. Customer limits and attribute rules are not judged (no customer).
    pub fn why_unavailable(
        &self,
        offer: &str,
        channel: &str,
        at: Millis,
    ) -> Result<Option<Refusal>, Error> {
        let l = self.at_time(at)?;
        super::validate::check_max_at(|| "offer".into(), offer, crate::limits::NAME_LEN_MAX)?;
        let id = l.offer_id(offer).ok_or_else(|| Error::UnknownOffer {
            field: "offer".into(),
            name: offer.to_owned(),
        })?;
        if l.paused {
            return Ok(Some(Refusal::Paused));
        }
        if let Some(r) = l.intake(at, &[(id, 1)], None, None, false) {
            return Ok(Some(r));
        }
        let ch = l.channel_id(channel);
        let o = &l.offers[id];
        let short = o
            .demand(1)
            .find(|d| d.amount > l.pools[d.pool].available_for(ch))
            .map(|d| {
                let pool = &l.pools[d.pool];
                Refusal::SoldOut {
                    pool: pool.name.clone(),
                    requested: d.amount,
                    left: pool.available_for(ch),
                }
            });
        Ok(short)
    }

    /// Units of `offer` that `channel` could be promised now (channel shares applied).
    pub fn offer_available_for(&self, offer: &str, channel: &str) -> Option<u64> {
        let id = self.offer_id(offer)?;
        Some(self.offers[id].available_for(&self.pools, self.channel_id(channel)))
    }

    /// The next `count` slots of template `template` that `channel` could book
    /// at `from` (not started, not past lead time or cut-off, not full), by start.
    pub fn next_slots(
        &self,
        template: &str,
        from: Millis,
        channel: &str,
        count: usize,
    ) -> Result<Vec<SlotView>, Error> {
        let l = self.at_time(from)?;
        let ch = l.channel_id(channel);
        let mut slots: Vec<SlotView> = l
            .offers
            .iter()
            .filter_map(|(id, o)| {
                let slot = o.slot.as_ref().filter(|s| s.template == template)?;
                if l.paused || l.intake(from, &[(id, 1)], None, None, false).is_some() {
                    return None;
                }
                let available = o.available_for(&l.pools, ch);
                (available > 0).then(|| SlotView {
                    offer: o.name.clone(),
                    starts_at: slot.starts_at,
                    ends_at: slot.ends_at,
                    available,
                })
            })
            .collect();
        slots.sort_by(|a, b| (a.starts_at, &a.offer).cmp(&(b.starts_at, &b.offer)));
        slots.truncate(count);
        Ok(slots)
    }
}
