//! The catalog file: its serde schema, and its compilation into a [`Catalog`].
//!
//! Compilation reports every problem it can find at once. A syntax error stops
//! there (it is one error; a TOML duplicate key or too deep a value names its
//! field). Type errors are collected: the file is parsed into a generic value
//! first, then the top level and each item of `pools`, `offers`, `rules`,
//! `slots` and `consumers` are deserialized on their own, each error with its path and line.
//! Everything after that is collected too: bad times and durations, slot
//! templates, then the compiled catalog's own checks, mapped back to paths.

use super::compile::{CatalogError, Format, Located};
use super::locate;
use super::slots::{self, SlotTemplate};
use crate::limits::{HOLD_MS_DEFAULT, TIME_ZONE_LEN_MAX};
use crate::model::quote::{bound, bound_path, quote};
use crate::model::{
    Catalog, ConsumerSpec, Draw, Issue, Limit, Millis, OfferSpec, PoolSpec, RuleKind, RuleSpec,
    SalesWindow, WaitlistPolicy,
};
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::collections::BTreeMap;
use toml::de::{DeTable, DeValue};

/// The file as read: its top level (`Head`) and each list, item by item.
struct CatalogFile {
    name: String,
    time_zone: Option<String>,
    hold: Option<String>,
    channels: Option<Vec<String>>,
    opens_at: Option<String>,
    closes_at: Option<String>,
    pools: Vec<PoolFile>,
    offers: Vec<OfferFile>,
    rules: Vec<RuleFile>,
    slots: Vec<SlotTemplate>,
    consumers: Vec<ConsumerSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PoolFile {
    name: String,
    capacity: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OfferFile {
    name: String,
    #[serde(default)]
    price: u64,
    draws: BTreeMap<String, u64>,
    #[serde(default)]
    waitlist: WaitlistPolicy,
    #[serde(default)]
    opens_at: Option<String>,
    #[serde(default)]
    closes_at: Option<String>,
}

/// One flat shape for every rule kind, so a misplaced field gets a clear message
/// naming the kind instead of a generic "unknown variant".
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    name: String,
    kind: String,
    #[serde(default)]
    offers: Vec<String>,
    units: Option<u64>,
    value: Option<u64>,
    pool: Option<String>,
    amount: Option<u64>,
    #[serde(default)]
    per_offer: bool,
    min_units: Option<u64>,
    max_units: Option<u64>,
    attribute: Option<String>,
    values: Option<Vec<String>>,
    channel: Option<String>,
    keep: Option<u64>,
}

/// Issues found while compiling, with paths into the file.
pub(super) struct Problems(pub Vec<Issue>);

impl Problems {
    pub fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(Issue {
            path: path.into(),
            message: message.into(),
        });
    }
}

/// `"90s"`, `"15m"`, `"2h"`, `"1d"`, `"250ms"` → milliseconds.
pub(super) fn parse_duration(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("{} needs a unit: ms, s, m, h or d", quote(s)))?;
    let (digits, unit) = s.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{} is not a duration like \"45m\"", quote(s)))?;
    let scale = match unit.trim() {
        "ms" => 1,
        "s" => 1_000,
        "m" | "min" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(format!("{}: unknown unit (use ms, s, m, h or d)", quote(s))),
    };
    n.checked_mul(scale)
        .ok_or_else(|| format!("{} is too long", quote(s)))
}

/// An instant: RFC 3339 with an offset, or a local date and time in the catalog's zone.
pub(super) fn parse_instant(s: &str, tz: Option<&TimeZone>) -> Result<Millis, String> {
    if let Ok(ts) = s.parse::<Timestamp>() {
        return to_millis(ts);
    }
    let dt: DateTime = s.parse().map_err(|_| {
        format!(
            "{} is not a time like \"2026-11-29 12:00\" or \"2026-11-29T12:00:00+01:00\"",
            quote(s)
        )
    })?;
    let tz = tz.ok_or_else(|| {
        format!(
            "{} is a local time: set time_zone, or give an offset like \"+01:00\"",
            quote(s)
        )
    })?;
    let ts = tz
        .to_ambiguous_timestamp(dt)
        .earlier()
        .map_err(|e| format!("{}: {e}", quote(s)))?;
    to_millis(ts)
}

