//! Model-based test: random command sequences go to the real [`Ledger`] and to
//! the reference model in `tests/model/` (written from `docs/SEMANTICS.md`
//! only). Outcomes, error codes, events and every query must agree, and the
//! ledger's own event stream must never show a promise beyond the capacity in
//! force at that moment.
//!
//! `PROPTEST_CASES=n` changes the number of cases (default 256).

mod model;

use kontingent::limits::CAPACITY_MAX;
use kontingent::{
    Action, Command, Draw, Event, EventKind, Ledger, LineRequest, Outcome, Refusal, Request,
    ReservationId, ReservationState, WaitEntryId, WaitState, WaitlistPolicy,
};
use model::{EState, Ev, MEvent, Model, Pools, RState, Src, Step};
use proptest::prelude::*;
use proptest::test_runner::Config;
use std::collections::BTreeMap;
use std::fmt::Write as _;

const BASE: u64 = 1_000;
const CUSTOMERS: [&str; 3] = ["alice", "bob", "carol"];
const UNKNOWN: u8 = u8::MAX;

// ------------------------------------------------------------ ledger → model

fn pools_of<'a>(amounts: impl IntoIterator<Item = &'a kontingent::PoolAmount>) -> Pools {
    amounts.into_iter().map(|a| (a.pool.0, a.amount)).collect()
}

fn src(standing: &kontingent::Standing) -> Src {
    match format!("{standing:?}").as_str() {
        "New" => Src::New,
        "Held" => Src::Held,
        "Confirmed" => Src::Confirmed,
        other => panic!("unknown standing {other}"),
    }
}

fn to_ev(kind: &EventKind) -> Ev {
    match kind {
        EventKind::CatalogLoaded { .. } => panic!("the generator never loads catalogs"),
        EventKind::PoolDefined {
            pool,
            name,
            capacity,
        } => Ev::PoolDefined {
            pool: pool.0,
            name: name.clone(),
            capacity: *capacity,
        },
        EventKind::OfferDefined {
            offer,
            name,
            draws,
            waitlist,
        } => {
            let mut draws = pools_of(draws.iter());
            draws.sort();
            Ev::OfferDefined {
                offer: offer.0,
                name: name.clone(),
                draws,
                waitlist: *waitlist,
            }
        }
        EventKind::CapacityChanged { pool, capacity } => Ev::CapacityChanged {
            pool: pool.0,
            capacity: *capacity,
        },
        EventKind::DefaultHoldChanged { hold_ms } => Ev::DefaultHoldChanged { hold_ms: *hold_ms },
        EventKind::Held {
            reservation,
            expires_at,
            pools,
        } => Ev::Held {
            reservation: reservation.0,
            expires_at: *expires_at,
            pools: pools_of(pools.iter()),
        },
        EventKind::Confirmed {
            reservation,
            from,
            pools,
        } => Ev::Confirmed {
            reservation: reservation.0,
            from: src(from),
            pools: pools_of(pools.iter()),
        },
        EventKind::Released {
            reservation,
            from,
            pools,
        } => Ev::Released {
            reservation: reservation.0,
            from: src(from),
            pools: pools_of(pools.iter()),
        },
        EventKind::Expired { reservation, pools } => Ev::Expired {
            reservation: reservation.0,
            pools: pools_of(pools.iter()),
        },
        EventKind::WaitlistJoined {
            entry,
            offer,
            quantity,
            position,
        } => Ev::WaitlistJoined {
            entry: entry.0,
            offer: offer.0,
            quantity: *quantity,
            position: *position,
        },
        EventKind::WaitlistLeft { entry, offer } => Ev::WaitlistLeft {
            entry: entry.0,
            offer: offer.0,
        },
        EventKind::Promoted {
            entry,
            reservation,
            expires_at,
            pools,
        } => Ev::Promoted {
            entry: entry.0,
            reservation: reservation.0,
            expires_at: *expires_at,
            pools: pools_of(pools.iter()),
        },
        EventKind::Paused => Ev::Paused,
        EventKind::Resumed => Ev::Resumed,
    }
}

fn to_mevent(e: &Event) -> MEvent {
    MEvent {
        seq: e.seq,
        at: e.at,
        ev: to_ev(&e.kind),
    }
}

// ------------------------------------------------------------ event auditor

/// Rebuilds every pool's counters from the *ledger's* event stream alone, and
/// checks at each promise (held, direct confirmation, promotion) that
/// `held + confirmed + amount <= capacity` with the capacity in force then.
#[derive(Default)]
struct Auditor {
    capacity: Vec<u64>,
    held: Vec<u64>,
    confirmed: Vec<u64>,
    /// reservation → pools, from the event that created it.
    made: BTreeMap<u64, Pools>,
}

impl Auditor {
    fn promise(&mut self, e: &MEvent, reservation: u64, pools: &Pools) -> Result<(), String> {
        for &(p, amount) in pools {
            let p = p as usize;
            let before = self.held[p] + self.confirmed[p];
            if before + amount > self.capacity[p] {
                return Err(format!(
                    "promise beyond capacity: event {e:?}: pool {p} had held+confirmed {before}, \
                     capacity {}, promised {amount} more",
                    self.capacity[p]
                ));
            }
        }
        if self.made.insert(reservation, pools.clone()).is_some() {
            return Err(format!("reservation {reservation} promised twice: {e:?}"));
        }
        Ok(())
    }

    fn same_pools(&self, e: &MEvent, reservation: u64, pools: &Pools) -> Result<(), String> {
        match self.made.get(&reservation) {
            Some(made) if made == pools => Ok(()),
            other => Err(format!(
                "event {e:?} gives back {pools:?}, but the reservation was made with {other:?}"
            )),
        }
    }

    fn sub(v: &mut [u64], pools: &Pools, e: &MEvent) -> Result<(), String> {
        for &(p, amount) in pools {
            v[p as usize] = v[p as usize]
                .checked_sub(amount)
                .ok_or_else(|| format!("counter underflow at {e:?}"))?;
        }
        Ok(())
    }

    fn add(v: &mut [u64], pools: &Pools) {
        for &(p, amount) in pools {
            v[p as usize] += amount;
        }
    }

    fn on(&mut self, e: &MEvent) -> Result<(), String> {
        match &e.ev {
            Ev::PoolDefined { pool, capacity, .. } => {
                if *pool as usize != self.capacity.len() {
                    return Err(format!("pool ids not dense: {e:?}"));
                }
                self.capacity.push(*capacity);
                self.held.push(0);
                self.confirmed.push(0);
            }
            Ev::CapacityChanged { pool, capacity } => self.capacity[*pool as usize] = *capacity,
            Ev::Held {
                reservation, pools, ..
            }
            | Ev::Promoted {
                reservation, pools, ..
            } => {
                self.promise(e, *reservation, pools)?;
                Self::add(&mut self.held, pools);
            }
            Ev::Confirmed {
                reservation,
                from,
                pools,
            } => {
                match from {
                    Src::New => self.promise(e, *reservation, pools)?,
                    Src::Held => {
                        self.same_pools(e, *reservation, pools)?;
                        Self::sub(&mut self.held, pools, e)?;
                    }
                    Src::Confirmed => return Err(format!("confirmed from confirmed: {e:?}")),
                }
                Self::add(&mut self.confirmed, pools);
            }
            Ev::Released {
                reservation,
                from,
                pools,
            } => {
                self.same_pools(e, *reservation, pools)?;
                match from {
                    Src::Held => Self::sub(&mut self.held, pools, e)?,
                    Src::Confirmed => Self::sub(&mut self.confirmed, pools, e)?,
                    Src::New => return Err(format!("released from new: {e:?}")),
                }
            }
            Ev::Expired { reservation, pools } => {
                self.same_pools(e, *reservation, pools)?;
                Self::sub(&mut self.held, pools, e)?;
            }
            _ => {}
        }
        Ok(())
    }
}

