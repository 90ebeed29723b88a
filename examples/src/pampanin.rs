//! Pampanin's delivery launch, replayed deterministically.
//!
//! The parlour announces its delivery service on Friday, 23 October 2026 at noon.
//! From then until 20:00, web orders pour in (fast at first, then a steady trickle)
//! and the phone rings every few minutes. Every order is one delivery slot plus
//! half-litre tubs of ice cream. The catalog refuses what the shop cannot do: slots
//! that start in less than 45 minutes, same-day orders from 17:00 on, addresses
//! outside the delivery area, orders under 15 EUR or over 8 tubs, full slots, empty
//! flavours, and web orders for the evening deliveries the phone keeps for regulars.
//!
//! Every accepted order is checked by the application against the rules it should
//! have passed, so a ledger that let one through shows up as a violation.

use crate::sim::{self, local, reason_key, Queue, Rng, MINUTE, SECOND};
use kontingent::catalog::RuleKind;
use kontingent::{
    Action, Catalog, Command, EventKind, Ledger, Millis, Outcome, Refusal, Request, ReservationId,
    ReservationState, SlotView,
};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// The campaign file, embedded so the example runs from anywhere.
pub const CATALOG: &str = include_str!("../pampanin-delivery/catalog.toml");
pub const CATALOG_FILE: &str = "examples/pampanin-delivery/catalog.toml";
pub const DEFAULT_SEED: u64 = 20_261_023;
/// The slot template's name.
pub const TEMPLATE: &str = "delivery";

/// Relative popularity of the flavours (by pool name).
const FLAVOURS: &[(&str, f64)] = &[
    ("vanilla", 25.0),
    ("chocolate", 22.0),
    ("stracciatella", 15.0),
    ("strawberry", 14.0),
    ("pistachio", 10.0),
    ("raspberry-sorbet", 14.0),
];

/// Web orders per second: `WEB_PEAK + WEB_FLOOR` right after the announcement,
/// decaying with a time constant of `WEB_DECAY_S` seconds to `WEB_FLOOR`.
const WEB_PEAK: f64 = 0.04;
const WEB_DECAY_S: f64 = 2400.0;
const WEB_FLOOR: f64 = 0.004;
/// Seconds between two phone calls (one person answers the phone).
const PHONE_GAP_S: (u64, u64) = (150, 420);

/// Postal codes of people who order: the delivery area, and a few from outside it.
const INSIDE: &[&str] = &["49685", "49661", "49681", "49688", "49692"];
const OUTSIDE: &[&str] = &["49393", "26169", "49377", "49624"];

/// Compile the embedded catalog.
pub fn catalog() -> Result<Catalog, String> {
    Catalog::from_toml_str(CATALOG, CATALOG_FILE).map_err(|e| e.to_string())
}

/// Replay the launch day with the embedded catalog.
pub fn run(seed: u64) -> Report {
    let catalog = catalog().unwrap_or_else(|e| panic!("{e}"));
    run_with(catalog, seed)
}

/// Replay the launch day against a catalog of the same shape (a `delivery` slot
/// template, tub offers drawing from flavour pools, the rules of the story).
pub fn run_with(catalog: Catalog, seed: u64) -> Report {
    Sim::new(catalog, seed).run()
}

// ------------------------------------------------------------------------- report

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    pub seed: u64,
    pub opens_at: Millis,
    pub web_orders: u64,
    pub phone_calls: u64,
    /// Reserve commands with a new request id, and repeats of one (double clicks).
    pub requests: u64,
    pub repeats: u64,
    pub repeat_mismatches: u64,
    /// Orders confirmed (and not released) at the end, by channel.
    pub accepted_web: u64,
    pub accepted_phone: u64,
    /// Web baskets held but never paid (expired).
    pub expired: u64,
    pub refusals: BTreeMap<String, u64>,
    /// Customers who took another slot after a refusal (`next_slots`).
    pub moved_slot: u64,
    pub slots: Vec<SlotLine>,
    pub stock: Vec<StockLine>,
    /// Accepted orders that broke a rule the application knows of (must be 0).
    pub violations: Vec<String>,
    /// Requests whose window, slot and rule refusal the application predicted
    /// on its own (`closed`, `same_day_cutoff`, `lead_time`, the rules, in the
    /// documented order), and the predictions the ledger contradicted (must be none).
    pub oracle_checked: u64,
    pub oracle_mismatches: Vec<String>,
    /// Pools kept for the phone: `(pool, keep, web units, phone units)` at the end.
    pub shares: Vec<(String, u64, u64, u64)>,
    /// Slots where the web was refused `sold_out` and the phone got a unit afterwards.
    pub share_evidence: Vec<String>,
    /// The first web refusal on a kept slot, and what `preview` said the same order
    /// would get by phone at that moment.
    pub share_demo: Option<ShareDemo>,
    /// What `next_slots` offered at two moments, per channel.
    pub next_slots: Vec<Offered>,
    /// Slots generated per local date.
    pub slots_per_day: BTreeMap<String, u64>,
    /// `(offer, starts_at)` of the 12:00 slots on both sides of the DST change.
    pub dst: Vec<(String, Millis)>,
    pub oversold: u64,
    pub commands: u64,
    pub digest: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlotLine {
    pub offer: String,
    pub starts_at: Millis,
    pub capacity: u64,
    /// Promised at the end (confirmed + held) in the ledger.
    pub taken: u64,
    /// Of which by phone / by web, from the application's records.
    pub phone: u64,
    pub web: u64,
}

