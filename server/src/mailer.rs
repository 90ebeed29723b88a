//! The confirmation e-mail: a consumer (usually named `mailer`, given `confirmed`
//! and `promoted`) whose effect is one message per event through SMTP, to the
//! reservation's customer (its id must be an e-mail address), with the text from
//! a template file and a Message-ID made of the notification's key: a message
//! sent again after a crash carries the same Message-ID, so it is recognisably
//! the same message. A confirmation released before its turn is skipped: the
//! e-mail would announce a unit the customer no longer has.

use crate::config::ConfigError;
use crate::deliver::{Done, Effect};
use kontingent::host::{HostLedger, Notification};
use kontingent::{EventKind, ReservationId, ReservationState};
use lettre::message::{header::ContentType, Mailbox};
use lettre::{Message, SmtpTransport, Transport};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// The placeholders a template may use.
const PLACEHOLDERS: &[&str] = &[
    "reservation",
    "customer",
    "lines",
    "key",
    "ledger",
    "seq",
    "expires_at",
];

/// A subject and body per event type (`confirmed`, `promoted`...): the template
/// file, TOML, one table per type.
#[derive(Clone, Debug, serde::Deserialize)]
pub(crate) struct Templates(BTreeMap<String, Template>);

#[derive(Clone, Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Template {
    subject: String,
    body: String,
}

impl Templates {
    /// Read and check a template file: every table names an event type, and
    /// every `{placeholder}` is one of [`PLACEHOLDERS`].
    pub(crate) fn read(path: &Path) -> Result<Templates, ConfigError> {
        let what = format!("--mail-template {}", path.display());
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::new(&what, e))?;
        let t: Templates = toml::from_str(&text).map_err(|e| ConfigError::new(&what, e))?;
        if t.0.is_empty() {
            return Err(ConfigError::new(
                &what,
                "no template: give a [confirmed] table with subject and body",
            ));
        }
        for (kind, tpl) in &t.0 {
            if kontingent::EventType::from_name(kind).is_none() {
                return Err(ConfigError::new(
                    &what,
                    format!("[{kind}] is not an event type"),
                ));
            }
            for text in [&tpl.subject, &tpl.body] {
                let mut rest = text.as_str();
                while let Some(open) = rest.find('{') {
                    let after = &rest[open + 1..];
                    let Some(close) = after.find('}') else { break };
                    let name = &after[..close];
                    if !PLACEHOLDERS.contains(&name) {
                        return Err(ConfigError::new(
                            &what,
                            format!(
                                "[{kind}]: {{{name}}} is not one of {}",
                                PLACEHOLDERS.join(", ")
                            ),
                        ));
                    }
                    rest = &after[close + 1..];
                }
            }
        }
        Ok(t)
    }
}

/// The template with each `{placeholder}` replaced, in one pass: a value that
/// itself contains `{seq}` (a customer id, an offer name) stays as it is.
fn fill(text: &str, values: &BTreeMap<&str, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after
            .find('}')
            .and_then(|close| Some((values.get(&after[..close])?, close)))
        {
            Some((value, close)) => {
                out.push_str(value);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

pub(crate) struct Mailer {
    transport: SmtpTransport,
    from: Mailbox,
    templates: Templates,
    ledger: String,
}

impl Mailer {
    /// A mailer sending through the SMTP server at `host:port` (no TLS: a relay
    /// on the same host or network), from `from`.
    pub(crate) fn new(
        smtp: &str,
        from: &str,
        templates: Templates,
        timeout: Duration,
        ledger: &str,
    ) -> Result<Mailer, ConfigError> {
        let (host, port) = smtp
            .rsplit_once(':')
            .and_then(|(h, p)| Some((h, p.parse::<u16>().ok()?)))
            .ok_or_else(|| ConfigError::new("--smtp", format!("{smtp:?} is not HOST:PORT")))?;
        let from: Mailbox = from
            .parse()
            .map_err(|e| ConfigError::new("--mail-from", e))?;
        let transport = SmtpTransport::builder_dangerous(host)
            .port(port)
            .timeout(Some(timeout))
            .build();
        Ok(Mailer {
            transport,
            from,
            templates,
            ledger: ledger.to_owned(),
        })
    }
}

impl Effect for Mailer {
    fn perform(&mut self, ledger: &HostLedger, n: &Notification) -> Result<Done, String> {
        let kind = n.event.kind.event_type().name();
        let Some(template) = self.templates.0.get(kind) else {
            return Ok(Done::Skipped("no template for this event type"));
        };
        if !n.current {
            return Ok(Done::Skipped(
                "no longer stands (released or expired since)",
            ));
        }
        let (reservation, expires_at) = match &n.event.kind {
            EventKind::Confirmed { reservation, .. } => (*reservation, None),
            EventKind::Held {
                reservation,
                expires_at,
                ..
            }
            | EventKind::Promoted {
                reservation,
                expires_at,
                ..
            } => (*reservation, Some(*expires_at)),
            _ => return Ok(Done::Skipped("not about a reservation")),
        };
        let view = ledger
            .read(|l| l.reservation(ReservationId(reservation.0)))
            .map_err(|e| e.to_string())?
            .ok_or("the reservation is unknown")?;
        // Read now, not when the batch was: a release since means no e-mail.
        let stands = match n.event.kind {
            EventKind::Confirmed { .. } => view.state == ReservationState::Confirmed,
            _ => view.state == ReservationState::Held,
        };
        if !stands {
            return Ok(Done::Skipped(
                "no longer stands (released or expired since)",
            ));
        }
        let Ok(to) = view.customer.parse::<Mailbox>() else {
            return Ok(Done::Skipped("the customer id is not an e-mail address"));
        };
        let lines = view
            .lines
            .iter()
            .map(|(offer, q)| format!("{q} × {offer}"))
            .collect::<Vec<_>>()
            .join(", ");
        let values = BTreeMap::from([
            ("reservation", reservation.0.to_string()),
            ("customer", view.customer.clone()),
            ("lines", lines),
            ("key", n.key.clone()),
            ("ledger", self.ledger.clone()),
            ("seq", n.event.seq.to_string()),
            ("expires_at", expires_at.map(rfc3339).unwrap_or_default()),
        ]);
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(fill(&template.subject, &values))
            .message_id(Some(format!("<{}@kontingent>", n.key)))
            .header(ContentType::TEXT_PLAIN)
            .body(fill(&template.body, &values))
            .map_err(|e| e.to_string())?;
        self.transport.send(&message).map_err(|e| e.to_string())?;
        Ok(Done::Delivered)
    }
}

/// Milliseconds since the epoch as an RFC 3339 UTC time (`2026-05-04T09:00:00Z`).
fn rfc3339(ms: u64) -> String {
    i64::try_from(ms)
        .ok()
        .and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok())
        .map(|t| t.to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_once() {
        let values = BTreeMap::from([
            ("customer", "{seq}@example.org".to_owned()),
            ("seq", "7".to_owned()),
        ]);
        assert_eq!(
            fill("to {customer}, #{seq} {unknown}", &values),
            "to {seq}@example.org, #7 {unknown}"
        );
    }

    #[test]
    fn times_are_rfc_3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_777_885_200_000), "2026-05-04T09:00:00Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00Z");
    }
}
