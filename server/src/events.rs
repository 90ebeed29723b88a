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

use crate::feed::{Item, PAGE, POLL};
use std::sync::Arc;

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
    let Some(feed) = app.feeds.get(&ledger) else {
        return Err(Failure::internal("no feed for this ledger"));
    };
    // Subscribed before the catch-up reads: whatever the feed hands out after them
    // is in the receiver, so switching to it leaves no hole.
    let follow = Follow {
        live: feed.subscribe(),
        feed: feed.clone(),
        _open: Open::new(app.metrics.clone()),
        app,
        ledger,
        sent: after,
        pending: VecDeque::new(),
        catching_up: true,
        done: false,
    };
    let events = stream::unfold(follow, |mut f| async move {
        let ev = f.next().await?;
        Some((Ok(ev), f))
    });
    Ok(Sse::new(futures_util::future::Either::Right(events)).keep_alive(KeepAlive::default()))
}

/// One stream's place: catching up from the ledger, or following its feed live.
struct Follow {
    app: App,
    ledger: String,
    /// The last seq sent.
    sent: u64,
    pending: VecDeque<Item>,
    live: tokio::sync::broadcast::Receiver<Item>,
    feed: Arc<crate::feed::Feed>,
    /// Reading the ledger itself (at the start, after a gap, or after falling
    /// behind the feed's backlog) rather than the feed.
    catching_up: bool,
    done: bool,
    _open: Open,
}

impl Follow {
    /// The next event to send; `None` ends the stream.
    async fn next(&mut self) -> Option<Event> {
        use tokio::sync::broadcast::error::RecvError;
        loop {
            if self.done || self.app.stopping.load(std::sync::atomic::Ordering::Relaxed) {
                return None;
            }
            if let Some(item) = self.pending.pop_front() {
                self.sent = item.0;
                return Some(
                    Event::default()
                        .id(item.0.to_string())
                        .data(item.1.as_str()),
                );
            }
            if !self.catching_up {
                match tokio::time::timeout(POLL, self.live.recv()).await {
                    // Nothing came: look at `stopping` again, and read the ledger if
                    // the feed handed out what this stream never received.
                    Err(_) => self.catching_up = self.feed.last() > self.sent,
                    Ok(Ok(item)) if item.0 <= self.sent => {}
                    Ok(Ok(item)) if item.0 == self.sent + 1 => self.pending.push_back(item),
                    // A hole (the feed found its place after this stream's catch-up)
                    // or a backlog this stream fell behind: read the ledger.
                    Ok(Ok(_)) | Ok(Err(RecvError::Lagged(_))) => self.catching_up = true,
                    Ok(Err(RecvError::Closed)) => return None,
                }
                continue;
            }
            // Looked up at each read: a ledger on PostgreSQL is replaced when it reconnects.
            let l = self.app.ledger(&self.ledger).ok()?;
            let after = self.sent;
            self.app.metrics.sse_reads.inc();
            match tokio::task::spawn_blocking(move || l.deltas_after(after, PAGE)).await {
                Ok(Ok(deltas)) => {
                    self.catching_up = deltas.len() == PAGE;
                    for d in deltas {
                        let text = serde_json::to_string(&d).unwrap_or_default();
                        self.pending.push_back(Arc::new((d.seq, text)));
                    }
                }
                // The log is out of reach (reconnecting): the stream waits, it does
                // not end; the deltas follow once it is back.
                Ok(Err(e)) if matches!(ErrorInfo::from(&e).code, "io" | "poisoned") => {
                    tokio::time::sleep(POLL).await
                }
                Ok(Err(e)) => {
                    let info = ErrorInfo::from(&e);
                    let body = serde_json::json!({ "code": info.code, "message": info.message });
                    self.done = true;
                    return Some(Event::default().event("error").data(body.to_string()));
                }
                Err(_) => return None,
            }
        }
    }
}
