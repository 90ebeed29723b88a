//! How an offer is defined, in the words a `define_offer` command and a catalog
//! share.
//!
//! Both ways of defining an offer say what one unit draws and how its waiting
//! list is served. Those words live here, apart from both, so that neither the
//! command needs the catalog nor the catalog the command.

use serde::{Deserialize, Serialize};

/// One pool an offer draws from, per unit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draw {
    /// Name of the pool drawn from.
    pub pool: String,
    /// Units of that pool one unit of the offer takes, `1..=2^32 - 1`.
    pub amount: u64,
}

impl Draw {
    /// A draw of `amount` units of `pool` per offer unit.
    pub fn new(pool: impl Into<String>, amount: u64) -> Self {
        Draw {
            pool: pool.into(),
            amount,
        }
    }
}

/// What to do when the head of a waiting list does not fit but a later entry would.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum WaitlistPolicy {
    /// The head blocks the list until it fits: nobody overtakes.
    #[default]
    Strict,
    /// A later entry that fits is served; the head keeps its place.
    Skip,
}
