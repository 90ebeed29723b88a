//! The Emstek voucher campaign's opening rush, replayed deterministically.
//!
//! The form opens on Sunday, 29 November 2026 at 12:00 (Europe/Berlin). The first
//! customer submits at 12:00:46, 129 have submitted by 12:02 and 209 by 12:03; then a
//! long tail of arrivals continues until the budget is gone, about two hours later.
//! Customers pick one or two restaurants and 10, 20 or 50 EUR vouchers; they retry
//! after a timeout and double-click (both with the same request id), try another
//! restaurant or a smaller voucher when something is sold out, join a waiting list,
//! sometimes never pay (their hold expires and goes to the waiting list), and now and
//! then cancel. Intake is paused from 12:30 to 12:40: every request committed in that
//! window is refused `paused`, also when its form was opened before the pause.
//!
//! The report compares what the *application* told customers with what the ledger
//! holds at the end, so a broken ledger shows up as false confirmations, oversold
//! pools or repeats that got a different answer.

use crate::sim::{self, local, reason_key, Queue, Rng, MINUTE, SECOND};
use kontingent::catalog::{Limit, RuleKind};
use kontingent::{
    Action, Catalog, Command, Durability, DurableLedger, EventKind, Ledger, Millis, Outcome,
    Refusal, Request, ReservationId, ReservationState, WaitEntryId,
};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// The campaign file, embedded so the demo runs from anywhere.
pub const CATALOG: &str = include_str!("../emstek-vouchers/catalog.toml");
pub const CATALOG_FILE: &str = "examples/emstek-vouchers/catalog.toml";
/// The seed the demo and the tests use unless told otherwise.
pub const DEFAULT_SEED: u64 = 20_261_129;

/// The pool that counts euros of voucher value.
pub const BUDGET: &str = "budget";

/// How popular each restaurant is (relative weights for a customer's first choice).
const POPULARITY: &[(&str, f64)] = &[
    ("eiscafe-venezia", 9.0),
    ("zur-post", 16.0),
    ("pizzeria-da-mario", 13.0),
    ("landhaus-linde", 10.0),
    ("hofcafe", 7.0),
    ("bistro-am-markt", 6.0),
    ("dorfkrug", 5.0),
    ("asia-garden", 6.0),
    ("steakhaus-halen", 6.0),
    ("schuetzenhof", 4.0),
];

/// The long tail after 12:03: arrivals per second decay from `TAIL_PEAK + TAIL_FLOOR`
/// with a time constant of `TAIL_DECAY_S` seconds down to `TAIL_FLOOR`.
const TAIL_PEAK: f64 = 0.9;
const TAIL_DECAY_S: f64 = 240.0;
const TAIL_FLOOR: f64 = 0.14;
/// Share of customers refused at a full restaurant who try another one.
const OTHER_RESTAURANT: f64 = 0.08;

/// Relative weights of the voucher values customers ask for.
const VALUE_WEIGHTS: &[(u64, f64)] = &[(10, 0.25), (20, 0.40), (50, 0.35)];

/// Compile the embedded catalog.
pub fn catalog() -> Result<Catalog, String> {
    Catalog::from_toml_str(CATALOG, CATALOG_FILE).map_err(|e| e.to_string())
}

/// Replay the rush with the embedded catalog.
pub fn run(seed: u64) -> Report {
    let catalog = catalog().unwrap_or_else(|e| panic!("{e}"));
    run_with(catalog, seed)
}

