//! Dense numeric ids. Pools and offers are numbered in the order they are
//! defined; reservations and waiting entries in the order they are created.
//! Numbering by order (never by hash) keeps the state a pure function of the log.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $inner:ty) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub $inner);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// A pool's number, from 0, in definition order.
    PoolId, u32
);
id_type!(
    /// An offer's number, from 0, in definition order.
    OfferId, u32
);
id_type!(
    /// A reservation's number, from 1, in creation order.
    ReservationId, u64
);
id_type!(
    /// A waiting-list entry's number, from 1, in joining order (across all offers).
    WaitEntryId, u64
);

impl PoolId {
    pub(crate) fn index(self) -> usize {
        self.0 as usize
    }
}

impl OfferId {
    pub(crate) fn index(self) -> usize {
        self.0 as usize
    }
}
