//! Every error a shell can raise as one shape: a stable snake_case code, a
//! message for people, and machine-readable details. Python, JavaScript and the
//! server build their exceptions and bodies from it, so the codes are the same
//! everywhere, and [`ALL_CODES`] is the list each binding's tests compare with.

use crate::{CatalogError, DeltaError, DurableError, Error, JournalError};
use serde::Serialize;
use serde_json::{json, Map, Value};

/// The journal's codes ([`JournalError::code`]; [`DurableError`] adds none).
const JOURNAL_CODES: &[&str] = &["io", "bad_header", "journal_corrupted", "poisoned"];
/// The browser mirror's ([`DeltaError::code`]).
const DELTA_CODES: &[&str] = &[
    "delta_gap",
    "delta_replayed",
    "delta_unknown_pool",
    "delta_out_of_order",
    "delta_out_of_range",
];
/// The host's own: a value of the wrong type or shape, before any command; a
/// journal another process holds where no shared lock exists (Node has no
/// flock: its binding takes a journal for one process, `js/lock.mjs`); and a
/// bug of kontingent's own (an answer missing), which no input should cause.
const HOST_CODES: &[&str] = &["invalid_input", "journal_locked", "internal"];

/// Every code an [`ErrorInfo`] can carry: the core's [`Error::ALL_CODES`], then
/// the journal's, the browser mirror's delta errors, and the host's own (one of
/// which, `journal_locked`, only the Node binding raises).
pub const ALL_CODES: &[&str] = &concat::<
    { Error::ALL_CODES.len() + JOURNAL_CODES.len() + DELTA_CODES.len() + HOST_CODES.len() },
>(&[Error::ALL_CODES, JOURNAL_CODES, DELTA_CODES, HOST_CODES]);

