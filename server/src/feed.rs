//! One look at each ledger for every event stream. During a rush thousands of
//! browsers follow one ledger; if each stream asked the ledger for new deltas ten
//! times a second, those reads would queue on the ledger's lock with the writes
//! (and, on PostgreSQL, each would take the ledger's lock in the database). So one
//! feed per ledger asks, and hands each new delta, serialized once, to every
//! stream that follows live; a stream only reads the ledger itself to catch up.

use crate::state::App;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;

/// How often a feed looks for new deltas.
pub(crate) const POLL: Duration = Duration::from_millis(100);
/// Deltas read at once, and kept for a stream that fell behind.
pub(crate) const PAGE: usize = 256;
const BACKLOG: usize = 4 * PAGE;

/// A delta as it goes out: its seq and its JSON.
pub(crate) type Item = Arc<(u64, String)>;

/// A ledger's live deltas.
pub(crate) struct Feed {
    tx: broadcast::Sender<Item>,
    /// The last seq handed out (0 until the first look).
    last: AtomicU64,
}

impl Feed {
    pub(crate) fn new() -> Arc<Feed> {
        Arc::new(Feed {
            tx: broadcast::channel(BACKLOG).0,
            last: AtomicU64::new(0),
        })
    }

    /// The last seq handed out: a stream that has sent less and finds nothing in
    /// its receiver missed some (they went out before it subscribed, or the feed
    /// found its place past them) and reads the ledger.
    pub(crate) fn last(&self) -> u64 {
        self.last.load(Ordering::Relaxed)
    }

    /// Follow the deltas handed out from now on.
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Item> {
        self.tx.subscribe()
    }
}

/// Look at every followed ledger once per [`POLL`], until the server stops.
pub(crate) async fn run(app: App) {
    let mut every = tokio::time::interval(POLL);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Ledgers nobody followed at the last look: their place is found again first.
    let mut idle: std::collections::BTreeSet<&str> = app.feeds.keys().map(|k| k.as_str()).collect();
    loop {
        every.tick().await;
        for (name, feed) in app.feeds.iter() {
            if feed.tx.receiver_count() == 0 {
                idle.insert(name.as_str());
                continue;
            }
            let Ok(l) = app.ledger(name) else { continue };
            if idle.remove(name.as_str()) {
                // Start from now: earlier deltas are each stream's own catch-up
                // (a stream that sees a gap reads the ledger itself).
                if let Ok(Ok(seq)) = crate::state::blocking(move || l.read(|x| x.seq())).await {
                    feed.last.store(seq, Ordering::Relaxed);
                } else {
                    idle.insert(name.as_str());
                }
                continue;
            }
            // Every page there is: a rush writes more than a page per look.
            loop {
                let after = feed.last.load(Ordering::Relaxed);
                let l = l.clone();
                app.metrics.sse_reads.inc();
                // Errors (a reconnect, retired events) are left to the streams'
                // catch-up, which reports them: the feed tries again next look.
                let Ok(Ok(deltas)) =
                    crate::state::blocking(move || l.deltas_after(after, PAGE)).await
                else {
                    break;
                };
                let full = deltas.len() == PAGE;
                for d in deltas {
                    let text = serde_json::to_string(&d).unwrap_or_default();
                    feed.last.store(d.seq, Ordering::Relaxed);
                    let _ = feed.tx.send(Arc::new((d.seq, text)));
                }
                if !full {
                    break;
                }
            }
        }
    }
}
