//! Every order-intake rule at its boundaries, table-driven, through a real catalog file.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // a test harness, not the core (core/clippy.toml)

use kontingent_core::{Action, Catalog, Command, Ledger, Outcome, Refusal, Request, ReservationId};

/// Europe/Berlin in November 2026 is UTC+1.
fn berlin(local: &str) -> u64 {
    let ts: jiff::Timestamp = format!("{local}+01:00").parse().unwrap();
    ts.as_millisecond() as u64
}

const CATALOG: &str = r#"
name = "rules"
time_zone = "Europe/Berlin"
hold = "10m"
channels = ["web", "phone"]
opens_at = "2026-11-29 12:00"
closes_at = "2026-11-29 20:00"

[[pools]]
name = "zur-post"
capacity = 10

[[pools]]
name = "budget"
capacity = 1000

[[offers]]
name = "v20"
price = 2000
draws = { zur-post = 1, budget = 20 }

[[offers]]
name = "v50"
price = 5000
draws = { zur-post = 1, budget = 50 }
opens_at = "2026-11-29 13:00"

[[rules]]
name = "max-100-eur"
kind = "customer_limit"
value = 10000

[[rules]]
name = "one-to-four"
kind = "order_size"
min_units = 1
max_units = 4

[[rules]]
name = "min-30-eur"
kind = "min_order_value"
value = 3000
offers = ["v50"]

[[rules]]
name = "emstek-only"
kind = "allowed_values"
attribute = "postal_code"
values = ["49685"]

[[rules]]
name = "phone-keeps-3"
kind = "channel_share"
pool = "zur-post"
channel = "phone"
keep = 3
"#;

fn ledger() -> Ledger {
    let c = Catalog::from_toml_str(CATALOG, "rules.toml").unwrap();
    let mut l = Ledger::new();
    l.apply(&Command::new(0, Action::LoadCatalog(Box::new(c))))
        .unwrap();
    l
}

fn ask(id: &str, who: &str) -> Request {
    Request::new(id, who).attribute("postal_code", "49685")
}

fn reserve(l: &mut Ledger, at: u64, r: Request) -> Outcome {
    l.apply(&Command::new(at, Action::Reserve(r)))
        .unwrap()
        .outcome
}

fn code(o: &Outcome) -> String {
    match o {
        Outcome::Refused(Refusal::Rule { name, .. }) => format!("rule:{name}"),
        Outcome::Refused(r) => r.code().to_owned(),
        Outcome::Held { .. } => "held".into(),
        Outcome::Confirmed { .. } => "confirmed".into(),
        Outcome::Waiting { .. } => "waiting".into(),
        other => format!("{other:?}"),
    }
}

#[test]
fn windows_at_the_edge() {
    let open = berlin("2026-11-29T12:00:00");
    let close = berlin("2026-11-29T20:00:00");
    let rows = [
        (open - 1, "v20", "not_open_yet"),
        (open, "v20", "held"),
        (close - 1, "v20", "held"),
        (close, "v20", "closed"),
        // The offer's own window opens an hour later.
        (berlin("2026-11-29T13:00:00") - 1, "v50", "not_open_yet"),
        (berlin("2026-11-29T13:00:00"), "v50", "held"),
    ];
    for (at, offer, want) in rows {
        let mut l = ledger();
        let got = reserve(&mut l, at, ask("r", "a").line(offer, 1));
        assert_eq!(code(&got), want, "{offer} at {at}");
    }
    let mut l = ledger();
    match reserve(&mut l, open - 1, ask("r", "a").line("v20", 1)) {
        Outcome::Refused(Refusal::NotOpenYet { opens_at }) => assert_eq!(opens_at, open),
        other => panic!("{other:?}"),
    }
    match reserve(&mut l, close, ask("s", "a").line("v20", 1)) {
        Outcome::Refused(Refusal::Closed { closed_at }) => assert_eq!(closed_at, close),
        other => panic!("{other:?}"),
    }
}

