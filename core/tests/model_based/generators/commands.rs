//! Random commands after the setup, turned into real ones against the state the
//! harness has reached (ids issued so far, the offers and pools the model knows).

use super::catalog::{change_catalog, gchange, zip, GChange};
use super::UNKNOWN;
use crate::harness::{Harness, CUSTOMERS};
use crate::model::Model;
use kontingent_core::catalog::SalesWindow;
use kontingent_core::limits::CAPACITY_MAX;
use kontingent_core::{
    Action, Command, EventType, LineRequest, Request, ReservationId, WaitEntryId,
};
use proptest::prelude::*;

#[derive(Clone, Debug)]
pub enum Time {
    Same,
    Forward(u64),
    Back(u64),
    /// To a boundary instant of the loaded catalog (a window edge, a slot
    /// start, `starts_at - lead_ms`, a cut-off) at or after now, plus -1, 0 or +1.
    Edge(u8, i8),
}

#[derive(Clone, Debug)]
pub struct ReqSpec {
    id: u8,
    customer: u8,
    /// 0 = web, 1 = phone, 2 = kiosk (not in generated catalogs)
    channel: u8,
    /// Index of "1000", "1010", "1020", "9999".
    attribute: Option<u8>,
    /// (offer selector, or UNKNOWN; quantity)
    lines: Vec<(u8, u64)>,
    hold_ms: Option<u64>,
    confirm: bool,
    up_to: bool,
    waitlist: bool,
}

#[derive(Clone, Debug)]
pub enum Op {
    Reserve(ReqSpec),
    /// Resend an earlier request verbatim (0 = the latest).
    Repeat(u16),
    /// An earlier request's id with new content (usually different).
    Reuse(u16, ReqSpec),
    Confirm(u16),
    Release(u16),
    Tick,
    /// (pool selector or UNKNOWN, capacity)
    SetCapacity(u8, u64),
    Leave(u16),
    Pause,
    Resume,
    /// Load a changed catalog (catalog shape only; a tick otherwise).
    Reload(Vec<GChange>),
    /// (consumer selector, event-type selectors, `after`: none or a seq selector)
    DefineConsumer(u8, Vec<u8>, Option<u16>),
    /// (consumer selector, seq selector)
    Ack(u8, u16),
}

/// Consumer names the generator uses; the last is never defined.
pub const CONSUMER_NAMES: [&str; 4] = ["mailer", "webhook:kitchen", "audit", "ghost"];

pub fn time() -> impl Strategy<Value = Time> {
    prop_oneof![
        15 => Just(Time::Same),
        70 => (1u64..=10).prop_map(Time::Forward),
        10 => (11u64..=60).prop_map(Time::Forward),
        5 => (1u64..=5).prop_map(Time::Back),
        15 => (any::<u8>(), prop::sample::select(vec![-1i8, 0, 0, 1]))
            .prop_map(|(k, d)| Time::Edge(k, d)),
    ]
}

/// Boundary instants of the model's catalog, at or after `now`, sorted.
pub fn edges(m: &Model) -> Vec<u64> {
    let mut out = Vec::new();
    let mut window = |w: &SalesWindow| out.extend(w.opens_at.into_iter().chain(w.closes_at));
    window(&m.window);
    for o in &m.offers {
        window(&o.window);
    }
    for o in &m.offers {
        if let Some(slot) = &o.slot {
            out.push(slot.starts_at);
            out.extend(slot.lead_ms.map(|l| slot.starts_at.saturating_sub(l)));
            out.extend(slot.cutoff_at);
        }
    }
    out.retain(|&t| t >= m.now);
    out.sort();
    out.dedup();
    out
}

pub fn quantity() -> impl Strategy<Value = u64> {
    prop_oneof![
        120 => 1u64..=5,
        1 => Just(0u64),
        3 => Just(1_000_000_000u64),
        1 => Just(1_000_000_001u64),
        1 => Just(u64::MAX),
    ]
}