/// Replay the rush against any voucher catalog of the same shape (a `budget` pool
/// in euros, restaurant pools, offers drawing 1 from a restaurant and their value
/// from the budget).
///
/// The ledger is the embedded default: a journal file (in a fresh temporary
/// directory) with every answer fdatasynced before the simulated customer sees it.
pub fn run_with(catalog: Catalog, seed: u64) -> Report {
    let dir = std::env::temp_dir().join(format!(
        "kontingent-emstek-{}-{seed}-{}",
        std::process::id(),
        RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
    let journal = dir.join("emstek.journal");
    let ledger = kontingent::open(&journal, Durability::Full)
        .unwrap_or_else(|e| panic!("opening {}: {e}", journal.display()));
    let report = Sim::new(ledger, catalog, seed).run();
    // What the report describes is what the journal holds: replay it from disk.
    let replayed = kontingent::open(&journal, Durability::Full)
        .map(|l| l.read(|l| l.digest().to_string()))
        .unwrap_or_else(|e| panic!("reopening {}: {e}", journal.display()));
    assert_eq!(
        replayed.ok(),
        Some(report.digest.clone()),
        "the journal replays to the reported state"
    );
    let _ = std::fs::remove_dir_all(&dir);
    report
}

static RUNS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

// ------------------------------------------------------------------------- report

/// What the demo prints and the tests check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    pub seed: u64,
    pub opens_at: Millis,
    pub pause: (Millis, Millis),
    /// Customers who pressed submit before the opening.
    pub early_submits: u64,
    /// Fresh customers from the opening on (not counting their retries).
    pub customers: u64,
    pub first_arrival: Option<Millis>,
    pub arrived_by_1202: u64,
    pub arrived_by_1203: u64,
    pub last_arrival: Millis,
    pub restaurants: Vec<RestaurantLine>,
    pub budget_capacity: u64,
    pub budget_confirmed: u64,
    pub budget_held: u64,
    /// When the whole budget was confirmed.
    pub budget_gone_at: Option<Millis>,
    /// `(at, confirmed, held)` of the budget at a few moments.
    pub budget_timeline: Vec<(Millis, u64, u64)>,
    /// Reserve commands with a new request id.
    pub requests: u64,
    /// Reserve commands that repeated a request id (double clicks, timeout retries).
    pub repeats: u64,
    pub double_clicks: u64,
    pub timeout_retries: u64,
    /// Repeats whose outcome differed from the first one (must be 0).
    pub repeat_mismatches: u64,
    /// Outcomes of the new requests.
    pub held: u64,
    pub waiting: u64,
    pub refused: u64,
    /// Refusals by reason (reserve and confirm).
    pub refusals: BTreeMap<String, u64>,
    /// New requests committed while paused, and how many were refused `paused`.
    pub pause_requests: u64,
    pub pause_refused: u64,
    /// ... of which the form had been opened before the pause.
    pub pause_forms_opened_before: u64,
    /// Holds confirmed in time / expired unconfirmed / confirmed then cancelled.
    pub confirmations: u64,
    pub expired: u64,
    pub cancelled: u64,
    /// Confirm commands repeated for an already confirmed reservation.
    pub double_confirms: u64,
    pub waitlist_joined: u64,
    pub waitlist_promoted: u64,
    pub waitlist_promoted_confirmed: u64,
    pub waitlist_still_waiting: u64,
    /// Distinct reservations the application was promised (holds and promotions),
    /// and how many reservations the ledger made in all: equal unless a repeat
    /// created a second reservation.
    pub promises: u64,
    pub ledger_reservations: u64,
    /// New requests whose `paused` / `not_open_yet` / `customer_limit` refusal (or
    /// its absence) the application predicted from its own books, and the
    /// predictions the ledger contradicted (must be none).
    pub oracle_checked: u64,
    pub oracle_mismatches: Vec<String>,
    /// Promotions of waiting entries the application never created, or a
    /// reservation announced twice (must be 0).
    pub unexpected: u64,
    /// Euros of vouchers the application confirmed to customers (not cancelled).
    pub app_confirmed_eur: u64,
    /// Confirmations the application gave that are not confirmed in the ledger.
    pub false_confirmations: u64,
    /// Moments a pool had more promised than its capacity (checked after every command).
    pub oversold: u64,
    pub commands: u64,
    pub digest: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RestaurantLine {
    pub name: String,
    pub quota: u64,
    /// Vouchers confirmed in the ledger at the end.
    pub sold: u64,
    /// Vouchers the application confirmed (not cancelled) for this restaurant.
    pub app_sold: u64,
    pub held: u64,
    pub value_eur: u64,
    pub full_at: Option<Millis>,
}

impl Report {
    pub fn refusals_of(&self, key: &str) -> u64 {
        self.refusals.get(key).copied().unwrap_or(0)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tz = sim::berlin();
        let t = |at: Millis| local(&tz, at, "%H:%M:%S");
        let opt = |at: Option<Millis>| at.map_or_else(|| "-".to_owned(), t);
        writeln!(
            f,
            "Emstek restaurant vouchers: {}, seed {}",
            local(&tz, self.opens_at, "%A %-d %B %Y, opens %H:%M %Z"),
            self.seed
        )?;
        writeln!(
            f,
            "rush: {} impatient submits before the opening; first customer {}, {} by 12:02, {} by 12:03; {} customers in all, the last at {}",
            self.early_submits,
            opt(self.first_arrival),
            self.arrived_by_1202,
            self.arrived_by_1203,
            self.customers,
            t(self.last_arrival)
        )?;
        let first_full = self
            .restaurants
            .iter()
            .filter_map(|r| r.full_at.map(|at| (at, &r.name)))
            .min();
        if let Some((at, name)) = first_full {
            writeln!(f, "first restaurant full: {name} at {}", t(at))?;
        }
        write!(f, "budget confirmed (+ held), EUR:")?;
        for (at, confirmed, held) in &self.budget_timeline {
            write!(f, " {} {confirmed}", local(&tz, *at, "%H:%M"))?;
            if *held > 0 {
                write!(f, "+{held}")?;
            }
        }
        writeln!(f)?;
        writeln!(
            f,
            "budget gone (all confirmed): {}",
            opt(self.budget_gone_at)
        )?;
        writeln!(f)?;
        writeln!(
            f,
            "{:<20} {:>6} / {:<6} {:>9}   full at",
            "restaurant", "sold", "quota", "EUR"
        )?;
        for r in &self.restaurants {
            writeln!(
                f,
                "{:<20} {:>6} / {:<6} {:>9}   {}",
                r.name,
                r.sold,
                r.quota,
                r.value_eur,
                opt(r.full_at)
            )?;
        }
        writeln!(
            f,
            "{:<20} {:>6} / {:<6} EUR confirmed, {} held",
            BUDGET, self.budget_confirmed, self.budget_capacity, self.budget_held
        )?;
        writeln!(f)?;
        writeln!(
            f,
            "requests: {} new ids -> {} held, {} waiting, {} refused",
            self.requests, self.held, self.waiting, self.refused
        )?;
        writeln!(
            f,
            "repeats: {} ({} double clicks, {} retries after a timeout); different answer: {}; reservations in the ledger {} = promises made {}",
            self.repeats,
            self.double_clicks,
            self.timeout_retries,
            self.repeat_mismatches,
            self.ledger_reservations,
            self.promises
        )?;
        writeln!(f, "refusals by reason:")?;
        for (reason, n) in &self.refusals {
            writeln!(f, "  {reason:<16} {n:>6}")?;
        }
        writeln!(
            f,
            "pause {}-{}: {} new requests, {} refused paused ({} from forms opened before the pause)",
            t(self.pause.0),
            t(self.pause.1),
            self.pause_requests,
            self.pause_refused,
            self.pause_forms_opened_before
        )?;
        writeln!(
            f,
            "holds: {} confirmed ({} confirmed twice), {} expired unpaid, {} cancelled later",
            self.confirmations, self.double_confirms, self.expired, self.cancelled
        )?;
        writeln!(
            f,
            "waiting list: {} joined, {} promoted ({} of them confirmed), {} still waiting",
            self.waitlist_joined,
            self.waitlist_promoted,
            self.waitlist_promoted_confirmed,
            self.waitlist_still_waiting
        )?;
        writeln!(
            f,
            "confirmed to customers: {} EUR; in the ledger: {} EUR",
            self.app_confirmed_eur, self.budget_confirmed
        )?;
        if self.unexpected > 0 {
            writeln!(f, "UNEXPECTED promotions or promises: {}", self.unexpected)?;
        }
        writeln!(
            f,
            "pause, opening and 100-EUR limit predicted by the application: {} requests, {} disagreements",
            self.oracle_checked,
            self.oracle_mismatches.len()
        )?;
        for m in self.oracle_mismatches.iter().take(10) {
            writeln!(f, "  {m}")?;
        }
        writeln!(f, "false confirmations: {}", self.false_confirmations)?;
        writeln!(f, "oversold: {}", self.oversold)?;
        write!(
            f,
            "{} commands; state digest {}",
            self.commands, self.digest
        )
    }
}

// --------------------------------------------------------------------- simulation

struct Restaurant {
    pool: String,
    quota: u64,
    weight: f64,
    /// `(value in EUR, offer name)`, ascending by value.
    offers: Vec<(u64, String)>,
}

/// One line as the application understands it.
#[derive(Clone, Copy, Debug)]
struct Line {
    restaurant: usize,
    value: u64,
    quantity: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// A customer's first submit.
    Fresh,
    /// A new request after a refusal (new form, new request id).
    Retry,
    /// "Notify me": a one-line request that may join the waiting list.
    Waitlist,
}

struct Attempt {
    customer: usize,
    lines: Vec<Line>,
    kind: Kind,
    form_opened_at: Millis,
    /// How many more new requests the customer will make after a refusal.
    patience: u8,
}

enum Task {
    /// A fresh customer from the opening burst or before the opening.
    Arrival,
    /// The next arrival of the long tail (schedules the one after it).
    TailArrival,
    Submit(Attempt),
    Repeat {
        request: Box<Request>,
        first: Outcome,
    },
    Confirm {
        reservation: ReservationId,
        repeat: bool,
    },
    Cancel {
        reservation: ReservationId,
    },
    Pause,
    Resume,
    Tick,
    /// Note how much of the budget is promised (no command).
    Checkpoint,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    Request,
    Promotion,
}

struct Sim {
    ledger: DurableLedger,
    rng: Rng,
    queue: Queue<Task>,
    restaurants: Vec<Restaurant>,
    opens_at: Millis,
    pause: (Millis, Millis),
    hold_ms: Millis,
    customers: Vec<String>,
    /// Customers who were promised something (candidates for coming back).
    buyers: Vec<usize>,
    next_request: u64,
    /// What the application knows of each promised reservation.
    promised: BTreeMap<ReservationId, (usize, Vec<Line>, Source)>,
    /// When each promised hold expires unless confirmed.
    hold_until: BTreeMap<ReservationId, Millis>,
    by_customer: BTreeMap<usize, Vec<ReservationId>>,
    /// The catalog's per-customer value limit (cents), if any.
    value_limit: Option<u64>,
    app_confirmed: BTreeSet<ReservationId>,
    app_cancelled: BTreeSet<ReservationId>,
    entries: BTreeMap<WaitEntryId, (usize, Line)>,
    /// When each restaurant first had nothing left to promise.
    full_at: Vec<Option<Millis>>,
    report: Report,
}

impl Sim {
    fn new(ledger: DurableLedger, catalog: Catalog, seed: u64) -> Self {
        let tz = sim::berlin();
        let opens_at = catalog
            .window
            .opens_at
            .expect("the voucher catalog has an opening time");
        let day = local(&tz, opens_at, "%Y-%m-%d");
        let pause = (
            sim::instant(&tz, &format!("{day}T12:30")),
            sim::instant(&tz, &format!("{day}T12:40")),
        );
        let hold_ms = catalog.default_hold_ms;
        let budget_capacity = catalog
            .pools
            .iter()
            .find(|p| p.name == BUDGET)
            .map(|p| p.capacity)
            .expect("a budget pool");
        let mut restaurants: Vec<Restaurant> = catalog
            .pools
            .iter()
            .filter(|p| p.name != BUDGET)
            .map(|p| Restaurant {
                pool: p.name.clone(),
                quota: p.capacity,
                weight: POPULARITY
                    .iter()
                    .find(|(n, _)| *n == p.name)
                    .map_or(5.0, |(_, w)| *w),
                offers: Vec::new(),
            })
            .collect();
        for offer in &catalog.offers {
            let value = offer
                .draws
                .iter()
                .find(|d| d.pool == BUDGET)
                .map(|d| d.amount);
            let home = offer.draws.iter().find(|d| d.pool != BUDGET);
            if let (Some(value), Some(home)) = (value, home) {
                if let Some(r) = restaurants.iter_mut().find(|r| r.pool == home.pool) {
                    r.offers.push((value, offer.name.clone()));
                }
            }
        }
        for r in &mut restaurants {
            r.offers.sort();
        }
        restaurants.retain(|r| !r.offers.is_empty());

        let value_limit = catalog.rules.iter().find_map(|r| match &r.kind {
            RuleKind::CustomerLimit {
                limit: Limit::Value(v),
                ..
            } => Some(*v),
            _ => None,
        });
        let load_at = opens_at - 60 * MINUTE;
        ledger
            .submit(Command::new(
                load_at,
                Action::LoadCatalog(Box::new(catalog)),
            ))
            .unwrap_or_else(|e| panic!("loading the catalog: {e}"));

        let report = Report {
            seed,
            opens_at,
            pause,
            early_submits: 0,
            customers: 0,
            first_arrival: None,
            arrived_by_1202: 0,
            arrived_by_1203: 0,
            last_arrival: 0,
            restaurants: Vec::new(),
            budget_capacity,
            budget_confirmed: 0,
            budget_held: 0,
            budget_gone_at: None,
            budget_timeline: Vec::new(),
            requests: 0,
            repeats: 0,
            double_clicks: 0,
            timeout_retries: 0,
            repeat_mismatches: 0,
            held: 0,
            waiting: 0,
            refused: 0,
            refusals: BTreeMap::new(),
            pause_requests: 0,
            pause_refused: 0,
            pause_forms_opened_before: 0,
            confirmations: 0,
            expired: 0,
            cancelled: 0,
            double_confirms: 0,
            waitlist_joined: 0,
            waitlist_promoted: 0,
            waitlist_promoted_confirmed: 0,
            waitlist_still_waiting: 0,
            promises: 0,
            ledger_reservations: 0,
            unexpected: 0,
            oracle_checked: 0,
            oracle_mismatches: Vec::new(),
            app_confirmed_eur: 0,
            false_confirmations: 0,
            oversold: 0,
            commands: 1,
            digest: String::new(),
        };
        let mut full_at = Vec::new();
        full_at.resize(restaurants.len(), None::<Millis>);
        Sim {
            ledger,
            rng: Rng::new(seed),
            queue: Queue::default(),
            restaurants,
            opens_at,
            pause,
            hold_ms,
            customers: Vec::new(),
            buyers: Vec::new(),
            next_request: 0,
            promised: BTreeMap::new(),
            hold_until: BTreeMap::new(),
            by_customer: BTreeMap::new(),
            value_limit,
            app_confirmed: BTreeSet::new(),
            app_cancelled: BTreeSet::new(),
            entries: BTreeMap::new(),
            full_at,
            report,
        }
    }

    fn run(mut self) -> Report {
        let open = self.opens_at;
        // Impatient customers press submit during the last minute before noon.
        for _ in 0..15 {
            let at = open - self.rng.between(1, 60) * SECOND;
            self.queue.push(at, Task::Arrival);
        }
        // The opening burst, as the brief tells it: the first at 12:00:46,
        // 129 by 12:02, 209 by 12:03.
        self.queue.push(open + 46 * SECOND, Task::Arrival);
        for _ in 1..129 {
            let at = open + 46 * SECOND + self.rng.between(1, 74 * SECOND - 1);
            self.queue.push(at, Task::Arrival);
        }
        for _ in 0..80 {
            let at = open + 120 * SECOND + self.rng.between(0, 60 * SECOND - 1);
            self.queue.push(at, Task::Arrival);
        }
        // Then the long tail.
        let first_tail = open + 180 * SECOND + self.tail_gap(open + 180 * SECOND);
        self.queue.push(first_tail, Task::TailArrival);
        for minutes in [2, 3, 5, 10, 20, 30, 45, 60, 90, 120] {
            self.queue.push(open + minutes * MINUTE, Task::Checkpoint);
        }
        self.queue.push(self.pause.0, Task::Pause);
        self.queue.push(self.pause.1, Task::Resume);

        while let Some((at, task)) = self.queue.pop() {
            self.step(at, task);
        }
        self.finish()
    }

    /// Time to the next arrival of the tail: a rate that decays from about one
    /// customer a second after the burst to a trickle of one every 12 seconds.
    fn tail_gap(&mut self, at: Millis) -> Millis {
        let s = at.saturating_sub(self.opens_at + 180 * SECOND) as f64 / 1000.0;
        let rate = TAIL_PEAK * (-s / TAIL_DECAY_S).exp() + TAIL_FLOOR;
        (self.rng.exp(rate) * 1000.0) as Millis + 1
    }

    fn step(&mut self, at: Millis, task: Task) {
        match task {
            Task::Arrival => self.arrive(at),
            Task::TailArrival => {
                self.arrive(at);
                let budget_left = self.budget().confirmed < self.report.budget_capacity;
                let keep_going = at < self.opens_at + 120 * MINUTE
                    || (budget_left && at < self.opens_at + 240 * MINUTE);
                if keep_going {
                    let next = at + self.tail_gap(at);
                    self.queue.push(next, Task::TailArrival);
                }
            }
            Task::Submit(attempt) => self.submit(at, attempt),
            Task::Repeat { request, first } => {
                let outcome = self.apply(at, Action::Reserve(*request));
                self.report.repeats += 1;
                if outcome != first {
                    self.report.repeat_mismatches += 1;
                }
            }
            Task::Confirm {
                reservation,
                repeat,
            } => self.confirm(at, reservation, repeat),
            Task::Cancel { reservation } => {
                if let Outcome::Released { .. } = self.apply(at, Action::Release { reservation }) {
                    self.app_cancelled.insert(reservation);
                    self.report.cancelled += 1;
                }
            }
            Task::Pause => {
                self.apply(at, Action::Pause);
            }
            Task::Resume => {
                self.apply(at, Action::Resume);
            }
            Task::Tick => {
                self.apply(at, Action::Tick);
            }
            Task::Checkpoint => {
                let b = self.budget();
                self.report.budget_timeline.push((at, b.confirmed, b.held));
            }
        }
    }

    /// Read the durable ledger (nothing is pending: the simulation waits for each answer).
    fn view<R>(&self, f: impl FnOnce(&Ledger) -> R) -> R {
        self.ledger
            .read(f)
            .unwrap_or_else(|e| panic!("reading the ledger: {e}"))
    }

    fn budget(&self) -> kontingent::PoolView {
        self.view(|l| l.pool(BUDGET)).expect("the budget pool")
    }

    /// Apply one command, look at its events, and watch the invariants.
    fn apply(&mut self, at: Millis, action: Action) -> Outcome {
        let applied = self
            .ledger
            .submit(Command::new(at, action))
            .unwrap_or_else(|e| panic!("a simulated command was invalid: {e}"));
        self.report.commands += 1;
        for event in &applied.events {
            match &event.kind {
                EventKind::Promoted {
                    entry,
                    reservation,
                    expires_at,
                    ..
                } => {
                    self.report.waitlist_promoted += 1;
                    let Some(&(customer, line)) = self.entries.get(entry) else {
                        // An entry the application never heard of (a repeat joined twice?).
                        self.report.unexpected += 1;
                        continue;
                    };
                    self.promise(
                        event.at,
                        *reservation,
                        *expires_at,
                        customer,
                        vec![line],
                        Source::Promotion,
                    );
                }
                EventKind::Expired { .. } => self.report.expired += 1,
                _ => {}
            }
        }
        let pools = self.view(Ledger::pools);
        if pools.iter().any(|p| p.held + p.confirmed > p.capacity) {
            self.report.oversold += 1;
        }
        for p in &pools {
            if p.name == BUDGET {
                if self.report.budget_gone_at.is_none() && p.confirmed >= p.capacity {
                    self.report.budget_gone_at = Some(at);
                }
            } else if p.available == 0 {
                if let Some(i) = self.restaurants.iter().position(|r| r.pool == p.name) {
                    self.full_at[i].get_or_insert(at);
                }
            }
        }
        applied.outcome
    }

    fn new_customer(&mut self) -> usize {
        let n = self.customers.len();
        self.customers.push(format!("kunde{n:05}@example.de"));
        n
    }

    fn pick_value(&mut self) -> u64 {
        let weights: Vec<f64> = VALUE_WEIGHTS.iter().map(|(_, w)| *w).collect();
        VALUE_WEIGHTS[self.rng.weighted(&weights)].0
    }

    fn pick_restaurant(&mut self, except: &[usize], only_available: bool) -> Option<usize> {
        let weights: Vec<f64> = self
            .restaurants
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let open = !only_available
                    || self
                        .view(|l| l.offer_available(&r.offers[0].1))
                        .is_some_and(|n| n > 0);
                if except.contains(&i) || !open {
                    0.0
                } else {
                    r.weight
                }
            })
            .collect();
        if weights.iter().all(|w| *w == 0.0) {
            return None;
        }
        Some(self.rng.weighted(&weights))
    }

    fn arrive(&mut self, at: Millis) {
        if at < self.opens_at {
            self.report.early_submits += 1;
        } else {
            self.report.customers += 1;
            self.report.first_arrival.get_or_insert(at);
            self.report.last_arrival = at;
            if at < self.opens_at + 2 * MINUTE {
                self.report.arrived_by_1202 += 1;
            }
            if at < self.opens_at + 3 * MINUTE {
                self.report.arrived_by_1203 += 1;
            }
        }
        // Some come back for more under the same e-mail address.
        let customer = if !self.buyers.is_empty() && self.rng.chance(0.08) {
            let i = self.rng.between(0, self.buyers.len() as u64 - 1) as usize;
            self.buyers[i]
        } else {
            self.new_customer()
        };
        let lines = if self.rng.chance(0.04) {
            // "Three 50s, please": more than the 100 EUR a customer may have.
            let r = self.pick_restaurant(&[], false).unwrap_or(0);
            vec![Line {
                restaurant: r,
                value: 50,
                quantity: 3,
            }]
        } else {
            let n = if self.rng.chance(0.2) { 2 } else { 1 };
            let mut lines: Vec<Line> = Vec::new();
            for _ in 0..n {
                let taken: Vec<usize> = lines.iter().map(|l| l.restaurant).collect();
                let Some(r) = self.pick_restaurant(&taken, false) else {
                    break;
                };
                let value = self.pick_value();
                let quantity = if self.rng.chance(0.75) {
                    1
                } else if self.rng.chance(0.8) {
                    2
                } else {
                    3
                };
                lines.push(Line {
                    restaurant: r,
                    value,
                    quantity,
                });
            }
            lines
        };
        let form_opened_at = at.saturating_sub(self.rng.between(20, 180) * SECOND);
        let attempt = Attempt {
            customer,
            lines,
            kind: Kind::Fresh,
            form_opened_at,
            patience: 2,
        };
        self.submit(at, attempt);
    }

    fn offer_name(&self, line: &Line) -> &str {
        let r = &self.restaurants[line.restaurant];
        r.offers
            .iter()
            .find(|(v, _)| *v == line.value)
            .map(|(_, o)| o.as_str())
            .unwrap_or(&r.offers[0].1)
    }

    fn request(&mut self, attempt: &Attempt) -> Request {
        self.next_request += 1;
        let mut request = Request::new(
            format!("form-{:06}", self.next_request),
            self.customers[attempt.customer].clone(),
        );
        for line in &attempt.lines {
            request = request.line(self.offer_name(line).to_owned(), line.quantity);
        }
        if attempt.kind == Kind::Waitlist {
            request = request.waitlist();
        }
        request
    }

    fn submit(&mut self, at: Millis, attempt: Attempt) {
        if attempt.lines.is_empty() {
            return;
        }
        let request = self.request(&attempt);
        let expected = self.expected_refusal(at, &attempt);
        let outcome = self.apply(at, Action::Reserve(request.clone()));
        self.report.requests += 1;
        self.check_oracle(at, &attempt, expected, &outcome);
        let in_pause = (self.pause.0..self.pause.1).contains(&at);
        if in_pause {
            self.report.pause_requests += 1;
            if outcome == Outcome::Refused(Refusal::Paused) {
                self.report.pause_refused += 1;
                if attempt.form_opened_at < self.pause.0 {
                    self.report.pause_forms_opened_before += 1;
                }
            }
        }
        // The browser double-clicks, or the answer is lost and the page retries.
        if self.rng.chance(0.05) {
            self.report.double_clicks += 1;
            let again = at + self.rng.between(80, 400);
            self.queue.push(
                again,
                Task::Repeat {
                    request: Box::new(request.clone()),
                    first: outcome.clone(),
                },
            );
        }
        if self.rng.chance(0.04) {
            self.report.timeout_retries += 1;
            let again = at + self.rng.between(5, 20) * SECOND;
            self.queue.push(
                again,
                Task::Repeat {
                    request: Box::new(request),
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
                self.report.held += 1;
                self.promise(
                    at,
                    reservation,
                    expires_at,
                    attempt.customer,
                    attempt.lines,
                    Source::Request,
                );
            }
            Outcome::Confirmed { reservation, .. } => {
                // Not used by this form (it always holds first), but handled.
                self.promise(
                    at,
                    reservation,
                    at,
                    attempt.customer,
                    attempt.lines,
                    Source::Request,
                );
                self.confirmed(at, reservation);
            }
            Outcome::Waiting { entry, .. } => {
                self.report.waiting += 1;
                self.report.waitlist_joined += 1;
                self.entries
                    .insert(entry, (attempt.customer, attempt.lines[0]));
            }
            Outcome::Refused(refusal) => {
                self.report.refused += 1;
                *self
                    .report
                    .refusals
                    .entry(reason_key(&refusal))
                    .or_default() += 1;
                self.react(at, attempt, &refusal);
            }
            other => panic!("unexpected outcome of a reserve: {other:?}"),
        }
    }

    /// Euros (in cents) of vouchers `customer` holds or has confirmed at `at`, by
    /// the application's own books: confirmed and not cancelled, or held and not
    /// yet expired.
    fn customer_value(&self, customer: usize, at: Millis) -> u64 {
        let Some(ids) = self.by_customer.get(&customer) else {
            return 0;
        };
        ids.iter()
            .filter(|id| {
                !self.app_cancelled.contains(id)
                    && (self.app_confirmed.contains(id) || at < self.hold_until[id])
            })
            .flat_map(|id| self.promised[id].1.iter())
            .map(|l| l.value * 100 * l.quantity)
            .sum()
    }

    /// The refusal the campaign's rules call for before capacity is looked at,
    /// judged by the application on its own.
    fn expected_refusal(&self, at: Millis, attempt: &Attempt) -> Option<&'static str> {
        if (self.pause.0..self.pause.1).contains(&at) {
            return Some("paused");
        }
        if at < self.opens_at {
            return Some("not_open_yet");
        }
        let limit = self.value_limit?;
        let requested: u64 = attempt
            .lines
            .iter()
            .map(|l| l.value * 100 * l.quantity)
            .sum();
        (self.customer_value(attempt.customer, at) + requested > limit).then_some("customer_limit")
    }

    fn check_oracle(
        &mut self,
        at: Millis,
        attempt: &Attempt,
        expected: Option<&'static str>,
        outcome: &Outcome,
    ) {
        let actual = match outcome {
            Outcome::Refused(r) => Some(reason_key(r)),
            _ => None,
        };
        let covered = ["paused", "not_open_yet", "customer_limit"];
        let ok = match (expected, actual.as_deref()) {
            (Some(e), Some(a)) => e == a,
            (Some(_), None) => false,
            (None, Some(a)) => !covered.contains(&a),
            (None, None) => true,
        };
        self.report.oracle_checked += 1;
        if !ok {
            self.report.oracle_mismatches.push(format!(
                "{} {}: expected {}, got {outcome:?}",
                local(&sim::berlin(), at, "%H:%M:%S"),
                self.customers[attempt.customer],
                expected.unwrap_or("no rule refusal")
            ));
        }
    }

    /// What a refused customer does next.
    fn react(&mut self, at: Millis, attempt: Attempt, refusal: &Refusal) {
        let retry = |lines: Vec<Line>, kind: Kind, patience: u8, opened: Millis| Attempt {
            customer: attempt.customer,
            lines,
            kind,
            form_opened_at: opened,
            patience,
        };
        match refusal {
            Refusal::NotOpenYet { opens_at } => {
                // Refreshes the page and submits again once the form is open.
                let again = opens_at + self.rng.between(47, 120) * SECOND;
                let next = retry(attempt.lines, Kind::Retry, attempt.patience, at);
                self.queue.push(again, Task::Submit(next));
            }
            Refusal::Paused if self.rng.chance(0.6) => {
                let again = self.pause.1 + self.rng.between(0, 10 * 60) * SECOND;
                let next = retry(attempt.lines, Kind::Retry, attempt.patience, again);
                self.queue.push(again, Task::Submit(next));
            }
            Refusal::SoldOut { pool, left, .. } if attempt.patience > 0 => {
                let patience = attempt.patience - 1;
                let first = attempt.lines[0];
                if pool == BUDGET {
                    // "Only 30 EUR left": a smaller voucher, or wait for one.
                    let home = &self.restaurants[first.restaurant];
                    let smaller = home
                        .offers
                        .iter()
                        .rev()
                        .find(|(v, _)| *v <= *left)
                        .map(|(v, _)| *v);
                    if let Some(value) = smaller.filter(|_| self.rng.chance(0.8)) {
                        let line = Line {
                            value,
                            quantity: 1,
                            ..first
                        };
                        let again = at + self.rng.between(5, 40) * SECOND;
                        let next = retry(vec![line], Kind::Retry, patience, again);
                        self.queue.push(again, Task::Submit(next));
                    } else if self.rng.chance(0.4) {
                        let line = Line {
                            quantity: 1,
                            ..first
                        };
                        let again = at + self.rng.between(2, 20) * SECOND;
                        let next = retry(vec![line], Kind::Waitlist, 0, again);
                        self.queue.push(again, Task::Submit(next));
                    }
                } else {
                    let x = self.rng.unit();
                    let full = self
                        .restaurants
                        .iter()
                        .position(|r| r.pool == *pool)
                        .unwrap_or(first.restaurant);
                    let line = attempt
                        .lines
                        .iter()
                        .copied()
                        .find(|l| l.restaurant == full)
                        .unwrap_or(first);
                    if x < 0.35 {
                        // "Tell me when a voucher comes back."
                        let again = at + self.rng.between(2, 20) * SECOND;
                        let next = retry(
                            vec![Line {
                                quantity: 1,
                                ..line
                            }],
                            Kind::Waitlist,
                            0,
                            again,
                        );
                        self.queue.push(again, Task::Submit(next));
                    } else if x < 0.35 + OTHER_RESTAURANT {
                        // Another restaurant that still shows vouchers.
                        let taken: Vec<usize> =
                            attempt.lines.iter().map(|l| l.restaurant).collect();
                        if let Some(r) = self.pick_restaurant(&taken, true) {
                            let again = at + self.rng.between(10, 60) * SECOND;
                            let next = retry(
                                vec![Line {
                                    restaurant: r,
                                    value: line.value,
                                    quantity: 1,
                                }],
                                Kind::Retry,
                                patience,
                                again,
                            );
                            self.queue.push(again, Task::Submit(next));
                        }
                    }
                }
            }
            Refusal::CustomerLimit { limit, used, .. } if attempt.patience > 0 => {
                // Cents of room left under the limit, as euros.
                let room = limit.saturating_sub(*used) / 100;
                let first = attempt.lines[0];
                let value = self.restaurants[first.restaurant]
                    .offers
                    .iter()
                    .rev()
                    .find(|(v, _)| *v <= room)
                    .map(|(v, _)| *v);
                if let Some(value) = value.filter(|_| self.rng.chance(0.6)) {
                    let again = at + self.rng.between(10, 60) * SECOND;
                    let next = retry(
                        vec![Line {
                            value,
                            quantity: 1,
                            ..first
                        }],
                        Kind::Retry,
                        attempt.patience - 1,
                        again,
                    );
                    self.queue.push(again, Task::Submit(next));
                }
            }
            _ => {}
        }
    }

    /// The application was promised a reservation: schedule what its customer does.
    fn promise(
        &mut self,
        at: Millis,
        reservation: ReservationId,
        expires_at: Millis,
        customer: usize,
        lines: Vec<Line>,
        source: Source,
    ) {
        if self.promised.contains_key(&reservation) {
            // The same reservation announced twice: the ledger is confused.
            self.report.unexpected += 1;
            return;
        }
        self.promised.insert(reservation, (customer, lines, source));
        self.hold_until.insert(reservation, expires_at);
        self.by_customer
            .entry(customer)
            .or_default()
            .push(reservation);
        self.buyers.push(customer);
        if expires_at > at {
            self.queue.push(expires_at, Task::Tick);
        }
        let x = self.rng.unit();
        let (abandon, late) = match source {
            // The form is open in front of them.
            Source::Request => (0.07, 0.02),
            // The e-mail "a voucher is free for you" is read late, or not at all.
            Source::Promotion => (0.20, 0.05),
        };
        if x < abandon {
            return;
        }
        let pay_at = if x < abandon + late {
            expires_at + self.rng.between(1, 90) * SECOND
        } else {
            let slowest = (self.hold_ms / SECOND).saturating_sub(10).max(21);
            at + self.rng.between(20, slowest.min(240)) * SECOND
        };
        self.queue.push(
            pay_at,
            Task::Confirm {
                reservation,
                repeat: false,
            },
        );
        if self.rng.chance(0.03) {
            self.queue.push(
                pay_at + 500,
                Task::Confirm {
                    reservation,
                    repeat: true,
                },
            );
        }
    }

    fn confirm(&mut self, at: Millis, reservation: ReservationId, repeat: bool) {
        match self.apply(at, Action::Confirm { reservation }) {
            Outcome::Confirmed { .. } => {
                if repeat && self.app_confirmed.contains(&reservation) {
                    self.report.double_confirms += 1;
                } else {
                    self.confirmed(at, reservation);
                }
            }
            Outcome::Refused(refusal) => {
                if !repeat {
                    *self
                        .report
                        .refusals
                        .entry(reason_key(&refusal))
                        .or_default() += 1;
                }
            }
            other => panic!("unexpected outcome of a confirm: {other:?}"),
        }
    }

    /// The application tells the customer "your voucher is confirmed".
    fn confirmed(&mut self, at: Millis, reservation: ReservationId) {
        if !self.app_confirmed.insert(reservation) {
            return;
        }
        self.report.confirmations += 1;
        if self.promised[&reservation].2 == Source::Promotion {
            self.report.waitlist_promoted_confirmed += 1;
        }
        // A few change their mind within the first hour; their vouchers go back.
        if at < self.opens_at + 60 * MINUTE && self.rng.chance(0.015) {
            let when = at + self.rng.between(5, 30) * MINUTE;
            self.queue.push(when, Task::Cancel { reservation });
        }
    }

    fn finish(mut self) -> Report {
        // A copy of the final state, so the report can borrow it freely.
        let ledger = &self.view(Ledger::clone);
        let mut app_sold = vec![0u64; self.restaurants.len()];
        let mut app_eur = 0;
        let mut false_confirmations = 0;
        for id in &self.app_confirmed {
            if self.app_cancelled.contains(id) {
                continue;
            }
            let state = ledger.reservation(*id).map(|r| r.state);
            if state != Some(ReservationState::Confirmed) {
                false_confirmations += 1;
                continue;
            }
            for line in &self.promised[id].1 {
                app_sold[line.restaurant] += line.quantity;
                app_eur += line.value * line.quantity;
            }
        }
        let r = &mut self.report;
        r.false_confirmations = false_confirmations;
        r.app_confirmed_eur = app_eur;
        r.promises = self.promised.len() as u64;
        r.ledger_reservations = ledger.reservation_count();
        let budget = ledger.pool(BUDGET).expect("the budget pool");
        r.budget_confirmed = budget.confirmed;
        r.budget_held = budget.held;
        r.waitlist_still_waiting = ledger.offers().iter().map(|o| u64::from(o.waiting)).sum();
        r.restaurants = self
            .restaurants
            .iter()
            .enumerate()
            .map(|(i, rest)| {
                let pool = ledger.pool(&rest.pool).expect("restaurant pool");
                let value_eur = self
                    .promised
                    .iter()
                    .filter(|(id, _)| {
                        ledger.reservation(**id).map(|v| v.state)
                            == Some(ReservationState::Confirmed)
                    })
                    .flat_map(|(_, (_, lines, _))| lines.iter())
                    .filter(|l| l.restaurant == i)
                    .map(|l| l.value * l.quantity)
                    .sum();
                RestaurantLine {
                    name: rest.pool.clone(),
                    quota: rest.quota,
                    sold: pool.confirmed,
                    app_sold: app_sold[i],
                    held: pool.held,
                    value_eur,
                    full_at: self.full_at[i],
                }
            })
            .collect();
        r.digest = ledger.digest().to_string();
        self.report
    }
}
