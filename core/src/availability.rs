//! Availability snapshots and deltas: what a browser may see.
//!
//! A [`Snapshot`] is every pool's counters and every offer's draws at one seq.
//! A [`Delta`] is one event with everything private removed (no customer,
//! request, reservation or waiting-entry ids). Applying the deltas after a
//! snapshot's seq, in order, gives exactly the snapshot at any later seq;
//! a gap or a replayed delta is refused.

use crate::model::{Event, EventKind, OfferId, PoolAmount, PoolAmounts, PoolId, Standing};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// One pool's counters in a snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolLevel {
    /// Pool name, unique among pools; the pool's id is its index in [`Snapshot::pools`].
    pub name: String,
    /// Total units of the pool; may be below `held + confirmed` after it was lowered.
    pub capacity: u64,
    /// Units promised by holds that have not yet expired, been confirmed or released.
    pub held: u64,
    /// Units promised by confirmed reservations.
    pub confirmed: u64,
    /// Channel shares of this pool (units kept for one channel), with what that
    /// channel holds now: a preview needs them to answer as the server would.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shares: Vec<ShareLevel>,
}

/// `keep` units of a pool kept for one channel; `promised` is what that channel
/// holds or has confirmed now. `channel` is the number events and deltas give the
/// channel (the order the ledger first met channels in), `name` its name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareLevel {
    /// The ledger's number for the channel, as [`Change::Levels`] carries it.
    pub channel: u16,
    /// The channel's name (a number means nothing outside the ledger that gave it).
    pub name: String,
    /// Units of the pool kept for this channel (the `channel_share` rule's `keep`).
    pub keep: u64,
    /// Units of the pool this channel holds or has confirmed now; they count toward `keep`.
    pub promised: u64,
}

impl PoolLevel {
    /// Units free for a new promise: `capacity - held - confirmed`, or 0 if that is
    /// negative. Channel shares are not deducted.
    pub fn available(&self) -> u64 {
        self.capacity
            .saturating_sub(self.held.saturating_add(self.confirmed))
    }
}

/// One offer's draws in a snapshot; its availability follows from the pools.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferLevel {
    /// Offer name, unique among offers; the offer's id is its index in [`Snapshot::offers`].
    pub name: String,
    /// Units taken from each pool per unit of the offer, in definition order.
    pub draws: Vec<PoolAmount>,
}

/// Availability of every pool and offer at `seq`. Pools and offers are indexed by id.
///
/// ```
/// use kontingent_core::{Action, Command, Draw, Ledger, Request, Snapshot, Delta};
/// let mut ledger = Ledger::new();
/// ledger.apply(&Command::new(0, Action::DefinePool { pool: "zur-post".into(), capacity: 3 })).unwrap();
/// let mut preview: Snapshot = ledger.snapshot();
/// let applied = ledger.apply(&Command::new(1, Action::SetCapacity { pool: "zur-post".into(), capacity: 5 })).unwrap();
/// for event in &applied.events {
///     preview.apply(&Delta::from_event(event)).unwrap();
/// }
/// assert_eq!(preview, ledger.snapshot());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Seq of the last event it reflects (0 before any); the next delta must be `seq + 1`.
    pub seq: u64,
    /// Whether intake is paused (every reserve is refused `paused`).
    pub paused: bool,
    /// Every pool, indexed by [`PoolId`].
    pub pools: Vec<PoolLevel>,
    /// Every offer, indexed by [`OfferId`].
    pub offers: Vec<OfferLevel>,
}

/// What one event changed, stripped of every private id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delta {
    /// Seq of the event it was made from: a snapshot at `seq - 1` takes it next.
    pub seq: u64,
    /// What the event changed in a snapshot ([`Change::None`] for a private event).
    pub change: Change,
}

/// The public effect of one event on a [`Snapshot`]; in JSON, tagged by `type`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Change {
    /// Nothing a browser sees (e.g. a waiting-list entry).
    None,
    /// A new pool, appended to [`Snapshot::pools`] with nothing held or confirmed.
    PoolDefined {
        /// Its id: the number of pools defined before it.
        pool: PoolId,
        /// Pool name, unique among pools.
        name: String,
        /// Total units of the pool.
        capacity: u64,
    },
    /// A new offer, appended to [`Snapshot::offers`].
    OfferDefined {
        /// Its id: the number of offers defined before it.
        offer: OfferId,
        /// Offer name, unique among offers.
        name: String,
        /// Units taken from each pool per unit of the offer; the pools exist already.
        draws: Vec<PoolAmount>,
    },
    /// A pool's capacity was set (by `set_capacity` or a catalog).
    Capacity {
        /// The pool whose capacity changed.
        pool: PoolId,
        /// Its new total units; lowering it below what is promised revokes nothing.
        capacity: u64,
    },
    /// Counters moved: `held` and `confirmed` change by the signed amounts, for a
    /// reservation on `channel` (whose share, if the pool has one, moves too).
    Levels {
        /// One change per pool the reservation draws from, in increasing pool-id order.
        changes: Vec<LevelChange>,
        /// The reservation's channel number, as in [`ShareLevel::channel`] (0 if absent).
        #[serde(default)]
        channel: u16,
    },
    /// A catalog was loaded or changed: rules, windows and shares may differ, so a
    /// preview must fetch the catalog and a snapshot again.
    CatalogChanged,
    /// Intake was paused: every later reserve is refused `paused`.
    Paused,
    /// Intake was resumed.
    Resumed,
}

