//! `kontingent serve`'s arguments (the `kontingent` tool flattens them).

use crate::config::{ClockChoice, Config, ConfigError, LedgerConfig, LedgerLog};
use std::net::SocketAddr;
use std::path::PathBuf;

/// Serve ledgers over HTTP.
#[derive(clap::Args, Debug, Clone)]
pub struct ServeArgs {
    /// A ledger and its journal file: `NAME=PATH` (repeat for several campaigns).
    #[arg(
        long = "journal",
        value_name = "NAME=PATH",
        required_unless_present = "postgres"
    )]
    pub journals: Vec<String>,
    /// The PostgreSQL log the `--ledger`s are kept in (a libpq string or
    /// `postgresql://` URL, or `KONTINGENT_POSTGRES`): several servers may serve one
    /// ledger.
    #[arg(
        long,
        env = "KONTINGENT_POSTGRES",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub postgres: Option<String>,
    /// A ledger on the `--postgres` log (repeat for several campaigns).
    #[arg(long = "ledger", value_name = "NAME", requires = "postgres")]
    pub pg_ledgers: Vec<String>,
    /// Milliseconds a server may hold a PostgreSQL ledger's lock without a word
    /// before PostgreSQL ends its session: what a frozen server costs the others.
    #[arg(long, default_value_t = 2000)]
    pub pg_hold_limit_ms: u64,
    /// A catalog file to load into ledger NAME at start, if it changed: `NAME=FILE`.
    #[arg(long = "catalog", value_name = "NAME=FILE")]
    pub catalogs: Vec<String>,
    /// The address to listen on (only 127.0.0.1 unless you mean it).
    #[arg(long, default_value = "127.0.0.1:7070")]
    pub listen: SocketAddr,
    /// A file with the keys, one per line: `client=KEY` and `operator=KEY`.
    #[arg(long, value_name = "FILE")]
    pub keys: Option<PathBuf>,
    /// The client key (or `KONTINGENT_CLIENT_KEY`).
    #[arg(long, env = "KONTINGENT_CLIENT_KEY", hide_env_values = true)]
    pub client_key: Option<String>,
    /// The operator key (or `KONTINGENT_OPERATOR_KEY`).
    #[arg(long, env = "KONTINGENT_OPERATOR_KEY", hide_env_values = true)]
    pub operator_key: Option<String>,
    /// Serve without keys (a machine nobody else can reach).
    #[arg(long)]
    pub no_keys: bool,
    /// Where "now" comes from: `system`, `fixed:MS` or `manual:MS` (an operator
    /// moves it with POST /v1/clock: rehearsals).
    #[arg(long, default_value = "system")]
    pub clock: String,
    /// The largest request body, in bytes.
    #[arg(long, default_value_t = 64 * 1024)]
    pub max_body: usize,
    /// Seconds a request may take before it is answered 503 timeout.
    #[arg(long, default_value_t = 10)]
    pub timeout_secs: u64,
    /// Connections open at once; one more is answered 503 too_many_connections
    /// and closed (the open ones are served as before).
    #[arg(long, default_value_t = 512)]
    pub max_connections: usize,
    /// The largest request line and headers, in bytes (431 beyond).
    #[arg(long, default_value_t = 16 * 1024)]
    pub max_header_bytes: usize,
    /// Seconds a connection may take to send a request's headers (from when it
    /// opens or its last answer); slow and idle connections are closed after it.
    #[arg(long, default_value_t = 10)]
    pub header_timeout_secs: u64,
}

fn pair<'a>(what: &str, s: &'a str) -> Result<(&'a str, &'a str), ConfigError> {
    s.split_once('=')
        .filter(|(n, p)| !n.is_empty() && !p.is_empty())
        .ok_or_else(|| ConfigError::new(what, format!("{s:?} is not NAME=PATH")))
}

impl ServeArgs {
    /// The server's configuration (keys from the file override the flags).
    pub fn config(&self) -> Result<Config, ConfigError> {
        let mut c = Config::new(self.listen);
        for j in &self.journals {
            let (name, path) = pair("--journal", j)?;
            c.ledgers.push(LedgerConfig {
                name: name.to_owned(),
                log: LedgerLog::File(PathBuf::from(path)),
                catalog: None,
            });
        }
        if let Some(url) = &self.postgres {
            if self.pg_ledgers.is_empty() {
                return Err(ConfigError::new(
                    "--postgres",
                    "name the ledgers it keeps with --ledger NAME",
                ));
            }
            for name in &self.pg_ledgers {
                c.ledgers.push(LedgerConfig {
                    name: name.clone(),
                    log: LedgerLog::Postgres {
                        url: url.clone(),
                        hold_limit: std::time::Duration::from_millis(self.pg_hold_limit_ms.max(1)),
                    },
                    catalog: None,
                });
            }
        }
        for k in &self.catalogs {
            let (name, path) = pair("--catalog", k)?;
            let l = c
                .ledgers
                .iter_mut()
                .find(|l| l.name == name)
                .ok_or_else(|| {
                    ConfigError::new(
                        "--catalog",
                        format!("no --journal {name}=... or --ledger {name}"),
                    )
                })?;
            l.catalog = Some(PathBuf::from(path));
        }
        c.client_key = self.client_key.clone();
        c.operator_key = self.operator_key.clone();
        if let Some(file) = &self.keys {
            let text = std::fs::read_to_string(file)
                .map_err(|e| ConfigError::new(format!("--keys {}", file.display()), e))?;
            for (n, line) in text.lines().enumerate() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                match line.split_once('=') {
                    Some(("client", k)) => c.client_key = Some(k.trim().to_owned()),
                    Some(("operator", k)) => c.operator_key = Some(k.trim().to_owned()),
                    _ => {
                        return Err(ConfigError::new(
                            format!("--keys {} line {}", file.display(), n + 1),
                            "expected client=KEY or operator=KEY",
                        ))
                    }
                }
            }
        }
        c.no_keys = self.no_keys;
        c.clock = match self.clock.split_once(':') {
            None if self.clock == "system" => ClockChoice::System,
            Some(("fixed", ms)) => ClockChoice::Fixed(ms_of(ms)?),
            Some(("manual", ms)) => ClockChoice::Manual(ms_of(ms)?),
            _ => {
                return Err(ConfigError::new(
                    "--clock",
                    format!("{:?} is not system, fixed:MS or manual:MS", self.clock),
                ))
            }
        };
        c.max_body = self.max_body;
        c.request_timeout = std::time::Duration::from_secs(self.timeout_secs);
        c.max_connections = self.max_connections;
        c.max_header_bytes = self.max_header_bytes;
        c.header_timeout = std::time::Duration::from_secs(self.header_timeout_secs);
        Ok(c)
    }
}

fn ms_of(s: &str) -> Result<u64, ConfigError> {
    s.parse()
        .map_err(|_| ConfigError::new("--clock", format!("{s:?} is not milliseconds since 1970")))
}
