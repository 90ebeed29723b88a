//! Customers: interned ids and their usage (held + confirmed units per offer).
//!
//! Names are stored once; the hash index holds only numbers, so a customer
//! with one hold costs a few dozen bytes.

use crate::id::OfferId;
use hashbrown::HashTable;
use std::collections::BTreeMap;
use std::hash::BuildHasher;
use xxhash_rust::xxh3::Xxh3Builder;

#[derive(Clone, Default)]
pub(crate) struct Customers {
    names: Vec<Box<str>>,
    index: HashTable<u32>,
    hasher: Xxh3Builder,
    /// (customer, offer) → units held + confirmed. Zero entries are removed.
    usage: BTreeMap<(u32, OfferId), u64>,
}

impl Customers {
    pub fn find(&self, name: &str) -> Option<u32> {
        let hash = self.hasher.hash_one(name);
        self.index
            .find(hash, |&i| &*self.names[i as usize] == name)
            .copied()
    }

    /// The customer's number, interning the name on first use.
    pub fn intern(&mut self, name: &str) -> u32 {
        if let Some(i) = self.find(name) {
            return i;
        }
        // The ledger refuses a new customer once `CUSTOMERS_MAX` (< 2^32) are known.
        let i = self.names.len() as u32;
        self.names.push(name.into());
        let hash = self.hasher.hash_one(name);
        let (names, hasher) = (&self.names, &self.hasher);
        self.index
            .insert_unique(hash, i, |&j| hasher.hash_one(&*names[j as usize]));
        i
    }

    pub fn name(&self, i: u32) -> &str {
        &self.names[i as usize]
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn add_usage(&mut self, customer: u32, offer: OfferId, units: u64) {
        let u = self.usage.entry((customer, offer)).or_insert(0);
        *u = u.saturating_add(units);
    }

    pub fn remove_usage(&mut self, customer: u32, offer: OfferId, units: u64) {
        if let Some(u) = self.usage.get_mut(&(customer, offer)) {
            debug_assert!(*u >= units, "usage underflow");
            *u = u.saturating_sub(units);
            if *u == 0 {
                self.usage.remove(&(customer, offer));
            }
        }
    }

    /// `(offer, units)` for one customer, in offer order.
    pub fn usage_of(&self, customer: u32) -> impl Iterator<Item = (OfferId, u64)> + '_ {
        self.usage
            .range((customer, OfferId(0))..=(customer, OfferId(u32::MAX)))
            .map(|(&(_, o), &u)| (o, u))
    }

    pub fn all_usage(&self) -> impl Iterator<Item = (u32, OfferId, u64)> + '_ {
        self.usage.iter().map(|(&(c, o), &u)| (c, o, u))
    }
}
