//! Answers as JSON: an outcome is `200` with the core's JSON (a refusal is an
//! outcome, `status: "refused"`, never an HTTP error); an error is
//! `{code, message, details}` with a status that fits its code.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use kontingent::host::ErrorInfo;
use serde_json::{json, Map, Value};

/// The server's own codes, beside `kontingent::host::ALL_CODES`: what only a
/// transport can get wrong (listed with their status in `docs/SERVER.md`).
pub const TRANSPORT_CODES: &[&str] = &[
    "unauthorized",
    "forbidden",
    "unknown_ledger",
    "not_found",
    "method_not_allowed",
    "payload_too_large",
    "timeout",
    "too_many_connections",
];

/// The HTTP status for an error code: 422 an invalid request, 404 something
/// unknown, 409 a conflict with what was recorded, 503 the journal cannot take
/// it now, 401/403 a missing or weak key, 405 a route called with another
/// method, 413 a body too large.
pub fn status_of(code: &str) -> StatusCode {
    match code {
        "unknown_pool"
        | "unknown_offer"
        | "unknown_reservation"
        | "unknown_wait_entry"
        | "unknown_channel"
        | "unknown_consumer"
        | "unknown_ledger"
        | "not_found" => StatusCode::NOT_FOUND,
        "request_id_reused" | "reservation_state" => StatusCode::CONFLICT,
        "io"
        | "bad_header"
        | "journal_corrupted"
        | "poisoned"
        | "journal_locked"
        | "timeout"
        | "too_many_connections" => StatusCode::SERVICE_UNAVAILABLE,
        "method_not_allowed" => StatusCode::METHOD_NOT_ALLOWED,
        "unauthorized" => StatusCode::UNAUTHORIZED,
        "forbidden" => StatusCode::FORBIDDEN,
        "payload_too_large" => StatusCode::PAYLOAD_TOO_LARGE,
        "internal" => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

/// An error on its way out.
#[derive(Debug)]
pub(crate) struct Failure(pub(crate) ErrorInfo);

impl Failure {
    /// One of [`TRANSPORT_CODES`].
    pub(crate) fn transport(code: &'static str, message: impl Into<String>) -> Self {
        debug_assert!(TRANSPORT_CODES.contains(&code));
        Failure(ErrorInfo {
            code,
            message: message.into(),
            details: Map::new(),
        })
    }
}

impl Failure {
    /// `500 internal`: the server failed, not the request (a bug; retry with the
    /// same request id).
    pub(crate) fn internal(message: impl Into<String>) -> Self {
        Failure(ErrorInfo {
            code: "internal",
            message: message.into(),
            details: Map::new(),
        })
    }
}

impl From<ErrorInfo> for Failure {
    fn from(e: ErrorInfo) -> Self {
        Failure(e)
    }
}

impl From<kontingent::DurableError> for Failure {
    fn from(e: kontingent::DurableError) -> Self {
        Failure(ErrorInfo::from(&e))
    }
}

impl Failure {
    /// The whole answer as HTTP/1.1 bytes, closing the connection: for a
    /// connection turned away before any request on it is read.
    pub(crate) fn raw_answer(self) -> Vec<u8> {
        let status = status_of(self.0.code);
        let body = body_of(self.0).to_string();
        format!(
            "HTTP/1.1 {} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
             retry-after: 1\r\nconnection: close\r\n\r\n{body}",
            status.as_u16(),
            status.canonical_reason().unwrap_or(""),
            body.len(),
        )
        .into_bytes()
    }
}

fn body_of(e: ErrorInfo) -> Value {
    json!({ "code": e.code, "message": e.message, "details": Value::Object(e.details) })
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let code = self.0.code;
        let mut response = (status_of(code), Json(body_of(self.0))).into_response();
        response
            .extensions_mut()
            .insert(crate::log::ErrorCode(code));
        response
    }
}

/// At most 64 characters of user input, for a message.
pub(crate) fn bounded(s: &str) -> String {
    match s.char_indices().nth(64) {
        Some((cut, _)) => format!("{}… ({} bytes)", &s[..cut], s.len()),
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/SERVER.md's status table gives every code the status `status_of` does,
    /// and names every transport code.
    #[test]
    fn the_status_table_is_the_documented_one() {
        let doc = include_str!("../../docs/SERVER.md");
        let mut documented = 0;
        for line in doc.lines() {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let Some(status) = cells.get(1).and_then(|c| c.parse::<u16>().ok()) else {
                continue;
            };
            if cells[2] == "every other code" {
                assert_eq!(status_of("zero").as_u16(), status);
                continue;
            }
            for code in cells[2].split(", ") {
                let code = code.trim_matches('`');
                assert_eq!(status_of(code).as_u16(), status, "{code}");
                documented += 1;
            }
        }
        assert!(documented > 10);
        for code in TRANSPORT_CODES {
            assert!(doc.contains(&format!("`{code}`")), "{code} is documented");
            assert!(
                !kontingent::host::ALL_CODES.contains(code),
                "{code} is the transport's own"
            );
        }
    }
}
