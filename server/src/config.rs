//! What a server is started with: its ledgers (each on a journal file or on the
//! PostgreSQL log, named in the URL), where it listens, its keys, its clock and
//! its limits.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// One ledger (campaign) the server serves.
#[derive(Clone, Debug)]
pub struct LedgerConfig {
    /// Its name in the URL (`/v1/ledgers/{name}/...`): 1..=64 of `[a-z0-9_-]`.
    pub name: String,
    /// Where its journal is.
    pub log: LedgerLog,
    /// A catalog file loaded at start if it differs from the journal's.
    pub catalog: Option<PathBuf>,
}

/// Where a ledger's journal is kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LedgerLog {
    /// A journal file (created if missing); one server per file.
    File(PathBuf),
    /// The ordered log in PostgreSQL (`docs/POSTGRES.md`): several servers may
    /// serve one ledger, linearizably.
    Postgres {
        /// A libpq connection string or `postgresql://` URL (no TLS).
        url: String,
        /// How long a server may hold the ledger's lock silently before
        /// PostgreSQL ends its session (`kontingent_pg::HOLD_LIMIT` by default).
        hold_limit: Duration,
    },
}

impl fmt::Display for LedgerLog {
    /// For logs and messages: the file, or the database without its password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LedgerLog::File(p) => write!(f, "{}", p.display()),
            LedgerLog::Postgres { .. } => write!(f, "the PostgreSQL log"),
        }
    }
}

/// Where "now" comes from for every command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClockChoice {
    /// The wall clock (the default).
    System,
    /// A clock standing at this instant (ms): tests, and rehearsing one moment.
    Fixed(u64),
    /// A clock starting at this instant that the operator moves
    /// (`POST /v1/clock`): rehearsing a campaign at its own dates.
    Manual(u64),
}

/// Everything a server is started with.
#[derive(Clone, Debug)]
pub struct Config {
    /// The ledgers, by name.
    pub ledgers: Vec<LedgerConfig>,
    /// The address to bind (`127.0.0.1:7070`; port 0 lets the system choose).
    pub listen: SocketAddr,
    /// The key for client calls (reserve, confirm, release, preview, ...).
    pub client_key: Option<String>,
    /// The key for operator calls (pause, resume, capacity, clock, and all client calls).
    pub operator_key: Option<String>,
    /// Serve without keys: only when asked for by name (`--no-keys`).
    pub no_keys: bool,
    /// The clock.
    pub clock: ClockChoice,
    /// The largest request body accepted, in bytes.
    pub max_body: usize,
    /// The longest a request may take before it is answered `503 timeout`.
    pub request_timeout: Duration,
    /// Requests served at once; more wait for a free place.
    pub max_in_flight: usize,
    /// Connections open at once; one more is answered `503 too_many_connections`
    /// and closed, and the open ones are served as before.
    pub max_connections: usize,
    /// The largest request line and headers, in bytes; more is answered `431`.
    pub max_header_bytes: usize,
    /// The longest a connection may take to send a request's headers, counted
    /// from when it opens or its last answer left: slow headers and idle
    /// keep-alive connections are closed after it.
    pub header_timeout: Duration,
    /// Consumers delivered as webhooks.
    pub webhooks: Vec<WebhookConfig>,
    /// The key webhooks are signed with (HMAC-SHA256); required with a webhook.
    pub webhook_secret: Option<Vec<u8>>,
    /// Consumers delivered as e-mail.
    pub mailers: Vec<MailerConfig>,
    /// How failed deliveries are retried, and when a consumer is dead.
    pub retry: crate::deliver::Retry,
    /// The longest one delivery (a POST, an SMTP session) may take.
    pub delivery_timeout: Duration,
    /// Origins allowed to show the operator console in a frame (a WordPress admin
    /// page); none by default, so no other page can frame it.
    pub console_frame_ancestors: Vec<String>,
}

/// A consumer whose notifications are POSTed to a URL.
#[derive(Clone, Debug)]
pub struct WebhookConfig {
    /// The ledger.
    pub ledger: String,
    /// The consumer (defined in the ledger, by command or catalog).
    pub consumer: String,
    /// Where to POST (`http://`; TLS is a proxy's job).
    pub url: String,
}

/// A consumer whose notifications become e-mails.
#[derive(Clone, Debug)]
pub struct MailerConfig {
    /// The ledger.
    pub ledger: String,
    /// The consumer (usually `mailer`, given `confirmed` and `promoted`).
    pub consumer: String,
    /// The SMTP server, `HOST:PORT` (no TLS: a relay on the same host or network).
    pub smtp: String,
    /// The sender, `Name <address>` or an address.
    pub from: String,
    /// The template file (TOML: a table per event type with `subject` and `body`).
    pub template: PathBuf,
}

impl Config {
    /// A server on `listen` with default limits and the system clock, no ledgers yet.
    pub fn new(listen: SocketAddr) -> Self {
        Config {
            ledgers: Vec::new(),
            listen,
            client_key: None,
            operator_key: None,
            no_keys: false,
            clock: ClockChoice::System,
            max_body: 64 * 1024,
            request_timeout: Duration::from_secs(10),
            max_in_flight: 1024,
            // Below the usual soft limit of 1,024 open files, with room for the
            // journals and the files a request opens.
            max_connections: 512,
            // Browser cookies passed on by a proxy fit; a header block in the
            // megabytes does not.
            max_header_bytes: 16 * 1024,
            header_timeout: Duration::from_secs(10),
            webhooks: Vec::new(),
            webhook_secret: None,
            mailers: Vec::new(),
            retry: crate::deliver::Retry {
                attempts: 8,
                base: Duration::from_millis(500),
                max: Duration::from_secs(60),
            },
            delivery_timeout: Duration::from_secs(5),
            console_frame_ancestors: Vec::new(),
        }
    }
}

/// Why a server could not start: the setting, and what is wrong with it.
#[derive(Debug)]
pub struct ConfigError {
    /// The setting or phase (`listen`, `ledger emstek`, `keys`, ...).
    pub what: String,
    /// What is wrong.
    pub reason: String,
}

impl ConfigError {
    pub(crate) fn new(what: impl Into<String>, reason: impl fmt::Display) -> Self {
        ConfigError {
            what: what.into(),
            reason: reason.to_string(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.what, self.reason)
    }
}

impl std::error::Error for ConfigError {}

/// A ledger name as the URL carries it.
pub(crate) fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}
