//! The operator's verbs, each a journaled command like any other: pause, resume,
//! set a capacity; and, for a rehearsal, moving the server's clock.

use crate::api::{body, command};
use crate::auth::Role;
use crate::reply::Failure;
use crate::state::App;
use crate::wire::{self, CapacityBody, ClockBody, NoFields};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use kontingent::host::ErrorInfo;
use kontingent::Action;
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
    Router::new().route("/v1/clock", post(clock))
}

/// Move the rehearsal clock (a server started with `--clock manual:MS`).
async fn clock(
    State(app): State<App>,
    headers: HeaderMap,
    b: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, Failure> {
    app.keys.check(&headers, Role::Operator)?;
    let c: ClockBody = wire::parse(&body(b)?)?;
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
