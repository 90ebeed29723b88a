//! The operator console at `/console`: one static page (HTML, CSS and JS in the
//! binary, no build step) that a clerk keeps open during a rush, and the two
//! operator reads it needs beyond the public snapshot and events: the ledgers
//! this server serves, and an overview (refusals by reason per minute, the holds
//! that expire next, waiting-list lengths).
//!
//! The page holds no data and is served to anyone. It asks for the operator key,
//! keeps it in the tab's `sessionStorage` and sends it as `Authorization: Bearer`
//! on each call: never in a URL (URLs are logged), never in a cookie (a cookie
//! rides along on other sites' forms: a paused campaign by CSRF). What could read
//! that storage is script on this origin, so the page allows no inline script and
//! no script from elsewhere (its `Content-Security-Policy`), and writes data into
//! the DOM only as text.

use crate::api::{authorized, number, params};
use crate::auth::Role;
use crate::reply::Failure;
use crate::state::{blocking, App};
use crate::wire::Path;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use kontingent::clock::Clock;
use serde_json::{json, Value};

/// The holds an overview lists at most.
const HOLDS_MAX: u64 = 200;
/// The holds an overview lists unless asked for another number.
const HOLDS_DEFAULT: u64 = 20;

/// Scripts and styles from this server only; no inline code, no forms posted
/// anywhere, calls to this origin only; framed by no page, or only by the
/// origins `--console-frame-ancestor` names (already checked to be bare origins).
pub(crate) fn policy(frame_ancestors: &[String]) -> String {
    let ancestors = if frame_ancestors.is_empty() {
        "'none'".to_owned()
    } else {
        frame_ancestors.join(" ")
    };
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
         img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors {ancestors}"
    )
}

/// Routes of the whole server: the page, its script and style, the ledgers.
pub(crate) fn routes() -> Router<App> {
    Router::new()
        .route(
            "/console",
            get(|State(app): State<App>| {
                asset(app, include_str!("../console/index.html"), "text/html")
            }),
        )
        .route(
            "/console/console.js",
            get(|State(app): State<App>| {
                asset(
                    app,
                    include_str!("../console/console.js"),
                    "text/javascript",
                )
            }),
        )
        .route(
            "/console/console.css",
            get(|State(app): State<App>| {
                asset(app, include_str!("../console/console.css"), "text/css")
            }),
        )
        .route("/v1/ledgers", get(ledgers))
}

/// Routes under `/v1/ledgers/{ledger}`.
pub(crate) fn ledger_routes() -> Router<App> {
    Router::new().route("/overview", get(overview))
}

async fn asset(app: App, text: &'static str, kind: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, format!("{kind}; charset=utf-8")),
            (
                header::CONTENT_SECURITY_POLICY,
                app.console_policy.to_string(),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
            (header::REFERRER_POLICY, "no-referrer".to_owned()),
            (header::CACHE_CONTROL, "no-cache".to_owned()),
        ],
        text,
    )
}

/// `GET /v1/ledgers` (operator): the ledgers' names, in order. The console
/// also learns from it whether the key it was given is good.
async fn ledgers(State(app): State<App>, headers: HeaderMap) -> Result<Json<Value>, Failure> {
    app.keys.check(&headers, Role::Operator)?;
    let names: Vec<&String> = app.ledgers.keys().collect();
    Ok(Json(json!({ "ledgers": names })))
}

/// `GET /v1/ledgers/{ledger}/overview[?holds=N]` (operator): what the console
/// shows beside the snapshot (and the consumers, as `.../consumers` lists them). `now` is the server's clock (never behind the
/// ledger), so a page shows "expires in" by the campaign's time, not its own.
async fn overview(
    State(app): State<App>,
    Path(ledger): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, Failure> {
    let l = authorized(&app, &headers, Role::Operator, &ledger)?;
    let p = params(raw, &["holds"])?;
    let holds = number(&p, "holds")?.unwrap_or(HOLDS_DEFAULT).min(HOLDS_MAX) as usize;
    let reading = app.clock.now_ms();
    let (now, expiring, waiting, seq, consumers) = blocking(move || {
        l.read(|x| {
            let waiting: Vec<Value> = x
                .offers()
                .into_iter()
                .map(|o| json!({ "offer": o.name, "waiting": o.waiting }))
                .collect();
            (
                x.now().max(reading),
                x.holds_by_expiry(holds),
                waiting,
                x.seq(),
                x.consumers(),
            )
        })
    })
    .await??;
    Ok(Json(json!({
        "now": now,
        "refusals": app.metrics.refusals.of(&ledger),
        "expiring": expiring,
        "waiting": waiting,
        "consumers": crate::consumers::described(&app, &ledger, seq, consumers),
    })))
}
