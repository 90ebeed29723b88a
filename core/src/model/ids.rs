//! Dense numeric ids. Pools and offers are numbered in the order they are
//! defined; reservations and waiting entries in the order they are created.
//! Numbering by order (never by hash) keeps the state a pure function of the log.
//!
//! The ledger keeps each kind in a [`Table`] indexed by its id; the table is the
//! one place that knows that an id counted from 1 sits in row `id - 1`.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Index, IndexMut};

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

/// An id that names a row of a [`Table`]. Pools and offers count from 0,
/// reservations and waiting entries from 1; only this trait knows which.
pub(crate) trait RowId: Copy {
    /// The id of the row at `row`.
    fn of_row(row: usize) -> Self;
    /// The row this id names, or `None` for an id no row can have (0 for ids
    /// counted from 1).
    fn row(self) -> Option<usize>;
    /// The row as a plain number even where no row can exist (for ids from 1, 0
    /// wraps to `u64::MAX`): what decoding errors report.
    fn row_number(self) -> u64;
}

macro_rules! row_id {
    ($name:ident, $inner:ty, $first:literal) => {
        impl RowId for $name {
            fn of_row(row: usize) -> Self {
                // Tables are bounded by `limits` far below the id type's range.
                $name(row as $inner + $first)
            }
            fn row(self) -> Option<usize> {
                usize::try_from(self.0.checked_sub($first)?).ok()
            }
            fn row_number(self) -> u64 {
                u64::from(self.0).wrapping_sub($first)
            }
        }
    };
}

row_id!(PoolId, u32, 0);
row_id!(OfferId, u32, 0);
row_id!(ReservationId, u64, 1);
row_id!(WaitEntryId, u64, 1);

/// Rows numbered by a typed id: `push` hands out the next id, and the id (never a
/// hand-made `usize`) finds the row again.
#[derive(Clone, Debug)]
pub(crate) struct Table<I, T> {
    rows: Vec<T>,
    ids: PhantomData<fn() -> I>,
}

impl<I, T> Default for Table<I, T> {
    fn default() -> Self {
        Table {
            rows: Vec::new(),
            ids: PhantomData,
        }
    }
}

impl<I: RowId, T> Table<I, T> {
    /// How many rows there are.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// The row `id` names, if it exists.
    pub fn get(&self, id: I) -> Option<&T> {
        self.rows.get(id.row()?)
    }

    /// The id the next [`Table::push`] will return.
    pub fn next_id(&self) -> I {
        I::of_row(self.rows.len())
    }

    /// Add a row; its id.
    pub fn push(&mut self, row: T) -> I {
        let id = self.next_id();
        self.rows.push(row);
        id
    }

    /// Every row with its id, in id order.
    pub fn iter(&self) -> impl Iterator<Item = (I, &T)> {
        self.rows.iter().enumerate().map(|(i, r)| (I::of_row(i), r))
    }

    /// Every id, in order (without borrowing the table).
    pub fn ids(&self) -> impl Iterator<Item = I> {
        (0..self.rows.len()).map(I::of_row)
    }

    /// Every row, in id order.
    pub fn values(&self) -> std::slice::Iter<'_, T> {
        self.rows.iter()
    }

    /// Every row, to change, in id order.
    pub fn values_mut(&mut self) -> std::slice::IterMut<'_, T> {
        self.rows.iter_mut()
    }

    /// Room for `n` more rows.
    pub fn reserve(&mut self, n: usize) {
        self.rows.reserve(n);
    }

    /// Room for exactly `n` more rows (a decoder that knows the count).
    pub fn reserve_exact(&mut self, n: usize) {
        self.rows.reserve_exact(n);
    }
}

/// Rows the ledger made itself: an id it holds always names one (validation
/// turned every id from outside into a known one or an error).
impl<I: RowId, T> Index<I> for Table<I, T> {
    type Output = T;
    fn index(&self, id: I) -> &T {
        match id.row() {
            Some(row) => &self.rows[row],
            None => panic!("an id that names no row"),
        }
    }
}

impl<I: RowId, T> IndexMut<I> for Table<I, T> {
    fn index_mut(&mut self, id: I) -> &mut T {
        match id.row() {
            Some(row) => &mut self.rows[row],
            None => panic!("an id that names no row"),
        }
    }
}
