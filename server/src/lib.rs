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
mod config;
mod console;
mod cors;
mod events;
mod export;
mod metrics;
mod operator;
mod reply;
mod state;
mod wire;

pub use args::ServeArgs;
pub use config::{ClockChoice, Config, ConfigError, LedgerConfig};
pub use reply::{status_of, TRANSPORT_CODES};
pub use state::App;

use std::net::SocketAddr;

/// Open every ledger of `config`, bind its address and serve until Ctrl-C or
/// SIGTERM. `on_listen` is called with the bound address (the port may have been
/// chosen by the system, for `127.0.0.1:0`).
pub fn serve(config: Config, on_listen: impl FnOnce(SocketAddr)) -> Result<(), ConfigError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| ConfigError::new("runtime", e))?;
    runtime.block_on(async move {
        let app = App::open(&config)?;
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| ConfigError::new("listen", e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| ConfigError::new("listen", e))?;
        on_listen(addr);
        axum::serve(listener, app.router())
            .with_graceful_shutdown(shutdown())
            .await
            .map_err(|e| ConfigError::new("serve", e))
    })
}

async fn shutdown() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = ctrl_c => {},
            _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
