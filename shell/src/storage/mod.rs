//! Where a journal's bytes live: one small trait, a file (`file`, POSIX only) and a
//! memory implementation (`memory`).
//!
//! Everything the journal needs from a disk is the trait, so tests can run every
//! storage scenario on both, and a storage that fails on purpose (`faulty`, built
//! with the `testing` feature) can stand in for a disk in the simulation.

use std::io;

#[cfg(feature = "testing")]
pub mod faulty;
#[cfg(unix)]
mod file;
mod memory;
#[cfg(not(unix))]
mod unsupported;

#[cfg(unix)]
pub use file::{write_synced, FileStorage};
pub use memory::MemoryStorage;
#[cfg(not(unix))]
pub(crate) use unsupported::write_synced;
#[cfg(not(unix))]
pub use unsupported::FileStorage;

/// The operations a journal performs on its bytes.
pub trait Storage: Send {
    /// Current length in bytes.
    fn len(&mut self) -> io::Result<u64>;
    /// True if [`Storage::len`] is 0.
    fn is_empty(&mut self) -> io::Result<bool> {
        Ok(self.len()? == 0)
    }
    /// Fill `buf` from `offset`; fails if the storage is shorter.
    fn read_exact_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()>;
    /// Append at the end (atomically with respect to other appenders holding the lock).
    fn append(&mut self, data: &[u8]) -> io::Result<()>;
    /// Cut to `len` bytes.
    fn truncate(&mut self, len: u64) -> io::Result<()>;
    /// Make everything appended so far durable.
    fn sync(&mut self) -> io::Result<()>;
    /// A handle that syncs this storage from another thread, so the journal can
    /// wait for the disk without holding the ledger's lock.
    fn syncer(&self) -> io::Result<Box<dyn FnMut() -> io::Result<()> + Send>>;
    /// Exclusive lock across processes (a no-op where only one process can see it).
    /// If another handle replaced the contents (a compaction) while this one
    /// waited, the handle moves to the new contents and [`Storage::take_replaced`]
    /// says so.
    fn lock(&mut self) -> io::Result<()>;
    /// Release the lock from [`Storage::lock`] (a no-op if not held); dropping the
    /// handle releases it too.
    fn unlock(&mut self) -> io::Result<()>;
    /// Replace the whole contents by `contents`, durably and atomically (a crash
    /// leaves the old or the new contents, whole). Called with the lock held; the
    /// handle keeps the lock, now on the new contents.
    fn replace(&mut self, contents: &[u8]) -> io::Result<()>;
    /// True once after [`Storage::lock`] found the contents replaced by another handle.
    fn take_replaced(&mut self) -> bool;
    /// 16 random bytes to name a new journal (a storage with its own entropy
    /// source, e.g. in a browser, overrides this).
    fn new_ledger_id(&mut self) -> [u8; 16] {
        fresh_ledger_id()
    }
}

/// A storage chosen at run time (file or memory) is a storage too.
impl<T: Storage + ?Sized> Storage for Box<T> {
    fn len(&mut self) -> io::Result<u64> {
        (**self).len()
    }
    fn read_exact_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        (**self).read_exact_at(offset, buf)
    }
    fn append(&mut self, data: &[u8]) -> io::Result<()> {
        (**self).append(data)
    }
    fn truncate(&mut self, len: u64) -> io::Result<()> {
        (**self).truncate(len)
    }
    fn sync(&mut self) -> io::Result<()> {
        (**self).sync()
    }
    fn syncer(&self) -> io::Result<Box<dyn FnMut() -> io::Result<()> + Send>> {
        (**self).syncer()
    }
    fn lock(&mut self) -> io::Result<()> {
        (**self).lock()
    }
    fn unlock(&mut self) -> io::Result<()> {
        (**self).unlock()
    }
    fn replace(&mut self, contents: &[u8]) -> io::Result<()> {
        (**self).replace(contents)
    }
    fn take_replaced(&mut self) -> bool {
        (**self).take_replaced()
    }
    fn new_ledger_id(&mut self) -> [u8; 16] {
        (**self).new_ledger_id()
    }
}

/// 16 random bytes naming a new journal (so checkpoints and compactions can tell
/// journals apart): what [`Storage::new_ledger_id`] gives unless a storage has an
/// entropy source of its own.
pub fn fresh_ledger_id() -> [u8; 16] {
    let mut id = [0u8; 16];
    #[cfg(unix)]
    {
        let random = std::fs::File::open("/dev/urandom")
            .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut id));
        if random.is_ok() {
            return id;
        }
    }
    // No entropy source (or no file system: a storage there supplies its own id):
    // unique enough within a process to tell journals apart.
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let here = &id as *const _ as usize as u64;
    id[..8].copy_from_slice(&n.to_le_bytes());
    id[8..].copy_from_slice(&here.to_le_bytes());
    id
}

/// [`Storage::read_exact_at`] for storages that hold their bytes in memory.
pub(crate) fn read_into(bytes: &[u8], offset: u64, buf: &mut [u8]) -> io::Result<()> {
    let start = usize::try_from(offset).map_err(|_| io::ErrorKind::UnexpectedEof)?;
    let src = start
        .checked_add(buf.len())
        .and_then(|end| bytes.get(start..end))
        .ok_or(io::ErrorKind::UnexpectedEof)?;
    buf.copy_from_slice(src);
    Ok(())
}

/// [`Storage::truncate`] for storages that hold their bytes in memory: what was
/// cut is no longer durable either.
pub(crate) fn truncate_in(bytes: &mut Vec<u8>, durable: &mut usize, len: u64) -> io::Result<()> {
    let len = usize::try_from(len).map_err(|_| io::ErrorKind::InvalidInput)?;
    bytes.truncate(len);
    *durable = (*durable).min(len);
    Ok(())
}
