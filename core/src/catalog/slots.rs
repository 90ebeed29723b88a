//! Slot templates: "every 30 min from 12:00 to 20:00, capacity 8, Tue–Sun, in June".
//!
//! Expansion happens in the catalog's time zone, day by day, so 12:00 stays 12:00
//! local across a DST change. A local time that does not exist on a day (the
//! spring-forward gap) yields no slot; one that exists twice takes the earlier.
//! A same-day cut-off in the gap applies from the end of the gap (the first
//! instant after it); one in the repeated hour takes the earlier instant.

use super::file::{parse_duration, to_millis, Problems};
use crate::limits::{NAME_LEN_MAX, TIMESTAMP_MAX};
use crate::model::quote::quote;
use crate::model::{Draw, Millis, OfferSpec, PoolSpec, SalesWindow, Slot};
use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::{AmbiguousOffset, TimeZone};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Most slots one template may generate (a year of 15-minute slots is ~35,000).
pub const SLOTS_PER_TEMPLATE_MAX: usize = 50_000;

/// What a generated name adds to its template's: `@2026-06-12T18:00`.
const GENERATED_SUFFIX_LEN: usize = "@2026-06-12T18:00".len();

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SlotTemplate {
    name: String,
    every: String,
    from: String,
    until: String,
    capacity: u64,
    #[serde(default)]
    weekdays: Option<Vec<String>>,
    dates: DateRange,
    #[serde(default)]
    lead_time: Option<String>,
    #[serde(default)]
    same_day_cutoff: Option<String>,
    #[serde(default)]
    price: u64,
    #[serde(default)]
    draws: BTreeMap<String, u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DateRange {
    from: String,
    until: String,
}

fn weekday(s: &str) -> Option<Weekday> {
    Some(match s.to_ascii_lowercase().get(..3)? {
        "mon" => Weekday::Monday,
        "tue" => Weekday::Tuesday,
        "wed" => Weekday::Wednesday,
        "thu" => Weekday::Thursday,
        "fri" => Weekday::Friday,
        "sat" => Weekday::Saturday,
        "sun" => Weekday::Sunday,
        _ => return None,
    })
}

/// The instant of a local date and time, or `None` in a spring-forward gap.
fn instant(tz: &TimeZone, dt: DateTime) -> Option<Result<Millis, String>> {
    let ambiguous = tz.to_ambiguous_timestamp(dt);
    if let AmbiguousOffset::Gap { .. } = ambiguous.offset() {
        return None;
    }
    Some(
        ambiguous
            .earlier()
            .map_err(|e| e.to_string())
            .and_then(to_millis),
    )
}

/// The instant a same-day cut-off takes effect on a day: the local time's
/// instant; in a spring-forward gap, the end of the gap (the transition, the
/// first instant after it, e.g. 03:00 local in Europe/Berlin on 2026-03-29); in
/// the repeated hour of a fall-back change, the earlier instant. At most
/// [`TIMESTAMP_MAX`].
fn cutoff_instant(tz: &TimeZone, dt: DateTime) -> Result<Millis, String> {
    let ambiguous = tz.to_ambiguous_timestamp(dt);
    let ts = match ambiguous.offset() {
        AmbiguousOffset::Gap { .. } => {
            // `earlier()` in a gap is before the transition; the transition that
            // follows it is where the gap ends.
            let before_gap = ambiguous.earlier().map_err(|e| e.to_string())?;
            tz.following(before_gap)
                .next()
                .map(|t| t.timestamp())
                .ok_or_else(|| format!("{dt} falls in a gap with no end"))?
        }
        _ => ambiguous.earlier().map_err(|e| e.to_string())?,
    };
    let ms = to_millis(ts)?;
    if ms > TIMESTAMP_MAX {
        return Err(format!(
            "the cut-off on {} is after the latest instant accepted",
            dt.date()
        ));
    }
    Ok(ms)
}

/// The generated pools and offers (one each per slot), or nothing with problems noted.
pub(super) fn expand(
    p: &mut Problems,
    path: &str,
    t: &SlotTemplate,
    tz: Option<&TimeZone>,
) -> Vec<(PoolSpec, OfferSpec)> {
    let before = p.0.len();
    // Generated names are the template's and "@2026-06-12T18:00": bounded before
    // thousands of them are made.
    let name_max = NAME_LEN_MAX - GENERATED_SUFFIX_LEN;
    if t.name.len() > name_max {
        p.add(
            format!("{path}.name"),
            format!(
                "{} bytes is longer than the limit of {name_max} (generated names add {GENERATED_SUFFIX_LEN})",
                t.name.len()
            ),
        );
        return Vec::new();
    }
    let Some(tz) = tz else {
        p.add(path, "slot templates need the catalog's time_zone");
        return Vec::new();
    };
    let every = parse_duration(&t.every).map_err(|e| p.add(format!("{path}.every"), e));
    let from: Result<Time, _> = t.from.parse().map_err(|_| {
        p.add(
            format!("{path}.from"),
            format!("{} is not a time of day like \"12:00\"", quote(&t.from)),
        )
    });
    let until: Result<Time, _> = t.until.parse().map_err(|_| {
        p.add(
            format!("{path}.until"),
            format!("{} is not a time of day like \"20:00\"", quote(&t.until)),
        )
    });
    let first: Result<Date, _> = t.dates.from.parse().map_err(|_| {
        p.add(
            format!("{path}.dates.from"),
            format!("{} is not a date like \"2026-06-01\"", quote(&t.dates.from)),
        )
    });
    let last: Result<Date, _> = t.dates.until.parse().map_err(|_| {
        p.add(
            format!("{path}.dates.until"),
            format!(
                "{} is not a date like \"2026-06-30\"",
                quote(&t.dates.until)
            ),
        )
    });
    let lead_ms = t.lead_time.as_ref().and_then(|l| {
        parse_duration(l)
            .map_err(|e| p.add(format!("{path}.lead_time"), e))
            .ok()
    });
    let cutoff: Option<Time> = t.same_day_cutoff.as_ref().and_then(|c| {
        c.parse()
            .map_err(|_| {
                p.add(
                    format!("{path}.same_day_cutoff"),
                    format!("{} is not a time of day like \"17:00\"", quote(c)),
                )
            })
            .ok()
    });
    let mut days = Vec::new();
    for (i, d) in t.weekdays.iter().flatten().enumerate() {
        match weekday(d) {
            Some(w) => days.push(w),
            None => p.add(
                format!("{path}.weekdays[{i}]"),
                format!(
                    "{} is not a weekday (mon, tue, wed, thu, fri, sat, sun)",
                    quote(d)
                ),
            ),
        }
    }
    let (Ok(every), Ok(from), Ok(until), Ok(first), Ok(last)) = (every, from, until, first, last)
    else {
        return Vec::new();
    };
    if every == 0 || every % 60_000 != 0 {
        p.add(
            format!("{path}.every"),
            "must be a whole number of minutes, at least 1",
        );
        return Vec::new();
    }
    if until <= from {
        p.add(format!("{path}.until"), "ends before (or when) it starts");
        return Vec::new();
    }
    if last < first {
        p.add(
            format!("{path}.dates.until"),
            "the date range ends before it starts",
        );
        return Vec::new();
    }
    if p.0.len() > before {
        return Vec::new();
    }
    let step = jiff::SignedDuration::from_millis(every as i64);
    let mut out = Vec::new();
    let mut date = first;
    while date <= last {
        if days.is_empty() || days.contains(&date.weekday()) {
            let cutoff_at = match cutoff.map(|c| cutoff_instant(tz, date.to_datetime(c))) {
                Some(Ok(t)) => Some(t),
                Some(Err(e)) => {
                    p.add(format!("{path}.same_day_cutoff"), e);
                    return Vec::new();
                }
                None => None,
            };
            let mut start = from;
            loop {
                let Ok(end) = start.checked_add(step) else {
                    break;
                };
                if end > until || end <= start {
                    break;
                }
                // A slot lasts `every` in real time, even when a DST change
                // falls inside it (its local end may not exist).
                if let Some(Ok(starts_at)) = instant(tz, date.to_datetime(start)) {
                    let Some(ends_at) =
                        starts_at.checked_add(every).filter(|&e| e <= TIMESTAMP_MAX)
                    else {
                        p.add(
                            format!("{path}.dates.until"),
                            "a slot ends after the latest instant accepted",
                        );
                        return Vec::new();
                    };
                    let name = format!(
                        "{}@{}T{:02}:{:02}",
                        t.name,
                        date,
                        start.hour(),
                        start.minute()
                    );
                    let mut draws = vec![Draw::new(&name, 1)];
                    draws.extend(t.draws.iter().map(|(pool, &n)| Draw::new(pool, n)));
                    out.push((
                        PoolSpec {
                            name: name.clone(),
                            capacity: t.capacity,
                        },
                        OfferSpec {
                            name,
                            price: t.price,
                            draws,
                            waitlist: Default::default(),
                            window: SalesWindow::default(),
                            slot: Some(Slot {
                                template: t.name.clone(),
                                starts_at,
                                ends_at,
                                lead_ms,
                                cutoff_at,
                            }),
                        },
                    ));
                    if out.len() > SLOTS_PER_TEMPLATE_MAX {
                        p.add(
                            path.to_owned(),
                            format!("generates more than {SLOTS_PER_TEMPLATE_MAX} slots"),
                        );
                        return Vec::new();
                    }
                }
                start = end;
            }
        }
        match date.tomorrow() {
            Ok(d) => date = d,
            Err(_) => break,
        }
    }
    if out.is_empty() {
        p.add(path.to_owned(), "the template generates no slot");
    }
    out
}
