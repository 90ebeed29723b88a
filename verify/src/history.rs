//! Recording what concurrent clients did, and when.
//!
//! A linearizability check needs, for every operation, the interval in which it
//! could have taken effect: from just before it was sent to just after its answer
//! arrived. Times must be taken *outside* the operation (invocation before it
//! starts, response after it returned), so that a recorded interval always
//! contains the real one: wider intervals can only hide a violation, never
//! invent one.
//!
//! An operation whose answer never arrived (the client crashed, timed out, or
//! the ledger reported that it could not tell) is recorded with no response: it
//! may or may not have taken effect, at any moment after its invocation.

use parking_lot::Mutex;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::io::{self, BufRead, Write};
use std::time::Instant;

/// One operation of a history, as one JSON object per line:
/// `{"client":3,"call_ns":120,"return_ns":455,"op":{...},"ret":{...}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operation<Op, Ret> {
    /// Who issued it. A client issues one operation at a time.
    pub client: u64,
    /// Nanoseconds since the history's clock origin, taken before the call.
    pub call_ns: u64,
    /// Taken after the answer arrived; `None` if it never did.
    #[serde(default)]
    pub return_ns: Option<u64>,
    pub op: Op,
    /// The answer; `None` = unknown: the operation may or may not have taken effect.
    #[serde(default = "none")]
    pub ret: Option<Ret>,
}

/// A missing field reads as `None` (`#[serde(default)]` would demand `Ret: Default`).
fn none<T>() -> Option<T> {
    None
}

impl<Op, Ret> Operation<Op, Ret> {
    /// An operation that completed with `ret`.
    pub fn completed(client: u64, call_ns: u64, return_ns: u64, op: Op, ret: Ret) -> Self {
        Operation {
            client,
            call_ns,
            return_ns: Some(return_ns),
            op,
            ret: Some(ret),
        }
    }

    /// An operation whose answer is unknown (crashed or timed out).
    pub fn unknown(client: u64, call_ns: u64, op: Op) -> Self {
        Operation {
            client,
            call_ns,
            return_ns: None,
            op,
            ret: None,
        }
    }

    pub fn is_unknown(&self) -> bool {
        self.ret.is_none()
    }
}

/// A concurrent history: operations in no particular order (the checker sorts).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct History<Op, Ret> {
    pub ops: Vec<Operation<Op, Ret>>,
}

impl<Op, Ret> Default for History<Op, Ret> {
    fn default() -> Self {
        History { ops: Vec::new() }
    }
}

/// Why a JSON-lines history could not be read.
#[derive(Debug)]
pub struct HistoryError {
    /// 1-based line number (0 for an I/O error before any line).
    pub line: usize,
    pub message: String,
}

impl fmt::Display for HistoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "history line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for HistoryError {}

