//! Catalogs: a campaign described in a file, compiled into the form the ledger logs.
//!
//! See `docs/CATALOG.md`. A file (TOML or JSON) is parsed and validated by
//! [`Catalog::from_toml_str`], [`Catalog::from_json_str`] or [`Catalog::from_file_text`] (the shell reads files: `kontingent::read_catalog`);
//! errors name the field path and the line and column. The result, a [`Catalog`],
//! holds only absolute instants and explicit pools and offers (slot templates
//! expanded), so the ledger and the browser preview never need a time-zone database.
//!
//! The compiled form itself is vocabulary (`crate::model`, re-exported here under
//! its old paths); this room is the compiler and the checks, and depends on it.

mod check;
mod compile;
mod file;
mod locate;
mod read;
mod slots;

pub use crate::model::{
    Catalog, ConsumerSpec, Issue, Limit, OfferSpec, PoolSpec, RuleKind, RuleSpec, SalesWindow, Slot,
};
pub use compile::{CatalogError, Format, Located};
