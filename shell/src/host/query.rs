//! The read-only questions a binding or the server may ask, by one set of
//! names: what the ledger is (pools, offers, catalog), what one customer or
//! reservation has, and what an offer looks like at a time (available, why
//! not, the next free slots). Answers are JSON values, so each shell only
//! renames keys for its language.

use super::ErrorInfo;
use crate::{Error, Ledger, Millis, ReservationId, WaitEntryId};
use serde::Serialize;
use serde_json::Value;

/// A read-only query. Each is answered by [`Query::answer`] from the ledger
/// as it is, at a time for those that depend on one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Query {
    /// One pool's view (`null` if unknown).
    Pool(String),
    /// Every pool, in definition order.
    Pools,
    /// One offer's view (`null` if unknown).
    Offer(String),
    /// Every offer, in definition order.
    Offers,
    /// Units of an offer a request on `channel` could get now (`null` if unknown).
    Available {
        /// The offer.
        offer: String,
        /// The channel asking.
        channel: String,
    },
    /// Why an offer is unavailable at the query's time (`null` if it is available).
    WhyUnavailable {
        /// The offer.
        offer: String,
        /// The channel asking.
        channel: String,
    },
    /// The next free slots of a slot template from the query's time.
    NextSlots {
        /// The slot template.
        template: String,
        /// The channel asking.
        channel: String,
        /// At most this many.
        count: usize,
    },
    /// One reservation's view (`null` if unknown).
    Reservation(ReservationId),
    /// What a customer holds or has confirmed, per limit name.
    CustomerUsage(String),
    /// An offer's waiting list (`null` if the offer is unknown).
    Waitlist(String),
    /// One waiting-list entry (`null` if unknown).
    WaitEntry(WaitEntryId),
    /// The availability snapshot (the wire format a browser mirror loads).
    Snapshot,
    /// The compiled catalog (`null` before one is loaded).
    Catalog,
    /// The state digest, as hex.
    Digest,
    /// The last event's sequence number.
    Seq,
    /// The ledger's time: the last command's.
    Now,
    /// Whether sales are paused.
    Paused,
    /// One consumer of the event stream: its event types and cursor (`null` if unknown).
    Consumer(String),
    /// Every consumer, by name.
    Consumers,
}

/// The loose arguments a binding passes with a query's name; [`Query::parse`]
/// takes the ones the query needs and names any that is missing.
#[derive(Clone, Debug, Default)]
pub struct QueryArgs {
    /// The pool, offer, template or customer the query is about.
    pub name: Option<String>,
    /// The reservation or waiting-entry number.
    pub number: Option<u64>,
    /// The channel asking (default `web`).
    pub channel: Option<String>,
    /// How many slots at most (default 10).
    pub count: Option<usize>,
}

