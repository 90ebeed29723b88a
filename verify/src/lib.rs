//! Checks that a kontingent ledger is linearizable, from the outside.
//!
//! - [`history`]: record what concurrent clients asked and when the answers
//!   came, from many threads or processes; exchange histories as JSON lines.
//! - [`linearizability`]: a generic Wing–Gong–Lowe checker over a sequential
//!   specification, with per-partition (P-compositional) checking.
//! - [`quota`]: the ledger's specification as the concurrent harness uses it,
//!   written from `docs/SEMANTICS.md` alone.
//! - [`harness`]: run seeded random clients against real ledgers, record the
//!   history, and check it both by search and against the ledger's own log.

pub mod harness;
pub mod history;
pub mod linearizability;
pub mod quota;

pub use history::{History, Operation, Recorder, Token};
pub use linearizability::{check, Config, Spec, Stats, Verdict, Violation};