pub(super) fn to_millis(ts: Timestamp) -> Result<Millis, String> {
    u64::try_from(ts.as_millisecond()).map_err(|_| format!("{ts} is before 1970"))
}

fn optional_instant(
    p: &mut Problems,
    path: &str,
    s: &Option<String>,
    tz: Option<&TimeZone>,
) -> Option<Millis> {
    let s = s.as_ref()?;
    match parse_instant(s, tz) {
        Ok(t) => Some(t),
        Err(e) => {
            p.add(path, e);
            None
        }
    }
}

fn rule_kind(p: &mut Problems, path: &str, r: &RuleFile) -> Option<RuleKind> {
    // Which fields each kind takes; anything else given is a mistake worth naming.
    let given: [(&str, bool); 11] = [
        ("units", r.units.is_some()),
        ("value", r.value.is_some()),
        ("pool", r.pool.is_some()),
        ("amount", r.amount.is_some()),
        ("per_offer", r.per_offer),
        ("min_units", r.min_units.is_some()),
        ("max_units", r.max_units.is_some()),
        ("attribute", r.attribute.is_some()),
        ("values", r.values.is_some()),
        ("channel", r.channel.is_some()),
        ("keep", r.keep.is_some()),
    ];
    let allowed: &[&str] = match r.kind.as_str() {
        "customer_limit" => &["units", "value", "pool", "amount", "per_offer"],
        "order_size" => &["min_units", "max_units"],
        "min_order_value" => &["value"],
        "allowed_values" => &["attribute", "values"],
        "channel_share" => &["pool", "channel", "keep"],
        other => {
            p.add(
                format!("{path}.kind"),
                format!(
                    "unknown rule kind {} (customer_limit, order_size, min_order_value, allowed_values, channel_share)",
                    quote(other)
                ),
            );
            return None;
        }
    };
    let mut ok = true;
    for (field, present) in given {
        if present && !allowed.contains(&field) {
            p.add(
                format!("{path}.{field}"),
                format!("not a field of a {} rule", r.kind),
            );
            ok = false;
        }
    }
    let mut need = |field: &str, present: bool| {
        if !present {
            p.add(path, format!("a {} rule needs {field}", r.kind));
        }
        present
    };
    let kind = match r.kind.as_str() {
        "customer_limit" => {
            let limit = match (r.units, r.value, &r.pool, r.amount) {
                (Some(u), None, None, None) => Limit::Units(u),
                (None, Some(v), None, None) => Limit::Value(v),
                (None, None, Some(pool), Some(amount)) => Limit::PoolAmount {
                    pool: pool.clone(),
                    amount,
                },
                _ => {
                    p.add(
                        path,
                        "a customer_limit rule needs exactly one of units, value, or pool with amount",
                    );
                    return None;
                }
            };
            RuleKind::CustomerLimit {
                limit,
                per_offer: r.per_offer,
            }
        }
        "order_size" => RuleKind::OrderSize {
            min_units: r.min_units,
            max_units: r.max_units,
        },
        "min_order_value" => {
            if !need("value", r.value.is_some()) {
                return None;
            }
            RuleKind::MinOrderValue {
                value: r.value.unwrap_or(0),
            }
        }
        "allowed_values" => {
            let a = need("attribute", r.attribute.is_some());
            let v = need("values", r.values.is_some());
            if !(a && v) {
                return None;
            }
            RuleKind::AllowedValues {
                attribute: r.attribute.clone().unwrap_or_default(),
                values: r.values.clone().unwrap_or_default(),
            }
        }
        _ => {
            let a = need("pool", r.pool.is_some());
            let b = need("channel", r.channel.is_some());
            let c = need("keep", r.keep.is_some());
            if !(a && b && c) {
                return None;
            }
            RuleKind::ChannelShare {
                pool: r.pool.clone().unwrap_or_default(),
                channel: r.channel.clone().unwrap_or_default(),
                keep: r.keep.unwrap_or(0),
            }
        }
    };
    ok.then_some(kind)
}