/// How one pool's counters move in a [`Change::Levels`], in units of the pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelChange {
    /// The pool whose counters move.
    pub pool: PoolId,
    /// Signed change of `held`: + for a hold or promotion, - when a hold is confirmed,
    /// released or expires.
    pub held: i64,
    /// Signed change of `confirmed`: + for a confirmation, - for releasing a confirmed
    /// reservation.
    pub confirmed: i64,
}

/// Why a delta could not be applied. The snapshot is unchanged.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum DeltaError {
    /// The delta's seq is more than one past the snapshot's: deltas were missed
    /// (fetch a fresh snapshot).
    #[error("delta {got} does not follow snapshot seq {at}: a gap")]
    Gap {
        /// The snapshot's seq.
        at: u64,
        /// The delta's seq.
        got: u64,
    },
    /// The delta's seq is not after the snapshot's: it was applied already.
    #[error("delta {got} was already applied (snapshot is at seq {at})")]
    Replayed {
        /// The snapshot's seq.
        at: u64,
        /// The delta's seq.
        got: u64,
    },
    /// The delta names a pool the snapshot does not have.
    #[error("delta {seq} names unknown pool {pool}")]
    UnknownPool {
        /// The delta's seq.
        seq: u64,
        /// The pool it names.
        pool: PoolId,
    },
    /// A pool or offer defined with an id other than the next one, or level changes
    /// not in strictly increasing pool order.
    #[error("delta {seq} defines {what} {id} out of order")]
    OutOfOrder {
        /// The delta's seq.
        seq: u64,
        /// `"pool"`, `"offer"` or `"level change"`.
        what: &'static str,
        /// The id defined out of order; for level changes, the pool of the first
        /// change that does not come after the one before it.
        id: u32,
    },
    /// A counter (`held`, `confirmed` or a share's `promised`) would go below 0 or
    /// above `u64::MAX`.
    #[error("delta {seq} moves a counter of pool {pool} out of range")]
    OutOfRange {
        /// The delta's seq.
        seq: u64,
        /// The pool whose counter would leave the range.
        pool: PoolId,
    },
}

impl DeltaError {
    /// A stable snake_case code for the error (`delta_gap`, ...), for bindings and logs.
    pub fn code(&self) -> &'static str {
        match self {
            DeltaError::Gap { .. } => "delta_gap",
            DeltaError::Replayed { .. } => "delta_replayed",
            DeltaError::UnknownPool { .. } => "delta_unknown_pool",
            DeltaError::OutOfOrder { .. } => "delta_out_of_order",
            DeltaError::OutOfRange { .. } => "delta_out_of_range",
        }
    }
}

fn levels(pools: &PoolAmounts, channel: u16, held_sign: i64, confirmed_sign: i64) -> Change {
    // Amounts are bounded by pool capacities (<= 2^53), so they fit in i64.
    let changes = pools
        .iter()
        .map(|p| LevelChange {
            pool: p.pool,
            held: held_sign * p.amount as i64,
            confirmed: confirmed_sign * p.amount as i64,
        })
        .collect();
    Change::Levels { changes, channel }
}

impl Delta {
    /// The public part of one event.
    pub fn from_event(event: &Event) -> Delta {
        let change = match &event.kind {
            EventKind::PoolDefined {
                pool,
                name,
                capacity,
            } => Change::PoolDefined {
                pool: *pool,
                name: name.clone(),
                capacity: *capacity,
            },
            EventKind::OfferDefined {
                offer, name, draws, ..
            } => Change::OfferDefined {
                offer: *offer,
                name: name.clone(),
                draws: draws.clone(),
            },
            EventKind::CapacityChanged { pool, capacity } => Change::Capacity {
                pool: *pool,
                capacity: *capacity,
            },
            EventKind::Held { pools, channel, .. } | EventKind::Promoted { pools, channel, .. } => {
                levels(pools, *channel, 1, 0)
            }
            EventKind::Confirmed {
                pools,
                from,
                channel,
                ..
            } => match from {
                Standing::Held => levels(pools, *channel, -1, 1),
                _ => levels(pools, *channel, 0, 1),
            },
            EventKind::Released {
                pools,
                from,
                channel,
                ..
            } => match from {
                Standing::Confirmed => levels(pools, *channel, 0, -1),
                _ => levels(pools, *channel, -1, 0),
            },
            EventKind::Expired { pools, channel, .. } => levels(pools, *channel, -1, 0),
            EventKind::Paused => Change::Paused,
            EventKind::Resumed => Change::Resumed,
            EventKind::CatalogLoaded { .. } => Change::CatalogChanged,
            EventKind::DefaultHoldChanged { .. }
            | EventKind::WaitlistJoined { .. }
            | EventKind::WaitlistLeft { .. } => Change::None,
        };
        Delta {
            seq: event.seq,
            change,
        }
    }
}

