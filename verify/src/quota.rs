//! The ledger's sequential specification, restricted to what the harness's
//! clients do, written from `docs/SEMANTICS.md` alone (not from `core/src`).
//!
//! The catalog: a few pools, each with one offer that draws 1 unit of it (see
//! [`offer_for`]). Commands all carry the same logical time, so no hold ever
//! expires and nothing is paused; there are no waiting lists and no rules.
//! What is left is the heart of the contract:
//!
//! - reserve: a repeated request id with the same content answers the first
//!   outcome (refusals included, and `held` stays `held` after a confirmation),
//!   with different content it is `request_id_reused`; otherwise sold out when
//!   the units asked for exceed `capacity - held - confirmed`, else held or
//!   confirmed;
//! - confirm: held → confirmed; confirmed → confirmed again; released → the
//!   error `reservation_state`;
//! - release: held or confirmed → released (units back); released → released.
//!
//! Reservations are named by the request id that created them, which the model
//! knows, instead of the ledger's reservation id, which it may not: ids are one
//! counter across all pools, so with per-pool partitions ([`QuotaSpec::per_pool`])
//! a pool's sub-history cannot predict them. That mode compares answers without
//! the id (kind and units), and [`check_reservation_ids`] checks the ids apart.
//! [`QuotaSpec::whole`] checks everything, ids included, in one partition.
//!
//! Per-pool partitioning is sound because in this harness no operation touches
//! two pools (one offer per pool, one line per request, request ids never shared
//! between pools) and, ids aside, no answer depends on another pool.

use crate::history::History;
use crate::linearizability::Spec;
use kontingent::{Action, Outcome, Refusal, Request, ReservationId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// What a harness client asks.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum QuotaOp {
    Reserve {
        request_id: String,
        customer: String,
        pool: String,
        units: u64,
        confirm: bool,
    },
    /// `reservation` is what the ledger is sent; `request_id` is how the model
    /// knows the reservation (the request that created it).
    Confirm {
        request_id: String,
        pool: String,
        reservation: u64,
    },
    Release {
        request_id: String,
        pool: String,
        reservation: u64,
    },
}

impl QuotaOp {
    pub fn pool(&self) -> &str {
        match self {
            QuotaOp::Reserve { pool, .. }
            | QuotaOp::Confirm { pool, .. }
            | QuotaOp::Release { pool, .. } => pool,
        }
    }

    /// The ledger command for this operation.
    pub fn to_action(&self) -> Action {
        match self {
            QuotaOp::Reserve {
                request_id,
                customer,
                pool,
                units,
                confirm,
            } => {
                let r = Request::new(request_id.as_str(), customer.as_str())
                    .line(offer_for(pool), *units);
                Action::Reserve(if *confirm { r.confirm() } else { r })
            }
            QuotaOp::Confirm { reservation, .. } => Action::Confirm {
                reservation: ReservationId(*reservation),
            },
            QuotaOp::Release { reservation, .. } => Action::Release {
                reservation: ReservationId(*reservation),
            },
        }
    }
}

/// The name of the one offer drawing 1 unit of `pool`.
pub fn offer_for(pool: &str) -> String {
    format!("{pool}-unit")
}

/// An answer. `reservation` is `None` where the model cannot know the id.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum QuotaRet {
    Held {
        units: u64,
        reservation: Option<u64>,
    },
    Confirmed {
        units: u64,
        reservation: Option<u64>,
    },
    SoldOut {
        requested: u64,
        left: u64,
    },
    Released {
        reservation: Option<u64>,
    },
    /// An invalid command (`Err`): the ledger's error code.
    Error {
        code: String,
    },
}