/// Where each compiled pool and offer came from in the file.
struct Origins {
    pools: Vec<String>,
    offers: Vec<String>,
}

/// The issue of a catalog without pools (nothing could be reserved from it).
const NO_POOL: &str =
    "the catalog defines no pool: give at least one in pools (or a slot template in slots)";

/// The file's top level, its lists skipped: they are read item by item.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename = "catalog")]
struct Head {
    #[serde(default)]
    name: String,
    #[serde(default)]
    time_zone: Option<String>,
    #[serde(default)]
    hold: Option<String>,
    #[serde(default)]
    channels: Option<Vec<String>>,
    #[serde(default)]
    opens_at: Option<String>,
    #[serde(default)]
    closes_at: Option<String>,
    #[serde(default, rename = "pools")]
    _pools: Option<IgnoredAny>,
    #[serde(default, rename = "offers")]
    _offers: Option<IgnoredAny>,
    #[serde(default, rename = "rules")]
    _rules: Option<IgnoredAny>,
    #[serde(default, rename = "slots")]
    _slots: Option<IgnoredAny>,
    #[serde(default, rename = "consumers")]
    _consumers: Option<IgnoredAny>,
}

/// The lists of a JSON file, each as its raw text (the rest is read by `Head`).
/// A `null` list is kept as its text, so it is a type error as before, not absent.
#[derive(Deserialize)]
struct JsonLists<'a> {
    #[serde(borrow, default, deserialize_with = "present")]
    pools: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    offers: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    rules: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    slots: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    consumers: Option<&'a RawValue>,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(d).map(Some)
}

/// `prefix` and a path inside it: `pools[3]` + `capacity` → `pools[3].capacity`.
fn join(prefix: &str, inner: &str) -> String {
    match (prefix.is_empty(), inner.is_empty()) {
        (_, true) => prefix.to_owned(),
        (true, false) => inner.to_owned(),
        (false, false) if inner.starts_with('[') => format!("{prefix}{inner}"),
        (false, false) => format!("{prefix}.{inner}"),
    }
}

/// A serde error from a TOML value (its span is into the whole file).
fn toml_item_error(
    text: &str,
    prefix: &str,
    e: serde_path_to_error::Error<toml::de::Error>,
) -> Located {
    let path = join(prefix, &path_string(e.path()));
    toml_error(text, &path, e.inner())
}

/// Each item of a TOML list deserialized on its own, so every bad item is
/// reported; a value that is not a list is one error.
fn toml_list<T: serde::de::DeserializeOwned>(
    text: &str,
    key: &str,
    value: Option<&toml::Spanned<DeValue<'_>>>,
    errors: &mut Vec<Located>,
) -> Vec<T> {
    let Some(value) = value else {
        return Vec::new();
    };
    let DeValue::Array(items) = value.get_ref() else {
        let de = toml::de::ValueDeserializer::from(value.clone());
        if let Err(e) = serde_path_to_error::deserialize::<_, Vec<T>>(de) {
            errors.push(toml_item_error(text, key, e));
        }
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let de = toml::de::ValueDeserializer::from(item.clone());
        match serde_path_to_error::deserialize::<_, T>(de) {
            Ok(t) => out.push(t),
            Err(e) => errors.push(toml_item_error(text, &format!("{key}[{i}]"), e)),
        }
    }
    out
}

/// A serde_json error in the piece of `text` starting at byte `base`, placed in the file.
fn json_error(text: &str, base: usize, prefix: &str, path: &str, e: &serde_json::Error) -> Located {
    let message = strip_position(&e.to_string());
    // A duplicate field is named in the message only: name it in the path too.
    let duplicate = message
        .strip_prefix("duplicate field `")
        .and_then(|m| m.strip_suffix('`'))
        .unwrap_or_default();
    let path = join(&join(prefix, path), duplicate);
    // serde_json points at the end of an unknown key; point at its start.
    let found = match message.starts_with("unknown field") {
        true => locate::find(text, Format::Json, &path),
        false => None,
    };
    let (line, column) = found.unwrap_or_else(|| {
        let (l0, c0) = locate::line_col(text, base);
        match e.line() {
            0 | 1 => (l0, (c0 + e.column()).saturating_sub(1).max(1)),
            l => (l0 + l - 1, e.column()),
        }
    });
    Located {
        path,
        message,
        line: Some(line),
        column: Some(column),
    }
}

