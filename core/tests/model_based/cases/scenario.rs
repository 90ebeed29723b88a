//! The vocabulary the hand-written scenarios are written in, so that each reads
//! close to the example in the text it comes from.

use crate::harness::{fmt_cmd, normal, Harness};
use crate::model::{Codes, Model, Step};
use kontingent_core::catalog::{Limit, OfferSpec, PoolSpec, RuleKind, RuleSpec, SalesWindow, Slot};
use kontingent_core::{
    Action, Catalog, Command, Draw, Outcome, Refusal, Request, ReservationId, WaitEntryId,
    WaitlistPolicy,
};

pub fn c(at: u64, action: Action) -> Command {
    Command::new(at, action)
}

pub fn pool(name: &str, capacity: u64) -> Action {
    Action::DefinePool {
        pool: name.into(),
        capacity,
    }
}

pub fn offer(name: &str, draws: &[(&str, u64)], policy: WaitlistPolicy) -> Action {
    Action::DefineOffer {
        offer: name.into(),
        draws: draws.iter().map(|&(p, a)| Draw::new(p, a)).collect(),
        waitlist: policy,
    }
}

pub fn reserve(r: Request) -> Action {
    Action::Reserve(r)
}

pub fn confirm(id: u64) -> Action {
    Action::Confirm {
        reservation: ReservationId(id),
    }
}

pub fn release(id: u64) -> Action {
    Action::Release {
        reservation: ReservationId(id),
    }
}

pub fn leave(id: u64) -> Action {
    Action::LeaveWaitlist {
        entry: WaitEntryId(id),
    }
}

pub fn set_capacity(name: &str, capacity: u64) -> Action {
    Action::SetCapacity {
        pool: name.into(),
        capacity,
    }
}

pub fn held(id: u64, expires_at: u64, units: u64) -> Outcome {
    Outcome::Held {
        reservation: ReservationId(id),
        expires_at,
        units,
    }
}

pub fn confirmed(id: u64, units: u64) -> Outcome {
    Outcome::Confirmed {
        reservation: ReservationId(id),
        units,
    }
}

pub fn sold_out(pool: &str, requested: u64, left: u64) -> Outcome {
    Outcome::Refused(Refusal::SoldOut {
        pool: pool.into(),
        requested,
        left,
    })
}

pub fn waiting(entry: u64, position: u32) -> Outcome {
    Outcome::Waiting {
        entry: WaitEntryId(entry),
        position,
    }
}

/// Run commands through the model alone; each result as `Ok(step)` or `Err(codes)`.
pub fn model_run(cmds: &[Command]) -> (Model, Vec<Result<Step, Vec<&'static str>>>) {
    let mut m = Model::new();
    let results = cmds.iter().map(|cmd| m.apply(cmd)).collect();
    (m, results)
}

pub fn outcome<'a>(r: &'a Result<Step, Vec<&'static str>>) -> &'a Outcome {
    &r.as_ref().expect("expected Ok").outcome
}

pub fn event_names(r: &Result<Step, Vec<&'static str>>) -> Vec<(&'static str, u64)> {
    r.as_ref()
        .expect("expected Ok")
        .events
        .iter()
        .map(|e| (e.ev.name(), e.at))
        .collect()
}

pub fn ledger_run(cmds: Vec<Command>) -> Harness {
    let mut h = Harness::new();
    for cmd in cmds {
        if let Err(m) = h.step(cmd) {
            panic!("{m}");
        }
    }
    if let Err(m) = h.check_replay() {
        panic!("{m}");
    }
    h
}

pub const HOLD: u64 = kontingent_core::limits::HOLD_MS_DEFAULT;

pub fn pspec(name: &str, capacity: u64) -> PoolSpec {
    PoolSpec {
        name: name.into(),
        capacity,
    }
}

pub fn ospec(name: &str, price: u64, draws: &[(&str, u64)]) -> OfferSpec {
    OfferSpec {
        name: name.into(),
        price,
        draws: draws.iter().map(|&(p, a)| Draw::new(p, a)).collect(),
        waitlist: WaitlistPolicy::Strict,
        window: SalesWindow::default(),
        slot: None,
    }
}

pub fn window(opens_at: Option<u64>, closes_at: Option<u64>) -> SalesWindow {
    SalesWindow {
        opens_at,
        closes_at,
    }
}

