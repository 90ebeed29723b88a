//! Where a journal's bytes live: one small trait, a file and a memory implementation.
//!
//! Everything the journal needs from a disk is here, so tests can run every
//! storage scenario on both, and the verification work can add a storage that
//! fails on purpose.

use parking_lot::RwLock;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// The operations a journal performs on its bytes.
pub trait Storage: Send {
    /// Current length in bytes.
    fn len(&mut self) -> io::Result<u64>;
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
    fn unlock(&mut self) -> io::Result<()>;
    /// Replace the whole contents by `contents`, durably and atomically (a crash
    /// leaves the old or the new contents, whole). Called with the lock held; the
    /// handle keeps the lock, now on the new contents.
    fn replace(&mut self, contents: &[u8]) -> io::Result<()>;
    /// True once after [`Storage::lock`] found the contents replaced by another handle.
    fn take_replaced(&mut self) -> bool;
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
}

/// A journal file. Opened for append (so concurrent processes never overwrite
/// each other), created with mode 0600.
///
/// A compaction renames a new file over the journal. Every handle notices when it
/// next takes the lock (the path no longer names its file) and moves to the new file.
pub struct FileStorage {
    /// Shared with the syncer, which must follow the handle to a new file.
    file: Arc<RwLock<File>>,
    path: PathBuf,
    /// The process that opened it: `flock` belongs to the open file, which a
    /// fork shares, so a handle used across a fork would not exclude anything.
    pid: u32,
    replaced: bool,
}

fn open_journal_file(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .mode(0o600)
        .open(path)
}

/// Create (or truncate) a private file holding `parts`, synced to disk.
pub(crate) fn write_synced(path: &Path, parts: &[&[u8]]) -> io::Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    for p in parts {
        f.write_all(p)?;
    }
    f.sync_all()
}

fn flock(file: &File) -> io::Result<()> {
    loop {
        // A signal handler without SA_RESTART (CPython installs such) interrupts flock.
        match file.lock() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// Does `path` still name `file`?
fn names(path: &Path, file: &File) -> io::Result<bool> {
    use std::os::unix::fs::MetadataExt;
    let (a, b) = (std::fs::metadata(path)?, file.metadata()?);
    Ok(a.dev() == b.dev() && a.ino() == b.ino())
}

impl FileStorage {
    pub fn open(path: impl AsRef<Path>) -> io::Result<FileStorage> {
        let path = path.as_ref().to_path_buf();
        let file = open_journal_file(&path)?;
        Ok(FileStorage {
            file: Arc::new(RwLock::new(file)),
            path,
            pid: std::process::id(),
            replaced: false,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn dir(&self) -> &Path {
        self.path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
    }

    /// fsync the directory, so a newly created journal's name is durable too.
    pub fn sync_dir(&self) -> io::Result<()> {
        File::open(self.dir())?.sync_all()
    }
}

impl Storage for FileStorage {
    fn len(&mut self) -> io::Result<u64> {
        Ok(self.file.read().metadata()?.len())
    }
    fn read_exact_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        self.file.read().read_exact_at(buf, offset)
    }
    fn append(&mut self, data: &[u8]) -> io::Result<()> {
        (&*self.file.read()).write_all(data)
    }
    fn truncate(&mut self, len: u64) -> io::Result<()> {
        self.file.read().set_len(len)
    }
    fn sync(&mut self) -> io::Result<()> {
        self.file.read().sync_data()
    }
    fn syncer(&self) -> io::Result<Box<dyn FnMut() -> io::Result<()> + Send>> {
        let f = self.file.clone();
        Ok(Box::new(move || f.read().sync_data()))
    }
    fn lock(&mut self) -> io::Result<()> {
        if std::process::id() != self.pid {
            return Err(io::Error::other(
                "this journal was opened before a fork: open it in each process (after forking)",
            ));
        }
        loop {
            flock(&self.file.read())?;
            if names(&self.path, &self.file.read())? {
                return Ok(());
            }
            // Compacted by another handle while we waited: move to the new file
            // (dropping the old one releases its lock) and lock that instead.
            let new = open_journal_file(&self.path)?;
            *self.file.write() = new;
            self.replaced = true;
        }
    }
    fn unlock(&mut self) -> io::Result<()> {
        self.file.read().unlock()
    }
    fn replace(&mut self, contents: &[u8]) -> io::Result<()> {
        let mut tmp = self.path.as_os_str().to_owned();
        tmp.push(format!(".{}.compact.tmp", std::process::id()));
        let tmp = PathBuf::from(tmp);
        if let Err(e) = write_synced(&tmp, &[contents]) {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        // Lock the new file before it gets its name: a process opening the journal
        // after the rename must wait until we are done.
        let new = open_journal_file(&tmp)?;
        flock(&new)?;
        std::fs::rename(&tmp, &self.path)?;
        // From here the new file is the journal; swap first, then make the rename durable.
        *self.file.write() = new;
        self.sync_dir()
    }
    fn take_replaced(&mut self) -> bool {
        std::mem::take(&mut self.replaced)
    }
}

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
        let m = self.mem();
        let start = usize::try_from(offset).map_err(|_| io::ErrorKind::UnexpectedEof)?;
        let src = start
            .checked_add(buf.len())
            .and_then(|end| m.bytes.get(start..end))
            .ok_or(io::ErrorKind::UnexpectedEof)?;
        buf.copy_from_slice(src);
        Ok(())
    }
    fn append(&mut self, data: &[u8]) -> io::Result<()> {
        if self.fail_append.load(Ordering::SeqCst) {
            return Err(io::Error::other("injected write failure"));
        }
        self.mem().bytes.extend_from_slice(data);
        Ok(())
    }
    fn truncate(&mut self, len: u64) -> io::Result<()> {
        let mut m = self.mem();
        let len = usize::try_from(len).map_err(|_| io::ErrorKind::InvalidInput)?;
        m.bytes.truncate(len);
        m.synced = m.synced.min(len);
        Ok(())
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
