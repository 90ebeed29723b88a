//! Both stories run end to end and their reports are checked: nothing oversold,
//! no false confirmation, every refusal the story is built to provoke occurs, and
//! the numbers that hold by construction hold exactly.

use kontingent::{Outcome, Refusal};
use kontingent_examples::{emstek, pampanin, sim};
use std::sync::OnceLock;

fn emstek_report() -> &'static emstek::Report {
    static REPORT: OnceLock<emstek::Report> = OnceLock::new();
    REPORT.get_or_init(|| emstek::run(emstek::DEFAULT_SEED))
}

fn pampanin_report() -> &'static pampanin::Report {
    static REPORT: OnceLock<pampanin::Report> = OnceLock::new();
    REPORT.get_or_init(|| pampanin::run(pampanin::DEFAULT_SEED))
}

fn berlin(datetime: &str) -> u64 {
    sim::instant(&sim::berlin(), datetime)
}

// ------------------------------------------------------------------- emstek

#[test]
fn emstek_catalog_is_the_briefs_campaign() {
    let catalog = emstek::catalog().expect("the voucher catalog compiles");
    let budget = catalog.pools.iter().find(|p| p.name == "budget").unwrap();
    assert_eq!(budget.capacity, 20_000, "20,000 EUR, counted in euros");
    let restaurants: Vec<_> = catalog
        .pools
        .iter()
        .filter(|p| p.name != "budget")
        .collect();
    assert_eq!(restaurants.len(), 10);
    let vouchers: u64 = restaurants.iter().map(|p| p.capacity).sum();
    assert!(
        vouchers * 20 > budget.capacity,
        "the quotas ({vouchers} vouchers) must be worth more than the budget"
    );
    assert_eq!(
        catalog.offers.len(),
        30,
        "10, 20 and 50 EUR at each restaurant"
    );
    assert_eq!(
        catalog.window.opens_at,
        Some(berlin("2026-11-29T12:00")),
        "opens Sunday 12:00 in Emstek"
    );
    assert_eq!(catalog.default_hold_ms, 5 * 60_000);
}

#[test]
fn emstek_nothing_oversold_and_no_false_confirmation() {
    let r = emstek_report();
    assert_eq!(r.oversold, 0, "a pool had more promised than its capacity");
    assert_eq!(r.false_confirmations, 0);
    for line in &r.restaurants {
        assert!(line.sold <= line.quota, "{} oversold", line.name);
        assert_eq!(
            line.held, 0,
            "{}: holds left after everyone paid or left",
            line.name
        );
        assert_eq!(
            line.app_sold, line.sold,
            "{}: vouchers the app confirmed vs vouchers the ledger confirmed",
            line.name
        );
    }
    // Every euro the application confirmed is a confirmed euro in the ledger, and back.
    assert_eq!(r.app_confirmed_eur, r.budget_confirmed);
}

#[test]
fn emstek_the_budget_binds_exactly() {
    let r = emstek_report();
    assert_eq!(r.budget_capacity, 20_000);
    assert_eq!(
        r.budget_confirmed, 20_000,
        "the rush sells the whole budget, not a euro more"
    );
    assert_eq!(r.budget_held, 0);
    let value: u64 = r.restaurants.iter().map(|l| l.value_eur).sum();
    assert_eq!(value, 20_000, "confirmed vouchers add up to the budget");
    assert!(
        r.restaurants.iter().any(|l| l.sold == l.quota),
        "some restaurant sells out"
    );
    assert!(
        r.restaurants.iter().any(|l| l.sold < l.quota),
        "the budget runs out before every quota does"
    );
    let gone = r.budget_gone_at.expect("the budget is gone");
    let after = gone - r.opens_at;
    assert!(
        (60 * sim::MINUTE..=180 * sim::MINUTE).contains(&after),
        "gone after about two hours, not {} min",
        after / sim::MINUTE
    );
}

#[test]
fn emstek_arrivals_follow_the_brief() {
    let r = emstek_report();
    assert_eq!(r.first_arrival, Some(berlin("2026-11-29T12:00:46")));
    assert_eq!(r.arrived_by_1202, 129);
    assert!(r.arrived_by_1203 > 200);
    assert!(
        r.customers >= 1_000,
        "a crowd, not a handful: {}",
        r.customers
    );
    let first_full = r
        .restaurants
        .iter()
        .filter_map(|l| l.full_at)
        .min()
        .unwrap();
    assert!(
        first_full < berlin("2026-11-29T12:03"),
        "the first restaurant is full within minutes"
    );
}

#[test]
fn emstek_every_story_refusal_occurs() {
    let r = emstek_report();
    for reason in [
        "sold_out",
        "customer_limit",
        "paused",
        "not_open_yet",
        "hold_expired",
    ] {
        assert!(
            r.refusals_of(reason) > 0,
            "no {reason} refusal: {:?}",
            r.refusals
        );
    }
    assert_eq!(
        r.refusals_of("not_open_yet"),
        r.early_submits,
        "exactly the submits before noon are refused not_open_yet"
    );
    assert_eq!(
        r.refused,
        r.refusals.values().sum::<u64>() - r.refusals_of("hold_expired")
    );
}

