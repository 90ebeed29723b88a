//! The webhook signature: `Kontingent-Signature: t=SECONDS,v1=HEX`, where HEX is
//! HMAC-SHA256 under the shared secret over `SECONDS.BODY` (the body's exact
//! bytes). The timestamp is signed with the body so that a receiver that refuses
//! old timestamps refuses a replayed request, and a changed byte anywhere fails.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The header that carries the signature.
pub(crate) const HEADER: &str = "kontingent-signature";

/// The header value for `body` sent at `seconds` (Unix time) under `secret`.
pub(crate) fn sign(secret: &[u8], seconds: u64, body: &[u8]) -> String {
    // HMAC takes a key of any length; this cannot fail.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret).expect("any key length");
    mac.update(seconds.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let tag = mac.finalize().into_bytes();
    let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
    format!("t={seconds},v1={hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The value Python's `hmac` module gives for the same key and message
    /// (`hmac.new(b"Jefe", b'1700000000.{"a":1}', hashlib.sha256).hexdigest()`).
    #[test]
    fn matches_an_independent_implementation() {
        assert_eq!(
            sign(b"Jefe", 1_700_000_000, br#"{"a":1}"#),
            "t=1700000000,v1=fa5f6481efc59da48b19c9dc10196c9953e5651f8304b3a318b6b87d70272e0a"
        );
        // A changed byte of the body, or another time, changes the signature.
        assert_ne!(sign(b"k", 1, b"{\"a\":1}"), sign(b"k", 1, b"{\"a\":2}"));
        assert_ne!(sign(b"k", 1, b"x"), sign(b"k", 2, b"x"));
    }
}
