//! The brief's two stories as runnable, deterministic campaigns.
//!
//! - [`emstek`]: the restaurant-voucher opening rush (the main demo).
//! - [`pampanin`]: the ice-cream parlour's delivery launch.
//!
//! Each module has a `run(seed)` that replays its story against an embedded
//! [`kontingent::Ledger`] and returns a `Report`, which the binaries print and
//! `tests/stories.rs` checks. Nothing reads a clock or a random device: the same
//! seed gives the same commands, the same outcomes and the same state digest.

pub mod cli;
pub mod emstek;
pub mod pampanin;
pub mod sim;
