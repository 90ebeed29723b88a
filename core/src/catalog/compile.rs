//! The compiler's front door: a [`Catalog`] from a file's text, or every problem
//! in it, each placed at its field path and, where the file has it, its line and
//! column.
//!
//! Callers (the shell's `read_catalog`, the bindings, tests) meet only these entry
//! points and errors; how a file is parsed (`file.rs`), expanded (`slots.rs`),
//! checked (`check.rs`) and located (`locate.rs`) stays behind them.

use super::{check, file};
use crate::model::{Catalog, Issue};
use std::fmt;
use std::path::Path;

/// Why a catalog file could not be loaded: every problem found, each with its
/// field path and, where known, its line and column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CatalogError {
    /// The file name as given to the compiler; each issue is shown with it.
    pub file: String,
    /// Every problem found, in the order found (at least one).
    pub issues: Vec<Located>,
}

/// One problem in a catalog file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located {
    /// e.g. `offers[3].draws.budegt`; empty for the whole file.
    pub path: String,
    /// What is wrong, e.g. `unknown pool "budegt"`.
    pub message: String,
    /// 1-based line, where the file has the field (`None` when it does not).
    pub line: Option<usize>,
    /// 1-based column on `line`, set together with it.
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
    /// TOML: what a file name not ending in `.json` is read as.
    Toml,
    /// JSON, for a file name ending in `.json`.
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
