//! kontingent in JavaScript: the browser preview (`Preview`, over the core's
//! `Mirror`) and the full ledger for Node (`WasmLedger`, a `DurableLedger` on a
//! storage whose file operations are Node's `fs`). Conversion and error mapping
//! only: every decision is the core's.
//!
//! Conventions: API objects (requests in; outcomes, slots, pools out) use camelCase
//! keys; wire formats (catalog, snapshot, deltas, events) are the server's JSON as
//! is, so they pass through unchanged. Codes stay snake_case strings. Errors are
//! JS `Error`s with a `.code`.

use kontingent_core::{Catalog, Delta, Error, Mirror, Request, Snapshot};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(start)]
pub fn start() {
    // A panic is a bug (inputs are checked); at least say what it was.
    console_error_panic_hook::set_once();
}

// ------------------------------------------------------------------ conversion

/// A JS `Error` with a stable `.code`.
fn js_error(code: &str, message: impl std::fmt::Display) -> JsValue {
    let e = js_sys::Error::new(&message.to_string());
    let _ = js_sys::Reflect::set(&e, &"code".into(), &code.into());
    e.into()
}

fn invalid(what: &str, e: impl std::fmt::Display) -> JsValue {
    js_error("invalid_input", format!("{what}: {e}"))
}

fn core_error(e: &Error) -> JsValue {
    js_error(e.code(), e)
}

/// A JS `Error` from the host's description of any shell error: `.code`, and
/// each detail (`offset`, `issues`, `file`) as a property.
#[cfg(feature = "node")]
fn info_error(info: kontingent::host::ErrorInfo) -> JsValue {
    let err = js_error(info.code, &info.message);
    for (k, v) in &info.details {
        if let Ok(v) = plain(v) {
            let _ = js_sys::Reflect::set(&err, &k.as_str().into(), &v);
        }
    }
    err
}

/// Any error of the shell as a JS `Error`.
#[cfg(feature = "node")]
fn shell_error<E>(e: &E) -> JsValue
where
    for<'a> kontingent::host::ErrorInfo: From<&'a E>,
{
    info_error(e.into())
}

/// Keys whose values are user data (attribute names): never renamed.
const VERBATIM: [&str; 1] = ["attributes"];

fn rename_keys(v: Value, f: &dyn Fn(&str) -> String) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| {
                    let v = if VERBATIM.contains(&k.as_str()) {
                        v
                    } else {
                        rename_keys(v, f)
                    };
                    (f(&k), v)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(|v| rename_keys(v, f)).collect()),
        other => other,
    }
}

