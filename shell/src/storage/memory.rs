//! A storage in memory: what tests, previews and the browser run on.

use super::{read_into, truncate_in, Storage};
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// Bytes in memory, shareable between handles (so a test can "reopen" them),
/// remembering how much was synced and able to fail its syncs on demand.
pub struct MemoryStorage {
    inner: Arc<Mutex<Memory>>,
    fail_sync: Arc<AtomicBool>,
    fail_append: Arc<AtomicBool>,
    /// Which handle holds the lock, shared by every handle: several ledgers on
    /// one memory storage behave like several processes on one file. Like a
    /// file's `flock`, a handle's lock is released when the handle is dropped.
    locked: Arc<(Mutex<Option<u64>>, std::sync::Condvar)>,
    handle: u64,
    /// The contents' generation this handle last saw (a replace starts a new one).
    seen: u64,
    replaced: bool,
}

static HANDLES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl Default for MemoryStorage {
    fn default() -> Self {
        MemoryStorage {
            inner: Arc::default(),
            fail_sync: Arc::default(),
            fail_append: Arc::default(),
            locked: Arc::default(),
            handle: HANDLES.fetch_add(1, Ordering::Relaxed),
            seen: 0,
            replaced: false,
        }
    }
}

impl Clone for MemoryStorage {
    fn clone(&self) -> Self {
        MemoryStorage {
            inner: self.inner.clone(),
            fail_sync: self.fail_sync.clone(),
            fail_append: self.fail_append.clone(),
            locked: self.locked.clone(),
            handle: HANDLES.fetch_add(1, Ordering::Relaxed),
            seen: self.mem().generation,
            replaced: false,
        }
    }
}

impl Drop for MemoryStorage {
    fn drop(&mut self) {
        let (m, cv) = &*self.locked;
        let mut holder = m.lock().unwrap_or_else(|e| e.into_inner());
        if *holder == Some(self.handle) {
            *holder = None;
            cv.notify_one();
        }
    }
}

#[derive(Default)]
struct Memory {
    bytes: Vec<u8>,
    synced: usize,
    generation: u64,
}

impl MemoryStorage {
    /// Empty storage with a lock of its own; clones are further handles on the same bytes.
    pub fn new() -> Self {
        Self::default()
    }

    fn mem(&self) -> MutexGuard<'_, Memory> {
        // A panic while holding this lock can only come from a test; the bytes stay usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A copy of the bytes.
    pub fn bytes(&self) -> Vec<u8> {
        self.mem().bytes.clone()
    }

    /// Replace the bytes (tests tear and corrupt journals this way).
    pub fn set_bytes(&self, bytes: Vec<u8>) {
        let mut m = self.mem();
        m.synced = m.synced.min(bytes.len());
        m.bytes = bytes;
    }

    /// Make every later sync fail (or succeed again).
    pub fn fail_syncs(&self, fail: bool) {
        self.fail_sync.store(fail, Ordering::SeqCst);
    }

    /// Make every later append fail (or succeed again).
    pub fn fail_appends(&self, fail: bool) {
        self.fail_append.store(fail, Ordering::SeqCst);
    }

    /// How many bytes the last successful sync made durable.
    pub fn synced_len(&self) -> usize {
        self.mem().synced
    }

    /// Lose everything written since the last successful sync, as a power loss would.
    pub fn lose_unsynced(&self) {
        let mut m = self.mem();
        let synced = m.synced;
        m.bytes.truncate(synced);
    }
}

impl Storage for MemoryStorage {
    fn len(&mut self) -> io::Result<u64> {
        Ok(self.mem().bytes.len() as u64)
    }
    fn read_exact_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        read_into(&self.mem().bytes, offset, buf)
    }
    fn append(&mut self, data: &[u8]) -> io::Result<()> {
        if self.fail_append.load(Ordering::SeqCst) {
            return Err(io::Error::other("injected write failure"));
        }
        self.mem().bytes.extend_from_slice(data);
        Ok(())
    }
    fn truncate(&mut self, len: u64) -> io::Result<()> {
        let m = &mut *self.mem();
        truncate_in(&mut m.bytes, &mut m.synced, len)
    }
    fn sync(&mut self) -> io::Result<()> {
        (self.syncer()?)()
    }
    fn syncer(&self) -> io::Result<Box<dyn FnMut() -> io::Result<()> + Send>> {
        let me = self.clone();
        Ok(Box::new(move || {
            if me.fail_sync.load(Ordering::SeqCst) {
                return Err(io::Error::other("injected fsync failure"));
            }
            let mut m = me.mem();
            m.synced = m.bytes.len();
            Ok(())
        }))
    }
    fn lock(&mut self) -> io::Result<()> {
        let (m, cv) = &*self.locked;
        let mut holder = m.lock().unwrap_or_else(|e| e.into_inner());
        while holder.is_some_and(|h| h != self.handle) {
            holder = cv.wait(holder).unwrap_or_else(|e| e.into_inner());
        }
        *holder = Some(self.handle);
        drop(holder);
        let generation = self.mem().generation;
        if generation != self.seen {
            self.seen = generation;
            self.replaced = true;
        }
        Ok(())
    }
    fn unlock(&mut self) -> io::Result<()> {
        let (m, cv) = &*self.locked;
        let mut holder = m.lock().unwrap_or_else(|e| e.into_inner());
        if *holder == Some(self.handle) {
            *holder = None;
            cv.notify_one();
        }
        Ok(())
    }
    fn replace(&mut self, contents: &[u8]) -> io::Result<()> {
        if self.fail_sync.load(Ordering::SeqCst) {
            return Err(io::Error::other("injected fsync failure"));
        }
        let mut m = self.mem();
        m.bytes = contents.to_vec();
        m.synced = m.bytes.len();
        m.generation += 1;
        let generation = m.generation;
        drop(m);
        self.seen = generation;
        Ok(())
    }
    fn take_replaced(&mut self) -> bool {
        std::mem::take(&mut self.replaced)
    }
}