impl Query {
    /// Every query's name, as [`Query::parse`] takes them.
    pub const NAMES: &'static [&'static str] = &[
        "pool",
        "pools",
        "offer",
        "offers",
        "available",
        "why_unavailable",
        "next_slots",
        "reservation",
        "customer_usage",
        "waitlist",
        "wait_entry",
        "snapshot",
        "catalog",
        "digest",
        "seq",
        "now",
        "paused",
        "consumer",
        "consumers",
    ];

    /// The query called `what`, with what it needs from `args`.
    ///
    /// ```
    /// use kontingent::host::{Query, QueryArgs};
    /// let q = Query::parse("available", QueryArgs { name: Some("seat".into()), ..Default::default() });
    /// assert_eq!(q.unwrap(), Query::Available { offer: "seat".into(), channel: "web".into() });
    /// assert_eq!(Query::parse("offer_available", QueryArgs::default()).unwrap_err().code, "invalid_input");
    /// ```
    pub fn parse(what: &str, args: QueryArgs) -> Result<Query, ErrorInfo> {
        let QueryArgs {
            name,
            number,
            channel,
            count,
        } = args;
        let name = || {
            name.clone().ok_or_else(|| {
                ErrorInfo::invalid_input("name", format!("query {what:?} needs a name"))
            })
        };
        let number = || {
            number.ok_or_else(|| {
                ErrorInfo::invalid_input("number", format!("query {what:?} needs a number"))
            })
        };
        let channel = channel.clone().unwrap_or_else(|| "web".to_owned());
        Ok(match what {
            "pool" => Query::Pool(name()?),
            "pools" => Query::Pools,
            "offer" => Query::Offer(name()?),
            "offers" => Query::Offers,
            "available" => Query::Available {
                offer: name()?,
                channel,
            },
            "why_unavailable" => Query::WhyUnavailable {
                offer: name()?,
                channel,
            },
            "next_slots" => Query::NextSlots {
                template: name()?,
                channel,
                count: count.unwrap_or(10),
            },
            "reservation" => Query::Reservation(ReservationId(number()?)),
            "customer_usage" => Query::CustomerUsage(name()?),
            "waitlist" => Query::Waitlist(name()?),
            "wait_entry" => Query::WaitEntry(WaitEntryId(number()?)),
            "snapshot" => Query::Snapshot,
            "catalog" => Query::Catalog,
            "digest" => Query::Digest,
            "seq" => Query::Seq,
            "now" => Query::Now,
            "paused" => Query::Paused,
            "consumer" => Query::Consumer(name()?),
            "consumers" => Query::Consumers,
            other => {
                return Err(ErrorInfo::invalid_input(
                    "query",
                    format!("{other:?} is not one of {}", Query::NAMES.join(", ")),
                ))
            }
        })
    }

    /// This query's name, as [`Query::parse`] takes it.
    pub fn name(&self) -> &'static str {
        match self {
            Query::Pool(_) => "pool",
            Query::Pools => "pools",
            Query::Offer(_) => "offer",
            Query::Offers => "offers",
            Query::Available { .. } => "available",
            Query::WhyUnavailable { .. } => "why_unavailable",
            Query::NextSlots { .. } => "next_slots",
            Query::Reservation(_) => "reservation",
            Query::CustomerUsage(_) => "customer_usage",
            Query::Waitlist(_) => "waitlist",
            Query::WaitEntry(_) => "wait_entry",
            Query::Snapshot => "snapshot",
            Query::Catalog => "catalog",
            Query::Digest => "digest",
            Query::Seq => "seq",
            Query::Now => "now",
            Query::Paused => "paused",
            Query::Consumer(_) => "consumer",
            Query::Consumers => "consumers",
        }
    }

    /// The answer from `ledger`, at `at` for the queries that depend on a time.
    pub fn answer(&self, ledger: &Ledger, at: Millis) -> Result<Value, Error> {
        Ok(match self {
            Query::Pool(name) => json(ledger.pool(name)),
            Query::Pools => json(ledger.pools()),
            Query::Offer(name) => json(ledger.offer(name)),
            Query::Offers => json(ledger.offers()),
            Query::Available { offer, channel } => json(ledger.offer_available_for(offer, channel)),
            Query::WhyUnavailable { offer, channel } => {
                json(ledger.why_unavailable(offer, channel, at)?)
            }
            Query::NextSlots {
                template,
                channel,
                count,
            } => json(ledger.next_slots(template, at, channel, *count)?),
            Query::Reservation(id) => json(ledger.reservation(*id)),
            Query::CustomerUsage(customer) => json(ledger.customer_usage(customer)),
            Query::Waitlist(offer) => json(ledger.waitlist(offer)),
            Query::WaitEntry(id) => json(ledger.wait_entry(*id)),
            Query::Snapshot => json(ledger.snapshot()),
            Query::Catalog => json(ledger.catalog()),
            Query::Digest => Value::String(ledger.digest().to_string()),
            Query::Seq => Value::from(ledger.seq()),
            Query::Now => Value::from(ledger.now()),
            Query::Paused => Value::from(ledger.is_paused()),
            Query::Consumer(name) => json(ledger.consumer(name)),
            Query::Consumers => json(ledger.consumers()),
        })
    }
}

/// Views serialize to JSON without fail (no maps with non-string keys, no
/// non-finite floats); `null` stands in should one ever not.
fn json(v: impl Serialize) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_parses_and_names_round_trip() {
        let args = QueryArgs {
            name: Some("x".into()),
            number: Some(1),
            channel: None,
            count: None,
        };
        for name in Query::NAMES {
            assert_eq!(Query::parse(name, args.clone()).unwrap().name(), *name);
        }
        let mut names = Query::NAMES.to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Query::NAMES.len(), "a name is listed twice");
    }

    #[test]
    fn a_missing_argument_is_named() {
        let e = Query::parse("reservation", QueryArgs::default()).unwrap_err();
        assert_eq!(e.code, "invalid_input");
        assert!(e.message.starts_with("number:"), "{}", e.message);
    }
}
