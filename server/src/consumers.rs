//! The consumer routes: define a consumer, read what it is given, ack, and
//! (for the server's own webhooks and mailer) see how delivery stands and retry
//! a dead one. Reading and acking are the same operations the bindings have
//! (`kontingent::host::HostLedger::consume`, the `ack` command): a PHP site can
//! be a consumer over HTTP as a Python script is in-process.

use crate::api::{authorized, body, number, params, submit};
use crate::auth::Role;
use crate::reply::Failure;
use crate::state::{blocking, App};
use crate::wire::{self, AckBody, ConsumerBody, Path};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{Json, Router};
use kontingent::host::Delivery;
use kontingent::{Action, Outcome};
use serde_json::{json, Value};

/// Routes under `/v1/ledgers/{ledger}`.
pub(crate) fn ledger_routes() -> Router<App> {
    Router::new()
        .route("/consumers", get(list).post(define))
        .route("/consumers/{consumer}/events", get(events))
        .route("/consumers/{consumer}/ack", post(ack))
        .route("/consumers/{consumer}/retry", post(retry))
}

/// `GET .../consumers` (operator): every consumer, its cursor, how many events
/// are after it, and for those this server delivers, how delivery stands.
async fn list(
    State(app): State<App>,
    Path(ledger): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, Failure> {
    let l = authorized(&app, &headers, Role::Operator, &ledger)?;
    let (seq, consumers) = blocking(move || l.read(|x| (x.seq(), x.consumers()))).await??;
    let out = described(&app, &ledger, seq, consumers);
    Ok(Json(json!({ "seq": seq, "consumers": out })))
}

/// Each consumer with its cursor, how far behind the ledger's seq it is, and how
/// this server's delivery of it stands; then the deliverers whose consumer is
/// not defined yet (they wait for it).
pub(crate) fn described(
    app: &App,
    ledger: &str,
    seq: u64,
    consumers: Vec<kontingent::ConsumerView>,
) -> Vec<Value> {
    let mut out: Vec<Value> = consumers
        .into_iter()
        .map(|c| {
            let delivery = app
                .deliverers
                .iter()
                .find(|d| d.ledger == ledger && d.consumer == c.name)
                .map(|d| json!({ "kind": d.kind, "target": d.target, "status": d.status() }));
            json!({
                "name": c.name,
                "events": c.events,
                "cursor": c.cursor,
                "behind": seq.saturating_sub(c.cursor),
                "delivery": delivery,
            })
        })
        .collect();
    for d in app.deliverers.iter().filter(|d| d.ledger == ledger) {
        if !out.iter().any(|c| c["name"] == d.consumer.as_str()) {
            out.push(json!({
                "name": d.consumer,
                "events": [],
                "cursor": null,
                "behind": null,
                "delivery": { "kind": d.kind, "target": d.target, "status": d.status() },
            }));
        }
    }
    out
}

/// `POST .../consumers` (operator): define a consumer or change its event types.
async fn define(
    State(app): State<App>,
    Path(ledger): Path<String>,
    headers: HeaderMap,
    b: Result<Bytes, BytesRejection>,
) -> Result<Json<Outcome>, Failure> {
    authorized(&app, &headers, Role::Operator, &ledger)?;
    let c: ConsumerBody = wire::parse(&body(b)?)?;
    let action = Action::DefineConsumer {
        consumer: c.consumer,
        events: c.events,
        after: c.after,
    };
    submit(&app, &ledger, action).await
}

/// `GET .../consumers/{consumer}/events?limit=N` (client): what the consumer is
/// given now, each event durable, with its key. Changes nothing.
async fn events(
    State(app): State<App>,
    Path((ledger, consumer)): Path<(String, String)>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Json<Delivery>, Failure> {
    let l = authorized(&app, &headers, Role::Client, &ledger)?;
    let p = params(raw, &["limit"])?;
    let limit = number(&p, "limit")?.unwrap_or(100);
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let delivery = blocking(move || l.consume(&consumer, limit)).await??;
    Ok(Json(delivery))
}

/// `POST .../consumers/{consumer}/ack` (client): `{"seq": n}`, journaled.
async fn ack(
    State(app): State<App>,
    Path((ledger, consumer)): Path<(String, String)>,
    headers: HeaderMap,
    b: Result<Bytes, BytesRejection>,
) -> Result<Json<Outcome>, Failure> {
    authorized(&app, &headers, Role::Client, &ledger)?;
    let a: AckBody = wire::parse(&body(b)?)?;
    // Its cursor is this server's: an ack from outside would skip what it has
    // not delivered yet.
    if app
        .deliverers
        .iter()
        .any(|d| d.ledger == ledger && d.consumer == consumer)
    {
        return Err(kontingent::host::ErrorInfo::invalid_input(
            "consumer",
            "this server delivers it (--webhook or --mailer): only its deliverer acks it",
        )
        .into());
    }
    submit(
        &app,
        &ledger,
        Action::Ack {
            consumer,
            seq: a.seq,
        },
    )
    .await
}

/// `POST .../consumers/{consumer}/retry` (operator): a dead webhook or mailer
/// tries its notification again; one waiting between attempts tries now.
async fn retry(
    State(app): State<App>,
    Path((ledger, consumer)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<Value>, Failure> {
    authorized(&app, &headers, Role::Operator, &ledger)?;
    let d = app
        .deliverers
        .iter()
        .find(|d| d.ledger == ledger && d.consumer == consumer)
        // Not one this server delivers (start it with --webhook or --mailer).
        .ok_or_else(|| {
            Failure::from(kontingent::DurableError::Rejected(
                kontingent::Error::UnknownConsumer {
                    field: "consumer".into(),
                    name: consumer.clone(),
                },
            ))
        })?;
    let before = d.status().state;
    d.retry();
    Ok(Json(json!({ "consumer": consumer, "was": before })))
}