#[test]
fn customer_limit_at_the_boundary() {
    let t = berlin("2026-11-29T14:00:00");
    let mut l = ledger();
    // 100 EUR per customer: 2 x 50 fits exactly; one more 20 does not.
    assert_eq!(
        code(&reserve(&mut l, t, ask("a", "anna").line("v50", 2))),
        "held"
    );
    match reserve(&mut l, t, ask("b", "anna").line("v20", 1)) {
        Outcome::Refused(Refusal::CustomerLimit { name, limit, used }) => {
            assert_eq!((name.as_str(), limit, used), ("max-100-eur", 10000, 10000));
        }
        other => panic!("{other:?}"),
    }
    // Another customer is not affected; releasing frees anna's allowance.
    assert_eq!(
        code(&reserve(&mut l, t, ask("c", "ben").line("v20", 1))),
        "held"
    );
    l.apply(&Command::new(
        t,
        Action::Release {
            reservation: ReservationId(1),
        },
    ))
    .unwrap();
    assert_eq!(
        code(&reserve(&mut l, t, ask("d", "anna").line("v20", 4))),
        "held"
    );
    // 80 used; 20 more is exactly the limit; then 20 more is over.
    assert_eq!(
        code(&reserve(&mut l, t, ask("e", "anna").line("v20", 1))),
        "held"
    );
    assert_eq!(
        code(&reserve(&mut l, t, ask("f", "anna").line("v20", 1))),
        "customer_limit"
    );
}

#[test]
fn order_size_min_value_and_allowed_values() {
    let t = berlin("2026-11-29T14:00:00");
    let rows: Vec<(Request, &str)> = vec![
        (ask("a", "x").line("v20", 4), "held"),
        (
            ask("a", "x").line("v20", 3).line("v20", 2),
            "rule:one-to-four",
        ),
        // min-30-eur applies to v50 lines only: one v50 is 50 EUR, fine.
        (ask("a", "x").line("v50", 1), "held"),
        (Request::new("a", "x").line("v20", 1), "rule:emstek-only"),
        (
            Request::new("a", "x")
                .attribute("postal_code", "26122")
                .line("v20", 1),
            "rule:emstek-only",
        ),
        (
            Request::new("a", "x")
                .attribute("postal_code", "49685")
                .line("v20", 1),
            "held",
        ),
    ];
    for (r, want) in rows {
        let mut l = ledger();
        let got = reserve(&mut l, t, r.clone());
        assert_eq!(code(&got), want, "{r:?}");
    }
}

#[test]
fn channel_share_boundary() {
    let t = berlin("2026-11-29T14:00:00");
    let mut l = ledger();
    // 10 seats, 3 kept for phone: web can take 7.
    assert_eq!(l.offer_available_for("v20", "web"), Some(7));
    assert_eq!(l.offer_available_for("v20", "phone"), Some(10));
    for i in 0..3 {
        let who = format!("w{i}");
        let got = reserve(&mut l, t, ask(&who, &who).line("v20", 2));
        assert_eq!(code(&got), "held");
    }
    // web holds 6; one more for web is the 7th: fine; then web is sold out.
    assert_eq!(
        code(&reserve(&mut l, t, ask("w3", "w3").line("v20", 1))),
        "held"
    );
    match reserve(&mut l, t, ask("w4", "w4").line("v20", 1)) {
        Outcome::Refused(Refusal::SoldOut { pool, left, .. }) => {
            assert_eq!((pool.as_str(), left), ("zur-post", 0));
        }
        other => panic!("{other:?}"),
    }
    // Phone still gets its three, and then it is gone for everyone.
    for i in 0..3 {
        let who = format!("p{i}");
        let got = reserve(&mut l, t, ask(&who, &who).channel("phone").line("v20", 1));
        assert_eq!(code(&got), "held", "phone {i}");
    }
    assert_eq!(
        code(&reserve(
            &mut l,
            t,
            ask("p3", "p3").channel("phone").line("v20", 1)
        )),
        "sold_out"
    );
    // Phone orders count toward the share: after phone took 1 early, web may take 8 of 10.
    let mut l = ledger();
    assert_eq!(
        code(&reserve(
            &mut l,
            t,
            ask("p", "p").channel("phone").line("v20", 1)
        )),
        "held"
    );
    assert_eq!(l.offer_available_for("v20", "web"), Some(7));
    // A channel the catalog does not name is an error, not a refusal.
    let err = l
        .apply(&Command::new(
            t,
            Action::Reserve(ask("z", "z").channel("fax").line("v20", 1)),
        ))
        .unwrap_err();
    assert_eq!(err.code(), "unknown_channel");
}