/// Each item of a JSON list deserialized on its own (see `toml_list`).
fn json_list<T: serde::de::DeserializeOwned>(
    text: &str,
    key: &str,
    raw: Option<&RawValue>,
    errors: &mut Vec<Located>,
) -> Vec<T> {
    let Some(raw) = raw else {
        return Vec::new();
    };
    let base = |r: &RawValue| (r.get().as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
    let items: Vec<&RawValue> = match serde_json::from_str(raw.get()) {
        Ok(items) => items,
        Err(e) => {
            errors.push(json_error(text, base(raw), key, "", &e));
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let mut de = serde_json::Deserializer::from_str(item.get());
        match serde_path_to_error::deserialize::<_, T>(&mut de) {
            Ok(t) => out.push(t),
            Err(e) => {
                let path = path_string(e.path());
                errors.push(json_error(
                    text,
                    base(item),
                    &format!("{key}[{i}]"),
                    &path,
                    e.inner(),
                ));
            }
        }
    }
    out
}

/// The file, or every error of its syntax (one: parsing stops there) or of its
/// types (each item of each list on its own, so all are found).
fn deserialize(text: &str, format: Format) -> Result<CatalogFile, Vec<Located>> {
    // An empty file is an empty catalog in both formats (TOML reads it as one).
    let text = match format {
        Format::Json if text.trim().is_empty() => "{}",
        _ => text,
    };
    let mut errors = Vec::new();
    let (head, pools, offers, rules, slots, consumers) = match format {
        Format::Toml => {
            let doc = DeTable::parse(text).map_err(|e| vec![toml_syntax_error(text, &e)])?;
            let head = serde_path_to_error::deserialize::<_, Head>(toml::de::Deserializer::from(
                doc.clone(),
            ))
            .map_err(|e| errors.push(toml_item_error(text, "", e)))
            .ok();
            let get = |key: &str| {
                doc.get_ref()
                    .iter()
                    .find(|(k, _)| k.get_ref() == key)
                    .map(|(_, v)| v)
            };
            (
                head,
                toml_list(text, "pools", get("pools"), &mut errors),
                toml_list(text, "offers", get("offers"), &mut errors),
                toml_list(text, "rules", get("rules"), &mut errors),
                toml_list(text, "slots", get("slots"), &mut errors),
                toml_list(text, "consumers", get("consumers"), &mut errors),
            )
        }
        Format::Json => {
            // Syntax first, of the whole text: one error, and nothing else is read.
            let mut de = serde_json::Deserializer::from_str(text);
            IgnoredAny::deserialize(&mut de)
                .and_then(|_| de.end())
                .map_err(|e| vec![json_error(text, 0, "", "", &e)])?;
            let mut de = serde_json::Deserializer::from_str(text);
            let head = serde_path_to_error::deserialize::<_, Head>(&mut de)
                .map_err(|e| {
                    let path = path_string(e.path());
                    errors.push(json_error(text, 0, "", &path, e.inner()))
                })
                .ok();
            // Not an object at all: `Head` said so, once.
            let object = text.trim_start().starts_with('{');
            let lists = object
                .then(|| {
                    serde_json::from_str::<JsonLists<'_>>(text)
                        .map_err(|e| errors.push(json_error(text, 0, "", "", &e)))
                        .ok()
                })
                .flatten()
                .unwrap_or(JsonLists {
                    pools: None,
                    offers: None,
                    rules: None,
                    slots: None,
                    consumers: None,
                });
            (
                head,
                json_list(text, "pools", lists.pools, &mut errors),
                json_list(text, "offers", lists.offers, &mut errors),
                json_list(text, "rules", lists.rules, &mut errors),
                json_list(text, "slots", lists.slots, &mut errors),
                json_list(text, "consumers", lists.consumers, &mut errors),
            )
        }
    };
    let Some(head) = head.filter(|_| errors.is_empty()) else {
        // In the file's order, each once (the top level is read twice in JSON).
        errors.sort_by_key(|e| (e.line.is_none(), e.line, e.column));
        errors.dedup();
        return Err(errors);
    };
    Ok(CatalogFile {
        name: head.name,
        time_zone: head.time_zone,
        hold: head.hold,
        channels: head.channels,
        opens_at: head.opens_at,
        closes_at: head.closes_at,
        pools,
        offers,
        rules,
        slots,
        consumers,
    })
}

/// A TOML syntax error, with the field it is in where the parser says where
/// (a duplicate key, a value nested too deep).
fn toml_syntax_error(text: &str, e: &toml::de::Error) -> Located {
    let path = e
        .span()
        .and_then(|span| locate::toml_path_at(text, span))
        .unwrap_or_default();
    toml_error(text, &path, e)
}

fn path_string(p: &serde_path_to_error::Path) -> String {
    let s = p.to_string();
    if s == "." {
        String::new()
    } else {
        s
    }
}

fn toml_error(text: &str, path: &str, e: &toml::de::Error) -> Located {
    let (line, column) = match e.span() {
        Some(span) => {
            let (l, c) = locate::line_col(text, span.start);
            (Some(l), Some(c))
        }
        None => (None, None),
    };
    Located {
        path: path.to_owned(),
        message: e.message().trim().to_owned(),
        line,
        column,
    }
}

/// serde_json appends " at line L column C"; we report positions separately.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg.to_owned(),
    }
}