// ------------------------------------------------------------ harness

fn fmt_cmd(c: &Command) -> String {
    let what = match &c.action {
        Action::Reserve(r) => {
            let mut s = format!("reserve {} {} ", r.request_id, r.customer);
            if r.channel != "web" {
                let _ = write!(s, "ch={} ", r.channel);
            }
            if !r.attributes.is_empty() {
                let _ = write!(s, "attrs={:?} ", r.attributes);
            }
            let lines: Vec<String> = r
                .lines
                .iter()
                .map(|l| format!("{}x{}", l.offer, l.quantity))
                .collect();
            let _ = write!(s, "[{}]", lines.join(", "));
            if let Some(h) = r.hold_ms {
                let _ = write!(s, " hold_ms={h}");
            }
            for (flag, name) in [
                (r.confirm, "confirm"),
                (r.up_to, "up_to"),
                (r.waitlist, "waitlist"),
            ] {
                if flag {
                    let _ = write!(s, " {name}");
                }
            }
            s
        }
        Action::DefineOffer {
            offer,
            draws,
            waitlist,
        } => {
            let d: Vec<String> = draws
                .iter()
                .map(|d| format!("{}x{}", d.pool, d.amount))
                .collect();
            format!("define_offer {offer} [{}] {waitlist:?}", d.join(", "))
        }
        Action::Confirm { reservation } => format!("confirm {reservation}"),
        Action::Release { reservation } => format!("release {reservation}"),
        Action::LeaveWaitlist { entry } => format!("leave_waitlist {entry}"),
        other => format!("{other:?}"),
    };
    format!("@{} {what}", c.at)
}

struct Harness {
    ledger: Ledger,
    model: Model,
    audit: Auditor,
    log: Vec<Command>,
    /// Every event the ledger emitted, in order.
    events: Vec<Event>,
    /// Every reserve request sent so far (for repeats and id reuse).
    requests: Vec<Request>,
}

impl Harness {
    fn new() -> Self {
        Harness {
            ledger: Ledger::new(),
            model: Model::new(),
            audit: Auditor::default(),
            log: Vec::new(),
            events: Vec::new(),
            requests: Vec::new(),
        }
    }

    fn transcript(&self) -> String {
        let mut s = String::from("commands:\n");
        for c in &self.log {
            let _ = writeln!(s, "    {}", fmt_cmd(c));
        }
        s
    }

    /// Apply one command to both; compare; check every query.
    fn step(&mut self, cmd: Command) -> Result<(), String> {
        self.step_inner(cmd)
            .map_err(|m| format!("{m}\n{}", self.transcript()))
    }

    fn step_inner(&mut self, cmd: Command) -> Result<(), String> {
        let i = self.log.len();
        if let Action::Reserve(r) = &cmd.action {
            self.requests.push(r.clone());
        }
        let digest = self.ledger.digest();
        let seq = self.ledger.seq();
        let now = self.ledger.now();
        let paused = self.ledger.is_paused();
        let mut next = self.model.clone();
        let expected = next.apply(&cmd);
        let real = self.ledger.apply(&cmd);
        self.log.push(cmd.clone());
        let at = format!("step {i} ({})", fmt_cmd(&cmd));
        // SEMANTICS.md leaves one edge open: a confirm/release naming a
        // reservation that does not exist yet but is created (by a promotion)
        // during this very command's time advance. "Validation happens
        // entirely before any change" reads as `Err(UnknownReservation)`;
        // "reservation state (after advancing time)" reads as acting on the new
        // hold. The model takes the second; the first is accepted too.
        let created_by_advance = match &cmd.action {
            Action::Confirm { reservation } | Action::Release { reservation } => {
                reservation.0 > self.model.reservations.len() as u64
                    && next.reservation(reservation.0).is_some()
            }
            _ => false,
        };
        if created_by_advance {
            if let Err(error) = &real {
                if error.code() == "unknown_reservation" {
                    // The model stays as it was, like the ledger.
                    if self.ledger.digest() != digest
                        || self.ledger.seq() != seq
                        || self.ledger.now() != now
                    {
                        return Err(format!("{at}: Err(unknown_reservation) changed the ledger"));
                    }
                    return self.check_state().map_err(|m| format!("after {at}: {m}"));
                }
            }
        }
        self.model = next;
        match (real, expected) {
            (Ok(applied), Ok(Step { outcome, events })) => {
                if applied.outcome != outcome {
                    return Err(format!(
                        "{at}: outcome differs\n  ledger: {:?}\n  model:  {outcome:?}",
                        applied.outcome
                    ));
                }
                for (k, e) in applied.events.iter().enumerate() {
                    if e.seq != seq + 1 + k as u64 {
                        return Err(format!(
                            "{at}: event seq not gap-free: expected {}, got {:?}",
                            seq + 1 + k as u64,
                            e
                        ));
                    }
                }
                let got: Vec<MEvent> = applied.events.iter().map(to_mevent).collect();
                if got != events {
                    let names =
                        |v: &[MEvent]| v.iter().map(|e| e.ev.name()).collect::<Vec<_>>().join(", ");
                    return Err(format!(
                        "{at}: events differ\n  ledger: [{}] {got:#?}\n  model:  [{}] {events:#?}",
                        names(&got),
                        names(&events)
                    ));
                }
                for e in &got {
                    self.audit.on(e).map_err(|m| format!("{at}: {m}"))?;
                }
                self.events.extend(applied.events);
            }
            (Err(error), Err(codes)) => {
                if !codes.contains(&error.code()) {
                    return Err(format!(
                        "{at}: error code differs: ledger {} ({error}), model accepts {codes:?}",
                        error.code()
                    ));
                }
                if self.ledger.digest() != digest
                    || self.ledger.seq() != seq
                    || self.ledger.now() != now
                    || self.ledger.is_paused() != paused
                {
                    return Err(format!("{at}: Err({}) changed the ledger", error.code()));
                }
            }
            (Ok(applied), Err(codes)) => {
                return Err(format!(
                    "{at}: ledger said Ok({:?}) with events {:?}, model expects Err({codes:?})",
                    applied.outcome, applied.events
                ))
            }
            (Err(error), Ok(step)) => {
                return Err(format!(
                    "{at}: ledger said Err({}: {error}), model expects {:?} with events {:?}",
                    error.code(),
                    step.outcome,
                    step.events
                ))
            }
        }
        self.check_state().map_err(|m| format!("after {at}: {m}"))
    }

