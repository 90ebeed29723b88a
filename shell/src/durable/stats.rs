//! What a ledger counts about its own journal work, for benchmarks and monitoring
//! (the server's `/metrics`): records, batches and syncs, and how they are spread.
//! Measuring how long a sync took reads the monotonic clock; that is the shell's
//! business and never reaches the ledger's rules.

/// Counters for benchmarks and monitoring.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stats {
    /// Records appended by this handle.
    pub records: u64,
    /// Batches written (each one `write`).
    pub batches: u64,
    /// `fdatasync` calls made.
    pub syncs: u64,
    /// Records applied from other processes.
    pub tailed: u64,
    /// Records per written batch: the group commit's reach.
    pub batch_records: Histogram,
    /// How long each `fdatasync` took, in microseconds.
    pub sync_micros: Histogram,
}

impl Default for Stats {
    fn default() -> Stats {
        Stats {
            records: 0,
            batches: 0,
            syncs: 0,
            tailed: 0,
            batch_records: Histogram::new(BATCH_RECORDS),
            sync_micros: Histogram::new(SYNC_MICROS),
        }
    }
}

/// The upper bounds of [`Stats::batch_records`]' buckets.
pub const BATCH_RECORDS: &[u64] = &[1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];
/// The upper bounds of [`Stats::sync_micros`]' buckets: 50 µs (a fast NVMe) to 1 s (a
/// disk in trouble).
pub const SYNC_MICROS: &[u64] = &[
    50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 1_000_000,
];

const MAX_BUCKETS: usize = 16;

/// A fixed-bucket histogram of whole numbers, small enough to copy.
///
/// ```
/// use kontingent::Histogram;
/// let mut h = Histogram::new(&[1, 10]);
/// for v in [1, 5, 10, 11] { h.observe(v); }
/// assert_eq!(h.buckets().collect::<Vec<_>>(), [(Some(1), 1), (Some(10), 2), (None, 1)]);
/// assert_eq!((h.count(), h.sum), (4, 27));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Histogram {
    bounds: &'static [u64],
    /// `counts[i]`: observations in `(bounds[i-1], bounds[i]]`; the one after the
    /// last bound counts everything above it.
    counts: [u64; MAX_BUCKETS],
    /// The sum of every observation (saturating).
    pub sum: u64,
}

impl Histogram {
    /// An empty histogram with these increasing upper bounds (at most 15).
    pub fn new(bounds: &'static [u64]) -> Histogram {
        assert!(bounds.len() < MAX_BUCKETS && bounds.windows(2).all(|w| w[0] < w[1]));
        Histogram {
            bounds,
            counts: [0; MAX_BUCKETS],
            sum: 0,
        }
    }

    /// Count one observation.
    pub fn observe(&mut self, v: u64) {
        let i = self.bounds.partition_point(|&b| b < v);
        self.counts[i] += 1;
        self.sum = self.sum.saturating_add(v);
    }

    /// Observations so far.
    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Each bucket's upper bound (`None`: above the last) and its own count (not
    /// cumulative).
    pub fn buckets(&self) -> impl Iterator<Item = (Option<u64>, u64)> + '_ {
        let bounds = self.bounds.iter().map(|&b| Some(b)).chain([None]);
        bounds.zip(self.counts.iter().copied())
    }
}

/// Run `f`, and how long it took in microseconds; `None` where the platform has no
/// clock to ask (wasm32 in a browser or Node, whose `Instant` panics).
pub(super) fn timed<R>(f: impl FnOnce() -> R) -> (R, Option<u64>) {
    #[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
    {
        let started = std::time::Instant::now();
        let r = f();
        (
            r,
            Some(u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX)),
        )
    }
    #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
    {
        (f(), None)
    }
}