/// The answer of `Ledger::next_slots` at one moment for one channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Offered {
    pub label: String,
    pub at: Millis,
    pub channel: String,
    pub slots: Vec<SlotView>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StockLine {
    pub flavour: String,
    pub capacity_dl: u64,
    pub left_dl: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShareDemo {
    pub at: Millis,
    pub pool: String,
    pub web: Refusal,
    pub phone_preview: Outcome,
}

impl Report {
    pub fn refusals_of(&self, key: &str) -> u64 {
        self.refusals.get(key).copied().unwrap_or(0)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tz = sim::berlin();
        writeln!(
            f,
            "Pampanin delivery launch: announced {}, seed {}",
            local(&tz, self.opens_at, "%A %-d %B %Y %H:%M %Z"),
            self.seed
        )?;
        writeln!(
            f,
            "{} web orders and {} phone calls; {} requests (+{} double clicks, different answer: {})",
            self.web_orders, self.phone_calls, self.requests, self.repeats, self.repeat_mismatches
        )?;
        writeln!(
            f,
            "accepted: {} by web, {} by phone; {} web baskets expired unpaid; {} moved to another slot after a refusal",
            self.accepted_web, self.accepted_phone, self.expired, self.moved_slot
        )?;
        writeln!(f)?;
        writeln!(f, "deliveries per slot (taken / capacity, web + phone):")?;
        let mut days: Vec<(String, Vec<&SlotLine>)> = Vec::new();
        for s in &self.slots {
            let d = local(&tz, s.starts_at, "%a %d %b (%Z)");
            match days.last_mut() {
                Some((day, slots)) if *day == d => slots.push(s),
                _ => days.push((d, vec![s])),
            }
        }
        for (day, slots) in days {
            let taken: u64 = slots.iter().map(|s| s.taken).sum();
            let capacity: u64 = slots.iter().map(|s| s.capacity).sum();
            let mut row = format!("  {day:<17} {taken:>2}/{capacity}:");
            for s in slots {
                let mark = if s.taken >= s.capacity { '*' } else { ' ' };
                row.push_str(&format!(
                    " {} {}/{}{mark}",
                    local(&tz, s.starts_at, "%H:%M"),
                    s.taken,
                    s.capacity
                ));
                if s.phone > 0 {
                    row.push_str(&format!("(p{})", s.phone));
                }
            }
            writeln!(f, "{}", row.trim_end())?;
        }
        writeln!(f, "  (* full; pN: N of them by phone)")?;
        write!(f, "slots generated per day:")?;
        for (day, n) in &self.slots_per_day {
            write!(f, " {day} {n};")?;
        }
        writeln!(
            f,
            " the change to winter time (25 Oct, 03:00) moves noon in UTC:"
        )?;
        for (offer, at) in &self.dst {
            writeln!(
                f,
                "  {offer} starts at {} UTC ({})",
                local(&jiff::tz::TimeZone::UTC, *at, "%H:%M"),
                local(&tz, *at, "%H:%M %Z, UTC%:z")
            )?;
        }
        writeln!(f)?;
        writeln!(f, "refusals by reason:")?;
        for (reason, n) in &self.refusals {
            writeln!(f, "  {reason:<20} {n:>5}")?;
        }
        writeln!(f, "phone shares (kept, web, phone):")?;
        for (pool, keep, web, phone) in &self.shares {
            writeln!(f, "  {pool}: keep {keep}, web {web}, phone {phone}")?;
        }
        if let Some(demo) = &self.share_demo {
            writeln!(
                f,
                "  {} the web was refused {:?}; preview of the same order by phone: {:?}",
                local(&tz, demo.at, "%H:%M:%S"),
                demo.web,
                demo.phone_preview
            )?;
        }
        writeln!(
            f,
            "  web sold out, phone still served: {}",
            self.share_evidence.join(", ")
        )?;
        writeln!(f, "stock left:")?;
        for s in &self.stock {
            writeln!(
                f,
                "  {:<18} {:>5.1} l of {:>5.1} l",
                s.flavour,
                s.left_dl as f64 / 10.0,
                s.capacity_dl as f64 / 10.0
            )?;
        }
        for o in &self.next_slots {
            write!(f, "next slots {} ({}):", o.label, o.channel)?;
            if o.slots.is_empty() {
                write!(f, " none")?;
            }
            for s in &o.slots {
                write!(
                    f,
                    " {} ({} left);",
                    local(&tz, s.starts_at, "%a %d %b %H:%M"),
                    s.available
                )?;
            }
            writeln!(f)?;
        }
        writeln!(
            f,
            "rule violations among accepted orders: {}",
            self.violations.len()
        )?;
        writeln!(
            f,
            "window, slot and rule refusals predicted by the application: {} requests, {} disagreements",
            self.oracle_checked,
            self.oracle_mismatches.len()
        )?;
        for m in self.oracle_mismatches.iter().take(10) {
            writeln!(f, "  {m}")?;
        }
        for v in &self.violations {
            writeln!(f, "  {v}")?;
        }
        writeln!(f, "oversold: {}", self.oversold)?;
        write!(
            f,
            "{} commands; state digest {}",
            self.commands, self.digest
        )
    }
}

// --------------------------------------------------------------------- simulation

#[derive(Clone, Debug)]
struct SlotInfo {
    offer: String,
    starts_at: Millis,
    capacity: u64,
}

#[derive(Clone, Debug)]
struct Flavour {
    pool: String,
    offer: String,
    price: u64,
    weight: f64,
}

/// The order-intake rules the application knows how to judge itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Check {
    Area,
    MinValue,
    MaxUnits,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Channel {
    Web,
    Phone,
}

impl Channel {
    fn name(self) -> &'static str {
        match self {
            Channel::Web => "web",
            Channel::Phone => "phone",
        }
    }
}

