//! Every bound the ledger enforces, in one place.
//!
//! Bounds keep every sum inside `u64` (so overflow is an error, not a wrap),
//! keep numbers exact in JavaScript (`2^53 - 1`), and cap what hostile input
//! can make the ledger store.

/// Longest pool or offer name, in bytes.
pub const NAME_LEN_MAX: usize = 64;
/// Longest request id, in bytes.
pub const REQUEST_ID_LEN_MAX: usize = 128;
/// Longest customer id, in bytes.
pub const CUSTOMER_ID_LEN_MAX: usize = 128;
/// Longest channel name, in bytes.
pub const CHANNEL_LEN_MAX: usize = 32;
/// Most distinct channels a ledger will remember.
pub const CHANNELS_MAX: usize = 256;
/// Most attributes on one request.
pub const ATTRIBUTES_MAX: usize = 16;
/// Longest attribute key, in bytes.
pub const ATTRIBUTE_KEY_LEN_MAX: usize = 32;
/// Longest attribute value, in bytes.
pub const ATTRIBUTE_VALUE_LEN_MAX: usize = 256;
/// Most lines in one reservation.
pub const LINES_MAX: usize = 32;
/// Most pools one offer draws from.
pub const DRAWS_MAX: usize = 8;
/// Most pools in one ledger.
pub const POOLS_MAX: usize = 100_000;
/// Most offers in one ledger.
pub const OFFERS_MAX: usize = 100_000;
/// Largest quantity on one line (units of an offer).
pub const LINE_QUANTITY_MAX: u64 = 1_000_000_000;
/// Largest amount one unit of an offer draws from one pool.
pub const DRAW_AMOUNT_MAX: u64 = u32::MAX as u64;
/// Largest pool capacity: the largest integer JavaScript holds exactly.
pub const CAPACITY_MAX: u64 = (1 << 53) - 1;
/// Longest hold: 366 days.
pub const HOLD_MS_MAX: u64 = 366 * 24 * 60 * 60 * 1000;
/// Latest timestamp accepted: 9999-12-31T23:59:59.999Z. Keeps `at + hold` far from overflow.
pub const TIMESTAMP_MAX: u64 = 253_402_300_799_999;
/// Hold duration used when neither the request nor the ledger says otherwise: 15 minutes.
pub const HOLD_MS_DEFAULT: u64 = 15 * 60 * 1000;
/// Most distinct customers a ledger will remember.
pub const CUSTOMERS_MAX: usize = u32::MAX as usize - 1;
/// Most distinct request ids a ledger will remember.
pub const REQUESTS_MAX: usize = u32::MAX as usize - 1;
/// Longest time zone name, in bytes (the longest IANA name has 32).
pub const TIME_ZONE_LEN_MAX: usize = 64;
/// Most characters of an input an error message quotes; a longer input is shown
/// as its first `QUOTE_CHARS_MAX` characters, `…` and its length in bytes.
pub const QUOTE_CHARS_MAX: usize = 64;
/// Longest error or catalog issue message, in bytes, after quoting is bounded
/// (a parser's message is cut here, with `…` and its length).
pub const MESSAGE_LEN_MAX: usize = 512;

/// Most consumers a ledger may have.
pub const CONSUMERS_MAX: usize = 64;
