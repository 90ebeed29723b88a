//! The operator's verbs, each a journaled command like any other: pause, resume,
//! set a capacity; and, for a rehearsal, moving the server's clock (whose time any
//! page may read).

use crate::api::{authorized, body, command, submit};
use crate::auth::Role;
use crate::reply::Failure;
use crate::state::App;
use crate::wire::Path;
use crate::wire::{self, CapacityBody, ClockBody, NoFields};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use kontingent::host::ErrorInfo;
use kontingent::{Action, Catalog};
use serde_json::{json, Value};

/// Routes under `/v1/ledgers/{ledger}`.
pub(crate) fn ledger_routes() -> Router<App> {
    Router::new()
        .route(
            "/pause",
            command(Role::Operator, |NoFields {}| Action::Pause),
        )
        .route(
            "/resume",
            command(Role::Operator, |NoFields {}| Action::Resume),
        )
        .route(
            "/capacity",
            command(Role::Operator, |c: CapacityBody| Action::SetCapacity {
                pool: c.pool,
                capacity: c.capacity,
            }),
        )
}

/// Routes of the whole server.
pub(crate) fn server_routes() -> Router<App> {
    Router::new().route("/v1/clock", crate::cors::public(get(now)).post(clock))
}

/// `GET /v1/clock`: the server's "now" (public), so that a page counts down to an
/// opening by the clock that judges it, a rehearsal's included, not by its own.
async fn now(State(app): State<App>) -> Json<Value> {
    Json(json!({ "now": app.clock.now_ms() }))
}

/// `POST /v1/ledgers/{ledger}/catalog`: load a catalog file's text (TOML, or JSON
/// with `Content-Type: application/json`), or change the loaded one, as a journaled
/// command. A bad catalog is `422 invalid_catalog` with every issue and its line.
pub(crate) async fn load_catalog(
    State(app): State<App>,
    Path(ledger): Path<String>,
    headers: HeaderMap,
    b: Result<Bytes, BytesRejection>,
) -> Result<Json<kontingent::Outcome>, Failure> {
    authorized(&app, &headers, Role::Operator, &ledger)?;
    let bytes = body(b)?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| Failure::from(ErrorInfo::invalid_input("body", "a catalog is UTF-8 text")))?;
    let json = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json"));
    let compiled = if json {
        Catalog::from_json_str(text, "catalog.json")
    } else {
        Catalog::from_toml_str(text, "catalog.toml")
    };
    let catalog = compiled.map_err(|e| Failure::from(ErrorInfo::from(&e)))?;
    submit(&app, &ledger, Action::LoadCatalog(Box::new(catalog))).await
}

/// Move the rehearsal clock (a server started with `--clock manual:MS`).
async fn clock(
    State(app): State<App>,
    headers: HeaderMap,
    b: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, Failure> {
    app.keys.check(&headers, Role::Operator)?;
    let c: ClockBody = wire::parse(&body(b)?)?;
    // Past the latest time the core accepts, every command would be refused: say so here.
    if c.at > kontingent::limits::TIMESTAMP_MAX {
        return Err(ErrorInfo::out_of_range("at", c.at).into());
    }
    let Some(m) = &app.manual else {
        return Err(ErrorInfo::invalid_input(
            "clock",
            "this server runs on a clock that is not moved by hand (start it with --clock manual:MS)",
        )
        .into());
    };
    m.set(c.at);
    Ok(Json(json!({ "at": c.at })))
}
