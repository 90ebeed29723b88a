//! Where there is no POSIX file system (the browser, wasm32): journal files cannot
//! be opened, so a `FileStorage` never exists; ledgers live on other storages.

use super::Storage;
use std::io;
use std::path::Path;

/// A journal file; none can exist here (see the module documentation).
pub enum FileStorage {}

impl FileStorage {
    /// Always fails with [`io::ErrorKind::Unsupported`].
    pub fn open(_path: impl AsRef<Path>) -> io::Result<FileStorage> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "journal files need a POSIX file system",
        ))
    }
    /// Never called: no `FileStorage` exists here.
    pub fn path(&self) -> &Path {
        match *self {}
    }
    /// Never called: no `FileStorage` exists here.
    pub fn sync_dir(&self) -> io::Result<()> {
        match *self {}
    }
}

impl Storage for FileStorage {
    fn len(&mut self) -> io::Result<u64> {
        match *self {}
    }
    fn read_exact_at(&mut self, _: u64, _: &mut [u8]) -> io::Result<()> {
        match *self {}
    }
    fn append(&mut self, _: &[u8]) -> io::Result<()> {
        match *self {}
    }
    fn truncate(&mut self, _: u64) -> io::Result<()> {
        match *self {}
    }
    fn sync(&mut self) -> io::Result<()> {
        match *self {}
    }
    fn syncer(&self) -> io::Result<Box<dyn FnMut() -> io::Result<()> + Send>> {
        match *self {}
    }
    fn lock(&mut self) -> io::Result<()> {
        match *self {}
    }
    fn unlock(&mut self) -> io::Result<()> {
        match *self {}
    }
    fn replace(&mut self, _: &[u8]) -> io::Result<()> {
        match *self {}
    }
    fn take_replaced(&mut self) -> bool {
        match *self {}
    }
}

pub(crate) fn write_synced(_path: &Path, _parts: &[&[u8]]) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "files need a POSIX file system",
    ))
}
