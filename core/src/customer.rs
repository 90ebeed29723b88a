//! Customers: interned ids and their usage (held + confirmed units per offer).
//!
//! Names live once in an [`Arena`]; each record keeps its hash (so the index
//! grows without touching names) and its usage inline (one offer needs no
//! allocation), so a customer with one hold costs a few dozen bytes.

use crate::arena::{Arena, StrRef};
use crate::model::OfferId;
use hashbrown::HashTable;
use smallvec::SmallVec;
use xxhash_rust::xxh3::xxh3_64;

#[derive(Clone)]
struct Customer {
    name: StrRef,
    hash: u64,
    /// `(offer, units held + confirmed)`, in offer order, no zero entries.
    usage: SmallVec<[(OfferId, u64); 1]>,
}

#[derive(Clone, Default)]
pub(crate) struct Customers {
    records: Vec<Customer>,
    names: Arena,
    index: HashTable<u32>,
}

/// The lookup hash of a customer id.
pub(crate) fn hash_name(name: &str) -> u64 {
    xxh3_64(name.as_bytes())
}

impl Customers {
    pub fn find(&self, name: &str, hash: u64) -> Option<u32> {
        self.index
            .find(hash, |&i| {
                let c = &self.records[i as usize];
                c.hash == hash && self.names.bytes(c.name) == name.as_bytes()
            })
            .copied()
    }

    /// The customer's number: `known` if validation already found it, else a
    /// new number. The ledger refuses a new customer once `CUSTOMERS_MAX` (< 2^32)
    /// are known.
    pub fn intern(&mut self, name: &str, hash: u64, known: Option<u32>) -> u32 {
        if let Some(i) = known {
            return i;
        }
        let i = self.records.len() as u32;
        let name = self.names.push(name);
        self.records.push(Customer {
            name,
            hash,
            usage: SmallVec::new(),
        });
        let records = &self.records;
        self.index
            .insert_unique(hash, i, |&j| records[j as usize].hash);
        i
    }

    pub fn name(&self, i: u32) -> &str {
        self.names.get(self.records[i as usize].name)
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn add_usage(&mut self, customer: u32, offer: OfferId, units: u64) {
        let usage = &mut self.records[customer as usize].usage;
        match usage.binary_search_by_key(&offer, |u| u.0) {
            Ok(i) => usage[i].1 = usage[i].1.saturating_add(units),
            Err(i) => usage.insert(i, (offer, units)),
        }
    }

    pub fn remove_usage(&mut self, customer: u32, offer: OfferId, units: u64) {
        let usage = &mut self.records[customer as usize].usage;
        if let Ok(i) = usage.binary_search_by_key(&offer, |u| u.0) {
            debug_assert!(usage[i].1 >= units, "usage underflow");
            usage[i].1 = usage[i].1.saturating_sub(units);
            if usage[i].1 == 0 {
                usage.remove(i);
            }
        }
    }

    /// `(offer, units)` for one customer, in offer order.
    pub fn usage_of(&self, customer: u32) -> impl Iterator<Item = (OfferId, u64)> + '_ {
        self.records[customer as usize].usage.iter().copied()
    }
}
