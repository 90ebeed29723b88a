//! Server-Sent Events: the availability deltas after a seq (`?after=N`, or the
//! `Last-Event-ID` a browser sends when it reconnects), each with its seq as id,
//! so a browser preview stays current. Public: deltas carry no customer data.
//! Events that are gone (retired by a compaction) end the stream with an
//! `error` event, and the browser reloads the snapshot.

use crate::auth::Role;
use crate::reply::Failure;
use crate::state::App;
use crate::wire::Path;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use kontingent::host::ErrorInfo;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

/// How often a stream looks for new deltas.
const POLL: Duration = Duration::from_millis(100);
const PAGE: usize = 256;

/// Counts a stream as open for as long as it lives.
struct Open(std::sync::Arc<crate::metrics::Metrics>);

impl Open {
    fn new(m: std::sync::Arc<crate::metrics::Metrics>) -> Open {
        m.sse.inc();
        Open(m)
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        self.0.sse.dec();
    }
}

pub(crate) async fn stream(
    State(app): State<App>,
    Path(ledger): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, Failure> {
    crate::api::authorized(&app, &headers, Role::Public, &ledger)?;
    let from_query = raw
        .as_deref()
        .and_then(|q| q.split('&').find_map(|p| p.strip_prefix("after=")))
        .map(str::to_owned);
    let from_header = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let after = match from_header.or(from_query) {
        None => 0,
        Some(v) => v.parse::<u64>().map_err(|_| {
            Failure::from(ErrorInfo::invalid_input("after", "expected a whole number"))
        })?,
    };
    // A seq beyond the ledger's is a client ahead of the ledger (it followed
    // another ledger, or a journal that was replaced): told at once, not left to
    // wait for seqs that would then mean other events.
    let l = app.ledger(&ledger)?;
    let last = crate::state::blocking(move || l.read(|x| x.seq())).await??;
    if after > last {
        let body = serde_json::json!({
            "code": "invalid_input",
            "message": format!("after {after} is beyond the ledger's last seq {last}: reload the snapshot"),
            "details": { "field": "after", "last": last },
        });
        let ev = Event::default().event("error").data(body.to_string());
        let stream = stream::iter([Ok::<_, Infallible>(ev)]);
        return Ok(
            Sse::new(futures_util::future::Either::Left(stream)).keep_alive(KeepAlive::default())
        );
    }
    let open = Open::new(app.metrics.clone());
    let state = (after, VecDeque::<(u64, String)>::new(), false);
    let events = stream::unfold(state, move |(after, mut pending, done)| {
        // Looked up at each poll: a ledger on PostgreSQL is replaced when it reconnects.
        let (app, ledger) = (app.clone(), ledger.clone());
        let stopping = app.stopping.clone();
        let _open = &open;
        async move {
            if done {
                return None;
            }
            loop {
                if stopping.load(std::sync::atomic::Ordering::Relaxed) {
                    return None;
                }
                if let Some((seq, data)) = pending.pop_front() {
                    let ev = Event::default().id(seq.to_string()).data(data);
                    return Some((Ok(ev), (seq, pending, false)));
                }
                let Ok(l) = app.ledger(&ledger) else {
                    return None;
                };
                match tokio::task::spawn_blocking(move || l.deltas_after(after, PAGE)).await {
                    Ok(Ok(deltas)) if deltas.is_empty() => tokio::time::sleep(POLL).await,
                    // The log is out of reach (reconnecting): the stream waits, it
                    // does not end; the deltas follow once it is back.
                    Ok(Err(e)) if matches!(ErrorInfo::from(&e).code, "io" | "poisoned") => {
                        tokio::time::sleep(POLL).await
                    }
                    Ok(Ok(deltas)) => {
                        for d in deltas {
                            let text = serde_json::to_string(&d).unwrap_or_default();
                            pending.push_back((d.seq, text));
                        }
                    }
                    Ok(Err(e)) => {
                        let info = ErrorInfo::from(&e);
                        let body =
                            serde_json::json!({ "code": info.code, "message": info.message });
                        let ev = Event::default().event("error").data(body.to_string());
                        return Some((Ok(ev), (after, pending, true)));
                    }
                    Err(_) => return None,
                }
            }
        }
    });
    Ok(Sse::new(futures_util::future::Either::Right(events)).keep_alive(KeepAlive::default()))
}