const SLOTS: &str = r#"
time_zone = "Europe/Berlin"
channels = ["web", "phone"]

[[pools]]
name = "vanilla"
capacity = 100

[[offers]]
name = "vanilla-1l"
price = 900
draws = { vanilla = 10 }

[[slots]]
name = "delivery"
every = "30m"
from = "12:00"
until = "20:00"
capacity = 2
weekdays = ["sat", "sun"]
dates = { from = "2026-10-24", until = "2026-10-25" }
lead_time = "45m"
same_day_cutoff = "17:00"
price = 300
"#;

fn slots() -> Ledger {
    let c = Catalog::from_toml_str(SLOTS, "slots.toml").unwrap();
    let mut l = Ledger::new();
    l.apply(&Command::new(0, Action::LoadCatalog(Box::new(c))))
        .unwrap();
    l
}

fn utc(s: &str) -> u64 {
    let ts: jiff::Timestamp = s.parse().unwrap();
    ts.as_millisecond() as u64
}

#[test]
fn slots_follow_local_time_across_the_dst_change() {
    let l = slots();
    // 16 slots a day on two days.
    let offers = l.offers();
    let generated: Vec<_> = offers
        .iter()
        .filter(|o| o.name.starts_with("delivery@"))
        .collect();
    assert_eq!(generated.len(), 32);
    // Saturday 24 Oct 2026 is still CEST (UTC+2); Sunday 25 Oct is CET (UTC+1).
    let sat = l.next_slots("delivery", 0, "web", 1).unwrap();
    assert_eq!(sat[0].offer, "delivery@2026-10-24T12:00");
    assert_eq!(sat[0].starts_at, utc("2026-10-24T10:00:00Z"));
    let sun = l
        .next_slots("delivery", utc("2026-10-25T00:00:00Z"), "web", 1)
        .unwrap();
    assert_eq!(sun[0].offer, "delivery@2026-10-25T12:00");
    assert_eq!(sun[0].starts_at, utc("2026-10-25T11:00:00Z"));
    assert_eq!(sun[0].ends_at, utc("2026-10-25T11:30:00Z"));
}

#[test]
fn spring_forward_gap_yields_no_slot() {
    let text = r#"
time_zone = "Europe/Berlin"
[[slots]]
name = "night"
every = "30m"
from = "01:30"
until = "03:30"
capacity = 1
dates = { from = "2026-03-29", until = "2026-03-29" }
"#;
    let c = Catalog::from_toml_str(text, "gap.toml").unwrap();
    let names: Vec<&str> = c.offers.iter().map(|o| o.name.as_str()).collect();
    // 02:00 and 02:30 do not exist on 29 March 2026 in Berlin.
    assert_eq!(
        names,
        vec!["night@2026-03-29T01:30", "night@2026-03-29T03:00"]
    );
}

#[test]
fn lead_time_and_cutoff_edges() {
    let slot = "delivery@2026-10-24T18:00"; // 16:00Z
    let start = utc("2026-10-24T16:00:00Z");
    let lead = 45 * 60_000;
    let cutoff = utc("2026-10-24T15:00:00Z"); // 17:00 local
    let early = "delivery@2026-10-24T15:00"; // 13:00Z
    let early_start = utc("2026-10-24T13:00:00Z");
    let rows = [
        // 18:00 slot: the same-day cut-off at 17:00 bites before the lead time does.
        (slot, cutoff - 1, "held"),
        (slot, cutoff, "rule:same_day_cutoff"),
        // 15:00 slot: lead time 45 min, exactly 45 min before is still fine.
        (early, early_start - lead, "held"),
        (early, early_start - lead + 1, "rule:lead_time"),
        (early, early_start, "closed"),
        (slot, start + 1, "closed"),
    ];
    for (offer, at, want) in rows {
        let mut l = slots();
        let got = reserve(&mut l, at, Request::new("r", "c").line(offer, 1));
        assert_eq!(code(&got), want, "{offer} at {at}");
    }
    // A full slot disappears from next_slots; the next free one is shown.
    let mut l = slots();
    let t = utc("2026-10-24T09:00:00Z");
    for i in 0..2 {
        let r = Request::new(format!("r{i}"), "c").line("delivery@2026-10-24T12:00", 1);
        assert_eq!(code(&reserve(&mut l, t, r)), "held");
    }
    let next = l.next_slots("delivery", t, "web", 2).unwrap();
    assert_eq!(next[0].offer, "delivery@2026-10-24T12:30");
    assert_eq!(
        l.why_unavailable("delivery@2026-10-24T12:00", "web", t)
            .unwrap(),
        Some(Refusal::SoldOut {
            pool: "delivery@2026-10-24T12:00".into(),
            requested: 1,
            left: 0
        })
    );
}

