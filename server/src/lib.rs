//! `kontingent serve`: the ledger as a small HTTP service, for every stack that
//! cannot embed it (a PHP site on shared hosting, a shop in any language).
//!
//! A thin shell over the host layer (`kontingent::host`), like the bindings: it
//! parses JSON into commands, runs them on the durable ledger — answering only
//! after the group commit's fdatasync — and writes the core's outcome back as JSON.
//! No rule lives here. The API is in `docs/SERVER.md`.

#![warn(missing_docs)]

mod api;
mod args;
mod auth;
mod committer;
mod config;
mod console;
mod consumers;
mod cors;
mod deliver;
mod events;
mod export;
mod feed;
mod listen;
pub mod log;
mod mailer;
mod metrics;
mod operator;
mod reply;
mod signature;
mod state;
mod supervise;
mod ticker;
mod webhook;
mod wire;

pub use args::ServeArgs;
pub use config::{
    ClockChoice, Config, ConfigError, LedgerConfig, LedgerLog, MailerConfig, WebhookConfig,
};
pub use deliver::Retry;
pub use reply::{status_of, TRANSPORT_CODES};
pub use state::App;

use std::net::SocketAddr;

/// Open every ledger of `config`, bind its address and serve until Ctrl-C or
/// SIGTERM. `on_listen` is called with the bound address (the port may have been
/// chosen by the system, for `127.0.0.1:0`).
pub fn serve(config: Config, on_listen: impl FnOnce(SocketAddr)) -> Result<(), ConfigError> {
    let bounds = listen::Bounds::of(&config)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| ConfigError::new("runtime", e))?;
    // First of all: a SIGTERM from now on (during a long replay, or right after the
    // address is printed) is a clean stop, not the default action's kill.
    let stop = runtime
        .block_on(async { stop_signal() })
        .map_err(|e| ConfigError::new("signals", e))?;
    // Opened outside the runtime: PostgreSQL's blocking client runs one of its own.
    let app = App::open(&config)?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| ConfigError::new("listen", e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| ConfigError::new("listen", e))?;
        tracing::info!(%addr, ledgers = config.ledgers.len(), "listening");
        let ticker = tokio::spawn(ticker::run(app.clone()));
        let feeds = tokio::spawn(feed::run(app.clone()));
        on_listen(addr);
        listen::run(listener, app.clone(), bounds, async move {
            stop.await;
            tracing::info!("stopping: no new requests; answering those in flight");
        })
        .await;
        ticker.abort();
        feeds.abort();
        // Every answer has left: a checkpoint now makes the next start replay
        // from here instead of from the journal's beginning.
        for (name, slot) in app.ledgers.iter() {
            match slot.get().checkpoint() {
                Ok(records) => tracing::info!(ledger = %name, records, "checkpoint written"),
                Err(kontingent::DurableError::Rejected(_)) => {} // not a file: nothing to do
                Err(e) => tracing::warn!(ledger = %name, error = %e, "no checkpoint"),
            }
        }
        tracing::info!("stopped: every answer given was synced");
        Ok(())
    })
}

/// SIGTERM or Ctrl-C, listened for from the moment this returns.
#[cfg(unix)]
fn stop_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = interrupt.recv() => {}
        }
    })
}

#[cfg(not(unix))]
fn stop_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}
