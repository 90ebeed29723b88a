//! The cases: one property over random runs, and hand-written scenarios from
//! SEMANTICS.md and CATALOG.md (those from CATALOG.md one per rule, at its
//! boundaries). The `model_*` tests check the oracle itself against the text;
//! the `ledger_*` tests run the same commands through the harness (ledger vs
//! model, all queries and previews checked).

mod catalog_change;
mod open_points;
mod random;
mod rules;
mod scenario;
mod semantics;
mod waitlists;
mod windows;