impl<Op, Ret> History<Op, Ret> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, op: Operation<Op, Ret>) {
        self.ops.push(op);
    }

    pub fn len(&self) -> usize {
        self.ops.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Several histories recorded on one clock (e.g. by several processes with
    /// [`Recorder::with_system_clock`]) as one. Client ids must already be distinct.
    pub fn merge(parts: impl IntoIterator<Item = History<Op, Ret>>) -> Self {
        let mut ops: Vec<_> = parts.into_iter().flat_map(|h| h.ops).collect();
        ops.sort_by_key(|o| (o.call_ns, o.client));
        History { ops }
    }

    /// Catches recording mistakes: a known answer needs a response time not before
    /// its call, and a client waits for one answer before its next call.
    pub fn validate(&self) -> Result<(), String> {
        let mut by_client: std::collections::BTreeMap<u64, Vec<&Operation<Op, Ret>>> =
            Default::default();
        for (i, o) in self.ops.iter().enumerate() {
            if o.ret.is_some() && o.return_ns.is_none() {
                return Err(format!("op {i}: an answer but no response time"));
            }
            if o.return_ns.is_some_and(|r| r < o.call_ns) {
                return Err(format!("op {i}: responded before it was called"));
            }
            by_client.entry(o.client).or_default().push(o);
        }
        for (client, mut ops) in by_client {
            ops.sort_by_key(|o| o.call_ns);
            for w in ops.windows(2) {
                // After an unknown answer (a time-out) a client may go on, e.g. retry.
                if w[0].return_ns.is_some_and(|r| r > w[1].call_ns) {
                    return Err(format!(
                        "client {client}: the operation called at {} ns overlaps the one \
                         called at {} ns",
                        w[1].call_ns, w[0].call_ns
                    ));
                }
            }
        }
        Ok(())
    }
}

impl<Op, Ret> History<Op, Ret> {
    /// How many operations overlap at least one other in time: a history whose
    /// operations never overlap is trivially linearizable (if the model agrees),
    /// so this says how much a run actually tested concurrency.
    pub fn overlapping(&self) -> usize {
        let end = |o: &Operation<Op, Ret>| match (&o.ret, o.return_ns) {
            (Some(_), Some(r)) => r,
            _ => u64::MAX,
        };
        let mut order: Vec<usize> = (0..self.ops.len()).collect();
        order.sort_by_key(|&i| self.ops[i].call_ns);
        let mut overlaps = vec![false; self.ops.len()];
        // Sweep by call time, remembering the open operation that ends last.
        let mut open: Option<usize> = None;
        for &i in &order {
            if let Some(j) = open {
                if end(&self.ops[j]) > self.ops[i].call_ns {
                    overlaps[i] = true;
                    overlaps[j] = true;
                }
            }
            if open.is_none_or(|j| end(&self.ops[i]) >= end(&self.ops[j])) {
                open = Some(i);
            }
        }
        overlaps.iter().filter(|&&o| o).count()
    }
}

impl<Op: Serialize, Ret: Serialize> History<Op, Ret> {
    /// One JSON object per line, in the order of `ops`.
    pub fn write_json_lines(&self, mut out: impl Write) -> io::Result<()> {
        for o in &self.ops {
            serde_json::to_writer(&mut out, o)?;
            out.write_all(b"\n")?;
        }
        Ok(())
    }

    pub fn to_json_lines(&self) -> String {
        let mut buf = Vec::new();
        // Writing to a Vec cannot fail, and serde_json emits valid UTF-8.
        let _ = self.write_json_lines(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    }
}

impl<Op: DeserializeOwned, Ret: DeserializeOwned> History<Op, Ret> {
    /// Reads JSON lines; blank lines are skipped, anything else that is not an
    /// operation is an error naming its line.
    pub fn read_json_lines(input: impl BufRead) -> Result<Self, HistoryError> {
        let mut ops = Vec::new();
        for (n, line) in input.lines().enumerate() {
            let line = line.map_err(|e| HistoryError {
                line: n + 1,
                message: e.to_string(),
            })?;
            if line.trim().is_empty() {
                continue;
            }
            let op = serde_json::from_str(&line).map_err(|e| HistoryError {
                line: n + 1,
                message: e.to_string(),
            })?;
            ops.push(op);
        }
        Ok(History { ops })
    }

    pub fn from_json_lines(text: &str) -> Result<Self, HistoryError> {
        Self::read_json_lines(text.as_bytes())
    }
}

/// Raw `CLOCK_MONOTONIC` in nanoseconds: one clock for every process on the
/// machine (unlike [`Instant`], whose value cannot be shared), so histories
/// recorded by separate processes can be merged.
pub fn system_monotonic_ns() -> io::Result<u64> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((ts.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(ts.tv_nsec as u64))
}

#[derive(Clone, Copy, Debug)]
enum Clock {
    /// Nanoseconds since this instant (one process).
    Process(Instant),
    /// Raw `CLOCK_MONOTONIC` (all processes of the machine).
    System,
}

impl Clock {
    fn now_ns(&self) -> u64 {
        match self {
            Clock::Process(start) => start.elapsed().as_nanos() as u64,
            // Checked when the recorder was made; CLOCK_MONOTONIC does not start
            // failing later.
            Clock::System => system_monotonic_ns().unwrap_or(0),
        }
    }
}

/// Names one invoked operation until its answer is recorded. Not `Clone`: an
/// operation gets exactly one response (or none, if the token is dropped).
#[must_use = "complete the operation, or mark its answer unknown"]
#[derive(Debug)]
pub struct Token {
    shard: usize,
    index: usize,
}

const SHARDS: usize = 64;

/// Records a history from many threads at once. Operations are kept in buffers
/// chosen by client id, so threads that each drive their own client never wait
/// for each other; the buffers are merged by [`Recorder::into_history`].
pub struct Recorder<Op, Ret> {
    clock: Clock,
    shards: Vec<Mutex<Vec<Operation<Op, Ret>>>>,
}

impl<Op, Ret> Default for Recorder<Op, Ret> {
    fn default() -> Self {
        Self::new()
    }
}

impl<Op, Ret> Recorder<Op, Ret> {
    /// Times in nanoseconds since now, from this process's monotonic clock.
    pub fn new() -> Self {
        Self::with_clock(Clock::Process(Instant::now()))
    }

    /// Times from the system-wide `CLOCK_MONOTONIC`, comparable across processes.
    pub fn with_system_clock() -> io::Result<Self> {
        system_monotonic_ns()?;
        Ok(Self::with_clock(Clock::System))
    }

    fn with_clock(clock: Clock) -> Self {
        Recorder {
            clock,
            shards: (0..SHARDS).map(|_| Mutex::new(Vec::new())).collect(),
        }
    }

    /// The recorder's clock, for callers that stamp something else on the same scale.
    pub fn now_ns(&self) -> u64 {
        self.clock.now_ns()
    }

    /// Call just before the operation is sent.
    pub fn invoke(&self, client: u64, op: Op) -> Token {
        let call_ns = self.clock.now_ns();
        let shard = (client % SHARDS as u64) as usize;
        let mut ops = self.shards[shard].lock();
        ops.push(Operation::unknown(client, call_ns, op));
        Token {
            shard,
            index: ops.len() - 1,
        }
    }

    /// Call just after the answer arrived.
    pub fn complete(&self, token: Token, ret: Ret) {
        let return_ns = self.clock.now_ns();
        if let Some(o) = self.shards[token.shard].lock().get_mut(token.index) {
            o.return_ns = Some(return_ns);
            o.ret = Some(ret);
        }
    }

    /// The answer will never be known: the operation may or may not have taken effect.
    pub fn unknown(&self, token: Token) {
        // Already recorded as unknown at invocation; consuming the token is the point.
        drop(token);
    }

    /// Every operation recorded, ordered by call time.
    pub fn into_history(self) -> History<Op, Ret> {
        History::merge(self.shards.into_iter().map(|s| History {
            ops: s.into_inner(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_round_trip_with_unknown_answers() {
        let mut h: History<String, u32> = History::new();
        h.push(Operation::completed(1, 10, 20, "a".into(), 7));
        h.push(Operation::unknown(2, 15, "b".into()));
        let text = h.to_json_lines();
        assert_eq!(text.lines().count(), 2);
        assert!(text.contains(r#""return_ns":null"#), "{text}");
        assert!(text.contains(r#""ret":null"#), "{text}");
        let back = History::<String, u32>::from_json_lines(&text).unwrap();
        assert_eq!(back, h);
    }

    #[test]
    fn a_bad_line_is_named() {
        let text = "{\"client\":1,\"call_ns\":1,\"return_ns\":2,\"op\":\"a\",\"ret\":1}\n\nnope\n";
        let e = History::<String, u32>::from_json_lines(text).unwrap_err();
        assert_eq!(e.line, 3);
    }

    #[test]
    fn recorder_merges_threads_and_keeps_unfinished_ops_unknown() {
        let r: Recorder<u64, u64> = Recorder::new();
        std::thread::scope(|s| {
            for c in 0..4u64 {
                let r = &r;
                s.spawn(move || {
                    for i in 0..10 {
                        let t = r.invoke(c, i);
                        if i == 9 {
                            r.unknown(t);
                        } else {
                            r.complete(t, i * 2);
                        }
                    }
                });
            }
        });
        let h = r.into_history();
        assert_eq!(h.len(), 40);
        assert_eq!(h.ops.iter().filter(|o| o.is_unknown()).count(), 4);
        assert!(h.ops.windows(2).all(|w| w[0].call_ns <= w[1].call_ns));
        h.validate().unwrap();
    }

    #[test]
    fn validate_rejects_overlapping_ops_of_one_client() {
        let mut h: History<u8, u8> = History::new();
        h.push(Operation::completed(1, 0, 10, 0, 0));
        h.push(Operation::completed(1, 5, 15, 0, 0));
        assert!(h.validate().is_err());
    }

    #[test]
    fn system_clock_is_monotonic() {
        let a = system_monotonic_ns().unwrap();
        let b = system_monotonic_ns().unwrap();
        assert!(b >= a && a > 0);
    }
}