#[test]
fn a_mid_campaign_edit_revokes_nothing() {
    let t = berlin("2026-11-29T14:00:00");
    let mut l = ledger();
    assert_eq!(
        code(&reserve(&mut l, t, ask("a", "anna").line("v50", 2))),
        "held"
    );
    assert_eq!(
        code(&reserve(
            &mut l,
            t,
            ask("b", "ben").line("v20", 3).confirm()
        )),
        "confirmed"
    );
    // The organiser halves the restaurant's quota and tightens the limit to 20 EUR.
    let edited = CATALOG
        .replace("capacity = 10", "capacity = 4")
        .replace("value = 10000", "value = 2000");
    let c = Catalog::from_toml_str(&edited, "rules.toml").unwrap();
    l.apply(&Command::new(t + 1, Action::LoadCatalog(Box::new(c))))
        .unwrap();
    let p = l.pool("zur-post").unwrap();
    assert_eq!((p.capacity, p.held, p.confirmed, p.available), (4, 2, 3, 0));
    // Anna's hold is still hers and can be confirmed, although it breaks the new limit.
    let c = l
        .apply(&Command::new(
            t + 2,
            Action::Confirm {
                reservation: ReservationId(1),
            },
        ))
        .unwrap();
    assert!(matches!(c.outcome, Outcome::Confirmed { .. }));
    // New requests meet the new rules.
    assert_eq!(
        code(&reserve(&mut l, t + 3, ask("c", "carl").line("v20", 1))),
        "sold_out"
    );
    // Removing an offer or changing its draws is refused, and changes nothing.
    let before = l.digest();
    let removed = edited.replace("v50", "v51");
    let c = Catalog::from_toml_str(&removed, "rules.toml").unwrap();
    let err = l
        .apply(&Command::new(t + 4, Action::LoadCatalog(Box::new(c))))
        .unwrap_err();
    assert_eq!(err.code(), "catalog_change");
    let redrawn = edited.replace("budget = 50", "budget = 40");
    let c = Catalog::from_toml_str(&redrawn, "rules.toml").unwrap();
    let err = l
        .apply(&Command::new(t + 4, Action::LoadCatalog(Box::new(c))))
        .unwrap_err();
    assert_eq!(err.code(), "catalog_change");
    assert_eq!(
        err.to_string(),
        r#"offers[1].draws: the draws of offer "v50" cannot change: its reservations give back what they drew (define a new offer instead)"#
    );
    assert_eq!(l.digest(), before);
}

#[test]
fn waitlist_entries_that_no_longer_qualify_are_passed_over() {
    let text = CATALOG.replace("capacity = 10", "capacity = 1");
    let text = text.replace("keep = 3", "keep = 0").replace(
        "[[rules]]\nname = \"phone-keeps-3\"\nkind = \"channel_share\"\npool = \"zur-post\"\nchannel = \"phone\"\nkeep = 0\n",
        "",
    );
    let c = Catalog::from_toml_str(&text, "rules.toml").unwrap();
    let mut l = Ledger::new();
    l.apply(&Command::new(0, Action::LoadCatalog(Box::new(c))))
        .unwrap();
    let t = berlin("2026-11-29T14:00:00");
    assert_eq!(
        code(&reserve(
            &mut l,
            t,
            ask("a", "anna").line("v20", 1).confirm()
        )),
        "confirmed"
    );
    assert_eq!(
        code(&reserve(
            &mut l,
            t,
            ask("c1", "carl").line("v20", 1).waitlist()
        )),
        "waiting"
    );
    assert_eq!(
        code(&reserve(
            &mut l,
            t,
            ask("b1", "ben").line("v20", 1).waitlist()
        )),
        "waiting"
    );
    // The sales window closes: nobody may be promoted after that.
    let close = berlin("2026-11-29T20:00:00");
    let r = l
        .apply(&Command::new(
            close,
            Action::Release {
                reservation: ReservationId(1),
            },
        ))
        .unwrap();
    assert!(!r
        .events
        .iter()
        .any(|e| matches!(e.kind, kontingent_core::EventKind::Promoted { .. })));
    assert_eq!(l.waitlist("v20").unwrap().len(), 2);
}

