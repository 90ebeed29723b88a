//! A webhook: each notification POSTed as JSON to the consumer's URL, signed
//! (`signature.rs`), carrying its idempotency key. Any 2xx is a delivery; any
//! other answer, a timeout or a refused connection is a failure to retry
//! (`deliver.rs`). The body is in `docs/SERVER.md`, "Webhooks".

use crate::deliver::{Done, Effect};
use kontingent::clock::Clock;
use kontingent::host::{HostLedger, Notification};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// The header with the notification's key, for receivers that de-duplicate.
pub(crate) const KEY_HEADER: &str = "kontingent-key";

pub(crate) struct Webhook {
    agent: ureq::Agent,
    url: String,
    secret: Arc<Vec<u8>>,
    clock: Arc<dyn Clock>,
    ledger: String,
    consumer: String,
}

impl Webhook {
    pub(crate) fn new(
        url: &str,
        secret: Arc<Vec<u8>>,
        timeout: Duration,
        clock: Arc<dyn Clock>,
        ledger: &str,
        consumer: &str,
    ) -> Webhook {
        // A timeout per phase, not one overall: with an overall one ureq resolves
        // the host on a new thread per request (to time it out), which costs more
        // than the request itself. The host is an address or a local name.
        let agent = ureq::Agent::config_builder()
            .timeout_connect(Some(timeout))
            .timeout_send_request(Some(timeout))
            .timeout_send_body(Some(timeout))
            .timeout_recv_response(Some(timeout))
            .timeout_recv_body(Some(timeout))
            // A redirect is a failure to retry: ureq would follow a 302 with a GET
            // without the body, and its 200 would count as delivered.
            .max_redirects(0)
            // A 4xx or 5xx is an answer to look at, not a transport error.
            .http_status_as_error(false)
            .user_agent(concat!("kontingent/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Webhook {
            agent,
            url: url.to_owned(),
            secret,
            clock,
            ledger: ledger.to_owned(),
            consumer: consumer.to_owned(),
        }
    }
}

impl Effect for Webhook {
    fn perform(&mut self, _ledger: &HostLedger, n: &Notification) -> Result<Done, String> {
        let body = json!({
            "key": n.key,
            "ledger": self.ledger,
            "consumer": self.consumer,
            "current": n.current,
            "event": n.event,
        })
        .to_string();
        // The wall clock, not the campaign's (which may be a rehearsal's): a
        // receiver compares `t` with its own clock to refuse replays.
        let seconds = self.clock.now_ms() / 1000;
        let signature = crate::signature::sign(&self.secret, seconds, body.as_bytes());
        let mut answer = self
            .agent
            .post(&self.url)
            .header("content-type", "application/json")
            .header(KEY_HEADER, &n.key)
            .header(crate::signature::HEADER, &signature)
            .send(&body)
            .map_err(|e| e.to_string())?;
        let status = answer.status();
        // Read the answer to its end (at most 64 KiB): only then does the
        // connection go back to the pool for the next notification.
        let _ = answer
            .body_mut()
            .with_config()
            .limit(64 * 1024)
            .read_to_vec();
        if status.is_success() {
            Ok(Done::Delivered)
        } else {
            Err(format!("the receiver answered {status}"))
        }
    }
}
