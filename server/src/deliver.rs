//! Delivering a consumer's notifications from the server: one thread per
//! configured consumer (a webhook or the mailer) that asks the ledger for what
//! the consumer is given, performs each effect in seq order, one at a time, and
//! acks — a journaled command — only after the effect succeeded. A crash between
//! the two means the effect is performed again after the restart, with the same
//! key, never that it is skipped: at-least-once delivery, exactly-once effect for
//! a receiver that de-duplicates by key (docs/SEMANTICS.md).
//!
//! A failed effect is retried with exponential backoff and jitter; after
//! `attempts` failures in a row the consumer is *dead*: it stops (later events
//! wait behind the failed one, so the order holds) until an operator retries it
//! from the console or `POST .../consumers/{name}/retry`. A restart retries too.

use crate::supervise::Slot;
use kontingent::host::{At, HostLedger, Notification};
use kontingent::{Action, DurableError, Error};
use parking_lot::{Condvar, Mutex};
use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Notifications asked for at once (acked together when all are done).
const BATCH: usize = 100;
/// Acks while a batch is under way: after this many effects or this long, so a
/// crash repeats few of them (each ack is a journaled command sharing a sync).
const ACK_EVERY: usize = 20;
const ACK_AFTER: Duration = Duration::from_millis(100);
/// The shortest time between two reads of a busy ledger: under a rush each read
/// then carries many events, and the deliverer takes the ledger's lock (and the
/// journal's) a few dozen times a second instead of once per commit. It adds at
/// most this much to the lag; a quiet ledger's next event goes out at once.
const GATHER: Duration = Duration::from_millis(20);
/// How long an idle deliverer waits for a commit before it looks anyway (events
/// another server appended to a PostgreSQL log wake nobody here).
const IDLE: Duration = Duration::from_millis(250);

/// What performing one notification's effect came to.
pub(crate) enum Done {
    /// Delivered (the receiver answered 2xx, the SMTP server took the message).
    Delivered,
    /// Nothing to do for it, and why (no template for its type, a confirmation
    /// released meanwhile, a customer id that is not an address).
    Skipped(&'static str),
}

/// One kind of effect: a webhook's POST, the mailer's message.
pub(crate) trait Effect: Send + 'static {
    /// Perform it once; an `Err` (said for the console and logs) is retried.
    fn perform(&mut self, ledger: &HostLedger, n: &Notification) -> Result<Done, String>;
}

/// How retries are spaced and when a consumer is declared dead.
#[derive(Clone, Copy, Debug)]
pub struct Retry {
    /// Failures in a row before the consumer is dead.
    pub attempts: u32,
    /// The first wait; each failure doubles it, up to `max`, with ±50 % jitter.
    pub base: Duration,
    /// The longest wait between two attempts.
    pub max: Duration,
}

impl Retry {
    /// The wait after `failures` failures in a row, jittered so that many
    /// deliverers failing at once do not retry in step.
    fn wait(&self, failures: u32) -> Duration {
        let exp = self
            .base
            .saturating_mul(1u32 << failures.saturating_sub(1).min(20))
            .min(self.max);
        exp.mul_f64(0.5 + fastrand::f64())
    }
}

/// Where a deliverer stands, for the console, `/consumers` and the metrics.
#[derive(Clone, Debug, Default, Serialize)]
pub(crate) struct Status {
    /// `idle`, `delivering`, `retrying`, `dead` or `waiting` (the consumer is not
    /// defined, or the ledger is out).
    pub state: &'static str,
    /// Failures in a row of the notification at hand.
    pub failures: u32,
    /// The seq it is stuck at, when retrying or dead.
    pub seq: Option<u64>,
    /// The last failure, for the operator.
    pub last_error: Option<String>,
    pub delivered: u64,
    pub skipped: u64,
    pub failed: u64,
}

/// A running deliverer as the rest of the server sees it.
pub(crate) struct Deliverer {
    /// `webhook` or `mailer`.
    pub kind: &'static str,
    pub ledger: String,
    pub consumer: String,
    /// Where it delivers (a URL or `smtp://host:port`), for the console.
    pub target: String,
    status: Mutex<Status>,
    /// Set by an operator's retry; wakes a dead or waiting deliverer.
    retry: AtomicBool,
    wake: Condvar,
}

impl Deliverer {
    /// Its status now.
    pub(crate) fn status(&self) -> Status {
        self.status.lock().clone()
    }

    /// Retry now: a dead consumer tries its notification again from the first
    /// attempt; one waiting between attempts stops waiting.
    pub(crate) fn retry(&self) {
        self.retry.store(true, Ordering::SeqCst);
        let _guard = self.status.lock();
        self.wake.notify_all();
    }

