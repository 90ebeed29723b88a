//! Small helpers the simulations share: a seeded PRNG, a time-ordered task
//! queue, local-time formatting and refusal keys.

use kontingent::{Ledger, Millis, Refusal};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// SplitMix64: tiny, fast, good enough for a simulation, and fully determined by its seed.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Uniform in `lo..=hi`.
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        debug_assert!(lo <= hi);
        lo + self.next_u64() % (hi - lo + 1)
    }

    /// Exponentially distributed waiting time (in the unit of `1 / rate`).
    pub fn exp(&mut self, rate: f64) -> f64 {
        -(1.0 - self.unit()).ln() / rate
    }

    /// An index chosen with probability proportional to its weight (weights > 0 somewhere).
    pub fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut x = self.unit() * total;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }
}

/// Tasks ordered by time, then by the order they were scheduled (so two tasks at
/// the same millisecond run in a deterministic order).
pub struct Queue<T> {
    heap: BinaryHeap<Reverse<(Millis, u64)>>,
    tasks: Vec<Option<T>>,
}

impl<T> Default for Queue<T> {
    fn default() -> Self {
        Queue {
            heap: BinaryHeap::new(),
            tasks: Vec::new(),
        }
    }
}

impl<T> Queue<T> {
    pub fn push(&mut self, at: Millis, task: T) {
        let seq = self.tasks.len() as u64;
        self.tasks.push(Some(task));
        self.heap.push(Reverse((at, seq)));
    }

    pub fn pop(&mut self) -> Option<(Millis, T)> {
        let Reverse((at, seq)) = self.heap.pop()?;
        let task = self.tasks[seq as usize].take()?;
        Some((at, task))
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

/// The key a report counts a refusal under: the rule's name for `rule{name}`,
/// otherwise the refusal's code (`sold_out`, `paused`, ...).
pub fn reason_key(refusal: &Refusal) -> String {
    match refusal {
        Refusal::Rule { name, .. } => name.clone(),
        other => other.code().to_owned(),
    }
}

/// Pools whose promises exceed their capacity right now (must always be empty).
pub fn oversold_pools(ledger: &Ledger) -> Vec<String> {
    ledger
        .pools()
        .into_iter()
        .filter(|p| p.held + p.confirmed > p.capacity)
        .map(|p| p.name)
        .collect()
}

/// An instant as local time in `tz`, formatted with a `strftime` pattern.
pub fn local(tz: &jiff::tz::TimeZone, at: Millis, pattern: &str) -> String {
    match jiff::Timestamp::from_millisecond(at as i64) {
        Ok(ts) => ts.to_zoned(tz.clone()).strftime(pattern).to_string(),
        Err(_) => format!("{at} ms"),
    }
}

/// The instant of a local wall-clock time in `tz` (the earlier one in a fold).
pub fn instant(tz: &jiff::tz::TimeZone, datetime: &str) -> Millis {
    let dt: jiff::civil::DateTime = datetime.parse().expect("a valid civil date-time");
    let zoned = dt
        .to_zoned(tz.clone())
        .expect("a time that exists in the zone");
    zoned.timestamp().as_millisecond() as Millis
}

/// Europe/Berlin, from the database bundled into the binary.
pub fn berlin() -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get("Europe/Berlin").expect("Europe/Berlin is in the bundled tzdb")
}

pub const SECOND: Millis = 1_000;
pub const MINUTE: Millis = 60 * SECOND;
pub const HOUR: Millis = 60 * MINUTE;
