//! A storage that fails on purpose, for the deterministic simulation and fuzzing.
//!
//! It models a disk as a byte vector plus the length known to be durable, and
//! injects, from its own seeded generator (so a seed reproduces a run exactly):
//! - write errors, possibly after part of the data reached the file;
//! - fsync errors (nothing more becomes durable);
//! - power loss ([`FaultyStorage::crash`]): everything after the durable length is
//!   cut to a random prefix whose last part may be zeros or garbage (a torn write);
//! - power loss with the unsynced pages persisted in any order
//!   ([`FaultyStorage::crash_pages`]): each unsynced 4 KiB page of the file is
//!   independently on disk whole, or not at all (its synced prefix, then zeros —
//!   or garbage, one time in four), and the last one possibly in part;
//! - bit flips in the durable part ([`FaultyStorage::flip_bit`]).
//!
//! Clones share one disk, as processes share one file. Built with the `testing`
//! feature only: no ledger in production has a use for a disk that lies.

use super::{read_into, truncate_in, Storage};
use std::io;
use std::sync::{Arc, Mutex, MutexGuard};

/// How often each fault strikes, per operation, in parts per million.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Faults {
    /// An append fails, after a random prefix of its data reached the disk.
    pub write_error_ppm: u32,
    /// A sync fails (nothing more becomes durable); so does a compaction's
    /// [`Storage::replace`], leaving the old contents.
    pub sync_error_ppm: u32,
}

#[derive(Debug)]
struct Disk {
    bytes: Vec<u8>,
    /// Bytes `[0, durable)` survive a power loss.
    durable: usize,
    generation: u64,
    faults: Faults,
    rng: u64,
    /// What was injected, for a failing seed's report.
    log: Vec<String>,
}

impl Disk {
    fn next(&mut self) -> u64 {
        // SplitMix64: tiny, good enough, and fully determined by the seed.
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
    fn strikes(&mut self, ppm: u32) -> bool {
        ppm > 0 && self.below(1_000_000) < u64::from(ppm)
    }
}

/// See the module documentation.
#[derive(Debug)]
pub struct FaultyStorage {
    disk: Arc<Mutex<Disk>>,
    seen: u64,
    replaced: bool,
}

impl Clone for FaultyStorage {
    fn clone(&self) -> Self {
        let seen = self.disk().generation;
        FaultyStorage {
            disk: self.disk.clone(),
            seen,
            replaced: false,
        }
    }
}

impl FaultyStorage {
    /// An empty disk whose faults are drawn from `seed`.
    pub fn new(seed: u64) -> Self {
        FaultyStorage {
            disk: Arc::new(Mutex::new(Disk {
                bytes: Vec::new(),
                durable: 0,
                generation: 0,
                faults: Faults::default(),
                rng: seed,
                log: Vec::new(),
            })),
            seen: 0,
            replaced: false,
        }
    }

    fn disk(&self) -> MutexGuard<'_, Disk> {
        self.disk.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Set the fault rates for every later operation, on every clone.
    pub fn set_faults(&self, faults: Faults) {
        self.disk().faults = faults;
    }

    /// A power loss: the unsynced part shrinks to a random prefix, whose last
    /// bytes may be zeros or garbage. Returns the bytes lost.
    pub fn crash(&self) -> usize {
        let mut d = self.disk();
        let durable = d.durable.min(d.bytes.len());
        let unsynced = d.bytes.len() - durable;
        let keep = d.below(unsynced as u64 + 1) as usize;
        let end = durable + keep;
        d.bytes.truncate(end);
        let torn = d.below(keep as u64 + 1) as usize;
        match d.below(3) {
            0 => d.bytes[end - torn..].fill(0),
            1 => {
                for i in end - torn..end {
                    d.bytes[i] = d.next() as u8;
                }
            }
            _ => {}
        }
        let lost = unsynced - keep;
        d.log.push(format!(
            "crash: kept {keep} of {unsynced} unsynced bytes, last {torn} torn"
        ));
        d.durable = durable;
        lost
    }

    /// A power loss that persists the unsynced part page by page, in any order:
    /// every unsynced 4 KiB page of the file is either fully persisted or not at
    /// all (it keeps its synced prefix; the rest reads as zeros — the old contents
    /// beyond the old end — or, one time in four, garbage), and the file ends
    /// at a random point of its last persisted page. Returns the bytes lost.
    pub fn crash_pages(&self) -> usize {
        const PAGE: usize = 4096;
        let mut d = self.disk();
        let durable = d.durable.min(d.bytes.len());
        let len = d.bytes.len();
        let mut end = durable;
        let mut lost = Vec::new();
        let mut page = durable / PAGE * PAGE;
        while page < len {
            let from = page.max(durable);
            let to = (page + PAGE).min(len);
            if d.below(2) == 0 {
                end = to;
            } else {
                lost.push(page / PAGE);
                if d.below(4) == 0 {
                    // Garbage: what the disk held there, or a write gone wrong.
                    for i in from..to {
                        d.bytes[i] = d.next() as u8;
                    }
                } else {
                    // Its old contents: zeros beyond the file's old end.
                    d.bytes[from..to].fill(0);
                }
            }
            page += PAGE;
        }
        // The file's length reached the disk only so far: a random point in (or at
        // the end of) the last page that persisted.
        if end > durable {
            let page_start = ((end - 1) / PAGE * PAGE).max(durable);
            end = page_start + 1 + d.below((end - page_start) as u64) as usize;
        }
        d.bytes.truncate(end);
        d.log.push(format!(
            "crash (pages): {} unsynced bytes, kept the first {} bytes, pages lost {lost:?}",
            len - durable,
            end - durable
        ));
        d.durable = durable;
        len - end
    }