pub(super) fn compile(text: &str, format: Format, file: &str) -> Result<Catalog, CatalogError> {
    let fail = |issues: Vec<Located>| CatalogError {
        file: file.to_owned(),
        issues,
    };
    let f = deserialize(text, format).map_err(|errors| {
        fail(
            errors
                .into_iter()
                .map(|mut e| {
                    e.path = bound_path(&e.path);
                    e.message = bound(&e.message);
                    e
                })
                .collect(),
        )
    })?;
    let mut p = Problems(Vec::new());
    if f.pools.is_empty() && f.slots.is_empty() {
        // The same for an empty TOML file, `{}` and an empty JSON file.
        p.add("pools", NO_POOL);
    }

    let tz = match &f.time_zone {
        // Bounded before the lookup (the compiled catalog's check says so too).
        Some(name) if name.len() > TIME_ZONE_LEN_MAX => {
            p.add(
                "time_zone",
                format!(
                    "{} bytes is longer than the limit of {TIME_ZONE_LEN_MAX}",
                    name.len()
                ),
            );
            None
        }
        Some(name) => match jiff::tz::db().get(name) {
            Ok(tz) => Some(tz),
            Err(_) => {
                p.add("time_zone", format!("unknown time zone {}", quote(name)));
                None
            }
        },
        None => None,
    };
    let default_hold_ms = match &f.hold {
        Some(h) => parse_duration(h).unwrap_or_else(|e| {
            p.add("hold", e);
            HOLD_MS_DEFAULT
        }),
        None => HOLD_MS_DEFAULT,
    };
    let window = SalesWindow {
        opens_at: optional_instant(&mut p, "opens_at", &f.opens_at, tz.as_ref()),
        closes_at: optional_instant(&mut p, "closes_at", &f.closes_at, tz.as_ref()),
    };

    let mut origins = Origins {
        pools: Vec::new(),
        offers: Vec::new(),
    };
    let mut pools = Vec::new();
    for (i, pool) in f.pools.iter().enumerate() {
        pools.push(PoolSpec {
            name: pool.name.clone(),
            capacity: pool.capacity,
        });
        origins.pools.push(format!("pools[{i}]"));
    }
    let mut offers = Vec::new();
    for (i, o) in f.offers.iter().enumerate() {
        let path = format!("offers[{i}]");
        offers.push(OfferSpec {
            name: o.name.clone(),
            price: o.price,
            draws: o
                .draws
                .iter()
                .map(|(pool, &n)| Draw::new(pool, n))
                .collect(),
            waitlist: o.waitlist,
            window: SalesWindow {
                opens_at: optional_instant(
                    &mut p,
                    &format!("{path}.opens_at"),
                    &o.opens_at,
                    tz.as_ref(),
                ),
                closes_at: optional_instant(
                    &mut p,
                    &format!("{path}.closes_at"),
                    &o.closes_at,
                    tz.as_ref(),
                ),
            },
            slot: None,
        });
        origins.offers.push(path);
    }
    for (i, template) in f.slots.iter().enumerate() {
        let path = format!("slots[{i}]");
        for (pool, offer) in slots::expand(&mut p, &path, template, tz.as_ref()) {
            pools.push(pool);
            origins.pools.push(path.clone());
            offers.push(offer);
            origins.offers.push(path.clone());
        }
    }
    let mut rules = Vec::new();
    for (i, r) in f.rules.iter().enumerate() {
        if let Some(kind) = rule_kind(&mut p, &format!("rules[{i}]"), r) {
            rules.push((
                i,
                RuleSpec {
                    name: r.name.clone(),
                    offers: r.offers.clone(),
                    kind,
                },
            ));
        }
    }
    let rule_origins: Vec<usize> = rules.iter().map(|(i, _)| *i).collect();
    let catalog = Catalog {
        name: f.name,
        time_zone: f.time_zone,
        default_hold_ms,
        channels: f.channels.unwrap_or_else(|| vec!["web".to_owned()]),
        window,
        pools,
        offers,
        rules: rules.into_iter().map(|(_, r)| r).collect(),
        consumers: f.consumers,
    };
    for issue in catalog.check() {
        let path = file_path(&catalog, &origins, &rule_origins, &issue.path);
        p.add(path, issue.message);
    }
    if p.0.is_empty() {
        return Ok(catalog);
    }
    // One report per path and message: a slot template's problem repeats for each slot.
    let mut seen = std::collections::BTreeSet::new();
    let issues =
        p.0.into_iter()
            .filter(|i| seen.insert((i.path.clone(), i.message.clone())))
            .map(|i| {
                let (line, column) = match locate::find(text, format, &i.path) {
                    Some((l, c)) => (Some(l), Some(c)),
                    None => (None, None),
                };
                Located {
                    path: bound_path(&i.path),
                    message: bound(&i.message),
                    line,
                    column,
                }
            })
            .collect();
    Err(fail(issues))
}

