//! One thread per ledger that submits what requests ask for, many at once.
//!
//! A request does not take a thread of its own to wait for the group commit's
//! fdatasync: it hands its action to the ledger's committer and awaits the answer.
//! The committer takes everything that queued while it was busy (its last write and
//! sync), submits it as one batch — one write, one fdatasync — and hands each
//! request its own result. Under load the queue fills while the disk syncs, so a
//! batch carries as many requests as arrived during one sync, with one thread
//! wake-up per batch instead of two per request.

use kontingent::host::{At, HostLedger};
use kontingent::{Action, Applied, DurableError};
use parking_lot::RwLock;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// The most requests one batch carries (the rest wait for the next).
const MAX_BATCH: usize = 4096;

type Answer = Result<Applied, DurableError>;
type Job = (Action, oneshot::Sender<Answer>);

/// The queue into a ledger's committer thread.
pub(crate) struct Committer {
    queue: mpsc::UnboundedSender<Job>,
}

impl Committer {
    /// Start the committer of the ledger `current` holds (read at each batch: a
    /// reconnect swaps it). The thread ends when the committer is dropped.
    pub(crate) fn start(
        name: &str,
        current: Arc<RwLock<Arc<HostLedger>>>,
        commits: Arc<crate::deliver::Commits>,
    ) -> std::io::Result<Committer> {
        let (queue, mut jobs) = mpsc::unbounded_channel::<Job>();
        let name = name.to_owned();
        std::thread::Builder::new()
            .name(format!("commit-{name}"))
            .spawn(move || {
                let mut batch = Vec::new();
                while let Some(first) = jobs.blocking_recv() {
                    batch.push(first);
                    while batch.len() < MAX_BATCH {
                        match jobs.try_recv() {
                            Ok(job) => batch.push(job),
                            Err(_) => break,
                        }
                    }
                    let (actions, answers): (Vec<_>, Vec<_>) = batch
                        .drain(..)
                        .map(|(action, answer)| ((At::Now, action), answer))
                        .unzip();
                    let ledger = current.read().clone();
                    for (result, answer) in ledger.submit_batch(actions).into_iter().zip(answers) {
                        // A request that gave up (its client left) no longer listens.
                        let _ = answer.send(result);
                    }
                    commits.bump();
                }
            })?;
        Ok(Committer { queue })
    }

    /// Submit `action` now; the answer comes after its batch's fdatasync. `None`:
    /// the committer is gone (never, short of a bug).
    pub(crate) async fn submit(&self, action: Action) -> Option<Answer> {
        let (answer, result) = oneshot::channel();
        self.queue.send((action, answer)).ok()?;
        result.await.ok()
    }
}
