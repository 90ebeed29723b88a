//! Order-intake rules, resolved to ids and evaluated atomically with the
//! capacity check. Pure functions of the ledger's state and the request; the
//! browser preview runs this same code.

use crate::model::{Millis, OfferId, PoolId, Refusal, SalesWindow, Slot};
use std::collections::{BTreeMap, BTreeSet};

/// A rule with its scope resolved to offer ids.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Rule {
    pub name: String,
    /// Sorted offer ids; `None` means every offer.
    pub scope: Option<Vec<OfferId>>,
    pub condition: Condition,
}

/// What a rule checks, resolved to ids (the catalog's [`crate::catalog::RuleKind`]
/// names pools and offers; a condition numbers them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Condition {
    CustomerLimit {
        measure: Measure,
        per_offer: bool,
    },
    OrderSize {
        min_units: Option<u64>,
        max_units: Option<u64>,
    },
    MinOrderValue {
        value: u64,
    },
    AllowedValues {
        attribute: String,
        values: BTreeSet<String>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Measure {
    Units(u64),
    Value(u64),
    PoolAmount { pool: PoolId, amount: u64 },
}

/// What the rules need to know about an offer.
pub(crate) trait OfferFacts {
    fn price(&self, offer: OfferId) -> u64;
    /// Amount one unit of `offer` draws from `pool` (0 if none).
    fn draw(&self, offer: OfferId, pool: PoolId) -> u64;
}

/// A request as the rules see it: lines aggregated per offer, in offer order.
pub(crate) struct Ask<'a> {
    pub lines: &'a [(OfferId, u64)],
    pub attributes: Option<&'a BTreeMap<String, String>>,
    /// `(offer, units held + confirmed)` of the customer, in offer order;
    /// `None` when the customer is not known (previews), which skips limits.
    pub usage: Option<&'a [(OfferId, u64)]>,
}

impl Rule {
    pub fn is_customer_limit(&self) -> bool {
        matches!(self.condition, Condition::CustomerLimit { .. })
    }

    fn applies(&self, offer: OfferId) -> bool {
        match &self.scope {
            None => true,
            Some(s) => s.binary_search(&offer).is_ok(),
        }
    }

    /// The refusal this rule gives, if any. All sums saturate: the inputs are
    /// bounded (quantities ≤ 1e9, prices and limits ≤ 2^53), and a saturated sum
    /// only makes a refusal more certain, never a false yes.
    pub fn check(&self, ask: &Ask<'_>, facts: &impl OfferFacts) -> Option<Refusal> {
        let scoped = || ask.lines.iter().filter(|(o, _)| self.applies(*o));
        match &self.condition {
            Condition::OrderSize {
                min_units,
                max_units,
            } => {
                scoped().next()?;
                let units = scoped().fold(0u64, |s, (_, q)| s.saturating_add(*q));
                if let Some(min) = min_units.filter(|&m| units < m) {
                    return Some(
                        self.refuse(format!("at least {min} units per order, got {units}")),
                    );
                }
                if let Some(max) = max_units.filter(|&m| units > m) {
                    return Some(
                        self.refuse(format!("at most {max} units per order, got {units}")),
                    );
                }
                None
            }
            Condition::MinOrderValue { value } => {
                scoped().next()?;
                let total = scoped().fold(0u64, |s, (o, q)| {
                    s.saturating_add(facts.price(*o).saturating_mul(*q))
                });
                (total < *value).then(|| {
                    self.refuse(format!(
                        "minimum order value {value}, order is worth {total}"
                    ))
                })
            }
            Condition::AllowedValues { attribute, values } => {
                scoped().next()?;
                let attributes = ask.attributes?;
                match attributes.get(attribute) {
                    None => Some(self.refuse(format!("{attribute} is missing"))),
                    Some(v) if !values.contains(v) => {
                        Some(self.refuse(format!("{attribute} {v:?} is not served")))
                    }
                    Some(_) => None,
                }
            }
            Condition::CustomerLimit { measure, per_offer } => {
                let usage = ask.usage?;
                let weigh = |offer: OfferId, units: u64| -> u64 {
                    match measure {
                        Measure::Units(_) => units,
                        Measure::Value(_) => facts.price(offer).saturating_mul(units),
                        Measure::PoolAmount { pool, .. } => {
                            facts.draw(offer, *pool).saturating_mul(units)
                        }
                    }
                };
                let limit = match measure {
                    Measure::Units(l) | Measure::Value(l) => *l,
                    Measure::PoolAmount { amount, .. } => *amount,
                };
                let over = |used: u64, asked: u64| -> Option<Refusal> {
                    (used.saturating_add(asked) > limit).then(|| Refusal::CustomerLimit {
                        name: self.name.clone(),
                        limit,
                        used,
                    })
                };
                if *per_offer {
                    for &(offer, q) in scoped() {
                        let used = usage
                            .iter()
                            .find(|(o, _)| *o == offer)
                            .map_or(0, |&(o, u)| weigh(o, u));
                        if let Some(r) = over(used, weigh(offer, q)) {
                            return Some(r);
                        }
                    }
                    None
                } else {
                    let asked = scoped().fold(0u64, |s, &(o, q)| s.saturating_add(weigh(o, q)));
                    if asked == 0 {
                        return None;
                    }
                    let used = usage
                        .iter()
                        .filter(|(o, _)| self.applies(*o))
                        .fold(0u64, |s, &(o, u)| s.saturating_add(weigh(o, u)));
                    over(used, asked)
                }
            }
        }
    }

    fn refuse(&self, detail: String) -> Refusal {
        Refusal::Rule {
            name: self.name.clone(),
            detail,
        }
    }
}

/// `not_open_yet` before `opens_at`; `closed` from `closes_at` on.
pub(crate) fn check_window(w: &SalesWindow, at: Millis) -> Option<Refusal> {
    if let Some(opens_at) = w.opens_at.filter(|&o| at < o) {
        return Some(Refusal::NotOpenYet { opens_at });
    }
    if let Some(closed_at) = w.closes_at.filter(|&c| at >= c) {
        return Some(Refusal::Closed { closed_at });
    }
    None
}

/// A started slot is closed; then the same-day cut-off; then the lead time.
pub(crate) fn check_slot(s: &Slot, name: &str, at: Millis) -> Option<Refusal> {
    if at >= s.starts_at {
        return Some(Refusal::Closed {
            closed_at: s.starts_at,
        });
    }
    if let Some(cutoff) = s.cutoff_at.filter(|&c| at >= c) {
        return Some(Refusal::Rule {
            name: "same_day_cutoff".into(),
            detail: format!("{name}: same-day orders close at {cutoff}"),
        });
    }
    if let Some(lead) = s.lead_ms {
        let last = s.starts_at.saturating_sub(lead);
        if at > last {
            return Some(Refusal::Rule {
                name: "lead_time".into(),
                detail: format!("{name} starts in less than {} min", lead / 60_000),
            });
        }
    }
    None
}