const fn concat<const N: usize>(parts: &[&[&'static str]]) -> [&'static str; N] {
    let mut out = [""; N];
    let (mut n, mut k) = (0, 0);
    while k < parts.len() {
        let mut j = 0;
        while j < parts[k].len() {
            out[n] = parts[k][j];
            n += 1;
            j += 1;
        }
        k += 1;
    }
    out
}

/// An error as every binding reports it.
///
/// ```
/// use kontingent::host::ErrorInfo;
/// let e = ErrorInfo::invalid_input("durability", "\"fast\" is not one of full, buffered, none");
/// assert_eq!(e.code, "invalid_input");
/// assert_eq!(e.message, "durability: \"fast\" is not one of full, buffered, none");
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ErrorInfo {
    /// Stable snake_case, one of [`ALL_CODES`].
    pub code: &'static str,
    /// For people; not stable, do not match on it.
    pub message: String,
    /// Machine-readable details: `offset` of a corrupted record, `issues` of a bad
    /// catalog (each `{path, message, line, column}`); empty otherwise.
    pub details: Map<String, Value>,
}

impl ErrorInfo {
    fn new(code: &'static str, message: String) -> Self {
        ErrorInfo {
            code,
            message,
            details: Map::new(),
        }
    }

    fn with(mut self, key: &str, value: Value) -> Self {
        self.details.insert(key.to_owned(), value);
        self
    }

    /// A value a binding could not convert: `field` names it, `problem` says why.
    pub fn invalid_input(field: &str, problem: impl std::fmt::Display) -> Self {
        Self::new("invalid_input", format!("{field}: {problem}"))
    }

    /// A number outside what `field` accepts.
    pub fn out_of_range(field: &str, value: impl std::fmt::Display) -> Self {
        Self::new("out_of_range", format!("{field}: {value} is out of range"))
    }
}

fn issue(path: &str, message: &str, line: Option<usize>, column: Option<usize>) -> Value {
    json!({ "path": path, "message": message, "line": line, "column": column })
}

impl From<&Error> for ErrorInfo {
    fn from(e: &Error) -> Self {
        let info = Self::new(e.code(), e.to_string());
        match e {
            Error::InvalidCatalog { issues } => info.with(
                "issues",
                issues
                    .iter()
                    .map(|i| issue(&i.path, &i.message, None, None))
                    .collect(),
            ),
            _ => info,
        }
    }
}

impl From<&JournalError> for ErrorInfo {
    fn from(e: &JournalError) -> Self {
        let info = Self::new(e.code(), e.to_string());
        match e {
            JournalError::Corrupt { offset, .. } => info.with("offset", json!(offset)),
            _ => info,
        }
    }
}

impl From<&DurableError> for ErrorInfo {
    fn from(e: &DurableError) -> Self {
        match e {
            DurableError::Rejected(e) => e.into(),
            DurableError::Journal(e) => e.into(),
        }
    }
}

impl From<&CatalogError> for ErrorInfo {
    fn from(e: &CatalogError) -> Self {
        Self::new("invalid_catalog", e.to_string())
            .with("file", json!(e.file))
            .with(
                "issues",
                e.issues
                    .iter()
                    .map(|i| issue(&i.path, &i.message, i.line, i.column))
                    .collect(),
            )
    }
}

impl From<&DeltaError> for ErrorInfo {
    fn from(e: &DeltaError) -> Self {
        Self::new(e.code(), e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PoolId;

    /// One of each variant, matched without a wildcard: a new variant does not
    /// compile until it is listed here, and then its code must be in ALL_CODES.
    fn every_journal_error() -> Vec<JournalError> {
        let all = vec![
            JournalError::Io(std::io::Error::other("x")),
            JournalError::BadHeader { reason: "x".into() },
            JournalError::Corrupt {
                offset: 64,
                reason: "x".into(),
            },
            JournalError::Poisoned { cause: "x".into() },
        ];
        for e in &all {
            match e {
                JournalError::Io(_)
                | JournalError::BadHeader { .. }
                | JournalError::Corrupt { .. }
                | JournalError::Poisoned { .. } => {}
            }
        }
        all
    }

    fn every_delta_error() -> Vec<DeltaError> {
        let all = vec![
            DeltaError::Gap { at: 1, got: 3 },
            DeltaError::Replayed { at: 2, got: 1 },
            DeltaError::UnknownPool {
                seq: 1,
                pool: PoolId(1),
            },
            DeltaError::OutOfOrder {
                seq: 1,
                what: "pool",
                id: 1,
            },
            DeltaError::OutOfRange {
                seq: 1,
                pool: PoolId(1),
            },
        ];
        for e in &all {
            match e {
                DeltaError::Gap { .. }
                | DeltaError::Replayed { .. }
                | DeltaError::UnknownPool { .. }
                | DeltaError::OutOfOrder { .. }
                | DeltaError::OutOfRange { .. } => {}
            }
        }
        all
    }

    #[test]
    fn all_codes_is_every_code_once() {
        let mut produced: Vec<&str> = Error::ALL_CODES.to_vec();
        produced.extend(
            every_journal_error()
                .iter()
                .map(|e| ErrorInfo::from(e).code),
        );
        produced.extend(every_delta_error().iter().map(|e| ErrorInfo::from(e).code));
        produced.push(ErrorInfo::invalid_input("f", "x").code);
        produced.push(ErrorInfo::out_of_range("f", 1).code);
        produced.push("journal_locked"); // raised in JavaScript (bindings-wasm/js/lock.mjs)
        produced.push("internal"); // raised where an answer is missing: a bug
        produced.sort_unstable();
        produced.dedup();
        let mut listed = ALL_CODES.to_vec();
        listed.sort_unstable();
        let before = listed.len();
        listed.dedup();
        assert_eq!(before, listed.len(), "a code is listed twice");
        assert_eq!(produced, listed);
    }

    #[test]
    fn semantics_md_lists_every_code() {
        let doc = include_str!("../../../docs/SEMANTICS.md");
        let table = &doc[doc.find("## Error codes").expect("the section")..];
        let mut documented: Vec<&str> = table
            .lines()
            .filter_map(|l| l.strip_prefix("| `")?.split('`').next())
            .collect();
        documented.sort_unstable();
        let mut codes = ALL_CODES.to_vec();
        codes.sort_unstable();
        assert_eq!(documented, codes);
    }

    #[test]
    fn a_corrupted_journal_names_its_offset() {
        let e = JournalError::Corrupt {
            offset: 4615,
            reason: "bad record length 0".into(),
        };
        let info = ErrorInfo::from(&DurableError::Journal(e));
        assert_eq!(info.code, "journal_corrupted");
        assert_eq!(info.details["offset"], json!(4615));
        assert!(info.message.contains("4615"), "{}", info.message);
    }
}
