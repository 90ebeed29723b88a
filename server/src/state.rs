//! The server's shared state: its ledgers by name, its keys and its clock.

use crate::auth::Keys;
use crate::config::{valid_name, ClockChoice, Config, ConfigError, LedgerLog};
use crate::reply::Failure;
use crate::supervise::{Reopen, Slot};
use axum::Router;
use kontingent::clock::{Clock, FixedClock, ManualClock, SystemClock};
use kontingent::host::{At, HostLedger, Query};
use kontingent::{Action, Durability};
use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// A running server's ledgers, keys and clock, shared by every request.
#[derive(Clone)]
pub struct App {
    pub(crate) ledgers: Arc<BTreeMap<String, Arc<Slot>>>,
    /// Each ledger's live deltas, for its event streams.
    pub(crate) feeds: Arc<BTreeMap<String, Arc<crate::feed::Feed>>>,
    pub(crate) keys: Arc<Keys>,
    /// The operator's clock, when the server rehearses (`ClockChoice::Manual`).
    pub(crate) manual: Option<ManualClock>,
    /// The clock every ledger stamps "now" commands with: refusals are counted by
    /// its minute.
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) max_body: usize,
    pub(crate) request_timeout: std::time::Duration,
    pub(crate) max_in_flight: usize,
    pub(crate) metrics: Arc<crate::metrics::Metrics>,
    /// Set when the server stops accepting: event streams end, so that the
    /// drain is not held open by a browser that would never hang up.
    pub(crate) stopping: Arc<AtomicBool>,
    /// The webhooks and mailers delivering consumers' notifications.
    pub(crate) deliverers: Arc<Vec<Arc<crate::deliver::Deliverer>>>,
    /// The console's `Content-Security-Policy`, with the origins that may frame it.
    pub(crate) console_policy: Arc<str>,
}

impl App {
    /// Open every ledger of `config` (replaying its journal, loading its catalog if
    /// it changed), ready to serve.
    pub fn open(config: &Config) -> Result<App, ConfigError> {
        let keys = Keys::new(config)?;
        let manual = match config.clock {
            ClockChoice::Manual(at) => Some(ManualClock::new(at)),
            _ => None,
        };
        let clock: Arc<dyn Clock> = match (config.clock, &manual) {
            (_, Some(m)) => Arc::new(m.clone()),
            (ClockChoice::Fixed(at), None) => Arc::new(FixedClock(at)),
            _ => Arc::new(SystemClock),
        };
        let mut ledgers = BTreeMap::new();
        for l in &config.ledgers {
            let what = format!("ledger {}", l.name);
            if !valid_name(&l.name) {
                return Err(ConfigError::new(
                    what,
                    "a name is 1 to 64 of a-z, 0-9, - and _",
                ));
            }
            let clock = clock.clone();
            let log = l.log.clone();
            let name = l.name.clone();
            let open = move || -> Result<HostLedger, String> {
                let opened = match &log {
                    LedgerLog::File(path) => HostLedger::open_file(path, Durability::Full),
                    LedgerLog::Postgres { url, hold_limit } => {
                        kontingent_pg::PgStorage::connect_with(url, &name, *hold_limit)
                            .map_err(kontingent::JournalError::from)
                            .and_then(|s| HostLedger::on_storage(s, Durability::Full))
                    }
                }
                .map_err(|e| e.to_string())?;
                Ok(opened.with_clock(clock.clone()))
            };
            let ledger = open().map_err(|e| ConfigError::new(&what, e))?;
            if let Some(path) = &l.catalog {
                let catalog =
                    kontingent::read_catalog(path).map_err(|e| ConfigError::new(&what, e))?;
                let current = ledger
                    .query(&Query::Catalog, At::Now)
                    .map_err(|e| ConfigError::new(&what, e))?;
                // A restart with the same catalog journals nothing.
                if serde_json::to_value(&catalog).ok().as_ref() != Some(&current) {
                    ledger
                        .submit(At::Now, Action::LoadCatalog(Box::new(catalog)))
                        .map_err(|e| ConfigError::new(&what, e))?;
                }
            }
            let r = ledger.recovery();
            tracing::info!(
                ledger = %l.name,
                journal = %l.log,
                records = r.records,
                created = r.created,
                from_checkpoint = r.from_checkpoint,
                torn_bytes = r.torn_bytes,
                torn_records = r.torn_records,
                checkpoint_ignored = r.checkpoint_ignored.as_deref(),
                "ledger opened"
            );
            let slot = Slot::new(&l.name, ledger).map_err(|e| ConfigError::new(&what, e))?;
            if let LedgerLog::Postgres { .. } = l.log {
                slot.watch(Box::new(open) as Reopen);
            }
            if ledgers.insert(l.name.clone(), slot).is_some() {
                return Err(ConfigError::new(what, "named twice"));
            }
        }
        let stopping: Arc<AtomicBool> = Arc::default();
        let metrics: Arc<crate::metrics::Metrics> = Arc::default();
        let deliverers = start_deliverers(config, &ledgers, &stopping, &metrics)?;
        Ok(App {
            console_policy: crate::console::policy(&config.console_frame_ancestors).into(),
            deliverers: Arc::new(deliverers),
            feeds: Arc::new(
                ledgers
                    .keys()
                    .map(|k| (k.clone(), crate::feed::Feed::new()))
                    .collect(),
            ),
            ledgers: Arc::new(ledgers),
            keys: Arc::new(keys),
            manual,
            clock,
            max_body: config.max_body,
            request_timeout: config.request_timeout,
            max_in_flight: config.max_in_flight,
            metrics,
            stopping,
        })
    }

