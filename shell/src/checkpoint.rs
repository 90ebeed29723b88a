//! Checkpoint files: the whole state at a record of the journal, so a restart
//! replays only the records after it (`docs/FORMAT.md`, "Checkpoint file").
//!
//! Written to a temporary file, fsynced, renamed over the old checkpoint, and the
//! directory fsynced: a crash leaves either the old or the new checkpoint, whole.
//! A checkpoint is only an accelerator: the journal stays the source of truth, and a
//! checkpoint that is damaged or does not fit is ignored (the journal is replayed).

use crate::journal::JournalError;
use std::fs::{self, File};
use std::path::{Path, PathBuf};

/// Bytes 0..8 of a checkpoint file.
pub const MAGIC: &[u8; 8] = b"KONTCKPT";
/// The version at bytes 8..10; [`read`] refuses any other (the checkpoint is then ignored).
pub const VERSION: u16 = 1;
/// Header length in bytes: the state starts at this offset.
pub const HEADER_LEN: usize = 80;

/// What a checkpoint covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// The journal's ledger id; a checkpoint of another journal is ignored.
    pub ledger_id: [u8; 16],
    /// Records of the journal included in the state.
    pub records: u64,
    /// Journal offset just past the last included record.
    pub offset: u64,
    /// Where the last included record starts, and its CRC: opening checks that the
    /// journal still has exactly that record there.
    pub last: Option<(u64, u32)>,
    /// The state (`Ledger::state_bytes`).
    pub state: Vec<u8>,
}

/// The checkpoint file next to a journal.
pub fn path_for(journal: &Path) -> PathBuf {
    let mut p = journal.as_os_str().to_owned();
    p.push(".checkpoint");
    PathBuf::from(p)
}

/// Write `c` as `<journal>.checkpoint`, durable once this returns `Ok`. The caller
/// must have synced the journal through `c.records` first. On `Err` the old or the
/// new checkpoint is in place, whole (perhaps beside a stray `.tmp` file); retrying is safe.
pub fn write(journal: &Path, c: &Checkpoint) -> Result<(), JournalError> {
    let mut h = [0u8; HEADER_LEN];
    h[..8].copy_from_slice(MAGIC);
    h[8..10].copy_from_slice(&VERSION.to_le_bytes());
    h[12..28].copy_from_slice(&c.ledger_id);
    h[28..36].copy_from_slice(&c.records.to_le_bytes());
    h[36..44].copy_from_slice(&c.offset.to_le_bytes());
    h[44..52].copy_from_slice(&(c.state.len() as u64).to_le_bytes());
    h[52..56].copy_from_slice(&crc32c::crc32c(&c.state).to_le_bytes());
    if let Some((start, crc)) = c.last {
        h[10] = 1;
        h[56..64].copy_from_slice(&start.to_le_bytes());
        h[64..68].copy_from_slice(&crc.to_le_bytes());
    }
    let crc = crc32c::crc32c(&h[..68]);
    h[68..72].copy_from_slice(&crc.to_le_bytes());
    let target = path_for(journal);
    // A name of our own: two writers (a server and the CLI) never share a temp file.
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut tmp = target.as_os_str().to_owned();
    tmp.push(format!(
        ".{}.{}.tmp",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let tmp = PathBuf::from(tmp);
    crate::storage::write_synced(&tmp, &[&h, &c.state])?;
    fs::rename(&tmp, &target)?;
    let dir = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    File::open(dir)?.sync_all()?;
    Ok(())
}

/// The checkpoint next to `journal`: `Ok(None)` if there is none,
/// `Err(reason)` if it is there but damaged.
pub fn read(journal: &Path) -> Result<Option<Checkpoint>, String> {
    let bytes = match fs::read(path_for(journal)) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read the checkpoint: {e}")),
    };
    if bytes.len() < HEADER_LEN || &bytes[..8] != MAGIC {
        return Err("not a checkpoint file".into());
    }
    let h = &bytes[..HEADER_LEN];
    let u64_at = |i: usize| {
        let mut a = [0u8; 8];
        a.copy_from_slice(&h[i..i + 8]);
        u64::from_le_bytes(a)
    };
    let u32_at = |i: usize| u32::from_le_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
    if crc32c::crc32c(&h[..68]) != u32_at(68) {
        return Err("checkpoint header checksum mismatch".into());
    }
    if u16::from_le_bytes([h[8], h[9]]) != VERSION {
        return Err("unknown checkpoint version".into());
    }
    let len = usize::try_from(u64_at(44)).unwrap_or(usize::MAX);
    let state = bytes
        .get(HEADER_LEN..)
        .filter(|s| s.len() == len)
        .ok_or("checkpoint has the wrong length")?;
    if crc32c::crc32c(state) != u32_at(52) {
        return Err("checkpoint state checksum mismatch".into());
    }
    let mut ledger_id = [0u8; 16];
    ledger_id.copy_from_slice(&h[12..28]);
    Ok(Some(Checkpoint {
        ledger_id,
        records: u64_at(28),
        offset: u64_at(36),
        last: (h[10] == 1).then(|| (u64_at(56), u32_at(64))),
        state: state.to_vec(),
    }))
}