    fn check_state(&self) -> Result<(), String> {
        let (l, m) = (&self.ledger, &self.model);
        macro_rules! same {
            ($what:expr, $ledger:expr, $model:expr) => {{
                match ($ledger, $model) {
                    (a, b) => {
                        if a != b {
                            return Err(format!("{}: ledger {:?}, model {:?}", $what, a, b));
                        }
                    }
                }
            }};
        }
        same!("now", l.now(), m.now);
        same!("paused", l.is_paused(), m.paused);
        same!("seq", l.seq(), m.events.len() as u64);

        // Pools.
        let views = l.pools();
        same!("pool count", views.len(), m.pools.len());
        for (p, v) in views.iter().enumerate() {
            let what = format!("pool {}", m.pools[p].name);
            same!(format!("{what} id"), v.id.0 as usize, p);
            same!(format!("{what} name"), &v.name, &m.pools[p].name);
            same!(format!("{what} capacity"), v.capacity, m.pools[p].capacity);
            same!(format!("{what} held"), v.held, m.held(p));
            same!(format!("{what} confirmed"), v.confirmed, m.confirmed(p));
            same!(
                format!("{what} available"),
                v.available,
                m.pool_available(p)
            );
            same!(format!("{what} by name"), l.pool(&v.name).as_ref(), Some(v));
            // Counters rebuilt from the ledger's own events.
            same!(
                format!("{what} capacity from events"),
                v.capacity,
                self.audit.capacity[p]
            );
            same!(
                format!("{what} held from events"),
                v.held,
                self.audit.held[p]
            );
            same!(
                format!("{what} confirmed from events"),
                v.confirmed,
                self.audit.confirmed[p]
            );
        }
        same!("unknown pool", l.pool("no-such-pool"), None);

        // Offers.
        for (o, offer) in m.offers.iter().enumerate() {
            let what = format!("offer {}", offer.name);
            let Some(v) = l.offer(&offer.name) else {
                return Err(format!("{what}: ledger does not know it"));
            };
            same!(format!("{what} id"), v.id.0 as usize, o);
            let draws: Vec<(String, u64)> = offer
                .draws
                .iter()
                .map(|&(p, a)| (m.pools[p].name.clone(), a))
                .collect();
            same!(format!("{what} draws"), &v.draws, &draws);
            same!(format!("{what} waitlist policy"), v.waitlist, offer.policy);
            same!(
                format!("{what} available"),
                v.available,
                m.offer_available(o)
            );
            same!(
                format!("{what} waiting"),
                v.waiting as usize,
                m.waiting(o).len()
            );
        }
        same!("unknown offer", l.offer("no-such-offer"), None);

        // Reservations, and held/confirmed as sums over live reservations
        // computed from the ledger's own reservation views.
        let mut held = vec![0u64; m.pools.len()];
        let mut confirmed = vec![0u64; m.pools.len()];
        let n = m.reservations.len() as u64;
        for id in 0..=n + 2 {
            let real = l.reservation(ReservationId(id));
            let Some(mr) = m.reservation(id) else {
                same!(format!("reservation {id}"), real, None);
                continue;
            };
            let Some(v) = real else {
                return Err(format!(
                    "reservation {id}: ledger has none, model has {mr:?}"
                ));
            };
            let what = format!("reservation {id}");
            same!(format!("{what} id"), v.id.0, id);
            same!(format!("{what} customer"), &v.customer, &mr.customer);
            same!(format!("{what} channel"), &v.channel, &mr.channel);
            let lines: Vec<(String, u64)> = mr
                .lines
                .iter()
                .map(|&(o, q)| (m.offers[o].name.clone(), q))
                .collect();
            same!(format!("{what} lines"), &v.lines, &lines);
            let state = match mr.state {
                RState::Held => ReservationState::Held,
                RState::Confirmed => ReservationState::Confirmed,
                RState::Released => ReservationState::Released,
                RState::Expired => ReservationState::Expired,
            };
            same!(format!("{what} state"), v.state, state);
            // expires_at is pinned by SEMANTICS.md/view.rs for holds, expired
            // holds and direct confirmations.
            if matches!(mr.state, RState::Held | RState::Expired)
                || (mr.direct && mr.state == RState::Confirmed)
            {
                same!(format!("{what} expires_at"), v.expires_at, mr.expires_at);
            }
            if v.state.is_live() {
                for (offer_name, q) in &v.lines {
                    let o = m
                        .offer_index(offer_name)
                        .ok_or_else(|| format!("{what}: unknown offer {offer_name}"))?;
                    for &(p, amount) in &m.offers[o].draws {
                        let slot = if v.state == ReservationState::Held {
                            &mut held[p]
                        } else {
                            &mut confirmed[p]
                        };
                        *slot += q * amount;
                    }
                }
            }
        }
        for (p, v) in views.iter().enumerate() {
            same!(
                format!("pool {} held = sum over held reservations", v.name),
                v.held,
                held[p]
            );
            same!(
                format!(
                    "pool {} confirmed = sum over confirmed reservations",
                    v.name
                ),
                v.confirmed,
                confirmed[p]
            );
        }

        // Waiting lists and entries.
        for (o, offer) in m.offers.iter().enumerate() {
            let real = l
                .waitlist(&offer.name)
                .ok_or_else(|| format!("waitlist {}: ledger has none", offer.name))?;
            let ids: Vec<u64> = real.iter().map(|e| e.entry.0).collect();
            let expected: Vec<u64> = m.waiting(o).iter().map(|&i| m.entries[i].id).collect();
            same!(format!("waitlist {}", offer.name), ids, expected);
            for (k, e) in real.iter().enumerate() {
                same!(
                    format!("waitlist {} entry {} state", offer.name, e.entry),
                    e.state,
                    WaitState::Waiting {
                        position: k as u32 + 1
                    }
                );
            }
        }
        same!("unknown waitlist", l.waitlist("no-such-offer"), None);
        let n = m.entries.len() as u64;
        for id in 0..=n + 1 {
            let real = l.wait_entry(WaitEntryId(id));
            let Some(me) = m.entry(id) else {
                same!(format!("wait entry {id}"), real, None);
                continue;
            };
            let Some(v) = real else {
                return Err(format!(
                    "wait entry {id}: ledger has none, model has {me:?}"
                ));
            };
            let what = format!("wait entry {id}");
            same!(format!("{what} id"), v.entry.0, id);
            same!(format!("{what} offer"), &v.offer, &m.offers[me.offer].name);
            same!(format!("{what} customer"), &v.customer, &me.customer);
            same!(format!("{what} quantity"), v.quantity, me.quantity);
            let state = match me.state {
                EState::Waiting => WaitState::Waiting {
                    position: m.position((id - 1) as usize).unwrap(),
                },
                EState::Promoted(r) => WaitState::Promoted {
                    reservation: ReservationId(r),
                },
                EState::Left => WaitState::Left,
            };
            same!(format!("{what} state"), v.state, state);
        }

        // Customer usage.
        for c in CUSTOMERS.iter().chain(["nobody"].iter()) {
            same!(
                format!("usage of {c}"),
                l.customer_usage(c),
                m.customer_usage(c)
            );
        }

        // The model's own promises (a model bug would panic, this double-checks).
        for pr in &m.promises {
            if pr.promised_before + pr.demand > pr.capacity {
                return Err(format!("model promise beyond capacity: {pr:?}"));
            }
        }
        Ok(())
    }