#[derive(Clone, Debug)]
struct Order {
    customer: usize,
    channel: Channel,
    postal: &'static str,
    slot: usize,
    /// `(flavour index, tubs)`, one entry per flavour.
    tubs: Vec<(usize, u64)>,
    patience: u8,
}

enum Task {
    WebArrival,
    PhoneCall,
    Submit(Order),
    Repeat {
        request: Box<Request>,
        first: Outcome,
    },
    Confirm(ReservationId),
    Tick,
    NextSlots(&'static str),
}

struct Sim {
    ledger: Ledger,
    rng: Rng,
    queue: Queue<Task>,
    tz: jiff::tz::TimeZone,
    opens_at: Millis,
    web_until: Millis,
    phone_until: Millis,
    slots: Vec<SlotInfo>,
    flavours: Vec<Flavour>,
    /// `(pool, channel, keep)` of every channel share.
    shares: Vec<(String, String, u64)>,
    allowed: BTreeSet<String>,
    min_value: u64,
    intake: Vec<(Check, String)>,
    max_units: u64,
    lead_ms: Millis,
    cutoff_hm: (i8, i8),
    next_request: u64,
    customers: u64,
    promised: BTreeMap<ReservationId, Order>,
    /// First web `sold_out` per kept pool.
    web_refused_at: BTreeMap<String, Millis>,
    report: Report,
}

impl Sim {
    fn new(catalog: Catalog, seed: u64) -> Self {
        let tz = sim::berlin();
        let opens_at = catalog.window.opens_at.expect("an announcement time");
        let day = local(&tz, opens_at, "%Y-%m-%d");
        let mut slots: Vec<SlotInfo> = Vec::new();
        let mut lead_ms = 0;
        let mut cutoff_at = None;
        for offer in &catalog.offers {
            if let Some(slot) = offer.slot.as_ref().filter(|s| s.template == TEMPLATE) {
                let pool = &offer.draws[0].pool;
                let capacity = catalog
                    .pools
                    .iter()
                    .find(|p| p.name == *pool)
                    .map_or(0, |p| p.capacity);
                slots.push(SlotInfo {
                    offer: offer.name.clone(),
                    starts_at: slot.starts_at,
                    capacity,
                });
                lead_ms = slot.lead_ms.unwrap_or(0);
                if cutoff_at.is_none() {
                    cutoff_at = slot.cutoff_at;
                }
            }
        }
        slots.sort_by_key(|s| s.starts_at);
        let cutoff = cutoff_at.map_or((24, 0), |at| {
            let hm = local(&tz, at, "%H:%M");
            let (h, m) = hm.split_once(':').unwrap_or(("24", "0"));
            (h.parse().unwrap_or(24), m.parse().unwrap_or(0))
        });
        let flavours = FLAVOURS
            .iter()
            .filter_map(|(pool, weight)| {
                let offer = catalog
                    .offers
                    .iter()
                    .find(|o| o.slot.is_none() && o.draws.len() == 1 && o.draws[0].pool == *pool)?;
                Some(Flavour {
                    pool: (*pool).to_owned(),
                    offer: offer.name.clone(),
                    price: offer.price,
                    weight: *weight,
                })
            })
            .collect();
        let mut shares = Vec::new();
        let mut allowed = BTreeSet::new();
        let mut min_value = 0;
        let mut max_units = u64::MAX;
        // The order-intake rules that can refuse an order, in file order.
        let mut intake = Vec::new();
        for rule in &catalog.rules {
            match &rule.kind {
                RuleKind::ChannelShare {
                    pool,
                    channel,
                    keep,
                } => shares.push((pool.clone(), channel.clone(), *keep)),
                RuleKind::AllowedValues { values, .. } => {
                    allowed.extend(values.iter().cloned());
                    intake.push((Check::Area, rule.name.clone()));
                }
                RuleKind::MinOrderValue { value } => {
                    min_value = *value;
                    intake.push((Check::MinValue, rule.name.clone()));
                }
                RuleKind::OrderSize {
                    max_units: Some(m), ..
                } => {
                    max_units = *m;
                    intake.push((Check::MaxUnits, rule.name.clone()));
                }
                _ => {}
            }
        }
        let mut slots_per_day = BTreeMap::new();
        for s in &slots {
            *slots_per_day
                .entry(local(&tz, s.starts_at, "%Y-%m-%d"))
                .or_default() += 1;
        }
        // The noon slots on both sides of the change from CEST to CET.
        let dst = slots
            .iter()
            .filter(|s| {
                let d = local(&tz, s.starts_at, "%m-%d %H:%M");
                d == "10-24 12:00" || d == "10-25 12:00"
            })
            .map(|s| (s.offer.clone(), s.starts_at))
            .collect();

        let mut ledger = Ledger::new();
        ledger
            .apply(&Command::new(
                opens_at - 60 * MINUTE,
                Action::LoadCatalog(Box::new(catalog)),
            ))
            .unwrap_or_else(|e| panic!("loading the catalog: {e}"));
        Sim {
            ledger,
            rng: Rng::new(seed),
            queue: Queue::default(),
            opens_at,
            web_until: sim::instant(&tz, &format!("{day}T19:45")),
            phone_until: sim::instant(&tz, &format!("{day}T19:00")),
            tz,
            slots,
            flavours,
            shares,
            allowed,
            min_value,
            intake,
            max_units,
            lead_ms,
            cutoff_hm: cutoff,
            next_request: 0,
            customers: 0,
            promised: BTreeMap::new(),
            web_refused_at: BTreeMap::new(),
            report: Report {
                seed,
                opens_at,
                web_orders: 0,
                phone_calls: 0,
                requests: 0,
                repeats: 0,
                repeat_mismatches: 0,
                accepted_web: 0,
                accepted_phone: 0,
                expired: 0,
                refusals: BTreeMap::new(),
                moved_slot: 0,
                slots: Vec::new(),
                stock: Vec::new(),
                violations: Vec::new(),
                oracle_checked: 0,
                oracle_mismatches: Vec::new(),
                shares: Vec::new(),
                share_evidence: Vec::new(),
                share_demo: None,
                next_slots: Vec::new(),
                slots_per_day,
                dst,
                oversold: 0,
                commands: 1,
                digest: String::new(),
            },
        }
    }

