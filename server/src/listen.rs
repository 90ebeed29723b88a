//! The accept loop: each connection is served by hyper's HTTP/1 directly, because
//! the bounds that stop slow or bloated headers are hyper's own settings and
//! `axum::serve` does not pass them on. At most `max_connections` are open at
//! once; one more is answered `503 too_many_connections` and closed without
//! touching the open ones. On shutdown the loop stops accepting and drains.

use crate::config::{Config, ConfigError};
use crate::reply::Failure;
use crate::state::App;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use std::future::Future;
use std::io::{self, Write};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::Service;

/// hyper refuses a smaller read buffer.
const MIN_BUFFER: usize = 8 * 1024;
/// Smaller, and a request line with `Host` and `Authorization` does not fit.
const MIN_HEADER_BYTES: usize = 1024;

/// The transport's bounds, checked once at start.
pub(crate) struct Bounds {
    max_connections: usize,
    max_header_bytes: usize,
    header_timeout: Duration,
    /// How long a shutdown waits for the connections still open.
    drain: Duration,
}

impl Bounds {
    pub(crate) fn of(config: &Config) -> Result<Bounds, ConfigError> {
        if config.max_connections == 0 {
            return Err(ConfigError::new(
                "--max-connections",
                "at least 1 connection",
            ));
        }
        if config.max_header_bytes < MIN_HEADER_BYTES {
            return Err(ConfigError::new(
                "--max-header-bytes",
                format!("at least {MIN_HEADER_BYTES} bytes"),
            ));
        }
        if config.header_timeout.is_zero() {
            return Err(ConfigError::new(
                "--header-timeout-secs",
                "at least 1 second",
            ));
        }
        Ok(Bounds {
            max_connections: config.max_connections,
            max_header_bytes: config.max_header_bytes,
            header_timeout: config.header_timeout,
            // Every request in flight is answered within its timeout (if only
            // with 503 timeout); the second is for writing that answer.
            drain: config.request_timeout + Duration::from_secs(1),
        })
    }
}

/// Serve `app` on `listener` until `stop` completes; then stop accepting, end
/// the event streams, and wait (at most `drain`) for the open connections to
/// answer what they are serving.
pub(crate) async fn run(
    listener: TcpListener,
    app: App,
    bounds: Bounds,
    stop: impl Future<Output = ()>,
) {
    let router = app.router();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(bounds.header_timeout)
        .max_header_size(bounds.max_header_bytes)
        // The read buffer holds a request's headers: a larger one would only
        // let each connection hold more memory.
        .max_buf_size(bounds.max_header_bytes.max(MIN_BUFFER));
    let slots = Arc::new(Semaphore::new(bounds.max_connections));
    let graceful = GracefulShutdown::new();
    let refusal = Failure::transport(
        "too_many_connections",
        "the server has as many connections open as it takes; retry in a moment \
         (with the same request id)",
    )
    .raw_answer();
    tokio::pin!(stop);
    loop {
        let stream = tokio::select! {
            biased;
            () = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    pause_after(&e).await;
                    continue;
                }
            },
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            app.metrics.connections_refused.inc();
            refuse(stream, &refusal);
            continue;
        };
        let router = router.clone();
        let service =
            hyper::service::service_fn(move |r: hyper::Request<Incoming>| router.clone().call(r));
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        let metrics = app.metrics.clone();
        tokio::spawn(async move {
            metrics.connections.inc();
            // A connection's own error (a reset, a timed-out header) ends only it.
            let _ = connection.await;
            metrics.connections.dec();
            drop(slot);
        });
    }
    drop(listener);
    app.stopping.store(true, Ordering::Relaxed);
    let _ = tokio::time::timeout(bounds.drain, graceful.shutdown()).await;
}

/// Write `answer` to a connection turned away, and close it. One write on the
/// socket itself, still non-blocking: a fresh socket's send buffer takes these
/// few bytes at once, and a client that never reads must not hold up the loop.
/// (tokio's `try_write` would refuse until its reactor has seen the socket
/// writable, which a socket just accepted may not be yet.)
fn refuse(stream: tokio::net::TcpStream, answer: &[u8]) {
    if let Ok(mut socket) = stream.into_std() {
        let _ = socket.write(answer);
    }
}

/// An accept error is about one connection (it gave up while queued), or about
/// the process (out of file descriptors): then the connection waits in the
/// backlog while the open ones finish, instead of the loop spinning on it.
async fn pause_after(e: &io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if !matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
