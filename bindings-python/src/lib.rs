//! The native part of the Python package: `kontingent._kontingent`.
//!
//! Thin by rule: it converts between Python objects and the core's serde types
//! (via `pythonize`) and maps every error to `NativeError(code, message, details)`,
//! which the typed Python layer (`python/kontingent/`) turns into its exception
//! classes. No ledger logic lives here. The GIL is released while a command waits
//! for its group commit, so Python threads share fsyncs.

use kontingent::host::{self, At, ErrorInfo, HostLedger, Query, QueryArgs};
use kontingent::{Action, Catalog, Outcome, Request};
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use pythonize::{depythonize, pythonize};
use serde::Serialize;

create_exception!(_kontingent, NativeError, PyException);

/// The exception for `info`, made by `kontingent.errors.error` (the one place every
/// kontingent exception is made, so Python needs no wrapper around native calls);
/// `NativeError` only if that module cannot be imported.
fn raise(py: Python<'_>, info: ErrorInfo) -> PyErr {
    static ERROR: pyo3::sync::PyOnceLock<Py<PyAny>> = pyo3::sync::PyOnceLock::new();
    let details = pythonize(py, &info.details).unwrap_or_else(|_| PyDict::new(py).into_any());
    let made = ERROR
        .get_or_try_init(py, || {
            py.import("kontingent.errors")?
                .getattr("error")
                .map(Bound::unbind)
        })
        .and_then(|f| f.bind(py).call1((info.code, &info.message, &details)));
    match made {
        Ok(e) => PyErr::from_value(e),
        Err(_) => NativeError::new_err((info.code, info.message, details.unbind())),
    }
}

