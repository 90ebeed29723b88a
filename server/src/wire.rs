//! The request bodies and path segments, as strict as the core's commands:
//! unknown fields, wrong types, missing fields and segments that are not UTF-8
//! are `422` naming the field (`lines[0].quantity`), and nothing changes.

use crate::reply::{bounded, Failure};
use axum::extract::path::ErrorKind;
use axum::extract::rejection::PathRejection;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use kontingent::host::ErrorInfo;
use kontingent::{LineRequest, Request};
use serde::de::{DeserializeOwned, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

/// A reserve (or preview) request.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReserveBody {
    #[serde(default)]
    request_id: Option<String>,
    customer: String,
    lines: Vec<Object<LineBody>>,
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

/// `{"consumer": name, "events": [type, ...], "after": seq?}`: define a consumer.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConsumerBody {
    pub(crate) consumer: String,
    pub(crate) events: Vec<kontingent::EventType>,
    #[serde(default)]
    pub(crate) after: Option<u64>,
}

/// `{"seq": n}`: a consumer has finished every event up to `n`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AckBody {
    pub(crate) seq: u64,
}

/// `{}`, or nothing: pause and resume take no fields.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NoFields {}

/// `T` from a JSON object only: serde's derive also takes a struct from an
/// array of its fields in order (`["r1","anna",[["zur-post-20",1]]]` would be a
/// reserve), a second form nobody documents, names fields in, or tests.
pub(crate) struct Object<T>(pub(crate) T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct OnlyMaps<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for OnlyMaps<T> {
            type Value = T;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
            }
        }
        d.deserialize_map(OnlyMaps(PhantomData)).map(Object)
    }
}

/// axum's `Path`, whose rejections are this server's errors (`422` naming the
/// segment) instead of axum's plain-text `400`.
pub(crate) struct Path<T>(pub(crate) T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Failure> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(t)) => Ok(Path(t)),
            Err(PathRejection::FailedToDeserializePathParams(e)) => Err(match e.kind() {
                ErrorKind::InvalidUtf8InPathParam { key } => {
                    ErrorInfo::invalid_input(&bounded(key), "is not UTF-8")
                }
                _ => ErrorInfo::invalid_input("path", bounded(&e.body_text())),
            }
            .into()),
            Err(e) => Err(ErrorInfo::invalid_input("path", bounded(&e.body_text())).into()),
        }
    }
}

/// A JSON body as `T` (an object), or `422` naming the field; an empty body is `{}`.
pub(crate) fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, Failure> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    let mut de = serde_json::Deserializer::from_slice(body);
    let Object(parsed) = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        // serde_path_to_error writes `?` for a key it could not read: the
        // object holding it is the field to name.
        let path = e.path().to_string();
        let field = match path.trim_end_matches(".?") {
            "." | "?" => "body".to_owned(),
            p => p.to_owned(),
        };
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
            channel: self
                .channel
                .unwrap_or_else(|| kontingent::DEFAULT_CHANNEL.to_owned()),
            attributes: self.attributes,
            lines: self
                .lines
                .into_iter()
                .map(|Object(l)| LineRequest {
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
