//! The expiry queue: holds by `(expires_at, reservation id)`.
//!
//! Most holds are made with the same duration as the one before, so they arrive
//! already in order: those go to a plain FIFO (O(1) in and out). Only holds that
//! would expire before the last queued one go to a binary heap. Popping takes the
//! smaller front of the two. Entries of holds that were confirmed or released stay
//! until due and are skipped by the ledger (lazy deletion).

use crate::model::Millis;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

#[derive(Clone, Default)]
pub(crate) struct Expiries {
    in_order: VecDeque<(Millis, u64)>,
    out_of_order: BinaryHeap<Reverse<(Millis, u64)>>,
}

impl Expiries {
    pub fn push(&mut self, expires_at: Millis, id: u64) {
        let key = (expires_at, id);
        match self.in_order.back() {
            Some(&last) if key < last => self.out_of_order.push(Reverse(key)),
            _ => self.in_order.push_back(key),
        }
    }

    /// Remove and return the earliest entry if it is due at `at`.
    pub fn pop_due(&mut self, at: Millis) -> Option<(Millis, u64)> {
        let a = self.in_order.front().copied();
        let b = self.out_of_order.peek().map(|r| r.0);
        let take_a = match (a, b) {
            (Some(a), Some(b)) => a < b,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => return None,
        };
        let key = if take_a { a } else { b }?;
        if key.0 > at {
            return None;
        }
        if take_a {
            self.in_order.pop_front();
        } else {
            self.out_of_order.pop();
        }
        Some(key)
    }

    /// True if some entry (perhaps stale) is due at `at`.
    pub fn any_due(&self, at: Millis) -> bool {
        self.in_order.front().is_some_and(|k| k.0 <= at)
            || self.out_of_order.peek().is_some_and(|r| r.0 .0 <= at)
    }

    /// Every queued entry (perhaps stale) in `(expires_at, id)` order. The FIFO is in
    /// order already; only the heap, usually small, is sorted, on a copy.
    pub fn in_order(&self) -> impl Iterator<Item = (Millis, u64)> + '_ {
        let mut late: Vec<(Millis, u64)> = self.out_of_order.iter().map(|r| r.0).collect();
        late.sort_unstable();
        let mut early = self.in_order.iter().copied().peekable();
        let mut late = late.into_iter().peekable();
        std::iter::from_fn(move || match (early.peek(), late.peek()) {
            (Some(a), Some(b)) if b < a => late.next(),
            (Some(_), _) => early.next(),
            (None, _) => late.next(),
        })
    }

    /// Every queued entry, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (Millis, u64)> + '_ {
        self.in_order
            .iter()
            .copied()
            .chain(self.out_of_order.iter().map(|r| r.0))
    }
}
