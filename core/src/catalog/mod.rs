//! Catalogs: a campaign described in a file, compiled into the form the ledger logs.
//!
//! See `docs/CATALOG.md`. A file (TOML or JSON) is parsed and validated by
//! [`Catalog::from_toml_str`], [`Catalog::from_json_str`] or [`Catalog::from_file_text`] (the shell reads files: `kontingent::read_catalog`);
//! errors name the field path and the line and column. The result, a [`Catalog`],
//! holds only absolute instants and explicit pools and offers (slot templates
//! expanded), so the ledger and the browser preview never need a time-zone database.

mod check;
mod file;
mod locate;
mod slots;

pub use check::Issue;

use crate::command::{Draw, Millis, WaitlistPolicy};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::Path;

/// A compiled campaign: what `Action::LoadCatalog` carries and the journal logs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalog {
    #[serde(default)]
    pub name: String,
    /// IANA name the file's local times were read in (informational once compiled).
    #[serde(default)]
    pub time_zone: Option<String>,
    pub default_hold_ms: u64,
    /// Channels requests may use.
    pub channels: Vec<String>,
    /// The campaign's sales window.
    #[serde(default)]
    pub window: Window,
    pub pools: Vec<PoolSpec>,
    pub offers: Vec<OfferSpec>,
    #[serde(default)]
    pub rules: Vec<RuleSpec>,
}

/// A sales window `[opens_at, closes_at)`; either end may be open.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    #[serde(default)]
    pub opens_at: Option<Millis>,
    #[serde(default)]
    pub closes_at: Option<Millis>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolSpec {
    pub name: String,
    pub capacity: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferSpec {
    pub name: String,
    /// Price of one unit in minor units (cents).
    #[serde(default)]
    pub price: u64,
    pub draws: Vec<Draw>,
    #[serde(default)]
    pub waitlist: WaitlistPolicy,
    #[serde(default)]
    pub window: Window,
    /// Set for offers generated from a slot template.
    #[serde(default)]
    pub slot: Option<Slot>,
}

/// One generated delivery slot, in absolute instants.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    /// The template's name.
    pub template: String,
    pub starts_at: Millis,
    pub ends_at: Millis,
    /// Requests after `starts_at - lead_ms` are refused `lead_time`.
    #[serde(default)]
    pub lead_ms: Option<u64>,
    /// Requests at or after this instant (the cut-off time on the slot's local
    /// date) are refused `same_day_cutoff`.
    #[serde(default)]
    pub cutoff_at: Option<Millis>,
}

/// An order-intake rule and the offers it applies to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleSpec {
    pub name: String,
    /// Offer names the rule applies to; empty means every offer.
    #[serde(default)]
    pub offers: Vec<String>,
    #[serde(flatten)]
    pub kind: RuleKind,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RuleKind {
    /// Held + confirmed, plus this request, must stay within `limit`.
    CustomerLimit {
        limit: Limit,
        /// Count each scoped offer separately (units and value limits only).
        #[serde(default)]
        per_offer: bool,
    },
    OrderSize {
        #[serde(default)]
        min_units: Option<u64>,
        #[serde(default)]
        max_units: Option<u64>,
    },
    MinOrderValue {
        value: u64,
    },
    AllowedValues {
        attribute: String,
        values: Vec<String>,
    },
    /// `keep` units of `pool` are kept for `channel`.
    ChannelShare {
        pool: String,
        channel: String,
        keep: u64,
    },
}

/// What a customer limit measures.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Limit {
    /// Units of the scoped offers.
    Units(u64),
    /// Price × units of the scoped offers, in minor units.
    Value(u64),
    /// Amount drawn from one pool.
    PoolAmount { pool: String, amount: u64 },
}

/// Why a catalog file could not be loaded: every problem found, each with its
/// field path and, where known, its line and column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CatalogError {
    pub file: String,
    pub issues: Vec<Located>,
}

/// One problem in a catalog file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located {
    /// e.g. `offers[3].draws.budegt`; empty for the whole file.
    pub path: String,
    pub message: String,
    /// 1-based line and column, where the file has the field.
    pub line: Option<usize>,
    pub column: Option<usize>,
}

impl fmt::Display for Located {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl fmt::Display for CatalogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, issue) in self.issues.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{issue}")?;
            match (issue.line, issue.column) {
                (Some(l), Some(c)) => write!(f, " ({}:{l}:{c})", self.file)?,
                _ => write!(f, " ({})", self.file)?,
            }
        }
        Ok(())
    }
}

impl std::error::Error for CatalogError {}

/// The file formats a catalog may be written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Toml,
    Json,
}

impl Catalog {
    /// Parse, validate and compile a TOML catalog. `file` names it in errors.
    ///
    /// ```
    /// let catalog = kontingent_core::Catalog::from_toml_str(r#"
    /// hold = "10m"
    /// [[pools]]
    /// name = "zur-post"
    /// capacity = 40
    /// [[offers]]
    /// name = "voucher"
    /// draws = { zur-post = 1 }
    /// "#, "catalog.toml").unwrap();
    /// assert_eq!(catalog.default_hold_ms, 600_000);
    ///
    /// let err = kontingent_core::Catalog::from_toml_str(r#"
    /// [[pools]]
    /// name = "budget"
    /// capacity = 100
    /// [[offers]]
    /// name = "voucher"
    /// draws = { budegt = 20 }
    /// "#, "catalog.toml").unwrap_err();
    /// assert_eq!(err.to_string(), r#"offers[0].draws.budegt: unknown pool "budegt" (catalog.toml:7:11)"#);
    /// ```
    pub fn from_toml_str(text: &str, file: &str) -> Result<Catalog, CatalogError> {
        file::compile(text, Format::Toml, file)
    }

    /// Parse, validate and compile a JSON catalog (the same schema as TOML).
    pub fn from_json_str(text: &str, file: &str) -> Result<Catalog, CatalogError> {
        file::compile(text, Format::Json, file)
    }

    /// Parse, validate and compile the text of the file named `file`: JSON if the
    /// name ends in `.json`, TOML otherwise. (Reading the file is the shell's job:
    /// `kontingent::read_catalog`.)
    pub fn from_file_text(text: &str, file: &str) -> Result<Catalog, CatalogError> {
        let format = match Path::new(file).extension().and_then(|e| e.to_str()) {
            Some("json") => Format::Json,
            _ => Format::Toml,
        };
        file::compile(text, format, file)
    }

    /// The error for a catalog file that could not be read (`reason`: why).
    pub fn unreadable(file: &str, reason: impl fmt::Display) -> CatalogError {
        CatalogError {
            file: file.to_owned(),
            issues: vec![Located {
                path: String::new(),
                message: format!("cannot read the file: {reason}"),
                line: None,
                column: None,
            }],
        }
    }

    /// Every problem of an already compiled catalog (as received by the ledger),
    /// with paths into this compiled form. Empty when it is valid.
    pub fn check(&self) -> Vec<Issue> {
        check::check(self)
    }
}