    /// The routes, with their limits.
    pub fn router(&self) -> Router {
        crate::api::router(self.clone())
    }

    /// The ledger called `name`, or `404 unknown_ledger`.
    pub(crate) fn ledger(&self, name: &str) -> Result<Arc<HostLedger>, Failure> {
        self.slot(name).map(|s| s.get())
    }

    /// The ledger called `name` with its committer, or `404 unknown_ledger`.
    pub(crate) fn slot(&self, name: &str) -> Result<Arc<Slot>, Failure> {
        self.ledgers.get(name).cloned().ok_or_else(|| {
            Failure::transport(
                "unknown_ledger",
                format!("no ledger {:?} on this server", crate::reply::bounded(name)),
            )
        })
    }
}

/// One deliverer thread per configured webhook and mailer.
fn start_deliverers(
    config: &Config,
    ledgers: &BTreeMap<String, Arc<Slot>>,
    stopping: &Arc<AtomicBool>,
    metrics: &Arc<crate::metrics::Metrics>,
) -> Result<Vec<Arc<crate::deliver::Deliverer>>, ConfigError> {
    let slot = |what: &str, ledger: &str| {
        ledgers
            .get(ledger)
            .cloned()
            .ok_or_else(|| ConfigError::new(what, format!("no ledger {ledger:?} on this server")))
    };
    let mut out = Vec::new();
    if !config.webhooks.is_empty() && config.webhook_secret.as_ref().is_none_or(|s| s.is_empty()) {
        return Err(ConfigError::new(
            "--webhook",
            "webhooks are signed: give --webhook-secret-file FILE (or KONTINGENT_WEBHOOK_SECRET)",
        ));
    }
    let secret = Arc::new(config.webhook_secret.clone().unwrap_or_default());
    // Two deliverers on one consumer would share one cursor: the faster one's acks
    // would skip what the slower one has not delivered.
    let mut pairs = std::collections::BTreeSet::new();
    for (ledger, consumer) in config
        .webhooks
        .iter()
        .map(|w| (&w.ledger, &w.consumer))
        .chain(config.mailers.iter().map(|m| (&m.ledger, &m.consumer)))
    {
        if !pairs.insert((ledger, consumer)) {
            return Err(ConfigError::new(
                format!("{ledger}/{consumer}"),
                "delivered twice (one cursor cannot serve two deliveries): define one consumer each",
            ));
        }
    }
    for w in &config.webhooks {
        let what = format!("--webhook {}/{}", w.ledger, w.consumer);
        let effect = crate::webhook::Webhook::new(
            &w.url,
            secret.clone(),
            config.delivery_timeout,
            Arc::new(kontingent::clock::SystemClock),
            &w.ledger,
            &w.consumer,
        );
        let spec = crate::deliver::Spec {
            kind: "webhook",
            consumer: w.consumer.clone(),
            target: w.url.clone(),
            retry: config.retry,
        };
        let d = crate::deliver::start(
            spec,
            slot(&what, &w.ledger)?,
            effect,
            stopping.clone(),
            metrics.clone(),
        )
        .map_err(|e| ConfigError::new(&what, e))?;
        out.push(d);
    }
    for m in &config.mailers {
        let what = format!("--mailer {}/{}", m.ledger, m.consumer);
        let templates = crate::mailer::Templates::read(&m.template)?;
        let effect = crate::mailer::Mailer::new(
            &m.smtp,
            &m.from,
            templates,
            config.delivery_timeout,
            &m.ledger,
        )?;
        let spec = crate::deliver::Spec {
            kind: "mailer",
            consumer: m.consumer.clone(),
            target: format!("smtp://{}", m.smtp),
            retry: config.retry,
        };
        let d = crate::deliver::start(
            spec,
            slot(&what, &m.ledger)?,
            effect,
            stopping.clone(),
            metrics.clone(),
        )
        .map_err(|e| ConfigError::new(&what, e))?;
        out.push(d);
    }
    Ok(out)
}

/// Run a ledger call on the blocking pool: it may wait for the group commit's
/// fdatasync, and concurrent calls waiting together share that sync.
pub(crate) async fn blocking<R: Send + 'static>(
    f: impl FnOnce() -> R + Send + 'static,
) -> Result<R, Failure> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| Failure::internal("the ledger call failed"))
}