#[test]
fn emstek_pause_refuses_every_request_including_old_forms() {
    let r = emstek_report();
    assert_eq!(
        r.pause,
        (berlin("2026-11-29T12:30"), berlin("2026-11-29T12:40"))
    );
    assert!(r.pause_requests > 0);
    assert_eq!(
        r.pause_refused, r.pause_requests,
        "a request committed while paused got something other than `paused`"
    );
    assert!(
        r.pause_forms_opened_before > 0,
        "the Emstek failure: forms opened before the pause are refused too"
    );
    assert_eq!(r.refusals_of("paused"), r.pause_refused);
}

#[test]
fn emstek_every_refusal_is_the_predicted_one() {
    let r = emstek_report();
    assert_eq!(r.oracle_checked, r.requests);
    assert!(
        r.oracle_mismatches.is_empty(),
        "{} disagreements, first: {:?}",
        r.oracle_mismatches.len(),
        r.oracle_mismatches.first()
    );
}

#[test]
fn emstek_repeats_never_reserve_twice() {
    let r = emstek_report();
    assert!(r.double_clicks > 0 && r.timeout_retries > 0);
    assert_eq!(r.repeats, r.double_clicks + r.timeout_retries);
    assert_eq!(r.unexpected, 0, "promotions of entries nobody created");
    assert_eq!(
        r.repeat_mismatches, 0,
        "a repeated request id got a different outcome"
    );
    assert_eq!(
        r.ledger_reservations, r.promises,
        "the ledger made reservations nobody was told about"
    );
    assert!(r.double_confirms > 0, "double confirms are exercised");
}

#[test]
fn emstek_waiting_list_gets_the_expired_units() {
    let r = emstek_report();
    assert!(r.expired > 0, "some holds expire unpaid");
    assert!(r.waitlist_joined > 0);
    assert!(
        r.waitlist_promoted > 0,
        "expired units reach the waiting list"
    );
    assert!(r.waitlist_promoted_confirmed <= r.waitlist_promoted);
    assert_eq!(
        r.waitlist_promoted + r.waitlist_still_waiting,
        r.waitlist_joined,
        "every entry is promoted or still waiting (nobody leaves in this story)"
    );
    assert_eq!(r.held, r.promises - r.waitlist_promoted);
}

#[test]
fn emstek_is_deterministic_and_other_seeds_keep_the_invariants() {
    let again = emstek::run(emstek::DEFAULT_SEED);
    assert_eq!(&again, emstek_report(), "same seed, same report and digest");
    for seed in [1, 2, 3] {
        let r = emstek::run(seed);
        assert_ne!(r.digest, again.digest);
        assert_eq!(r.oversold, 0, "seed {seed}");
        assert_eq!(r.false_confirmations, 0, "seed {seed}");
        assert_eq!(r.repeat_mismatches, 0, "seed {seed}");
        assert_eq!(r.pause_refused, r.pause_requests, "seed {seed}");
        assert_eq!(r.ledger_reservations, r.promises, "seed {seed}");
        assert_eq!(r.app_confirmed_eur, r.budget_confirmed, "seed {seed}");
        assert_eq!(r.budget_confirmed, 20_000, "seed {seed}");
        assert!(
            r.oracle_mismatches.is_empty(),
            "seed {seed}: {:?}",
            r.oracle_mismatches
        );
    }
}

// ----------------------------------------------------------------- pampanin

#[test]
fn pampanin_slots_cross_the_dst_change() {
    let r = pampanin_report();
    assert_eq!(r.slots_per_day.len(), 6, "Fri, Sat, Sun for two weekends");
    for (day, n) in &r.slots_per_day {
        assert_eq!(*n, 16, "{day}: every 30 min from 12:00 to 20:00");
    }
    let utc = |s: &str| s.parse::<jiff::Timestamp>().unwrap().as_millisecond() as u64;
    assert_eq!(
        r.dst,
        vec![
            (
                "delivery@2026-10-24T12:00".to_owned(),
                utc("2026-10-24T10:00:00Z")
            ),
            (
                "delivery@2026-10-25T12:00".to_owned(),
                utc("2026-10-25T11:00:00Z")
            ),
        ],
        "noon is 10:00 UTC in summer time and 11:00 UTC after the change"
    );
}

#[test]
fn pampanin_nothing_oversold_and_no_rule_broken() {
    let r = pampanin_report();
    assert_eq!(r.oversold, 0);
    assert!(
        r.violations.is_empty(),
        "accepted orders broke rules: {:?}",
        r.violations
    );
    for s in &r.slots {
        assert!(s.taken <= s.capacity, "{} oversold", s.offer);
        assert_eq!(
            s.web + s.phone,
            s.taken,
            "{}: app and ledger disagree",
            s.offer
        );
    }
    assert!(
        r.slots.iter().any(|s| s.taken == s.capacity),
        "the rush fills slots"
    );
    for s in &r.stock {
        assert!(s.left_dl <= s.capacity_dl);
    }
    let raspberry = r
        .stock
        .iter()
        .find(|s| s.flavour == "raspberry-sorbet")
        .unwrap();
    assert!(
        raspberry.left_dl < 5,
        "raspberry sorbet runs out (less than a tub left)"
    );
    assert!(r.refusals_of("sold_out") > 0);
    assert_eq!(r.repeat_mismatches, 0);
}

