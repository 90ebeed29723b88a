//! Model-based test: random command sequences go to the real [`Ledger`] and to
//! the reference model in `tests/model/` (written from `docs/SEMANTICS.md`
//! only). Outcomes, error codes, events and every query must agree, and the
//! ledger's own event stream must never show a promise beyond the capacity in
//! force at that moment.
//!
//! Two shapes of runs: raw `define_*` commands (no catalog), or a random small
//! catalog loaded with `load_catalog` (rules, windows, slots, channel shares),
//! sometimes changed mid-sequence. Before every reserve, `Ledger::preview` must
//! predict the real outcome.
//!
//! `PROPTEST_CASES=n` changes the number of cases (default 256).
//! `MODEL_READINGS=1` prints, per run, which reading the ledger took at the
//! open points of CATALOG.md (see `model::Amb`). `MODEL_STATS=1` prints one
//! `STAT` line per command (its outcome class), to check what the generator covers.
//!
//! The rooms: `auditor` (invariants rebuilt from the ledger's events alone),
//! `harness` (ledger and model side by side), `generators` (proptest
//! strategies), `cases` (the tests).
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // a test harness, not the core (core/clippy.toml)

// The model is shared with the other test targets (and the shell's), so it
// stays in `tests/model/` rather than moving into this target's folder.
#[path = "../model/mod.rs"]
mod model;

mod auditor;
mod cases;
mod generators;
mod harness;