fn camel(k: &str) -> String {
    let mut out = String::with_capacity(k.len());
    let mut up = false;
    for c in k.chars() {
        if c == '_' {
            up = true;
        } else if up {
            out.extend(c.to_uppercase());
            up = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn snake(k: &str) -> String {
    let mut out = String::with_capacity(k.len() + 4);
    for c in k.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn plain(v: &impl Serialize) -> Result<JsValue, JsValue> {
    let s = serde_wasm_bindgen::Serializer::json_compatible();
    v.serialize(&s).map_err(|e| invalid("result", e))
}

/// An API object out: camelCase keys.
fn api_out(v: &impl Serialize) -> Result<JsValue, JsValue> {
    let json = serde_json::to_value(v).map_err(|e| invalid("result", e))?;
    plain(&rename_keys(json, &camel))
}

/// An API object in: camelCase keys accepted (snake_case too).
fn api_in<T: DeserializeOwned>(what: &str, v: JsValue) -> Result<T, JsValue> {
    let json: Value = serde_wasm_bindgen::from_value(v).map_err(|e| invalid(what, e))?;
    serde_json::from_value(rename_keys(json, &snake)).map_err(|e| invalid(what, e))
}

/// A wire-format object in (the server's JSON, as is), or its JSON text.
fn wire_in<T: DeserializeOwned>(what: &str, v: JsValue) -> Result<T, JsValue> {
    if let Some(text) = v.as_string() {
        return serde_json::from_str(&text).map_err(|e| invalid(what, e));
    }
    serde_wasm_bindgen::from_value(v).map_err(|e| invalid(what, e))
}

/// A time in ms since the epoch, or a count: a whole, non-negative JS number.
fn whole(what: &str, v: f64) -> Result<u64, JsValue> {
    if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v <= 9_007_199_254_740_991.0 {
        Ok(v as u64)
    } else {
        Err(js_error(
            "out_of_range",
            format!("{what}: {v} is not a whole number of 0 ..= 2^53 - 1"),
        ))
    }
}

// --------------------------------------------------------------------- preview

/// The browser preview: the catalog and an availability snapshot from the
/// server, kept up to date by its deltas, answering as the server would.
#[wasm_bindgen]
pub struct Preview {
    mirror: Mirror,
}

#[wasm_bindgen]
impl Preview {
    /// `catalog`: the server's compiled catalog (object or JSON text);
    /// `snapshot`: its availability snapshot.
    #[wasm_bindgen(constructor)]
    pub fn new(catalog: JsValue, snapshot: JsValue) -> Result<Preview, JsValue> {
        let catalog: Catalog = wire_in("catalog", catalog)?;
        let snapshot: Snapshot = wire_in("snapshot", snapshot)?;
        let mirror = Mirror::new(catalog, snapshot).map_err(|e| core_error(&e))?;
        Ok(Preview { mirror })
    }

    /// Replace the availability by a fresh snapshot (after a reconnect that
    /// missed deltas), keeping the catalog; an error changes nothing.
    #[wasm_bindgen(js_name = loadSnapshot)]
    pub fn load_snapshot(&mut self, snapshot: JsValue) -> Result<(), JsValue> {
        let snapshot: Snapshot = wire_in("snapshot", snapshot)?;
        self.mirror
            .load_snapshot(snapshot)
            .map_err(|e| core_error(&e))
    }

    /// Apply the next delta; a gap (`delta_gap`), a replay (`delta_replayed`) or a
    /// delta that does not fit is refused and changes nothing.
    #[wasm_bindgen(js_name = applyDelta)]
    pub fn apply_delta(&mut self, delta: JsValue) -> Result<(), JsValue> {
        let delta: Delta = wire_in("delta", delta)?;
        self.mirror
            .apply(&delta)
            .map_err(|e| js_error(e.code(), &e))
    }

    /// What `request` (`{requestId, customer, lines: [{offer, quantity}], channel,
    /// attributes, confirm, ...}`) would get at `at` (ms): the server's outcome,
    /// e.g. `{status: "refused", reason: "not_open_yet", opensAt}`.
    pub fn check(&self, request: JsValue, at: f64) -> Result<JsValue, JsValue> {
        let request: Request = api_in("request", request)?;
        let at = whole("at", at)?;
        let outcome = self
            .mirror
            .check(&request, at)
            .map_err(|e| core_error(&e))?;
        api_out(&outcome)
    }

    /// Units of `offer` that `channel` could get now (`undefined`: no such offer).
    pub fn available(&self, offer: &str, channel: &str) -> Option<f64> {
        self.mirror.available(offer, channel).map(|n| n as f64)
    }

    /// Why `offer` cannot be had on `channel` at `at` (`null`: it can).
    #[wasm_bindgen(js_name = whyUnavailable)]
    pub fn why_unavailable(&self, offer: &str, channel: &str, at: f64) -> Result<JsValue, JsValue> {
        let at = whole("at", at)?;
        let why = self
            .mirror
            .why_unavailable(offer, channel, at)
            .map_err(|e| core_error(&e))?;
        api_out(&why)
    }

    /// The next `count` free slots of `template` for `channel` from `at`.
    #[wasm_bindgen(js_name = nextSlots)]
    pub fn next_slots(
        &self,
        template: &str,
        at: f64,
        channel: &str,
        count: u32,
    ) -> Result<JsValue, JsValue> {
        let at = whole("at", at)?;
        let slots = self
            .mirror
            .next_slots(template, at, channel, count as usize)
            .map_err(|e| core_error(&e))?;
        api_out(&slots)
    }

    /// The snapshot as the deltas applied so far left it (wire format).
    pub fn snapshot(&self) -> Result<JsValue, JsValue> {
        plain(self.mirror.snapshot())
    }

    #[wasm_bindgen(getter)]
    pub fn seq(&self) -> f64 {
        self.mirror.seq() as f64
    }
}

// ------------------------------------------------------------------ the ledger

#[cfg(feature = "node")]
pub use node::*;

#[cfg(feature = "node")]
mod node {
    use super::*;
    use kontingent::host::{self, At, HostLedger, Query, QueryArgs};
    use kontingent::storage::Storage;
    use kontingent::{Action, Durability};
    use std::io;

    #[wasm_bindgen]
    extern "C" {
        /// A journal file as Node's `fs` sees it (see `js/node.mjs`).
        #[derive(Clone)]
        pub type JsFile;
        #[wasm_bindgen(method, catch)]
        fn len(this: &JsFile) -> Result<f64, JsValue>;
        #[wasm_bindgen(method, catch)]
        fn read(this: &JsFile, offset: f64, len: u32) -> Result<Vec<u8>, JsValue>;
        #[wasm_bindgen(method, catch)]
        fn append(this: &JsFile, data: &[u8]) -> Result<(), JsValue>;
        #[wasm_bindgen(method, catch)]
        fn truncate(this: &JsFile, len: f64) -> Result<(), JsValue>;
        #[wasm_bindgen(method, catch)]
        fn sync(this: &JsFile) -> Result<(), JsValue>;
        #[wasm_bindgen(method, catch)]
        fn replace(this: &JsFile, data: &[u8]) -> Result<(), JsValue>;
        #[wasm_bindgen(method, js_name = randomId)]
        fn random_id(this: &JsFile) -> Vec<u8>;
    }

    /// The core's `Storage` over a `JsFile`. wasm32 here has one thread, so the
    /// `Send` the trait asks for is never exercised.
    struct JsStorage(JsFile);
    // SAFETY: wasm32-unknown-unknown without the atomics feature has a single thread.
    unsafe impl Send for JsStorage {}

    struct JsSyncer(JsFile);
    // SAFETY: as for `JsStorage`.
    unsafe impl Send for JsSyncer {}

    fn io_err(e: JsValue) -> io::Error {
        let msg = js_sys::Reflect::get(&e, &"message".into())
            .ok()
            .and_then(|m| m.as_string())
            .unwrap_or_else(|| format!("{e:?}"));
        io::Error::other(msg)
    }

    impl Storage for JsStorage {
        fn len(&mut self) -> io::Result<u64> {
            let n = self.0.len().map_err(io_err)?;
            Ok(n as u64)
        }
        fn read_exact_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
            let len = u32::try_from(buf.len()).map_err(|_| io::ErrorKind::InvalidInput)?;
            let data = self.0.read(offset as f64, len).map_err(io_err)?;
            if data.len() != buf.len() {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            buf.copy_from_slice(&data);
            Ok(())
        }
        fn append(&mut self, data: &[u8]) -> io::Result<()> {
            self.0.append(data).map_err(io_err)
        }
        fn truncate(&mut self, len: u64) -> io::Result<()> {
            self.0.truncate(len as f64).map_err(io_err)
        }
        fn sync(&mut self) -> io::Result<()> {
            self.0.sync().map_err(io_err)
        }
        fn syncer(&self) -> io::Result<Box<dyn FnMut() -> io::Result<()> + Send>> {
            let s = JsSyncer(self.0.clone());
            Ok(Box::new(move || s.0.sync().map_err(io_err)))
        }
        // One process: Node has no flock. Several processes must not share a journal.
        fn lock(&mut self) -> io::Result<()> {
            Ok(())
        }
        fn unlock(&mut self) -> io::Result<()> {
            Ok(())
        }
        fn replace(&mut self, contents: &[u8]) -> io::Result<()> {
            self.0.replace(contents).map_err(io_err)
        }
        fn take_replaced(&mut self) -> bool {
            false
        }
        fn new_ledger_id(&mut self) -> [u8; 16] {
            let mut id = [0u8; 16];
            let r = self.0.random_id();
            let n = r.len().min(16);
            id[..n].copy_from_slice(&r[..n]);
            id
        }
    }

    /// The full ledger: in memory, or durable on a journal file in the same byte
    /// format as the Rust core's (a journal written here opens in Rust and Python).
    #[wasm_bindgen]
    pub struct WasmLedger {
        inner: HostLedger,
    }

    /// A JS time: whole ms, exact or a clock reading (`clocked`).
    fn at(v: Option<f64>, clocked: Option<bool>) -> Result<At, JsValue> {
        let v = v.map(|a| whole("at", a)).transpose()?;
        Ok(At::new(v, clocked.unwrap_or(false)))
    }

    #[wasm_bindgen]
    impl WasmLedger {
        /// Open (replaying) a journal through `file`, an object with `len`, `read`,
        /// `append`, `truncate`, `sync`, `replace` and `randomId` (js/node.mjs).
        pub fn open(file: JsFile, durability_name: &str) -> Result<WasmLedger, JsValue> {
            let d = host::durability_from_name(durability_name).map_err(info_error)?;
            let inner = HostLedger::on_storage(JsStorage(file), d).map_err(|e| shell_error(&e))?;
            Ok(WasmLedger { inner })
        }

        #[wasm_bindgen(js_name = inMemory)]
        pub fn in_memory() -> Result<WasmLedger, JsValue> {
            let inner = HostLedger::in_memory(Durability::None).map_err(|e| shell_error(&e))?;
            Ok(WasmLedger { inner })
        }

        /// Apply many `{at, action, clocked}` commands as one batch: one journal write
        /// and one fdatasync. `clocked: true` marks `at` as a clock reading (the
        /// command takes it or the ledger's time, whichever is later); otherwise `at`
        /// is exact. Returns, in order, `{outcome, events}` or an `Error` (not thrown).
        #[wasm_bindgen(js_name = submitBatch)]
        pub fn submit_batch(&self, commands: js_sys::Array) -> Result<js_sys::Array, JsValue> {
            let mut parsed: Vec<Result<(At, Action), JsValue>> =
                Vec::with_capacity(commands.length() as usize);
            for c in commands.iter() {
                parsed.push((|| {
                    let when = js_sys::Reflect::get(&c, &"at".into())?;
                    let clocked = js_sys::Reflect::get(&c, &"clocked".into())?.is_truthy();
                    let when = at(Some(when.as_f64().unwrap_or(f64::NAN)), Some(clocked))?;
                    let action = js_sys::Reflect::get(&c, &"action".into())?;
                    let action: Action = if js_sys::Reflect::get(&action, &"type".into())?
                        .as_string()
                        .as_deref()
                        == Some("load_catalog")
                    {
                        // A catalog is a wire format: its field names are the file schema's.
                        wire_in("action", action)?
                    } else {
                        api_in("action", action)?
                    };
                    Ok((when, action))
                })());
            }
            // Move the good commands out (no copies); remember where the bad ones were.
            let mut good = Vec::with_capacity(parsed.len());
            let errors: Vec<Option<JsValue>> = parsed
                .into_iter()
                .map(|p| match p {
                    Ok(c) => {
                        good.push(c);
                        None
                    }
                    Err(e) => Some(e),
                })
                .collect();
            let mut applied = self.inner.submit_batch(good).into_iter();
            let out = js_sys::Array::new();
            for e in errors {
                let item = match e {
                    Some(e) => e,
                    None => match applied.next() {
                        Some(Ok(a)) => {
                            let o = js_sys::Object::new();
                            js_sys::Reflect::set(&o, &"outcome".into(), &api_out(&a.outcome)?)?;
                            js_sys::Reflect::set(&o, &"events".into(), &plain(&a.events)?)?;
                            o.into()
                        }
                        Some(Err(e)) => shell_error(&e),
                        None => js_error("internal", "an answer is missing"),
                    },
                };
                out.push(&item);
            }
            Ok(out)
        }

        /// What `request` would get at `at`, without changing anything (`clocked`:
        /// `at` is a clock reading, which the ledger's own time may overtake).
        pub fn preview(
            &self,
            request: JsValue,
            at: f64,
            clocked: Option<bool>,
        ) -> Result<JsValue, JsValue> {
            let request: Request = api_in("request", request)?;
            let when = self::at(Some(at), clocked)?;
            let outcome = self
                .inner
                .preview(&request, when)
                .map_err(|e| shell_error(&e))?;
            api_out(&outcome)
        }

        /// Up to `limit` deltas after seq `after` (wire format).
        #[wasm_bindgen(js_name = deltasAfter)]
        pub fn deltas_after(&self, after: f64, limit: u32) -> Result<JsValue, JsValue> {
            let after = whole("after", after)?;
            let deltas = self
                .inner
                .deltas_after(after, limit as usize)
                .map_err(|e| shell_error(&e))?;
            plain(&deltas)
        }

        /// Up to `limit` events after seq `after` (wire format).
        #[wasm_bindgen(js_name = eventsAfter)]
        pub fn events_after(&self, after: f64, limit: u32) -> Result<JsValue, JsValue> {
            let after = whole("after", after)?;
            let events = self
                .inner
                .events_after(after, limit as usize)
                .map_err(|e| shell_error(&e))?;
            plain(&events)
        }

        /// What `consumer` is given: up to `limit` events it names after its
        /// cursor, each durable, with its key (wire format:
        /// `{consumer, ledger, cursor, notifications: [{key, event}], through}`).
        pub fn consume(&self, consumer: &str, limit: u32) -> Result<JsValue, JsValue> {
            let delivery = self
                .inner
                .consume(consumer, limit as usize)
                .map_err(|e| shell_error(&e))?;
            plain(&delivery)
        }

        /// A read-only query by the host's name (`Query::NAMES`: `pool`, `pools`,
        /// `offer`, `offers`, `available`, `why_unavailable`, `next_slots`,
        /// `reservation`, `customer_usage`, `waitlist`, `wait_entry`, `snapshot`,
        /// `catalog`, `digest`, `seq`, `now`, `paused`). API answers come with
        /// camelCase keys; `snapshot` and `catalog` are wire formats, as is.
        #[allow(clippy::too_many_arguments)]
        pub fn query(
            &self,
            what: &str,
            name: Option<String>,
            number: Option<f64>,
            channel: Option<String>,
            at: Option<f64>,
            count: Option<u32>,
            clocked: Option<bool>,
        ) -> Result<JsValue, JsValue> {
            let args = QueryArgs {
                name,
                number: number.map(|n| whole("number", n)).transpose()?,
                channel,
                count: count.map(|c| c as usize),
            };
            let query = Query::parse(what, args).map_err(info_error)?;
            let value = self
                .inner
                .query(&query, self::at(at, clocked)?)
                .map_err(|e| shell_error(&e))?;
            match query {
                Query::Snapshot | Query::Catalog => plain(&value),
                _ => plain(&rename_keys(value, &camel)),
            }
        }

        /// Retire the journal's records into a base state; returns the records retired.
        pub fn compact(&self) -> Result<f64, JsValue> {
            self.inner
                .compact()
                .map(|c| c.records as f64)
                .map_err(|e| shell_error(&e))
        }

        /// What opening found: `{records, tornBytes, tornRecords, tornBatch, base}`.
        pub fn recovery(&self) -> Result<JsValue, JsValue> {
            let r = self.inner.recovery();
            let o = js_sys::Object::new();
            js_sys::Reflect::set(&o, &"records".into(), &(r.records as f64).into())?;
            js_sys::Reflect::set(&o, &"tornBytes".into(), &(r.torn_bytes as f64).into())?;
            js_sys::Reflect::set(&o, &"tornRecords".into(), &(r.torn_records as f64).into())?;
            js_sys::Reflect::set(&o, &"tornBatch".into(), &r.torn_batch.into())?;
            js_sys::Reflect::set(
                &o,
                &"base".into(),
                &r.base
                    .map(|b| JsValue::from(b as f64))
                    .unwrap_or(JsValue::NULL),
            )?;
            Ok(o.into())
        }

        #[wasm_bindgen(js_name = isPoisoned)]
        pub fn is_poisoned(&self) -> bool {
            self.inner.is_poisoned()
        }
    }

    /// Every error code this package can raise (`kontingent::host::ALL_CODES`):
    /// the same in Rust, Python and over HTTP.
    #[wasm_bindgen(js_name = errorCodes)]
    pub fn error_codes() -> Vec<String> {
        host::ALL_CODES.iter().map(|c| c.to_string()).collect()
    }
}

/// Compile a catalog file's text (`format`: `toml` or `json`) into the wire
/// format `Preview` and `load_catalog` take. Errors carry `.issues`.
#[cfg(feature = "node")]
#[wasm_bindgen(js_name = compileCatalog)]
pub fn compile_catalog(text: &str, format: &str, file: &str) -> Result<JsValue, JsValue> {
    let parsed = match format {
        "toml" => Catalog::from_toml_str(text, file),
        "json" => Catalog::from_json_str(text, file),
        other => return Err(invalid("format", format!("{other:?} is not toml or json"))),
    };
    match parsed {
        Ok(c) => plain(&c),
        Err(e) => Err(shell_error(&e)),
    }
}
