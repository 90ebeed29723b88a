//! The journal file on a POSIX file system (see [`crate::storage`]).

use super::Storage;
use parking_lot::RwLock;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

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
pub fn write_synced(path: &Path, parts: &[&[u8]]) -> io::Result<()> {
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
    /// Open or create (mode 0600) the journal file; takes no lock and writes
    /// nothing. A new file's name is durable only after [`FileStorage::sync_dir`].
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

    /// The path it was opened by (after a compaction, a new file by that name).
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
    fn reader(&self) -> Option<super::Opener> {
        let path = self.path.clone();
        Some(Box::new(move || {
            Ok(Box::new(FileStorage::open(path)?) as Box<dyn Storage>)
        }))
    }
}