impl Snapshot {
    /// Units of `pool` free for a new promise (channel shares not deducted); `None` for
    /// an unknown pool.
    pub fn pool_available(&self, pool: PoolId) -> Option<u64> {
        self.pools.get(pool.index()).map(PoolLevel::available)
    }

    /// Units of `offer` that can be promised: `min over draws of floor(pool available
    /// / amount)` (channel shares not deducted). `None` for an unknown offer, or one
    /// with a draw on an unknown pool or of amount 0.
    pub fn offer_available(&self, offer: OfferId) -> Option<u64> {
        let o = self.offers.get(offer.index())?;
        o.draws
            .iter()
            .map(|d| {
                let avail = self.pool_available(d.pool)?;
                avail.checked_div(d.amount)
            })
            .try_fold(u64::MAX, |m, a| a.map(|a| m.min(a)))
            .map(|m| if o.draws.is_empty() { 0 } else { m })
    }

    /// The id of the pool named `name`, if there is one.
    pub fn pool_by_name(&self, name: &str) -> Option<PoolId> {
        self.pools
            .iter()
            .position(|p| p.name == name)
            .map(|i| PoolId(i as u32))
    }

    /// The id of the offer named `name`, if there is one.
    pub fn offer_by_name(&self, name: &str) -> Option<OfferId> {
        self.offers
            .iter()
            .position(|o| o.name == name)
            .map(|i| OfferId(i as u32))
    }

    /// Apply the next delta. Checks everything first, so an error changes nothing.
    pub fn apply(&mut self, delta: &Delta) -> Result<(), DeltaError> {
        let at = self.seq;
        if delta.seq <= at {
            return Err(DeltaError::Replayed { at, got: delta.seq });
        }
        if delta.seq != at + 1 {
            return Err(DeltaError::Gap { at, got: delta.seq });
        }
        let seq = delta.seq;
        match &delta.change {
            Change::None | Change::CatalogChanged => {}
            Change::PoolDefined {
                pool,
                name,
                capacity,
            } => {
                if pool.index() != self.pools.len() {
                    return Err(DeltaError::OutOfOrder {
                        seq,
                        what: "pool",
                        id: pool.0,
                    });
                }
                self.pools.push(PoolLevel {
                    name: name.clone(),
                    capacity: *capacity,
                    held: 0,
                    confirmed: 0,
                    shares: Vec::new(),
                });
            }
            Change::OfferDefined { offer, name, draws } => {
                if offer.index() != self.offers.len() {
                    return Err(DeltaError::OutOfOrder {
                        seq,
                        what: "offer",
                        id: offer.0,
                    });
                }
                if let Some(d) = draws.iter().find(|d| d.pool.index() >= self.pools.len()) {
                    return Err(DeltaError::UnknownPool { seq, pool: d.pool });
                }
                self.offers.push(OfferLevel {
                    name: name.clone(),
                    draws: draws.clone(),
                });
            }
            Change::Capacity { pool, capacity } => {
                let p = self
                    .pools
                    .get_mut(pool.index())
                    .ok_or(DeltaError::UnknownPool { seq, pool: *pool })?;
                p.capacity = *capacity;
            }
            Change::Levels { changes, channel } => {
                // Validate all, then write all.
                let mut next = Vec::with_capacity(changes.len());
                // Name the first change not after its predecessor (not the first change).
                if let Some(w) = changes.windows(2).find(|w| w[0].pool >= w[1].pool) {
                    return Err(DeltaError::OutOfOrder {
                        seq,
                        what: "level change",
                        id: w[1].pool.0,
                    });
                }
                for c in changes {
                    let p = self
                        .pools
                        .get(c.pool.index())
                        .ok_or(DeltaError::UnknownPool { seq, pool: c.pool })?;
                    let held = p.held.checked_add_signed(c.held);
                    let confirmed = p.confirmed.checked_add_signed(c.confirmed);
                    // The channel's share (if any) follows what the channel holds.
                    let share = p.shares.iter().position(|s| s.channel == *channel);
                    let promised = match share {
                        None => Some(0),
                        Some(j) => c
                            .held
                            .checked_add(c.confirmed)
                            .and_then(|d| p.shares[j].promised.checked_add_signed(d)),
                    };
                    match (held, confirmed, promised) {
                        (Some(h), Some(k), Some(s)) => next.push((c.pool.index(), h, k, share, s)),
                        _ => return Err(DeltaError::OutOfRange { seq, pool: c.pool }),
                    }
                }
                for (i, h, k, share, promised) in next {
                    self.pools[i].held = h;
                    self.pools[i].confirmed = k;
                    if let Some(j) = share {
                        self.pools[i].shares[j].promised = promised;
                    }
                }
            }
            Change::Paused => self.paused = true,
            Change::Resumed => self.paused = false,
        }
        self.seq = seq;
        Ok(())
    }
}
