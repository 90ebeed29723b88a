//! The one clock a shell reads.
//!
//! The ledger never reads a clock: every command carries its own time. A shell
//! that stamps commands "now" (the durable ledger's `submit_now`, the bindings'
//! `at=None`) asks the [`Clock`] it was given, and nothing else. The default is
//! [`SystemClock`], and [`SystemClock::now_ms`] is the only read of the wall clock
//! in the Rust code; tests, examples and rehearsals of a campaign pin time with a
//! [`FixedClock`] or move it by hand with a [`ManualClock`].
//!
//! A clock reading is a floor, never a rewind: a command stamped "now" takes
//! `max(reading, ledger time)` when it is applied (`docs/SEMANTICS.md`, "Time").
//!
//! ```
//! use kontingent::clock::{Clock, ManualClock};
//! let clock = ManualClock::new(1_000);
//! let handle = clock.clone();
//! handle.advance(500);
//! assert_eq!(clock.now_ms(), 1_500);
//! ```

use crate::Millis;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Where a shell takes "now" from.
pub trait Clock: Send + Sync {
    /// Milliseconds since the Unix epoch, UTC.
    fn now_ms(&self) -> Millis;
}

/// The operating system's wall clock: the default of every shell.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> Millis {
        // wasm32 has no wall clock to read: there callers pass explicit times (the
        // JavaScript host brings its own clock) and a stamp is the ledger's own time.
        #[cfg(not(target_arch = "wasm32"))]
        {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| Millis::try_from(d.as_millis()).unwrap_or(Millis::MAX))
                .unwrap_or(0)
        }
        #[cfg(target_arch = "wasm32")]
        {
            0
        }
    }
}

/// A clock that always answers the same time (a test, a report that must read the
/// same on any day).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FixedClock(pub Millis);

impl Clock for FixedClock {
    fn now_ms(&self) -> Millis {
        self.0
    }
}

/// A clock moved by hand; clones share one time (give one to the ledger, keep one
/// to advance). For tests and for rehearsing a campaign at its own dates.
#[derive(Clone, Debug, Default)]
pub struct ManualClock(Arc<AtomicU64>);

impl ManualClock {
    /// A clock standing at `at`.
    pub fn new(at: Millis) -> Self {
        ManualClock(Arc::new(AtomicU64::new(at)))
    }

    /// Move to `at` (backwards too: the ledger's stamps still never go back).
    pub fn set(&self, at: Millis) {
        self.0.store(at, Ordering::Release);
    }

    /// Move forward by `ms` (saturating).
    pub fn advance(&self, ms: Millis) {
        let _ = self
            .0
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |t| {
                Some(t.saturating_add(ms))
            });
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> Millis {
        self.0.load(Ordering::Acquire)
    }
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now_ms(&self) -> Millis {
        (**self).now_ms()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_system_clock_is_past_2020_and_moves_forward() {
        let a = SystemClock.now_ms();
        assert!(a > 1_577_836_800_000, "{a}");
        assert!(SystemClock.now_ms() >= a);
    }

    #[test]
    fn manual_clocks_share_their_time_and_saturate() {
        let c = ManualClock::new(10);
        let d = c.clone();
        d.set(Millis::MAX - 1);
        d.advance(5);
        assert_eq!(c.now_ms(), Millis::MAX);
        assert_eq!(FixedClock(7).now_ms(), 7);
    }
}
