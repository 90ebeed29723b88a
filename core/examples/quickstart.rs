//! The voucher story in a few lines: two restaurants, one budget, a rush,
//! a double click, an expired hold, a waiting list.
//! `cargo run --release -p kontingent-core --example quickstart`
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // a test harness, not the core (core/clippy.toml)

use kontingent_core::{Action, Command, Draw, EventKind, Ledger, Outcome, Request, ReservationId};

fn main() -> Result<(), kontingent_core::Error> {
    let mut ledger = Ledger::new();
    let noon = 1_700_000_000_000; // logical time, ms since the epoch
    let define = [
        Action::DefinePool {
            pool: "zur-post".into(),
            capacity: 3,
        },
        Action::DefinePool {
            pool: "linde".into(),
            capacity: 2,
        },
        Action::DefinePool {
            pool: "budget".into(),
            capacity: 100,
        },
        Action::DefineOffer {
            offer: "zur-post-20".into(),
            draws: vec![Draw::new("zur-post", 1), Draw::new("budget", 20)],
            waitlist: Default::default(),
        },
        Action::DefineOffer {
            offer: "linde-20".into(),
            draws: vec![Draw::new("linde", 1), Draw::new("budget", 20)],
            waitlist: Default::default(),
        },
    ];
    for action in define {
        ledger.apply(&Command::new(noon, action))?;
    }

    let mut t = noon;
    let say = |ledger: &mut Ledger,
               t: u64,
               what: &str,
               action: Action|
     -> Result<Outcome, kontingent_core::Error> {
        let applied = ledger.apply(&Command::new(t, action))?;
        for e in &applied.events {
            if let EventKind::Promoted {
                entry, reservation, ..
            } = e.kind
            {
                println!(
                    "            event #{}: waiting entry {entry} promoted to hold {reservation}",
                    e.seq
                );
            }
            if let EventKind::Expired { reservation, .. } = e.kind {
                println!("            event #{}: hold {reservation} expired", e.seq);
            }
        }
        println!(
            "+{:>4} s  {what:<44} -> {:?}",
            (t - noon) / 1000,
            applied.outcome
        );
        Ok(applied.outcome)
    };

    for (i, customer) in ["anna", "ben", "cem"].iter().enumerate() {
        t += 1_000;
        let r = Request::new(format!("form-{i}"), *customer)
            .line("zur-post-20", 1)
            .hold_ms(60_000);
        say(
            &mut ledger,
            t,
            &format!("{customer} asks for a Zur Post voucher"),
            Action::Reserve(r),
        )?;
    }
    t += 500;
    let again = Request::new("form-2", "cem")
        .line("zur-post-20", 1)
        .hold_ms(60_000);
    say(
        &mut ledger,
        t,
        "cem double-clicks (same request id)",
        Action::Reserve(again),
    )?;
    t += 1_000;
    let late = Request::new("form-3", "dora")
        .line("zur-post-20", 1)
        .waitlist();
    say(
        &mut ledger,
        t,
        "dora is too late, joins the waiting list",
        Action::Reserve(late),
    )?;
    t += 1_000;
    say(
        &mut ledger,
        t,
        "anna pays",
        Action::Confirm {
            reservation: ReservationId(1),
        },
    )?;
    t += 1_000;
    let both = Request::new("form-4", "emil")
        .line("linde-20", 2)
        .line("zur-post-20", 1);
    say(
        &mut ledger,
        t,
        "emil wants 2 at Linde and 1 at Zur Post",
        Action::Reserve(both),
    )?;
    t += 90_000;
    say(
        &mut ledger,
        t,
        "ben never pays; his hold ran out",
        Action::Confirm {
            reservation: ReservationId(2),
        },
    )?;

    println!();
    for p in ledger.pools() {
        println!(
            "{:<9} capacity {:>3}  held {:>3}  confirmed {:>3}  available {:>3}",
            p.name, p.capacity, p.held, p.confirmed, p.available
        );
    }
    println!(
        "events: {}   state digest: {}",
        ledger.seq(),
        ledger.digest()
    );
    Ok(())
}