    /// Replaying the same commands into a fresh ledger gives the same events and digest.
    fn check_replay(&self) -> Result<(), String> {
        let mut again = Ledger::new();
        let mut events = Vec::new();
        for c in &self.log {
            if let Ok(applied) = again.apply(c) {
                events.extend(applied.events);
            }
        }
        if events != self.events {
            return Err(format!(
                "replay gave different events\n{}",
                self.transcript()
            ));
        }
        if again.digest() != self.ledger.digest() {
            return Err(format!(
                "replay gave a different digest\n{}",
                self.transcript()
            ));
        }
        Ok(())
    }
}

// ------------------------------------------------------------ generators

#[derive(Clone, Debug)]
struct Catalog {
    capacities: Vec<u64>,
    /// (draws as (pool index, amount), policy)
    offers: Vec<(Vec<(usize, u64)>, WaitlistPolicy)>,
    default_hold_ms: Option<u64>,
}

fn catalog() -> impl Strategy<Value = Catalog> {
    (2usize..=4)
        .prop_flat_map(|np| {
            let offer = (
                prop::sample::subsequence((0..np).collect::<Vec<_>>(), 1..=np.min(3))
                    .prop_shuffle(),
                prop::collection::vec(1u64..=3, 3),
                any::<bool>(),
            )
                .prop_map(|(pools, amounts, skip)| {
                    let draws = pools.into_iter().zip(amounts).collect();
                    let policy = if skip {
                        WaitlistPolicy::Skip
                    } else {
                        WaitlistPolicy::Strict
                    };
                    (draws, policy)
                });
            (
                prop::collection::vec(0u64..20, np),
                prop::collection::vec(offer, 2..=4),
                // Disjoint from request hold_ms (1..=40) so that `None` and
                // `Some(default)` never compare as the same content.
                prop::option::of(prop::sample::select(vec![50u64, 75, 120])),
            )
        })
        .prop_map(|(capacities, offers, default_hold_ms)| Catalog {
            capacities,
            offers,
            default_hold_ms,
        })
}

#[derive(Clone, Debug)]
enum Time {
    Same,
    Forward(u64),
    Back(u64),
}

#[derive(Clone, Debug)]
struct ReqSpec {
    id: u8,
    customer: u8,
    phone: bool,
    attribute: Option<u8>,
    /// (offer index, or UNKNOWN; quantity)
    lines: Vec<(u8, u64)>,
    hold_ms: Option<u64>,
    confirm: bool,
    up_to: bool,
    waitlist: bool,
}

#[derive(Clone, Debug)]
enum Op {
    Reserve(ReqSpec),
    /// Resend an earlier request verbatim (0 = the latest).
    Repeat(u16),
    /// An earlier request's id with new content (usually different).
    Reuse(u16, ReqSpec),
    Confirm(u16),
    Release(u16),
    Tick,
    /// (pool index or UNKNOWN, capacity)
    SetCapacity(u8, u64),
    Leave(u16),
    Pause,
    Resume,
}

fn time() -> impl Strategy<Value = Time> {
    prop_oneof![
        15 => Just(Time::Same),
        70 => (1u64..=10).prop_map(Time::Forward),
        10 => (11u64..=60).prop_map(Time::Forward),
        5 => (1u64..=5).prop_map(Time::Back),
    ]
}

fn quantity() -> impl Strategy<Value = u64> {
    prop_oneof![
        120 => 1u64..=5,
        1 => Just(0u64),
        3 => Just(1_000_000_000u64),
        1 => Just(1_000_000_001u64),
        1 => Just(u64::MAX),
    ]
}

fn req_spec() -> impl Strategy<Value = ReqSpec> {
    let line = || (prop_oneof![30 => 0u8..4, 1 => Just(UNKNOWN)], quantity());
    let lines = prop_oneof![
        6 => prop::collection::vec(line(), 1),
        3 => prop::collection::vec(line(), 2),
        2 => prop::collection::vec(line(), 3),
    ];
    let hold = prop_oneof![
        3 => Just(None),
        36 => (1u64..=40).prop_map(Some),
        1 => Just(Some(0u64)),
    ];
    (
        any::<u8>(),
        0u8..3,
        prop::bool::weighted(0.2),
        prop::option::weighted(0.1, 0u8..3),
        lines,
        hold,
        prop::bool::weighted(0.2),
        prop::bool::weighted(0.25),
        prop::bool::weighted(0.4),
        prop::bool::weighted(0.1),
    )
        .prop_map(
            |(id, customer, phone, attribute, lines, hold_ms, confirm, up_to, waitlist, misuse)| {
                // `up_to` and `waitlist` need exactly one line: keep misuse rare.
                let keep = lines.len() == 1 || misuse;
                ReqSpec {
                    id,
                    customer,
                    phone,
                    attribute,
                    lines,
                    hold_ms,
                    confirm,
                    up_to: up_to && keep,
                    waitlist: waitlist && keep,
                }
            },
        )
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        30 => req_spec().prop_map(Op::Reserve),
        6 => any::<u16>().prop_map(Op::Repeat),
        4 => (any::<u16>(), req_spec()).prop_map(|(k, s)| Op::Reuse(k, s)),
        10 => any::<u16>().prop_map(Op::Confirm),
        10 => any::<u16>().prop_map(Op::Release),
        6 => Just(Op::Tick),
        6 => (
            prop_oneof![20 => 0u8..4, 1 => Just(UNKNOWN)],
            prop_oneof![20 => 0u64..=25, 1 => Just(CAPACITY_MAX + 1)],
        )
            .prop_map(|(p, c)| Op::SetCapacity(p, c)),
        5 => any::<u16>().prop_map(Op::Leave),
        1 => Just(Op::Pause),
        3 => Just(Op::Resume),
    ]
}

fn pool_name(i: usize) -> String {
    format!("p{i}")
}

fn offer_name(i: usize) -> String {
    format!("o{i}")
}

fn setup(cat: &Catalog) -> Vec<Command> {
    let mut cmds = Vec::new();
    for (i, &c) in cat.capacities.iter().enumerate() {
        cmds.push(Command::new(
            BASE,
            Action::DefinePool {
                pool: pool_name(i),
                capacity: c,
            },
        ));
    }
    for (i, (draws, policy)) in cat.offers.iter().enumerate() {
        cmds.push(Command::new(
            BASE,
            Action::DefineOffer {
                offer: offer_name(i),
                draws: draws
                    .iter()
                    .map(|&(p, a)| Draw::new(pool_name(p), a))
                    .collect(),
                waitlist: *policy,
            },
        ));
    }
    if let Some(h) = cat.default_hold_ms {
        cmds.push(Command::new(BASE, Action::SetDefaultHold { hold_ms: h }));
    }
    cmds
}

