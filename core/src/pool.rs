//! Pool: a named counter of capacity.

/// Capacity and what is promised against it. `held + confirmed` may exceed
/// `capacity` only after capacity was lowered; nothing new is promised until it fits again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Pool {
    pub name: String,
    pub capacity: u64,
    pub held: u64,
    pub confirmed: u64,
}

impl Pool {
    pub fn new(name: String, capacity: u64) -> Self {
        Pool {
            name,
            capacity,
            held: 0,
            confirmed: 0,
        }
    }

    pub fn promised(&self) -> u64 {
        // Both are bounded by capacities (<= 2^53), so this cannot saturate in practice.
        self.held.saturating_add(self.confirmed)
    }

    pub fn available(&self) -> u64 {
        self.capacity.saturating_sub(self.promised())
    }
}
