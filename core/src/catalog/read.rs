//! Reading a catalog's text into the file's schema, item by item, so that every
//! type error is found (a syntax error stops the reading: it is one error), each
//! placed at its path, line and column. What did not read is told apart from what
//! did, so the compiler can check the rest without reporting what is only missing.

use super::compile::{Format, Located};
use super::file::{CatalogFile, OfferFile, PoolFile, RuleFile};
use super::locate;
use super::slots::SlotTemplate;
use crate::model::ConsumerSpec;
use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::collections::{BTreeMap, BTreeSet};
use toml::de::{DeTable, DeValue};

/// The file's top level, its lists skipped: they are read item by item.
#[derive(Deserialize, Default)]
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
/// reported; a value that is not a list is one error. Gives each item that read
/// with its index in the file.
fn toml_list<T: serde::de::DeserializeOwned>(
    text: &str,
    key: &str,
    value: Option<&toml::Spanned<DeValue<'_>>>,
    errors: &mut Vec<Located>,
    unread: &mut Unread,
) -> Vec<(usize, T)> {
    let Some(value) = value else {
        return Vec::new();
    };
    let DeValue::Array(items) = value.get_ref() else {
        let de = toml::de::ValueDeserializer::from(value.clone());
        if let Err(e) = serde_path_to_error::deserialize::<_, Vec<T>>(de) {
            errors.push(toml_item_error(text, key, e));
            unread.whole(key);
        }
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let de = toml::de::ValueDeserializer::from(item.clone());
        match serde_path_to_error::deserialize::<_, T>(de) {
            Ok(t) => out.push((i, t)),
            Err(e) => {
                errors.push(toml_item_error(text, &format!("{key}[{i}]"), e));
                let name = match item.get_ref() {
                    DeValue::Table(t) => t.iter().find_map(|(k, v)| match v.get_ref() {
                        DeValue::String(n) if k.get_ref() == "name" => Some(n.to_string()),
                        _ => None,
                    }),
                    _ => None,
                };
                unread.item(key, name);
            }
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
    unread: &mut Unread,
) -> Vec<(usize, T)> {
    let Some(raw) = raw else {
        return Vec::new();
    };
    let base = |r: &RawValue| (r.get().as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
    let items: Vec<&RawValue> = match serde_json::from_str(raw.get()) {
        Ok(items) => items,
        Err(e) => {
            errors.push(json_error(text, base(raw), key, "", &e));
            unread.whole(key);
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let mut de = serde_json::Deserializer::from_str(item.get());
        match serde_path_to_error::deserialize::<_, T>(&mut de) {
            Ok(t) => out.push((i, t)),
            Err(e) => {
                let path = path_string(e.path());
                errors.push(json_error(
                    text,
                    base(item),
                    &format!("{key}[{i}]"),
                    &path,
                    e.inner(),
                ));
                let name = serde_json::from_str::<NameOnly>(item.get())
                    .ok()
                    .and_then(|n| n.name);
                unread.item(key, name);
            }
        }
    }
    out
}

/// An item's name, whatever else is wrong with it.
#[derive(Deserialize)]
struct NameOnly {
    name: Option<String>,
}

/// What did not read, list by list: which lists have an item that did not, and
/// those items' names.
#[derive(Default)]
pub(super) struct Unread {
    lists: BTreeMap<String, UnreadItems>,
}

/// The items of one list that did not read.
#[derive(Default)]
struct UnreadItems {
    names: BTreeSet<String>,
    /// One of them has no name that reads (or the whole list did not read).
    nameless: bool,
}

impl Unread {
    /// An item of `key` did not read; `name`, if its name reads.
    fn item(&mut self, key: &str, name: Option<String>) {
        let items = self.lists.entry(key.to_owned()).or_default();
        match name {
            Some(name) => {
                items.names.insert(name);
            }
            None => items.nameless = true,
        }
    }

    /// The whole list `key` did not read (it is not a list).
    fn whole(&mut self, key: &str) {
        self.item(key, None);
    }

    /// Whether an item of `key` did not read.
    pub fn any(&self, key: &str) -> bool {
        self.lists.contains_key(key)
    }

    /// Whether an item of `key` that did not read may have a name `is` accepts (a
    /// nameless one could have any).
    pub fn may_name(&self, key: &str, is: impl Fn(&str) -> bool) -> bool {
        self.lists
            .get(key)
            .is_some_and(|u| u.nameless || u.names.iter().any(|n| is(n)))
    }

    /// Whether `name` may come from a slot template that did not read (its pools
    /// and offers are named `template@start`).
    pub fn may_be_slot(&self, name: &str) -> bool {
        self.lists.get("slots").is_some_and(|u| {
            u.nameless
                || u.names.iter().any(|t| {
                    name.strip_prefix(t.as_str())
                        .is_some_and(|rest| rest.starts_with('@'))
                })
        })
    }
}

/// The text as read: the items that read, each with its index in the file, and
/// every type error.
pub(super) struct Read {
    /// The file, with only the items that read (and the top level's defaults if it did not).
    pub file: CatalogFile,
    /// For each list, the index in the file of each item that read.
    pub kept: Kept,
    /// Every type error, in the file's order, each once.
    pub errors: Vec<Located>,
    /// Whether the top level (name, time zone, hold, channels, window) read.
    pub head: bool,
    /// What did not read.
    pub unread: Unread,
}

/// The index in the file of each item that read, per list.
#[derive(Default)]
pub(super) struct Kept {
    pub pools: Vec<usize>,
    pub offers: Vec<usize>,
    pub rules: Vec<usize>,
    pub slots: Vec<usize>,
    pub consumers: Vec<usize>,
}

fn split<T>(items: Vec<(usize, T)>) -> (Vec<usize>, Vec<T>) {
    items.into_iter().unzip()
}

/// The text read: `Err` with the one syntax error (parsing stops there), else
/// what read and every type error (each item of each list is read on its own,
/// so all are found).
pub(super) fn deserialize(text: &str, format: Format) -> Result<Read, Vec<Located>> {
    // An empty file is an empty catalog in both formats (TOML reads it as one).
    let text = match format {
        Format::Json if text.trim().is_empty() => "{}",
        _ => text,
    };
    let mut errors = Vec::new();
    let mut unread = Unread::default();
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
            let (e, u) = (&mut errors, &mut unread);
            (
                head,
                toml_list(text, "pools", get("pools"), e, u),
                toml_list(text, "offers", get("offers"), e, u),
                toml_list(text, "rules", get("rules"), e, u),
                toml_list(text, "slots", get("slots"), e, u),
                toml_list(text, "consumers", get("consumers"), e, u),
            )
        }
        Format::Json => {
            // Syntax first, of the whole text: one error, and nothing else is read.
            let mut de = serde_json::Deserializer::from_str(text);
            IgnoredAny::deserialize(&mut de)
                .and_then(|_| de.end())
                .map_err(|e| vec![json_error(text, 0, "", "", &e)])?;
            let mut de = serde_json::Deserializer::from_str(text);
            let mut head = serde_path_to_error::deserialize::<_, Head>(&mut de)
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
                .flatten();
            if lists.is_none() {
                // Its lists were not found: nothing of the rest can be checked.
                head = None;
            }
            let lists = lists.unwrap_or(JsonLists {
                pools: None,
                offers: None,
                rules: None,
                slots: None,
                consumers: None,
            });
            let (e, u) = (&mut errors, &mut unread);
            (
                head,
                json_list(text, "pools", lists.pools, e, u),
                json_list(text, "offers", lists.offers, e, u),
                json_list(text, "rules", lists.rules, e, u),
                json_list(text, "slots", lists.slots, e, u),
                json_list(text, "consumers", lists.consumers, e, u),
            )
        }
    };
    // In the file's order, each once (the top level is read twice in JSON).
    errors.sort_by_key(|e| (e.line.is_none(), e.line, e.column));
    errors.dedup();
    let read = head.is_some();
    let head = head.unwrap_or_default();
    let (pools_at, pools): (Vec<usize>, Vec<PoolFile>) = split(pools);
    let (offers_at, offers): (Vec<usize>, Vec<OfferFile>) = split(offers);
    let (rules_at, rules): (Vec<usize>, Vec<RuleFile>) = split(rules);
    let (slots_at, slots): (Vec<usize>, Vec<SlotTemplate>) = split(slots);
    let (consumers_at, consumers): (Vec<usize>, Vec<ConsumerSpec>) = split(consumers);
    let kept = Kept {
        pools: pools_at,
        offers: offers_at,
        rules: rules_at,
        slots: slots_at,
        consumers: consumers_at,
    };
    Ok(Read {
        file: CatalogFile {
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
        },
        kept,
        errors,
        head: read,
        unread,
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