fn build_request(spec: &ReqSpec, n_offers: usize) -> Request {
    let mut r = Request::new(
        format!("r{}", spec.id),
        CUSTOMERS[spec.customer as usize % 3],
    );
    if spec.phone {
        r = r.channel("phone");
    }
    if let Some(a) = spec.attribute {
        r = r.attribute("zip", format!("10{a}0"));
    }
    for &(o, q) in &spec.lines {
        let offer = if o == UNKNOWN {
            "no-such-offer".to_owned()
        } else {
            offer_name(o as usize % n_offers)
        };
        r.lines.push(LineRequest { offer, quantity: q });
    }
    r.hold_ms = spec.hold_ms;
    r.confirm = spec.confirm;
    r.up_to = spec.up_to;
    r.waitlist = spec.waitlist;
    r
}

/// An id among the `n` issued so far (`sel = 0` → the latest), sometimes 0,
/// `n + 1` or `n + 2` (unknown, or created by this very command's time advance).
fn pick_id(sel: u16, n: u64) -> u64 {
    let sel = sel as u64;
    match sel % 16 {
        0 if n > 0 => n - (sel / 16) % n,
        0 | 1 => 0,
        2 => n + 1,
        3 => n + 2,
        _ if n == 0 => n + 1,
        _ => n - (sel / 16) % n,
    }
}

fn to_command(h: &Harness, cat: &Catalog, t: &Time, op: &Op) -> Command {
    let now = h.model.now;
    let at = match *t {
        Time::Same => now,
        Time::Forward(d) => now + d,
        Time::Back(d) => now.saturating_sub(d),
    };
    let n_offers = cat.offers.len();
    let action = match op {
        Op::Reserve(spec) => Action::Reserve(build_request(spec, n_offers)),
        Op::Repeat(k) => match h.requests.len() {
            0 => Action::Tick,
            len => Action::Reserve(h.requests[len - 1 - (*k as usize % len)].clone()),
        },
        Op::Reuse(k, spec) => {
            let mut r = build_request(spec, n_offers);
            if !h.requests.is_empty() {
                let len = h.requests.len();
                r.request_id = h.requests[len - 1 - (*k as usize % len)].request_id.clone();
            }
            Action::Reserve(r)
        }
        Op::Confirm(sel) => Action::Confirm {
            reservation: ReservationId(pick_id(*sel, h.model.reservations.len() as u64)),
        },
        Op::Release(sel) => Action::Release {
            reservation: ReservationId(pick_id(*sel, h.model.reservations.len() as u64)),
        },
        Op::Tick => Action::Tick,
        Op::SetCapacity(p, c) => Action::SetCapacity {
            pool: if *p == UNKNOWN {
                "no-such-pool".to_owned()
            } else {
                pool_name(*p as usize % cat.capacities.len())
            },
            capacity: *c,
        },
        Op::Leave(sel) => Action::LeaveWaitlist {
            entry: WaitEntryId(pick_id(*sel, h.model.entries.len() as u64)),
        },
        Op::Pause => Action::Pause,
        Op::Resume => Action::Resume,
    };
    Command::new(at, action)
}

fn run_case(cat: &Catalog, ops: &[(Time, Op)]) -> Result<(), String> {
    let mut h = Harness::new();
    for cmd in setup(cat) {
        h.step(cmd)?;
    }
    for (t, op) in ops {
        let cmd = to_command(&h, cat, t, op);
        h.step(cmd)?;
    }
    h.check_replay()
}

fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    Config {
        cases,
        // Minimal failures are reported by the test output; nothing is written
        // next to the sources.
        failure_persistence: None,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn ledger_agrees_with_model(
        cat in catalog(),
        ops in prop::collection::vec((time(), op()), 1..=60),
    ) {
        if let Err(m) = run_case(&cat, &ops) {
            return Err(TestCaseError::fail(m));
        }
    }
}

// ------------------------------------------------------------ examples
//
// Hand-written scenarios from SEMANTICS.md. The `model_*` tests check the
// oracle itself against the text; the `ledger_*` tests run the same commands
// through the harness (ledger vs model, all queries checked).

fn c(at: u64, action: Action) -> Command {
    Command::new(at, action)
}

fn pool(name: &str, capacity: u64) -> Action {
    Action::DefinePool {
        pool: name.into(),
        capacity,
    }
}

fn offer(name: &str, draws: &[(&str, u64)], policy: WaitlistPolicy) -> Action {
    Action::DefineOffer {
        offer: name.into(),
        draws: draws.iter().map(|&(p, a)| Draw::new(p, a)).collect(),
        waitlist: policy,
    }
}

fn reserve(r: Request) -> Action {
    Action::Reserve(r)
}

fn confirm(id: u64) -> Action {
    Action::Confirm {
        reservation: ReservationId(id),
    }
}

fn release(id: u64) -> Action {
    Action::Release {
        reservation: ReservationId(id),
    }
}

fn leave(id: u64) -> Action {
    Action::LeaveWaitlist {
        entry: WaitEntryId(id),
    }
}

fn set_capacity(name: &str, capacity: u64) -> Action {
    Action::SetCapacity {
        pool: name.into(),
        capacity,
    }
}

fn held(id: u64, expires_at: u64, units: u64) -> Outcome {
    Outcome::Held {
        reservation: ReservationId(id),
        expires_at,
        units,
    }
}

fn confirmed(id: u64, units: u64) -> Outcome {
    Outcome::Confirmed {
        reservation: ReservationId(id),
        units,
    }
}

fn sold_out(pool: &str, requested: u64, left: u64) -> Outcome {
    Outcome::Refused(Refusal::SoldOut {
        pool: pool.into(),
        requested,
        left,
    })
}

fn waiting(entry: u64, position: u32) -> Outcome {
    Outcome::Waiting {
        entry: WaitEntryId(entry),
        position,
    }
}

/// Run commands through the model alone; each result as `Ok(step)` or `Err(codes)`.
fn model_run(cmds: &[Command]) -> (Model, Vec<Result<Step, Vec<&'static str>>>) {
    let mut m = Model::new();
    let results = cmds.iter().map(|cmd| m.apply(cmd)).collect();
    (m, results)
}

fn outcome<'a>(r: &'a Result<Step, Vec<&'static str>>) -> &'a Outcome {
    &r.as_ref().expect("expected Ok").outcome
}

fn event_names(r: &Result<Step, Vec<&'static str>>) -> Vec<(&'static str, u64)> {
    r.as_ref()
        .expect("expected Ok")
        .events
        .iter()
        .map(|e| (e.ev.name(), e.at))
        .collect()
}

fn ledger_run(cmds: Vec<Command>) {
    let mut h = Harness::new();
    for cmd in cmds {
        if let Err(m) = h.step(cmd) {
            panic!("{m}");
        }
    }
    if let Err(m) = h.check_replay() {
        panic!("{m}");
    }
}

fn scenario_expiry_boundary() -> Vec<Command> {
    vec![
        c(0, pool("p", 1)),
        c(0, offer("o", &[("p", 1)], WaitlistPolicy::Strict)),
        c(
            100,
            reserve(Request::new("a", "alice").line("o", 1).hold_ms(10)),
        ),
        c(
            109,
            reserve(Request::new("b", "bob").line("o", 1).hold_ms(10)),
        ),
        c(
            110,
            reserve(Request::new("c", "carol").line("o", 1).hold_ms(10)),
        ),
        c(110, confirm(1)),
        c(110, release(1)),
        c(119, confirm(2)),
        c(500, Action::Tick),
    ]
}

