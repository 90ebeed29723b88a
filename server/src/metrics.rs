//! `/metrics` in the Prometheus text format (operator key): HTTP answers by
//! status, outcomes by status and refusal reason (counted as they leave), and,
//! read at each scrape, every ledger's seq, journal counters (records, batches,
//! fdatasyncs: their ratio is the group commit's batch size), poisoned flag,
//! pools and waiting lists; how many records each group commit wrote and how long
//! each fdatasync took (histograms); and the SSE streams open. Refusals are also
//! kept by minute, for the console's overview.

use crate::auth::Role;
use crate::reply::Failure;
use crate::state::App;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::IntoResponse;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::{DescriptorEncoder, NoLabelSet};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Mutex;

type Labels = Vec<(String, String)>;

/// Minutes of refusals kept per ledger: an hour of a rush.
const REFUSAL_MINUTES: usize = 60;
const MINUTE_MS: u64 = 60_000;

/// Refusals by ledger, minute (its first ms, by the server's clock) and reason:
/// the last [`REFUSAL_MINUTES`] minutes that had any. Counted by the server as
/// answers leave, like the outcome counters, so a restart starts from zero.
#[derive(Default)]
pub(crate) struct RefusalMinutes(Mutex<BTreeMap<String, Minutes>>);

/// Refusals by minute, then reason.
type Minutes = BTreeMap<u64, BTreeMap<String, u64>>;

impl RefusalMinutes {
    fn count(&self, ledger: &str, at: u64, reason: &str) {
        let mut all = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let minutes = all.entry(ledger.to_owned()).or_default();
        *minutes
            .entry(at - at % MINUTE_MS)
            .or_default()
            .entry(reason.to_owned())
            .or_default() += 1;
        while minutes.len() > REFUSAL_MINUTES {
            minutes.pop_first();
        }
    }

    /// `[{minute, reasons: {reason: count}}]` of `ledger`, oldest first.
    pub(crate) fn of(&self, ledger: &str) -> Value {
        let all = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let minutes = all.get(ledger).into_iter().flatten();
        Value::from_iter(
            minutes.map(|(minute, reasons)| json!({ "minute": minute, "reasons": reasons })),
        )
    }
}

/// What the server counts as it goes.
#[derive(Default)]
pub(crate) struct Metrics {
    /// Answers by status code.
    pub(crate) http: Family<Labels, Counter>,
    /// Outcomes by ledger, status and (for a refusal) reason.
    pub(crate) outcomes: Family<Labels, Counter>,
    /// Event streams open now.
    pub(crate) sse: Gauge,
    /// Ledger reads made for event streams (the feeds' looks and the streams'
    /// catch-ups): what following a ledger costs it.
    pub(crate) sse_reads: Counter,
    /// Connections open now.
    pub(crate) connections: Gauge,
    /// Connections turned away at `max_connections`.
    pub(crate) connections_refused: Counter,
    /// Refusals by minute, for the console.
    pub(crate) refusals: RefusalMinutes,
    /// Notifications the server's deliverers handled, by ledger, consumer and
    /// result (`delivered`, `skipped`, `failed`: one per failed attempt).
    pub(crate) deliveries: Family<Labels, Counter>,
}

impl Metrics {
    /// Count an outcome of a `command` (its kind) leaving for `ledger` at `at`
    /// (the server's clock, ms).
    pub(crate) fn outcome(
        &self,
        ledger: &str,
        command: &'static str,
        outcome: &kontingent::Outcome,
        at: u64,
    ) {
        let reason = match outcome {
            kontingent::Outcome::Refused(why) => {
                self.refusals.count(ledger, at, why.code());
                why.code()
            }
            _ => "",
        };
        self.outcomes
            .get_or_create(&vec![
                ("ledger".into(), ledger.to_owned()),
                ("command".into(), command.to_owned()),
                ("status".into(), outcome.status().to_owned()),
                ("reason".into(), reason.to_owned()),
            ])
            .inc();
    }
}

impl Metrics {
    /// Count one delivery attempt's result.
    pub(crate) fn delivery(&self, ledger: &str, consumer: &str, result: &'static str) {
        self.deliveries
            .get_or_create(&vec![
                ("ledger".into(), ledger.to_owned()),
                ("consumer".into(), consumer.to_owned()),
                ("result".into(), result.to_owned()),
            ])
            .inc();
    }
}

/// Count every answer by status (a layer around the whole router).
pub(crate) async fn count(
    State(app): State<App>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let response = next.run(request).await;
    app.metrics
        .http
        .get_or_create(&vec![(
            "status".into(),
            response.status().as_u16().to_string(),
        )])
        .inc();
    response
}

fn gauge(registry: &mut Registry, name: &str, help: &str, values: Vec<(Labels, i64)>) {
    let family = Family::<Labels, Gauge>::default();
    for (labels, v) in values {
        family.get_or_create(&labels).set(v);
    }
    registry.register(name, help, family);
}

/// Per-ledger histograms the journal keeps (`kontingent::Histogram`), read at
/// the scrape and written as one Prometheus histogram family.
#[derive(Debug)]
struct Histograms {
    name: &'static str,
    help: &'static str,
    /// Bucket bounds and the sum are divided by this (microseconds to seconds:
    /// dividing prints 50 µs as 0.00005, where multiplying by 1e-6 would not).
    per_unit: f64,
    each: Vec<(Labels, kontingent::Histogram)>,
}

