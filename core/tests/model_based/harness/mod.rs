//! The harness: every command goes to the real ledger and to the model, and
//! outcomes, events, errors, previews and replays must agree.

mod convert;
mod queries;

use crate::auditor::Auditor;
use crate::model::{Amb, Codes, MEvent, Model, Step};
use convert::to_mevent;
use kontingent_core::catalog::SalesWindow;
use kontingent_core::{
    Action, Applied, Catalog, Command, Event, EventKind, Ledger, Outcome, Refusal, Request,
};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// Generated runs draw their customers from these, so the usage of each is
/// compared after every step.
pub const CUSTOMERS: [&str; 3] = ["alice", "bob", "carol"];

pub fn fmt_cmd(c: &Command) -> String {
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
        Action::LoadCatalog(cat) => fmt_catalog(cat),
        Action::Confirm { reservation } => format!("confirm {reservation}"),
        Action::Release { reservation } => format!("release {reservation}"),
        Action::LeaveWaitlist { entry } => format!("leave_waitlist {entry}"),
        other => format!("{other:?}"),
    };
    format!("@{} {what}", c.at)
}

pub fn fmt_window(w: &SalesWindow) -> String {
    let end = |t: Option<u64>| t.map_or("-".to_owned(), |t| t.to_string());
    format!("[{}, {})", end(w.opens_at), end(w.closes_at))
}

pub fn fmt_catalog(cat: &Catalog) -> String {
    let mut s = format!(
        "load_catalog {:?} hold={} channels={:?} window={}",
        cat.name,
        cat.default_hold_ms,
        cat.channels,
        fmt_window(&cat.window)
    );
    for p in &cat.pools {
        let _ = write!(s, "\n        pool {} {}", p.name, p.capacity);
    }
    for o in &cat.offers {
        let d: Vec<String> = o
            .draws
            .iter()
            .map(|d| format!("{}x{}", d.pool, d.amount))
            .collect();
        let _ = write!(
            s,
            "\n        offer {} price={} [{}] {:?}",
            o.name,
            o.price,
            d.join(", "),
            o.waitlist
        );
        if o.window != SalesWindow::default() {
            let _ = write!(s, " window={}", fmt_window(&o.window));
        }
        if let Some(slot) = &o.slot {
            let _ = write!(
                s,
                " slot(starts_at={} lead_ms={:?} cutoff_at={:?})",
                slot.starts_at, slot.lead_ms, slot.cutoff_at
            );
        }
    }
    for r in &cat.rules {
        let _ = write!(
            s,
            "\n        rule {} scope={:?} {:?}",
            r.name, r.offers, r.kind
        );
    }
    s
}

/// A rule refusal's `detail` is free text: only its name is compared.
pub fn normal(o: &Outcome) -> Outcome {
    match o {
        Outcome::Refused(Refusal::Rule { name, .. }) => Outcome::Refused(Refusal::Rule {
            name: name.clone(),
            detail: String::new(),
        }),
        o => o.clone(),
    }
}

/// Does the ledger's result agree with one the model computed?
pub fn agrees(
    real: &Result<Applied, kontingent_core::Error>,
    expected: &Result<Step, Codes>,
) -> bool {
    match (real, expected) {
        (Ok(a), Ok(s)) => {
            normal(&a.outcome) == normal(&s.outcome)
                && a.events.iter().map(to_mevent).collect::<Vec<_>>() == s.events
        }
        (Err(e), Err(codes)) => codes.contains(&e.code()),
        _ => false,
    }
}

pub struct Harness {
    /// The last catalog loaded successfully (a mid-sequence change starts from it).
    pub current: Option<Catalog>,
    /// At each open point the ledger met: did it take the alternative reading,
    /// and at which step did it first show it.
    pub chosen: BTreeMap<Amb, (bool, usize)>,
    ledger: Ledger,
    pub model: Model,
    audit: Auditor,
    log: Vec<Command>,
    /// Every event the ledger emitted, in order.
    events: Vec<Event>,
    /// Every reserve request sent so far (for repeats and id reuse).
    pub requests: Vec<Request>,
}