#[test]
fn model_expiry_at_the_boundary() {
    let (m, r) = model_run(&scenario_expiry_boundary());
    assert_eq!(outcome(&r[2]), &held(1, 110, 1));
    // At 109 = t - 1 the hold is still held.
    assert_eq!(outcome(&r[3]), &sold_out("p", 1, 0));
    assert!(event_names(&r[3]).is_empty());
    // At 110 = t it has expired, before the command runs, stamped at t.
    assert_eq!(outcome(&r[4]), &held(2, 120, 1));
    assert_eq!(event_names(&r[4]), vec![("expired", 110), ("held", 110)]);
    let hold_expired = Outcome::Refused(Refusal::HoldExpired { expired_at: 110 });
    assert_eq!(outcome(&r[5]), &hold_expired);
    assert_eq!(outcome(&r[6]), &hold_expired);
    assert!(event_names(&r[6]).is_empty());
    // Confirm at 119 = t - 1 still works; later ticks expire nothing.
    assert_eq!(outcome(&r[7]), &confirmed(2, 1));
    assert!(event_names(&r[8]).is_empty());
    assert_eq!((m.held(0), m.confirmed(0)), (0, 1));
}

#[test]
fn ledger_expiry_at_the_boundary() {
    ledger_run(scenario_expiry_boundary());
}

fn scenario_waitlist_policy(policy: WaitlistPolicy) -> Vec<Command> {
    vec![
        c(0, pool("p", 4)),
        c(0, offer("o", &[("p", 1)], policy)),
        c(
            10,
            reserve(Request::new("r1", "alice").line("o", 2).confirm()),
        ),
        c(
            10,
            reserve(Request::new("r2", "bob").line("o", 2).confirm()),
        ),
        c(
            11,
            reserve(
                Request::new("r3", "carol")
                    .line("o", 3)
                    .waitlist()
                    .hold_ms(30),
            ),
        ),
        c(
            12,
            reserve(
                Request::new("r4", "alice")
                    .line("o", 1)
                    .waitlist()
                    .hold_ms(30),
            ),
        ),
        c(13, release(1)),
        c(14, release(2)),
    ]
}

#[test]
fn model_strict_head_blocks_and_skip_overtakes() {
    let (_, r) = model_run(&scenario_waitlist_policy(WaitlistPolicy::Strict));
    assert_eq!(outcome(&r[4]), &waiting(1, 1));
    assert_eq!(outcome(&r[5]), &waiting(2, 2));
    // Strict: 2 free, head wants 3: nobody is served.
    assert_eq!(event_names(&r[6]), vec![("released", 13)]);
    // 4 free: head (3) then entry 2 (1) both fit, head first.
    let step = r[7].as_ref().unwrap();
    assert_eq!(
        step.events.iter().map(|e| e.ev.clone()).collect::<Vec<_>>()[1..],
        [
            Ev::Promoted {
                entry: 1,
                reservation: 3,
                expires_at: 44,
                pools: vec![(0, 3)]
            },
            Ev::Promoted {
                entry: 2,
                reservation: 4,
                expires_at: 44,
                pools: vec![(0, 1)]
            },
        ]
    );

    let (m, r) = model_run(&scenario_waitlist_policy(WaitlistPolicy::Skip));
    // Skip: entry 2 fits and overtakes; the head keeps its place.
    assert_eq!(event_names(&r[6]), vec![("released", 13), ("promoted", 13)]);
    assert_eq!(m.entries[1].state, EState::Promoted(3));
    // 3 free after the second release: the head (3) now fits.
    assert_eq!(event_names(&r[7]), vec![("released", 14), ("promoted", 14)]);
    assert_eq!(m.entries[0].state, EState::Promoted(4));
}

#[test]
fn ledger_strict_head_blocks_and_skip_overtakes() {
    ledger_run(scenario_waitlist_policy(WaitlistPolicy::Strict));
    ledger_run(scenario_waitlist_policy(WaitlistPolicy::Skip));
}

fn scenario_lines_share_pools() -> Vec<Command> {
    vec![
        c(0, pool("p", 5)),
        c(0, pool("q", 10)),
        c(0, offer("one", &[("p", 1)], WaitlistPolicy::Strict)),
        c(
            0,
            offer("two", &[("q", 1), ("p", 2)], WaitlistPolicy::Strict),
        ),
        // Same offer twice: 3 + 3 = 6 > 5.
        c(
            1,
            reserve(Request::new("a", "alice").line("one", 3).line("one", 3)),
        ),
        // Two offers sharing p: 1 + 2*2 = 5 fits exactly; q gets 2.
        c(
            2,
            reserve(Request::new("b", "alice").line("one", 1).line("two", 2)),
        ),
        c(
            3,
            reserve(Request::new("c", "bob").line("two", 1).line("one", 1)),
        ),
    ]
}

#[test]
fn model_two_lines_on_the_same_pool_count_together() {
    let (m, r) = model_run(&scenario_lines_share_pools());
    assert_eq!(outcome(&r[4]), &sold_out("p", 6, 5));
    assert_eq!(outcome(&r[5]), &held(1, 2 + 15 * 60 * 1000, 3));
    assert_eq!(
        r[5].as_ref().unwrap().events[0].ev,
        Ev::Held {
            reservation: 1,
            expires_at: 2 + 15 * 60 * 1000,
            pools: vec![(0, 5), (1, 2)]
        }
    );
    // p (id 0) fails first in pool-id order, though line 1 names q first.
    assert_eq!(outcome(&r[6]), &sold_out("p", 3, 0));
    assert_eq!((m.held(0), m.held(1)), (5, 2));
    assert_eq!(
        m.customer_usage("alice"),
        vec![("one".into(), 1), ("two".into(), 2)]
    );
}

#[test]
fn ledger_two_lines_on_the_same_pool_count_together() {
    ledger_run(scenario_lines_share_pools());
}

fn scenario_smallest_entry_first() -> Vec<Command> {
    vec![
        c(0, pool("p", 2)),
        c(0, offer("a", &[("p", 1)], WaitlistPolicy::Strict)),
        c(0, offer("b", &[("p", 1)], WaitlistPolicy::Skip)),
        c(
            1,
            reserve(Request::new("r1", "alice").line("a", 1).confirm()),
        ),
        c(
            1,
            reserve(Request::new("r2", "alice").line("a", 1).confirm()),
        ),
        c(
            2,
            reserve(Request::new("r3", "bob").line("b", 1).waitlist()),
        ),
        c(
            3,
            reserve(Request::new("r4", "carol").line("a", 1).waitlist()),
        ),
        c(4, release(1)),
        c(5, release(2)),
    ]
}

