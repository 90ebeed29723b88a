//! `kontingent serve`'s arguments (the `kontingent` tool flattens them).

use crate::config::{
    ClockChoice, Config, ConfigError, LedgerConfig, LedgerLog, MailerConfig, WebhookConfig,
};
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
    /// POST a consumer's notifications to a URL, signed: `LEDGER/CONSUMER=URL`
    /// (repeat for several).
    #[arg(long = "webhook", value_name = "LEDGER/CONSUMER=URL")]
    pub webhooks: Vec<String>,
    /// A file with the secret webhooks are signed with (or `KONTINGENT_WEBHOOK_SECRET`).
    #[arg(long, value_name = "FILE")]
    pub webhook_secret_file: Option<PathBuf>,
    /// The webhook secret itself.
    #[arg(
        long,
        env = "KONTINGENT_WEBHOOK_SECRET",
        hide_env_values = true,
        hide = true
    )]
    pub webhook_secret: Option<String>,
    /// Send a consumer's notifications as e-mail: `LEDGER/CONSUMER` (with --smtp,
    /// --mail-from and --mail-template).
    #[arg(long = "mailer", value_name = "LEDGER/CONSUMER", requires_all = ["smtp", "mail_from", "mail_template"])]
    pub mailers: Vec<String>,
    /// The SMTP server the mailer sends through, `HOST:PORT`.
    #[arg(long, value_name = "HOST:PORT")]
    pub smtp: Option<String>,
    /// The mailer's sender.
    #[arg(long, value_name = "ADDRESS")]
    pub mail_from: Option<String>,
    /// The mailer's template file: a TOML table per event type with `subject` and `body`.
    #[arg(long, value_name = "FILE")]
    pub mail_template: Option<PathBuf>,
    /// Failed deliveries in a row before a consumer is dead (an operator retries it).
    #[arg(long, default_value_t = 8)]
    pub delivery_attempts: u32,
    /// The first wait after a failed delivery, in ms (doubling, with jitter).
    #[arg(long, default_value_t = 500)]
    pub retry_base_ms: u64,
    /// The longest wait between two delivery attempts, in ms.
    #[arg(long, default_value_t = 60_000)]
    pub retry_max_ms: u64,
    /// The longest one delivery may take, in ms.
    #[arg(long, default_value_t = 5_000)]
    pub delivery_timeout_ms: u64,
    /// An origin (`https://shop.example.org`) whose pages may show the operator
    /// console in a frame, such as the WordPress plugin's campaign page (repeat
    /// for several). None by default.
    #[arg(long = "console-frame-ancestor", value_name = "ORIGIN")]
    pub console_frame_ancestors: Vec<String>,
}

/// `LEDGER/CONSUMER`, the ledger being a server name (no `/`).
fn ledger_consumer<'a>(what: &str, s: &'a str) -> Result<(&'a str, &'a str), ConfigError> {
    s.split_once('/')
        .filter(|(l, c)| !l.is_empty() && !c.is_empty())
        .ok_or_else(|| ConfigError::new(what, format!("{s:?} is not LEDGER/CONSUMER")))
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
        for w in &self.webhooks {
            let (target, url) = w
                .split_once("=http")
                .map(|(t, rest)| (t, format!("http{rest}")))
                .ok_or_else(|| {
                    ConfigError::new("--webhook", format!("{w:?} is not LEDGER/CONSUMER=URL"))
                })?;
            let (ledger, consumer) = ledger_consumer("--webhook", target)?;
            c.webhooks.push(WebhookConfig {
                ledger: ledger.to_owned(),
                consumer: consumer.to_owned(),
                url,
            });
        }
        c.webhook_secret = match (&self.webhook_secret_file, &self.webhook_secret) {
            (Some(file), _) => Some(
                std::fs::read_to_string(file)
                    .map_err(|e| {
                        ConfigError::new(format!("--webhook-secret-file {}", file.display()), e)
                    })?
                    .trim()
                    .as_bytes()
                    .to_vec(),
            ),
            (None, Some(s)) => Some(s.as_bytes().to_vec()),
            (None, None) => None,
        };
        for m in &self.mailers {
            let (ledger, consumer) = ledger_consumer("--mailer", m)?;
            c.mailers.push(MailerConfig {
                ledger: ledger.to_owned(),
                consumer: consumer.to_owned(),
                smtp: self.smtp.clone().unwrap_or_default(),
                from: self.mail_from.clone().unwrap_or_default(),
                template: self.mail_template.clone().unwrap_or_default(),
            });
        }
        c.retry = crate::deliver::Retry {
            attempts: self.delivery_attempts.max(1),
            base: std::time::Duration::from_millis(self.retry_base_ms.max(1)),
            max: std::time::Duration::from_millis(self.retry_max_ms.max(self.retry_base_ms).max(1)),
        };
        c.delivery_timeout = std::time::Duration::from_millis(self.delivery_timeout_ms.max(1));
        for origin in &self.console_frame_ancestors {
            c.console_frame_ancestors.push(origin_of(origin)?);
        }
        Ok(c)
    }
}

/// `scheme://host[:port]` and nothing else: it goes into a header as it is, so a
/// space, `;` or quote would add a directive of its own.
fn origin_of(s: &str) -> Result<String, ConfigError> {
    let bad = || {
        ConfigError::new(
            "--console-frame-ancestor",
            format!("{s:?} is not an origin like https://shop.example.org"),
        )
    };
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .ok_or_else(bad)?;
    let ok = !rest.is_empty()
        && rest.len() <= 253
        && rest.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || b == b'.'
                || b == b'-'
                || b == b':'
                || b == b'['
                || b == b']'
        });
    if ok {
        Ok(s.to_owned())
    } else {
        Err(bad())
    }
}

fn ms_of(s: &str) -> Result<u64, ConfigError> {
    s.parse()
        .map_err(|_| ConfigError::new("--clock", format!("{s:?} is not milliseconds since 1970")))
}
