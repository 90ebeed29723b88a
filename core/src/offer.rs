//! Offer: what a customer asks for; one unit draws fixed amounts from pools.
//!
//! The ledger's own record of an offer (the public form is `OfferView`): draws
//! resolved to pool ids, the waiting list, and what the catalog set (price,
//! window, slot). The availability arithmetic lives here so that the decision,
//! the waiting lists and the previews all compute it one way.

use crate::model::ids::Table;
use crate::model::{
    PoolAmount, PoolAmounts, PoolId, SalesWindow, Slot, WaitEntryId, WaitlistPolicy,
};
use crate::pool::Pool;
use std::collections::VecDeque;

#[derive(Clone, Debug)]
pub(crate) struct Offer {
    pub name: String,
    /// Per-unit draws, in definition order, on distinct pools.
    pub draws: PoolAmounts,
    pub policy: WaitlistPolicy,
    /// Waiting entries in FIFO order.
    pub waiting: VecDeque<WaitEntryId>,
    /// Price of one unit, minor units.
    pub price: u64,
    pub window: SalesWindow,
    pub slot: Option<Box<Slot>>,
}

impl Offer {
    /// `min over draws of floor(available / amount)`.
    pub fn available(&self, pools: &Table<PoolId, Pool>) -> u64 {
        self.draws
            .iter()
            .map(|d| pools[d.pool].available() / d.amount)
            .min()
            .unwrap_or(0)
    }

    /// Per-pool amounts for `quantity` units. Callers bound `quantity` and amounts
    /// so the product fits (`LINE_QUANTITY_MAX * DRAW_AMOUNT_MAX < 2^62`).
    pub fn demand(&self, quantity: u64) -> impl Iterator<Item = PoolAmount> + '_ {
        self.draws.iter().map(move |d| PoolAmount {
            pool: d.pool,
            amount: d.amount * quantity,
        })
    }

    /// Units `channel` can be promised now.
    pub fn available_for(&self, pools: &Table<PoolId, Pool>, channel: Option<u16>) -> u64 {
        self.draws
            .iter()
            .map(|d| pools[d.pool].available_for(channel) / d.amount)
            .min()
            .unwrap_or(0)
    }

    /// True if `quantity` units fit in every pool right now, for `channel`.
    pub fn fits(&self, pools: &Table<PoolId, Pool>, quantity: u64, channel: Option<u16>) -> bool {
        self.demand(quantity)
            .all(|d| d.amount <= pools[d.pool].available_for(channel))
    }
}