#[test]
fn model_serves_smallest_entry_id_across_offers() {
    let (m, r) = model_run(&scenario_smallest_entry_first());
    assert_eq!(outcome(&r[5]), &waiting(1, 1));
    assert_eq!(outcome(&r[6]), &waiting(2, 1));
    assert_eq!(event_names(&r[7]), vec![("released", 4), ("promoted", 4)]);
    assert_eq!(m.entries[0].state, EState::Promoted(3));
    assert_eq!(m.entries[1].state, EState::Promoted(4));
    assert_eq!(m.customer_usage("bob"), vec![("b".into(), 1)]);
}

#[test]
fn ledger_serves_smallest_entry_id_across_offers() {
    ledger_run(scenario_smallest_entry_first());
}

fn scenario_idempotency() -> Vec<Command> {
    let first = Request::new("r1", "alice").line("o", 1).hold_ms(50);
    vec![
        c(0, pool("p", 1)),
        c(0, offer("o", &[("p", 1)], WaitlistPolicy::Strict)),
        c(10, reserve(first.clone())),
        c(11, confirm(1)),
        c(12, reserve(first.clone())),
        c(
            12,
            reserve(Request::new("r1", "alice").line("o", 2).hold_ms(50)),
        ),
        c(
            12,
            reserve(
                Request::new("r1", "alice")
                    .line("o", 1)
                    .hold_ms(50)
                    .channel("phone"),
            ),
        ),
        c(12, reserve(Request::new("r2", "bob").line("o", u64::MAX))),
        c(12, reserve(Request::new("r2", "bob").line("o", 1))),
        c(13, release(1)),
        c(13, reserve(Request::new("r2", "bob").line("o", 1))),
        c(13, release(1)),
        c(14, confirm(1)),
        c(14, confirm(99)),
        c(12, Action::Tick),
    ]
}

#[test]
fn model_idempotency_and_errors() {
    let (m, r) = model_run(&scenario_idempotency());
    assert_eq!(outcome(&r[2]), &held(1, 60, 1));
    assert_eq!(outcome(&r[3]), &confirmed(1, 1));
    // Same content: the first outcome, unchanged, no event.
    assert_eq!(outcome(&r[4]), &held(1, 60, 1));
    assert!(event_names(&r[4]).is_empty());
    assert_eq!(r[5].as_ref().unwrap_err(), &vec!["request_id_reused"]);
    assert_eq!(r[6].as_ref().unwrap_err(), &vec!["request_id_reused"]);
    assert!(r[7].as_ref().unwrap_err().contains(&"out_of_range"));
    // The failed first attempt left r2 free; its refusal is remembered.
    assert_eq!(outcome(&r[8]), &sold_out("p", 1, 0));
    assert_eq!(outcome(&r[10]), &sold_out("p", 1, 0));
    assert!(event_names(&r[10]).is_empty());
    assert_eq!(
        outcome(&r[11]),
        &Outcome::Released {
            reservation: ReservationId(1)
        }
    );
    assert!(event_names(&r[11]).is_empty());
    assert_eq!(r[12].as_ref().unwrap_err(), &vec!["reservation_state"]);
    assert_eq!(r[13].as_ref().unwrap_err(), &vec!["unknown_reservation"]);
    assert_eq!(r[14].as_ref().unwrap_err(), &vec!["time_went_backwards"]);
    assert_eq!(m.now, 13);
    assert_eq!(m.events.len(), 2 + 3);
}

#[test]
fn ledger_idempotency_and_errors() {
    ledger_run(scenario_idempotency());
}

fn scenario_expiry_chain() -> Vec<Command> {
    vec![
        c(0, pool("p", 1)),
        c(0, pool("q", 3)),
        c(0, offer("o", &[("p", 1), ("q", 3)], WaitlistPolicy::Strict)),
        c(
            0,
            reserve(Request::new("r1", "alice").line("o", 1).hold_ms(10)),
        ),
        c(
            0,
            reserve(Request::new("r2", "bob").line("o", 1).hold_ms(5).waitlist()),
        ),
        c(
            1,
            reserve(
                Request::new("r3", "carol")
                    .line("o", 1)
                    .hold_ms(9)
                    .waitlist(),
            ),
        ),
        c(100, Action::Tick),
    ]
}

#[test]
fn model_expiry_promotes_in_the_same_step_stamped_at_expiry() {
    let (m, r) = model_run(&scenario_expiry_chain());
    let step = r[6].as_ref().unwrap();
    let got: Vec<(u64, Ev)> = step.events.iter().map(|e| (e.at, e.ev.clone())).collect();
    let pools = vec![(0, 1), (1, 3)];
    assert_eq!(
        got,
        vec![
            (
                10,
                Ev::Expired {
                    reservation: 1,
                    pools: pools.clone()
                }
            ),
            (
                10,
                Ev::Promoted {
                    entry: 1,
                    reservation: 2,
                    expires_at: 15,
                    pools: pools.clone()
                }
            ),
            (
                15,
                Ev::Expired {
                    reservation: 2,
                    pools: pools.clone()
                }
            ),
            (
                15,
                Ev::Promoted {
                    entry: 2,
                    reservation: 3,
                    expires_at: 24,
                    pools: pools.clone()
                }
            ),
            (
                24,
                Ev::Expired {
                    reservation: 3,
                    pools
                }
            ),
        ]
    );
    assert_eq!(m.now, 100);
    assert_eq!(m.pool_available(1), 3);
}

#[test]
fn ledger_expiry_promotes_in_the_same_step_stamped_at_expiry() {
    ledger_run(scenario_expiry_chain());
}

fn scenario_pause_capacity_leave() -> Vec<Command> {
    vec![
        c(0, pool("p", 3)),
        c(0, offer("o", &[("p", 1)], WaitlistPolicy::Strict)),
        c(
            1,
            reserve(Request::new("r1", "alice").line("o", 3).confirm()),
        ),
        c(2, set_capacity("p", 1)),
        c(
            3,
            reserve(Request::new("r2", "bob").line("o", 2).waitlist()),
        ),
        c(
            3,
            reserve(Request::new("r3", "carol").line("o", 1).waitlist()),
        ),
        c(4, Action::Pause),
        c(4, Action::Pause),
        c(5, reserve(Request::new("r4", "carol").line("o", 1))),
        c(6, release(1)),
        c(7, set_capacity("p", 5)),
        c(8, leave(1)),
        c(9, Action::Resume),
        c(10, leave(2)),
        c(10, leave(1)),
        c(11, Action::Resume),
    ]
}

#[test]
fn model_pause_lowered_capacity_and_leaving() {
    let (m, r) = model_run(&scenario_pause_capacity_leave());
    // Lowering below what is promised revokes nothing.
    assert_eq!(event_names(&r[3]), vec![("capacity_changed", 2)]);
    assert_eq!(outcome(&r[4]), &waiting(1, 1));
    assert_eq!(outcome(&r[5]), &waiting(2, 2));
    assert!(event_names(&r[7]).is_empty());
    assert_eq!(outcome(&r[8]), &Outcome::Refused(Refusal::Paused));
    // Paused: release and capacity increase serve nobody.
    assert_eq!(event_names(&r[9]), vec![("released", 6)]);
    assert_eq!(event_names(&r[10]), vec![("capacity_changed", 7)]);
    assert_eq!(event_names(&r[11]), vec![("waitlist_left", 8)]);
    // Resume serves entry 2.
    assert_eq!(event_names(&r[12]), vec![("resumed", 9), ("promoted", 9)]);
    assert_eq!(
        outcome(&r[13]),
        &Outcome::Promoted {
            entry: WaitEntryId(2),
            reservation: ReservationId(2)
        }
    );
    assert_eq!(
        outcome(&r[14]),
        &Outcome::Left {
            entry: WaitEntryId(1)
        }
    );
    assert!(event_names(&r[14]).is_empty());
    assert!(event_names(&r[15]).is_empty());
    assert_eq!(m.entries[1].state, EState::Promoted(2));
}