/// Maps a path in the compiled catalog back to where the file says it.
fn file_path(c: &Catalog, origins: &Origins, rule_origins: &[usize], path: &str) -> String {
    let (head, rest) = match path.find('.') {
        Some(i) => (&path[..i], &path[i..]),
        None => (path, ""),
    };
    let index = |prefix: &str| -> Option<usize> {
        head.strip_prefix(prefix)?
            .strip_prefix('[')?
            .strip_suffix(']')?
            .parse()
            .ok()
    };
    if let Some(i) = index("pools") {
        let origin = &origins.pools[i];
        return format!("{origin}{rest}");
    }
    if let Some(i) = index("offers") {
        let origin = &origins.offers[i];
        // `.draws[j].pool` / `.draws[j].amount` → `.draws.<pool name>`
        if let Some(after) = rest.strip_prefix(".draws[") {
            if let Some(j) = after
                .split(']')
                .next()
                .and_then(|j| j.parse::<usize>().ok())
            {
                if let Some(d) = c.offers[i].draws.get(j) {
                    return format!("{origin}.draws.{}", d.pool);
                }
            }
        }
        let rest = rest.replace(".window.", ".");
        return format!("{origin}{rest}");
    }
    if let Some(i) = index("rules") {
        let origin = rule_origins.get(i).copied().unwrap_or(i);
        let rest = if rest == ".limit" { "" } else { rest };
        return format!("rules[{origin}]{rest}");
    }
    match path {
        "default_hold_ms" => "hold".to_owned(),
        p if p.starts_with("window.") => p["window.".len()..].to_owned(),
        p => p.to_owned(),
    }
}
