//! The native part of the Python package: `kontingent._kontingent`.
//!
//! Thin by rule: it converts between Python objects and the core's serde types
//! (via `pythonize`) and maps every error to `NativeError(code, message, details)`,
//! which the typed Python layer (`python/kontingent/`) turns into its exception
//! classes. No ledger logic lives here. The GIL is released while a command waits
//! for its group commit, so Python threads share fsyncs.

use kontingent::storage::MemoryStorage;
use kontingent::{
    Action, Catalog, CatalogError, Command, Durability, DurableLedger, Error, JournalError,
    LedgerError, Request, ReservationId, WaitEntryId,
};
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pythonize::{depythonize, pythonize};
use serde::Serialize;

create_exception!(_kontingent, NativeError, PyException);

fn native(_py: Python<'_>, code: &str, message: String, details: Bound<'_, PyAny>) -> PyErr {
    NativeError::new_err((code.to_owned(), message, details.unbind()))
}

fn empty(py: Python<'_>) -> Bound<'_, PyAny> {
    PyDict::new(py).into_any()
}

fn rejected(py: Python<'_>, e: &Error) -> PyErr {
    let details = match e {
        Error::InvalidCatalog { issues } => {
            let list: Vec<(String, String)> = issues
                .iter()
                .map(|i| (i.path.clone(), i.message.clone()))
                .collect();
            let d = PyDict::new(py);
            let _ = d.set_item("issues", list);
            d.into_any()
        }
        _ => empty(py),
    };
    native(py, e.code(), e.to_string(), details)
}

fn journal(py: Python<'_>, e: &JournalError) -> PyErr {
    let d = PyDict::new(py);
    if let JournalError::Corrupt { offset, .. } = e {
        let _ = d.set_item("offset", *offset);
    }
    native(py, e.code(), e.to_string(), d.into_any())
}

fn ledger_error(py: Python<'_>, e: &LedgerError) -> PyErr {
    match e {
        LedgerError::Rejected(e) => rejected(py, e),
        LedgerError::Journal(e) => journal(py, e),
    }
}

fn catalog_error(py: Python<'_>, e: &CatalogError) -> PyErr {
    let issues: Vec<(String, String, Option<usize>, Option<usize>)> = e
        .issues
        .iter()
        .map(|i| (i.path.clone(), i.message.clone(), i.line, i.column))
        .collect();
    let d = PyDict::new(py);
    let _ = d.set_item("file", e.file.clone());
    let _ = d.set_item("issues", issues);
    native(py, "invalid_catalog", e.to_string(), d.into_any())
}

fn bad_input(py: Python<'_>, what: &str, e: impl std::fmt::Display) -> PyErr {
    native(py, "invalid_input", format!("{what}: {e}"), empty(py))
}

fn to_py<T: Serialize>(py: Python<'_>, v: &T) -> PyResult<Py<PyAny>> {
    Ok(pythonize(py, v)
        .map_err(|e| bad_input(py, "result", e))?
        .unbind())
}

/// Either storage, behind one handle.
enum Inner {
    File(DurableLedger),
    Memory(DurableLedger<MemoryStorage>),
}

macro_rules! with {
    ($inner:expr, $l:ident => $body:expr) => {
        match $inner {
            Inner::File($l) => $body,
            Inner::Memory($l) => $body,
        }
    };
}

/// A ledger on a journal file, or in memory.
#[pyclass(frozen, module = "kontingent._kontingent")]
struct NativeLedger {
    inner: Inner,
}

fn durability(py: Python<'_>, name: &str) -> PyResult<Durability> {
    match name {
        "full" => Ok(Durability::Full),
        "buffered" => Ok(Durability::Buffered),
        "none" => Ok(Durability::None),
        other => Err(bad_input(
            py,
            "durability",
            format!("{other:?} is not one of full, buffered, none"),
        )),
    }
}

#[pymethods]
impl NativeLedger {
    /// Open a journal file (`path`) or an in-memory ledger (`path=None`).
    #[staticmethod]
    #[pyo3(signature = (path, durability_name))]
    fn open(py: Python<'_>, path: Option<String>, durability_name: &str) -> PyResult<Self> {
        let d = durability(py, durability_name)?;
        let inner = match path {
            Some(p) => Inner::File(
                py.detach(|| kontingent::Ledger::open(&p, d))
                    .map_err(|e| journal(py, &e))?,
            ),
            None => Inner::Memory(
                DurableLedger::open_storage(MemoryStorage::new(), d)
                    .map_err(|e| journal(py, &e))?
                    .0,
            ),
        };
        Ok(NativeLedger { inner })
    }

    /// Apply one command (a dict: `{"at": ms, "action": {...}}`, or `at=None` to
    /// stamp it when applied). Returns `{"outcome": ..., "events": [...]}`.
    fn submit(
        &self,
        py: Python<'_>,
        at: Option<u64>,
        action: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let action: Action = depythonize(action).map_err(|e| bad_input(py, "action", e))?;
        let result = py.detach(|| match at {
            Some(at) => with!(&self.inner, l => l.submit(Command::new(at, action))),
            None => with!(&self.inner, l => l.submit_now(action)),
        });
        let applied = result.map_err(|e| ledger_error(py, &e))?;
        let d = PyDict::new(py);
        d.set_item("outcome", to_py(py, &applied.outcome)?)?;
        d.set_item("events", to_py(py, &applied.events)?)?;
        Ok(d.into_any().unbind())
    }

    /// What a request would get at `at` (ms), without changing anything.
    fn preview(&self, py: Python<'_>, request: &Bound<'_, PyAny>, at: u64) -> PyResult<Py<PyAny>> {
        let request: Request = depythonize(request).map_err(|e| bad_input(py, "request", e))?;
        let r = with!(&self.inner, l => l.read(|l| l.preview(&request, at)));
        let outcome = r
            .map_err(|e| ledger_error(py, &e))?
            .map_err(|e| rejected(py, &e))?;
        to_py(py, &outcome)
    }

    /// A read-only query by name (`pool`, `pools`, `offer`, `offers`, `reservation`,
    /// `customer_usage`, `waitlist`, `wait_entry`, `snapshot`, `digest`, `seq`, `now`,
    /// `offer_available`, `why_unavailable`, `next_slots`, `paused`).
    #[pyo3(signature = (what, name=None, number=None, channel=None, at=None, count=None))]
    #[allow(clippy::too_many_arguments)]
    fn query(
        &self,
        py: Python<'_>,
        what: &str,
        name: Option<String>,
        number: Option<u64>,
        channel: Option<String>,
        at: Option<u64>,
        count: Option<usize>,
    ) -> PyResult<Py<PyAny>> {
        let name = name.unwrap_or_default();
        let channel = channel.unwrap_or_else(|| "web".to_owned());
        let n = number.unwrap_or(0);
        let value: Result<Result<serde_json::Value, Error>, LedgerError> = with!(&self.inner, l => l.read(|l| {
            let j = |v: serde_json::Result<serde_json::Value>| v.unwrap_or(serde_json::Value::Null);
            Ok(match what {
                "pool" => j(serde_json::to_value(l.pool(&name))),
                "pools" => j(serde_json::to_value(l.pools())),
                "offer" => j(serde_json::to_value(l.offer(&name))),
                "offers" => j(serde_json::to_value(l.offers())),
                "offer_available" => j(serde_json::to_value(l.offer_available_for(&name, &channel))),
                "reservation" => j(serde_json::to_value(l.reservation(ReservationId(n)))),
                "customer_usage" => j(serde_json::to_value(l.customer_usage(&name))),
                "waitlist" => j(serde_json::to_value(l.waitlist(&name))),
                "wait_entry" => j(serde_json::to_value(l.wait_entry(WaitEntryId(n)))),
                "snapshot" => j(serde_json::to_value(l.snapshot())),
                "digest" => serde_json::Value::String(l.digest().to_string()),
                "seq" => serde_json::Value::from(l.seq()),
                "now" => serde_json::Value::from(l.now()),
                "paused" => serde_json::Value::from(l.is_paused()),
                "why_unavailable" => j(serde_json::to_value(l.why_unavailable(&name, &channel, at.unwrap_or(l.now()))?)),
                "next_slots" => j(serde_json::to_value(l.next_slots(&name, at.unwrap_or(l.now()), &channel, count.unwrap_or(10))?)),
                other => return Err(Error::Misuse { field: format!("query {other:?}"), reason: "unknown query" }),
            })
        }));
        let value = value
            .map_err(|e| ledger_error(py, &e))?
            .map_err(|e| rejected(py, &e))?;
        to_py(py, &value)
    }

    /// Up to `limit` events after seq `after`, as dicts; as availability deltas
    /// (what a browser preview applies) if `deltas`.
    fn events_after(
        &self,
        py: Python<'_>,
        after: u64,
        limit: usize,
        deltas: bool,
    ) -> PyResult<Py<PyAny>> {
        let events = py
            .detach(|| with!(&self.inner, l => l.events_after(after, limit)))
            .map_err(|e| ledger_error(py, &e))?;
        if deltas {
            let d: Vec<kontingent::Delta> =
                events.iter().map(kontingent::Delta::from_event).collect();
            to_py(py, &d)
        } else {
            to_py(py, &events)
        }
    }

    /// Write a checkpoint beside the journal; returns the records it covers.
    fn checkpoint(&self, py: Python<'_>) -> PyResult<u64> {
        match &self.inner {
            Inner::File(l) => py
                .detach(|| l.checkpoint())
                .map_err(|e| ledger_error(py, &e)),
            Inner::Memory(_) => Err(bad_input(
                py,
                "checkpoint",
                "an in-memory ledger has no journal file",
            )),
        }
    }

    /// Retire the journal's records into a base state; returns
    /// `(records retired, bytes before, bytes after)`.
    fn compact(&self, py: Python<'_>) -> PyResult<(u64, u64, u64)> {
        match &self.inner {
            Inner::File(l) => py
                .detach(|| l.compact())
                .map(|c| (c.records, c.bytes_before, c.bytes_after))
                .map_err(|e| ledger_error(py, &e)),
            Inner::Memory(_) => Err(bad_input(
                py,
                "compact",
                "an in-memory ledger has no journal file",
            )),
        }
    }

    /// What recovery found on open: `(records, torn_bytes, torn_records, from_checkpoint)`.
    fn recovery(&self) -> (u64, u64, u64, Option<u64>) {
        let r = with!(&self.inner, l => l.recovery().clone());
        (r.records, r.torn_bytes, r.torn_records, r.from_checkpoint)
    }

    fn is_poisoned(&self) -> bool {
        with!(&self.inner, l => l.is_poisoned())
    }
}

/// Compile a catalog (`format` is `toml` or `json`); returns the compiled catalog as a dict.
#[pyfunction]
fn compile_catalog(py: Python<'_>, text: &str, format: &str, file: &str) -> PyResult<Py<PyAny>> {
    let c = match format {
        "toml" => Catalog::from_toml_str(text, file),
        "json" => Catalog::from_json_str(text, file),
        other => {
            return Err(bad_input(
                py,
                "format",
                format!("{other:?} is not toml or json"),
            ))
        }
    }
    .map_err(|e| catalog_error(py, &e))?;
    to_py(py, &c)
}

/// Every error code the native module can raise, for the binding's own tests.
#[pyfunction]
fn error_codes() -> Vec<&'static str> {
    let mut codes = Error::ALL_CODES.to_vec();
    codes.extend([
        "io",
        "bad_header",
        "journal_corrupted",
        "poisoned",
        "invalid_catalog",
        "invalid_input",
    ]);
    codes
}

#[pymodule]
fn _kontingent(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<NativeLedger>()?;
    m.add_function(wrap_pyfunction!(compile_catalog, m)?)?;
    m.add_function(wrap_pyfunction!(error_codes, m)?)?;
    m.add("NativeError", m.py().get_type::<NativeError>())?;
    Ok(())
}