impl QuotaRet {
    /// The ledger's outcome in this vocabulary. Outcomes the harness never
    /// provokes become an `Error` that no model answer matches.
    pub fn from_outcome(outcome: &Outcome) -> QuotaRet {
        match outcome {
            Outcome::Held {
                reservation, units, ..
            } => QuotaRet::Held {
                units: *units,
                reservation: Some(reservation.0),
            },
            Outcome::Confirmed { reservation, units } => QuotaRet::Confirmed {
                units: *units,
                reservation: Some(reservation.0),
            },
            Outcome::Released { reservation } => QuotaRet::Released {
                reservation: Some(reservation.0),
            },
            Outcome::Refused(Refusal::SoldOut {
                requested, left, ..
            }) => QuotaRet::SoldOut {
                requested: *requested,
                left: *left,
            },
            other => QuotaRet::Error {
                code: format!("unexpected outcome {other:?}"),
            },
        }
    }

    /// The reservation id an observed promise or confirmation carries.
    pub fn reservation(&self) -> Option<u64> {
        match self {
            QuotaRet::Held { reservation, .. }
            | QuotaRet::Confirmed { reservation, .. }
            | QuotaRet::Released { reservation } => *reservation,
            _ => None,
        }
    }
}

/// Where a reservation stands, in the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Standing {
    Refused,
    Held,
    Confirmed,
    Released,
}

/// What the model remembers of one request id.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Remembered {
    /// Everything but the request id: a repeat must match it. (Shared strings
    /// and a pool index keep cloning a state cheap: the search clones one per step.)
    customer: Arc<str>,
    pool: usize,
    units: u64,
    confirm: bool,
    first: QuotaRet,
    standing: Standing,
    /// The model's reservation id (only in [`QuotaSpec::whole`]).
    id: Option<u64>,
}

/// The model's state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct QuotaState {
    /// Held + confirmed units per pool (same order as the spec's pools).
    used: Vec<u64>,
    requests: BTreeMap<Arc<str>, Remembered>,
    /// The last reservation id handed out (only in [`QuotaSpec::whole`]).
    last_id: u64,
}

/// The specification. See the module docs.
#[derive(Clone, Debug)]
pub struct QuotaSpec {
    pools: Vec<(String, u64)>,
    exact_ids: bool,
}

impl QuotaSpec {
    /// One partition per pool; reservation ids are not compared (check them
    /// with [`check_reservation_ids`]).
    pub fn per_pool(pools: &[(String, u64)]) -> Self {
        QuotaSpec {
            pools: pools.to_vec(),
            exact_ids: false,
        }
    }

    /// One partition for everything; reservation ids must be 1, 2, 3... in
    /// linearization order. Exponentially slower on wide histories.
    pub fn whole(pools: &[(String, u64)]) -> Self {
        QuotaSpec {
            pools: pools.to_vec(),
            exact_ids: true,
        }
    }

    pub fn pools(&self) -> &[(String, u64)] {
        &self.pools
    }

    fn pool_index(&self, pool: &str) -> Option<usize> {
        self.pools.iter().position(|(name, _)| name == pool)
    }

    fn error(code: &str) -> QuotaRet {
        QuotaRet::Error { code: code.into() }
    }

    /// The model's reservation for a confirm or release, or the error the
    /// ledger would give.
    fn reservation<'s>(
        &self,
        s: &'s QuotaState,
        request_id: &str,
        reservation: u64,
    ) -> Result<&'s Remembered, QuotaRet> {
        match s.requests.get(request_id) {
            Some(r) if r.standing != Standing::Refused => {
                if self.exact_ids && r.id != Some(reservation) {
                    // The client named a different reservation than the model's.
                    return Err(Self::error("model: reservation id mismatch"));
                }
                Ok(r)
            }
            _ => Err(Self::error("unknown_reservation")),
        }
    }
}

/// Ids are compared only where the model knows them.
fn same_id(model: &Option<u64>, observed: &Option<u64>) -> bool {
    model.is_none() || model == observed
}

impl Spec for QuotaSpec {
    type State = QuotaState;
    type Op = QuotaOp;
    type Ret = QuotaRet;

    fn init(&self) -> QuotaState {
        QuotaState {
            used: vec![0; self.pools.len()],
            ..QuotaState::default()
        }
    }