    fn run(mut self) -> Report {
        let open = self.opens_at;
        // Three fans who heard it early order a minute before the announcement.
        for _ in 0..3 {
            let at = open - self.rng.between(5, 90) * SECOND;
            self.queue.push(at, Task::WebArrival);
        }
        self.queue
            .push(open + self.rng.between(5, 30) * SECOND, Task::WebArrival);
        self.queue
            .push(open + self.rng.between(30, 120) * SECOND, Task::PhoneCall);
        let day = local(&self.tz, open, "%Y-%m-%d");
        self.queue.push(
            sim::instant(&self.tz, &format!("{day}T15:00")),
            Task::NextSlots("at 15:00"),
        );
        self.queue.push(
            sim::instant(&self.tz, &format!("{day}T20:15")),
            Task::NextSlots("at 20:15, after the rush"),
        );
        while let Some((at, task)) = self.queue.pop() {
            self.step(at, task);
        }
        self.finish()
    }

    fn step(&mut self, at: Millis, task: Task) {
        match task {
            Task::WebArrival => {
                if at >= self.opens_at {
                    // Fast after the announcement, then a steady trickle.
                    let s = (at - self.opens_at) as f64 / 1000.0;
                    let rate = WEB_PEAK * (-s / WEB_DECAY_S).exp() + WEB_FLOOR;
                    let next = at + (self.rng.exp(rate) * 1000.0) as Millis + 1;
                    if next < self.web_until {
                        self.queue.push(next, Task::WebArrival);
                    }
                }
                self.report.web_orders += 1;
                let order = self.new_order(at, Channel::Web);
                self.submit(at, order);
            }
            Task::PhoneCall => {
                let next = at + self.rng.between(PHONE_GAP_S.0, PHONE_GAP_S.1) * SECOND;
                if next < self.phone_until {
                    self.queue.push(next, Task::PhoneCall);
                }
                self.report.phone_calls += 1;
                let order = self.new_order(at, Channel::Phone);
                self.submit(at, order);
            }
            Task::Submit(order) => self.submit(at, order),
            Task::Repeat { request, first } => {
                let outcome = self.apply(at, Action::Reserve(*request));
                self.report.repeats += 1;
                if outcome != first {
                    self.report.repeat_mismatches += 1;
                }
            }
            Task::Confirm(reservation) => match self.apply(at, Action::Confirm { reservation }) {
                Outcome::Confirmed { .. } => {}
                Outcome::Refused(r) => {
                    *self.report.refusals.entry(reason_key(&r)).or_default() += 1;
                }
                other => panic!("unexpected outcome of a confirm: {other:?}"),
            },
            Task::Tick => {
                self.apply(at, Action::Tick);
            }
            Task::NextSlots(label) => {
                let at = at.max(self.ledger.now());
                for channel in ["web", "phone"] {
                    let slots = self
                        .ledger
                        .next_slots(TEMPLATE, at, channel, 5)
                        .unwrap_or_else(|e| panic!("next_slots: {e}"));
                    self.report.next_slots.push(Offered {
                        label: label.to_owned(),
                        at,
                        channel: channel.to_owned(),
                        slots,
                    });
                }
            }
        }
    }

