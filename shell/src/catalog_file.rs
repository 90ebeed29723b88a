//! Reading a catalog file: the one place a catalog comes from the file system.

use crate::{Catalog, CatalogError};
use std::path::Path;

/// Read a `.toml` or `.json` catalog file (by extension; anything else is read as
/// TOML). Errors name the file, and each issue its field and line.
///
/// ```
/// // Doctests run in shell/.
/// let catalog = kontingent::read_catalog("../examples/emstek-vouchers/catalog.toml").unwrap();
/// assert!(!catalog.pools.is_empty());
/// ```
pub fn read_catalog(path: impl AsRef<Path>) -> Result<Catalog, CatalogError> {
    let path = path.as_ref();
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| Catalog::unreadable(&file, e))?;
    Catalog::from_file_text(&text, &file)
}