    fn set(&self, f: impl FnOnce(&mut Status)) {
        f(&mut self.status.lock());
    }

    /// Sleep up to `d` (forever: `None`), or until an operator retries (true then).
    fn pause(&self, d: Option<Duration>) -> bool {
        let mut st = self.status.lock();
        if self.retry.swap(false, Ordering::SeqCst) {
            return true;
        }
        match d {
            Some(d) => {
                self.wake.wait_for(&mut st, d);
            }
            None => self.wake.wait(&mut st),
        }
        drop(st);
        self.retry.swap(false, Ordering::SeqCst)
    }
}

/// What a deliverer delivers, and how.
pub(crate) struct Spec {
    /// `webhook` or `mailer`.
    pub kind: &'static str,
    pub consumer: String,
    /// Where, for the console.
    pub target: String,
    pub retry: Retry,
}

/// Start a deliverer thread for a consumer of the ledger in `slot`; it ends
/// once `stopping` is set.
pub(crate) fn start(
    spec: Spec,
    slot: Arc<Slot>,
    mut effect: impl Effect,
    stopping: Arc<AtomicBool>,
    metrics: Arc<crate::metrics::Metrics>,
) -> std::io::Result<Arc<Deliverer>> {
    let Spec {
        kind,
        consumer,
        target,
        retry,
    } = spec;
    let d = Arc::new(Deliverer {
        kind,
        ledger: slot.name().to_owned(),
        consumer,
        target,
        status: Mutex::new(Status {
            state: "idle",
            ..Status::default()
        }),
        retry: AtomicBool::new(false),
        wake: Condvar::new(),
    });
    let me = d.clone();
    std::thread::Builder::new()
        .name(format!("{kind}-{}", d.consumer))
        .spawn(move || {
            while !stopping.load(Ordering::Relaxed) {
                let ledger = slot.get();
                let seen = slot.commits.current();
                let round = std::time::Instant::now();
                match run_once(&me, &ledger, &mut effect, retry, &metrics) {
                    Ok(Some(full)) => {
                        if !full {
                            std::thread::sleep(GATHER.saturating_sub(round.elapsed()));
                        }
                    }
                    Ok(None) => {
                        me.set(|s| s.state = "idle");
                        slot.commits.wait_past(seen, IDLE);
                    }
                    Err(Stop::Again) => {}
                    Err(Stop::Waiting(why)) => {
                        me.set(|s| {
                            s.state = "waiting";
                            s.last_error = Some(why);
                        });
                        // Not at the commit rate: a rush would spin this.
                        me.pause(Some(WAITING));
                    }
                }
            }
        })?;
    Ok(d)
}

enum Stop {
    /// Nothing can be delivered now (the consumer is not defined, the ledger is
    /// out, an ack failed).
    Waiting(String),
    /// Read again at once: the cursor or the event types changed under the batch
    /// (an operator moved it back or forward), or an operator retried a dead one.
    Again,
}

/// How long a deliverer that cannot deliver waits before it looks again.
const WAITING: Duration = Duration::from_millis(250);