pub fn req_spec() -> impl Strategy<Value = ReqSpec> {
    let line = || (prop_oneof![30 => 0u8..8, 1 => Just(UNKNOWN)], quantity());
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
    let channel = prop_oneof![13 => Just(0u8), 6 => Just(1u8), 1 => Just(2u8)];
    (
        any::<u8>(),
        0u8..3,
        channel,
        prop::option::weighted(0.5, 0u8..4),
        lines,
        hold,
        prop::bool::weighted(0.2),
        prop::bool::weighted(0.25),
        prop::bool::weighted(0.4),
        prop::bool::weighted(0.1),
    )
        .prop_map(
            |(
                id,
                customer,
                channel,
                attribute,
                lines,
                hold_ms,
                confirm,
                up_to,
                waitlist,
                misuse,
            )| {
                // `up_to` and `waitlist` need exactly one line: keep misuse rare.
                let keep = lines.len() == 1 || misuse;
                ReqSpec {
                    id,
                    customer,
                    channel,
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

pub fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        30 => req_spec().prop_map(Op::Reserve),
        6 => any::<u16>().prop_map(Op::Repeat),
        4 => (any::<u16>(), req_spec()).prop_map(|(k, s)| Op::Reuse(k, s)),
        10 => any::<u16>().prop_map(Op::Confirm),
        10 => any::<u16>().prop_map(Op::Release),
        6 => Just(Op::Tick),
        6 => (
            prop_oneof![20 => 0u8..8, 1 => Just(UNKNOWN)],
            prop_oneof![20 => 0u64..=25, 1 => Just(CAPACITY_MAX + 1)],
        )
            .prop_map(|(p, c)| Op::SetCapacity(p, c)),
        5 => any::<u16>().prop_map(Op::Leave),
        1 => Just(Op::Pause),
        3 => Just(Op::Resume),
        3 => prop::collection::vec(gchange(), 1..=3).prop_map(Op::Reload),
        2 => (
            0u8..3,
            prop::collection::vec(any::<u8>(), 0..=4),
            prop::option::of(any::<u16>()),
        )
            .prop_map(|(c, t, a)| Op::DefineConsumer(c, t, a)),
        6 => (0u8..4, any::<u16>()).prop_map(|(c, s)| Op::Ack(c, s)),
    ]
}

/// Offer names come from the model (catalog offers, slots and added offers included).
pub fn build_request(spec: &ReqSpec, model: &Model) -> Request {
    let mut r = Request::new(
        format!("r{}", spec.id),
        CUSTOMERS[spec.customer as usize % 3],
    );
    match spec.channel {
        0 => {}
        1 => r = r.channel("phone"),
        _ => r = r.channel("kiosk"),
    }
    match spec.attribute {
        Some(3) => r = r.attribute("zip", "9999"),
        Some(a) => r = r.attribute("zip", zip(a)),
        None => {}
    }
    let n_offers = model.offers.len();
    for &(o, q) in &spec.lines {
        let offer = if o == UNKNOWN || n_offers == 0 {
            "no-such-offer".to_owned()
        } else {
            model.offers[o as usize % n_offers].name.clone()
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
pub fn pick_id(sel: u16, n: u64) -> u64 {
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

pub fn to_command(h: &Harness, t: &Time, op: &Op) -> Command {
    let now = h.model.now;
    let at = match *t {
        Time::Same => now,
        Time::Forward(d) => now + d,
        Time::Back(d) => now.saturating_sub(d),
        Time::Edge(k, d) => {
            let e = edges(&h.model);
            if e.is_empty() {
                now + 1
            } else {
                (e[k as usize % e.len()] as i64 + d as i64).max(now as i64) as u64
            }
        }
    };
    let action = match op {
        Op::Reserve(spec) => Action::Reserve(build_request(spec, &h.model)),
        Op::Repeat(k) => match h.requests.len() {
            0 => Action::Tick,
            len => Action::Reserve(h.requests[len - 1 - (*k as usize % len)].clone()),
        },
        Op::Reuse(k, spec) => {
            let mut r = build_request(spec, &h.model);
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
            pool: if *p == UNKNOWN || h.model.pools.is_empty() {
                "no-such-pool".to_owned()
            } else {
                h.model.pools[*p as usize % h.model.pools.len()]
                    .name
                    .clone()
            },
            capacity: *c,
        },
        Op::Leave(sel) => Action::LeaveWaitlist {
            entry: WaitEntryId(pick_id(*sel, h.model.entries.len() as u64)),
        },
        Op::Pause => Action::Pause,
        Op::Resume => Action::Resume,
        Op::DefineConsumer(c, types, after) => Action::DefineConsumer {
            consumer: CONSUMER_NAMES[*c as usize % 3].to_owned(),
            // Mostly the types a mailer wants, sometimes any (and duplicates).
            events: types
                .iter()
                .map(|t| match t % 4 {
                    0 => EventType::Confirmed,
                    1 => EventType::Promoted,
                    _ => EventType::ALL[*t as usize % EventType::ALL.len()],
                })
                .collect(),
            after: after.map(|a| pick_seq(a, h.model.events.len() as u64)),
        },
        Op::Ack(c, sel) => Action::Ack {
            consumer: CONSUMER_NAMES[*c as usize].to_owned(),
            seq: pick_seq(*sel, h.model.events.len() as u64),
        },
        Op::Reload(changes) => match &h.current {
            Some(cat) => Action::LoadCatalog(Box::new(change_catalog(cat, changes, at))),
            None => Action::Tick,
        },
    };
    Command::new(at, action)
}

/// A seq from a selector: mostly one the stream has reached (often its end),
/// sometimes one past it.
fn pick_seq(sel: u16, seq: u64) -> u64 {
    match sel % 8 {
        0 => seq + 1 + u64::from(sel / 8) % 3,
        1 | 2 => seq,
        _ => u64::from(sel / 8) % (seq + 1),
    }
}
