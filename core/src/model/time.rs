//! Time, as the commands carry it.
//!
//! The machine reads no clock: every instant it knows arrived inside a command, so
//! replaying the same commands reaches the same instants. This room is the one
//! spelling of that instant for every other room (commands, catalogs, events).

/// Milliseconds since the Unix epoch, UTC. The ledger never reads a clock:
/// time is whatever the commands say, and it never goes backwards.
pub type Millis = u64;
