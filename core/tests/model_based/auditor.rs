//! The auditor: pool counters rebuilt from the ledger's own events, so that a
//! promise beyond capacity is caught even where the model would agree with it.

use crate::model::{Ev, MEvent, Pools, Src};
use std::collections::BTreeMap;

/// Rebuilds every pool's counters from the *ledger's* event stream alone, and
/// checks at each promise (held, direct confirmation, promotion) that
/// `held + confirmed + amount <= capacity` with the capacity in force then.
#[derive(Default)]
pub struct Auditor {
    pub capacity: Vec<u64>,
    pub held: Vec<u64>,
    pub confirmed: Vec<u64>,
    /// reservation → pools, from the event that created it.
    made: BTreeMap<u64, Pools>,
}

impl Auditor {
    fn promise(&mut self, e: &MEvent, reservation: u64, pools: &Pools) -> Result<(), String> {
        for &(p, amount) in pools {
            let p = p as usize;
            let before = self.held[p] + self.confirmed[p];
            if before + amount > self.capacity[p] {
                return Err(format!(
                    "promise beyond capacity: event {e:?}: pool {p} had held+confirmed {before}, \
                     capacity {}, promised {amount} more",
                    self.capacity[p]
                ));
            }
        }
        if self.made.insert(reservation, pools.clone()).is_some() {
            return Err(format!("reservation {reservation} promised twice: {e:?}"));
        }
        Ok(())
    }

    fn same_pools(&self, e: &MEvent, reservation: u64, pools: &Pools) -> Result<(), String> {
        match self.made.get(&reservation) {
            Some(made) if made == pools => Ok(()),
            other => Err(format!(
                "event {e:?} gives back {pools:?}, but the reservation was made with {other:?}"
            )),
        }
    }

    fn sub(v: &mut [u64], pools: &Pools, e: &MEvent) -> Result<(), String> {
        for &(p, amount) in pools {
            v[p as usize] = v[p as usize]
                .checked_sub(amount)
                .ok_or_else(|| format!("counter underflow at {e:?}"))?;
        }
        Ok(())
    }

    fn add(v: &mut [u64], pools: &Pools) {
        for &(p, amount) in pools {
            v[p as usize] += amount;
        }
    }

    pub fn on(&mut self, e: &MEvent) -> Result<(), String> {
        match &e.ev {
            Ev::PoolDefined { pool, capacity, .. } => {
                if *pool as usize != self.capacity.len() {
                    return Err(format!("pool ids not dense: {e:?}"));
                }
                self.capacity.push(*capacity);
                self.held.push(0);
                self.confirmed.push(0);
            }
            Ev::CapacityChanged { pool, capacity } => self.capacity[*pool as usize] = *capacity,
            Ev::Held {
                reservation, pools, ..
            }
            | Ev::Promoted {
                reservation, pools, ..
            } => {
                self.promise(e, *reservation, pools)?;
                Self::add(&mut self.held, pools);
            }
            Ev::Confirmed {
                reservation,
                from,
                pools,
            } => {
                match from {
                    Src::New => self.promise(e, *reservation, pools)?,
                    Src::Held => {
                        self.same_pools(e, *reservation, pools)?;
                        Self::sub(&mut self.held, pools, e)?;
                    }
                    Src::Confirmed => return Err(format!("confirmed from confirmed: {e:?}")),
                }
                Self::add(&mut self.confirmed, pools);
            }
            Ev::Released {
                reservation,
                from,
                pools,
            } => {
                self.same_pools(e, *reservation, pools)?;
                match from {
                    Src::Held => Self::sub(&mut self.held, pools, e)?,
                    Src::Confirmed => Self::sub(&mut self.confirmed, pools, e)?,
                    Src::New => return Err(format!("released from new: {e:?}")),
                }
            }
            Ev::Expired { reservation, pools } => {
                self.same_pools(e, *reservation, pools)?;
                Self::sub(&mut self.held, pools, e)?;
            }
            _ => {}
        }
        Ok(())
    }
}