impl Collector for Histograms {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let mut family =
            encoder.encode_descriptor(self.name, self.help, None, MetricType::Histogram)?;
        for (labels, h) in &self.each {
            let buckets: Vec<(f64, u64)> = h
                .buckets()
                .map(|(bound, n)| (bound.map_or(f64::MAX, |b| b as f64 / self.per_unit), n))
                .collect();
            family
                .encode_family(labels)?
                .encode_histogram::<NoLabelSet>(
                    h.sum as f64 / self.per_unit,
                    h.count(),
                    &buckets,
                    None,
                )?;
        }
        Ok(())
    }
}

pub(crate) async fn scrape(
    State(app): State<App>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, Failure> {
    app.keys.check(&headers, Role::Operator)?;
    let mut registry = Registry::with_prefix("kontingent");
    registry.register(
        "http_responses",
        "HTTP answers by status",
        app.metrics.http.clone(),
    );
    registry.register(
        "outcomes",
        "Outcomes by ledger, command, status and refusal reason",
        app.metrics.outcomes.clone(),
    );
    registry.register("sse_streams", "Event streams open", app.metrics.sse.clone());
    registry.register(
        "sse_reads",
        "Ledger reads made for event streams",
        app.metrics.sse_reads.clone(),
    );
    registry.register(
        "connections",
        "Connections open",
        app.metrics.connections.clone(),
    );
    registry.register(
        "connections_refused",
        "Connections turned away at --max-connections",
        app.metrics.connections_refused.clone(),
    );
    registry.register(
        "deliveries",
        "Notifications delivered, skipped, or failed (per attempt) by the server's webhooks and mailer",
        app.metrics.deliveries.clone(),
    );
    let (mut seq, mut poisoned, mut journal, mut pools, mut waiting) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut lag, mut dead) = (Vec::new(), Vec::new());
    for d in app.deliverers.iter() {
        let labels = vec![
            ("ledger".to_owned(), d.ledger.clone()),
            ("consumer".to_owned(), d.consumer.clone()),
        ];
        dead.push((labels, i64::from(d.status().state == "dead")));
    }
    let (mut batch_records, mut sync_seconds) = (Vec::new(), Vec::new());
    for (name, slot) in app.ledgers.iter() {
        let l = slot.get();
        let ledger = vec![("ledger".to_owned(), name.clone())];
        poisoned.push((ledger.clone(), i64::from(l.is_poisoned())));
        let stats = l.stats();
        batch_records.push((ledger.clone(), stats.batch_records));
        sync_seconds.push((ledger.clone(), stats.sync_micros));
        for (what, n) in [
            ("records", stats.records),
            ("batches", stats.batches),
            ("fdatasyncs", stats.syncs),
        ] {
            let mut labels = ledger.clone();
            labels.push(("counter".into(), what.into()));
            journal.push((labels, n as i64));
        }
        let Ok((s, ps, os, cs)) = l.read(|x| (x.seq(), x.pools(), x.offers(), x.consumers()))
        else {
            continue;
        };
        seq.push((ledger.clone(), s as i64));
        for c in cs {
            let mut labels = ledger.clone();
            labels.push(("consumer".into(), c.name));
            lag.push((labels, s.saturating_sub(c.cursor) as i64));
        }
        for p in ps {
            for (what, n) in [
                ("capacity", p.capacity),
                ("held", p.held),
                ("confirmed", p.confirmed),
            ] {
                let mut labels = ledger.clone();
                labels.extend([
                    ("pool".into(), p.name.clone()),
                    ("units".into(), what.into()),
                ]);
                pools.push((labels, n as i64));
            }
        }
        for o in os {
            let mut labels = ledger.clone();
            labels.push(("offer".into(), o.name));
            waiting.push((labels, i64::from(o.waiting)));
        }
    }
    gauge(
        &mut registry,
        "seq",
        "The last event's sequence number",
        seq,
    );
    gauge(
        &mut registry,
        "poisoned",
        "1 if a write or sync failed: restart",
        poisoned,
    );
    gauge(
        &mut registry,
        "journal",
        "Records, batches and fdatasyncs written by this server",
        journal,
    );
    gauge(
        &mut registry,
        "pool_units",
        "Capacity, held and confirmed units per pool",
        pools,
    );
    gauge(
        &mut registry,
        "waiting",
        "Waiting-list length per offer",
        waiting,
    );
    gauge(
        &mut registry,
        "consumer_lag",
        "Events after each consumer's cursor (not yet acked, wanted or not)",
        lag,
    );
    gauge(
        &mut registry,
        "consumer_dead",
        "1 while a delivered consumer is dead: retry it from the console",
        dead,
    );
    registry.register_collector(Box::new(Histograms {
        name: "batch_records",
        help: "Records per group commit written by this server",
        per_unit: 1.0,
        each: batch_records,
    }));
    registry.register_collector(Box::new(Histograms {
        name: "fdatasync_seconds",
        help: "How long each fdatasync took",
        per_unit: 1e6,
        each: sync_seconds,
    }));
    let mut text = String::new();
    encode(&mut text, &registry)
        .map_err(|_| Failure::internal("the metrics could not be encoded"))?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    ))
}