    fn apply(&mut self, at: Millis, action: Action) -> Outcome {
        let applied = self
            .ledger
            .apply(&Command::new(at, action))
            .unwrap_or_else(|e| panic!("a simulated command was invalid: {e}"));
        self.report.commands += 1;
        for event in &applied.events {
            if let EventKind::Expired { .. } = event.kind {
                self.report.expired += 1;
            }
        }
        if !sim::oversold_pools(&self.ledger).is_empty() {
            self.report.oversold += 1;
        }
        applied.outcome
    }

    /// The local date and (hour, minute) of an instant.
    fn local_day_hm(&self, at: Millis) -> (String, (i8, i8)) {
        let hm = local(&self.tz, at, "%H %M");
        let (h, m) = hm.split_once(' ').unwrap_or(("0", "0"));
        (
            local(&self.tz, at, "%Y-%m-%d"),
            (h.parse().unwrap_or(0), m.parse().unwrap_or(0)),
        )
    }

    fn new_order(&mut self, at: Millis, channel: Channel) -> Order {
        self.customers += 1;
        let customer = self.customers as usize;
        let postal = if self.rng.chance(0.08) {
            OUTSIDE[self.rng.between(0, OUTSIDE.len() as u64 - 1) as usize]
        } else {
            INSIDE[self.rng.between(0, INSIDE.len() as u64 - 1) as usize]
        };
        let today = local(&self.tz, at.max(self.opens_at), "%Y-%m-%d");
        let x = self.rng.unit();
        let slot = match channel {
            // Regulars phone for tonight's evening slots, or the weekend.
            Channel::Phone if x < 0.4 => self.pick_slot(&today, at, (18, 0), (19, 30)),
            // "As soon as possible": the very next slot, or one in the next two hours.
            Channel::Web if x < 0.18 => self.pick_slot(&today, at, (0, 0), (23, 59)).map(|_| {
                (0..self.slots.len())
                    .find(|&i| self.slots[i].starts_at > at)
                    .unwrap_or(0)
            }),
            Channel::Web if x < 0.45 => {
                let soon = at + self.rng.between(0, 120) * MINUTE;
                let (_, hm) = self.local_day_hm(soon);
                self.pick_slot(&today, soon, hm, (19, 30))
            }
            _ => {
                let offset = if self.rng.chance(0.55) {
                    1
                } else if self.rng.chance(0.8) {
                    2
                } else {
                    7
                };
                let date = local(&self.tz, at + offset * 24 * 60 * MINUTE, "%Y-%m-%d");
                let (from, until) = if self.rng.chance(0.6) {
                    ((17, 0), (19, 30))
                } else {
                    ((12, 0), (17, 0))
                };
                self.pick_slot(&date, 0, from, until)
            }
        };
        // Nothing left today in the wanted window: the first slot an hour from now.
        let slot = slot.unwrap_or_else(|| {
            (0..self.slots.len())
                .find(|&i| self.slots[i].starts_at > at + 60 * MINUTE)
                .unwrap_or(self.slots.len() - 1)
        });
        let weights: Vec<f64> = self.flavours.iter().map(|f| f.weight).collect();
        let n = match self.rng.unit() {
            x if x < 0.05 => 1,
            x if x < 0.18 => 2,
            x if x < 0.60 => 3,
            x if x < 0.82 => 4,
            x if x < 0.97 => 5 + self.rng.between(0, 1),
            _ => 10,
        };
        let mut tubs: Vec<(usize, u64)> = Vec::new();
        for _ in 0..n {
            let flavour = self.rng.weighted(&weights);
            match tubs.iter_mut().find(|(f, _)| *f == flavour) {
                Some(t) => t.1 += 1,
                None => tubs.push((flavour, 1)),
            }
        }
        Order {
            customer,
            channel,
            postal,
            slot,
            tubs,
            patience: 3,
        }
    }