/// Any kontingent error as its Python exception.
fn error<E>(py: Python<'_>, e: &E) -> PyErr
where
    for<'a> ErrorInfo: From<&'a E>,
{
    raise(py, ErrorInfo::from(e))
}

fn bad_input(py: Python<'_>, what: &str, e: impl std::fmt::Display) -> PyErr {
    raise(py, ErrorInfo::invalid_input(what, e))
}

fn to_py<T: Serialize>(py: Python<'_>, v: &T) -> PyResult<Py<PyAny>> {
    Ok(pythonize(py, v)
        .map_err(|e| bad_input(py, "result", e))?
        .unbind())
}

/// A Python string argument, or an `invalid_input` error naming it.
fn py_str(py: Python<'_>, what: &str, v: &Bound<'_, PyAny>) -> PyResult<String> {
    v.extract::<String>().map_err(|_| {
        let problem = if v.is_instance_of::<pyo3::types::PyString>() {
            // A str that does not encode to UTF-8: it holds a lone surrogate.
            "is not valid text (it holds a lone surrogate)".to_owned()
        } else {
            format!("expected a str, got {}", type_name(v))
        };
        bad_input(py, what, problem)
    })
}

/// An optional argument through its checked conversion.
fn given<T>(
    v: &Option<Bound<'_, PyAny>>,
    f: impl FnOnce(&Bound<'_, PyAny>) -> PyResult<Option<T>>,
) -> PyResult<Option<T>> {
    v.as_ref().map_or(Ok(None), f)
}

fn opt_str(py: Python<'_>, what: &str, v: &Bound<'_, PyAny>) -> PyResult<Option<String>> {
    if v.is_none() {
        Ok(None)
    } else {
        py_str(py, what, v).map(Some)
    }
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
    v.extract::<u64>()
        .map_err(|_| raise(py, ErrorInfo::out_of_range(what, int_text(v))))
}

/// An int as a message may quote it: whole up to 128 bits, else only its size
/// (Python refuses to print one of over 4,300 digits, and a message never echoes
/// an unbounded input). The same rule as `errors.int_text`.
fn int_text(v: &Bound<'_, PyAny>) -> String {
    let negative = v.lt(0).unwrap_or(false);
    match v
        .call_method0("bit_length")
        .and_then(|b| b.extract::<u64>())
    {
        Ok(bits) if bits <= 128 => v.to_string(),
        Ok(bits) => format!(
            "a {}{bits}-bit number",
            if negative { "negative " } else { "" }
        ),
        Err(_) => "a number".to_owned(),
    }
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

/// A ledger on a journal file, in PostgreSQL, or in memory (the host's handle).
#[pyclass(frozen, module = "kontingent._kontingent")]
struct NativeLedger {
    inner: HostLedger,
}

impl NativeLedger {
    /// Run `f` without the GIL if the ledger may wait (a disk, a server), so other
    /// Python threads share the group commit; in memory nothing waits.
    fn detached<R: Send>(&self, py: Python<'_>, f: impl FnOnce(&HostLedger) -> R + Send) -> R {
        if self.inner.waits() {
            py.detach(|| f(&self.inner))
        } else {
            f(&self.inner)
        }
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
        let d = host::durability_from_name(durability_name).map_err(|e| raise(py, e))?;
        let inner = match path {
            Some(url) if url.starts_with("postgresql://") || url.starts_with("postgres://") => {
                py.detach(|| postgres(&url, ledger, d))?
            }
            Some(p) => py
                .detach(|| HostLedger::open_file(&p, d))
                .map_err(|e| error(py, &e))?,
            None => HostLedger::in_memory(d).map_err(|e| error(py, &e))?,
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
        let applied = self
            .detached(py, |l| l.submit(At::new(at, clocked), action))
            .map_err(|e| error(py, &e))?;
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
        let at = At::new(opt_u64(py, "at", at)?, clocked);
        let applied = self
            .detached(py, |l| l.submit(at, Action::Reserve(request)))
            .map_err(|e| error(py, &e))?;
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
        let at = At::new(opt_u64(py, "at", at)?, clocked);
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
                    good.push((at, Action::Reserve(req)));
                    errors.push(None);
                }
                Err(e) => errors.push(Some(e)),
            }
        }
        let mut applied = self.detached(py, |l| l.submit_batch(good)).into_iter();
        let out = PyList::empty(py);
        for e in errors {
            let item = match e {
                Some(err) => err.into_value(py).into_any(),
                None => match applied.next() {
                    Some(Ok(a)) => outcome_tuple(py, &a.outcome)?,
                    Some(Err(e)) => error(py, &e).into_value(py).into_any(),
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
        let at = At::new(opt_u64(py, "at", at)?, clocked);
        let outcome = self
            .inner
            .preview(&request, at)
            .map_err(|e| error(py, &e))?;
        outcome_tuple(py, &outcome)
    }

    /// A read-only query by name (`kontingent::host::Query::NAMES`: `pool`, `pools`,
    /// `offer`, `offers`, `available`, `why_unavailable`, `next_slots`,
    /// `reservation`, `customer_usage`, `waitlist`, `wait_entry`, `snapshot`,
    /// `catalog`, `digest`, `seq`, `now`, `paused`). `at` as in `preview`.
    #[pyo3(signature = (what, name=None, number=None, channel=None, at=None, count=None, clocked=false))]
    #[allow(clippy::too_many_arguments)]
    fn query(
        &self,
        py: Python<'_>,
        what: &str,
        name: Option<Bound<'_, PyAny>>,
        number: Option<Bound<'_, PyAny>>,
        channel: Option<Bound<'_, PyAny>>,
        at: Option<Bound<'_, PyAny>>,
        count: Option<Bound<'_, PyAny>>,
        clocked: bool,
    ) -> PyResult<Py<PyAny>> {
        // Every argument is checked as a command's would be: a wrong type is
        // `invalid_input` and a number out of range `out_of_range`, naming it.
        let name_field = match what {
            "pool" | "offer" | "customer_usage" => what,
            "next_slots" => "template",
            _ => "offer",
        };
        let number_field = if what == "wait_entry" { "entry" } else { what };
        let args = QueryArgs {
            name: given(&name, |v| opt_str(py, name_field, v))?,
            number: given(&number, |v| opt_u64(py, number_field, v))?,
            channel: given(&channel, |v| opt_str(py, "channel", v))?,
            count: given(&count, |v| opt_u64(py, "count", v))?
                .map(|c| usize::try_from(c).unwrap_or(usize::MAX)),
        };
        let at = given(&at, |v| opt_u64(py, "at", v))?;
        let query = Query::parse(what, args).map_err(|e| raise(py, e))?;
        let value = self
            .inner
            .query(&query, At::new(at, clocked))
            .map_err(|e| error(py, &e))?;
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
        if deltas {
            let d = self
                .detached(py, |l| l.deltas_after(after, limit))
                .map_err(|e| error(py, &e))?;
            to_py(py, &d)
        } else {
            let events = self
                .detached(py, |l| l.events_after(after, limit))
                .map_err(|e| error(py, &e))?;
            to_py(py, &events)
        }
    }

    /// What `consumer` is given: up to `limit` of the events it names after its
    /// cursor, each durable, as a dict `{consumer, ledger, cursor, events, through}`.
    fn consume(&self, py: Python<'_>, consumer: &str, limit: usize) -> PyResult<Py<PyAny>> {
        let delivery = self
            .detached(py, |l| l.consume(consumer, limit))
            .map_err(|e| error(py, &e))?;
        to_py(py, &delivery)
    }

    /// Write a checkpoint beside the journal; returns the records it covers.
    fn checkpoint(&self, py: Python<'_>) -> PyResult<u64> {
        self.detached(py, |l| l.checkpoint())
            .map_err(|e| error(py, &e))
    }

    /// Retire the journal's records into a base state; returns
    /// `(records retired, bytes before, bytes after)`.
    fn compact(&self, py: Python<'_>) -> PyResult<(u64, u64, u64)> {
        self.detached(py, |l| l.compact())
            .map(|c| (c.records, c.bytes_before, c.bytes_after))
            .map_err(|e| error(py, &e))
    }

    /// What recovery found on open: `(records, torn_bytes, torn_records, torn_batch,
    /// from_checkpoint, base)`.
    #[allow(clippy::type_complexity)]
    fn recovery(&self) -> (u64, u64, u64, bool, Option<u64>, Option<u64>) {
        let r = self.inner.recovery();
        (
            r.records,
            r.torn_bytes,
            r.torn_records,
            r.torn_batch,
            r.from_checkpoint,
            r.base,
        )
    }

    fn is_poisoned(&self) -> bool {
        self.inner.is_poisoned()
    }
}

/// A ledger on the PostgreSQL log (the `postgres` feature, on by default).
#[cfg(feature = "postgres")]
fn postgres(url: &str, ledger: &str, d: kontingent::Durability) -> PyResult<HostLedger> {
    kontingent_pg::PgStorage::connect(url, ledger)
        .map_err(kontingent::JournalError::from)
        .and_then(|s| HostLedger::on_storage(s, d))
        .map_err(|e| Python::attach(|py| error(py, &e)))
}

#[cfg(not(feature = "postgres"))]
fn postgres(_url: &str, _ledger: &str, _d: kontingent::Durability) -> PyResult<HostLedger> {
    Err(Python::attach(|py| {
        bad_input(
            py,
            "path",
            "this build has no PostgreSQL support (feature postgres)",
        )
    }))
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
    .map_err(|e| error(py, &e))?;
    to_py(py, &c)
}

/// Read and compile a catalog file (`.json` by extension, else TOML): the Rust
/// reader, so a missing or non-UTF-8 file is an `invalid_catalog` naming it.
#[pyfunction]
fn read_catalog(py: Python<'_>, path: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
    let path = py_str(py, "catalog", path)?;
    let c = py
        .detach(|| kontingent::read_catalog(&path))
        .map_err(|e| error(py, &e))?;
    to_py(py, &c)
}

/// Every error code the native module can raise (`kontingent::host::ALL_CODES`),
/// for the binding's own tests.
#[pyfunction]
fn error_codes() -> Vec<&'static str> {
    host::ALL_CODES.to_vec()
}

#[pymodule]
fn _kontingent(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<NativeLedger>()?;
    m.add_function(wrap_pyfunction!(compile_catalog, m)?)?;
    m.add_function(wrap_pyfunction!(read_catalog, m)?)?;
    m.add_function(wrap_pyfunction!(error_codes, m)?)?;
    m.add("NativeError", m.py().get_type::<NativeError>())?;
    Ok(())
}
