//! What every binding and the server need from the shell, written once: one
//! ledger handle over any storage ([`HostLedger`]), when a command or query
//! happens ([`At`]), durability from its name, the read-only queries as a typed
//! enum with one set of names ([`Query`]), and every error as a code, a message
//! and details ([`ErrorInfo`], [`ALL_CODES`]), and what a consumer of the event
//! stream is given ([`Delivery`]).
//!
//! A binding converts its language's values to these types and back; nothing in
//! here decides anything the core does not (rule 1 of the engineering rules).

mod consume;
mod error_info;
mod handle;
mod query;

pub use consume::{ledger_hex, Delivery, Notification, CONSUME_LIMIT_MAX};
pub use error_info::{ErrorInfo, ALL_CODES};
pub use handle::{durability_from_name, At, HostLedger, DURABILITY_NAMES};
pub use query::{Query, QueryArgs};