    fn step(&self, s: &QuotaState, op: &QuotaOp) -> (QuotaState, QuotaRet) {
        match op {
            QuotaOp::Reserve {
                request_id,
                customer,
                pool,
                units,
                confirm,
            } => {
                let Some(p) = self.pool_index(pool) else {
                    return (s.clone(), Self::error("unknown_offer"));
                };
                if let Some(r) = s.requests.get(request_id.as_str()) {
                    let same = (&*r.customer, r.pool, r.units, r.confirm)
                        == (customer.as_str(), p, *units, *confirm);
                    return if same {
                        (s.clone(), r.first.clone())
                    } else {
                        (s.clone(), Self::error("request_id_reused"))
                    };
                }
                if !(1..=1_000_000_000).contains(units) {
                    // Never sent by the harness; the model does not guess the error.
                    return (s.clone(), Self::error("model: quantity out of range"));
                }
                let mut next = s.clone();
                let left = self.pools[p].1.saturating_sub(s.used[p]);
                let (first, standing, id) = if *units > left {
                    let first = QuotaRet::SoldOut {
                        requested: *units,
                        left,
                    };
                    (first, Standing::Refused, None)
                } else {
                    next.used[p] += units;
                    let id = if self.exact_ids {
                        next.last_id += 1;
                        Some(next.last_id)
                    } else {
                        None
                    };
                    if *confirm {
                        let r = QuotaRet::Confirmed {
                            units: *units,
                            reservation: id,
                        };
                        (r, Standing::Confirmed, id)
                    } else {
                        let r = QuotaRet::Held {
                            units: *units,
                            reservation: id,
                        };
                        (r, Standing::Held, id)
                    }
                };
                next.requests.insert(
                    request_id.as_str().into(),
                    Remembered {
                        customer: customer.as_str().into(),
                        pool: p,
                        units: *units,
                        confirm: *confirm,
                        first: first.clone(),
                        standing,
                        id,
                    },
                );
                (next, first)
            }
            QuotaOp::Confirm {
                request_id,
                reservation,
                ..
            } => {
                let r = match self.reservation(s, request_id, *reservation) {
                    Ok(r) => r,
                    Err(e) => return (s.clone(), e),
                };
                let answer = QuotaRet::Confirmed {
                    units: r.units,
                    reservation: Some(*reservation),
                };
                match r.standing {
                    Standing::Held => {
                        let mut next = s.clone();
                        if let Some(r) = next.requests.get_mut(request_id.as_str()) {
                            r.standing = Standing::Confirmed;
                        }
                        (next, answer)
                    }
                    Standing::Confirmed => (s.clone(), answer),
                    _ => (s.clone(), Self::error("reservation_state")),
                }
            }
            QuotaOp::Release {
                request_id,
                reservation,
                ..
            } => {
                let r = match self.reservation(s, request_id, *reservation) {
                    Ok(r) => r,
                    Err(e) => return (s.clone(), e),
                };
                let answer = QuotaRet::Released {
                    reservation: Some(*reservation),
                };
                match r.standing {
                    Standing::Held | Standing::Confirmed => {
                        let mut next = s.clone();
                        next.used[r.pool] -= r.units;
                        if let Some(r) = next.requests.get_mut(request_id.as_str()) {
                            r.standing = Standing::Released;
                        }
                        (next, answer)
                    }
                    _ => (s.clone(), answer),
                }
            }
        }
    }

    fn accepts(&self, model: &QuotaRet, observed: &QuotaRet) -> bool {
        use QuotaRet::*;
        match (model, observed) {
            (
                Held {
                    units: a,
                    reservation: ra,
                },
                Held {
                    units: b,
                    reservation: rb,
                },
            )
            | (
                Confirmed {
                    units: a,
                    reservation: ra,
                },
                Confirmed {
                    units: b,
                    reservation: rb,
                },
            ) => a == b && same_id(ra, rb),
            (Released { reservation: ra }, Released { reservation: rb }) => same_id(ra, rb),
            _ => model == observed,
        }
    }

    fn partition(&self, op: &QuotaOp) -> String {
        if self.exact_ids {
            String::new()
        } else {
            op.pool().to_owned()
        }
    }
}