    /// A random slot on `date` between the local times `from` and `until`
    /// (inclusive) that starts after `after`.
    fn pick_slot(
        &mut self,
        date: &str,
        after: Millis,
        from: (i8, i8),
        until: (i8, i8),
    ) -> Option<usize> {
        let candidates: Vec<usize> = (0..self.slots.len())
            .filter(|&i| {
                let s = &self.slots[i];
                let (d, hm) = self.local_day_hm(s.starts_at);
                d == date && hm >= from && hm <= until && s.starts_at > after
            })
            .collect();
        if candidates.is_empty() {
            return None;
        }
        let i = self.rng.between(0, candidates.len() as u64 - 1) as usize;
        Some(candidates[i])
    }

    fn request(&mut self, order: &Order) -> Request {
        self.next_request += 1;
        let mut request = Request::new(
            format!("order-{:05}", self.next_request),
            format!("gast{:04}@example.de", order.customer),
        )
        .channel(order.channel.name())
        .attribute("postal_code", order.postal)
        .line(self.slots[order.slot].offer.clone(), 1);
        for (flavour, n) in &order.tubs {
            request = request.line(self.flavours[*flavour].offer.clone(), *n);
        }
        if order.channel == Channel::Phone {
            // The phone takes the order for good (cash on delivery).
            request = request.confirm();
        }
        request
    }

    fn submit(&mut self, at: Millis, order: Order) {
        let request = self.request(&order);
        let outcome = self.apply(at, Action::Reserve(request.clone()));
        self.report.requests += 1;
        self.check_oracle(at, &order, &outcome);
        if order.channel == Channel::Web && self.rng.chance(0.04) {
            let again = at + self.rng.between(80, 400);
            self.queue.push(
                again,
                Task::Repeat {
                    request: Box::new(request.clone()),
                    first: outcome.clone(),
                },
            );
        }
        match outcome {
            Outcome::Held {
                reservation,
                expires_at,
                ..
            } => {
                self.accepted(at, reservation, &order);
                self.queue.push(expires_at, Task::Tick);
                if self.rng.chance(0.92) {
                    let pay = at + self.rng.between(60, 420) * SECOND;
                    self.queue.push(pay, Task::Confirm(reservation));
                }
            }
            Outcome::Confirmed { reservation, .. } => self.accepted(at, reservation, &order),
            Outcome::Refused(refusal) => {
                *self
                    .report
                    .refusals
                    .entry(reason_key(&refusal))
                    .or_default() += 1;
                self.note_share(at, &order, &request, &refusal);
                self.react(at, order, &refusal);
            }
            other => panic!("unexpected outcome of an order: {other:?}"),
        }
    }

    /// The refusal the story's rules call for before capacity is looked at,
    /// judged independently of the ledger (local times, not compiled instants).
    fn expected_refusal(&self, at: Millis, order: &Order) -> Option<String> {
        if at < self.opens_at {
            return Some("not_open_yet".into());
        }
        let slot = &self.slots[order.slot];
        if at >= slot.starts_at {
            return Some("closed".into());
        }
        let (order_day, order_hm) = self.local_day_hm(at);
        let (slot_day, _) = self.local_day_hm(slot.starts_at);
        if order_day == slot_day && order_hm >= self.cutoff_hm {
            return Some("same_day_cutoff".into());
        }
        if at + self.lead_ms > slot.starts_at {
            return Some("lead_time".into());
        }
        let value: u64 = order
            .tubs
            .iter()
            .map(|(f, n)| self.flavours[*f].price * n)
            .sum();
        let units: u64 = order.tubs.iter().map(|(_, n)| n).sum();
        self.intake
            .iter()
            .find(|(check, _)| match check {
                Check::Area => !self.allowed.contains(order.postal),
                Check::MinValue => value < self.min_value,
                Check::MaxUnits => units > self.max_units,
            })
            .map(|(_, name)| name.clone())
    }

