//! The routes under `/v1`: the client calls (reserve, confirm, release, leave a
//! waiting list, preview, why unavailable, slots, one reservation), the public
//! ones (availability, catalog, events: readable from any origin), and the limits
//! every request runs under.

use crate::auth::Role;
use crate::cors;
use crate::reply::Failure;
use crate::state::{blocking, App};
use crate::wire::Path;
use crate::wire::{self, EntryBody, ReservationBody, ReserveBody};
use axum::body::Bytes;
use axum::error_handling::HandleErrorLayer;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::routing::{get, post, MethodRouter};
use axum::{Json, Router};
use kontingent::clock::Clock;
use kontingent::host::{At, ErrorInfo, Query, QueryArgs};
use kontingent::{Action, Outcome, ReservationId, WaitEntryId};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::BTreeMap;

pub(crate) fn router(app: App) -> Router {
    let limits = tower::ServiceBuilder::new()
        .layer(HandleErrorLayer::new(|e: tower::BoxError| async move {
            if e.is::<tower::timeout::error::Elapsed>() {
                Failure::transport(
                    "timeout",
                    "the request took too long; retry it with the same request id",
                )
            } else {
                Failure::internal("the request could not be served")
            }
        }))
        .timeout(app.request_timeout)
        .concurrency_limit(app.max_in_flight);
    let ledger = Router::new()
        .route("/reserve", post(reserve))
        .route("/preview", post(preview))
        .route(
            "/confirm",
            command(Role::Client, |r: ReservationBody| Action::Confirm {
                reservation: ReservationId(r.reservation),
            }),
        )
        .route(
            "/release",
            command(Role::Client, |r: ReservationBody| Action::Release {
                reservation: ReservationId(r.reservation),
            }),
        )
        .route(
            "/leave-waitlist",
            command(Role::Client, |e: EntryBody| Action::LeaveWaitlist {
                entry: WaitEntryId(e.entry),
            }),
        )
        .route("/why-unavailable", get(why_unavailable))
        .route("/slots", get(slots))
        .route("/reservations/{id}", get(reservation))
        .route("/availability", public("snapshot"))
        .route(
            "/catalog",
            public("catalog").post(crate::operator::load_catalog),
        )
        .route("/reservations.csv", get(crate::export::reservations_csv))
        .route(
            "/events",
            cors::public(get(crate::events::stream)).options(cors::preflight),
        )
        .merge(crate::operator::ledger_routes())
        .merge(crate::consumers::ledger_routes())
        .merge(crate::console::ledger_routes());
    Router::new()
        .route("/v1/health", cors::public(get(health)))
        .route("/metrics", get(crate::metrics::scrape))
        .route(
            "/v1/openapi.json",
            cors::public(get(|| async {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    include_str!("../api/openapi.json"),
                )
            })),
        )
        .merge(crate::operator::server_routes())
        .merge(crate::console::routes())
        .nest("/v1/ledgers/{ledger}", ledger)
        .fallback(|| async {
            Failure::transport("not_found", "no such route (the API is under /v1)")
        })
        // After every route: it is set on the routes registered before it.
        .method_not_allowed_fallback(|method: axum::http::Method| async move {
            Failure::transport(
                "method_not_allowed",
                format!("this route does not take {method} (docs/SERVER.md lists the calls)"),
            )
        })
        .layer(DefaultBodyLimit::max(app.max_body))
        .layer(axum::middleware::from_fn_with_state(
            app.max_body,
            declared_length,
        ))
        .layer(limits)
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            crate::metrics::count,
        ))
        .layer(axum::middleware::from_fn(crate::log::requests))
        .with_state(app)
}