impl Harness {
    pub fn new() -> Self {
        Harness {
            current: None,
            chosen: BTreeMap::new(),
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

    /// Run the command on a copy of the model with some alternative readings.
    fn run_model(
        &self,
        cmd: &Command,
        reading: &BTreeSet<Amb>,
    ) -> (Model, Result<Step, Codes>, Vec<Amb>) {
        let mut m = self.model.clone();
        m.reading = reading.clone();
        let result = m.apply(cmd);
        let touched: Vec<Amb> = m.touched.borrow().iter().copied().collect();
        m.reading.clear();
        (m, result, touched)
    }

    fn choose(&mut self, a: Amb, alternative: bool, step: usize) -> Result<(), String> {
        match self.chosen.get(&a) {
            Some(&(before, first)) if before != alternative => Err(format!(
                "the ledger reads the open point {a:?} both ways: {} at step {first}, {} at step {step}",
                if before { "alternative" } else { "model's" },
                if alternative { "alternative" } else { "model's" },
            )),
            Some(_) => Ok(()),
            None => {
                self.chosen.insert(a, (alternative, step));
                Ok(())
            }
        }
    }

    /// The model's step: its own reading, or, where it met an open point and
    /// the ledger disagrees, the smallest set of alternative readings under which
    /// they agree completely.
    fn model_step(
        &mut self,
        cmd: &Command,
        real: &Result<Applied, kontingent_core::Error>,
        step: usize,
    ) -> Result<(Model, Result<Step, Codes>), String> {
        let (m, r, flags) = self.run_model(cmd, &BTreeSet::new());
        if flags.is_empty() {
            return Ok((m, r));
        }
        if agrees(real, &r) {
            // Where the alternative would have differed, the ledger took the model's reading.
            for &f in &flags {
                let (_, alt, _) = self.run_model(cmd, &BTreeSet::from([f]));
                if !agrees(real, &alt) {
                    self.choose(f, false, step)?;
                }
            }
            return Ok((m, r));
        }
        let n = flags.len().min(6);
        let mut masks: Vec<u32> = (1..(1u32 << n)).collect();
        masks.sort_by_key(|m| m.count_ones());
        for mask in masks {
            let set: BTreeSet<Amb> = (0..n)
                .filter(|k| mask >> k & 1 == 1)
                .map(|k| flags[k])
                .collect();
            let (am, ar, _) = self.run_model(cmd, &set);
            if agrees(real, &ar) {
                for f in set {
                    self.choose(f, true, step)?;
                }
                return Ok((am, ar));
            }
        }
        Ok((m, r))
    }

    /// Apply one command to both; compare; check every query.
    pub fn step(&mut self, cmd: Command) -> Result<(), String> {
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
        // What the ledger says a request would get, asked just before it is sent.
        let preview = match &cmd.action {
            Action::Reserve(r) if cmd.at >= now => Some(self.ledger.preview(r, cmd.at)),
            _ => None,
        };
        let real = self.ledger.apply(&cmd);
        self.log.push(cmd.clone());
        let at = format!("step {i} ({})", fmt_cmd(&cmd));
        if let Some(preview) = preview {
            let same = match (&preview, &real) {
                (Ok(p), Ok(a)) => *p == a.outcome,
                (Err(p), Err(e)) => p.code() == e.code(),
                _ => false,
            };
            if !same {
                return Err(format!(
                    "{at}: preview differs from the real result\n  preview: {preview:?}\n  real:    {:?}",
                    real.as_ref().map(|a| &a.outcome)
                ));
            }
        }
        if let (Action::LoadCatalog(cat), Ok(_)) = (&cmd.action, &real) {
            self.current = Some((**cat).clone());
        }
        let (next, expected) = self.model_step(&cmd, &real, i)?;
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
        if std::env::var_os("MODEL_STATS").is_some() {
            let what = match (&real, &cmd.action) {
                (Ok(a), Action::Reserve(_)) => match &a.outcome {
                    Outcome::Refused(Refusal::Rule { name, .. }) => {
                        format!("rule:{}", name.trim_end_matches(char::is_numeric))
                    }
                    Outcome::Refused(r) => format!("refused:{}", r.code()),
                    o => format!("{o:?}")
                        .split_whitespace()
                        .next()
                        .unwrap_or("")
                        .to_owned(),
                },
                (Ok(a), Action::LoadCatalog(_)) => format!(
                    "load:ok:{}",
                    a.events
                        .iter()
                        .any(|e| matches!(e.kind, EventKind::Promoted { .. }))
                ),
                (Ok(a), _)
                    if a.events
                        .iter()
                        .any(|e| matches!(e.kind, EventKind::Promoted { .. })) =>
                {
                    "promoted".into()
                }
                (Err(e), Action::LoadCatalog(_)) => format!("load:err:{}", e.code()),
                (Err(e), _) => format!("err:{}", e.code()),
                _ => String::new(),
            };
            if !what.is_empty() {
                eprintln!("STAT {what}");
            }
        }
        match (real, expected) {
            (Ok(applied), Ok(Step { outcome, events })) => {
                if normal(&applied.outcome) != normal(&outcome) {
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

    /// Replaying the same commands into a fresh ledger gives the same events and digest.
    pub fn check_replay(&self) -> Result<(), String> {
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
