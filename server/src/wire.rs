//! The request bodies, as strict as the core's commands: unknown fields, wrong
//! types and missing fields are `422` naming the field (`lines[0].quantity`), and
//! nothing changes.

use crate::reply::{bounded, Failure};
use axum::http::HeaderMap;
use kontingent::host::ErrorInfo;
use kontingent::{LineRequest, Request};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::collections::BTreeMap;

/// A reserve (or preview) request.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReserveBody {
    #[serde(default)]
    request_id: Option<String>,
    customer: String,
    lines: Vec<LineBody>,
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    attributes: BTreeMap<String, String>,
    #[serde(default)]
    hold_ms: Option<u64>,
    #[serde(default)]
    confirm: bool,
    #[serde(default)]
    up_to: bool,
    #[serde(default)]
    waitlist: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LineBody {
    offer: String,
    quantity: u64,
}

/// `{"reservation": id}`: confirm and release.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReservationBody {
    pub(crate) reservation: u64,
}

/// `{"entry": id}`: leave a waiting list.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EntryBody {
    pub(crate) entry: u64,
}

/// `{"pool": name, "capacity": n}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CapacityBody {
    pub(crate) pool: String,
    pub(crate) capacity: u64,
}

/// `{"at": ms}`: where the operator's rehearsal clock stands.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClockBody {
    pub(crate) at: u64,
}

/// `{}`, or nothing: pause and resume take no fields.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NoFields {}

/// A JSON body as `T`, or `422` naming the field; an empty body is `{}`.
pub(crate) fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, Failure> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    let mut de = serde_json::Deserializer::from_slice(body);
    let parsed: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { "body".to_owned() } else { path };
        let text = bounded(&e.into_inner().to_string());
        // A whole number beyond 64 bits (JSON parses it as a float) or below zero
        // is a number out of range, as in every binding.
        if text.contains("out of range")
            || text.starts_with("invalid value: integer")
            || too_big(&text)
        {
            Failure::from(ErrorInfo::out_of_range(&field, "the number"))
        } else {
            Failure::from(ErrorInfo::invalid_input(&field, text))
        }
    })?;
    de.end()
        .map_err(|e| Failure::from(ErrorInfo::invalid_input("body", bounded(&e.to_string()))))?;
    Ok(parsed)
}

/// serde's "invalid type: floating point `1e+23`" for a whole number past `u64`.
fn too_big(message: &str) -> bool {
    message
        .strip_prefix("invalid type: floating point `")
        .and_then(|rest| rest.split('`').next())
        .and_then(|n| n.parse::<f64>().ok())
        .is_some_and(|n| n.fract() == 0.0 && n > u64::MAX as f64)
}

impl ReserveBody {
    /// The core's request; the request id from the body or the `Idempotency-Key`
    /// header (both given must agree).
    pub(crate) fn into_request(self, headers: &HeaderMap) -> Result<Request, Failure> {
        let header = match headers.get("idempotency-key") {
            None => None,
            Some(v) => Some(v.to_str().map(str::to_owned).map_err(|_| {
                Failure::from(ErrorInfo::invalid_input(
                    "Idempotency-Key",
                    "is not visible ASCII",
                ))
            })?),
        };
        let request_id = match (self.request_id, header) {
            (Some(b), Some(h)) if b != h => {
                return Err(ErrorInfo::invalid_input(
                    "request_id",
                    "differs from the Idempotency-Key header",
                )
                .into())
            }
            (Some(id), _) | (None, Some(id)) => id,
            (None, None) => {
                return Err(ErrorInfo::invalid_input(
                    "request_id",
                    "missing (in the body, or as the Idempotency-Key header)",
                )
                .into())
            }
        };
        Ok(Request {
            request_id,
            customer: self.customer,
            channel: self.channel.unwrap_or_else(|| "web".to_owned()),
            attributes: self.attributes,
            lines: self
                .lines
                .into_iter()
                .map(|l| LineRequest {
                    offer: l.offer,
                    quantity: l.quantity,
                })
                .collect(),
            hold_ms: self.hold_ms,
            confirm: self.confirm,
            up_to: self.up_to,
            waitlist: self.waitlist,
        })
    }
}