    fn check_oracle(&mut self, at: Millis, order: &Order, outcome: &Outcome) {
        let expected = self.expected_refusal(at, order);
        let actual = match outcome {
            Outcome::Refused(r) => Some(reason_key(r)),
            _ => None,
        };
        let judged = ["not_open_yet", "closed", "same_day_cutoff", "lead_time"];
        let covered =
            |key: &str| judged.contains(&key) || self.intake.iter().any(|(_, name)| name == key);
        self.report.oracle_checked += 1;
        let ok = match (&expected, &actual) {
            (Some(e), Some(a)) => e == a,
            (Some(_), None) => false,
            (None, Some(a)) => !covered(a),
            (None, None) => true,
        };
        if !ok {
            self.report.oracle_mismatches.push(format!(
                "{} {} {} {}: expected {:?}, got {outcome:?}",
                local(&self.tz, at, "%H:%M:%S"),
                order.channel.name(),
                order.postal,
                self.slots[order.slot].offer,
                expected.as_deref().unwrap_or("no rule refusal"),
            ));
        }
    }

    /// The application's own check of an accepted order against the story's rules.
    fn accepted(&mut self, at: Millis, reservation: ReservationId, order: &Order) {
        let slot = &self.slots[order.slot];
        let mut broken = Vec::new();
        if at + self.lead_ms > slot.starts_at {
            broken.push("lead time");
        }
        let (order_day, order_hm) = self.local_day_hm(at);
        let (slot_day, _) = self.local_day_hm(slot.starts_at);
        if order_day == slot_day && order_hm >= self.cutoff_hm {
            broken.push("same-day cut-off");
        }
        if !self.allowed.contains(order.postal) {
            broken.push("delivery area");
        }
        let value: u64 = order
            .tubs
            .iter()
            .map(|(f, n)| self.flavours[*f].price * n)
            .sum();
        if value < self.min_value {
            broken.push("minimum order value");
        }
        let units: u64 = order.tubs.iter().map(|(_, n)| n).sum();
        if units > self.max_units {
            broken.push("order size");
        }
        if at < self.opens_at {
            broken.push("before the announcement");
        }
        for b in broken {
            self.report.violations.push(format!(
                "reservation {reservation} ({}, {}): {b}",
                slot.offer,
                order.channel.name()
            ));
        }
        if order.channel == Channel::Phone {
            let pool = &slot.offer;
            if let Some(&refused_at) = self.web_refused_at.get(pool) {
                if refused_at <= at && !self.report.share_evidence.contains(pool) {
                    self.report.share_evidence.push(pool.clone());
                }
            }
        }
        self.promised.insert(reservation, order.clone());
    }

    /// A web order refused on a pool the phone keeps units of: record it, and ask
    /// the ledger what the same order would get by phone right now.
    fn note_share(&mut self, at: Millis, order: &Order, request: &Request, refusal: &Refusal) {
        let Refusal::SoldOut { pool, .. } = refusal else {
            return;
        };
        if order.channel != Channel::Web || !self.shares.iter().any(|(p, _, _)| p == pool) {
            return;
        }
        // Only interesting while the pool still has units, kept for the phone.
        if self.ledger.pool(pool).is_none_or(|p| p.available == 0) {
            return;
        }
        self.web_refused_at.entry(pool.clone()).or_insert(at);
        if self.report.share_demo.is_none() {
            let mut by_phone = request.clone();
            by_phone.request_id.push_str("-preview");
            by_phone.channel = "phone".to_owned();
            by_phone.confirm = true;
            let phone_preview = self
                .ledger
                .preview(&by_phone, at)
                .unwrap_or_else(|e| panic!("preview: {e}"));
            if phone_preview.is_promise() {
                self.report.share_demo = Some(ShareDemo {
                    at,
                    pool: pool.clone(),
                    web: refusal.clone(),
                    phone_preview,
                });
            }
        }
    }

