//! Time moves on by itself. The ledger expires a hold (and hands its units to the
//! waiting list) when a command's time passes its `expires_at`; in a quiet hour no
//! command comes, so availability, the console, the export and the next customer
//! on the waiting list would wait for the next visitor. Once a second the ticker
//! looks at the earliest hold's `expires_at` (a query) and, when the server's clock
//! has passed it, submits a `tick` through the committer. That is scheduling only:
//! which holds expire, and who is promoted, stays the core's rule. A tick is
//! journaled only when a hold is due, so a quiet ledger writes nothing.

use crate::state::App;
use kontingent::Action;
use std::time::Duration;

/// How often the ticker looks.
const LOOK: Duration = Duration::from_secs(1);

/// Run until the server stops: one look per ledger per [`LOOK`].
pub(crate) async fn run(app: App) {
    let mut every = tokio::time::interval(LOOK);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let now = app.clock.now_ms();
        for (name, slot) in app.ledgers.iter() {
            let ledger = slot.get();
            let due = crate::state::blocking(move || {
                ledger.read(|l| l.holds_by_expiry(1).first().map(|h| h.expires_at))
            })
            .await;
            if let Ok(Ok(Some(expires_at))) = due {
                if expires_at <= now {
                    match slot.committer.submit(Action::Tick).await {
                        Some(Ok(_)) => tracing::debug!(ledger = %name, expires_at, "tick"),
                        other => tracing::warn!(ledger = %name, ?other, "tick failed"),
                    }
                }
            }
        }
    }
}
