//! The catalog file: its serde schema, and its compilation into a [`Catalog`].
//!
//! Compilation reports every problem it can find at once. A syntax error stops
//! there (it is one error; a TOML duplicate key or too deep a value names its
//! field). Type errors are collected item by item (`super::read`). Everything
//! after that is collected too, over the items that read: bad times and
//! durations, slot templates, then the compiled catalog's own checks, mapped back
//! to paths in the file — leaving out what only follows from an item that did not
//! read (an unknown pool that is the pool with the wrong type).

use super::compile::{CatalogError, Format, Located};
use super::locate;
use super::read::{self, Read};
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
use serde::Deserialize;
use std::collections::BTreeMap;

/// The file as read: its top level (`Head`) and each list, item by item.
pub(super) struct CatalogFile {
    pub name: String,
    pub time_zone: Option<String>,
    pub hold: Option<String>,
    pub channels: Option<Vec<String>>,
    pub opens_at: Option<String>,
    pub closes_at: Option<String>,
    pub pools: Vec<PoolFile>,
    pub offers: Vec<OfferFile>,
    pub rules: Vec<RuleFile>,
    pub slots: Vec<SlotTemplate>,
    pub consumers: Vec<ConsumerSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PoolFile {
    pub name: String,
    pub capacity: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct OfferFile {
    pub name: String,
    #[serde(default)]
    pub price: u64,
    pub draws: BTreeMap<String, u64>,
    #[serde(default)]
    pub waitlist: WaitlistPolicy,
    #[serde(default)]
    pub opens_at: Option<String>,
    #[serde(default)]
    pub closes_at: Option<String>,
}

/// One flat shape for every rule kind, so a misplaced field gets a clear message
/// naming the kind instead of a generic "unknown variant".
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RuleFile {
    pub name: String,
    pub kind: String,
    #[serde(default)]
    pub offers: Vec<String>,
    pub units: Option<u64>,
    pub value: Option<u64>,
    pub pool: Option<String>,
    pub amount: Option<u64>,
    #[serde(default)]
    pub per_offer: bool,
    pub min_units: Option<u64>,
    pub max_units: Option<u64>,
    pub attribute: Option<String>,
    pub values: Option<Vec<String>>,
    pub channel: Option<String>,
    pub keep: Option<u64>,
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

pub(super) fn compile(text: &str, format: Format, file: &str) -> Result<Catalog, CatalogError> {
    let fail = |issues: Vec<Located>| CatalogError {
        file: file.to_owned(),
        issues,
    };
    let bounded = |errors: Vec<Located>| -> Vec<Located> {
        errors
            .into_iter()
            .map(|mut e| {
                e.path = bound_path(&e.path);
                e.message = bound(&e.message);
                e
            })
            .collect()
    };
    let Read {
        file: f,
        kept,
        errors: type_errors,
        head,
        unread,
    } = read::deserialize(text, format).map_err(|e| fail(bounded(e)))?;
    if !head {
        // Without the top level (time zone, channels) the rest cannot be judged.
        return Err(fail(bounded(type_errors)));
    }
    let mut p = Problems(Vec::new());
    if f.pools.is_empty() && f.slots.is_empty() && !unread.any("pools") && !unread.any("slots") {
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
    for (&i, pool) in kept.pools.iter().zip(&f.pools) {
        pools.push(PoolSpec {
            name: pool.name.clone(),
            capacity: pool.capacity,
        });
        origins.pools.push(format!("pools[{i}]"));
    }
    let mut offers = Vec::new();
    for (&i, o) in kept.offers.iter().zip(&f.offers) {
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
    for (&i, template) in kept.slots.iter().zip(&f.slots) {
        let path = format!("slots[{i}]");
        for (pool, offer) in slots::expand(&mut p, &path, template, tz.as_ref()) {
            pools.push(pool);
            origins.pools.push(path.clone());
            offers.push(offer);
            origins.offers.push(path.clone());
        }
    }
    let mut rules = Vec::new();
    for (&i, r) in kept.rules.iter().zip(&f.rules) {
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
        let path = file_path(
            &catalog,
            &origins,
            &rule_origins,
            &kept.consumers,
            &issue.path,
        );
        p.add(path, issue.message);
    }
    if p.0.is_empty() && type_errors.is_empty() {
        return Ok(catalog);
    }
    // One report per path and message: a slot template's problem repeats for each slot.
    let mut seen = std::collections::BTreeSet::new();
    let issues =
        p.0.into_iter()
            .filter(|i| !only_unread(&unread, &i.message))
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
            .collect::<Vec<_>>();
    // The type errors first (in the file's order), then the rest.
    let mut all = bounded(type_errors);
    all.extend(issues);
    Err(fail(all))
}

/// An issue that follows only from an item that did not read (and was reported
/// as a type error): a pool or offer unknown because its item — or the slot
/// template that makes it — is the one that did not read.
fn only_unread(unread: &read::Unread, message: &str) -> bool {
    let (list, quoted) = match (
        message.strip_prefix("unknown pool "),
        message.strip_prefix("unknown offer "),
    ) {
        (Some(q), _) => ("pools", q),
        (_, Some(q)) => ("offers", q),
        _ => return false,
    };
    // The message quotes the name; compare quoted forms (a long or escaped name too).
    let named = |n: &str| quote(n).to_string() == quoted;
    let unquoted = quoted.strip_prefix('"').and_then(|q| q.strip_suffix('"'));
    unread.may_name(list, named) || unquoted.is_some_and(|n| unread.may_be_slot(n))
}

/// Maps a path in the compiled catalog back to where the file says it.
fn file_path(
    c: &Catalog,
    origins: &Origins,
    rule_origins: &[usize],
    consumer_origins: &[usize],
    path: &str,
) -> String {
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
    if let Some(i) = index("consumers") {
        let origin = consumer_origins.get(i).copied().unwrap_or(i);
        return format!("consumers[{origin}]{rest}");
    }
    match path {
        "default_hold_ms" => "hold".to_owned(),
        p if p.starts_with("window.") => p["window.".len()..].to_owned(),
        p => p.to_owned(),
    }
}
