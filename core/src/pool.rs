//! Pool: a named counter of capacity.
//!
//! What everything is counted in: offers draw from pools, and a promise is made
//! only if every pool it draws from has room. The counters are moved only by the
//! hold accounting (`ledger/holds.rs`); channel shares keep part of a pool for
//! one channel.

/// Capacity and what is promised against it. `held + confirmed` may exceed
/// `capacity` only after capacity was lowered; nothing new is promised until it fits again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Pool {
    pub name: String,
    pub capacity: u64,
    pub held: u64,
    pub confirmed: u64,
    /// Units kept for one channel that the others cannot take.
    pub shares: Vec<Share>,
}

/// `keep` units kept for `channel`; `promised` is what that channel holds now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Share {
    pub channel: u16,
    pub keep: u64,
    pub promised: u64,
}

impl Pool {
    pub fn new(name: String, capacity: u64) -> Self {
        Pool {
            name,
            capacity,
            held: 0,
            confirmed: 0,
            shares: Vec::new(),
        }
    }

    pub fn promised(&self) -> u64 {
        // Both are bounded by capacities (<= 2^53), so this cannot saturate in practice.
        self.held.saturating_add(self.confirmed)
    }

    pub fn available(&self) -> u64 {
        self.capacity.saturating_sub(self.promised())
    }

    /// What `channel` may take: everything free, minus what other channels'
    /// shares still keep. `None` is a channel no share names.
    pub fn available_for(&self, channel: Option<u16>) -> u64 {
        let kept: u64 = self
            .shares
            .iter()
            .filter(|s| Some(s.channel) != channel)
            .map(|s| s.keep.saturating_sub(s.promised))
            .fold(0, u64::saturating_add);
        self.available().saturating_sub(kept)
    }

    /// Count `amount` promised to (or, negative, given back by) `channel`.
    pub fn share_moved(&mut self, channel: u16, amount: u64, promised: bool) {
        for s in self.shares.iter_mut().filter(|s| s.channel == channel) {
            s.promised = if promised {
                s.promised.saturating_add(amount)
            } else {
                s.promised.saturating_sub(amount)
            };
        }
    }
}