#[test]
fn ledger_pause_lowered_capacity_and_leaving() {
    ledger_run(scenario_pause_capacity_leave());
}

fn scenario_up_to() -> Vec<Command> {
    vec![
        c(0, pool("p", 5)),
        c(0, offer("o", &[("p", 2)], WaitlistPolicy::Strict)),
        c(1, reserve(Request::new("r1", "alice").line("o", 5).up_to())),
        c(2, reserve(Request::new("r2", "bob").line("o", 1).up_to())),
        c(
            3,
            reserve(Request::new("r3", "bob").line("o", 4).up_to().waitlist()),
        ),
        c(
            4,
            reserve(Request::new("r4", "bob").line("o", 1).line("o", 1).up_to()),
        ),
    ]
}

#[test]
fn model_up_to_partial_fill() {
    let (_, r) = model_run(&scenario_up_to());
    assert_eq!(outcome(&r[2]), &held(1, 1 + 15 * 60 * 1000, 2));
    // available(o) = floor(1 / 2) = 0: sold out with the full quantity.
    assert_eq!(outcome(&r[3]), &sold_out("p", 2, 1));
    assert_eq!(outcome(&r[4]), &waiting(1, 1));
    assert_eq!(
        r[4].as_ref().unwrap().events[0].ev,
        Ev::WaitlistJoined {
            entry: 1,
            offer: 0,
            quantity: 4,
            position: 1
        }
    );
    assert_eq!(r[5].as_ref().unwrap_err(), &vec!["misuse"]);
}

#[test]
fn ledger_up_to_partial_fill() {
    ledger_run(scenario_up_to());
}

fn scenario_leave_promoted_by_the_same_advance() -> Vec<Command> {
    vec![
        c(0, pool("p", 1)),
        c(0, offer("o", &[("p", 1)], WaitlistPolicy::Strict)),
        c(
            0,
            reserve(Request::new("r1", "alice").line("o", 1).hold_ms(10)),
        ),
        c(
            0,
            reserve(Request::new("r2", "bob").line("o", 1).waitlist()),
        ),
        // At 10 the hold expires and entry 1 is promoted *before* the leave
        // runs: leaving is too late, the outcome says which hold it became.
        c(10, leave(1)),
        c(10, release(2)),
        c(10, leave(1)),
    ]
}

#[test]
fn model_leave_of_an_entry_promoted_by_the_same_advance() {
    let (m, r) = model_run(&scenario_leave_promoted_by_the_same_advance());
    assert_eq!(outcome(&r[3]), &waiting(1, 1));
    let promoted = Outcome::Promoted {
        entry: WaitEntryId(1),
        reservation: ReservationId(2),
    };
    assert_eq!(outcome(&r[4]), &promoted);
    assert_eq!(event_names(&r[4]), vec![("expired", 10), ("promoted", 10)]);
    assert_eq!(event_names(&r[5]), vec![("released", 10)]);
    assert_eq!(outcome(&r[6]), &promoted);
    assert_eq!(m.entries[0].state, EState::Promoted(2));
}

#[test]
fn ledger_leave_of_an_entry_promoted_by_the_same_advance() {
    ledger_run(scenario_leave_promoted_by_the_same_advance());
}

fn scenario_confirm_created_by_the_same_advance() -> Vec<Command> {
    vec![
        c(0, pool("p", 1)),
        c(0, offer("o", &[("p", 1)], WaitlistPolicy::Strict)),
        c(
            0,
            reserve(Request::new("r1", "alice").line("o", 1).hold_ms(10)),
        ),
        c(
            0,
            reserve(
                Request::new("r2", "bob")
                    .line("o", 1)
                    .waitlist()
                    .hold_ms(10),
            ),
        ),
        // Reservation 2 only comes into being during this command's advance.
        c(10, confirm(2)),
        c(25, Action::Tick),
    ]
}

#[test]
fn model_confirm_of_a_reservation_created_by_the_same_advance() {
    // The model's reading: the table is applied "after advancing time".
    // (The harness also accepts `Err(UnknownReservation)` with nothing
    // changed, since "validation happens entirely before any change".)
    let (m, r) = model_run(&scenario_confirm_created_by_the_same_advance());
    assert_eq!(outcome(&r[4]), &confirmed(2, 1));
    assert_eq!(
        event_names(&r[4]),
        vec![("expired", 10), ("promoted", 10), ("confirmed", 10)]
    );
    assert!(event_names(&r[5]).is_empty());
    assert_eq!(m.confirmed(0), 1);
}

#[test]
fn ledger_confirm_of_a_reservation_created_by_the_same_advance() {
    ledger_run(scenario_confirm_created_by_the_same_advance());
}

fn scenario_huge_numbers() -> Vec<Command> {
    let big = kontingent::limits::DRAW_AMOUNT_MAX;
    let mut five = Request::new("r1", "alice");
    for _ in 0..5 {
        five = five.line("big", 1_000_000_000);
    }
    vec![
        c(0, pool("p", CAPACITY_MAX)),
        c(0, offer("big", &[("p", big)], WaitlistPolicy::Strict)),
        // 5 * 1e9 * (2^32 - 1) leaves u64.
        c(1, reserve(five)),
        // 1e9 * (2^32 - 1) fits in u64 but not in the pool.
        c(
            2,
            reserve(Request::new("r1", "alice").line("big", 1_000_000_000)),
        ),
        c(
            3,
            reserve(Request::new("r2", "alice").line("big", 1_000_000_001)),
        ),
        c(
            3,
            reserve(Request::new("r3", "alice").line("big", 2_097_151).confirm()),
        ),
        c(4, set_capacity("p", CAPACITY_MAX + 1)),
    ]
}

#[test]
fn model_huge_numbers() {
    let big = kontingent::limits::DRAW_AMOUNT_MAX;
    let (m, r) = model_run(&scenario_huge_numbers());
    assert_eq!(r[2].as_ref().unwrap_err(), &vec!["overflow"]);
    assert_eq!(
        outcome(&r[3]),
        &sold_out("p", 1_000_000_000 * big, CAPACITY_MAX)
    );
    assert_eq!(r[4].as_ref().unwrap_err(), &vec!["out_of_range"]);
    // floor((2^53 - 1) / (2^32 - 1)) = 2_097_152 units fit; take one less.
    assert_eq!(outcome(&r[5]), &confirmed(1, 2_097_151));
    assert_eq!(m.offer_available(0), 1);
    assert_eq!(r[6].as_ref().unwrap_err(), &vec!["out_of_range"]);
}

#[test]
fn ledger_huge_numbers() {
    ledger_run(scenario_huge_numbers());
}