#[test]
fn pampanin_every_refusal_is_the_predicted_one() {
    let r = pampanin_report();
    assert_eq!(r.oracle_checked, r.requests);
    assert!(
        r.oracle_mismatches.is_empty(),
        "{} disagreements, first: {:?}",
        r.oracle_mismatches.len(),
        r.oracle_mismatches.first()
    );
}

#[test]
fn pampanin_every_story_refusal_occurs() {
    let r = pampanin_report();
    for reason in [
        "delivery_area",
        "min_order_value",
        "max_8_tubs",
        "lead_time",
        "same_day_cutoff",
        "sold_out",
        "not_open_yet",
    ] {
        assert!(
            r.refusals_of(reason) > 0,
            "no {reason} refusal: {:?}",
            r.refusals
        );
    }
}

#[test]
fn pampanin_lead_time_keeps_the_first_slots_empty() {
    let r = pampanin_report();
    // Announced at 12:00 with a 45-minute lead time: the 12:00 and 12:30 slots of
    // the launch day can never be booked (the 12:00 one has started, the 12:30 one
    // starts 30 minutes after the announcement).
    for slot in ["delivery@2026-10-23T12:00", "delivery@2026-10-23T12:30"] {
        let s = r.slots.iter().find(|s| s.offer == slot).unwrap();
        assert_eq!(s.taken, 0, "{slot}");
    }
}

#[test]
fn pampanin_phone_keeps_its_share() {
    let r = pampanin_report();
    assert_eq!(r.shares.len(), 4);
    for (pool, keep, web, _) in &r.shares {
        let slot = r.slots.iter().find(|s| s.offer == *pool).unwrap();
        assert!(
            *web <= slot.capacity - keep,
            "{pool}: the web took units kept for the phone"
        );
    }
    let demo = r
        .share_demo
        .as_ref()
        .expect("the web was refused a kept slot");
    assert!(
        matches!(&demo.web, Refusal::SoldOut { pool, left: 0, .. } if *pool == demo.pool),
        "{:?}",
        demo.web
    );
    assert!(
        matches!(demo.phone_preview, Outcome::Confirmed { .. }),
        "the same order by phone would be taken: {:?}",
        demo.phone_preview
    );
    assert!(
        !r.share_evidence.is_empty(),
        "a phone order got a unit after the web was told sold out"
    );
}

#[test]
fn pampanin_next_slots_are_bookable() {
    let r = pampanin_report();
    let after = berlin("2026-10-23T20:15");
    let mid = berlin("2026-10-23T15:00");
    assert_eq!(r.next_slots.len(), 4);
    for o in &r.next_slots {
        assert!(
            !o.slots.is_empty(),
            "{} {}: no slot offered",
            o.label,
            o.channel
        );
        let from = if o.label.contains("after") {
            after
        } else {
            mid
        };
        assert_eq!(o.at, from);
        for s in &o.slots {
            assert!(s.available > 0, "{} offered while full", s.offer);
            assert!(
                s.starts_at >= from + 45 * sim::MINUTE,
                "{} offered inside the lead time",
                s.offer
            );
            if s.starts_at < berlin("2026-10-24T00:00") {
                assert!(
                    from < berlin("2026-10-23T17:00"),
                    "{} after the cut-off",
                    s.offer
                );
            }
        }
        assert!(
            o.slots.windows(2).all(|w| w[0].starts_at <= w[1].starts_at),
            "sorted by start"
        );
    }
    // The phone sees at least what the web sees on every slot both are offered.
    let (web, phone) = (&r.next_slots[0], &r.next_slots[1]);
    assert_eq!(
        (web.channel.as_str(), phone.channel.as_str()),
        ("web", "phone")
    );
    for w in &web.slots {
        if let Some(p) = phone.slots.iter().find(|p| p.offer == w.offer) {
            assert!(
                p.available >= w.available,
                "{}: phone sees less than web",
                w.offer
            );
        }
    }
}

#[test]
fn pampanin_is_deterministic() {
    let again = pampanin::run(pampanin::DEFAULT_SEED);
    assert_eq!(&again, pampanin_report());
    let other = pampanin::run(7);
    assert_ne!(other.digest, again.digest);
    assert_eq!(other.oversold, 0);
    assert!(other.violations.is_empty(), "{:?}", other.violations);
    assert!(
        other.oracle_mismatches.is_empty(),
        "{:?}",
        other.oracle_mismatches
    );
    assert_eq!(other.repeat_mismatches, 0);
}
