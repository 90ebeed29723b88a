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
    DurableError, Outcome, Request, ReservationId, Timing, WaitEntryId,
};
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use pythonize::{depythonize, pythonize};
use serde::Serialize;

create_exception!(_kontingent, NativeError, PyException);

/// The exception for `code`, made by `kontingent.errors.error` (the one place every
/// kontingent exception is made, so Python needs no wrapper around native calls);
/// `NativeError` only if that module cannot be imported.
fn native(py: Python<'_>, code: &str, message: String, details: Bound<'_, PyAny>) -> PyErr {
    static ERROR: pyo3::sync::PyOnceLock<Py<PyAny>> = pyo3::sync::PyOnceLock::new();
    let made = ERROR
        .get_or_try_init(py, || {
            py.import("kontingent.errors")?
                .getattr("error")
                .map(Bound::unbind)
        })
        .and_then(|f| f.bind(py).call1((code, &message, &details)));
    match made {
        Ok(e) => PyErr::from_value(e),
        Err(_) => NativeError::new_err((code.to_owned(), message, details.unbind())),
    }
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

fn ledger_error(py: Python<'_>, e: &DurableError) -> PyErr {
    match e {
        DurableError::Rejected(e) => rejected(py, e),
        DurableError::Journal(e) => journal(py, e),
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

/// A Python string argument, or an `invalid_input` error naming it.
fn py_str(py: Python<'_>, what: &str, v: &Bound<'_, PyAny>) -> PyResult<String> {
    v.extract::<String>()
        .map_err(|_| bad_input(py, what, format!("expected a str, got {}", type_name(v))))
}

fn type_name(v: &Bound<'_, PyAny>) -> String {
    v.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into())
}

/// A whole number in `0 ..= u64::MAX` (not a bool), or an error naming it.
fn py_u64(py: Python<'_>, what: &str, v: &Bound<'_, PyAny>) -> PyResult<u64> {
    if v.is_instance_of::<pyo3::types::PyBool>() || !v.is_instance_of::<pyo3::types::PyInt>() {
        return Err(bad_input(
            py,
            what,
            format!("expected a whole number, got {}", type_name(v)),
        ));
    }
    v.extract::<u64>().map_err(|_| {
        native(
            py,
            "out_of_range",
            format!("{what}: {v} is out of range"),
            empty(py),
        )
    })
}

fn opt_u64(py: Python<'_>, what: &str, v: &Bound<'_, PyAny>) -> PyResult<Option<u64>> {
    if v.is_none() {
        Ok(None)
    } else {
        py_u64(py, what, v).map(Some)
    }
}

/// A reserve request from Python arguments, checked field by field.
#[allow(clippy::too_many_arguments)]
fn request_from(
    py: Python<'_>,
    request_id: &Bound<'_, PyAny>,
    customer: &Bound<'_, PyAny>,
    lines: &Bound<'_, PyAny>,
    channel: &Bound<'_, PyAny>,
    attributes: &Bound<'_, PyAny>,
    hold_ms: &Bound<'_, PyAny>,
    confirm: bool,
    up_to: bool,
    waitlist: bool,
) -> PyResult<Request> {
    let mut parsed = Vec::new();
    let mut line = |offer: &Bound<'_, PyAny>, quantity: &Bound<'_, PyAny>| -> PyResult<()> {
        parsed.push(kontingent::LineRequest {
            offer: py_str(py, "line offer", offer)?,
            quantity: py_u64(py, "line quantity", quantity)?,
        });
        Ok(())
    };
    if let Ok(d) = lines.cast::<PyDict>() {
        for (offer, quantity) in d.iter() {
            line(&offer, &quantity)?;
        }
    } else if lines.is_instance_of::<pyo3::types::PyString>() {
        return Err(bad_input(
            py,
            "lines",
            "expected a dict or pairs, got a str",
        ));
    } else {
        let items = lines.try_iter().map_err(|_| {
            bad_input(
                py,
                "lines",
                format!("expected a dict or pairs, got {}", type_name(lines)),
            )
        })?;
        for item in items {
            let (offer, quantity): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item?
                .extract()
                .map_err(|_| bad_input(py, "lines", "each line is a pair (offer, quantity)"))?;
            line(&offer, &quantity)?;
        }
    }
    let mut attrs = std::collections::BTreeMap::new();
    if !attributes.is_none() {
        let d = attributes.cast::<PyDict>().map_err(|_| {
            bad_input(
                py,
                "attributes",
                format!("expected a dict, got {}", type_name(attributes)),
            )
        })?;
        for (k, v) in d.iter() {
            attrs.insert(
                py_str(py, "attribute name", &k)?,
                py_str(py, "attribute value", &v)?,
            );
        }
    }
    Ok(Request {
        request_id: py_str(py, "request_id", request_id)?,
        customer: py_str(py, "customer", customer)?,
        channel: py_str(py, "channel", channel)?,
        attributes: attrs,
        lines: parsed,
        hold_ms: opt_u64(py, "hold", hold_ms)?,
        confirm,
        up_to,
        waitlist,
    })
}

/// An outcome as a tuple the Python layer turns into its dataclass; the two
/// promises without a dict, the rest through the generic conversion.
fn outcome_tuple(py: Python<'_>, o: &Outcome) -> PyResult<Py<PyAny>> {
    use pyo3::IntoPyObjectExt;
    match o {
        Outcome::Held {
            reservation,
            expires_at,
            units,
        } => ("held", reservation.0, *expires_at, *units).into_py_any(py),
        Outcome::Confirmed { reservation, units } => {
            ("confirmed", reservation.0, *units).into_py_any(py)
        }
        other => ("other", to_py(py, other)?).into_py_any(py),
    }
}

/// Either storage, behind one handle.
enum Inner {
    File(DurableLedger),
    Memory(DurableLedger<MemoryStorage>),
    // Boxed: a PostgreSQL client is large, and this handle is made once.
    Postgres(Box<DurableLedger<kontingent_pg::PgStorage>>),
}

macro_rules! with {
    ($inner:expr, $l:ident => $body:expr) => {
        match $inner {
            Inner::File($l) => $body,
            Inner::Memory($l) => $body,
            Inner::Postgres($l) => $body,
        }
    };
}

/// One command: at exactly `at`, at a clock reading `at` (`clocked`), or, without
/// `at`, stamped by the ledger's own (system) clock.
fn submit_one<S: kontingent::storage::Storage>(
    l: &DurableLedger<S>,
    at: Option<u64>,
    clocked: bool,
    action: Action,
) -> Result<kontingent::Applied, DurableError> {
    match (at, clocked) {
        (None, _) => l.submit_now(action),
        (Some(at), false) => l.submit(Command::new(at, action)),
        (Some(at), true) => l.submit_timed(Command::new(at, action), Timing::Clock),
    }
}

/// A query's time and how it resolves against the ledger's own (`Timing::resolve`):
/// exact, a clock reading from Python (`clocked`), or, without `at`, this ledger's clock.
fn reading<S: kontingent::storage::Storage>(
    l: &DurableLedger<S>,
    at: Option<u64>,
    clocked: bool,
) -> (u64, Timing) {
    match (at, clocked) {
        (Some(at), false) => (at, Timing::Exact),
        (Some(at), true) => (at, Timing::Clock),
        (None, _) => (l.clock().now_ms(), Timing::Clock),
    }
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
    /// Open a journal file (`path`), the log of ledger `ledger` in PostgreSQL
    /// (`path` a `postgresql://` URL), or an in-memory ledger (`path=None`).
    #[staticmethod]
    #[pyo3(signature = (path, durability_name, ledger="default"))]
    fn open(
        py: Python<'_>,
        path: Option<String>,
        durability_name: &str,
        ledger: &str,
    ) -> PyResult<Self> {
        let d = durability(py, durability_name)?;
        let inner = match path {
            Some(url) if url.starts_with("postgresql://") || url.starts_with("postgres://") => {
                let opened = py.detach(|| {
                    kontingent_pg::PgStorage::connect(&url, ledger)
                        .map_err(kontingent::JournalError::from)
                        .and_then(|s| DurableLedger::open_storage(s, d))
                });
                Inner::Postgres(Box::new(opened.map_err(|e| journal(py, &e))?.0))
            }
            Some(p) => Inner::File(
                py.detach(|| kontingent::open(&p, d))
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

    /// Apply one command at `at` (ms): exactly at it, or, if `clocked`, at that
    /// clock reading or the ledger's time if later; `at=None` stamps it with the
    /// native system clock. Returns the outcome as `reserve` does.
    #[pyo3(signature = (at, action, clocked=false))]
    fn submit(
        &self,
        py: Python<'_>,
        at: Option<u64>,
        action: &Bound<'_, PyAny>,
        clocked: bool,
    ) -> PyResult<Py<PyAny>> {
        let action: Action = depythonize(action).map_err(|e| bad_input(py, "action", e))?;
        let result = py.detach(|| with!(&self.inner, l => submit_one(l, at, clocked, action)));
        let applied = result.map_err(|e| ledger_error(py, &e))?;
        outcome_tuple(py, &applied.outcome)
    }

    /// The hot path of `Ledger.reserve`: arguments extracted directly (no dict
    /// round trip), the outcome as a tuple `("held", reservation, expires_at, units)`,
    /// `("confirmed", reservation, units)`, or `(status, outcome dict)` otherwise.
    #[pyo3(signature = (request_id, customer, lines, channel, attributes, hold_ms, confirm, up_to, waitlist, at, clocked=false))]
    #[allow(clippy::too_many_arguments)]
    fn reserve(
        &self,
        py: Python<'_>,
        request_id: &Bound<'_, PyAny>,
        customer: &Bound<'_, PyAny>,
        lines: &Bound<'_, PyAny>,
        channel: &Bound<'_, PyAny>,
        attributes: &Bound<'_, PyAny>,
        hold_ms: &Bound<'_, PyAny>,
        confirm: bool,
        up_to: bool,
        waitlist: bool,
        at: &Bound<'_, PyAny>,
        clocked: bool,
    ) -> PyResult<Py<PyAny>> {
        let request = request_from(
            py, request_id, customer, lines, channel, attributes, hold_ms, confirm, up_to, waitlist,
        )?;
        let at: Option<u64> = opt_u64(py, "at", at)?;
        let action = Action::Reserve(request);
        let result = match &self.inner {
            Inner::File(l) => py.detach(|| submit_one(l, at, clocked, action)),
            Inner::Postgres(l) => py.detach(|| submit_one(l.as_ref(), at, clocked, action)),
            // Nothing to wait for but the ledger's own lock, which never needs the GIL.
            Inner::Memory(l) => submit_one(l, at, clocked, action),
        };
        let applied = result.map_err(|e| ledger_error(py, &e))?;
        outcome_tuple(py, &applied.outcome)
    }

    /// Many `reserve` argument tuples `(request_id, customer, lines, channel,
    /// attributes, hold_ms, confirm, up_to, waitlist)` as one batch: one journal
    /// write and sync. Each answer is an outcome tuple (as `reserve`) or a
    /// `NativeError` instance (not raised).
    #[pyo3(signature = (at, requests, clocked=false))]
    fn reserve_many(
        &self,
        py: Python<'_>,
        at: &Bound<'_, PyAny>,
        requests: &Bound<'_, PyList>,
        clocked: bool,
    ) -> PyResult<Py<PyList>> {
        let at: Option<u64> = opt_u64(py, "at", at)?;
        let mut errors: Vec<Option<PyErr>> = Vec::with_capacity(requests.len());
        let mut good = Vec::with_capacity(requests.len());
        for r in requests.iter() {
            let parsed = (|| -> PyResult<Request> {
                let t = r.cast::<pyo3::types::PyTuple>().map_err(|_| {
                    bad_input(
                        py,
                        "request",
                        "each request is a tuple of reserve's arguments",
                    )
                })?;
                if t.len() != 9 {
                    return Err(bad_input(py, "request", "a request tuple has 9 items"));
                }
                let g = |i: usize| t.get_item(i);
                request_from(
                    py,
                    &g(0)?,
                    &g(1)?,
                    &g(2)?,
                    &g(3)?,
                    &g(4)?,
                    &g(5)?,
                    g(6)?.is_truthy()?,
                    g(7)?.is_truthy()?,
                    g(8)?.is_truthy()?,
                )
            })();
            match parsed {
                Ok(req) => {
                    good.push(Action::Reserve(req));
                    errors.push(None);
                }
                Err(e) => errors.push(Some(e)),
            }
        }
        let timing = if clocked {
            Timing::Clock
        } else {
            Timing::Exact
        };
        let applied = py.detach(|| match at {
            Some(at) => with!(&self.inner, l => l.submit_batch_timed(good.into_iter().map(|a| (Command::new(at, a), timing)).collect())),
            None => with!(&self.inner, l => l.submit_batch_now(good)),
        });
        let mut applied = applied.into_iter();
        let out = PyList::empty(py);
        for e in errors {
            let item = match e {
                Some(err) => err.into_value(py).into_any(),
                None => match applied.next() {
                    Some(Ok(a)) => outcome_tuple(py, &a.outcome)?,
                    Some(Err(e)) => ledger_error(py, &e).into_value(py).into_any(),
                    None => bad_input(py, "batch", "an answer is missing")
                        .into_value(py)
                        .into_any(),
                },
            };
            out.append(item)?;
        }
        Ok(out.unbind())
    }

    /// What `reserve` with these arguments would get at `at` (ms; `None`: now, as
    /// `reserve` would stamp it; `clocked`: `at` is a clock reading), without
    /// changing anything. Answers as `reserve` does.
    #[pyo3(signature = (request_id, customer, lines, channel, attributes, hold_ms, confirm, up_to, waitlist, at, clocked=false))]
    #[allow(clippy::too_many_arguments)]
    fn preview(
        &self,
        py: Python<'_>,
        request_id: &Bound<'_, PyAny>,
        customer: &Bound<'_, PyAny>,
        lines: &Bound<'_, PyAny>,
        channel: &Bound<'_, PyAny>,
        attributes: &Bound<'_, PyAny>,
        hold_ms: &Bound<'_, PyAny>,
        confirm: bool,
        up_to: bool,
        waitlist: bool,
        at: &Bound<'_, PyAny>,
        clocked: bool,
    ) -> PyResult<Py<PyAny>> {
        let request = request_from(
            py, request_id, customer, lines, channel, attributes, hold_ms, confirm, up_to, waitlist,
        )?;
        let at: Option<u64> = opt_u64(py, "at", at)?;
        let r = with!(&self.inner, l => {
            let (at, timing) = reading(l, at, clocked);
            l.read(|l| l.preview(&request, timing.resolve(at, l.now())))
        });
        let outcome = r
            .map_err(|e| ledger_error(py, &e))?
            .map_err(|e| rejected(py, &e))?;
        outcome_tuple(py, &outcome)
    }

    /// A read-only query by name (`pool`, `pools`, `offer`, `offers`, `reservation`,
    /// `customer_usage`, `waitlist`, `wait_entry`, `snapshot`, `digest`, `seq`, `now`,
    /// `offer_available`, `why_unavailable`, `next_slots`, `paused`).
    /// `at` as in `preview`.
    #[pyo3(signature = (what, name=None, number=None, channel=None, at=None, count=None, clocked=false))]
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
        clocked: bool,
    ) -> PyResult<Py<PyAny>> {
        let name = name.unwrap_or_default();
        let channel = channel.unwrap_or_else(|| "web".to_owned());
        let n = number.unwrap_or(0);
        let value: Result<Result<serde_json::Value, Error>, DurableError> = with!(&self.inner, l => { let (at, timing) = reading(l, at, clocked); l.read(|l| {
            let at = timing.resolve(at, l.now());
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
                "why_unavailable" => j(serde_json::to_value(l.why_unavailable(&name, &channel, at)?)),
                "next_slots" => j(serde_json::to_value(l.next_slots(&name, at, &channel, count.unwrap_or(10))?)),
                other => return Err(Error::Misuse { field: format!("query {other:?}"), reason: "unknown query" }),
            })
        })});
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
            // The snapshot of a log in PostgreSQL lives there: compact() writes it.
            Inner::Memory(_) | Inner::Postgres(_) => Err(bad_input(
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
            Inner::Postgres(l) => py
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
