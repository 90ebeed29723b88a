//! Structured log lines (tracing) on stderr: startup and shutdown, each ledger
//! opened, every operator verb at info, server-side failures at warn, and every
//! request at debug. Never a body: customer ids and attributes do not reach the log
//! at any level (paths carry ledger names and reservation ids only).
//!
//! `KONTINGENT_LOG` sets the level (`error`, `warn`, `info` — the default —,
//! `debug`, `trace`); `KONTINGENT_LOG_FORMAT=json` writes one JSON object per line.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use std::time::Instant;
use tracing::level_filters::LevelFilter;

/// The error code of a failed answer, left on the response for the log.
#[derive(Clone, Copy)]
pub(crate) struct ErrorCode(pub &'static str);

/// Install the process's log subscriber (once; later calls do nothing). Called by
/// the binaries, not by [`crate::serve`], so an embedding program keeps its own.
pub fn init() {
    let level = std::env::var("KONTINGENT_LOG")
        .ok()
        .and_then(|v| v.parse::<LevelFilter>().ok())
        .unwrap_or(LevelFilter::INFO);
    let json = std::env::var("KONTINGENT_LOG_FORMAT").is_ok_and(|v| v == "json");
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(level)
        .with_ansi(false);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// The routes whose calls are operator verbs that change a ledger.
const VERBS: &[&str] = &["/pause", "/resume", "/capacity", "/catalog", "/v1/clock"];

/// Log each answer (a layer around the whole router).
pub(crate) async fn requests(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let status = response.status().as_u16();
    let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    let code = response.extensions().get::<ErrorCode>().map(|c| c.0);
    let verb = method == axum::http::Method::POST && VERBS.iter().any(|v| path.ends_with(v));
    if status >= 500 {
        tracing::warn!(%method, path, status, code, micros, "request failed");
    } else if verb {
        tracing::info!(%method, path, status, code, micros, "operator");
    } else {
        tracing::debug!(%method, path, status, code, micros, "request");
    }
    response
}