pub fn windowed(mut o: OfferSpec, opens_at: Option<u64>, closes_at: Option<u64>) -> OfferSpec {
    o.window = window(opens_at, closes_at);
    o
}

/// A slot offer drawing 1 from its own pool of the same name.
pub fn slot_offer(
    name: &str,
    starts_at: u64,
    lead_ms: Option<u64>,
    cutoff_at: Option<u64>,
) -> OfferSpec {
    let mut o = ospec(name, 0, &[(name, 1)]);
    o.slot = Some(Slot {
        template: "delivery".into(),
        starts_at,
        ends_at: starts_at + 1800,
        lead_ms,
        cutoff_at,
    });
    o
}

pub fn rspec(name: &str, scope: &[&str], kind: RuleKind) -> RuleSpec {
    RuleSpec {
        name: name.into(),
        offers: scope.iter().map(|s| s.to_string()).collect(),
        kind,
    }
}

pub fn units_limit(limit: u64, per_offer: bool) -> RuleKind {
    RuleKind::CustomerLimit {
        limit: Limit::Units(limit),
        per_offer,
    }
}

pub fn value_limit(limit: u64, per_offer: bool) -> RuleKind {
    RuleKind::CustomerLimit {
        limit: Limit::Value(limit),
        per_offer,
    }
}

pub fn pool_limit(pool: &str, amount: u64) -> RuleKind {
    RuleKind::CustomerLimit {
        limit: Limit::PoolAmount {
            pool: pool.into(),
            amount,
        },
        per_offer: false,
    }
}

pub fn share(pool: &str, channel: &str, keep: u64) -> RuleKind {
    RuleKind::ChannelShare {
        pool: pool.into(),
        channel: channel.into(),
        keep,
    }
}

pub fn catalog(pools: Vec<PoolSpec>, offers: Vec<OfferSpec>, rules: Vec<RuleSpec>) -> Catalog {
    Catalog {
        name: "test".into(),
        time_zone: None,
        default_hold_ms: HOLD,
        channels: vec!["web".into(), "phone".into()],
        window: SalesWindow::default(),
        pools,
        offers,
        rules,
        consumers: Vec::new(),
    }
}

pub fn load(cat: &Catalog) -> Action {
    Action::LoadCatalog(Box::new(cat.clone()))
}

pub fn not_open(opens_at: u64) -> Outcome {
    Outcome::Refused(Refusal::NotOpenYet { opens_at })
}

pub fn closed(closed_at: u64) -> Outcome {
    Outcome::Refused(Refusal::Closed { closed_at })
}

pub fn rule_refused(name: &str) -> Outcome {
    Outcome::Refused(Refusal::Rule {
        name: name.into(),
        detail: String::new(),
    })
}

pub fn over_limit(name: &str, limit: u64, used: u64) -> Outcome {
    Outcome::Refused(Refusal::CustomerLimit {
        name: name.into(),
        limit,
        used,
    })
}

/// What the model must say for the command at an index.
pub enum X {
    O(Outcome),
    E(&'static str),
}

pub fn check_model(cmds: &[Command], expect: Vec<(usize, X)>) -> (Model, Vec<Result<Step, Codes>>) {
    let (m, r) = model_run(cmds);
    for (i, x) in expect {
        let what = fmt_cmd(&cmds[i]);
        match x {
            X::O(o) => match &r[i] {
                Ok(step) => assert_eq!(
                    normal(&step.outcome),
                    normal(&o),
                    "model, command {i}: {what}"
                ),
                Err(codes) => panic!("model, command {i}: {what}: Err({codes:?}), expected {o:?}"),
            },
            X::E(code) => match &r[i] {
                Err(codes) => assert!(
                    codes.contains(&code),
                    "model, command {i}: {what}: {codes:?} lacks {code}"
                ),
                Ok(step) => panic!("model, command {i}: {what}: {step:?}, expected Err({code})"),
            },
        }
    }
    (m, r)
}

pub fn buy(id: &str, customer: &str, lines: &[(&str, u64)]) -> Request {
    let mut r = Request::new(id, customer).confirm();
    for &(o, q) in lines {
        r = r.line(o, q);
    }
    r
}