/// One batch: consume, perform each effect (retrying it until it succeeds or the
/// consumer dies and is retried), ack. `None` if there was nothing to do, else
/// whether the batch was full (more may be waiting).
fn run_once(
    d: &Deliverer,
    ledger: &HostLedger,
    effect: &mut impl Effect,
    retry: Retry,
    metrics: &crate::metrics::Metrics,
) -> Result<Option<bool>, Stop> {
    let view = match ledger.consumer(&d.consumer) {
        Ok(v) => v,
        Err(DurableError::Rejected(Error::UnknownConsumer { .. })) => {
            return Err(Stop::Waiting(format!(
                "no consumer {:?} is defined in ledger {} (define it with POST .../consumers or in the catalog)",
                d.consumer, d.ledger
            )))
        }
        Err(e) => return Err(Stop::Waiting(e.to_string())),
    };
    let batch = match ledger.consume(&d.consumer, BATCH) {
        Ok(b) => b,
        Err(DurableError::Rejected(Error::UnknownConsumer { .. })) => {
            return Err(Stop::Waiting(format!(
                "no consumer {:?} is defined in ledger {} (define it with POST .../consumers or in the catalog)",
                d.consumer, d.ledger
            )))
        }
        Err(e) => return Err(Stop::Waiting(e.to_string())),
    };
    if batch.cursor != view.cursor {
        return Err(Stop::Again);
    }
    let mut done = batch.cursor;
    let mut acked = Acked {
        cursor: batch.cursor,
        events: view.events,
    };
    let (mut since, mut unacked) = (std::time::Instant::now(), 0);
    for n in &batch.notifications {
        d.set(|s| s.state = "delivering");
        let mut failures = 0;
        loop {
            match effect.perform(ledger, n) {
                Ok(outcome) => {
                    d.set(|s| {
                        s.failures = 0;
                        s.seq = None;
                        match outcome {
                            Done::Delivered => s.delivered += 1,
                            Done::Skipped(_) => s.skipped += 1,
                        }
                    });
                    let result = match outcome {
                        Done::Delivered => "delivered",
                        Done::Skipped(why) => {
                            tracing::info!(ledger = %d.ledger, consumer = %d.consumer, seq = n.event.seq, why, "skipped");
                            "skipped"
                        }
                    };
                    metrics.delivery(&d.ledger, &d.consumer, result);
                    break;
                }
                Err(why) => {
                    failures += 1;
                    metrics.delivery(&d.ledger, &d.consumer, "failed");
                    tracing::warn!(ledger = %d.ledger, consumer = %d.consumer, seq = n.event.seq, failures, error = %why, "delivery failed");
                    // What is done so far is kept: a restart resumes at this event.
                    ack(d, ledger, done, &mut acked)?;
                    let dead = failures >= retry.attempts;
                    d.set(|s| {
                        s.failed += 1;
                        s.failures = failures;
                        s.seq = Some(n.event.seq);
                        s.last_error = Some(why);
                        s.state = if dead { "dead" } else { "retrying" };
                    });
                    if dead {
                        tracing::error!(ledger = %d.ledger, consumer = %d.consumer, seq = n.event.seq, "dead: waiting for an operator's retry");
                        d.pause(None);
                        d.set(|s| s.state = "delivering");
                        // Read again: the operator may have moved the cursor past it.
                        return Err(Stop::Again);
                    } else if d.pause(Some(retry.wait(failures))) {
                        return Err(Stop::Again);
                    }
                }
            }
        }
        done = n.event.seq;
        unacked += 1;
        if unacked >= ACK_EVERY || since.elapsed() >= ACK_AFTER {
            ack(d, ledger, done, &mut acked)?;
            (since, unacked) = (std::time::Instant::now(), 0);
        }
    }
    ack(d, ledger, done.max(batch.through), &mut acked)?;
    let did = !batch.notifications.is_empty() || batch.through > batch.cursor;
    Ok(did.then_some(batch.notifications.len() >= BATCH))
}

/// The cursor and event types this deliverer last saw or set.
struct Acked {
    cursor: u64,
    events: Vec<kontingent::EventType>,
}

/// Ack `done` if it is past what was acked — only while the cursor and types are
/// still the ones this batch was read under: an operator who moved the cursor
/// back (to deliver again) or forward (to skip a poison event), or changed the
/// types, is not overridden; the batch is read again instead. A failed ack only
/// means the effects after the cursor are performed again (same keys).
fn ack(d: &Deliverer, ledger: &HostLedger, done: u64, acked: &mut Acked) -> Result<(), Stop> {
    if done <= acked.cursor {
        return Ok(());
    }
    match ledger.consumer(&d.consumer) {
        Ok(v) if v.cursor == acked.cursor && v.events == acked.events => {}
        Ok(_) => return Err(Stop::Again),
        Err(e) => return Err(Stop::Waiting(e.to_string())),
    }
    let action = Action::Ack {
        consumer: d.consumer.clone(),
        seq: done,
    };
    match ledger.submit(At::Now, action) {
        Ok(_) => {
            acked.cursor = done;
            Ok(())
        }
        Err(e) => {
            tracing::warn!(ledger = %d.ledger, consumer = %d.consumer, seq = done, error = %e, "ack failed; the events after the cursor will be delivered again");
            Err(Stop::Waiting(format!("ack failed: {e}")))
        }
    }
}

/// A counter of commits that threads can wait on: the committer bumps it after
/// each batch, and an idle deliverer wakes at once instead of polling.
#[derive(Default)]
pub(crate) struct Commits {
    count: Mutex<u64>,
    bumped: Condvar,
}

impl Commits {
    pub(crate) fn bump(&self) {
        *self.count.lock() += 1;
        self.bumped.notify_all();
    }

    pub(crate) fn current(&self) -> u64 {
        *self.count.lock()
    }

    /// Wait until a commit after `seen`, or `timeout`.
    pub(crate) fn wait_past(&self, seen: u64, timeout: Duration) {
        let mut c = self.count.lock();
        if *c == seen {
            self.bumped.wait_for(&mut c, timeout);
        }
    }
}
