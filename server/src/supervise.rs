//! Keeps each ledger open. A ledger on a journal file that failed a write or sync
//! stays poisoned until the server restarts (after a failed fdatasync the file's
//! state is unknown). A ledger on the PostgreSQL log is different: the log in the
//! database is the truth and a new connection replays it. So when its connection
//! breaks (PostgreSQL restarted, a network cut, its session ended for holding the
//! lock too long), a watcher thread reconnects and re-tails by itself, and swaps the
//! new handle in. Requests meanwhile answer `503` (`io` or `poisoned`); they are
//! safe to retry with the same request id: one whose batch had committed answers
//! its first outcome, one whose batch had not runs anew.

use crate::committer::Committer;
use kontingent::host::HostLedger;
use parking_lot::RwLock;
use std::sync::Arc;
use std::time::Duration;

/// Opens a ledger again, from the log.
pub(crate) type Reopen = Box<dyn Fn() -> Result<HostLedger, String> + Send + Sync>;

/// How often a watcher looks at its ledger's connection.
const LOOK: Duration = Duration::from_millis(200);
/// The longest wait between two attempts to reconnect.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// One ledger, as requests find it: the current handle, replaced after a
/// reconnect, and the committer its commands go through.
pub(crate) struct Slot {
    name: String,
    current: Arc<RwLock<Arc<HostLedger>>>,
    pub(crate) committer: Committer,
    /// Bumped after every batch the committer wrote: deliverers wait on it.
    pub(crate) commits: Arc<crate::deliver::Commits>,
}

impl Slot {
    pub(crate) fn new(name: &str, ledger: HostLedger) -> std::io::Result<Arc<Slot>> {
        let current = Arc::new(RwLock::new(Arc::new(ledger)));
        let commits = Arc::new(crate::deliver::Commits::default());
        Ok(Arc::new(Slot {
            name: name.to_owned(),
            committer: Committer::start(name, current.clone(), commits.clone())?,
            current,
            commits,
        }))
    }

    /// The ledger's name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The handle to use now.
    pub(crate) fn get(&self) -> Arc<HostLedger> {
        self.current.read().clone()
    }

    /// Watch this ledger from a thread of its own, reopening it with `reopen`
    /// whenever it is poisoned or cannot read its log.
    pub(crate) fn watch(self: &Arc<Slot>, reopen: Reopen) {
        let slot = Arc::downgrade(self);
        let spawned = std::thread::Builder::new()
            .name(format!("watch-{}", self.name))
            .spawn(move || loop {
                std::thread::sleep(LOOK);
                let Some(slot) = slot.upgrade() else { return };
                let ledger = slot.get();
                // A read tails the log: it fails when the connection is gone.
                if !ledger.is_poisoned() && ledger.read(|_| ()).is_ok() {
                    continue;
                }
                tracing::warn!(ledger = %slot.name, "lost the PostgreSQL log; reconnecting");
                let mut backoff = Duration::from_millis(100);
                loop {
                    match reopen() {
                        Ok(fresh) => {
                            let seq = fresh.read(|l| l.seq()).unwrap_or(0);
                            *slot.current.write() = Arc::new(fresh);
                            tracing::info!(ledger = %slot.name, seq, "reconnected and replayed the log");
                            break;
                        }
                        Err(e) => {
                            tracing::warn!(ledger = %slot.name, error = %e, ?backoff, "reconnect failed");
                            std::thread::sleep(backoff);
                            backoff = (backoff * 2).min(MAX_BACKOFF);
                        }
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::error!(ledger = %self.name, error = %e, "no watcher: a broken connection will not be reopened");
        }
    }
}