    /// What a refused customer (or the phone operator) does next.
    fn react(&mut self, at: Millis, mut order: Order, refusal: &Refusal) {
        if order.patience == 0 {
            return;
        }
        order.patience -= 1;
        let retry_at = at
            + match order.channel {
                Channel::Web => self.rng.between(10, 60) * SECOND,
                // The operator fixes the order while still on the line.
                Channel::Phone => self.rng.between(10, 30) * SECOND,
            };
        let slot_pool = |sim: &Self, pool: &str| sim.slots.iter().any(|s| s.offer == pool);
        match refusal {
            Refusal::NotOpenYet { opens_at } => {
                let again = opens_at + self.rng.between(1, 60) * SECOND;
                self.queue.push(again, Task::Submit(order));
            }
            Refusal::Rule { name, .. } if name == "lead_time" || name == "same_day_cutoff" => {
                self.move_slot(retry_at, order, false);
            }
            Refusal::Closed { .. } => self.move_slot(retry_at, order, false),
            Refusal::SoldOut { pool, .. } if slot_pool(self, pool) => {
                self.move_slot(retry_at, order, true);
            }
            Refusal::SoldOut { pool, .. } => {
                // A flavour ran out: take vanilla (or the first that is left) instead.
                let gone = self.flavours.iter().position(|f| f.pool == *pool);
                let instead = (0..self.flavours.len()).find(|&i| {
                    Some(i) != gone
                        && self
                            .ledger
                            .offer_available(&self.flavours[i].offer)
                            .is_some_and(|n| n > 0)
                });
                if let (Some(gone), Some(instead)) = (gone, instead) {
                    if self.rng.chance(0.7) {
                        let moved: u64 = order
                            .tubs
                            .iter()
                            .filter(|(f, _)| *f == gone)
                            .map(|(_, n)| n)
                            .sum();
                        order.tubs.retain(|(f, _)| *f != gone);
                        match order.tubs.iter_mut().find(|(f, _)| *f == instead) {
                            Some(t) => t.1 += moved,
                            None => order.tubs.push((instead, moved)),
                        }
                        self.queue.push(retry_at, Task::Submit(order));
                    }
                }
            }
            Refusal::Rule { name, .. } if name == "min_order_value" && self.rng.chance(0.7) => {
                order.tubs[0].1 += 1;
                self.queue.push(retry_at, Task::Submit(order));
            }
            Refusal::Rule { name, .. } if name.starts_with("max_") => {
                let mut left = self.max_units;
                for t in &mut order.tubs {
                    t.1 = t.1.min(left);
                    left -= t.1;
                }
                order.tubs.retain(|t| t.1 > 0);
                self.queue.push(retry_at, Task::Submit(order));
            }
            _ => {}
        }
    }

    /// Take the first slot `next_slots` offers (from the wanted start on if
    /// `later`, else the earliest), as the order page would.
    fn move_slot(&mut self, at: Millis, mut order: Order, later: bool) {
        let wanted = self.slots[order.slot].starts_at;
        let Ok(options) = self.ledger.next_slots(
            TEMPLATE,
            at.max(self.ledger.now()),
            order.channel.name(),
            64,
        ) else {
            return;
        };
        let pick = options
            .iter()
            .find(|s| !later || s.starts_at >= wanted)
            .or(options.first());
        if let Some(slot) = pick.and_then(|p| self.slots.iter().position(|s| s.offer == p.offer)) {
            order.slot = slot;
            self.report.moved_slot += 1;
            self.queue.push(at, Task::Submit(order));
        }
    }

    fn finish(mut self) -> Report {
        let ledger = &self.ledger;
        let r = &mut self.report;
        let mut web_units: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        for (id, order) in &self.promised {
            let Some(view) = ledger.reservation(*id) else {
                r.violations
                    .push(format!("reservation {id} is unknown to the ledger"));
                continue;
            };
            match view.state {
                ReservationState::Confirmed | ReservationState::Held => {
                    let e = web_units
                        .entry(self.slots[order.slot].offer.clone())
                        .or_default();
                    match order.channel {
                        Channel::Web => {
                            e.0 += 1;
                            r.accepted_web += u64::from(view.state == ReservationState::Confirmed);
                        }
                        Channel::Phone => {
                            e.1 += 1;
                            r.accepted_phone +=
                                u64::from(view.state == ReservationState::Confirmed);
                        }
                    }
                }
                ReservationState::Expired | ReservationState::Released => {}
            }
        }
        r.slots = self
            .slots
            .iter()
            .map(|s| {
                let pool = ledger.pool(&s.offer).expect("slot pool");
                let (web, phone) = web_units.get(&s.offer).copied().unwrap_or_default();
                SlotLine {
                    offer: s.offer.clone(),
                    starts_at: s.starts_at,
                    capacity: s.capacity,
                    taken: pool.confirmed + pool.held,
                    phone,
                    web,
                }
            })
            .collect();
        r.shares = self
            .shares
            .iter()
            .map(|(pool, _, keep)| {
                let (web, phone) = web_units.get(pool).copied().unwrap_or_default();
                (pool.clone(), *keep, web, phone)
            })
            .collect();
        r.stock = self
            .flavours
            .iter()
            .map(|f| {
                let p = ledger.pool(&f.pool).expect("flavour pool");
                StockLine {
                    flavour: f.pool.clone(),
                    capacity_dl: p.capacity,
                    left_dl: p.available,
                }
            })
            .collect();
        r.digest = ledger.digest().to_string();
        self.report
    }
}