    /// Flip one bit at `offset` (which must be durable), as bit rot would.
    pub fn flip_bit(&self, offset: usize, bit: u8) {
        let mut d = self.disk();
        if let Some(b) = d.bytes.get_mut(offset) {
            *b ^= 1 << (bit % 8);
        }
        d.log.push(format!("flip: bit {bit} at offset {offset}"));
    }

    /// A random number from the disk's generator (so a simulation needs one seed).
    pub fn random(&self, below: u64) -> u64 {
        self.disk().below(below)
    }

    /// A copy of the disk's bytes, durable or not.
    pub fn bytes(&self) -> Vec<u8> {
        self.disk().bytes.clone()
    }

    /// Bytes `[0, durable_len)` survive a [`FaultyStorage::crash`].
    pub fn durable_len(&self) -> usize {
        self.disk().durable
    }

    /// What was injected so far.
    pub fn log(&self) -> Vec<String> {
        self.disk().log.clone()
    }
}

impl Storage for FaultyStorage {
    fn len(&mut self) -> io::Result<u64> {
        Ok(self.disk().bytes.len() as u64)
    }
    fn read_exact_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        read_into(&self.disk().bytes, offset, buf)
    }
    fn append(&mut self, data: &[u8]) -> io::Result<()> {
        let mut d = self.disk();
        let ppm = d.faults.write_error_ppm;
        if d.strikes(ppm) {
            // Part of the write may have reached the file before the error.
            let part = d.below(data.len() as u64 + 1) as usize;
            d.bytes.extend_from_slice(&data[..part]);
            d.log
                .push(format!("write error after {part} of {} bytes", data.len()));
            return Err(io::Error::other("injected write error"));
        }
        d.bytes.extend_from_slice(data);
        Ok(())
    }
    fn truncate(&mut self, len: u64) -> io::Result<()> {
        let d = &mut *self.disk();
        truncate_in(&mut d.bytes, &mut d.durable, len)
    }
    fn sync(&mut self) -> io::Result<()> {
        (self.syncer()?)()
    }
    fn syncer(&self) -> io::Result<Box<dyn FnMut() -> io::Result<()> + Send>> {
        let disk = self.disk.clone();
        Ok(Box::new(move || {
            let mut d = disk.lock().unwrap_or_else(|e| e.into_inner());
            let ppm = d.faults.sync_error_ppm;
            if d.strikes(ppm) {
                d.log.push("fsync error".into());
                return Err(io::Error::other("injected fsync error"));
            }
            d.durable = d.bytes.len();
            Ok(())
        }))
    }
    fn lock(&mut self) -> io::Result<()> {
        // One simulated process at a time: the simulation is single-threaded.
        let generation = self.disk().generation;
        if generation != self.seen {
            self.seen = generation;
            self.replaced = true;
        }
        Ok(())
    }
    fn unlock(&mut self) -> io::Result<()> {
        Ok(())
    }
    fn replace(&mut self, contents: &[u8]) -> io::Result<()> {
        let mut d = self.disk();
        let ppm = d.faults.sync_error_ppm;
        if d.strikes(ppm) {
            // The temporary file's fsync failed: the journal is untouched.
            d.log.push("fsync error while compacting".into());
            return Err(io::Error::other("injected fsync error"));
        }
        d.bytes = contents.to_vec();
        d.durable = d.bytes.len();
        d.generation += 1;
        d.log.push(format!("compacted to {} bytes", contents.len()));
        let generation = d.generation;
        drop(d);
        self.seen = generation;
        Ok(())
    }
    fn take_replaced(&mut self) -> bool {
        std::mem::take(&mut self.replaced)
    }
    /// A second handle reads what the disk holds now, as a second open file
    /// would (old events are regenerated from it), without faults of its own.
    fn reader(&self) -> Option<super::Opener> {
        let bytes = self.disk().bytes.clone();
        Some(Box::new(move || {
            let copy = super::MemoryStorage::new();
            copy.set_bytes(bytes);
            Ok(Box::new(copy) as Box<dyn Storage>)
        }))
    }
}