/// `GET /v1/health`: `200 {"status":"ok"}`, or `503 {"status":"unavailable",
/// "poisoned":[...]}` while a ledger answers nothing (a failed write or sync, or a
/// PostgreSQL ledger reconnecting), so a load balancer can route around it.
async fn health(State(app): State<App>) -> axum::response::Response {
    use axum::response::IntoResponse;
    let poisoned: Vec<&String> = app
        .ledgers
        .iter()
        .filter(|(_, slot)| slot.get().is_poisoned())
        .map(|(name, _)| name)
        .collect();
    if poisoned.is_empty() {
        Json(serde_json::json!({ "status": "ok" })).into_response()
    } else {
        let body = serde_json::json!({ "status": "unavailable", "poisoned": poisoned });
        (axum::http::StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
    }
}

/// A request body, or `413 payload_too_large` / `422`.
pub(crate) fn body(b: Result<Bytes, BytesRejection>) -> Result<Bytes, Failure> {
    b.map_err(|e| match e {
        BytesRejection::FailedToBufferBody(_) => too_large(),
        other => Failure::from(ErrorInfo::invalid_input("body", other.body_text())),
    })
}

fn too_large() -> Failure {
    Failure::transport(
        "payload_too_large",
        "the request body is larger than this server accepts",
    )
}

/// A body whose Content-Length is past the bound is refused before any of it
/// is read: the body limit alone counts the bytes as they come, so a client
/// that declares 2 MB and sends them slowly would hold the request until its
/// timeout.
async fn declared_length(
    State(max_body): State<usize>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let declared = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max_body as u64) {
        return too_large().into_response();
    }
    next.run(request).await
}

/// The ledger of the URL, for a caller whose key is good for `role`.
pub(crate) fn authorized(
    app: &App,
    headers: &HeaderMap,
    role: Role,
    ledger: &str,
) -> Result<std::sync::Arc<kontingent::host::HostLedger>, Failure> {
    app.keys.check(headers, role)?;
    app.ledger(ledger)
}

/// A route that parses its body as `B`, makes the action, and submits it for a
/// caller whose key is good for `role`.
pub(crate) fn command<B>(role: Role, make: fn(B) -> Action) -> MethodRouter<App>
where
    B: DeserializeOwned + Send + 'static,
{
    post(
        move |State(app): State<App>,
              Path(ledger): Path<String>,
              headers: HeaderMap,
              b: Result<Bytes, BytesRejection>| async move {
            authorized(&app, &headers, role, &ledger)?;
            let parsed: B = wire::parse(&body(b)?)?;
            submit(&app, &ledger, make(parsed)).await
        },
    )
}

/// Submit one action now, through the ledger's committer (batched with whatever
/// else is waiting); the answer is the outcome after its fdatasync.
pub(crate) async fn submit(
    app: &App,
    ledger: &str,
    action: Action,
) -> Result<Json<Outcome>, Failure> {
    let command = action.kind();
    let applied = app
        .slot(ledger)?
        .committer
        .submit(action)
        .await
        .ok_or_else(|| Failure::internal("the ledger's committer stopped"))??;
    app.metrics
        .outcome(ledger, command, &applied.outcome, app.clock.now_ms());
    Ok(Json(applied.outcome))
}

async fn reserve(
    State(app): State<App>,
    Path(ledger): Path<String>,
    headers: HeaderMap,
    b: Result<Bytes, BytesRejection>,
) -> Result<Json<Outcome>, Failure> {
    authorized(&app, &headers, Role::Client, &ledger)?;
    let request = wire::parse::<ReserveBody>(&body(b)?)?.into_request(&headers)?;
    submit(&app, &ledger, Action::Reserve(request)).await
}

async fn preview(
    State(app): State<App>,
    Path(ledger): Path<String>,
    headers: HeaderMap,
    b: Result<Bytes, BytesRejection>,
) -> Result<Json<Outcome>, Failure> {
    let l = authorized(&app, &headers, Role::Client, &ledger)?;
    let request = wire::parse::<ReserveBody>(&body(b)?)?.into_request(&headers)?;
    // Off the async workers: a read may wait for the ledger's lock (held across a
    // sync) or for PostgreSQL.
    Ok(Json(blocking(move || l.preview(&request, At::Now)).await??))
}