/// The reservation-id half of the contract that per-pool partitions cannot
/// see: one request id, one reservation id (repeats answer the same one); no
/// reservation id for two request ids; a confirm or release answers for the
/// reservation it named, which is the one its request created.
pub fn check_reservation_ids(history: &History<QuotaOp, QuotaRet>) -> Result<(), String> {
    let mut by_request: BTreeMap<&str, u64> = BTreeMap::new();
    let mut by_id: BTreeMap<u64, &str> = BTreeMap::new();
    for (i, o) in history.ops.iter().enumerate() {
        let (QuotaOp::Reserve { request_id, .. }, Some(ret)) = (&o.op, &o.ret) else {
            continue;
        };
        if !matches!(ret, QuotaRet::Held { .. } | QuotaRet::Confirmed { .. }) {
            continue;
        }
        let Some(id) = ret.reservation() else {
            return Err(format!("op #{i}: a promise without a reservation id"));
        };
        if let Some(&before) = by_request.get(request_id.as_str()) {
            if before != id {
                return Err(format!(
                    "op #{i}: request {request_id:?} answered reservation {id}, earlier {before}"
                ));
            }
        }
        by_request.insert(request_id, id);
        if let Some(&other) = by_id.get(&id) {
            if other != request_id {
                return Err(format!(
                    "op #{i}: reservation {id} handed out for both {other:?} and {request_id:?}"
                ));
            }
        }
        by_id.insert(id, request_id);
    }
    for (i, o) in history.ops.iter().enumerate() {
        let (QuotaOp::Confirm {
            request_id,
            reservation,
            ..
        }
        | QuotaOp::Release {
            request_id,
            reservation,
            ..
        }) = &o.op
        else {
            continue;
        };
        if let Some(got) = o.ret.as_ref().and_then(QuotaRet::reservation) {
            if got != *reservation {
                return Err(format!(
                    "op #{i}: named reservation {reservation}, answered for {got}"
                ));
            }
        }
        if let Some(&owner) = by_id.get(reservation) {
            if owner != request_id {
                return Err(format!(
                    "op #{i}: reservation {reservation} belongs to {owner:?}, not {request_id:?}"
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Operation;
    use crate::linearizability::{check, Config};

    fn pools() -> Vec<(String, u64)> {
        vec![("a".into(), 1), ("b".into(), 2)]
    }

    fn reserve(id: &str, pool: &str, units: u64, confirm: bool) -> QuotaOp {
        QuotaOp::Reserve {
            request_id: id.into(),
            customer: format!("c-{id}"),
            pool: pool.into(),
            units,
            confirm,
        }
    }

    fn held(units: u64, id: u64) -> QuotaRet {
        QuotaRet::Held {
            units,
            reservation: Some(id),
        }
    }

    fn run(spec: &QuotaSpec, ops: &[QuotaOp]) -> Vec<QuotaRet> {
        let mut s = spec.init();
        ops.iter()
            .map(|op| {
                let (next, r) = spec.step(&s, op);
                s = next;
                r
            })
            .collect()
    }

    #[test]
    fn sequential_semantics() {
        let spec = QuotaSpec::whole(&pools());
        let rel = |id: &str, r| QuotaOp::Release {
            request_id: id.into(),
            pool: "a".into(),
            reservation: r,
        };
        let conf = |id: &str, r| QuotaOp::Confirm {
            request_id: id.into(),
            pool: "a".into(),
            reservation: r,
        };
        let got = run(
            &spec,
            &[
                reserve("r1", "a", 1, false),
                reserve("r2", "a", 1, false),
                reserve("r1", "a", 1, false),
                reserve("r1", "a", 1, true),
                conf("r1", 1),
                reserve("r1", "a", 1, false),
                rel("r1", 1),
                conf("r1", 1),
                rel("r1", 1),
                reserve("r2", "a", 1, false),
                reserve("r3", "a", 2, true),
                reserve("r4", "b", 2, true),
                conf("r9", 7),
            ],
        );
        let sold_out = |requested, left| QuotaRet::SoldOut { requested, left };
        let error = |code: &str| QuotaRet::Error { code: code.into() };
        assert_eq!(
            got,
            vec![
                held(1, 1),
                sold_out(1, 0),
                held(1, 1),
                error("request_id_reused"),
                QuotaRet::Confirmed {
                    units: 1,
                    reservation: Some(1)
                },
                // The first outcome, though confirmed since.
                held(1, 1),
                QuotaRet::Released {
                    reservation: Some(1)
                },
                error("reservation_state"),
                QuotaRet::Released {
                    reservation: Some(1)
                },
                // Refusals are remembered too.
                sold_out(1, 0),
                sold_out(2, 1),
                QuotaRet::Confirmed {
                    units: 2,
                    reservation: Some(2)
                },
                error("unknown_reservation"),
            ]
        );
    }

    #[test]
    fn per_pool_ignores_ids_but_whole_checks_them() {
        // Two pools, ids handed out across both: pool b's sub-history alone
        // cannot know its reservation got id 2.
        let h = History {
            ops: vec![
                Operation::completed(1, 0, 10, reserve("x", "a", 1, false), held(1, 1)),
                Operation::completed(2, 20, 30, reserve("y", "b", 1, false), held(1, 2)),
            ],
        };
        let c = Config::default();
        assert!(check(&QuotaSpec::per_pool(&pools()), &h, &c).is_linearizable());
        assert!(check(&QuotaSpec::whole(&pools()), &h, &c).is_linearizable());
        check_reservation_ids(&h).unwrap();
        let mut bad = h.clone();
        bad.ops[1].ret = Some(held(1, 1));
        assert!(check(&QuotaSpec::per_pool(&pools()), &bad, &c).is_linearizable());
        assert!(check(&QuotaSpec::whole(&pools()), &bad, &c).is_violation());
        assert!(check_reservation_ids(&bad).is_err());
    }

    #[test]
    fn concurrent_reserves_of_the_last_unit() {
        let spec = QuotaSpec::per_pool(&pools());
        let c = Config::default();
        let two_held = History {
            ops: vec![
                Operation::completed(1, 0, 10, reserve("x", "a", 1, false), held(1, 1)),
                Operation::completed(2, 5, 15, reserve("y", "a", 1, false), held(1, 2)),
            ],
        };
        assert!(check(&spec, &two_held, &c).is_violation());
        let one_sold_out = History {
            ops: vec![
                Operation::completed(1, 0, 10, reserve("x", "a", 1, false), held(1, 1)),
                Operation::completed(
                    2,
                    5,
                    15,
                    reserve("y", "a", 1, false),
                    QuotaRet::SoldOut {
                        requested: 1,
                        left: 0,
                    },
                ),
            ],
        };
        assert!(check(&spec, &one_sold_out, &c).is_linearizable());
    }

    #[test]
    fn a_double_click_answers_the_first_outcome_to_both() {
        let spec = QuotaSpec::per_pool(&pools());
        let c = Config::default();
        let h = |second: QuotaRet| History {
            ops: vec![
                Operation::completed(1, 0, 10, reserve("x", "a", 1, false), held(1, 1)),
                Operation::completed(2, 5, 15, reserve("x", "a", 1, false), second),
            ],
        };
        assert!(check(&spec, &h(held(1, 1)), &c).is_linearizable());
        let sold_out = QuotaRet::SoldOut {
            requested: 1,
            left: 0,
        };
        assert!(check(&spec, &h(sold_out), &c).is_violation());
    }

    #[test]
    fn ops_serialise_as_tagged_json() {
        let op = reserve("x", "a", 1, true);
        let text = serde_json::to_string(&op).unwrap();
        assert!(text.contains(r#""type":"reserve""#), "{text}");
        assert_eq!(serde_json::from_str::<QuotaOp>(&text).unwrap(), op);
        let ret = held(1, 3);
        let text = serde_json::to_string(&ret).unwrap();
        assert!(text.contains(r#""status":"held""#), "{text}");
    }
}