#[test]
fn preview_equals_the_real_outcome() {
    let t = berlin("2026-11-29T14:00:00");
    let mut l = ledger();
    let requests = [
        ask("a", "anna").line("v50", 2),
        ask("b", "anna").line("v20", 1),
        Request::new("c", "ben").line("v20", 1),
        ask("d", "ben").line("v20", 7),
        ask("e", "ben").channel("phone").line("v20", 3),
        ask("a", "anna").line("v50", 2),
    ];
    for r in requests {
        let preview = l.preview(&r, t).unwrap();
        let real = reserve(&mut l, t, r);
        assert_eq!(preview, real);
    }
}

/// A same-day cut-off at 02:30 on the two DST days of 2026 in Europe/Berlin:
/// slots from 12:00, so every row is decided by the cut-off alone.
fn dst_cutoff(date: &str) -> Ledger {
    let text = format!(
        r#"
time_zone = "Europe/Berlin"
[[slots]]
name = "d"
every = "1h"
from = "12:00"
until = "13:00"
capacity = 5
dates = {{ from = "{date}", until = "{date}" }}
same_day_cutoff = "02:30"
"#
    );
    let c = Catalog::from_toml_str(&text, "dst.toml").unwrap();
    let mut l = Ledger::new();
    l.apply(&Command::new(0, Action::LoadCatalog(Box::new(c))))
        .unwrap();
    l
}

#[test]
fn same_day_cutoff_in_the_spring_forward_gap_applies_from_the_end_of_the_gap() {
    // 29 March 2026: 02:00 CET jumps to 03:00 CEST at 01:00Z; 02:30 does not exist.
    let slot = "d@2026-03-29T12:00";
    let gap_end = utc("2026-03-29T01:00:00Z"); // 03:00 CEST, the first instant after the gap
    let rows = [
        (utc("2026-03-29T00:30:00Z"), "held"), // 01:30 CET
        (gap_end - 1, "held"),                 // 01:59:59.999 CET
        (gap_end, "rule:same_day_cutoff"),     // 03:00 CEST
        (utc("2026-03-29T01:15:00Z"), "rule:same_day_cutoff"), // 03:15 CEST (the user's order)
        (utc("2026-03-29T09:00:00Z"), "rule:same_day_cutoff"), // 11:00 CEST
    ];
    for (at, want) in rows {
        let mut l = dst_cutoff("2026-03-29");
        let got = reserve(&mut l, at, Request::new("r", "c").line(slot, 1));
        assert_eq!(code(&got), want, "at {at}");
    }
}

#[test]
fn same_day_cutoff_in_the_repeated_hour_takes_its_first_occurrence() {
    // 25 October 2026: 03:00 CEST falls back to 02:00 CET at 01:00Z; 02:30 happens
    // at 00:30Z (CEST) and again at 01:30Z (CET). The first one counts.
    let slot = "d@2026-10-25T12:00";
    let first = utc("2026-10-25T00:30:00Z");
    let rows = [
        (first - 1, "held"),
        (first, "rule:same_day_cutoff"),
        (utc("2026-10-25T01:00:00Z"), "rule:same_day_cutoff"), // 02:00 CET, the hour again
        (utc("2026-10-25T01:30:00Z") - 1, "rule:same_day_cutoff"),
        (utc("2026-10-25T01:30:00Z"), "rule:same_day_cutoff"), // the second 02:30
    ];
    for (at, want) in rows {
        let mut l = dst_cutoff("2026-10-25");
        let got = reserve(&mut l, at, Request::new("r", "c").line(slot, 1));
        assert_eq!(code(&got), want, "at {at}");
    }
}