/// The query string as names and values, each name at most once and among `allowed`.
pub(crate) fn params(
    raw: Option<String>,
    allowed: &[&str],
) -> Result<BTreeMap<String, String>, Failure> {
    let mut out = BTreeMap::new();
    for pair in raw.unwrap_or_default().split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let k = decode("query", k)?;
        let v = decode(&crate::reply::bounded(&k), v)?;
        if !allowed.contains(&k.as_str()) {
            return Err(ErrorInfo::invalid_input(
                &crate::reply::bounded(&k),
                format!("unknown parameter (this call takes {})", allowed.join(", ")),
            )
            .into());
        }
        if out.insert(k.clone(), v).is_some() {
            return Err(ErrorInfo::invalid_input(&k, "given twice").into());
        }
    }
    Ok(out)
}

/// `%XX` and `+` decoded, as UTF-8; an error names `field`.
fn decode(field: &str, s: &str) -> Result<String, Failure> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = s
                    .get(i + 1..i + 3)
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                let Some(b) = hex else {
                    return Err(ErrorInfo::invalid_input(field, "a bad %-escape").into());
                };
                out.push(b);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| ErrorInfo::invalid_input(field, "is not UTF-8").into())
}

/// The parameter `name` as a whole number, if given.
pub(crate) fn number(
    params: &BTreeMap<String, String>,
    name: &str,
) -> Result<Option<u64>, Failure> {
    params
        .get(name)
        .map(|v| {
            v.parse::<u64>().map_err(|_| {
                Failure::from(if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
                    ErrorInfo::out_of_range(name, crate::reply::bounded(v))
                } else {
                    ErrorInfo::invalid_input(name, "expected a whole number")
                })
            })
        })
        .transpose()
}

/// Answer a query on the ledger, now.
async fn ask(
    app: &App,
    headers: &HeaderMap,
    role: Role,
    ledger: &str,
    what: &str,
    args: QueryArgs,
) -> Result<Json<Value>, Failure> {
    let l = authorized(app, headers, role, ledger)?;
    let query = Query::parse(what, args)?;
    let value = blocking(move || l.query(&query, At::Now)).await??;
    Ok(Json(value))
}

async fn why_unavailable(
    State(app): State<App>,
    Path(ledger): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, Failure> {
    let p = params(raw, &["offer", "channel"])?;
    let args = QueryArgs {
        name: p.get("offer").cloned(),
        channel: p.get("channel").cloned(),
        ..Default::default()
    };
    ask(
        &app,
        &headers,
        Role::Client,
        &ledger,
        "why_unavailable",
        args,
    )
    .await
}

async fn slots(
    State(app): State<App>,
    Path(ledger): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, Failure> {
    let p = params(raw, &["template", "channel", "count"])?;
    let count = number(&p, "count")?.map(|c| c.min(1000) as usize);
    let args = QueryArgs {
        name: p.get("template").cloned(),
        channel: p.get("channel").cloned(),
        count,
        ..Default::default()
    };
    ask(&app, &headers, Role::Client, &ledger, "next_slots", args).await
}

async fn reservation(
    State(app): State<App>,
    Path((ledger, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<Value>, Failure> {
    let p = BTreeMap::from([("reservation".to_owned(), id)]);
    let args = QueryArgs {
        number: number(&p, "reservation")?,
        ..Default::default()
    };
    ask(&app, &headers, Role::Client, &ledger, "reservation", args).await
}

/// A public query without arguments (`snapshot`, `catalog`): no customer data,
/// readable from any origin.
fn public(what: &'static str) -> MethodRouter<App> {
    cors::public(get(
        move |State(app): State<App>, Path(ledger): Path<String>, headers: HeaderMap| async move {
            ask(
                &app,
                &headers,
                Role::Public,
                &ledger,
                what,
                QueryArgs::default(),
            )
            .await
        },
    ))
}
